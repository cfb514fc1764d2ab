"""Scoring one answer against the key: exact comparison in the key's JSON encoding, partial credit for
matrices (per value) and per-layer tables (per row, the total counting as one more row), a tolerance for
decimals typed for fraction answers, and the diagnosis of common mistakes.

The grader turns each problem it meets into a target once (:func:`target`): the answer and every mistake's
answer in the form the comparisons need — flat cell lists and shapes of matrices, (shape, params) rows of
tables, exact values of "p/q" numbers — so that judging an answer parses only what the student typed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from enum import Enum
from fractions import Fraction
from functools import lru_cache
from typing import Any, NamedTuple

from quizgen.grade.key import MistakeKey, ProblemKey, Question, question_from_record
from quizgen.grade.parse import AnswerSyntaxError, Reading, parse_answer, reading_context
from quizgen.problem import AnswerKind

DEFAULT_TOLERANCE = Fraction(1, 200)  # a decimal within 0.005 of a fraction answer: the value to 2 decimals


class Status(str, Enum):
    CORRECT = "correct"
    PARTIAL = "partial"
    WRONG = "wrong"
    BLANK = "blank"
    UNREADABLE = "unreadable"


class Mark(NamedTuple):
    """One question of one student, graded (a named tuple: the grader makes hundreds of thousands).

    ``read`` is the answer as understood (the key's JSON encoding; None when blank or unreadable);
    ``detail`` explains the score in a few words; ``mistakes`` are the diagnosed mistakes' names, and
    ``feedback`` their sentences, in the same order.
    """

    number: int
    points: int | Fraction
    score: int | Fraction
    status: Status
    typed: str
    read: Any
    detail: str
    mistakes: tuple[str, ...] = ()
    feedback: tuple[str, ...] = ()


def grade_question(question: Question | Mapping[str, Any], typed: str | None, tolerance: Fraction = DEFAULT_TOLERANCE) -> Mark:
    """Grade one typed answer against one question: a loaded key's :class:`Question`, or a record as
    :func:`quizgen.grade.key.question_record` writes it."""
    return Grader(tolerance).mark(question, typed)


# --- exact numbers ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=65_536)
def _fraction(text: str) -> Fraction:
    return Fraction(text)


def exact(value: int | str) -> int | Fraction:
    """A number in the key's JSON encoding (int or "p/q") as an exact value."""
    return value if type(value) is int else _fraction(value)


def same_number(value: Any, expected: Any, decimal: bool, tolerance: Fraction) -> bool:
    """Exact equality; a value typed as a decimal also matches a non-integer answer within ``tolerance``."""
    if value == expected:
        return True
    return decimal and type(expected) is str and abs(exact(value) - _fraction(expected)) <= tolerance


def flat(values: Any) -> list:
    """A matrix's values row-major, channels last (the order :class:`Reading` numbers decimals in)."""
    if values and type(values[0]) is list and (not values[0] or type(values[0][0]) is not list):
        return [v for row in values for v in row]
    return [v for row in values for cell in row for v in cell]


def matrix_shape(values: Any) -> tuple[int, ...]:
    shape = []
    while isinstance(values, list) and values:
        shape.append(len(values))
        values = values[0]
    return tuple(shape)


# --- targets: each problem's answer and mistakes, ready to compare ------------------------------------------------


Judgement = tuple  # (credit, detail, the diagnosed mistakes)


class _Target:
    """How one problem's answers are compared; one subclass per answer kind."""

    __slots__ = ("answer", "context", "mistakes")

    def __init__(self, problem: ProblemKey) -> None:
        self.answer = problem.answer
        self.context = reading_context(problem.kind, problem.answer)

    def judge(self, reading: Reading, tolerance: Fraction, tol_text: str) -> Judgement:
        raise NotImplementedError


class _NumberTarget(_Target):
    __slots__ = ("exact",)

    def __init__(self, problem: ProblemKey) -> None:
        super().__init__(problem)
        # Only a fraction answer (a "p/q" string) takes the tolerance; an integer one compares exactly.
        self.exact = _fraction(self.answer) if type(self.answer) is str else None
        self.mistakes = [(m, m.answer, _fraction(m.answer) if type(m.answer) is str else None) for m in problem.mistakes]

    def judge(self, reading: Reading, tolerance: Fraction, tol_text: str) -> Judgement:
        value = reading.value
        if value == self.answer:
            return 1, "right", ()
        decimal = bool(reading.decimals)
        if decimal and self.exact is not None and abs(exact(value) - self.exact) <= tolerance:
            return 1, f"right (a decimal within {tol_text} of {self.answer})", ()
        for m, other, other_exact in self.mistakes:
            if value == other or (decimal and other_exact is not None and abs(exact(value) - other_exact) <= tolerance):
                return 0, "wrong", (m,)
        return 0, "wrong", ()


class _ShapeTarget(_Target):
    def __init__(self, problem: ProblemKey) -> None:
        super().__init__(problem)
        self.mistakes = problem.mistakes

    def judge(self, reading: Reading, tolerance: Fraction, tol_text: str) -> Judgement:
        value = reading.value
        if value == self.answer:
            return 1, "right", ()
        for m in self.mistakes:
            if value == m.answer:
                return 0, "wrong", (m,)
        return 0, "wrong", ()


def _cells_right(got: list, decimals: frozenset[int], want: list, tolerance: Fraction) -> int:
    if not decimals:
        return sum(1 for a, b in zip(got, want) if a == b)
    return sum(1 for i, (a, b) in enumerate(zip(got, want)) if a == b or (i in decimals and same_number(a, b, True, tolerance)))


class _MatrixTarget(_Target):
    __slots__ = ("shape", "flat")

    def __init__(self, problem: ProblemKey) -> None:
        super().__init__(problem)
        self.shape = matrix_shape(self.answer)
        self.flat = flat(self.answer)
        self.mistakes = [(m, m.answer, matrix_shape(m.answer), flat(m.answer)) for m in problem.mistakes]

    def judge(self, reading: Reading, tolerance: Fraction, tol_text: str) -> Judgement:
        value = reading.value
        if value == self.answer:
            return 1, "right", ()
        got_shape = matrix_shape(value)
        got = flat(value) if reading.decimals or got_shape == self.shape else None
        if got_shape != self.shape:
            credit: Fraction | int = 0
            detail = f"a {' × '.join(map(str, got_shape))} matrix; the answer is {' × '.join(map(str, self.shape))}"
        else:
            right = _cells_right(got, reading.decimals, self.flat, tolerance)
            cells = len(self.flat)
            if right == cells:
                return 1, f"right (decimals within {tol_text})", ()
            credit, detail = Fraction(right, cells), f"{right} of {cells} values right"
        for m, other, shape, cells_of in self.mistakes:
            if value == other or (
                reading.decimals and shape == got_shape and _cells_right(got, reading.decimals, cells_of, tolerance) == len(cells_of)
            ):
                return credit, detail, (m,)
        return credit, detail, ()


def _rows(table: Mapping[str, Any]) -> list[tuple[Any, Any]]:
    return [(r["output_shape"], r["params"]) for r in table["rows"]]


class _TableTarget(_Target):
    __slots__ = ("rows", "total")

    def __init__(self, problem: ProblemKey) -> None:
        super().__init__(problem)
        self.rows = _rows(self.answer)
        self.total = self.answer["total"]
        self.mistakes = [(m, _rows(m.answer), m.answer["total"]) for m in problem.mistakes]

    def judge(self, reading: Reading, tolerance: Fraction, tol_text: str) -> Judgement:
        value = reading.value
        got, want = _rows(value), self.rows
        total = value.get("total")
        # One credit per row, the total counting as one more row.
        right = sum(1 for a, b in zip(got, want) if a == b) + (total == self.total)
        rows = len(want) + 1
        note = ""
        if len(got) != len(want):
            right = min(right, rows - 1)  # extra or missing layer rows never earn full credit
            note = f" ({len(got)} layer rows given, {len(want)} expected)"
        if right == rows:
            return 1, "right", ()
        if total is None:
            note += " (no total given)"
        credit = Fraction(right, rows)
        detail = f"{right} of {rows} rows right, the total counting as a row{note}"
        return credit, detail, self._diagnose(got, total)

    def _diagnose(self, got: list, total: Any) -> tuple[MistakeKey, ...]:
        """The whole table equal to a mistake's; else each wrong row (and the total) equal to the row a
        mistake leads to."""
        for m, rows, other_total in self.mistakes:
            if got == rows and total == other_total:
                return (m,)
        found: list[MistakeKey] = []
        want = self.rows
        for i, row in enumerate(got):
            if i < len(want) and row == want[i]:
                continue
            for m, rows, _ in self.mistakes:
                if i < len(rows) and rows[i] == row and m not in found:
                    found.append(m)
                    break
        if total is not None and total != self.total:
            for m, _, other_total in self.mistakes:
                if other_total == total and m not in found:
                    found.append(m)
                    break
        return tuple(found)


_TARGETS: dict[AnswerKind, type[_Target]] = {
    AnswerKind.NUMBER: _NumberTarget,
    AnswerKind.SHAPE: _ShapeTarget,
    AnswerKind.MATRIX: _MatrixTarget,
    AnswerKind.TABLE: _TableTarget,
}


def target(problem: ProblemKey) -> _Target:
    """A problem's answer and mistakes in the form its kind's comparisons need."""
    return _TARGETS[problem.kind](problem)


# --- the grader --------------------------------------------------------------------------------------------------

Judged = tuple  # (credit, status, read, detail, mistake names, feedback sentences); credit 0, 1 or a Fraction


class Grader:
    """Grades answers with one tolerance. It remembers what it has judged: each (problem, typed text) is
    parsed and compared once, and each (question, typed text) gives one Mark, shared by every student who
    typed that answer to that question — in a quiz everyone takes (or a section whose problem is pinned)
    many type the very same answer, and parsing dominates the cost. Marks are immutable, so sharing them
    is safe."""

    MEMORY = 500_000  # remembered judgements, and remembered marks, at most

    def __init__(self, tolerance: Fraction = DEFAULT_TOLERANCE) -> None:
        self.tolerance = tolerance
        self._tol_text = f"{float(tolerance):g}"
        self._seen: dict[tuple[ProblemKey, str], Judged] = {}
        self._marks: dict[Question, dict[str | None, Mark]] = {}  # question -> typed text -> its mark
        self._remembered = 0
        self._targets: dict[ProblemKey, _Target] = {}
        self._readings: dict[tuple[AnswerKind, Any, str], Reading | AnswerSyntaxError] = {}

    def mark(self, question: Question | Mapping[str, Any], typed: str | None) -> Mark:
        if type(question) is not Question:
            question = question_from_record(question)
        (mark,), _ = self.grade({question.number: question}, {question.number: typed} if typed is not None else {})
        return mark

    def grade(self, questions: Mapping[int, Question], answers: Mapping[int, str]) -> tuple[tuple[Mark, ...], int | Fraction]:
        """Marks for a variant's questions (by number) given the typed answers by number (a missing one is
        blank), and their total."""
        remembered = self._marks
        typed_for = answers.get
        marks = []
        add = marks.append
        whole = 0
        parts = None
        for number, question in questions.items():
            typed = typed_for(number)
            known = remembered.get(question)
            mark = known.get(typed) if known is not None else None
            if mark is None:
                mark = self._mark(question, typed)
                if self._remembered < self.MEMORY:
                    self._remembered += 1
                    if known is None:
                        remembered[question] = {typed: mark}
                    else:
                        known[typed] = mark
            add(mark)
            score = mark[2]
            if type(score) is int:
                whole += score
            elif parts is None:
                parts = [score]
            else:
                parts.append(score)
        return tuple(marks), (whole if parts is None else whole + fraction_sum(parts))

    def _mark(self, question: Question, typed: str | None) -> Mark:
        points = question.points
        if not typed or typed.isspace():
            return Mark(question.number, points, 0, Status.BLANK, typed or "", None, "no answer")
        problem = question.problem
        judged = self._seen.get((problem, typed))
        if judged is None:
            judged = self._judge(problem, typed)
            if len(self._seen) < self.MEMORY:
                self._seen[problem, typed] = judged
        credit, status, read, detail, names, feedback = judged
        if type(credit) is int:
            score = points if credit else 0
        else:
            score = points * credit
            if score.denominator == 1:
                score = score.numerator
        return Mark(question.number, points, score, status, typed, read, detail, names, feedback)

    def _judge(self, problem: ProblemKey, typed: str) -> Judged:
        goal = self._targets.get(problem)
        if goal is None:
            goal = self._targets[problem] = target(problem)
        # The same text reads alike for every problem with the same kind and reading context (a shape, the
        # number 0, an answer typed for two problems with the same right answer): read it once.
        key = (problem.kind, goal.context, typed)
        reading = self._readings.get(key)
        if reading is None:
            try:
                reading = parse_answer(typed, problem.kind, problem.answer)
            except AnswerSyntaxError as exc:
                reading = exc
            if len(self._readings) < self.MEMORY:
                self._readings[key] = reading
        if type(reading) is not Reading:
            return 0, Status.UNREADABLE, None, f"could not read answer: {reading}", (), ()
        credit, detail, found = goal.judge(reading, self.tolerance, self._tol_text)
        if credit == 1:
            return 1, Status.CORRECT, reading.value, detail, (), ()
        return (
            credit if credit else 0,
            Status.PARTIAL if credit else Status.WRONG,
            reading.value,
            detail,
            tuple(m.name for m in found),
            tuple(m.feedback for m in found),
        )


def fraction_sum(values: Sequence[Fraction]) -> int | Fraction:
    """An exact sum of Fractions over their common denominator (one reduction, not one per addition)."""
    den = math.lcm(*(v.denominator for v in values))
    total = Fraction(sum(v.numerator * (den // v.denominator) for v in values), den)
    return total.numerator if total.denominator == 1 else total
