"""Grading results and the files they are written to: grades.csv, moodle_grades.csv, feedback/<id>.md,
rejected.csv, and the summary printed on the terminal."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from functools import lru_cache
from fractions import Fraction
from pathlib import Path
from typing import Any

from quizgen import text
from quizgen.errors import UserError
from quizgen.grade.csvio import csv_chunks
from quizgen.grade.key import AnswerKey, ProblemKey, Question, StudentKey, file_stems, safe_stem
from quizgen.grade.score import Mark, Status, fraction_sum
from quizgen.grade.sheet import Rejection
from quizgen.output import write_atomic

GRADES_FILE = "grades.csv"
MOODLE_FILE = "moodle_grades.csv"
REJECTED_FILE = "rejected.csv"
FEEDBACK_DIR = "feedback"
TOP_WRONG = 3  # most common wrong answers / mistakes listed per question in the summary
SHOWN_REJECTIONS = 5


@dataclass(frozen=True)
class StudentResult:
    """One graded student: a mark per question of their variant, and the total."""

    key: StudentKey
    typed_id: str
    rows: tuple[int, ...]
    marks: tuple[Mark, ...]
    total: int | Fraction

    @property
    def id(self) -> str:
        return self.key.id

    @property
    def label(self) -> str:
        return f"{self.key.name} ({self.key.id})" if self.key.name else self.key.id

    @property
    def possible(self) -> int | Fraction:
        return self.key.total_points

    @property
    def percent(self) -> Fraction:
        return Fraction(100) * self.total / self.possible if self.possible else Fraction(0)


@dataclass
class GradeReport:
    """What a grading run did; :meth:`summary` is what the command prints."""

    answers: str
    key: AnswerKey
    out: Path
    results: list[StudentResult] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    blank_rows: int = 0
    rows: int = 0
    notes: list[str] = field(default_factory=list)
    layout: str = "wide"

    @property
    def missing(self) -> list[str]:
        """Students in the key with no graded row (none for a shared key: it lists no students)."""
        graded = {r.id for r in self.results}
        return [sid for sid in self.key.students if sid not in graded]

    def summary(self) -> list[str]:
        lines = [
            f"graded {len(self.results)} student(s) from {self.answers} ({self.layout} layout: {self.rows} row(s), "
            f"{self.blank_rows} blank row(s) skipped)",
        ]
        lines.append(f"rejected {len(self.rejected)} row(s)" + (f": see {self.out / REJECTED_FILE}" if self.rejected else ""))
        for r in self.rejected[:SHOWN_REJECTIONS]:
            lines.append(f"  row {r.row}: {r.reason}")
        if len(self.rejected) > SHOWN_REJECTIONS:
            lines.append(f"  … and {len(self.rejected) - SHOWN_REJECTIONS} more")
        missing = self.missing
        if missing:
            shown = ", ".join(missing[:5]) + (", …" if len(missing) > 5 else "")
            lines.append(f"{len(missing)} student(s) in the key have no answers: {shown}")
        if self.results:
            n = len(self.results)
            mean = exact_sum(r.total for r in self.results) / n
            possible = exact_sum(r.possible for r in self.results) / n
            pct = 100 * mean / possible if possible else Fraction(0)
            lines.append(f"class mean {fmt_points(mean)} / {fmt_points(possible)} points ({fmt_points(pct)}%)")
            lines.extend(self._per_question())
        for note in self.notes:
            lines.append(f"note: {note}")
        lines.append(
            f"wrote {self.out / GRADES_FILE}, {self.out / MOODLE_FILE}, {self.out / REJECTED_FILE} and "
            f"{len(self.results)} feedback file(s) in {self.out / FEEDBACK_DIR}/"
        )
        return lines

    def _per_question(self) -> list[str]:
        by_number: dict[int, Sequence[Mark]] = {}
        count = self.key.questions
        if all(len(r.marks) == count and r.marks[-1][0] == count for r in self.results):
            # Every student has questions 1 … count, in order: the columns of the marks are the questions.
            by_number = dict(zip(range(1, count + 1), zip(*(r.marks for r in self.results))))
        else:
            for r in self.results:
                for m in r.marks:
                    by_number.setdefault(m[0], []).append(m)  # type: ignore[attr-defined]
        shown: dict[int, str] = {}  # id(read) -> text; the grader shares one reading per typed answer
        wrong_or_partial = (Status.WRONG, Status.PARTIAL)
        lines = []
        for number in sorted(by_number):
            marks = by_number[number]
            # The grader shares one Mark among the students who typed the same answer: count each distinct
            # mark once, weighted by how many students have it (in order of first appearance, so ties among
            # the most common answers and mistakes fall as they would mark by mark).
            times = Counter(map(id, marks))
            score_sum: list = [0]  # the ints, then the Fractions (added at the end, over one denominator)
            points_sum: list = [0]
            counts: Counter[Status] = Counter()
            mistakes: Counter[str] = Counter()
            wrong: Counter[str] = Counter()
            named: dict[str, str] = {}
            for key, m in dict(zip(map(id, marks), marks)).items():
                n = times[key]
                _, points, score, status, _, read, _, names, _ = m
                if type(score) is int:
                    score_sum[0] += score * n
                else:
                    score_sum.append(score * n)
                if type(points) is int:
                    points_sum[0] += points * n
                else:
                    points_sum.append(points * n)
                counts[status] += n
                for name in names:
                    mistakes[name] += n
                if status in wrong_or_partial:
                    text_ = shown.get(id(read))
                    if text_ is None:
                        text_ = shown[id(read)] = short(compact(read))
                    wrong[text_] += n
                    if names:
                        named.setdefault(text_, names[0])
            mean = exact_sum(score_sum) / len(marks)
            points = exact_sum(points_sum) / len(marks)
            lines.append(
                f"  q{number}: mean {fmt_points(mean)} / {fmt_points(points)}; {counts[Status.CORRECT]} right, "
                f"{counts[Status.PARTIAL]} partly right, {counts[Status.WRONG]} wrong, {counts[Status.BLANK]} blank, "
                f"{counts[Status.UNREADABLE]} unreadable"
            )
            if mistakes:
                lines.append("      mistakes: " + ", ".join(f"{name} ×{c}" for name, c in mistakes.most_common(TOP_WRONG)))
            common = [(a, c) for a, c in wrong.most_common(TOP_WRONG) if c > 1]
            if common:
                lines.append(
                    "      most common wrong answers: "
                    + ", ".join(f"{a} ×{c}" + (f" ({named[a]})" if a in named else "") for a, c in common)
                )
        return lines


_score = itemgetter(2)  # a Mark's score
_INT = {int}


def exact_sum(values: Iterable[int | Fraction]) -> Fraction:
    """An exact sum that adds the ints as ints (most scores are) and the rest over their common denominator."""
    whole = 0
    rest: list[Fraction] = []
    for v in values:
        if type(v) is int:
            whole += v
        else:
            rest.append(v)
    return Fraction(whole) + (fraction_sum(rest) if rest else 0)


def short(text_: str, width: int = 60) -> str:
    return text_ if len(text_) <= width else text_[: width - 1] + "…"


# --- formatting ------------------------------------------------------------------------------------------------


def fmt_points(value: Any) -> str:
    """Points as a spreadsheet reads them: 2, 1.5, 0.67 (two decimals at most, half up, '.' as the mark)."""
    if type(value) is int:
        return str(value)
    value = value if type(value) is Fraction else Fraction(value)
    return _fmt_ratio(value.numerator, value.denominator)


def fmt_percent(total: Any, possible: Any) -> str:
    """total / possible as a percentage, formatted like :func:`fmt_points`."""
    if not possible:
        return "0"
    if type(possible) is int and (type(total) is int or type(total) is Fraction):
        if type(total) is int:
            return _fmt_ratio(100 * total, possible)
        return _fmt_ratio(100 * total.numerator, total.denominator * possible)
    return fmt_points(Fraction(100) * total / possible)


@lru_cache(maxsize=4096)
def _fmt_ratio(numerator: int, denominator: int) -> str:
    """numerator / denominator (denominator > 0) with two decimals at most, rounded half up — in integers,
    and cached by the two ints (hashing a Fraction costs more than formatting it)."""
    if numerator % denominator == 0:
        return str(numerator // denominator)
    sign = "-" if numerator < 0 else ""
    hundredths = (200 * abs(numerator) + denominator) // (2 * denominator)  # ⌊|n/d| · 100 + 1/2⌋
    return f"{sign}{hundredths // 100}.{hundredths % 100:02d}".rstrip("0").rstrip(".")


_encode_compact = json.JSONEncoder(separators=(",", ":")).encode


def compact(value: Any) -> str:
    """An answer in the key's JSON encoding as one short line: 27/8, [[6,4],[4,4]], [13,13,8]."""
    if isinstance(value, (int, str)):
        return str(value)
    return _encode_compact(value)


def _number(value: Any) -> str:
    if type(value) is int:
        return text.num(value)
    if isinstance(value, str) and "/" in value:
        try:
            exact = Fraction(value)
        except (ValueError, ZeroDivisionError):
            return value
        return f"{text.num(exact)} (≈ {float(exact):.2f})"
    return str(value)


def show_answer(kind: str, value: Any) -> str:
    """An answer in the key's JSON encoding as plain text: one matrix row per line and channels as separate
    grids (as the quiz shows them); a table as 'layer  shape  params' lines and the total."""
    if kind == "number":
        return _number(value)
    if kind == "shape" and isinstance(value, list):
        return text.shape_tuple(value)
    if kind == "matrix" and isinstance(value, list) and value:
        try:
            if isinstance(value[0], list) and value[0] and isinstance(value[0][0], list):
                grids = []
                for c in range(len(value[0][0])):
                    rows = "\n".join(" ".join(str(cell[c]) for cell in row) for row in value)
                    grids.append(f"channel {c + 1}:\n{rows}")
                return "\n\n".join(grids)
            return "\n".join(" ".join(str(v) for v in row) if isinstance(row, list) else str(row) for row in value)
        except (TypeError, IndexError):
            return compact(value)  # a ragged matrix in a hand-edited key: show it as it is
    if kind == "table" and isinstance(value, Mapping):
        lines = []
        for r in value.get("rows") if isinstance(value.get("rows"), list) else ():
            if not isinstance(r, Mapping):
                return compact(value)
            label = f"{r['layer']}  " if r.get("layer") else ""
            shape = r.get("output_shape")
            lines.append(f"{label}{text.shape_tuple(shape) if isinstance(shape, list) else shape}  {_number(r.get('params'))}")
        total = value.get("total")
        lines.append(f"total {_number(total)}" if total is not None else "total: not given")
        return "\n".join(lines)
    return compact(value)


def codeblock(value: str) -> str:
    """A fenced Markdown code block that no run of backticks in ``value`` can close early."""
    fence = "```"
    if fence not in value:
        return f"```\n{value.strip()}\n```"
    while fence in value:
        fence += "`"
    return f"{fence}\n{value.strip()}\n{fence}"


def _plural(points: Any) -> str:
    return "point" if points == 1 else "points"


class FeedbackWriter:
    """Feedback pages in Markdown: per question the points, what was typed and why it scored what it did;
    for a question not fully right also the right answer, the diagnosed mistakes and the worked solution.

    Each problem's right answer and solution are formatted once, and so is each question's section for a
    given mark: the grader gives students who typed the same answer to the same question one shared Mark
    (up to SECTIONS remembered sections)."""

    SECTIONS = 250_000

    def __init__(self, title: str) -> None:
        self.title = title
        self._blocks: dict[ProblemKey, tuple[str, str]] = {}
        self._heads: dict[Question, tuple[str, str]] = {}
        self._sections: dict[int, tuple[Mark, Question, str]] = {}  # id(mark) -> the mark, its question, its text

    def _problem(self, p: ProblemKey) -> tuple[str, str]:
        block = self._blocks.get(p)
        if block is None:
            answer = "Right answer:\n\n" + codeblock(show_answer(p.kind.value, p.answer)) + "\n\n"
            steps = p.solution
            solution = "Worked solution:\n\n" + "".join(f"{i}. {step}\n" for i, step in enumerate(steps, 1)) + "\n" if steps else ""
            block = self._blocks[p] = (answer, solution)
        return block

    def _head(self, q: Question) -> tuple[str, str]:
        """'## Question n — title' and the ' / points point(s): ' that follows a score."""
        head = self._heads.get(q)
        if head is None:
            title = f" — {q.problem.title}" if q.problem.title else ""
            head = self._heads[q] = (f"## Question {q.number}{title}\n\n", f" / {fmt_points(q.points)} {_plural(q.points)}: ")
        return head

    def section(self, q: Question, mark: Mark) -> str:
        """One question of a page: heading, score, the answer as typed and, unless it is simply right, the
        right answer, the diagnosis and the worked solution."""
        head, of_points = self._heads.get(q) or self._head(q)
        _, _, score, status, typed, _, detail, names, feedback = mark
        text = f"{head}{str(score) if type(score) is int else fmt_points(score)}{of_points}{detail}\n\n"
        if typed and not typed.isspace():
            text += f"Your answer:\n\n{codeblock(typed)}\n\n"
        if status is Status.CORRECT and detail == "right":
            return text  # a right answer needs no solution: the page stays about what went wrong
        answer, solution = self._blocks.get(q.problem) or self._problem(q.problem)
        if names:
            answer += "".join(f"Diagnosis — *{name}*: {sentence}\n\n" for name, sentence in zip(names, feedback))
        return text + answer + solution

    def page(self, result: StudentResult) -> str:
        total, possible = result.total, result.possible
        parts = [
            f"# {self.title} — feedback for {result.label}\n\n"
            f"Score: **{fmt_points(total)} / {fmt_points(possible)}** ({fmt_percent(total, possible)}%)\n\n"
        ]
        add = parts.append
        questions = result.key.questions
        sections = self._sections
        for mark in result.marks:
            q = questions[mark[0]]
            known = sections.get(id(mark))
            if known is not None and known[0] is mark and known[1] is q:
                add(known[2])
                continue
            text = self.section(q, mark)
            if len(sections) < self.SECTIONS:
                sections[id(mark)] = (mark, q, text)  # holding the mark keeps its id from being reused
            add(text)
        return "".join(parts)


# --- writing -------------------------------------------------------------------------------------------------


def check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: --out must be a folder (it is a file)")


def feedback_stems(key: AnswerKey, results: Sequence[StudentResult] = ()) -> dict[str, str]:
    """Feedback file names: the stem of the student's quiz file as the key records it, when that is a plain
    file name; otherwise a safe name made from the ID (for a shared key, from the graded students' IDs)."""
    if key.shared is not None:
        return file_stems(r.id for r in results)
    stems = file_stems(key.students)
    for sid, student in key.students.items():
        name = Path(student.file).name
        stem = Path(name).stem
        if stem and name == student.file and stem == safe_stem(stem):
            stems[sid] = stem
    return stems


def write_folder(folder: Path, files: Iterable[tuple[str, str]]) -> int:
    """Write a folder of files as one unit: into a new sibling folder, which then replaces ``folder`` by
    renames — a crash leaves the old folder or the new one, never a half-written one. Returns the count."""
    parent = folder.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        fresh = parent / f".{folder.name}.{uuid.uuid4().hex[:12]}.tmp"
        fresh.mkdir()
    except OSError as exc:
        raise UserError(f"{parent}: cannot write here ({exc.strerror})") from None
    count = 0
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        for name, content in files:
            data = memoryview(content.encode("utf-8"))
            fd = os.open(os.path.join(fresh, name), flags, 0o666)
            try:
                while data:
                    data = data[os.write(fd, data):]
            finally:
                os.close(fd)
            count += 1
        old = None
        if folder.exists():
            old = parent / f".{folder.name}.{uuid.uuid4().hex[:12]}.old"
            os.replace(folder, old)
        os.replace(fresh, folder)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return count


def write_outputs(report: GradeReport) -> None:
    """Every output: the feedback folder, rejected.csv, moodle_grades.csv, then grades.csv last — each
    written whole or not at all."""
    out = report.out
    key = report.key
    numbers = list(key.numbers)
    stems = feedback_stems(key, report.results)
    writer = FeedbackWriter(key.title)
    write_folder(out / FEEDBACK_DIR, ((f"{stems[r.id]}.md", writer.page(r)) for r in report.results))
    write_atomic(
        out / REJECTED_FILE,
        csv_chunks(("row", "id", "reason", "raw"), ((r.row, r.id, r.reason, r.raw) for r in report.rejected), bom=True),
    )
    write_atomic(out / MOODLE_FILE, csv_chunks(("ID number", key.title), ((r.id, fmt_points(r.total)) for r in report.results)))
    header = ("id", "name", *(f"q{n}" for n in numbers), "total", "percent")
    write_atomic(out / GRADES_FILE, csv_chunks(header, _grade_rows(report.results, numbers), bom=True))


def _grade_rows(results: Sequence[StudentResult], numbers: Sequence[int]) -> Iterator[list[str]]:
    count = len(numbers)
    for r in results:
        marks, total, student = r.marks, r.total, r.key
        if marks and marks[-1][0] == len(marks) <= count and numbers[0] == 1:
            # questions 1 … k (k <= count; marks are in question order): the scores are the cells, in order
            row = [student.id, student.name]
            scores = list(map(_score, marks))
            row += map(str, scores)
            if set(map(type, scores)) != _INT:  # partial credit: a Fraction, shown with two decimals at most
                for i, score in enumerate(scores, 2):
                    if type(score) is not int:
                        row[i] = fmt_points(score)
            if len(marks) < count:
                row += [""] * (count - len(marks))
        else:
            scores = {m.number: fmt_points(m.score) for m in marks}
            row = [student.id, student.name, *(scores.get(n, "") for n in numbers)]
        row.append(str(total) if type(total) is int else fmt_points(total))
        row.append(fmt_percent(total, student.total_points))
        yield row
