"""Problem generators, one module per topic; importing this package registers them all."""

from quizgen.generators import pooling  # noqa: F401
from quizgen.generators import output_size  # noqa: F401
from quizgen.generators import convolution  # noqa: F401
from quizgen.generators import params  # noqa: F401
from quizgen.generators import architecture  # noqa: F401
