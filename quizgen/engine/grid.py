"""Exact integer / fraction feature maps as nested tuples, and conversion from lists or numpy arrays.

A 2D map is a tuple of rows; a multi-channel map is H × W × C (rows, then columns, then channels), the
layout Keras uses with ``channels_last``.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from itertools import chain
from numbers import Rational
from collections.abc import Sequence
from typing import Any, Union

from quizgen.errors import ConfigError

Number = Union[int, Fraction]
Grid2D = tuple[tuple[Number, ...], ...]


def exact(value: Any) -> Number:
    """An int or Fraction from an int, Fraction or numpy integer; ConfigError for floats and anything else."""
    if type(value) is int:
        return value
    if isinstance(value, bool):
        raise ConfigError(f"expected a number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else value
    if isinstance(value, Rational):  # numpy integers register as Integral, which is Rational
        return int(value)
    if hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iu":
        return int(value)
    raise ConfigError(f"feature maps and kernels must hold integers or exact fractions (got {value!r})")


def normalize(value: Number) -> Number:
    """A Fraction with denominator 1 becomes an int, so equal answers compare and print alike."""
    if isinstance(value, Fraction) and value.denominator == 1:
        return value.numerator
    return value


@lru_cache(maxsize=4096)
def exact_ratio(total: int, count: int) -> Number:
    """total / count exactly: an int when it divides, else a Fraction. Averages of small integer maps repeat
    the same few hundred ratios, and Fraction's constructor (a gcd and checks) is the slow part: cached."""
    if total % count == 0:
        return total // count
    return Fraction(total, count)


def to_channels(x: Any, name: str = "feature map") -> tuple[tuple[Grid2D, ...], bool]:
    """Split an H × W or H × W × C map into C exact 2D grids; also say whether the input had a channel axis.

    A map held as nested tuples (as generators hold them) is checked once and remembered by identity: a
    problem pools or convolves the same map several times, for the answer and for each common mistake.
    """
    hit = _SEEN.get(id(x))
    if hit is not None and hit[0] is x:
        return hit[1]
    result = _split_channels(x, name)
    if type(x) is tuple and all(type(r) is tuple for r in x) and (
        not result[1] or all(type(cell) is tuple for r in x for cell in r)
    ):  # immutable all the way down, so the same object always holds the same map
        if len(_SEEN) >= 64:
            _SEEN.clear()
        _SEEN[id(x)] = (x, result)  # keeping x alive keeps its id from being reused while cached
    return result


_SEEN: dict[int, tuple[Any, tuple[tuple[Grid2D, ...], bool]]] = {}


_INT, _TUPLE = {int}, {tuple}


def _split_channels(x: Any, name: str) -> tuple[tuple[Grid2D, ...], bool]:
    rows = [list(r) for r in x]
    if not rows or not rows[0]:
        raise ConfigError(f"the {name} must have at least one row and one column")
    width = len(rows[0])
    if any(len(r) != width for r in rows):
        raise ConfigError(f"the {name} must be rectangular (rows of {sorted({len(r) for r in rows})} values)")
    first = rows[0][0]
    if type(first) is int and set(map(type, chain.from_iterable(rows))) == _INT:  # the common case, checked fast
        return (tuple(tuple(r) for r in rows),), False
    has_channels = isinstance(first, (list, tuple)) or (hasattr(first, "__len__") and not isinstance(first, str))
    if not has_channels:
        return (tuple(tuple(exact(v) for v in r) for r in rows),), False
    depth = len(first)
    if depth < 1 or any(len(cell) != depth for r in rows for cell in r):
        raise ConfigError(f"every cell of the {name} must have the same number of channels")
    cells = list(chain.from_iterable(rows))
    if set(map(type, cells)) == _TUPLE and set(map(type, chain.from_iterable(cells))) == _INT:  # common, fast
        per_row = [tuple(zip(*r)) for r in rows]  # each row as C tuples, one per channel
        return tuple([tuple([r[c] for r in per_row]) for c in range(depth)]), True
    return tuple(tuple(tuple(exact(cell[c]) for cell in r) for r in rows) for c in range(depth)), True


def from_channels(channels: Sequence[Grid2D], has_channels: bool) -> tuple:
    """Inverse of :func:`to_channels`: one 2D grid back as is, or C grids stacked as H × W × C."""
    if not has_channels:
        return channels[0]
    return tuple([tuple(zip(*rows)) for rows in zip(*channels)])
