"""Grading students' answer CSVs against an answer key made by ``quizgen make --roster`` or ``make --key``.

The modules, in the order data flows through them:

==========  ==============================================================================================
csvio       reading CSV files as people save them (encodings, delimiters, BOM) and writing CSV safely
key         the answer key manifest (key.json): writing it, loading and checking it once
sheet       the answers file's layout (wide or long) and its rows as submissions or rejections
parse       reading one typed answer (numbers, shapes, matrices, per-layer tables) — a tokenizer, no eval
score       comparing a reading with the key: exact, partial credit, tolerance, mistake diagnosis
report      grades.csv, moodle_grades.csv, feedback/<id>.md, rejected.csv and the terminal summary
==========  ==============================================================================================
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from quizgen.errors import UserError
from quizgen.grade.csvio import read_sheet
from quizgen.grade.key import AnswerKey, gc_paused, load_key
from quizgen.grade.parse import AnswerSyntaxError, read_number
from quizgen.grade.report import GradeReport, StudentResult, check_out, write_outputs
from quizgen.grade.score import DEFAULT_TOLERANCE, Grader, Mark, Status, grade_question
from quizgen.grade.sheet import Rejection, Submission, detect_layout, submissions

__all__ = [
    "DEFAULT_TOLERANCE",
    "GradeReport",
    "Grader",
    "Mark",
    "Status",
    "StudentResult",
    "grade_files",
    "grade_question",
    "grade_submission",
    "load_key",
    "parse_tolerance",
]


def parse_tolerance(text: str) -> Fraction:
    """--tolerance: a decimal or fraction >= 0, read exactly ("0.005", "1/200")."""
    try:
        value, _ = read_number(str(text), integer_hint=False)
    except AnswerSyntaxError:
        value = -1
    if value < 0:
        raise UserError(f"--tolerance must be a number >= 0 such as 0.005 or 1/200 (got {text!r})")
    return Fraction(value)


def grade_submission(key: AnswerKey, submission: Submission, grader: Grader | None = None) -> StudentResult:
    """Grade every question of one student's variant (a question left out of the file is 'no answer')."""
    student = submission.student or key.students[submission.student_id]
    marks, total = (grader or Grader()).grade(student.questions, submission.answers)
    return StudentResult(student, submission.typed_id, submission.rows, marks, total)


def grade_files(
    answers: str | Path, key: str | Path, out: str | Path, *, tolerance: Fraction = DEFAULT_TOLERANCE
) -> GradeReport:
    """Grade an answers CSV against a key and write the results to the folder ``out``.

    Structural problems (unreadable files, no ID column, a question column the key does not have) raise a
    UserError before anything is written; rows that cannot be graded are kept in rejected.csv.
    """
    out = Path(out)
    check_out(out)
    with gc_paused():  # a large key and many small results, none of them in cycles: see gc_paused
        answer_key = load_key(key)
        sheet = read_sheet(answers, "answers file")
        layout = detect_layout(sheet, answer_key)
        report = GradeReport(str(answers), answer_key, out, notes=list(sheet.notes), layout="long" if layout.long else "wide")
        if sheet.delimiter != ",":
            name = "tab" if sheet.delimiter == "\t" else repr(sheet.delimiter)
            report.notes.append(f"{answers} uses {name} as the delimiter")
        if layout.ignored:
            report.notes.append(f"ignored column(s): {', '.join(repr(h) for h in layout.ignored)}")
        grader = Grader(tolerance)
        for item in submissions(sheet, layout, answer_key, report.notes):
            if isinstance(item, int):
                report.blank_rows += 1
                report.rows += 1
            elif isinstance(item, Rejection):
                report.rejected.append(item)
                report.rows += 1
            else:
                report.results.append(grade_submission(answer_key, item, grader))
                report.rows += len(item.rows)
        write_outputs(report)
    return report
