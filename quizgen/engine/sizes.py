"""Output sizes of convolution and pooling layers, per axis and in 2D.

Padding is either an integer ``p`` (the textbook's symmetric zero padding: ``p`` zeros on each side) or one of
Keras's modes ``'valid'`` (no padding) and ``'same'`` (output length ``ceil(n / s)``, padding split with the odd
cell at the end — bottom / right — as TensorFlow does).
"""

from __future__ import annotations

from typing import Union

from quizgen.errors import ConfigError

Padding = Union[int, str]
PADDING_MODES = ("valid", "same")


def check_positive(name: str, value: object) -> int:
    """Return ``value`` if it is an int >= 1, else raise ConfigError naming it."""
    if type(value) is int and value >= 1:  # the common case, fast
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name!r} must be an integer >= 1 (got {value!r})")
    return value


def check_padding(padding: object) -> Padding:
    """Return a valid padding (int >= 0, 'valid' or 'same'), normalising case; raise ConfigError otherwise."""
    if padding == "valid" or padding == "same":
        return padding
    if isinstance(padding, str):
        mode = padding.strip().lower()
        if mode in PADDING_MODES:
            return mode
    elif isinstance(padding, int) and not isinstance(padding, bool) and padding >= 0:
        return padding
    raise ConfigError(f"'padding' must be {', '.join(repr(m) for m in PADDING_MODES)} or an integer >= 0 (got {padding!r})")


def effective_kernel(k: int, dilation: int = 1) -> int:
    """Span of a dilated kernel: d·(k − 1) + 1."""
    return dilation * (k - 1) + 1


def same_padding(n: int, k: int, s: int = 1, dilation: int = 1) -> tuple[int, int]:
    """Zeros added before and after an axis by Keras 'same' padding.

    The total is whatever makes the output ``ceil(n / s)`` long; when it is odd, TensorFlow puts the extra
    zero at the end (bottom / right), so ``before = total // 2``.
    """
    out = -(-n // s)
    total = max((out - 1) * s + effective_kernel(k, dilation) - n, 0)
    return total // 2, total - total // 2


def padding_amounts(n: int, k: int, s: int, padding: Padding, dilation: int = 1) -> tuple[int, int]:
    """Zeros before and after an axis for any padding: (p, p), (0, 0) or Keras's 'same' split."""
    padding = check_padding(padding)
    if padding == "valid":
        return 0, 0
    if padding == "same":
        return same_padding(n, k, s, dilation)
    return padding, padding


def check_strides_dilation(strides: tuple[int, ...], dilation: tuple[int, ...]) -> None:
    """Keras's Conv1D and Conv2D refuse strides > 1 together with dilation_rate > 1 on any axes, not only on
    the same one: strides=(2, 1) with dilation_rate=(1, 2) is refused too. (DepthwiseConv2D and
    SeparableConv2D accept the combination.)"""
    if max(strides) > 1 and max(dilation) > 1:
        got = (strides[0], dilation[0]) if len(strides) == 1 else (strides, dilation)
        raise ConfigError(
            f"strides > 1 together with dilation_rate > 1 is not supported by Keras (got strides={got[0]}, dilation_rate={got[1]})"
        )


def output_length(
    n: int, k: int, s: int = 1, padding: Padding = "valid", dilation: int = 1, *, strided_dilation: bool = False
) -> int:
    """Output length along one axis: floor((n + p_before + p_after − d(k − 1) − 1) / s) + 1.

    With integer padding p this is the textbook floor((n + 2p − d(k − 1) − 1)/s) + 1; 'valid' is p = 0;
    'same' is ceil(n / s). Raises ConfigError when the (dilated) kernel does not fit the padded input, for a
    stride or size below 1, and for strides > 1 together with dilation > 1 (which Keras's Conv1D / Conv2D
    refuse; ``strided_dilation=True`` allows it, as DepthwiseConv2D and SeparableConv2D do).
    """
    if not (
        type(n) is int and type(k) is int and type(s) is int and type(dilation) is int
        and n >= 1 and k >= 1 and s >= 1 and dilation >= 1
    ):  # checked one by one only when the quick test fails, so that the first bad value is named
        check_positive("input size", n)
        check_positive("kernel size", k)
        check_positive("strides", s)
        check_positive("dilation_rate", dilation)
    if padding != "valid" and padding != "same":
        padding = check_padding(padding)
    if not strided_dilation and s > 1 and dilation > 1:
        check_strides_dilation((s,), (dilation,))
    return axis_length(n, k, s, padding, dilation)


def axis_length(n: int, k: int, s: int, padding: Padding, dilation: int = 1) -> int:
    """:func:`output_length` for a kernel, stride, padding and dilation already checked (ints >= 1, a normalised
    padding, no refused stride-dilation pair): checks only ``n``, and that the kernel fits the padded input."""
    if type(n) is not int or n < 1:
        check_positive("input size", n)
    if padding == "same":
        return -(-n // s)
    pad = 0 if padding == "valid" else 2 * padding
    span = dilation * (k - 1) + 1
    padded = n + pad
    if span > padded:
        what = f"dilated kernel span {span}" if dilation > 1 else f"kernel size {k}"
        raise ConfigError(
            f"{what} is larger than the padded input ({n} + {pad} padding = {padded}); "
            "the output would be empty"
        )
    return (padded - span) // s + 1


def as_pair(name: str, value: object) -> tuple[int, int]:
    """An int or a pair of ints as an (int, int) pair, as Keras accepts kernel_size=3 or (3, 3)."""
    if type(value) is tuple and len(value) == 2 and type(value[0]) is int and type(value[1]) is int:
        if value[0] >= 1 and value[1] >= 1:  # the common, already-checked case
            return value
    if isinstance(value, int) and not isinstance(value, bool):
        return check_positive(name, value), value
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return check_positive(name, value[0]), check_positive(name, value[1])
    raise ConfigError(f"{name!r} must be an integer >= 1 or a pair of them (got {value!r})")


def output_size_2d(
    input_hw: object,
    kernel: object,
    strides: object = 1,
    padding: Padding = "valid",
    dilation: object = 1,
) -> tuple[int, int]:
    """Output (height, width) of a 2D convolution or pooling layer; sizes may be ints or (h, w) pairs."""
    h, w = as_pair("input size", input_hw)
    kh, kw = as_pair("kernel size", kernel)
    sh, sw = as_pair("strides", strides)
    dh, dw = as_pair("dilation_rate", dilation)
    check_strides_dilation((sh, sw), (dh, dw))
    return output_length(h, kh, sh, padding, dh), output_length(w, kw, sw, padding, dw)
