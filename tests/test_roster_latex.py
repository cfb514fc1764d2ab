"""`make --roster --format latex` also writes all.tex: every student's variant in one document, each from a new
page, laid out by the same templates as the students' own files — and it compiles with pdflatex."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from test_grade_helpers import BANK, ROSTER, write_csv

from quizgen.bank import load_bank
from quizgen.render import environment, quiz_meta
from quizgen.roster import ALL_FILE, make_variants, read_roster

ROOT = Path(__file__).resolve().parents[1]


def _between(text: str, start: str, end: str) -> str:
    return text[text.index(start):text.index(end)]


def _questions(text: str) -> list[str]:
    """Each questions environment of a LaTeX document, in order."""
    return re.findall(r"\\begin\{questions\}.*?\\end\{questions\}", text, flags=re.DOTALL)


@pytest.fixture(scope="module")
def latex_class(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("latex-class")
    make_variants(load_bank(BANK), read_roster(ROSTER), folder, "latex")
    return folder


def test_all_tex_holds_every_students_questions_as_their_own_file_does(latex_class):
    everyone = (latex_class / ALL_FILE).read_text(encoding="utf-8")
    parts = _questions(everyone)
    students = read_roster(ROSTER)
    assert len(parts) == len(students)
    for student, part in zip(students, parts):
        own = (latex_class / f"{student.id}.tex").read_text(encoding="utf-8")
        assert _questions(own) == [part]
    # Each student starts a new page, numbered from 1, under their own running header.
    assert everyone.count("\\clearpage") == len(students) - 1
    assert everyone.count("\\setcounter{page}{1}") == len(students)
    assert "\\header{Grading fixture --- Ada Lovelace (s001)}{}{Seed 2025}" in everyone
    assert "\\noprintanswers" in everyone


def test_all_tex_shares_the_quiz_preamble():
    """roster.tex.j2 extends document.tex.j2: the same preamble, less the running header (set per student)."""
    spec = load_bank(BANK)
    env = environment("latex")
    context = {"quiz": quiz_meta(spec), "solutions": True, "options": {}}
    one = env.get_template("document.tex.j2").render(context, items=[])
    every = env.get_template("roster.tex.j2").render(context, students=[])
    header = "\\header{Grading fixture}{}{Seed 2025}\n"
    assert header in one
    assert _between(one, "\\documentclass", "\\begin{document}").replace(header, "") == _between(
        every, "\\documentclass", "\\begin{document}"
    )
    assert "\\printanswers" in every


def test_an_instructors_document_and_cover_templates_shape_all_tex_too(tmp_path):
    """An override of document.tex.j2's preamble or of cover.tex.j2 reaches every student's page of all.tex,
    as it reaches their own files."""
    shipped = ROOT / "templates" / "latex"
    mine = tmp_path / "templates" / "latex"
    mine.mkdir(parents=True)
    document = (shipped / "document.tex.j2").read_text(encoding="utf-8")
    (mine / "document.tex.j2").write_text(
        document.replace("\\begin{document}", "\\usepackage{xcolor}\n\\begin{document}", 1), encoding="utf-8"
    )
    cover = (shipped / "cover.tex.j2").read_text(encoding="utf-8")
    (mine / "cover.tex.j2").write_text(cover.replace("Student ID:", "Matriculation number:"), encoding="utf-8")
    make_variants(load_bank(BANK), read_roster(ROSTER), tmp_path / "out", "latex", templates_dir=str(tmp_path / "templates"))
    everyone = (tmp_path / "out" / ALL_FILE).read_text(encoding="utf-8")
    students = len(_questions(everyone))
    assert students > 1
    assert everyone.count("\\usepackage{xcolor}") == 1
    assert everyone.count("Matriculation number:") == students
    assert "Student ID:" not in everyone
    own = next(p for p in (tmp_path / "out").glob("*.tex") if p.name != ALL_FILE).read_text(encoding="utf-8")
    assert "\\usepackage{xcolor}" in own and "Matriculation number:" in own


def test_only_latex_gets_all_tex_and_a_student_named_all_keeps_their_file(tmp_path):
    make_variants(load_bank(BANK), read_roster(ROSTER), tmp_path / "md", "markdown")
    assert not (tmp_path / "md" / ALL_FILE).exists()
    roster = write_csv(tmp_path / "r.csv", ["id"], [["all"], ["s1"]])
    report = make_variants(load_bank(BANK), read_roster(roster), tmp_path / "tex", "latex")
    assert report.everyone == tmp_path / "tex" / ALL_FILE and "all of them in" in report.summary()
    names = sorted(p.name for p in (tmp_path / "tex").iterdir())
    assert ALL_FILE in names and len([n for n in names if n.startswith("all-")]) == 1
    assert "\\header{Grading fixture --- all}" in (tmp_path / "tex" / ALL_FILE).read_text(encoding="utf-8")


@pytest.mark.latex
@pytest.mark.parametrize("solutions", [False, True], ids=["students", "with-solutions"])
def test_all_tex_compiles_one_student_after_another(pdflatex, tmp_path, solutions):
    folder = tmp_path / "exams"
    make_variants(load_bank(BANK), read_roster(ROSTER), folder, "latex", solutions=solutions)
    proc = subprocess.run(
        [pdflatex, "-halt-on-error", "-interaction=nonstopmode", ALL_FILE],
        cwd=folder, capture_output=True, text=True, encoding="latin-1", timeout=180,
    )
    log = (folder / "all.log").read_text(encoding="latin-1")
    errors = [line for line in log.splitlines() if line.startswith("!")]
    assert proc.returncode == 0 and not errors, "\n".join(errors) or proc.stdout[-3000:]
    assert "Missing character" not in log and "Overfull \\vbox" not in log
    pages = int(re.search(r"Output written on all\.pdf \((\d+) pages?", log).group(1))
    assert pages >= len(read_roster(ROSTER))


def test_cli_make_roster_latex_writes_all_tex(cli, tmp_path):
    out = tmp_path / "exams"
    result = cli("make", "--bank", str(BANK), "--roster", str(ROSTER), "--format", "latex", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"all of them in {out / ALL_FILE}" in result.output and (out / ALL_FILE).is_file()
