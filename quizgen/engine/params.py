"""Parameter counts per layer, equal to Keras's ``count_params()``.

Each function returns a :class:`ParamCount` so that trainable and non-trainable weights stay apart
(BatchNormalization's moving mean and variance are weights Keras counts but does not train).
"""

from __future__ import annotations

from dataclasses import dataclass

from quizgen.engine.sizes import as_pair, check_positive


@dataclass(frozen=True, slots=True)
class ParamCount:
    """Weights of one layer: trainable and non-trainable; ``total`` is what ``count_params()`` returns."""

    trainable: int
    non_trainable: int = 0

    @property
    def total(self) -> int:
        return self.trainable + self.non_trainable

    def __add__(self, other: ParamCount) -> ParamCount:
        return ParamCount(self.trainable + other.trainable, self.non_trainable + other.non_trainable)


NO_PARAMS = ParamCount(0, 0)


def conv2d_params(filters: int, kernel_size: object, in_channels: int, use_bias: bool = True) -> ParamCount:
    """Conv2D: filters × (k_h × k_w × C_in + 1), the +1 being each filter's bias."""
    check_positive("filters", filters)
    kh, kw = as_pair("kernel_size", kernel_size)
    check_positive("input channels", in_channels)
    return ParamCount(filters * (kh * kw * in_channels + (1 if use_bias else 0)))


def conv1d_params(filters: int, kernel_size: int, in_channels: int, use_bias: bool = True) -> ParamCount:
    """Conv1D: filters × (k × C_in + 1)."""
    check_positive("filters", filters)
    check_positive("kernel_size", kernel_size)
    check_positive("input channels", in_channels)
    return ParamCount(filters * (kernel_size * in_channels + (1 if use_bias else 0)))


def depthwise_conv2d_params(
    kernel_size: object, in_channels: int, depth_multiplier: int = 1, use_bias: bool = True
) -> ParamCount:
    """DepthwiseConv2D: one k_h × k_w kernel per input channel and multiplier, plus one bias per output channel."""
    kh, kw = as_pair("kernel_size", kernel_size)
    check_positive("input channels", in_channels)
    check_positive("depth_multiplier", depth_multiplier)
    out = in_channels * depth_multiplier
    return ParamCount(kh * kw * out + (out if use_bias else 0))


def separable_conv2d_params(
    filters: int, kernel_size: object, in_channels: int, depth_multiplier: int = 1, use_bias: bool = True
) -> ParamCount:
    """SeparableConv2D: depthwise k_h × k_w × C_in × m, pointwise (C_in × m) × filters, plus filters biases."""
    check_positive("filters", filters)
    kh, kw = as_pair("kernel_size", kernel_size)
    check_positive("input channels", in_channels)
    check_positive("depth_multiplier", depth_multiplier)
    depthwise = kh * kw * in_channels * depth_multiplier
    pointwise = in_channels * depth_multiplier * filters
    return ParamCount(depthwise + pointwise + (filters if use_bias else 0))


def dense_params(units: int, in_features: int, use_bias: bool = True) -> ParamCount:
    """Dense: n_in × n_out weights + n_out biases."""
    check_positive("units", units)
    check_positive("input features", in_features)
    return ParamCount(in_features * units + (units if use_bias else 0))


def batchnorm_params(channels: int, center: bool = True, scale: bool = True) -> ParamCount:
    """BatchNormalization: gamma and beta (trainable) plus moving mean and variance (not trainable), per channel."""
    check_positive("channels", channels)
    trainable = channels * ((1 if scale else 0) + (1 if center else 0))
    return ParamCount(trainable, 2 * channels)
