"""The immutable data a generator returns and everything downstream reads.

Which step fills which field of a :class:`Problem`:

=============  ==========================================================================================
field          filled by
=============  ==========================================================================================
id             :func:`make_problem`, a content hash of topic, difficulty and params (same input, same id)
topic          the generator's registered name
difficulty     the caller (CLI option or bank section), passed through the generator
params         the generator: every drawn or pinned parameter, Keras keyword names, JSON-ready; enough to
               rebuild the problem in Keras (the cross-check does exactly that)
title          the generator: a short human title ("Max pooling of a 4×4 map")
prompt         the generator: the question as plain Unicode text, no markup (renderers escape it)
data           the generator: what the prompt shows — matrices and layer lists, as data, never as text
answer         the engine, via the generator
solution       the generator: ordered steps, formula first, then the numbers ("8 × (3 × 3 × 1 + 1) = 80")
mistakes       the generator asks the engine for each catalogued mistake's wrong answer;
               :func:`make_problem` drops those equal to the right answer and repeats
=============  ==========================================================================================
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from fractions import Fraction
from itertools import chain
from types import MappingProxyType
from typing import Any, Union

from quizgen.engine.grid import normalize
from quizgen.engine.model import LayerSpec
from quizgen.errors import QuizgenError, UserError, one_of


class Difficulty(str, Enum):
    """How hard a generated problem is: easy numbers divide evenly; hard ones need floors, 'same' with
    strides, dilation, several channels, batch norm."""

    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"

    @classmethod
    def parse(cls, value: object) -> Difficulty:
        if isinstance(value, Difficulty):
            return value
        text = str(value).strip().lower()
        for d in cls:
            if d.value == text:
                return d
        raise UserError(f"difficulty must be {one_of([d.value for d in cls])} (got {value!r})")


@dataclass(frozen=True, slots=True)
class Shape:
    """A tensor shape without the batch axis, e.g. (13, 13, 8)."""

    dims: tuple[int, ...]

    def __str__(self) -> str:
        return "(" + ", ".join(str(d) for d in self.dims) + (",)" if len(self.dims) == 1 else ")")


@dataclass(frozen=True, slots=True)
class Matrix:
    """An exact H × W map, or H × W × C (rows, columns, channels) for a multi-channel map."""

    values: tuple

    @property
    def has_channels(self) -> bool:
        return isinstance(self.values[0][0], tuple)

    @property
    def shape(self) -> tuple[int, ...]:
        h, w = len(self.values), len(self.values[0])
        return (h, w, len(self.values[0][0])) if self.has_channels else (h, w)

    def channels(self) -> tuple[tuple[tuple[Any, ...], ...], ...]:
        """The map as C separate H × W grids (one grid for a 2D map) — how a person reads it."""
        if not self.has_channels:
            return (self.values,)
        depth = len(self.values[0][0])
        return tuple(tuple(tuple(cell[c] for cell in row) for row in self.values) for c in range(depth))

    def cells(self) -> tuple[Any, ...]:
        """Every value, row-major (channels last)."""
        rows = chain.from_iterable(self.values)
        return tuple(chain.from_iterable(rows) if self.has_channels else rows)


@dataclass(frozen=True, slots=True)
class TableRow:
    """One row of a per-layer table: the layer, its output shape and its parameter count."""

    layer: str
    output_shape: Shape
    params: int


@dataclass(frozen=True, slots=True)
class Table:
    """A per-layer shape-and-parameter table with the model's total."""

    rows: tuple[TableRow, ...]
    total: int


Number = Union[int, Fraction]
Answer = Union[int, Fraction, Shape, Matrix, Table]


class AnswerKind(str, Enum):
    """The kinds of answer a problem can have; each has its own rendering, Moodle question type and grading."""

    NUMBER = "number"
    SHAPE = "shape"
    MATRIX = "matrix"
    TABLE = "table"


def answer_kind(answer: Answer) -> AnswerKind:
    kind = _KINDS.get(type(answer))  # every answer is asked its kind when rendered: exact types first
    if kind is not None:
        return kind
    if isinstance(answer, (int, Fraction)) and not isinstance(answer, bool):
        return AnswerKind.NUMBER
    if isinstance(answer, Shape):
        return AnswerKind.SHAPE
    if isinstance(answer, Matrix):
        return AnswerKind.MATRIX
    if isinstance(answer, Table):
        return AnswerKind.TABLE
    raise QuizgenError(f"not an answer: {answer!r}")


_KINDS = {int: AnswerKind.NUMBER, Fraction: AnswerKind.NUMBER, Shape: AnswerKind.SHAPE, Matrix: AnswerKind.MATRIX,
          Table: AnswerKind.TABLE}


@dataclass(frozen=True, slots=True)
class Mistake:
    """A named common mistake, the wrong answer it leads to on this problem, and one sentence of feedback."""

    name: str
    answer: Answer
    feedback: str


@dataclass(frozen=True, slots=True)
class MatrixData:
    """A matrix the prompt shows, e.g. the input feature map "X" or the kernel "K"."""

    name: str
    matrix: Matrix
    caption: str = ""


@dataclass(frozen=True, slots=True)
class ModelData:
    """A sequential model the prompt shows: input shape and layers (Keras class names and keywords)."""

    input_shape: tuple[int, ...]
    layers: tuple[LayerSpec, ...]
    name: str = ""  # e.g. "Model A" when a prompt shows two models


PromptData = Union[MatrixData, ModelData]


@dataclass(frozen=True, slots=True)
class Problem:
    """One generated exercise; see the module docstring for who fills which field."""

    id: str
    topic: str
    difficulty: Difficulty
    params: Mapping[str, Any]
    title: str
    prompt: str
    data: tuple[PromptData, ...]
    answer: Answer
    solution: tuple[str, ...]
    mistakes: tuple[Mistake, ...] = field(default=())

    @property
    def kind(self) -> AnswerKind:
        return answer_kind(self.answer)


# --- JSON -------------------------------------------------------------------------------------------------


def number_to_json(value: Number) -> int | str:
    """Integers stay integers; exact non-integers become "p/q" strings."""
    value = normalize(value)
    return value if isinstance(value, int) else f"{value.numerator}/{value.denominator}"


def number_from_json(value: object) -> Number:
    if isinstance(value, bool):
        raise QuizgenError(f"not a number: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").replace("/", "", 1).isdigit():
        return normalize(Fraction(value))
    raise QuizgenError(f"not an exact number: {value!r}")


def _nested(values: Any, fn) -> Any:
    if isinstance(values, (tuple, list)):
        return [v if type(v) is int else _nested(v, fn) for v in values]  # ints are their own JSON
    return fn(values)


def _tupled(values: Any, fn) -> Any:
    if isinstance(values, list):
        return tuple(_tupled(v, fn) for v in values)
    return fn(values)


def answer_to_json(answer: Answer) -> Any:
    """JSON form: int, "p/q", a list for a shape, nested lists (rows first) for a matrix, a dict for a table."""
    cls = type(answer)
    if cls is int:  # the common answers first, by exact type (Fraction's isinstance goes through its ABC)
        return answer
    if cls is Matrix:
        return _nested(answer.values, number_to_json)
    if cls is Shape:
        return list(answer.dims)
    kind = answer_kind(answer)
    if kind is AnswerKind.NUMBER:
        return number_to_json(answer)
    if kind is AnswerKind.SHAPE:
        return list(answer.dims)
    if kind is AnswerKind.MATRIX:
        return _nested(answer.values, number_to_json)
    return _table_to_json(answer)


def _table_to_json(table: Table) -> dict[str, Any]:
    return {
        "rows": [{"layer": r.layer, "output_shape": list(r.output_shape.dims), "params": r.params} for r in table.rows],
        "total": table.total,
    }


def answer_from_json(kind: AnswerKind | str, data: Any) -> Answer:
    """Inverse of :func:`answer_to_json` given the answer's kind."""
    kind = AnswerKind(kind)
    if kind is AnswerKind.NUMBER:
        return number_from_json(data)
    if kind is AnswerKind.SHAPE:
        return Shape(tuple(int(d) for d in data))
    if kind is AnswerKind.MATRIX:
        return Matrix(_tupled(data, number_from_json))
    rows = tuple(TableRow(r["layer"], Shape(tuple(r["output_shape"])), int(r["params"])) for r in data["rows"])
    return Table(rows, int(data["total"]))


def params_to_json(value: Any) -> Any:
    """Params as JSON-ready data: tuples become lists, Fractions "p/q", layer specs dicts."""
    kind = type(value)
    if kind is int or kind is str:
        return value
    if kind is tuple:  # rows of a map, shapes, pairs: mostly plain ints
        return [v if type(v) is int else params_to_json(v) for v in value]
    if kind is LayerSpec:  # before the Mapping check, which goes through an ABC
        return value.to_data()
    if isinstance(value, Mapping):
        return {str(k): params_to_json(v) for k, v in value.items()}
    if isinstance(value, LayerSpec):
        return value.to_data()
    if isinstance(value, (tuple, list)):
        return [params_to_json(v) for v in value]
    if isinstance(value, Fraction):
        return number_to_json(value)
    if isinstance(value, Enum):
        return value.value
    return value


def problem_to_json(problem: Problem) -> dict[str, Any]:
    """The documented JSON form of a problem (see README, "JSON format")."""
    return {
        "id": problem.id,
        "topic": problem.topic,
        "difficulty": problem.difficulty.value,
        "title": problem.title,
        "prompt": problem.prompt,
        "params": params_to_json(problem.params),
        "answer_kind": problem.kind.value,
        "answer": answer_to_json(problem.answer),
        "solution": list(problem.solution),
        "mistakes": [{"name": m.name, "answer": answer_to_json(m.answer), "feedback": m.feedback} for m in problem.mistakes],
    }


def _json_default(value: Any) -> Any:
    """What the JSON encoders cannot write themselves, in the form :func:`problem_to_json` gives it.

    Lists, tuples, ints, strings (str enums included) and dicts are written by the encoder as they are; this
    hook converts the rest, and the encoder then writes what it returns the same way.
    """
    kind = type(value)
    if kind is Fraction:
        numerator, denominator = value.as_integer_ratio()
        return numerator if denominator == 1 else f"{numerator}/{denominator}"
    if kind is LayerSpec:  # LayerSpec.to_data() without copying its tuples into lists
        return {"class_name": value.class_name, **value.kwargs}
    if kind is Matrix:
        return value.values  # rows of ints, or Fractions that come back here
    if kind is MappingProxyType or isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, (LayerSpec, Fraction, Enum)):
        return params_to_json(value)
    if kind is Shape:
        return value.dims
    if kind is Table:
        return _table_to_json(value)
    raise TypeError(f"not JSON-ready: {value!r}")


# Built once. Problems are trees of immutable values, never cyclic, so the encoders skip the cycle check.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=_json_default, check_circular=False)
# The documented document's encoder (render_json): it walks a problem's own tuples and answer objects, so they
# need not be copied into lists first. orjson writes the same text about 1.6 times as fast and is used first;
# what it refuses (an integer beyond 64 bits, which exact arithmetic allows) goes to the standard library's.
_DOCUMENT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_json_default, check_circular=False)


def problem_json_text(problem: Problem, extra: Mapping[str, Any] | None = None) -> str:
    """``json.dumps(problem_to_json(problem) | extra, ensure_ascii=False, separators=(",", ":"))``, the same
    text made without building the nested lists: the encoder reads the problem's tuples directly (and writes
    the str enums Difficulty and AnswerKind as their values). One difference: a float (only a pinned layer
    setting such as a dropout rate can be one) is written in orjson's form, 0.00001 where json writes 1e-05 —
    the same number."""
    data = {
        "id": problem.id,
        "topic": problem.topic,
        "difficulty": problem.difficulty,
        "title": problem.title,
        "prompt": problem.prompt,
        "params": problem.params,
        "answer_kind": answer_kind(problem.answer),
        "answer": problem.answer,
        "solution": problem.solution,
        "mistakes": [{"name": m.name, "answer": m.answer, "feedback": m.feedback} for m in problem.mistakes],
    }
    if extra:
        data.update(extra)
    import orjson  # here, not at the top: only a JSON document needs it, and other quizzes start sooner

    try:  # with Matrix, Shape, Table, ... given to _json_default, not written as dataclasses
        return orjson.dumps(data, default=_json_default, option=orjson.OPT_PASSTHROUGH_DATACLASS).decode()
    except orjson.JSONEncodeError:
        return _DOCUMENT.encode(data)


def problem_id(topic: str, difficulty: Difficulty, params: Mapping[str, Any]) -> str:
    """A stable id from the problem's content: the same topic, difficulty and params give the same id."""
    canonical = _CANONICAL.encode({"topic": topic, "difficulty": difficulty, "params": params})  # a str enum
    return f"{topic}-{hashlib.sha256(canonical.encode()).hexdigest()[:10]}"


def make_problem(
    *,
    topic: str,
    difficulty: Difficulty,
    params: Mapping[str, Any],
    title: str,
    prompt: str,
    data: Sequence[PromptData],
    answer: Answer,
    solution: Sequence[str],
    mistakes: Sequence[Mistake] = (),
) -> Problem:
    """Build a Problem: compute its id, freeze its params, and keep only the mistakes whose answers differ
    from the right one and from each earlier mistake (the first name for a wrong answer wins)."""
    seen: list[Answer] = [answer]
    kept = []
    for m in mistakes:
        if m.answer not in seen:
            kept.append(m)
            seen.append(m.answer)
    own = dict(params)
    return Problem(
        id=problem_id(topic, difficulty, own),
        topic=topic,
        difficulty=difficulty,
        params=MappingProxyType(own),
        title=title,
        prompt=prompt,
        data=tuple(data),
        answer=answer,
        solution=tuple(solution),
        mistakes=tuple(kept),
    )
