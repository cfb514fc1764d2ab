"""Smaller results the course notes touch on: adaptive average pooling, receptive fields, MAC counts."""

from __future__ import annotations

from collections.abc import Sequence

from quizgen.engine.sizes import as_pair, check_positive
from quizgen.errors import ConfigError


def adaptive_avg_pool(input_size: int, output_size: int) -> tuple[int, int]:
    """(stride, kernel) of adaptive average pooling as the class review gives them (no padding):
    stride = n_in // n_out, kernel = n_in − (n_out − 1) · stride.

    Exact only when the windows tile evenly; PyTorch's AdaptiveAvgPool uses variable windows otherwise,
    so this raises ConfigError when ``output_size`` does not divide ``input_size``.
    """
    check_positive("input size", input_size)
    check_positive("output size", output_size)
    if output_size > input_size:
        raise ConfigError(f"output size {output_size} is larger than the input size {input_size}")
    if input_size % output_size:
        raise ConfigError(
            f"output size {output_size} does not divide input size {input_size}: adaptive pooling then uses "
            "windows of varying size, which no single (stride, kernel) describes"
        )
    stride = input_size // output_size
    return stride, input_size - (output_size - 1) * stride


def receptive_field(layers: Sequence[tuple[int, int] | tuple[int, int, int]]) -> int:
    """Receptive field of one output cell of a stack of (kernel, stride[, dilation]) layers, in input cells.

    r = 1 + Σ_l d_l·(k_l − 1) · Π_{m<l} s_m.
    """
    field, jump = 1, 1
    for layer in layers:
        k, s, *rest = layer
        d = rest[0] if rest else 1
        check_positive("kernel size", k)
        check_positive("strides", s)
        check_positive("dilation_rate", d)
        field += d * (k - 1) * jump
        jump *= s
    return field


def conv_macs(output_hw: object, kernel_size: object, in_channels: int, filters: int) -> int:
    """Multiply-accumulate operations of a Conv2D layer: H_out × W_out × k_h × k_w × C_in × filters."""
    oh, ow = as_pair("output size", output_hw)
    kh, kw = as_pair("kernel_size", kernel_size)
    check_positive("input channels", in_channels)
    check_positive("filters", filters)
    return oh * ow * kh * kw * in_channels * filters
