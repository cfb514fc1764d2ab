"""Jinja filters: number and shape formatting, and one escaping filter per target language. No arithmetic.

Prompts, solution steps and feedback are plain Unicode text; each format escapes them on the way out:
``latex`` for LaTeX, ``md`` for Markdown, and Jinja's autoescape (plus ``cdata``) for Moodle XML.
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache
from typing import Any

from markupsafe import Markup, escape

from quizgen import text
from quizgen.mistakes import CATALOGUE

# --- LaTeX --------------------------------------------------------------------------------------------------

# Characters LaTeX treats specially, written so that pdflatex needs only the default OT1 fonts: no T1/TS1
# glyphs (\textquotesingle, \textquotedbl), which would make TeX generate bitmap fonts with METAFONT.
_LATEX_ASCII = {
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
    "|": r"\textbar{}",
    '"': r"{\ttfamily\char34}",
    # Brackets are safe text, except right after \item or \\ where they would start an optional argument.
    "[": "{[}",
    "]": "{]}",
    "`": r"{\ttfamily\char18}",
}

# Unicode the prompts, solutions and feedback use (or are likely to), as math so no extra fonts are needed.
_LATEX_UNICODE = {
    "×": r"\(\times\)",
    "−": r"\(-\)",
    "·": r"\(\cdot\)",
    "⋅": r"\(\cdot\)",
    "∗": r"\(*\)",
    "÷": r"\(\div\)",
    "±": r"\(\pm\)",
    "√": r"\(\surd\)",
    "∞": r"\(\infty\)",
    "⌊": r"\(\lfloor\)",
    "⌋": r"\(\rfloor\)",
    "⌈": r"\(\lceil\)",
    "⌉": r"\(\rceil\)",
    "⟨": r"\(\langle\)",
    "⟩": r"\(\rangle\)",
    "Σ": r"\(\Sigma\)",
    "∑": r"\(\sum\)",
    "Π": r"\(\Pi\)",
    "∏": r"\(\prod\)",
    "Δ": r"\(\Delta\)",
    "∂": r"\(\partial\)",
    "∇": r"\(\nabla\)",
    "α": r"\(\alpha\)",
    "β": r"\(\beta\)",
    "γ": r"\(\gamma\)",
    "δ": r"\(\delta\)",
    "ε": r"\(\varepsilon\)",
    "η": r"\(\eta\)",
    "θ": r"\(\theta\)",
    "λ": r"\(\lambda\)",
    "μ": r"\(\mu\)",
    "ρ": r"\(\rho\)",
    "σ": r"\(\sigma\)",
    "τ": r"\(\tau\)",
    "φ": r"\(\varphi\)",
    "ω": r"\(\omega\)",
    "°": r"\(^\circ\)",
    "≤": r"\(\le\)",
    "≥": r"\(\ge\)",
    "≠": r"\(\ne\)",
    "≈": r"\(\approx\)",
    "≡": r"\(\equiv\)",
    "∈": r"\(\in\)",
    "∘": r"\(\circ\)",
    "⊙": r"\(\odot\)",
    "⊗": r"\(\otimes\)",
    "→": r"\(\to\)",
    "←": r"\(\leftarrow\)",
    "↔": r"\(\leftrightarrow\)",
    "⇒": r"\(\Rightarrow\)",
    "↦": r"\(\mapsto\)",
    "✓": r"\(\checkmark\)",
    "✗": r"\(\times\)",
    "⁰": r"\(^0\)",
    "¹": r"\(^1\)",
    "²": r"\(^2\)",
    "³": r"\(^3\)",
    "⁴": r"\(^4\)",
    "ⁿ": r"\(^n\)",
    "⁻": r"\(^-\)",
    "₀": r"\(_0\)",
    "₁": r"\(_1\)",
    "₂": r"\(_2\)",
    "₃": r"\(_3\)",
    "ᵢ": r"\(_i\)",
    "ⱼ": r"\(_j\)",
    "ₖ": r"\(_k\)",
    "…": r"\ldots{}",
    "–": "--",
    "—": "---",
    "‘": "`",
    "’": "'",
    "“": "``",
    "”": "''",
    "\u00a0": "~",  # no-break space
    "\u2009": r"\,",  # thin space
    "\u202f": r"\,",  # narrow no-break space
}

_LATEX_MAP = {**_LATEX_ASCII, **_LATEX_UNICODE}
# Every special character in one pass, so that what a replacement writes ({, \) is not escaped again.
# (str.translate does the same, but looks each character of a non-ASCII text up one by one: several times slower.)
_LATEX_SPECIAL = re.compile("[" + re.escape("".join(_LATEX_MAP)) + "]")
# A quote between two letters is an apostrophe (Keras's) and may curl; any other quotes a value ('same') and
# stays straight, as in code (OT1's typewriter font has the straight quote at 13).
_LATEX_QUOTE = re.compile(r"(?<![A-Za-z])'|'(?![A-Za-z])")


def latex_escape(value: Any) -> str:
    """Escape plain text for LaTeX: special characters and the Unicode symbols our texts use."""
    return _latex_text(value if type(value) is str else str(value))


@lru_cache(maxsize=4096)  # titles, prompts, steps and feedback repeat from one problem to the next
def _latex_text(text: str) -> str:
    escaped = _LATEX_SPECIAL.sub(_latex_char, text)
    return _LATEX_QUOTE.sub(r"{\\ttfamily\\char13}", escaped) if "'" in escaped else escaped


def _latex_char(match: re.Match[str]) -> str:
    return _LATEX_MAP[match.group()]


def latex_handles(ch: str) -> bool:
    """Whether :func:`latex_escape` (or pdflatex's UTF-8 input with OT1 fonts) can typeset ``ch``."""
    return ch.isascii() or ch in _LATEX_UNICODE or ("\u00c0" <= ch <= "\u00ff" and ch not in "×÷")


def tex_num(value: Any, frac: str = "frac") -> str:
    """A number as LaTeX math: 3, -3, \\frac{15}{4}, -\\frac{1}{2} (``frac="dfrac"`` for full-size fractions)."""
    if type(value) is int:
        return str(value)
    if isinstance(value, Fraction) and value.denominator != 1:
        sign = "-" if value < 0 else ""
        return f"{sign}\\{frac}{{{abs(value.numerator)}}}{{{value.denominator}}}"
    return str(int(value))


def _cell(value: Any) -> str:
    return str(value) if type(value) is int else tex_num(value, "dfrac")  # a matrix would shrink \frac


# A row as " & ".join(map(str, row)) writes it when every cell is an integer (then _cell would write the same).
_INTEGER_ROW = re.compile(r"[-0-9& ]*")


def _bmatrix(grid: Any, gap: str) -> str:
    rows = [" & ".join(map(str, row)) for row in grid]  # the common case, with no call per cell
    newline = " \\\\"
    if not all(map(_INTEGER_ROW.fullmatch, rows)):
        rows = [" & ".join(map(_cell, row)) for row in grid]
        if any("frac" in r for r in rows):
            newline = " \\\\[6pt]"  # rows of full-size fractions need a little air between them
    return "\\begin{bmatrix}" + gap + (newline + gap).join(rows) + gap + "\\end{bmatrix}"


def tex_matrix(matrix: Any, lines: bool = False) -> str:
    """A map as TeX math (amsmath): one bmatrix, or one per channel side by side, each labelled "channel c"
    underneath. ``lines`` puts each row on its own line (for readable Markdown and LaTeX sources)."""
    gap = "\n" if lines else " "
    grids = matrix.channels()
    if len(grids) == 1:
        return _bmatrix(grids[0], gap)
    return (" \\quad" + gap).join(
        f"\\underset{{\\text{{channel {c}}}}}{{{_bmatrix(grid, gap)}}}" for c, grid in enumerate(grids, 1)
    )


# --- Markdown -----------------------------------------------------------------------------------------------

# Inline syntax of pandoc's Markdown: emphasis, code, math, links, raw HTML, table cells, sub/superscript,
# citations, entities. A backslash makes any of them literal.
_MD_SPECIAL = tuple((ch, "\\" + ch) for ch in "\\`*_[]$<>|~^@#&")  # the backslash first: see _md_text


def md_escape(value: Any) -> str:
    """Escape plain text for (pandoc) Markdown so it renders exactly as written."""
    return _md_text(value if type(value) is str else str(value))


@lru_cache(maxsize=4096)  # titles, prompts, steps and feedback repeat from one problem to the next
def _md_text(text: str) -> str:
    # One replace() per special character present (few are): much faster than str.translate on non-ASCII
    # text. The backslash goes first, so the backslashes added for the others stay single.
    for ch, escaped in _MD_SPECIAL:
        if ch in text:
            text = text.replace(ch, escaped)
    return text


# --- XML ----------------------------------------------------------------------------------------------------


def cdata(value: Any) -> Markup:
    """Wrap (already HTML-escaped) text in a CDATA section; a ``]]>`` inside is split across two sections."""
    return Markup("<![CDATA[" + str(value).replace("]]>", "]]]]><![CDATA[>") + "]]>")


# The start of a Cloze field, "{1:NUMERICAL:"; Moodle scans the whole question text for it.
_CLOZE_START = re.compile(r"\{(?=\d*:[A-Z_]+:)")


def moodle_finalize(value: Any) -> Any:
    """What the Moodle environment does to every value it prints, before autoescape: plain text that holds a
    "{1:NUMERICAL:" gets its brace written as &#123;, so Moodle never takes text for an answer field."""
    # Markup (already safe) is a str subclass: not this. Escaping leaves the digits, colons and capitals of a
    # field start alone, so the text holds one exactly when its escaped form does.
    if type(value) is str and "{" in value and _CLOZE_START.search(value):
        return Markup(_CLOZE_START.sub("&#123;", str(escape(value))))
    return value


def xml_comment(value: Any) -> Markup:
    """Text that is safe inside an XML comment (no ``--``)."""
    return Markup(re.sub(r"-(?=-)|-$", "- ", str(value)))


# --- numbers ------------------------------------------------------------------------------------------------


def ascii_num(value: Any) -> str:
    """A number as a student would type it: 43706, -3, 15/4."""
    if isinstance(value, Fraction) and value.denominator != 1:
        return f"{value.numerator}/{value.denominator}"
    return str(int(value))


def decimal(value: Any, places: int = 2) -> str:
    """A number rounded to ``places`` decimals for display next to an exact fraction (15/4 ≈ 3.75)."""
    return f"{float(value):.{places}f}".rstrip("0").rstrip(".")


def points(value: Any) -> str:
    """Points as the exam class reads them: 2, 1.5."""
    return decimal(value) if is_fraction(value) else str(int(value))


def is_fraction(value: Any) -> bool:
    return isinstance(value, Fraction) and value.denominator != 1


def mistake_title(name: str) -> str:
    """The catalogue's short title of a mistake ("ignored the stride"), or its name if it has none."""
    info = CATALOGUE.get(name)
    return info.title if info else name


FILTERS = {
    "num": text.num,
    "plain": text.plain,
    "tex_num": tex_num,
    "tex_matrix": tex_matrix,
    "ascii_num": ascii_num,
    "decimal": decimal,
    "dims": text.dims,
    "shape_tuple": text.shape_tuple,
    "latex": latex_escape,
    "md": md_escape,
    "cdata": cdata,
    "xml_comment": xml_comment,
    "keras_value": text.keras_value,
    "is_fraction": is_fraction,
    "points": points,
    "mistake_title": mistake_title,
}
