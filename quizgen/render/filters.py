"""Jinja filters shared by the formats: number and shape formatting, LaTeX escaping. No arithmetic."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from quizgen import text

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    # Unicode the prompts and solutions use, as math so pdflatex needs no extra fonts.
    "×": r"\(\times\)",
    "−": r"\(-\)",
    "·": r"\(\cdot\)",
    "⌊": r"\(\lfloor\)",
    "⌋": r"\(\rfloor\)",
    "⌈": r"\(\lceil\)",
    "⌉": r"\(\rceil\)",
    "Σ": r"\(\Sigma\)",
    "Π": r"\(\Pi\)",
    "γ": r"\(\gamma\)",
    "β": r"\(\beta\)",
    "°": r"\(^\circ\)",
    "≤": r"\(\le\)",
    "≥": r"\(\ge\)",
    "≠": r"\(\ne\)",
    "→": r"\(\to\)",
    "…": r"\ldots{}",
    "’": "'",
    "'": r"\textquotesingle{}",
}


def latex_escape(value: Any) -> str:
    """Escape text for LaTeX: special characters and the Unicode symbols our texts use."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(value))


def tex_num(value: Any) -> str:
    """A number as LaTeX math: 3, -3, \\frac{15}{4}, -\\frac{1}{2}."""
    if isinstance(value, Fraction) and value.denominator != 1:
        sign = "-" if value < 0 else ""
        return f"{sign}\\frac{{{abs(value.numerator)}}}{{{value.denominator}}}"
    return str(int(value))


def ascii_num(value: Any) -> str:
    """A number as a student would type it: 43706, -3, 15/4."""
    if isinstance(value, Fraction) and value.denominator != 1:
        return f"{value.numerator}/{value.denominator}"
    return str(int(value))


def decimal(value: Any, places: int = 2) -> str:
    """A number rounded to ``places`` decimals for display next to an exact fraction (15/4 ≈ 3.75)."""
    return f"{float(value):.{places}f}".rstrip("0").rstrip(".")


FILTERS = {
    "num": text.num,
    "plain": text.plain,
    "tex_num": tex_num,
    "ascii_num": ascii_num,
    "decimal": decimal,
    "dims": text.dims,
    "shape_tuple": text.shape_tuple,
    "latex": latex_escape,
    "keras_value": text.keras_value,
    "is_fraction": lambda v: isinstance(v, Fraction) and v.denominator != 1,
}
