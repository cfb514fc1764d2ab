"""Reading answers as people type them into a spreadsheet cell — a small tokenizer, never eval.

Every reader returns the answer in the key's JSON encoding (see :func:`quizgen.problem.answer_to_json`):
ints and "p/q" strings, lists for shapes, nested lists for matrices, so that a right answer compares equal to
the key with a plain ``==``. Each also says which values were typed as decimals ("3.75"), because only those
are compared with a tolerance. Anything unreadable raises :class:`AnswerSyntaxError` and nothing else.

Number rules (README, "Grading", has the full table):

- integers with or without thousands separators: 43706, 43,706, 43 706 (any space, incl. narrow no-break),
  43'706, 43_706, 1.234.567 (several dots), 43.706,5 / 43,706.5 (both separators: the last one is decimal);
- decimals with a point or a comma: 3.75, 3,75, .5, 1e3;
- fractions 13/4, -13/4 and mixed numbers 3 1/4;
- a single comma followed by exactly three digits ("43,706") is a thousands separator when the answer is an
  integer and a decimal comma when it is a fraction; any other single comma is a decimal comma. A single dot
  is always a decimal point.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from fractions import Fraction
from typing import Any

from quizgen.errors import QuizgenError
from quizgen.problem import AnswerKind

MAX_CELL = 10_000  # characters; a longer cell is not read (no answer in this course is that long)
MAX_DIGITS = 60  # per number
MAX_EXPONENT = 30  # 1e30 at most: an exponent is a typing habit here, not a need
MAX_DIMS = 8
MAX_VALUES = 4_096  # cells in one matrix answer

JsonNumber = Any  # int | str ("p/q")


class AnswerSyntaxError(QuizgenError):
    """A student's cell that cannot be read as the kind of answer asked for; the message says why."""


@dataclass(frozen=True, slots=True)
class Reading:
    """A parsed answer: ``value`` in the key's JSON encoding, and the flat (row-major, channels-last) indices
    of the values typed as decimals, which are compared with a tolerance."""

    value: Any
    decimals: frozenset[int] = frozenset()


# --- text clean-up -------------------------------------------------------------------------------------------

_TRANSLATE = str.maketrans(
    {
        "\u00a0": " ",  # no-break space
        "\u202f": " ",  # narrow no-break space (French thousands)
        "\u2009": " ",  # thin space
        "\u2007": " ",  # figure space
        "\u2002": " ",
        "\u2003": " ",
        "\t": " ",
        "\u2212": "-",  # minus sign
        "\u2013": "-",
        "\u2012": "-",
        "\u2014": "-",
        "\ufe63": "-",
        "\uff0d": "-",
        "\u2019": "'",
        "\u2018": "'",
        "\u00d7": "x",  # multiplication sign
        "\u2715": "x",
        "\u2a2f": "x",
        "\uff0c": ",",
        "\uff1b": ";",
        "\u2044": "/",  # fraction slash
        "\u2215": "/",
        "\r": "\n",
    }
)


def clean(text: str) -> str:
    """Unify the look-alike characters people and spreadsheets produce; drop Excel's leading ' text marker."""
    if len(text) > MAX_CELL:
        raise AnswerSyntaxError(f"the answer is longer than {MAX_CELL:,} characters")
    text = text.replace("\r\n", "\n").translate(_TRANSLATE)
    text = text.strip()
    if text.startswith("'"):
        text = text[1:].lstrip()
    return text


def canonical(value: Fraction | int) -> JsonNumber:
    """An exact number in the key's JSON encoding: an int, or "p/q" for a non-integer."""
    if isinstance(value, int):
        return value
    if value.denominator == 1:
        return value.numerator
    return f"{value.numerator}/{value.denominator}"


# --- numbers -------------------------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+", re.ASCII)
_INT = re.compile(r"[+-]?\d{1,60}\Z", re.ASCII)
_FRACTION = re.compile(r"([+-]?) ?(\d{1,60}) ?/ ?(\d{1,60})\Z", re.ASCII)
_MIXED = re.compile(r"([+-]?) ?(\d{1,60}) +(\d{1,60}) ?/ ?(\d{1,60})\Z", re.ASCII)
_PLAIN = re.compile(r"([+-]?) ?(\d+(?:[ ,.'_]\d+)*|[.,]\d+)(?:[eE]([+-]?\d{1,3}))?\Z", re.ASCII)
_SEPARATOR = re.compile(r"([ ,.'_])")


_POINT_DECIMAL = re.compile(r"(-?)(\d{1,30})\.(\d{1,30})\Z", re.ASCII)  # 3.375, -0.5
_COMMA_THOUSANDS = re.compile(r"-?[1-9]\d{0,2}(?:,\d{3})+\Z", re.ASCII)  # 43,706 (an integer answer's)


def read_number(text: str, integer_hint: bool = True) -> tuple[Fraction | int, bool]:
    """A number typed in a cell -> (exact value, typed as a decimal?).

    ``integer_hint`` says whether the right answer is an integer; it only decides "43,706" (see the module
    docstring). Raises AnswerSyntaxError for anything else.
    """
    if text.isdigit() and text.isascii() and len(text) <= MAX_DIGITS:
        return int(text), False
    # The two commonest other spellings, read directly (the rules below read them the same way).
    m = _POINT_DECIMAL.match(text)
    if m:
        sign, whole, fraction = m.groups()
        value = Fraction(int(whole + fraction), 10 ** len(fraction))
        if sign:
            value = -value
        return (value.numerator if value.denominator == 1 else value), True
    if integer_hint and _COMMA_THOUSANDS.match(text):
        return int(text.replace(",", "")), False
    return _number_by_rules(text, integer_hint)


def _number_by_rules(text: str, integer_hint: bool) -> tuple[Fraction | int, bool]:
    """:func:`read_number` without its shortcuts for the commonest spellings."""
    s = _SPACES.sub(" ", clean(text))
    if _INT.match(s):
        return int(s), False
    m = _FRACTION.match(s) if "/" in s else None
    if m:
        sign, num, den = m.groups()
        if int(den) == 0:
            raise AnswerSyntaxError(f"{s!r} divides by zero")
        value = Fraction(int(num), int(den))
        return (-value if sign == "-" else value), False
    m = _MIXED.match(s) if "/" in s else None
    if m:
        sign, whole, num, den = m.groups()
        if int(den) == 0:
            raise AnswerSyntaxError(f"{s!r} divides by zero")
        if int(num) >= int(den):
            raise AnswerSyntaxError(f"{s!r} is not a mixed number (the fraction part must be less than 1)")
        value = int(whole) + Fraction(int(num), int(den))
        return (-value if sign == "-" else value), False
    m = _PLAIN.match(s)
    if not m:
        raise AnswerSyntaxError(f"{s!r} is not a number")
    sign, body, exponent = m.groups()
    value, decimal = _grouped(body, integer_hint and exponent is None, s)
    if exponent is not None:
        if decimal is None and _SEPARATOR.search(body):
            raise AnswerSyntaxError(f"{s!r} mixes thousands separators and an exponent")
        e = int(exponent)
        if abs(e) > MAX_EXPONENT:
            raise AnswerSyntaxError(f"{s!r} has an exponent beyond ±{MAX_EXPONENT}")
        value = value * Fraction(10) ** e
        decimal = "e"
    value = -value if sign == "-" else value
    if isinstance(value, Fraction) and value.denominator == 1:
        value = value.numerator
    return value, decimal is not None


def _grouped(body: str, integer_hint: bool, shown: str) -> tuple[Fraction | int, str | None]:
    """Digits with separators -> (value, the decimal separator used or None)."""
    parts = _SEPARATOR.split(body)
    digits, seps = parts[0::2], parts[1::2]
    if sum(len(d) for d in digits) > MAX_DIGITS:
        raise AnswerSyntaxError(f"{shown!r} has more than {MAX_DIGITS} digits")
    if not seps:
        return int(body), None
    last = seps[-1]
    decimal: str | None = None
    if last in ".,":
        before = seps[:-1]
        if not before:
            if last == "." or not _thousands_shaped(digits) or not integer_hint:
                decimal = last  # "3.75", "3,75", ".5"; "43,706" for a fraction answer
        elif all(s == last for s in before):
            decimal = None  # "1,234,567", "1.234.567": the same mark repeated can only group thousands
        elif last not in before and len(set(before)) == 1:
            decimal = last  # "43,706.5", "43.706,5", "43 706,5"
        else:
            raise AnswerSyntaxError(f"{shown!r} mixes separators in a way that is not a number")
    whole_digits = digits[:-1] if decimal else digits
    groups = seps[:-1] if decimal else seps
    if groups:
        if len(set(groups)) != 1 or not _thousands_shaped(whole_digits):
            raise AnswerSyntaxError(f"{shown!r} is not a number (thousands separators must group 3 digits)")
    whole = "".join(whole_digits) or "0"
    if decimal is None:
        return int(whole), None
    fraction = digits[-1]
    return Fraction(int(whole + fraction), 10 ** len(fraction)), decimal


def _thousands_shaped(digits: list[str]) -> bool:
    """1–3 digits (not a lone 0), then groups of exactly 3: how thousands are grouped."""
    first = digits[0]
    return 1 <= len(first) <= 3 and first != "0" and all(len(d) == 3 for d in digits[1:])


def read_integer_cell(text: str) -> JsonNumber:
    value, _ = read_number(text, integer_hint=True)
    return canonical(value)


# --- shapes --------------------------------------------------------------------------------------------------

_SHAPE_SPLIT = re.compile(r" *[,xX*;] *| +")
_OPEN, _CLOSE = "([{", ")]}"


def _strip_brackets(s: str) -> str:
    while len(s) >= 2 and s[0] in _OPEN and s[-1] in _CLOSE:
        s = s[1:-1].strip()
    return s


# The usual spellings — '(13, 13, 8)', '13x13x8', '[13,13,8]', '(None, 13, 13, 8)', '(10,)' — read without the
# general tokenizer below (which reads them the same way, and everything else too).
_SIMPLE_SHAPE = re.compile(
    r"(?:\((?=.*\)\Z)|\[(?=.*\]\Z))? ?(?:None(?: ?, ?| ))?\d{1,9}(?:(?: ?[,xX*] ?| )\d{1,9}){0,7}(?: ?,)? ?[)\]]?\Z", re.ASCII
)
_DIGIT_RUNS = re.compile(r"\d+", re.ASCII)


def read_shape(text: str) -> list[int]:
    """'(13, 13, 8)', '13x13x8', '13 × 13 × 8', '[13,13,8]', '13 13 8', '(None, 13, 13, 8)' -> [13, 13, 8].

    A leading None (Keras's batch axis, as model.summary() prints it) is dropped; '(10,)' is a 1-D shape."""
    if _SIMPLE_SHAPE.match(text) and (text[0] in "([") == (text[-1] in ")]"):
        return [int(d) for d in _DIGIT_RUNS.findall(text)]
    return _shape_by_rules(text)


def _shape_by_rules(text: str) -> list[int]:
    """:func:`read_shape` without its shortcut for the usual spellings."""
    s = _strip_brackets(re.sub(r"\s+", " ", clean(text)))
    if not s:
        raise AnswerSyntaxError("no shape given")
    tokens = _SHAPE_SPLIT.split(s)
    if tokens and tokens[-1] == "":
        tokens.pop()  # "(10,)"
    if tokens and tokens[0].casefold() == "none":
        tokens.pop(0)
    if not tokens:
        raise AnswerSyntaxError(f"{s!r} has no dimensions")
    if len(tokens) > MAX_DIMS:
        raise AnswerSyntaxError(f"{s!r} has more than {MAX_DIMS} dimensions")
    dims = []
    for token in tokens:
        if not token.isascii() or not token.isdigit() or len(token) > 9:
            raise AnswerSyntaxError(f"{s!r} is not a shape ({token!r} is not a whole number)")
        dims.append(int(token))
    return dims


# --- matrices ------------------------------------------------------------------------------------------------

_CELL = re.compile(r"([+-]?)(?:(\d{1,60})/(\d{1,60})|(\d{0,60})(?:\.(\d{1,60}))?(?:[eE]([+-]?\d{1,3}))?)\Z", re.ASCII)
_BRACKET_TOKEN = re.compile(r"[\[\](){}]|;|,|[^\s\[\](){};,]+")


def read_cell(token: str) -> tuple[Fraction | int, bool]:
    """One matrix value: -3, 7/2, 3.5, .5, 1e2 -> (value, typed as a decimal?)."""
    m = _CELL.match(token)
    if not m or not (m.group(2) or m.group(4) or m.group(5)):
        raise AnswerSyntaxError(f"{token!r} is not a number")
    sign, num, den, whole, frac, exponent = m.groups()
    if num is not None:
        if int(den) == 0:
            raise AnswerSyntaxError(f"{token!r} divides by zero")
        value: Fraction | int = Fraction(int(num), int(den))
        decimal = False
    else:
        if frac is None and exponent is None:
            value, decimal = int(whole), False
        else:
            frac = frac or ""
            value = Fraction(int((whole or "0") + frac), 10 ** len(frac))
            if exponent is not None:
                if abs(int(exponent)) > MAX_EXPONENT:
                    raise AnswerSyntaxError(f"{token!r} has an exponent beyond ±{MAX_EXPONENT}")
                value *= Fraction(10) ** int(exponent)
            decimal = True
    if sign == "-":
        value = -value
    return value, decimal


def _shape_of(values: Any) -> tuple[int, ...]:
    """The shape of a rectangular nested list of leaves; AnswerSyntaxError for ragged or empty ones."""
    if not isinstance(values, list):
        return ()
    if not values:
        raise AnswerSyntaxError("an empty row or matrix")
    inner = _shape_of(values[0])
    for v in values[1:]:
        if _shape_of(v) != inner:
            raise AnswerSyntaxError("the rows (or channels) have different lengths")
    return (len(values), *inner)


def first_shape(values: Any) -> tuple[int, ...]:
    """The shape of a nested list known to be rectangular (the key's answers), from its first elements."""
    shape = []
    while isinstance(values, list) and values:
        shape.append(len(values))
        values = values[0]
    return tuple(shape)


def _bracketed(s: str) -> list:
    """'[[6,4],[4,4]]', '[[6 4] [4 4]]' (numpy), '[6 4; 4 4]' (MATLAB), '((6,4),(4,4))', '[6,4],[4,4]'."""
    tokens = _BRACKET_TOKEN.findall(s)
    # Each frame: [closing bracket expected, finished rows or None, current items, last token was a comma]
    stack: list[list] = [[None, None, [], False]]
    for token in tokens:
        frame = stack[-1]
        if token in _OPEN:
            if len(stack) > MAX_DIMS:
                raise AnswerSyntaxError("brackets nested too deeply")
            stack.append([_CLOSE[_OPEN.index(token)], None, [], False])
        elif token in _CLOSE:
            if len(stack) == 1 or token != frame[0]:
                raise AnswerSyntaxError(f"unbalanced brackets: unexpected {token!r}")
            stack.pop()
            stack[-1][2].append(_finish(frame))
            stack[-1][3] = False
        elif token == ";":
            frame[1] = (frame[1] or []) + ([frame[2]] if frame[2] else [])
            frame[2] = []
            frame[3] = False
        elif token == ",":
            if frame[3] or not frame[2]:
                raise AnswerSyntaxError("an empty value between commas")
            frame[3] = True
        else:
            frame[2].append(token)
            frame[3] = False
    if len(stack) != 1:
        raise AnswerSyntaxError("unbalanced brackets: a '[' or '(' is not closed")
    top = _finish(stack[0])
    if len(top) == 1 and isinstance(top[0], list):
        top = top[0]  # "[[6, 4], [4, 4]]" is one item at the top level; "[6, 4], [4, 4]" two
    return top


def _finish(frame: list) -> list:
    rows, items = frame[1], frame[2]
    if rows is not None:
        return rows + [items] if items else rows
    return items


_CHANNELS = re.compile(r"\|+|//|\n\n+")
_ROWS = re.compile(r"[;\n]")
_VALUES = re.compile(r"[,\s]+")


def _plain_grids(s: str, decimal_comma: bool) -> tuple[list, tuple[int, ...]]:
    """'6 4; 4 4', '6,4;4,4', one row per line; channels separated by '|' or a blank line."""
    blocks = _CHANNELS.split(s) if ("|" in s or "//" in s or "\n\n" in s) else [s]
    grids = []
    for block in blocks:
        rows = []
        for line in _ROWS.split(block):
            line = line.strip(" ,")
            if line:
                rows.append(line.replace(",", ".").split() if decimal_comma else _VALUES.split(line))
        if rows:
            if len({len(r) for r in rows}) != 1:
                raise AnswerSyntaxError("the rows have different lengths")
            grids.append(rows)
    if not grids:
        raise AnswerSyntaxError("no values given")
    if len(grids) == 1:
        return grids[0], (len(grids[0]), len(grids[0][0]))
    h, w = len(grids[0]), len(grids[0][0])
    if any(len(g) != h or len(g[0]) != w for g in grids):
        raise AnswerSyntaxError("the channels have different sizes")
    # C grids of H × W, as the prompt shows them, to the key's rows, columns, channels.
    return [[[g[i][j] for g in grids] for j in range(w)] for i in range(h)], (h, w, len(grids))


@lru_cache(maxsize=65_536)
def _value(token: str) -> tuple[JsonNumber, bool]:
    value, decimal = read_cell(token)
    return canonical(value), decimal


@lru_cache(maxsize=65_536)
def _whole_or_fraction(token: str) -> JsonNumber:
    """A matrix value known not to be a decimal (no '.', 'e' or 'E' in it)."""
    return canonical(read_cell(token)[0])


def _convert(tree: list, shape: tuple[int, ...], decimals_possible: bool = True) -> Reading:
    """Token strings to values, row-major, noting which were typed as decimals (none can be when no token
    has a '.', 'e' or 'E')."""
    if not decimals_possible:
        value = _whole_or_fraction
        if len(shape) == 2:
            return Reading([[value(t) for t in row] for row in tree])
        return Reading([[[value(t) for t in cell] for cell in row] for row in tree])
    decimals = []
    i = 0
    if len(shape) == 2:
        values = []
        for row in tree:
            out = []
            for token in row:
                v, d = _value(token)
                if d:
                    decimals.append(i)
                out.append(v)
                i += 1
            values.append(out)
    else:
        values = []
        for row in tree:
            out_row = []
            for cell in row:
                out = []
                for token in cell:
                    v, d = _value(token)
                    if d:
                        decimals.append(i)
                    out.append(v)
                    i += 1
                out_row.append(out)
            values.append(out_row)
    return Reading(values, frozenset(decimals))


def _layout(tree: Any, shape: tuple[int, ...], expected_shape: tuple[int, ...] | None) -> tuple[Any, tuple[int, ...]]:
    """Bring a parsed nested list to the expected layout where a person's other habit is unambiguous."""
    if len(shape) > 3:
        raise AnswerSyntaxError("a matrix has at most rows, columns and channels")
    if len(shape) == 0:
        tree, shape = [[tree]], (1, 1)
    elif len(shape) == 1:
        tree, shape = [tree], (1, shape[0])
    if expected_shape is None or shape == expected_shape:
        return tree, shape
    # Axes of length 1 added or left out (a 3 × 3 grid for a 3 × 3 × 1 map, a column for a row vector):
    # the values, in order, fit the expected shape.
    if [d for d in shape if d != 1] == [d for d in expected_shape if d != 1]:
        return _reshape(_leaves(tree), expected_shape), expected_shape
    # Channels first (C × H × W) instead of the key's rows, columns, channels.
    if len(shape) == 3 and len(expected_shape) == 3 and shape == (expected_shape[2], expected_shape[0], expected_shape[1]):
        c, h, w = shape
        return [[[tree[k][i][j] for k in range(c)] for j in range(w)] for i in range(h)], expected_shape
    return tree, shape


def _leaves(tree: Any) -> list:
    if not isinstance(tree, list):
        return [tree]
    return [leaf for item in tree for leaf in _leaves(item)]


def _reshape(flat: list, shape: tuple[int, ...]) -> Any:
    if len(shape) == 1:
        return list(flat)
    step = len(flat) // shape[0]
    return [_reshape(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


# A 2-D matrix in brackets, as Python and numpy print one: '[[6, 4], [4, 4]]', '[[6 4]\n [4 4]]'. Such text is
# split into rows directly; anything else goes through the bracket tokenizer (which reads these alike).
_TOKEN = r"[^\s\[\](){};,]+"
_ROW = rf"\[\s*{_TOKEN}(?:(?:\s*,\s*|\s+){_TOKEN})*\s*\]"
_BRACKETED_ROWS = rf"\[\s*{_ROW}(?:\s*,?\s*{_ROW})*\s*\]"
_GRID = re.compile(rf"{_BRACKETED_ROWS}\Z")
_GRID3 = re.compile(rf"\[\s*{_BRACKETED_ROWS}(?:\s*,?\s*{_BRACKETED_ROWS})*\s*\]\Z")
_ROWS_TEXT = re.compile(_BRACKETED_ROWS)
_ROW_TEXT = re.compile(r"\[([^\[\]]*)\]")
_ROW_SPLIT = re.compile(r"\s*,\s*|\s+")


def _token_rows(s: str) -> list[list[str]]:
    return [_ROW_SPLIT.split(row.strip()) for row in _ROW_TEXT.findall(s)]


def _grid(s: str) -> tuple[list, tuple[int, ...]] | None:
    """A bracketed 2-D matrix split into rows of tokens, or a 3-D one (rows of cells of channel values), with
    its shape; None for any other text, and for ragged ones (the tokenizer says where they go wrong)."""
    if s.startswith("[[["):
        if not _GRID3.match(s):
            return None
        grid = [_token_rows(block) for block in _ROWS_TEXT.findall(s, 1)]
        width, depth = len(grid[0]), len(grid[0][0])
        if any(len(row) != width or any(len(cell) != depth for cell in row) for row in grid):
            return None
        return grid, (len(grid), width, depth)
    if not s.startswith("[[") or not _GRID.match(s):
        return None
    rows = _token_rows(s[1:-1])
    width = len(rows[0])
    if any(len(row) != width for row in rows):
        return None
    return rows, (len(rows), width)


def _matrix_shape(expected: Any) -> tuple[int, ...] | None:
    """The shape of an expected matrix answer, or None when it is not one (nothing to lay an answer out by)."""
    shape = first_shape(expected) if isinstance(expected, list) else None
    return shape if shape is not None and 2 <= len(shape) <= 3 else None


def read_matrix(text: str, expected: Any = None) -> Reading:
    """A matrix typed in a cell -> Reading with nested lists (rows, columns[, channels]).

    ``expected`` (the key's answer) only settles layouts that would otherwise be ambiguous: whether a comma
    in '3,5 1,25' separates values or is a decimal comma, a column typed for a row, channels typed first.
    """
    s = clean(text)
    if not s:
        raise AnswerSyntaxError("no values given")
    if "/" in s:
        s = re.sub(r"[ ]*/[ ]*", "/", s)
    if "\n" in s:
        s = re.sub(r" *\n *", "\n", s)
    expected_shape = _matrix_shape(expected)
    first_error: AnswerSyntaxError | None = None
    decimals_possible = "." in s or "e" in s or "E" in s
    candidates = []
    if "[" in s or "(" in s:
        grid = _grid(s)
        if grid is None:
            tree = _bracketed(s)
            grid = tree, _shape_of(tree)
        candidates.append(grid)
    else:
        try:
            candidates.append(_plain_grids(s, decimal_comma=False))
        except AnswerSyntaxError as exc:
            first_error = exc
        # A comma between digits with no space around it: maybe decimal commas (values separated by spaces).
        if (
            expected_shape
            and (not candidates or candidates[0][1] != expected_shape)
            and _DECIMAL_COMMA.search(s)
            and not _SPACED_COMMA.search(s)
        ):
            try:
                candidates.append(_plain_grids(s, decimal_comma=True))
                decimals_possible = True
            except AnswerSyntaxError:
                pass
    readings = []
    for tree, shape in candidates:
        try:
            tree, shape = _layout(tree, shape, expected_shape)
            if math.prod(shape) > MAX_VALUES:
                raise AnswerSyntaxError(f"more than {MAX_VALUES:,} values")
            readings.append((_convert(tree, shape, decimals_possible), shape))
        except AnswerSyntaxError as exc:
            first_error = first_error or exc
    if not readings:
        raise first_error  # type: ignore[misc]
    for reading, shape in readings:
        if shape == expected_shape:
            return reading
    return readings[0][0]


_DECIMAL_COMMA = re.compile(r"\d,\d")
_SPACED_COMMA = re.compile(r", | ,")


# --- per-layer tables ----------------------------------------------------------------------------------------

_TOTAL = re.compile(r"(?i)total(?: params| parameters)? *[:=]? *(.*)\Z")
_BRACKET_SHAPE = re.compile(r"[(\[] *((?:None *, *)?\d+(?: *, *\d+)* *,?) *[)\]]", re.IGNORECASE)
_X_SHAPE = re.compile(r"\d+(?: *[xX*] *\d+)+")


_ROW_BREAK = re.compile(r"\n|;(?![^(\[]*[)\]])")  # a new line, or a ';' that is not inside brackets


def _table_rows(s: str) -> list[str]:
    """Split on new lines, and on ';' outside brackets."""
    return [r.strip() for r in _ROW_BREAK.split(s) if r.strip()]


_PLAIN_ROW = re.compile(r"\((\d{1,9}(?:, \d{1,9}){0,7}),?\) (\d{1,60})\Z", re.ASCII)


def _row(line: str) -> tuple[list[int] | None, JsonNumber]:
    """One table row -> (output shape, params); (None, n) for a bare number."""
    m = _PLAIN_ROW.match(line)
    if m:  # '(26, 26, 8) 80', as a tuple prints: read directly (the general rules agree)
        return [int(d) for d in m.group(1).split(", ")], int(m.group(2))
    return _row_by_rules(line)


def _row_by_rules(line: str) -> tuple[list[int] | None, JsonNumber]:
    """:func:`_row` without its shortcut for rows written as a tuple prints."""
    m = _BRACKET_SHAPE.search(line)
    if m:
        return read_shape(m.group(1)), _params(line[m.end():], line)
    m = _X_SHAPE.search(line)
    if m:
        return read_shape(m.group(0)), _params(line[m.end():], line)
    try:
        return None, read_integer_cell(line)  # a bare number, thousands separators and all: the total
    except AnswerSyntaxError:
        pass
    tokens = [t for t in re.split(r"[,\s]+", line) if t]
    while tokens and not tokens[0][0].isdigit():
        tokens.pop(0)  # a layer name in front
    if len(tokens) == 1:
        return None, read_integer_cell(tokens[0])
    if len(tokens) < 2 or not all(t.isascii() and t.isdigit() for t in tokens):
        raise AnswerSyntaxError(f"{line!r} is not 'shape params' (e.g. '(26, 26, 8) 80')")
    return read_shape(" ".join(tokens[:-1])), read_integer_cell(tokens[-1])


def _params(rest: str, line: str) -> JsonNumber:
    rest = rest.strip().strip(",:=").strip()
    if not rest:
        raise AnswerSyntaxError(f"{line!r} has no parameter count after the shape")
    return read_integer_cell(rest)


_SKIPPED_LINES = ("model:", "trainable params", "non-trainable params", "optimizer params")
_TABLE_RULES = str.maketrans({c: " " for c in "|│┃"})  # column rules of Markdown and model.summary() tables


def read_table(text: str) -> Reading:
    """A per-layer table: one row per line or ';'-separated rows, each 'shape params' such as
    '(26, 26, 8) 80' or 'conv 26x26x8 80'; the total after the layers, as 'total 43706' or a bare last number.
    Lines without a digit (rules, headings) and Keras's 'Trainable params' lines are skipped, so a pasted
    model.summary() reads too.

    Returns {"rows": [{"output_shape": [...], "params": n}, ...], "total": n or None}."""
    s = clean(text).translate(_TABLE_RULES)
    lines = [_SPACES.sub(" ", line) for line in _table_rows(s)]
    lines = [line for line in lines if any(map(str.isdigit, line)) and not line.casefold().startswith(_SKIPPED_LINES)]
    if not lines:
        raise AnswerSyntaxError("no rows given")
    rows = []
    total = None
    for i, line in enumerate(lines):
        if total is not None:
            raise AnswerSyntaxError("the total must come after every layer row")
        m = _TOTAL.match(line)
        if m:
            total = read_integer_cell(re.sub(r" ?\(.*\) ?\Z", "", m.group(1)))  # "43,706 (170.73 KB)"
            continue
        shape, params = _row(line)
        if shape is None:
            if i != len(lines) - 1 or not rows:
                raise AnswerSyntaxError(f"{line!r} is not 'shape params' (a bare number is only read as the last row's total)")
            total = params
            continue
        rows.append({"output_shape": shape, "params": params})
    if not rows:
        raise AnswerSyntaxError("no layer rows given")
    return Reading({"rows": rows, "total": total})


# --- by kind -------------------------------------------------------------------------------------------------


def reading_context(kind: AnswerKind, expected: Any) -> Any:
    """All that :func:`parse_answer` looks at in the expected answer: two expected answers with the same
    context read any text alike (a number: whether the answer is an integer; a matrix: its shape)."""
    if kind is AnswerKind.NUMBER:
        return not isinstance(expected, str)
    if kind is AnswerKind.MATRIX:
        return _matrix_shape(expected)
    return None


def parse_answer(text: str, kind: AnswerKind, expected: Any = None) -> Reading:
    """Read one cell as an answer of ``kind``; ``expected`` (the key's JSON answer) settles ambiguous
    separators. Raises AnswerSyntaxError, and nothing else, for text it cannot read."""
    if not isinstance(text, str):
        raise AnswerSyntaxError(f"not text: {text!r}")
    if kind is AnswerKind.NUMBER:
        value, decimal = read_number(text, integer_hint=not isinstance(expected, str))
        return Reading(canonical(value), frozenset((0,)) if decimal else frozenset())
    if kind is AnswerKind.SHAPE:
        return Reading(read_shape(text))
    if kind is AnswerKind.MATRIX:
        return read_matrix(text, expected)
    if kind is AnswerKind.TABLE:
        return read_table(text)
    raise AnswerSyntaxError(f"unknown answer kind {kind!r}")  # pragma: no cover
