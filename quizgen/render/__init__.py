"""Renderers: lay Problems out as quiz documents through Jinja templates (one environment per format).

Templates only lay out data; numbers are formatted by filters, never computed in a template.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from quizgen import __version__, text
from quizgen.errors import UserError, one_of
from quizgen.problem import AnswerKind, MatrixData, ModelData, problem_to_json
from quizgen.quiz import QuizItem, QuizSpec
from quizgen.render.filters import FILTERS
from quizgen.resources import data_dir

FORMATS = ("markdown", "json")
EXTENSIONS = {"markdown": ".md"}


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise UserError(f"--format must be {one_of(FORMATS)} (got {fmt!r})")
    return fmt


@lru_cache(maxsize=None)
def environment(fmt: str, templates_dir: str | None = None) -> jinja2.Environment:
    """The Jinja environment of one format, built once: StrictUndefined, format-specific filters; an
    instructor's template folder (searched first) is rendered in a sandbox."""
    loaders: list[jinja2.BaseLoader] = []
    if templates_dir:
        loaders.append(jinja2.FileSystemLoader(str(Path(templates_dir) / fmt)))
        loaders.append(jinja2.FileSystemLoader(str(templates_dir)))
    loaders.append(jinja2.FileSystemLoader(str(data_dir("templates") / fmt)))
    cls = jinja2.Environment
    if templates_dir:
        from jinja2.sandbox import SandboxedEnvironment

        cls = SandboxedEnvironment
    env = cls(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    env.globals.update(AnswerKind=AnswerKind, MatrixData=MatrixData, ModelData=ModelData)
    env.tests["matrixdata"] = lambda v: isinstance(v, MatrixData)
    env.tests["modeldata"] = lambda v: isinstance(v, ModelData)
    return env


def quiz_meta(spec: QuizSpec) -> dict[str, Any]:
    return {
        "title": spec.title,
        "seed": spec.seed,
        "source": spec.source,
        "version": __version__,
        "total_points": spec.total_points,
        "count": spec.count,
    }


def render(
    spec: QuizSpec,
    items: Iterable[QuizItem],
    fmt: str,
    *,
    solutions: bool = True,
    templates_dir: str | None = None,
    **options: Any,
) -> Iterator[str]:
    """The quiz document in ``fmt``, as chunks of text to write out as they come."""
    check_format(fmt)
    if fmt == "json":
        yield from render_json(spec, items)
        return
    env = environment(fmt, templates_dir)
    template = env.get_template("document" + EXTENSIONS[fmt] + ".j2")
    context = {"quiz": quiz_meta(spec), "items": list(items), "solutions": solutions, "options": options}
    yield from template.generate(context)


def render_json(spec: QuizSpec, items: Iterable[QuizItem]) -> Iterator[str]:
    """The documented JSON document, written one problem at a time."""
    head = {"quizgen": __version__, "title": spec.title, "seed": spec.seed}
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "problems": [\n'
    first = True
    for item in items:
        data = problem_to_json(item.problem)
        data["number"] = item.number
        data["points"] = text.plain(item.points) if not isinstance(item.points, int) else item.points
        yield ("" if first else ",\n") + json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        first = False
    yield "\n]}\n"
