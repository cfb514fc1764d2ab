"""Moodle XML: turn each Problem into plain data for the question templates.

Everything computed for Moodle happens here — which question type a problem becomes, answers written as
decimals with their tolerances, multiple-choice distractors, the Cloze (embedded answers) field strings — so
the templates in ``templates/moodle/`` only lay the data out.

Answer kinds and question types:

======  ==================================================================================================
NUMBER  ``numerical`` (right answer, one answer per common mistake with its feedback, a ``*`` catch-all), or
        ``multichoice`` with ``moodle_type="multichoice"``
SHAPE   ``cloze``: one NUMERICAL field per dimension
MATRIX  ``cloze``: an HTML table per channel with one NUMERICAL field per cell
TABLE   ``cloze``: per layer one field per output dimension and one for the parameters, and the total
======  ==================================================================================================
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from functools import lru_cache
from typing import Any

from markupsafe import Markup

from quizgen import text
from quizgen.errors import UserError, one_of
from quizgen.problem import AnswerKind, Matrix, Number, Problem, Shape, Table, answer_kind
from quizgen.quiz import QuizItem


class MoodleType(str, Enum):
    """What a NUMBER answer becomes in Moodle (the other kinds are always Cloze questions)."""

    NUMERICAL = "numerical"
    MULTICHOICE = "multichoice"

    @classmethod
    def parse(cls, value: object) -> MoodleType:
        if value is None:
            return cls.NUMERICAL
        for t in cls:
            if t.value == str(getattr(value, "value", value)).strip().lower():
                return t
        raise UserError(f"--moodle-type must be {one_of([t.value for t in cls])} (got {value!r})")


CATEGORY_ROOT = "$course$/quizgen"  # questions of topic T are imported into $course$/quizgen/T
EXACT_TOLERANCE = Fraction(0)
ROUNDED_TOLERANCE = Fraction(1, 200)  # a non-integer answer is accepted when rounded to 2 decimals
MIN_DECIMALS = 6  # digits an exact non-integer answer is written with (more when the tolerance needs them)
MIN_DISTRACTORS = 3
MAX_DISTRACTORS = 5
CORRECT_FEEDBACK = "Correct."
OTHER_FEEDBACK = "Not the right value."  # the catch-all, and distractors that are no catalogued mistake
CLOZE_WEIGHT = 1  # marks per Cloze field
DECIMAL_HINT = "Give non-integer values as decimals, rounded to 2 decimal places (e.g. 3.75)."


# --- numbers as Moodle reads them ---------------------------------------------------------------------------


def _decimal(value: Fraction, places: int) -> str:
    """``value`` rounded (half to even) to ``places`` decimals, with a decimal point and no trailing zeros."""
    scaled = round(value * 10**places)
    sign = "-" if scaled < 0 else ""
    whole, part = divmod(abs(scaled), 10**places)
    digits = f"{part:0{places}d}".rstrip("0")
    return f"{sign}{whole}.{digits}" if digits else f"{sign}{whole}"


def _rounded_2(value: Fraction) -> list[Fraction]:
    """What a student who rounds ``value`` to 2 decimals types (both neighbours when it is a tie)."""
    lo = Fraction(math.floor(value * 100), 100)
    hi = Fraction(math.ceil(value * 100), 100)
    return [r for r in {lo, hi} if abs(r - value) <= Fraction(1, 200)]


@dataclass(frozen=True, slots=True)
class Written:
    """A number as written in Moodle XML: the value and its tolerance, and the exact interval they accept."""

    text: str
    tolerance: str
    value: Fraction
    tol: Fraction

    def accepts(self, x: Number) -> bool:
        return abs(Fraction(x) - self.value) <= self.tol


@lru_cache(maxsize=4096)
def written(value: Number) -> Written:
    """An integer exactly (tolerance 0); a fraction as a decimal with tolerance 0.005, with enough digits that
    the value rounded to 2 decimals lies inside the tolerance (3.75, 2.333333)."""
    value = Fraction(value)
    if value.denominator == 1:
        return Written(str(value.numerator), "0", value, EXACT_TOLERANCE)
    places = MIN_DECIMALS
    while True:
        shown = _decimal(value, places)
        if all(abs(r - Fraction(shown)) <= ROUNDED_TOLERANCE for r in _rounded_2(value)):
            return Written(shown, _decimal(ROUNDED_TOLERANCE, 3), Fraction(shown), ROUNDED_TOLERANCE)
        places += 1  # pragma: no cover - 6 digits are always enough for the fractions quizzes use


# --- numerical and multiple-choice answers ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NumericalAnswer:
    """One <answer> of a numerical question; Moodle uses the first one that matches."""

    fraction: int  # percent
    text: str
    tolerance: str
    feedback: str


@dataclass(frozen=True, slots=True)
class Choice:
    """One <answer> of a multiple-choice question."""

    fraction: int
    text: str
    feedback: str


def _numbers(problem: Problem) -> list[tuple[Number, str]]:
    """The problem's mistakes that are numbers, as (wrong value, feedback)."""
    return [(m.answer, m.feedback) for m in problem.mistakes if answer_kind(m.answer) is AnswerKind.NUMBER]


def numerical_answers(problem: Problem) -> tuple[NumericalAnswer, ...]:
    """The right answer, then one answer per mistake outside its tolerance (first feedback wins), then ``*``."""
    right = written(problem.answer)
    answers = [NumericalAnswer(100, right.text, right.tolerance, CORRECT_FEEDBACK)]
    seen = {right.text}
    for value, feedback in _numbers(problem):
        w = written(value)
        if right.accepts(value) or w.text in seen:
            continue
        seen.add(w.text)
        answers.append(NumericalAnswer(0, w.text, w.tolerance, feedback))
    answers.append(NumericalAnswer(0, "*", "0", OTHER_FEEDBACK))
    return tuple(answers)


def near_misses(answer: Number) -> Iterator[Number]:
    """Plausible wrong values computed from the answer: off by one (a forgotten +1 in a formula), doubled,
    halved, then further off; never of the other sign."""
    a = Fraction(answer)
    candidates: list[Fraction] = [a + 1, a - 1, 2 * a, a + 2, a - 2, a / 2]
    candidates += (a + k for k in range(3, 100))
    for c in candidates:
        if c != a and (c >= 0) == (a >= 0):
            yield c.numerator if c.denominator == 1 else c


def choices(problem: Problem) -> tuple[Choice, ...]:
    """The right answer, distractors from the mistakes (with their feedback), padded with near misses to at
    least MIN_DISTRACTORS; all distinct as shown. Moodle shuffles them."""
    shown = text.num(problem.answer)
    out = [Choice(100, shown, CORRECT_FEEDBACK)]
    seen = {shown}

    def add(value: Number, feedback: str) -> None:
        label = text.num(value)
        if label not in seen:
            seen.add(label)
            out.append(Choice(0, label, feedback))

    for value, feedback in _numbers(problem):
        if len(out) > MAX_DISTRACTORS:
            break
        add(value, feedback)
    for value in near_misses(problem.answer):
        if len(out) > MIN_DISTRACTORS:
            break
        add(value, OTHER_FEEDBACK)
    return tuple(out)


# --- Cloze fields -------------------------------------------------------------------------------------------

# How Moodle reads a Cloze field's feedback (question/type/multianswer/questiontype.php): the feedback runs to
# the first ~ or } that has no backslash before it; then Moodle decodes HTML entities once and turns \} and \#
# back into } and #, and nothing else (a backslash before any other character would stay visible). Feedback
# is stored as HTML. So: HTML-escape the text (what Moodle should store), escape it once more to survive the
# decoding, write ~ and \ as character references (no raw ~ or \ can then end or bend the field), and escape
# } and # with a backslash.
_HTML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_CLOZE_ESCAPES = str.maketrans({"&": "&amp;", "~": "&#126;", "\\": "&#92;"})
_CLOZE_BACKSLASHED = str.maketrans({"}": "\\}", "#": "\\#"})


@lru_cache(maxsize=1024)
def cloze_text(feedback: str) -> str:
    """Feedback as it goes inside a Cloze field of HTML question text (see the note above)."""
    return feedback.translate(_HTML_ESCAPES).translate(_CLOZE_ESCAPES).translate(_CLOZE_BACKSLASHED)


def cloze_field(right: Number, wrong: Iterable[tuple[Number, str]] = (), weight: int = CLOZE_WEIGHT) -> Markup:
    """One NUMERICAL field, ``{1:NUMERICAL:=v:tol#fb~%0%w:tol#fb~%0%*#fb}``: the right value, the mistakes'
    values outside its tolerance (no duplicates, the first feedback wins), and a catch-all."""
    return _cloze_field(right, tuple(wrong), weight)


@lru_cache(maxsize=8192)  # a large quiz asks for the same few values with the same feedback over and over
def _cloze_field(right: Number, wrong: tuple[tuple[Number, str], ...], weight: int) -> Markup:
    r = written(right)
    parts = [f"{{{weight}:NUMERICAL:={r.text}:{r.tolerance}#{_CORRECT}"]
    seen = {right}
    for value, feedback in wrong:
        if value in seen:
            continue
        seen.add(value)
        if r.tol and r.accepts(value):
            continue
        w = written(value)
        parts.append(f"%0%{w.text}:{w.tolerance}#{cloze_text(feedback)}")
    parts.append(_CATCH_ALL)
    return Markup("~".join(parts))


_CORRECT = cloze_text(CORRECT_FEEDBACK)
_CATCH_ALL = f"%0%*#{cloze_text(OTHER_FEEDBACK)}}}"


@dataclass(frozen=True, slots=True)
class ClozeTableRow:
    layer: str
    dims: tuple[Markup, ...]
    params: Markup


@dataclass(frozen=True, slots=True)
class ClozeTable:
    rows: tuple[ClozeTableRow, ...]
    total: Markup


def _same_kind(problem: Problem, cls: type, fits) -> list[tuple[Any, str]]:
    return [(m.answer, m.feedback) for m in problem.mistakes if isinstance(m.answer, cls) and fits(m.answer)]


def cloze_shape(problem: Problem) -> tuple[Markup, ...]:
    """One field per dimension of a Shape answer."""
    dims = problem.answer.dims
    wrong = _same_kind(problem, Shape, lambda s: len(s.dims) == len(dims))
    return tuple(cloze_field(d, [(s.dims[i], fb) for s, fb in wrong]) for i, d in enumerate(dims))


def cloze_matrix(problem: Problem) -> tuple[tuple[tuple[Markup, ...], ...], ...]:
    """Per channel, per row, one field per cell; a cell's wrong values come from the mistakes' maps of the same
    shape."""
    answer: Matrix = problem.answer
    shape = answer.shape
    wrong = [(m.channels(), fb) for m, fb in _same_kind(problem, Matrix, lambda m: m.shape == shape)]
    layout = []
    for c, grid in enumerate(answer.channels()):
        rows = []
        for i, row in enumerate(grid):
            others = [(g[c][i], fb) for g, fb in wrong]  # row i of channel c of each wrong map
            cells = [_cloze_field(v, tuple([(o[j], fb) for o, fb in others]), CLOZE_WEIGHT) for j, v in enumerate(row)]
            rows.append(tuple(cells))
        layout.append(tuple(rows))
    return tuple(layout)


def cloze_table(problem: Problem) -> ClozeTable:
    """Per layer one field per output dimension and one for the parameters, and one for the total."""
    answer: Table = problem.answer
    wrong = _same_kind(
        problem,
        Table,
        lambda t: len(t.rows) == len(answer.rows)
        and all(len(a.output_shape.dims) == len(b.output_shape.dims) for a, b in zip(t.rows, answer.rows)),
    )
    rows = tuple(
        ClozeTableRow(
            row.layer,
            tuple(cloze_field(d, [(t.rows[i].output_shape.dims[k], fb) for t, fb in wrong]) for k, d in enumerate(row.output_shape.dims)),
            cloze_field(row.params, [(t.rows[i].params, fb) for t, fb in wrong]),
        )
        for i, row in enumerate(answer.rows)
    )
    return ClozeTable(rows, cloze_field(answer.total, [(t.total, fb) for t, fb in wrong]))


_CLOZE_LAYOUT = {AnswerKind.SHAPE: cloze_shape, AnswerKind.MATRIX: cloze_matrix, AnswerKind.TABLE: cloze_table}


# --- questions ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MoodleQuestion:
    """What one question template needs: ``qtype`` is the Moodle question type, ``template`` the template that
    lays it out (numerical, multichoice, cloze-shape, cloze-matrix or cloze-table)."""

    qtype: str
    name: str
    item: QuizItem
    problem: Problem
    kind: AnswerKind
    grade: str
    hint: str = ""  # how to type the answer, when that is not obvious
    answers: tuple = ()
    cloze: Any = None  # the fields laid out for the answer kind (see the cloze_* functions)

    @property
    def template(self) -> str:
        return f"cloze-{self.kind.value}" if self.qtype == "cloze" else self.qtype


def question(item: QuizItem, moodle_type: MoodleType, number_width: int = 1) -> MoodleQuestion:
    """The Moodle question for one quiz item."""
    p = item.problem
    name = f"Q{item.number:0{number_width}d} {p.id}: {p.title}"
    kind = p.kind
    if kind is AnswerKind.NUMBER:
        grade = _grade(item.points)
        if moodle_type is MoodleType.MULTICHOICE:
            return MoodleQuestion("multichoice", name, item, p, kind, grade, answers=choices(p))
        hint = DECIMAL_HINT if _has_fraction(p) else ""
        return MoodleQuestion("numerical", name, item, p, kind, grade, hint, answers=numerical_answers(p))
    # Moodle grades a Cloze question out of the weights of its fields, whatever <defaultgrade> says.
    grade = str(_field_count(p) * CLOZE_WEIGHT)
    hint = DECIMAL_HINT if _has_fraction(p) else ""
    return MoodleQuestion("cloze", name, item, p, kind, grade, hint, cloze=_CLOZE_LAYOUT[kind](p))


def _has_fraction(problem: Problem) -> bool:
    """Whether the right answer holds a non-integer (which a student must type as a decimal)."""
    answer = problem.answer
    if isinstance(answer, Matrix):
        return any(type(v) is not int and Fraction(v).denominator != 1 for v in answer.cells())
    return isinstance(answer, Fraction) and answer.denominator != 1


@lru_cache(maxsize=64)
def _grade(points: Number) -> str:
    return _decimal(Fraction(points), 7)


def _field_count(problem: Problem) -> int:
    """How many Cloze fields the problem's answer takes."""
    answer = problem.answer
    if isinstance(answer, Shape):
        return len(answer.dims)
    if isinstance(answer, Matrix):
        return math.prod(answer.shape)
    return sum(len(r.output_shape.dims) + 1 for r in answer.rows) + 1


@dataclass(frozen=True, slots=True)
class Category:
    """A <question type="category">: the questions after it are imported into ``path``."""

    path: str
    topic: str


def category(topic: str) -> Category:
    return Category(f"{CATEGORY_ROOT}/{topic}", topic)


def questions(items: Iterable[QuizItem], moodle_type: MoodleType, count: int) -> Iterator[Category | MoodleQuestion]:
    """The quiz as Moodle sees it, one entry at a time: a category whenever the topic changes, then questions."""
    width = len(str(count))
    topic = None
    for item in items:
        if item.problem.topic != topic:
            topic = item.problem.topic
            yield category(topic)
        yield question(item, moodle_type, width)
