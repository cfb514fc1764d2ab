"""Convolution feature maps exactly as Keras's Conv2D computes them, and the course notes' classic kernels.

Keras (like every deep-learning library) computes a cross-correlation: the kernel slides over the input
unflipped, out[i, j] = Σ x[i·s + a·d, j·s + b·d] · K[a, b]. A "true" convolution flips the kernel first —
that is what ``scipy.signal.convolve2d`` does, and the course notes' printed result of their own scipy
example is in fact the unflipped (Keras) one. :func:`flip_kernel` gives the flipped kernel for that mistake.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from quizgen.engine.grid import Grid2D, Number, exact, from_channels, normalize, to_channels
from quizgen.engine.pooling import zero_pad
from quizgen.engine.sizes import Padding, as_pair, check_padding, check_strides_dilation, output_length, padding_amounts
from quizgen.errors import ConfigError, did_you_mean


def _grid(rows: list[list[int]], scale: Fraction | int = 1) -> Grid2D:
    return tuple(tuple(normalize(Fraction(v) * scale) for v in r) for r in rows)


KERNELS: MappingProxyType[str, Grid2D] = MappingProxyType(
    {
        "sobel_x": _grid([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
        "sobel_y": _grid([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
        "laplacian": _grid([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
        "edge": _grid([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
        "sharpen": _grid([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
        "emboss": _grid([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
        "box_blur": _grid([[1, 1, 1], [1, 1, 1], [1, 1, 1]], Fraction(1, 9)),
        "gaussian_blur": _grid([[1, 2, 1], [2, 4, 2], [1, 2, 1]], Fraction(1, 16)),
    }
)
KERNEL_TITLES: MappingProxyType[str, str] = MappingProxyType(
    {
        "sobel_x": "Sobel X (vertical edges)",
        "sobel_y": "Sobel Y (horizontal edges)",
        "laplacian": "Laplacian",
        "edge": "edge detection (all directions)",
        "sharpen": "sharpen",
        "emboss": "emboss",
        "box_blur": "box blur (1/9)",
        "gaussian_blur": "Gaussian blur (1/16)",
    }
)


def named_kernel(name: str) -> Grid2D:
    """One of the classic 3 × 3 kernels of the course notes, with exact (fractional) weights."""
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    if key not in KERNELS:
        raise ConfigError(f"unknown kernel {name!r}{did_you_mean(key, KERNELS)}; known kernels: {', '.join(KERNELS)}")
    return KERNELS[key]


def flip_kernel(kernel: Any) -> tuple:
    """The kernel rotated by 180° (rows and columns reversed), as a true convolution uses it."""
    return tuple(tuple(reversed(tuple(row))) for row in reversed(tuple(kernel)))


def conv2d(
    x: Any,
    kernels: Sequence[Any],
    strides: Any = 1,
    padding: Padding = "valid",
    bias: Sequence[Any] | None = None,
    relu: bool = False,
    dilation: Any = 1,
    *,
    extra_first: bool = False,
) -> tuple:
    """Keras Conv2D on an exact map.

    ``x`` is H × W or H × W × C; ``kernels`` is a list of filters, each k_h × k_w (for an H × W input) or
    k_h × k_w × C — the per-channel products are summed, as Keras does. ``padding`` is an integer (textbook
    zero padding), 'valid' or 'same'. ``bias`` holds one value per filter. The result is H' × W' for a 2D
    input and a single filter, else H' × W' × F. Values are ints or exact Fractions.

    ``extra_first`` puts an odd 'same' padding cell at the top / left instead of Keras's bottom / right: not
    Keras, it computes the answer of that common mistake (as :func:`~quizgen.engine.pooling.pool2d` does).
    """
    if not kernels:
        raise ConfigError("at least one kernel is needed")
    channels, has_channels = to_channels(x, "input")
    h, w = len(channels[0]), len(channels[0][0])
    filters = []
    for n, kernel in enumerate(kernels):
        kch, k_has_channels = to_channels(kernel, f"kernel {n + 1}")
        if k_has_channels != has_channels or len(kch) != len(channels):
            raise ConfigError(
                f"kernel {n + 1} has {len(kch)} channel(s) but the input has {len(channels)}: "
                "a kernel must cover every input channel (k × k × C_in)"
            )
        filters.append(kch)
    kh, kw = len(filters[0][0]), len(filters[0][0][0])
    if any(len(f[0]) != kh or len(f[0][0]) != kw for f in filters):
        raise ConfigError("all kernels of a layer must have the same size")
    sh, sw = as_pair("strides", strides)
    dh, dw = as_pair("dilation_rate", dilation)
    check_strides_dilation((sh, sw), (dh, dw))
    padding = check_padding(padding)
    oh, ow = output_length(h, kh, sh, padding, dh), output_length(w, kw, sw, padding, dw)
    top, bottom = padding_amounts(h, kh, sh, padding, dh)
    left, right = padding_amounts(w, kw, sw, padding, dw)
    if extra_first:
        top, left = bottom, right
    if bias is not None and len(bias) != len(filters):
        raise ConfigError(f"bias needs one value per kernel ({len(filters)}), got {len(bias)}")
    biases = [exact(b) for b in bias] if bias is not None else [0] * len(filters)

    def at(ch: Grid2D, r: int, c: int) -> Number:
        return ch[r][c] if 0 <= r < h and 0 <= c < w else 0

    maps: list[Grid2D] = []
    for f, b in zip(filters, biases):
        out = []
        for i in range(oh):
            line = []
            for j in range(ow):
                total: Number = b
                for ch, k in zip(channels, f):
                    for a in range(kh):
                        for bb in range(kw):
                            weight = k[a][bb]
                            if weight:
                                total += weight * at(ch, i * sh - top + a * dh, j * sw - left + bb * dw)
                total = normalize(Fraction(total)) if isinstance(total, Fraction) else total
                line.append(max(total, 0) if relu else total)
            out.append(tuple(line))
        maps.append(tuple(out))
    return from_channels(maps, has_channels or len(filters) > 1)


__all__ = ["KERNELS", "KERNEL_TITLES", "conv2d", "flip_kernel", "named_kernel", "zero_pad"]
