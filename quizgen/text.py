"""Plain-text formatting for prompts and worked solutions (Unicode, no markup; renderers escape it)."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import Any


def num(value: Any) -> str:
    """An exact number as people write it: 43706 -> "43,706", Fraction(15, 4) -> "15/4", -3 -> "−3"."""
    if type(value) is int and -1000 < value < 1000:  # the common case, fast
        return str(value) if value >= 0 else f"−{-value}"
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return num(value.numerator)
        sign = "−" if value < 0 else ""
        return f"{sign}{abs(value.numerator)}/{value.denominator}"
    if isinstance(value, int) and not isinstance(value, bool):
        text = f"{abs(value):,}"
        return ("−" if value < 0 else "") + text
    return str(value)


def term(value: Any) -> str:
    """A number inside a product or sum: negatives and fractions in parentheses, as in "5 × (−1)"."""
    text = num(value)
    return f"({text})" if text.startswith("−") or "/" in text else text


_NUMS = {v: num(v) for v in range(-999, 1000)}  # how num() and term() write the common small ints
_TERMS = {v: term(v) for v in range(-999, 1000)}


def nums(values: Iterable[Any], sep: str = ", ") -> str:
    """num() of each value, joined: "3, 4, −1" (one call for a worked solution's list of cell values)."""
    small = _NUMS
    return sep.join([small[v] if type(v) is int and -1000 < v < 1000 else num(v) for v in values])


def terms(values: Iterable[Any], sep: str = " + ") -> str:
    """term() of each value, joined: "3 + (−1) + 4"."""
    small = _TERMS
    return sep.join([small[v] if type(v) is int and -1000 < v < 1000 else term(v) for v in values])


def plain(value: Any) -> str:
    """A number without thousands separators, for sizes inside formulas ("1352")."""
    if isinstance(value, Fraction) and value.denominator != 1:
        return num(value)
    value = int(value)
    return ("−" if value < 0 else "") + str(abs(value))


def dims(shape: Iterable[int], sep: str = " × ") -> str:
    """(13, 13, 8) -> "13 × 13 × 8"."""
    return sep.join(map(str, shape))


def shape_tuple(shape: Iterable[int]) -> str:
    """(13, 13, 8) -> "(13, 13, 8)", (10,) -> "(10,)" — Keras's own way of writing shapes."""
    items = list(map(str, shape))
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def pair(value: tuple[int, int]) -> str:
    """(3, 3) -> "3 × 3"."""
    return f"{value[0]} × {value[1]}"


def padding(value: Any) -> str:
    """'same' -> "'same' padding", 1 -> "zero padding 1"."""
    if isinstance(value, str):
        return f"'{value}' padding"
    return "no padding" if value == 0 else f"zero padding {value}"


def keras_value(value: Any) -> str:
    """A keyword value as it would appear in Keras code: (2, 2), 'same', True."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, tuple):
        return shape_tuple(value)
    return str(value)


def keras_call(class_name: str, kwargs: dict[str, Any]) -> str:
    """A Keras layer constructor as code: "MaxPooling2D(pool_size=(2, 2), strides=(2, 2))"."""
    return f"{class_name}(" + ", ".join(f"{k}={keras_value(v)}" for k, v in kwargs.items()) + ")"
