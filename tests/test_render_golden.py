"""Golden files: every registered topic rendered in every template format for a fixed seed.

A changed template, filter or generator shows up here as a diff. After a deliberate change, or for a new
topic, rewrite the files and review them with `git diff tests/golden`:

    QUIZGEN_UPDATE_GOLDEN=1 python -m pytest tests/test_render_golden.py
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from quizgen.quiz import QuizSpec, Section, iter_items
from quizgen.registry import generators
from quizgen.render import EXTENSIONS, TEMPLATE_FORMATS, render

GOLDEN = Path(__file__).parent / "golden"
SEED = 2025
UPDATE = os.environ.get("QUIZGEN_UPDATE_GOLDEN") == "1"
HOW = "QUIZGEN_UPDATE_GOLDEN=1 python -m pytest tests/test_render_golden.py"


def golden_quiz(topic: str) -> QuizSpec:
    """Two problems per difficulty, so each file shows the range of a topic."""
    return QuizSpec(f"{topic} (golden)", SEED, tuple(Section(topic, 2, d) for d in ("easy", "medium", "hard")))


@pytest.mark.parametrize("fmt", TEMPLATE_FORMATS)
@pytest.mark.parametrize("topic", list(generators()))
def test_golden(topic, fmt):
    spec = golden_quiz(topic)
    text = "".join(render(spec, iter_items(spec), fmt))
    path = GOLDEN / fmt / f"{topic}{EXTENSIONS[fmt]}"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
        return
    if not path.exists():
        pytest.fail(f"no golden file {path.relative_to(GOLDEN.parent.parent)} for topic {topic!r}: create it with {HOW}")
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(list(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), str(path), "rendered"))[:60])
        pytest.fail(f"{path.name} differs from the rendered {fmt} (if intended, run {HOW}):\n{diff}")


def test_no_stale_golden_files():
    """A golden file whose topic is gone would never be checked."""
    expected = {f"{t}{EXTENSIONS[f]}" for t in generators() for f in TEMPLATE_FORMATS}
    stale = [str(p) for f in TEMPLATE_FORMATS for p in (GOLDEN / f).glob("*") if p.name not in expected]
    assert not stale, f"remove these (their topic is not registered): {stale}"
