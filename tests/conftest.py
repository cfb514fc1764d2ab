"""Shared fixtures."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# In CI the property tests draw the same examples on every run (a failure there is reproducible and never a
# fluke of the draw); run locally they explore new examples each time.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def keras_available():
    """TensorFlow/Keras for the cross-check tests: required in CI (a missing install fails, never skips)."""
    if os.environ.get("CI"):
        import tensorflow  # noqa: F401
    else:
        pytest.importorskip("tensorflow")
    return True


@pytest.fixture
def cli():
    """Invoke the click CLI in-process: cli(args...) -> click.testing.Result."""
    from click.testing import CliRunner

    from quizgen.cli import main

    runner = CliRunner()

    def invoke(*args: str, **kwargs):
        return runner.invoke(main, list(args), catch_exceptions=False, **kwargs)

    return invoke


# --- rendering --------------------------------------------------------------------------------------------


def _tool_or_skip(available: bool, what: str) -> None:
    """Skip when a tool is missing, except in CI, where a missing tool is a failure (never a silent skip)."""
    if available:
        return
    message = f"{what} is not installed (Debian/Ubuntu: see README, 'Run the tests')"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pdflatex() -> str:
    """The pdflatex executable, with the exam class: required in CI."""
    import shutil
    import subprocess

    exe = shutil.which("pdflatex")
    found = bool(exe) and subprocess.run(["kpsewhich", "exam.cls"], capture_output=True, text=True).stdout.strip() != ""
    _tool_or_skip(found, "pdflatex with the exam class")
    return exe


@pytest.fixture(scope="session")
def pandoc() -> str:
    """The pandoc executable: required in CI."""
    import shutil

    exe = shutil.which("pandoc")
    _tool_or_skip(bool(exe), "pandoc")
    return exe


NASTY = 'a < b && c > d ]]> {1:NUMERICAL:=1} 50% #3 $5 \\ ~x^2 _k_ *bold* [l](u) @cite | "q" \'s\' `c`'


@pytest.fixture(scope="session")
def special_problems():
    """Hand-made problems of every answer kind whose texts need escaping in every format (NASTY), with
    fractions (a 2-decimal tie among them), negative values and channels."""
    from fractions import Fraction as F

    from quizgen.engine.model import LayerSpec
    from quizgen.problem import (
        Difficulty, Matrix, MatrixData, Mistake, ModelData, Shape, Table, TableRow, make_problem,
    )

    def problem(title, answer, mistakes, data=()):
        return make_problem(
            topic="pooling",
            difficulty=Difficulty.MEDIUM,
            params={"title": title},
            title=f"{title} & <{title}>",
            prompt=f"Compute {title}: {NASTY} × − ⌊⌋ ⌈⌉ · ≤ → …",
            data=data,
            answer=answer,
            solution=(f"Step one: {NASTY}", "out[1,1] = (1 + 2)/3 = 1 ≈ 1.00", "[starts with a bracket]"),
            mistakes=[Mistake(f"made-up-{i}", a, f"Feedback {i}: {NASTY}") for i, a in enumerate(mistakes)],
        )

    x = Matrix(((1, -2, 3), (4, 5, -6), (7, 8, 9)))
    model = ModelData((8, 8, 1), (LayerSpec("Conv2D", {"filters": 4, "kernel_size": (3, 3), "padding": "same"}),
                                  LayerSpec("Flatten", {})))
    table = Table((TableRow("conv2d (Conv2D)", Shape((8, 8, 4)), 40), TableRow("flatten (Flatten)", Shape((256,)), 0)), 40)
    return [
        problem("an integer", 42, [41, 84, 42, F(85, 2)]),
        problem("a fraction", F(7, 3), [7, F(467, 200), F(5, 2), -3], [MatrixData("X", x, "input <map>")]),
        problem("a tie", F(3, 8), [F(1, 2), F(3, 4)]),
        problem("a negative fraction", F(-15, 4), [F(15, 4)]),
        problem("a shape", Shape((13, 13, 8)), [Shape((13, 13, 4)), Shape((12, 13, 8)), Shape((13, 13))]),
        problem("a map", Matrix(((F(15, 4), -2), (0, 7))), [Matrix(((4, -2), (1, 7))), Matrix(((F(15, 4), 2), (0, 7)))],
                [MatrixData("X", x)]),
        problem("a map with channels", Matrix((((1, 2), (3, 4)), ((5, 6), (7, 8)))),
                [Matrix((((1, 0), (3, 4)), ((5, 6), (7, 9))))]),
        problem("a table", table, [Table((table.rows[0], TableRow("flatten (Flatten)", Shape((256,)), 256)), 296)], [model]),
    ]


@pytest.fixture(scope="session")
def quiz_of():
    """quiz_of(problems, title=...) -> (spec, items): a quiz of the given problems, one point each."""
    from quizgen.quiz import QuizItem, QuizSpec, Section

    def build(problems, title="Special characters: <&> ]]> {1:NUMERICAL:=1} 100% $x$"):
        spec = QuizSpec(title, 7, (Section("pooling", count=len(problems)),))
        return spec, [QuizItem(n, 0, 1, p) for n, p in enumerate(problems, 1)]

    return build


@pytest.fixture(scope="session")
def nasty() -> str:
    """Text that needs escaping in every format (the special problems' prompts, steps and feedback hold it)."""
    return NASTY
