"""The reference engine: exact CNN arithmetic, pure functions, no I/O, no randomness, no formatting.

Every answer quizgen prints, exports or grades against comes from here, and every function here is
cross-checked against Keras (see :mod:`quizgen.crosscheck`).
"""

from quizgen.engine.conv import KERNELS, conv2d, flip_kernel, named_kernel
from quizgen.engine.extras import adaptive_avg_pool, conv_macs, receptive_field
from quizgen.engine.model import LayerRow, LayerSpec, Trace, trace_model
from quizgen.engine.params import (
    ParamCount,
    batchnorm_params,
    conv1d_params,
    conv2d_params,
    dense_params,
    depthwise_conv2d_params,
    separable_conv2d_params,
)
from quizgen.engine.pooling import global_pool, pool2d
from quizgen.engine.sizes import output_length, output_size_2d, same_padding

__all__ = [
    "KERNELS",
    "LayerRow",
    "LayerSpec",
    "ParamCount",
    "Trace",
    "adaptive_avg_pool",
    "batchnorm_params",
    "conv1d_params",
    "conv2d",
    "conv2d_params",
    "conv_macs",
    "dense_params",
    "depthwise_conv2d_params",
    "flip_kernel",
    "global_pool",
    "named_kernel",
    "output_length",
    "output_size_2d",
    "pool2d",
    "receptive_field",
    "same_padding",
    "separable_conv2d_params",
    "trace_model",
]
