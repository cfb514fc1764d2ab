"""LaTeX: every topic's quiz compiles with pdflatex on the exam class, without overfull lines that cut text."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from quizgen.quiz import QuizSpec, Section, iter_items
from quizgen.registry import generators
from quizgen.render import render

TOPICS = list(generators())
GOLDEN = Path(__file__).parent / "golden"
OVERFULL_PT = 5.0  # a line may stick out this far into the margin (invisible); more would cut text off

pytestmark = pytest.mark.latex


def compile_latex(pdflatex: str, source: str, folder: Path) -> str:
    """Compile once in ``folder``; returns the log. Fails on an error, a missing glyph or a wide overfull box."""
    tex = folder / "quiz.tex"
    tex.write_text(source, encoding="utf-8")
    proc = subprocess.run(
        [pdflatex, "-halt-on-error", "-interaction=nonstopmode", tex.name],
        cwd=folder, capture_output=True, text=True, encoding="latin-1", timeout=120,
    )
    log = (folder / "quiz.log").read_text(encoding="latin-1")
    errors = [line for line in log.splitlines() if line.startswith("!")]
    assert proc.returncode == 0 and not errors, "\n".join(errors) or proc.stdout[-3000:]
    assert (folder / "quiz.pdf").stat().st_size > 0
    assert "Missing character" not in log
    overfull = [float(x) for x in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
    assert all(x <= OVERFULL_PT for x in overfull), f"overfull lines: {overfull} pt"
    assert "Overfull \\vbox" not in log  # nothing runs off the bottom of a page
    return log


@pytest.mark.parametrize("topic", TOPICS)
def test_every_golden_quiz_compiles(pdflatex, tmp_path, topic):
    """The golden LaTeX of each topic (kept current by test_render_golden.py): 6 problems of each difficulty."""
    path = GOLDEN / "latex" / f"{topic}.tex"
    assert path.exists(), f"no {path.name}: create it with QUIZGEN_UPDATE_GOLDEN=1 python -m pytest tests/test_render_golden.py"
    source = path.read_text(encoding="utf-8")
    assert source.startswith("% ") and r"\documentclass" in source and "\n\\printanswers\n" in source
    assert source.count(r"\question[") == 6
    compile_latex(pdflatex, source, tmp_path)


def test_more_problems_of_every_topic_compile(pdflatex, tmp_path):
    """Another seed and more problems, all topics in one document (a bank-like quiz)."""
    spec = QuizSpec("all topics", 99, tuple(Section(t, 3, d) for t in TOPICS for d in ("easy", "medium", "hard")))
    compile_latex(pdflatex, "".join(render(spec, iter_items(spec), "latex")), tmp_path)


def test_special_text_compiles_with_and_without_solutions(pdflatex, tmp_path, quiz_of, special_problems):
    spec, items = quiz_of(special_problems)
    for solutions in (True, False):
        folder = tmp_path / str(solutions)
        folder.mkdir()
        compile_latex(pdflatex, "".join(render(spec, items, "latex", solutions=solutions)), folder)


def test_a_wide_map_is_shrunk_to_fit(pdflatex, tmp_path):
    spec = QuizSpec("wide", 1, (Section("pooling", 1, params={"mode": "max", "input_shape": (4, 40), "pool_size": (2, 2), "strides": (1, 1)}),))
    source = "".join(render(spec, iter_items(spec), "latex"))
    assert r"\qgfit{" in source
    compile_latex(pdflatex, source, tmp_path)
