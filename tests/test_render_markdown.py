"""Markdown through pandoc: matrices are math, layer lists and tables are tables, text stays as written."""

from __future__ import annotations

import re
import subprocess

import pytest
from lxml import html as lxml_html

from quizgen.quiz import QuizSpec, Section, iter_items
from quizgen.registry import generators
from quizgen.render import render

TOPICS = list(generators())


def to_html(pandoc: str, markdown: str, reader: str = "markdown") -> str:
    """HTML from pandoc with MathML, which parses every formula (plain HTML output would not)."""
    proc = subprocess.run([pandoc, "-f", reader, "-t", "html", "--mathml", "--wrap=none"], input=markdown, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "WARNING" not in proc.stderr, proc.stderr  # e.g. "Could not convert TeX math"
    return proc.stdout


def quiz_markdown(topic: str, **kw) -> str:
    spec = QuizSpec(f"{topic} check", 2025, tuple(Section(topic, 3, d) for d in ("easy", "medium", "hard")))
    return "".join(render(spec, iter_items(spec), "markdown", **kw))


@pytest.mark.parametrize("topic", TOPICS)
def test_pandoc_renders_math_tables_and_numbered_questions(pandoc, topic):
    md = quiz_markdown(topic)
    out = to_html(pandoc, md)
    displays = sum(1 for line in md.splitlines() if line.strip() == "$$") // 2
    assert out.count('<math display="block"') == displays
    tables = sum(1 for line in md.splitlines() if re.fullmatch(r"\|(:?-+:?\|)+", line.strip()))  # |---|--:|
    assert out.count("<table") == tables
    for n in range(1, 10):
        assert f"Question {n}" in out
    assert ">Answer key</h2>" in out


def test_special_text_renders_as_written(pandoc, quiz_of, special_problems, nasty):
    spec, items = quiz_of(special_problems)
    md = "".join(render(spec, items, "markdown"))
    out = to_html(pandoc, md, reader="markdown-smart")  # no curly quotes: compare the characters
    text = " ".join(lxml_html.fromstring(out).text_content().split())
    for p in special_problems:
        assert p.prompt in text
        for m in p.mistakes:
            assert m.feedback in text
    assert f"Step one: {nasty}" in text
    assert out.count("<table") == 2  # the layer list and the table answer
    assert "<em>bold</em>" not in out and "<a href" not in out


def test_mistakes_of_maps_and_tables_show_what_they_give(quiz_of, special_problems):
    spec, items = quiz_of([p for p in special_problems if p.kind.value in ("matrix", "table")])
    md = "".join(render(spec, items, "markdown"))
    assert md.count("\\begin{bmatrix}") >= 6  # prompts, answers and each mistake's map
    assert "flatten (Flatten): (256,), 256 parameters; total 296." in md
