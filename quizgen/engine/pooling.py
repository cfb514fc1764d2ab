"""Max, min and average pooling and global pooling of exact integer feature maps, with Keras semantics.

With 'same' padding the window can hang over the border. Keras (TensorFlow) never lets a padded cell take
part: max pooling takes the max of the in-bounds cells only, and average pooling divides by the number of
in-bounds cells, not by the window size. Min pooling is not a Keras layer; it is −maxpool(−x), which treats
padding the same way.

An integer padding p is the textbook's explicit zero padding (Keras: ZeroPadding2D(p) before a 'valid'
pooling layer): those zeros are real cells and do take part in the max, min and average.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from typing import Any

from quizgen.engine.grid import Grid2D, from_channels, normalize, to_channels
from quizgen.engine.sizes import Padding, as_pair, check_padding, output_length, padding_amounts
from quizgen.errors import ConfigError, one_of

POOL_MODES = ("max", "min", "average")
GLOBAL_MODES = ("max", "average")


def check_mode(mode: str, allowed: tuple[str, ...] = POOL_MODES) -> str:
    """Normalise a pooling mode ('avg' is accepted for 'average'); ConfigError otherwise."""
    value = str(mode).strip().lower()
    value = {"avg": "average", "mean": "average"}.get(value, value)
    if value not in allowed:
        raise ConfigError(f"pooling mode must be {one_of(allowed)} (got {mode!r})")
    return value


def zero_pad(grid: Grid2D, p: int) -> Grid2D:
    """Surround a 2D grid with p rows / columns of zeros on every side."""
    if p == 0:
        return grid
    w = len(grid[0]) + 2 * p
    blank = (0,) * w
    return (blank,) * p + tuple((0,) * p + tuple(r) + (0,) * p for r in grid) + (blank,) * p


def pool_windows(
    h: int,
    w: int,
    pool_size: Any,
    strides: Any = None,
    padding: Padding = "valid",
    extra_first: bool = False,
) -> tuple[tuple[tuple[range, range, int], ...], ...]:
    """For each output cell: the in-bounds input rows and columns its window covers ('valid' / 'same'), and
    the window's full size (in-bounds plus padded cells).

    ``extra_first`` puts an odd 'same' padding cell at the top / left instead of Keras's bottom / right
    (a common mistake, modelled here so its wrong answer comes from the same code).
    """
    ph, pw = as_pair("pool_size", pool_size)
    sh, sw = (ph, pw) if strides is None else as_pair("strides", strides)
    return _windows(h, w, ph, pw, sh, sw, check_padding(padding), extra_first)


@lru_cache(maxsize=1024)
def _windows(h: int, w: int, ph: int, pw: int, sh: int, sw: int, padding: Padding, extra_first: bool):
    # Pure in its integer arguments, and quizzes reuse a few configurations thousands of times: cached.
    oh, ow = output_length(h, ph, sh, padding), output_length(w, pw, sw, padding)
    top, bottom = padding_amounts(h, ph, sh, padding)
    left, right = padding_amounts(w, pw, sw, padding)
    if extra_first:
        top, left = bottom, right
    windows = []
    for i in range(oh):
        r0 = i * sh - top
        rows = range(max(r0, 0), min(r0 + ph, h))
        line = []
        for j in range(ow):
            c0 = j * sw - left
            line.append((rows, range(max(c0, 0), min(c0 + pw, w)), ph * pw))
        windows.append(tuple(line))
    return tuple(windows)


def _reduce(ch: Grid2D, rows: range, cols: range, size: int, mode: str, include_padding: bool):
    """Reduce one window: the in-bounds cells (plus zeros for padded ones when ``include_padding``)."""
    c0, c1 = cols.start, cols.stop
    values = [v for row in ch[rows.start : rows.stop] for v in row[c0:c1]]
    padded = include_padding and len(values) < size
    if mode == "max":
        best = max(values)
        return max(best, 0) if padded else best
    if mode == "min":
        best = min(values)
        return min(best, 0) if padded else best
    return normalize(Fraction(sum(values), size if padded else len(values)))


def pool2d(
    x: Any,
    pool_size: Any = 2,
    strides: Any = None,
    padding: Padding = "valid",
    mode: str = "max",
    *,
    include_padding: bool = False,
    extra_first: bool = False,
) -> tuple:
    """Pool an H × W or H × W × C integer map; the result has the same layout.

    ``strides`` defaults to ``pool_size``, as in Keras. Averages are exact Fractions (ints when whole).
    ``include_padding`` (treat 'same' padding as real zeros) and ``extra_first`` (odd padding at the top /
    left) are not Keras: they compute the answers of two common mistakes.
    """
    if mode not in POOL_MODES:
        mode = check_mode(mode)
    channels, has_channels = to_channels(x)
    padding = check_padding(padding)
    if isinstance(padding, int):
        channels = [zero_pad(ch, padding) for ch in channels]
        padding = "valid"
    h, w = len(channels[0]), len(channels[0][0])
    windows = pool_windows(h, w, pool_size, strides, padding, extra_first)
    out: list[Grid2D] = []
    for ch in channels:
        out.append(
            tuple(
                tuple(_reduce(ch, rows, cols, size, mode, include_padding) for rows, cols, size in line)
                for line in windows
            )
        )
    return from_channels(out, has_channels)


def global_pool(x: Any, mode: str = "average") -> tuple:
    """Global max or average pooling: one exact value per channel (a 1-tuple for an H × W map)."""
    mode = check_mode(mode, GLOBAL_MODES)
    channels, _ = to_channels(x)
    result = []
    for ch in channels:
        values = [v for row in ch for v in row]
        result.append(max(values) if mode == "max" else normalize(Fraction(sum(values), len(values))))
    return tuple(result)
