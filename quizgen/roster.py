"""Per-student variants: read a class roster and make one quiz per student, an answer key and an answer sheet
(and for LaTeX one document holding every variant).

A student's variant is drawn with the student's ID as the salt (``iter_items(spec, salt=id)``), so it depends
on the spec (bank and seed) and the ID alone: the same ID always gets the same questions, whatever else is on
the roster, and any variant can be made again from the ID.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import jinja2

from quizgen.errors import UserError
from quizgen.grade.csvio import ID_HEADERS, csv_chunks, find_column, is_blank, name_columns, read_sheet
from quizgen.grade.key import KeyBuilder, file_stems
from quizgen.output import write_atomic
from quizgen.quiz import QuizItem, QuizSpec, iter_items
from quizgen.render import EXTENSIONS, check_format, render

KEY_FILE = "key.json"
SHEET_FILE = "answers.csv"
ALL_FILE = "all.tex"  # with --format latex: every student's variant in one document, one student per page
ROSTER_TEMPLATE = "roster.tex.j2"
FILE_EXTENSIONS = {"markdown": ".md", "json": ".json", "latex": ".tex", "moodle": ".xml"}


class RosterError(UserError):
    """A roster that cannot be used; the message names the file, row and column."""


@dataclass(frozen=True, slots=True)
class Student:
    id: str
    name: str = ""
    row: int = 0  # the roster row, for messages

    @property
    def label(self) -> str:
        return f"{self.name} ({self.id})" if self.name else self.id


# --- reading ------------------------------------------------------------------------------------------------


def read_roster(path: str | Path) -> tuple[Student, ...]:
    """The students of a roster CSV, in file order; RosterError for a missing ID column, an empty or a
    duplicate ID (naming the file and row)."""
    sheet = read_sheet(path, "roster")
    id_col = find_column(sheet.header, ID_HEADERS)
    if id_col is None:
        raise RosterError(
            f"{sheet.path}: row {sheet.header_row}: no ID column; name one of: {', '.join(ID_HEADERS)} "
            f"(found: {', '.join(repr(h) for h in sheet.header)})"
        )
    names = name_columns(sheet.header)
    students: list[Student] = []
    seen: dict[str, int] = {}
    for row, cells in sheet.rows():
        if is_blank(cells):
            continue
        sid = cells[id_col].strip() if id_col < len(cells) else ""
        if not sid:
            raise RosterError(f"{sheet.where(row, id_col)}: empty ID")
        if sid in seen:
            raise RosterError(f"{sheet.where(row, id_col)}: duplicate ID {sid!r} (first at row {seen[sid]})")
        seen[sid] = row
        name = " ".join(cells[i].strip() for i in names if i < len(cells) and cells[i].strip())
        students.append(Student(sid, name, row))
    if not students:
        raise RosterError(f"{sheet.path}: the roster lists no students")
    return tuple(students)


# --- making the variants -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VariantsReport:
    """What ``make --roster`` wrote."""

    folder: Path
    students: int
    questions: int
    seed: int
    files: tuple[Path, ...]
    key: Path
    sheet: Path
    everyone: Path | None = None  # all.tex, for LaTeX

    def summary(self) -> str:
        text = f"wrote {self.students} variants of {self.questions} questions (seed {self.seed}) to {self.folder}/, "
        if self.everyone is not None:
            text += f"all of them in {self.everyone}, "
        return text + f"the answer key {self.key} and the answer sheet {self.sheet}"


def extension(fmt: str) -> str:
    return EXTENSIONS.get(fmt) or FILE_EXTENSIONS.get(fmt) or f".{fmt}"


def student_spec(spec: QuizSpec, student: Student) -> QuizSpec:
    """The spec a student's document shows: the quiz title with the student's name and ID."""
    return QuizSpec(f"{spec.title} — {student.label}", spec.seed, spec.sections, spec.source)


def make_variants(
    spec: QuizSpec,
    students: Sequence[Student],
    out: str | Path,
    fmt: str = "markdown",
    *,
    solutions: bool = False,
    templates_dir: str | None = None,
    **options: Any,
) -> VariantsReport:
    """Write ``out/<id>.<ext>`` per student, ``out/key.json`` and ``out/answers.csv`` — and for LaTeX
    ``out/all.tex``, every variant in one document; see the module docstring."""
    check_format(fmt)
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder}: --out must be a folder with --roster (it is a file)")
    ext = extension(fmt)
    taken = [Path(name).stem for name in (KEY_FILE, SHEET_FILE, ALL_FILE) if Path(name).suffix == ext]
    stems = file_stems([s.id for s in students], taken)
    key_data = KeyBuilder()
    files: list[Path] = []
    count = 0

    def variants() -> Iterator[tuple[QuizSpec, list[QuizItem]]]:
        """Each student's variant, once their document is written and their key entry made."""
        nonlocal count
        for student in students:
            items = list(iter_items(spec, salt=student.id))
            count = max(count, len(items))
            path = folder / f"{stems[student.id]}{ext}"
            shown = student_spec(spec, student)
            write_atomic(path, render(shown, items, fmt, solutions=solutions, templates_dir=templates_dir, **options))
            files.append(path)
            key_data.add(student.id, student.name, path.name, items)
            yield shown, items

    everyone = None
    if fmt == "latex":
        # all.tex is written as the variants are made (its template takes them one at a time), so that no
        # more than one variant is held in memory.
        everyone = folder / ALL_FILE
        write_atomic(everyone, roster_document(spec, variants(), solutions=solutions, templates_dir=templates_dir))
    else:
        for _ in variants():
            pass
    sheet = folder / SHEET_FILE
    header = ["id", "name", *(f"q{n}" for n in range(1, count + 1))]
    write_atomic(sheet, csv_chunks(header, ([s.id, s.name] + [""] * count for s in students), bom=True))
    key = folder / KEY_FILE
    write_atomic(key, key_data.chunks(spec, fmt))  # last: a key exists only when every document does
    return VariantsReport(folder, len(students), count, spec.seed, tuple(files), key, sheet, everyone)


CHUNK_PIECES = 256  # template pieces per written chunk: a template yields many short strings


def roster_document(
    spec: QuizSpec, variants: Iterable[tuple[QuizSpec, Sequence[QuizItem]]], *, solutions: bool = False, templates_dir: str | None = None
) -> Iterator[str]:
    """Every student's variant in one LaTeX document (templates/latex/roster.tex.j2), one student after
    another from a new page; ``variants`` gives each student's spec (their title) and questions."""
    from quizgen.render import environment, quiz_meta

    template = environment("latex", templates_dir).get_template(ROSTER_TEMPLATE)
    students = ({"quiz": quiz_meta(shown), "questions": items} for shown, items in variants)
    pieces = template.generate({"quiz": quiz_meta(spec), "solutions": solutions, "options": {}}, students=students)
    try:
        while batch := list(islice(pieces, CHUNK_PIECES)):
            yield "".join(batch)
    except jinja2.TemplateError as exc:
        raise UserError(f"template error in {ROSTER_TEMPLATE} or a template it includes: {exc.message or exc}") from None
