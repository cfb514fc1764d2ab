"""Layout decisions the templates need but should not compute: what a wrong table changes, how much room a
written answer takes on paper."""

from __future__ import annotations

from dataclasses import dataclass

from quizgen.problem import AnswerKind, Problem, Table, TableRow


@dataclass(frozen=True, slots=True)
class TableChanges:
    """The rows of a wrong per-layer table that differ from the right one, and its total if that differs."""

    rows: tuple[TableRow, ...]
    total: int | None


def table_changes(right: Table, wrong: Table) -> TableChanges:
    """What a mistake changes in a per-layer table (a whole different table when the layers differ)."""
    if [r.layer for r in right.rows] != [r.layer for r in wrong.rows]:
        return TableChanges(wrong.rows, wrong.total)
    rows = tuple(w for r, w in zip(right.rows, wrong.rows) if r != w)
    return TableChanges(rows, None if wrong.total == right.total else wrong.total)


ANSWER_LINES_MIN = 3  # lines left for a number or a shape on a printed quiz without solutions


def answer_lines(problem: Problem) -> int:
    """Lines of writing room for the problem's answer on a printed quiz: a matrix needs its rows (per
    channel), a table one line per layer plus the total."""
    answer = problem.answer
    if problem.kind is AnswerKind.MATRIX:
        h = answer.shape[0]
        channels = answer.shape[2] if answer.has_channels else 1
        return max(ANSWER_LINES_MIN, channels * (h + 1) + 1)
    if problem.kind is AnswerKind.TABLE:
        return len(answer.rows) + 3
    return ANSWER_LINES_MIN
