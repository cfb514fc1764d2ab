"""Renderers: lay Problems out as quiz documents through Jinja templates, one environment per format.

Templates live in ``templates/<format>/`` and only lay out data: numbers are formatted by filters, and
anything computed (Moodle answers, tolerances, Cloze fields, distractors) is prepared in Python
(:mod:`quizgen.render.moodle`, :mod:`quizgen.render.layout`). A folder given as ``templates_dir`` overrides
any shipped template by name (``DIR/<format>/<name>`` first, then ``DIR/<name>``) and is rendered in a
sandbox.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from quizgen import __version__, text
from quizgen.errors import QuizgenError, UserError, did_you_mean, one_of
from quizgen.problem import AnswerKind, MatrixData, ModelData, problem_json_text
from quizgen.render import layout
from quizgen.render.filters import FILTERS, moodle_finalize
from quizgen.resources import data_dir

if TYPE_CHECKING:
    from quizgen.quiz import QuizItem, QuizSpec

# quizgen.render.moodle is imported when a Moodle quiz is made: the other formats start faster without it.

# LaTeX is full of braces, and {% is valid LaTeX: its templates use ((* statement *)), ((( value ))) and
# ((= comment =)) instead of Jinja's defaults. Keep a literal parenthesis away from a delimiter:
# "(((( x ))))" does not parse; write ((( '(' ~ x ~ ')' ))) or use $…$ rather than \(…\) around a value.
LATEX_SYNTAX = {
    "block_start_string": "((*",
    "block_end_string": "*))",
    "variable_start_string": "(((",
    "variable_end_string": ")))",
    "comment_start_string": "((=",
    "comment_end_string": "=))",
}


@dataclass(frozen=True)
class Format:
    """An output format: its file extension, its document template and how its Jinja environment is set up."""

    name: str
    extension: str
    syntax: Mapping[str, str] = field(default_factory=dict)
    autoescape: bool = False
    finalize: Callable[[Any], Any] | None = None  # applied to every printed value
    options: tuple[str, ...] = ()  # the render options it takes

    @property
    def document(self) -> str:
        return "document" + self.extension + ".j2"


_FORMATS = {
    f.name: f
    for f in (
        Format("markdown", ".md"),
        Format("latex", ".tex", syntax=LATEX_SYNTAX),
        Format("moodle", ".xml", autoescape=True, finalize=moodle_finalize, options=("moodle_type",)),
        Format("json", ".json"),
    )
}
FORMATS = tuple(_FORMATS)
EXTENSIONS = {f.name: f.extension for f in _FORMATS.values()}
TEMPLATE_FORMATS = ("markdown", "latex", "moodle")


def check_format(fmt: str) -> str:
    if fmt not in _FORMATS:
        raise UserError(f"--format must be {one_of(FORMATS)} (got {fmt!r}){did_you_mean(fmt, FORMATS)}")
    return fmt


def check_options(fmt: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The options that were given (not None), checked against what ``fmt`` takes."""
    given = {k: v for k, v in options.items() if v is not None}
    for key in given:
        owner = next((f.name for f in _FORMATS.values() if key in f.options), None)
        if owner is None:
            raise QuizgenError(f"unknown render option {key!r}")
        if owner != fmt:
            raise UserError(f"--{key.replace('_', '-')} goes with --format {owner} (got --format {fmt})")
    if fmt == "moodle":
        from quizgen.render.moodle import MoodleType

        given["moodle_type"] = MoodleType.parse(given.get("moodle_type"))
    return given


class _FixedGlobals:
    """An environment whose globals are all set when it is built, before any template is loaded.

    Jinja copies a template's globals into the context of every render, include and import; it keeps them as
    a ChainMap over the environment's globals (so that later changes show), and copying that map is most of
    what a small render costs. Here each template gets a plain dict of them instead.
    """

    globals: dict[str, Any]

    def make_globals(self, d: Mapping[str, Any] | None) -> dict[str, Any]:  # type: ignore[override]
        return {**self.globals, **d} if d else dict(self.globals)


class _Environment(_FixedGlobals, jinja2.Environment):
    pass


@lru_cache(maxsize=None)
def _sandboxed_environment() -> type[jinja2.Environment]:
    """The environment class for an instructor's templates (the sandbox is imported only then)."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class _SandboxedEnvironment(_FixedGlobals, ImmutableSandboxedEnvironment):
        pass

    return _SandboxedEnvironment


@lru_cache(maxsize=None)
def environment(fmt: str, templates_dir: str | None = None) -> jinja2.Environment:
    """The Jinja environment of one format, built once: StrictUndefined (a missing variable is an error),
    autoescape for XML, the format's delimiters and filters. An instructor's template folder is searched
    first and everything then renders in a sandbox. Its globals are set here, once: each template takes a
    copy of them when it is loaded (see _FixedGlobals)."""
    spec = _FORMATS[check_format(fmt)]
    loaders: list[jinja2.BaseLoader] = []
    cls: type[jinja2.Environment] = _Environment
    if templates_dir:
        loaders.append(jinja2.FileSystemLoader(str(Path(templates_dir) / fmt)))
        loaders.append(jinja2.FileSystemLoader(str(templates_dir)))
        cls = _sandboxed_environment()
    loaders.append(jinja2.FileSystemLoader(str(data_dir("templates") / fmt)))
    env = cls(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=spec.autoescape,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates do not change while a quiz is written; saves a stat() per include
        cache_size=-1,  # a handful of templates: all kept, in a plain dict (no LRU bookkeeping per include)
        # The shipped templates hold nothing for the optimizer to fold: it compiles them to the same code, and
        # leaving it out saves a sixth of the compile time at start-up.
        optimized=False,
        finalize=spec.finalize,
        **spec.syntax,
    )
    env.filters.update(FILTERS)
    env.globals.update(
        AnswerKind=AnswerKind,
        table_changes=layout.table_changes,
        answer_lines=layout.answer_lines,
    )
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
    """The quiz document in ``fmt``, as chunks of text to write out as they come.

    ``solutions`` includes the answer key and worked solutions (Moodle always carries the answers it grades
    with; without solutions it leaves out the worked solution). ``options``: ``moodle_type`` ('numerical' or
    'multichoice') for the Moodle format. Format and options are checked at once, not when the text is read.
    """
    check_format(fmt)
    options = check_options(fmt, options)
    if fmt == "json":
        return render_json(spec, items)
    env = environment(fmt, templates_dir)
    context = {"quiz": quiz_meta(spec), "solutions": solutions, "options": options}
    if fmt == "moodle":
        pieces = _render_moodle(env, spec, items, context, options["moodle_type"])
    else:
        if fmt == "markdown":
            items = list(items)  # the questions first, then the answer key: two passes
        pieces = env.get_template(_FORMATS[fmt].document).generate(context, items=items)
    chunks = _joined(pieces)
    return _reporting_template_errors(chunks, templates_dir) if templates_dir else chunks


PIECES_PER_CHUNK = 256


def _joined(pieces: Iterator[str]) -> Iterator[str]:
    """A template's output in chunks of PIECES_PER_CHUNK pieces. Jinja yields every literal and every value
    as a piece of its own, often a few characters long: writing them one by one costs more than rendering."""
    while batch := list(islice(pieces, PIECES_PER_CHUNK)):
        yield "".join(batch)


def _reporting_template_errors(chunks: Iterator[str], templates_dir: str) -> Iterator[str]:
    """Pass the chunks on; an error in a template (an instructor's override, say) becomes a one-line
    UserError naming the template file and line."""
    try:
        yield from chunks
    except jinja2.TemplateError as exc:
        raise UserError(f"template error ({templates_dir}): {_where(exc)}{exc.message or exc}") from None


def _where(exc: jinja2.TemplateError) -> str:
    """"file:line: " of the template line that failed, from the exception or its traceback."""
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename:
        return f"{exc.filename}:{exc.lineno}: "
    tb, where = exc.__traceback__, ""
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            where = f"{filename}:{tb.tb_lineno}: "
        tb = tb.tb_next
    return where


def _render_moodle(
    env: jinja2.Environment, spec: QuizSpec, items: Iterable[QuizItem], context: dict[str, Any], moodle_type
) -> Iterator[str]:
    """The <quiz> document, streamed: each category or question is rendered by its own template (one per
    question type and answer kind, each extending question.xml.j2) as its item comes in."""
    from quizgen.render import moodle

    templates: dict[str, jinja2.Template] = {}

    def chunks() -> Iterator[Markup]:
        for entry in moodle.questions(items, moodle_type, spec.count):
            name = "category" if isinstance(entry, moodle.Category) else entry.template
            template = templates.get(name)
            if template is None:
                template = templates[name] = env.get_template(name + ".xml.j2")
            yield Markup(template.render(context, q=entry))

    yield from env.get_template("document.xml.j2").generate(context, questions=chunks())


def render_json(spec: QuizSpec, items: Iterable[QuizItem]) -> Iterator[str]:
    """The documented JSON document, written one problem at a time."""
    head = {"quizgen": __version__, "title": spec.title, "seed": spec.seed}
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "problems": [\n'
    first = True
    for item in items:
        points = text.plain(item.points) if not isinstance(item.points, int) else item.points
        yield ("" if first else ",\n") + problem_json_text(item.problem, {"number": item.number, "points": points})
        first = False
    yield "\n]}\n"
