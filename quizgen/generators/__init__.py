"""Problem generators, one module per topic; importing this package registers them all."""

from quizgen.generators import pooling  # noqa: F401
