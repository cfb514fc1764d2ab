"""Convolution feature maps exactly as Keras's Conv2D computes them, and the course notes' classic kernels.

Keras (like every deep-learning library) computes a cross-correlation: the kernel slides over the input
unflipped, out[i, j] = Σ x[i·s + a·d, j·s + b·d] · K[a, b]. A "true" convolution flips the kernel first —
that is what ``scipy.signal.convolve2d`` does, and the course notes' printed result of their own scipy
example is in fact the unflipped (Keras) one. :func:`flip_kernel` gives the flipped kernel for that mistake.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction
from functools import lru_cache
from itertools import chain
from math import lcm
from operator import itemgetter, mul
from types import MappingProxyType
from typing import Any, NamedTuple, TYPE_CHECKING


from quizgen.engine.grid import Grid2D, Number, exact, exact_ratio, normalize, to_channels
from quizgen.engine.pooling import zero_pad
from quizgen.engine.sizes import Padding, as_pair, check_padding, check_strides_dilation, output_length, padding_amounts
from quizgen.errors import ConfigError, did_you_mean

if TYPE_CHECKING:  # numpy is imported where the arithmetic runs: `quizgen make` starts faster without it
    import numpy as np


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


def check_layer(x: Any, kernels: Sequence[Any]) -> tuple[tuple[Grid2D, ...], list[tuple[Grid2D, ...]], bool]:
    """The input's channels, each filter's per-channel slices, and whether the input has a channel axis —
    after checking that every filter covers every input channel and that all filters have one size."""
    if not kernels:
        raise ConfigError("at least one kernel is needed")
    channels, has_channels = _split(x, "input")
    filters = []
    for n, kernel in enumerate(kernels):
        kch, k_has_channels = _split(kernel, f"kernel {n + 1}")
        if k_has_channels != has_channels or len(kch) != len(channels):
            raise ConfigError(
                f"kernel {n + 1} has {len(kch)} channel(s) but the input has {len(channels)}: "
                "a kernel must cover every input channel (k × k × C_in)"
            )
        filters.append(tuple(kch))
    kh, kw = len(filters[0][0]), len(filters[0][0][0])
    if any(len(f[0]) != kh or len(f[0][0]) != kw for f in filters):
        raise ConfigError("all kernels of a layer must have the same size")
    return channels, filters, has_channels


def _split(x: Any, name: str) -> tuple[tuple[Grid2D, ...], bool]:
    """:func:`~quizgen.engine.grid.to_channels`, with a fast path for what the generators pass: rectangular
    nested tuples of plain ints (anything else, including every error, goes the general way)."""
    if type(x) is tuple and x and _only(tuple, x) and x[0] and len(set(map(len, x))) == 1:
        if _only(int, chain.from_iterable(x)):
            return (x,), False
        cells = list(chain.from_iterable(x))
        if _only(tuple, cells) and cells[0] and len(set(map(len, cells))) == 1 and _only(int, chain.from_iterable(cells)):
            return tuple(zip(*(tuple(zip(*row)) for row in x))), True  # channel c holds each row's cell[c]
    return to_channels(x, name)


def _only(kind: type, values: Iterable[Any]) -> bool:
    """Whether every value is exactly of type ``kind`` (no subclass: a bool is not an int here)."""
    return {kind}.issuperset(map(type, values))


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
    channels, filters, has_channels = check_layer(x, kernels)
    kh, kw = len(filters[0][0]), len(filters[0][0][0])
    sh, sw = as_pair("strides", strides)
    dh, dw = as_pair("dilation_rate", dilation)
    check_strides_dilation((sh, sw), (dh, dw))
    padding = check_padding(padding)
    _plan(len(channels[0]), len(channels[0][0]), len(channels), kh, kw, (sh, sw), padding, (dh, dw), extra_first)  # size errors
    if bias is not None and len(bias) != len(filters):
        raise ConfigError(f"bias needs one value per kernel ({len(filters)}), got {len(bias)}")
    biases = [exact(b) for b in bias] if bias is not None else [0] * len(filters)
    layer_input = LayerInput(channels)
    sums = [layer_input.sums(f, (sh, sw), padding, (dh, dw), extra_first=extra_first) for f in filters]
    return layer_output(sums, biases, relu, has_channels or len(filters) > 1)


# --- the arithmetic ---------------------------------------------------------------------------------------
# Each output cell is a dot product of the kernel with the cells its window covers. The input is flattened
# once, channel after channel, with one padding cell at the end: a window is a fixed set of positions, cached
# per geometry, and a tap that falls in the padding points at that last cell (so no padded copy of the input
# is ever built). Fractions are brought to integers over one common denominator, so the sums are integer
# arithmetic — done by numpy in int64 when the largest possible sum fits (always, for quiz-sized numbers),
# else with Python ints — and each output cell becomes a Fraction at most once.

_INT64_MAX = 2**63 - 1


class _Plan(NamedTuple):
    rows: int
    cols: int
    positions: np.ndarray  # output cells (row-major) × taps (channel by channel, each row by row)
    windows: tuple[Callable[[Sequence[Any]], tuple], ...]  # the same positions as one getter per output cell


def _picker(positions: list[int]) -> Callable[[Sequence[Any]], tuple]:
    """An itemgetter that returns a tuple even for a single position (a 1 × 1 kernel on one channel)."""
    if len(positions) == 1:
        (only,) = positions
        return lambda seq: (seq[only],)
    return itemgetter(*positions)


@lru_cache(maxsize=2048)
def _plan(
    h: int, w: int, depth: int, kh: int, kw: int, strides: tuple[int, int], padding: Padding, dilation: tuple[int, int], extra_first: bool
) -> _Plan:
    """Output size and windows for ``depth`` H × W channels flattened one after the other and followed by one
    padding cell (see :func:`_flat`)."""
    import numpy as np
    # Pure in its arguments, and a quiz reuses a few geometries thousands of times: cached.
    (sh, sw), (dh, dw) = strides, dilation
    check_strides_dilation(strides, dilation)
    oh, ow = output_length(h, kh, sh, padding, dh), output_length(w, kw, sw, padding, dw)
    top, bottom = padding_amounts(h, kh, sh, padding, dh)
    left, right = padding_amounts(w, kw, sw, padding, dw)
    if extra_first:
        top, left = bottom, right
    pad = depth * h * w  # the padding cell
    # Per output row (column), the offsets of the input rows (columns) its taps cover; None in the padding.
    row_taps = [[r * w if 0 <= r < h else None for r in range(i * sh - top, i * sh - top + kh * dh, dh)] for i in range(oh)]
    col_taps = [[c if 0 <= c < w else None for c in range(j * sw - left, j * sw - left + kw * dw, dw)] for j in range(ow)]
    positions = [
        [pad if r is None or c is None else z * h * w + r + c for z in range(depth) for r in rows for c in cols]
        for rows in row_taps
        for cols in col_taps
    ]
    return _Plan(oh, ow, np.array(positions, dtype=np.intp), tuple(map(_picker, positions)))


def _flat(grids: Iterable[Sequence[Sequence[Any]]], fill: Any = 0) -> list:
    """2D grids flattened row by row, one after the other, then one ``fill`` cell: what :class:`_Plan` indexes."""
    flat = list(chain.from_iterable(chain.from_iterable(grids)))
    flat.append(fill)
    return flat


def _rows(values: Sequence[Any], cols: int) -> tuple:
    return tuple(zip(*[iter(values)] * cols))


def _integers(grids: Sequence[Grid2D]) -> tuple[list[int], int, int]:
    """2D grids of exact values as integers over their common denominator, flattened one after the other
    (row by row); that denominator; and the largest absolute integer."""
    values = list(chain.from_iterable(chain.from_iterable(grids)))
    if _only(int, values):
        return values, 1, max(map(abs, values))
    den = lcm(*(v.denominator for v in values))
    values = [v.numerator * (den // v.denominator) for v in values]
    return values, den, max(map(abs, values))


class _Kernel(NamedTuple):
    weights: list[int]  # the channel slices as integers, one after the other, row by row
    scale: int  # their common denominator
    largest: int  # the largest absolute weight
    vector: np.ndarray | None  # the weights for numpy (None when too large for int64)


@lru_cache(maxsize=64)
def _flip_order(depth: int, taps: int) -> np.ndarray:
    """Positions that reverse each channel's taps: how a kernel's weights read once it is rotated by 180°
    (see :func:`flip_kernel`), so that a flipped kernel's sums need no flipped copy of it."""
    import numpy as np
    return np.array([c * taps + t for c in range(depth) for t in reversed(range(taps))], dtype=np.intp)


@lru_cache(maxsize=512)
def _kernel(kernel: tuple[Grid2D, ...]) -> _Kernel:
    """A filter's channel slices as integers, ready for :meth:`LayerInput.sums`."""
    import numpy as np
    weights, den, largest = _integers(kernel)
    return _Kernel(weights, den, largest, np.array(weights, dtype=np.int64) if largest <= _INT64_MAX else None)


class FilterSums(NamedTuple):
    """One filter's sums of products before bias and activation, as integers: the exact value of an output
    cell is (the sum over ``numerators``) / ``denominator``."""

    rows: int
    cols: int
    numerators: tuple[list[int], ...]  # per input channel, or one list already summed over the channels; row-major
    denominator: int  # input scale × kernel scale
    kernel_scale: int  # the kernel's common denominator: 9 for the box blur, 1 for an integer kernel

    def values(self, bias: Number = 0, relu: bool = False, channels: Sequence[int] | None = None, times: int = 1) -> list:
        """The output cells, row-major: the sum over ``channels`` (all by default) times ``times``, plus
        ``bias``, then ReLU if asked — exact, with whole values as ints."""
        parts = self.numerators if channels is None else [self.numerators[c] for c in channels]
        totals = parts[0] if len(parts) == 1 else list(map(sum, zip(*parts)))
        if times != 1:
            totals = [t * times for t in totals]
        den = self.denominator
        if den == 1 and type(bias) is int:
            values = [t + bias for t in totals] if bias else totals
        elif type(bias) is int:  # a scaled kernel (the blurs): the same few hundred ratios again and again
            shift = bias * den
            values = [exact_ratio(t + shift, den) for t in totals]
        else:
            bias = Fraction(bias)
            num, den = bias.numerator * den, bias.denominator * den
            values = [normalize(Fraction(t * bias.denominator + num, den)) for t in totals]
        return [v if v > 0 else 0 for v in values] if relu else values

    def grid(self, bias: Number = 0, relu: bool = False, channels: Sequence[int] | None = None, times: int = 1) -> Grid2D:
        """:meth:`values` as an H' × W' grid."""
        return _rows(self.values(bias, relu, channels, times), self.cols)


def layer_output(
    sums: Sequence[FilterSums], biases: Sequence[Number], relu: bool, stacked: bool, channels: Sequence[int] | None = None
) -> tuple:
    """A layer's output from its filters' sums: H' × W' × F when ``stacked`` (a channel axis), else the one
    filter's H' × W' grid. ``channels`` sums only those input channels."""
    maps = [s.values(b, relu, channels) for s, b in zip(sums, biases)]
    return _rows(list(zip(*maps)) if stacked else maps[0], sums[0].cols)


class LayerInput:
    """An already-checked input map (its channels, as from :func:`check_layer`) prepared once for many
    cross-correlations — other kernels, strides, padding or dilation — as a quiz's mistakes need."""

    __slots__ = ("_array", "_flat", "_windows", "depth", "height", "largest", "scale", "width")

    def __init__(self, channels: Sequence[Grid2D]) -> None:
        import numpy as np
        self.height, self.width, self.depth = len(channels[0]), len(channels[0][0]), len(channels)
        values, self.scale, self.largest = _integers(channels)
        values.append(0)  # the padding cell (see _plan)
        self._flat = values
        self._array = np.array(values, dtype=np.int64) if self.largest <= _INT64_MAX else None
        self._windows: dict[tuple, np.ndarray] = {}  # by geometry

    def _covered(self, geometry: tuple, plan: _Plan) -> np.ndarray:
        """Output cells × taps: the input values each window covers (channels one after the other)."""
        windows = self._windows.get(geometry)
        if windows is None:
            windows = self._windows[geometry] = self._array[plan.positions]
        return windows

    def sums(
        self,
        kernel: tuple[Grid2D, ...],
        strides: tuple[int, int],
        padding: Padding,
        dilation: tuple[int, int],
        *,
        extra_first: bool = False,
        per_channel: bool = False,
        flip: bool = False,
    ) -> FilterSums:
        """One filter (a tuple of k_h × k_w slices, one per input channel) slid over the input, its sums kept
        per input channel if asked; ``flip`` slides it rotated by 180° (a true convolution, as
        ``sums(flip_kernel(...))`` would). Raises ConfigError when the kernel does not fit or the geometry is
        one Keras refuses."""
        k = _kernel(kernel)
        geometry = (len(kernel[0]), len(kernel[0][0]), strides, padding, dilation, extra_first)
        plan = _plan(self.height, self.width, self.depth, *geometry)
        taps = len(k.weights) // self.depth
        if k.vector is not None and self._array is not None and self.largest * k.largest * len(k.weights) <= _INT64_MAX:
            windows = self._covered(geometry, plan)
            vector = k.vector[_flip_order(self.depth, taps)] if flip else k.vector
            if per_channel and self.depth > 1:
                by_channel = windows.reshape(len(windows), self.depth, -1) * vector.reshape(self.depth, -1)
                numerators = tuple(by_channel.sum(axis=2).T.tolist())
            else:
                numerators = ((windows @ vector).tolist(),)
        else:  # sums that could overflow int64: Python ints, one channel at a time
            weights = [k.weights[i] for i in _flip_order(self.depth, taps).tolist()] if flip else k.weights
            covered = [window(self._flat) for window in plan.windows]
            numerators = tuple(
                [sum(map(mul, cell[c * taps : (c + 1) * taps], weights[c * taps : (c + 1) * taps])) for cell in covered]
                for c in range(self.depth)
            )
        return FilterSums(plan.rows, plan.cols, numerators, self.scale * k.scale, k.scale)


def windows(
    grid: Sequence[Sequence[Any]],
    kernel_size: tuple[int, int],
    strides: tuple[int, int],
    padding: Padding,
    dilation: tuple[int, int] = (1, 1),
    *,
    fill: Any = 0,
) -> list[tuple]:
    """What each output cell's window covers of a 2D grid (of anything): per output cell, row-major, the
    covered values in kernel order (row by row), with ``fill`` where the window hangs over the padding."""
    plan = _plan(len(grid), len(grid[0]), 1, kernel_size[0], kernel_size[1], strides, padding, dilation, False)
    plane = _flat((grid,), fill)
    return [window(plane) for window in plan.windows]


__all__ = [
    "KERNELS",
    "KERNEL_TITLES",
    "FilterSums",
    "LayerInput",
    "check_layer",
    "conv2d",
    "flip_kernel",
    "layer_output",
    "named_kernel",
    "windows",
    "zero_pad",
]
