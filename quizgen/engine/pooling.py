"""Max, min and average pooling and global pooling of exact integer feature maps, with Keras semantics.

With 'same' padding the window can hang over the border. Keras (TensorFlow) never lets a padded cell take
part: max pooling takes the max of the in-bounds cells only, and average pooling divides by the number of
in-bounds cells, not by the window size. Min pooling is not a Keras layer; it is −maxpool(−x), which treats
padding the same way.

An integer padding p is the textbook's explicit zero padding (Keras: ZeroPadding2D(p) before a 'valid'
pooling layer): those zeros are real cells and do take part in the max, min and average.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import chain
from operator import itemgetter
from typing import Any

from quizgen.engine.grid import Grid2D, exact_ratio, from_channels, to_channels
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


@lru_cache(maxsize=1024)
def _gathers(h: int, w: int, ph: int, pw: int, sh: int, sw: int, padding: Padding, extra_first: bool):
    """Each output cell's window as (getter of its in-bounds cells from the row-major flattened map, number of
    those cells, full window size) — one C call per window instead of slicing rows."""
    lines = []
    for line in _windows(h, w, ph, pw, sh, sw, padding, extra_first):
        cells = []
        for rows, cols, size in line:
            index = [r * w + c for r in rows for c in cols]
            get = itemgetter(*index) if len(index) > 1 else (lambda flat, i=tuple(index): tuple(flat[j] for j in i))
            cells.append((get, len(index), size))
        lines.append(tuple(cells))
    return tuple(lines)


def _pool_grid(flat: tuple, gathers, mode: str, include_padding: bool) -> Grid2D:
    """Pool one flattened channel through precomputed windows."""
    if mode == "average":
        if include_padding:
            return tuple([tuple([exact_ratio(sum(get(flat)), size) for get, _, size in line]) for line in gathers])
        return tuple([tuple([exact_ratio(sum(get(flat)), n) for get, n, _ in line]) for line in gathers])
    reduce = max if mode == "max" else min
    if include_padding:  # the padded cells count as zeros (a mistake when padding is Keras's 'same')
        return tuple([
            tuple([reduce(reduce(get(flat)), 0) if n < size else reduce(get(flat)) for get, n, size in line])
            for line in gathers
        ])
    return tuple([tuple([reduce(get(flat)) for get, _, _ in line]) for line in gathers])


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
    return Pooler(x).pool(pool_size, strides, padding, mode, include_padding=include_padding, extra_first=extra_first)


class Pooler:
    """One map, checked and flattened once, pooled under as many configurations as asked for — a problem pools
    its map for the answer and again for each common mistake. ``Pooler(x).pool(...)`` is :func:`pool2d`."""

    __slots__ = ("channels", "has_channels", "_flat")

    def __init__(self, x: Any) -> None:
        self.channels, self.has_channels = to_channels(x)
        self._flat = None  # the channels flattened row-major, made on first use

    def pool(
        self,
        pool_size: Any = 2,
        strides: Any = None,
        padding: Padding = "valid",
        mode: str = "max",
        *,
        include_padding: bool = False,
        extra_first: bool = False,
    ) -> tuple:
        """See :func:`pool2d`."""
        if mode not in POOL_MODES:
            mode = check_mode(mode)
        flat, gathers = self._slide(pool_size, strides, padding, extra_first)
        if not self.has_channels:
            return _pool_grid(flat[0], gathers, mode, include_padding)
        return from_channels([_pool_grid(f, gathers, mode, include_padding) for f in flat], True)

    def windows(self, pool_size: Any = 2, strides: Any = None, padding: Padding = "valid") -> tuple:
        """What each output cell's window sees ('valid' / 'same'): per channel, per output row, per output
        cell, the (in-bounds values row-major, full window size) pair — the numbers a worked solution shows."""
        if isinstance(check_padding(padding), int):
            raise ConfigError("windows() takes 'valid' or 'same' padding")
        flat, gathers = self._slide(pool_size, strides, padding, False)
        return tuple(
            tuple(tuple([(get(f), size) for get, _, size in line]) for line in gathers) for f in flat
        )

    def _slide(self, pool_size: Any, strides: Any, padding: Padding, extra_first: bool) -> tuple[list[tuple], Any]:
        """The channels flattened row-major (zero-padded first for an integer padding) and the windows of the
        configuration over them; ConfigError when the pool does not fit."""
        padding = check_padding(padding)
        channels = self.channels
        if isinstance(padding, int):  # explicit zeros: a different map
            channels = tuple(zero_pad(ch, padding) for ch in channels)
            flat = [tuple(chain.from_iterable(ch)) for ch in channels]
            padding = "valid"
        else:
            flat = self._flat
            if flat is None:
                flat = self._flat = [tuple(chain.from_iterable(ch)) for ch in channels]
        h, w = len(channels[0]), len(channels[0][0])
        ph, pw = as_pair("pool_size", pool_size)
        sh, sw = (ph, pw) if strides is None else as_pair("strides", strides)
        return flat, _gathers(h, w, ph, pw, sh, sw, padding, extra_first)


def global_pool(x: Any, mode: str = "average") -> tuple:
    """Global max or average pooling: one exact value per channel (a 1-tuple for an H × W map)."""
    mode = check_mode(mode, GLOBAL_MODES)
    channels, _ = to_channels(x)
    result = []
    for ch in channels:
        values = [v for row in ch for v in row]
        result.append(max(values) if mode == "max" else exact_ratio(sum(values), len(values)))
    return tuple(result)
