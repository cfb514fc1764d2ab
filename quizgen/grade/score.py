"""Scoring one answer against the key: exact comparison in the key's JSON encoding, partial credit for
matrices (per value) and per-layer tables (per row, the total counting as one more row), a tolerance for
decimals typed for fraction answers, and the diagnosis of common mistakes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from fractions import Fraction
from typing import Any, NamedTuple

from quizgen.grade.key import points_of
from quizgen.grade.parse import AnswerSyntaxError, Reading, parse_answer
from quizgen.problem import AnswerKind

DEFAULT_TOLERANCE = Fraction(1, 200)  # a decimal within 0.005 of a fraction answer: the value to 2 decimals
_KINDS = {k.value: k for k in AnswerKind}


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


def grade_question(question: Mapping[str, Any], typed: str | None, tolerance: Fraction = DEFAULT_TOLERANCE) -> Mark:
    """Grade one typed answer against one key entry (see :mod:`quizgen.grade.key`)."""
    return Grader(tolerance).mark(question, typed)


class Grader:
    """Grades answers with one tolerance, remembering each (problem, typed text) it has judged: students
    whose variants share a problem often type the very same answer, and parsing dominates the cost."""

    MEMORY = 500_000  # remembered judgements at most

    def __init__(self, tolerance: Fraction = DEFAULT_TOLERANCE) -> None:
        self.tolerance = tolerance
        self._seen: dict[tuple[Any, str], tuple[Fraction | int, Status, Any, str, tuple[str, ...], tuple[str, ...]]] = {}

    def mark(self, question: Mapping[str, Any], typed: str | None) -> Mark:
        number = question["number"]
        points = question.get("points", 1)
        if type(points) is not int:
            points = points_of(question)
        if not typed or typed.isspace():
            return Mark(number, points, 0, Status.BLANK, typed or "", None, "no answer")
        memo = (question.get("problem_id") or id(question), typed)
        judged = self._seen.get(memo)
        if judged is None:
            judged = self._judge(question, typed)
            if len(self._seen) < self.MEMORY:
                self._seen[memo] = judged
        credit, status, read, detail, names, feedback = judged
        if credit == 1:
            score = points
        else:
            score = points * credit
            if type(score) is Fraction and score.denominator == 1:
                score = score.numerator
        return Mark(number, points, score, status, typed, read, detail, names, feedback)

    def _judge(self, question: Mapping[str, Any], typed: str) -> tuple:
        kind = _KINDS[question["answer_kind"]]
        expected = question["answer"]
        try:
            reading = parse_answer(typed, kind, expected)
        except AnswerSyntaxError as exc:
            return 0, Status.UNREADABLE, None, f"could not read answer: {exc}", (), ()
        credit, detail = _credit(kind, reading, expected, self.tolerance)
        if credit == 1:
            return 1, Status.CORRECT, reading.value, detail, (), ()
        found = diagnose(kind, reading, question.get("mistakes", ()), expected, self.tolerance)
        return (
            credit,
            Status.PARTIAL if credit else Status.WRONG,
            reading.value,
            detail,
            tuple(m["name"] for m in found),
            tuple(m.get("feedback", "") for m in found),
        )


# --- comparison ------------------------------------------------------------------------------------------------


def same_number(value: Any, expected: Any, decimal: bool, tolerance: Fraction) -> bool:
    """Exact equality; a value typed as a decimal also matches a non-integer answer within ``tolerance``."""
    if value == expected:
        return True
    if decimal and isinstance(expected, str):
        try:
            return abs(Fraction(value) - Fraction(expected)) <= tolerance
        except (ValueError, ZeroDivisionError):
            return False
    return False


def flat(values: Any) -> list:
    """A matrix's values row-major, channels last (the order :class:`Reading` numbers decimals in)."""
    if isinstance(values, list) and values and isinstance(values[0], list) and not isinstance(values[0][0] if values[0] else None, list):
        if all(type(row) is list for row in values):
            return [v for row in values for v in row]
    out: list = []
    stack = [values]
    while stack:  # any nesting, leaves in order (a damaged key must not crash the grader)
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        else:
            out.append(item)
    return out


def matrix_shape(values: Any) -> tuple[int, ...]:
    shape = []
    while isinstance(values, list) and values:
        shape.append(len(values))
        values = values[0]
    return tuple(shape)


def _cells_right(reading: Reading, expected: Any, tolerance: Fraction) -> int:
    got, want = flat(reading.value), flat(expected)
    if not reading.decimals:
        return sum(1 for a, b in zip(got, want) if a == b)
    decimals = reading.decimals
    return sum(1 for i, (a, b) in enumerate(zip(got, want)) if same_number(a, b, i in decimals, tolerance))


def _same_matrix(reading: Reading, other: Any, tolerance: Fraction) -> bool:
    if reading.value == other:
        return True
    if not reading.decimals or matrix_shape(reading.value) != matrix_shape(other):
        return False
    return _cells_right(reading, other, tolerance) == len(flat(other))


def _table_rows(table: Any) -> list[tuple[Any, Any]]:
    """(output shape, params) per layer row of a table answer; [] for anything that is not one."""
    rows = table.get("rows") if isinstance(table, Mapping) else None
    if not isinstance(rows, list):
        return []
    return [(r.get("output_shape"), r.get("params")) for r in rows if isinstance(r, Mapping)]


def _credit(kind: AnswerKind, reading: Reading, expected: Any, tolerance: Fraction) -> tuple[Fraction | int, str]:
    value = reading.value
    if kind is AnswerKind.NUMBER:
        if value == expected:
            return 1, "right"
        if same_number(value, expected, bool(reading.decimals), tolerance):
            return 1, f"right (a decimal within {float(tolerance):g} of {expected})"
        return 0, "wrong"
    if kind is AnswerKind.SHAPE:
        return (1, "right") if value == expected else (0, "wrong")
    if kind is AnswerKind.MATRIX:
        if value == expected:
            return 1, "right"
        want, got = matrix_shape(expected), matrix_shape(value)
        if want != got:
            return 0, f"a {' × '.join(map(str, got))} matrix; the answer is {' × '.join(map(str, want))}"
        right = _cells_right(reading, expected, tolerance)
        cells = len(flat(expected))
        if right == cells:
            return 1, f"right (decimals within {float(tolerance):g})"
        return Fraction(right, cells), f"{right} of {cells} values right"
    # A per-layer table: one credit per row, the total counting as one more row.
    want_rows = _table_rows(expected)
    got_rows = _table_rows(value)
    right = sum(1 for a, b in zip(got_rows, want_rows) if a == b)
    right += value.get("total") == expected.get("total")
    rows = len(want_rows) + 1
    note = ""
    if len(got_rows) != len(want_rows):
        right = min(right, rows - 1)  # extra or missing layer rows never earn full credit
        note = f" ({len(got_rows)} layer rows given, {len(want_rows)} expected)"
    if right == rows:
        return 1, "right"
    if value.get("total") is None:
        note += " (no total given)"
    return Fraction(right, rows), f"{right} of {rows} rows right, the total counting as a row{note}"


def diagnose(
    kind: AnswerKind, reading: Reading, mistakes: Sequence[Mapping[str, Any]], expected: Any, tolerance: Fraction
) -> list[Mapping[str, Any]]:
    """The catalogued mistakes a wrong answer matches: the whole answer equal to a mistake's answer; for
    per-layer tables, also each wrong row (or total) equal to the row a mistake leads to."""
    value = reading.value
    decimal = bool(reading.decimals)
    for m in mistakes:
        other = m.get("answer")
        if kind is AnswerKind.NUMBER:
            hit = same_number(value, other, decimal, tolerance)
        elif kind is AnswerKind.MATRIX:
            hit = isinstance(other, list) and _same_matrix(reading, other, tolerance)
        elif kind is AnswerKind.TABLE:
            hit = _table_rows(value) == _table_rows(other) and isinstance(other, Mapping) and value.get("total") == other.get("total")
        else:
            hit = value == other
        if hit:
            return [m]
    if kind is not AnswerKind.TABLE:
        return []
    found: list[Mapping[str, Any]] = []
    got, want = _table_rows(value), _table_rows(expected)
    for i, row in enumerate(got):
        if i < len(want) and row == want[i]:
            continue
        for m in mistakes:
            theirs = _table_rows(m.get("answer"))
            if i < len(theirs) and theirs[i] == row and m not in found:
                found.append(m)
                break
    total = value.get("total")
    if total is not None and total != expected.get("total"):
        for m in mistakes:
            other = m.get("answer")
            if isinstance(other, Mapping) and other.get("total") == total and m not in found:
                found.append(m)
                break
    return found
