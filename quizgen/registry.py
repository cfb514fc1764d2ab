"""The one registry of problem generators.

A generator is a function ``fn(draw: Draw) -> Problem`` registered with :func:`register`, which checks the
entry as it goes in (a unique kebab-case name, a one-line description, parameter specs with known kinds, and
mistake names from the catalogue). One parametrized test runs every registered entry, so a new topic cannot
skip the checks.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from quizgen.errors import QuizgenError, UserError, did_you_mean, one_of
from quizgen.mistakes import CATALOGUE
from quizgen.problem import Difficulty, Problem

MAX_ATTEMPTS = 200  # draws a generator may take to avoid a degenerate problem before it must accept one

PARAM_KINDS = ("int", "pair", "choice", "padding", "bool", "matrix", "kernel", "shape", "layers", "int_list")


@dataclass(frozen=True)
class ParamSpec:
    """A parameter a generator draws and an instructor may pin (``--param name=value`` or a bank's params)."""

    name: str
    kind: str
    help: str
    choices: tuple[Any, ...] = ()
    min: int | None = None
    max: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in PARAM_KINDS:
            raise QuizgenError(f"parameter {self.name!r}: kind must be {one_of(PARAM_KINDS)} (got {self.kind!r})")
        if self.kind == "choice" and not self.choices:
            raise QuizgenError(f"parameter {self.name!r}: a 'choice' needs choices")

    def describe(self) -> str:
        """What values are allowed, for messages and ``quizgen topics --params``."""
        rng = ""
        if self.min is not None or self.max is not None:
            lo = "" if self.min is None else f">= {self.min}"
            hi = "" if self.max is None else f"<= {self.max}"
            rng = " " + " and ".join(x for x in (lo, hi) if x)
        return {
            "int": f"an integer{rng}",
            "pair": f"an integer{rng} or a pair like [3, 3] or 3x3",
            "choice": one_of(self.choices),
            "padding": "'valid', 'same' or an integer >= 0" if not self.choices else one_of(self.choices),
            "bool": "true or false",
            "matrix": "a matrix of integers, e.g. [[1, 2], [3, 4]]",
            "kernel": "a named kernel (" + ", ".join(self.choices) + ") or a matrix" if self.choices else "a matrix",
            "shape": "a shape such as [28, 28, 1]",
            "layers": "a list of layers, each {class_name: ..., keyword: value, ...}",
            "int_list": "a list of integers",
        }[self.kind]

    def _fail(self, value: Any, where: str) -> UserError:
        loc = f"{where}: " if where else ""
        return UserError(f"{loc}{self.name!r} must be {self.describe()} (got {value!r})")

    def _int(self, value: Any, where: str) -> int:
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(value, where)
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise self._fail(value, where)
        return value

    def coerce(self, value: Any, where: str = "") -> Any:
        """Check a pinned value and bring it to the generator's type; UserError naming it otherwise."""
        kind = self.kind
        if kind == "int":
            return self._int(value, where)
        if kind == "pair":
            if isinstance(value, str):
                parts = re.split(r"\s*[x×,]\s*", value.strip().strip("()[]"))
                if len(parts) == 2:
                    value = parts
                elif len(parts) == 1:
                    value = parts[0]
            if isinstance(value, (list, tuple)) and len(value) == 2:
                return (self._int(value[0], where), self._int(value[1], where))
            n = self._int(value, where)
            return (n, n)
        if kind == "choice":
            text = value
            if isinstance(value, str):  # matched whatever the case, returned as declared ("conv2d" is Conv2D)
                folded = value.strip().lower()
                text = next((c for c in self.choices if isinstance(c, str) and c.lower() == folded), folded)
            if text not in self.choices:
                hint = did_you_mean(str(value), [str(c) for c in self.choices])
                raise UserError(f"{where + ': ' if where else ''}{self.name!r} must be {self.describe()} (got {value!r}){hint}")
            return text
        if kind == "padding":
            if isinstance(value, str) and value.strip().lower() in ("valid", "same"):
                value = value.strip().lower()
            elif isinstance(value, str) and value.strip().isdigit():
                value = int(value)
            allowed_ok = (value in self.choices) if self.choices else (
                value in ("valid", "same") or (isinstance(value, int) and not isinstance(value, bool) and value >= 0)
            )
            if not allowed_ok:
                raise self._fail(value, where)
            return value
        if kind == "bool":
            if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "on", "false", "no", "0", "off"):
                return value.strip().lower() in ("true", "yes", "1", "on")
            if not isinstance(value, bool):
                raise self._fail(value, where)
            return value
        if kind == "matrix":
            return _matrix(value, lambda v: self._exact_int(v, value, where), self._fail(value, where))
        if kind == "kernel":
            if isinstance(value, str) and not value.strip().startswith("["):
                key = value.strip().lower().replace("-", "_").replace(" ", "_")
                if key not in self.choices:
                    raise UserError(
                        f"{where + ': ' if where else ''}{self.name!r} must be {self.describe()} (got {value!r})"
                        f"{did_you_mean(key, self.choices)}"
                    )
                return key
            return _matrix(value, lambda v: self._exact_number(v, value, where), self._fail(value, where))
        if kind == "shape":
            if isinstance(value, str):
                value = [p for p in re.split(r"\s*[x×,]\s*", value.strip().strip("()[]")) if p]
            if not isinstance(value, (list, tuple)) or not value:
                raise self._fail(value, where)
            dims = tuple(_positive_int(v) for v in value)
            if any(d is None for d in dims):
                raise self._fail(value, where)
            return dims
        if kind == "int_list":
            if not isinstance(value, (list, tuple)) or not value:
                raise self._fail(value, where)
            return tuple(self._int(v, where) for v in value)
        if kind == "layers":
            from quizgen.engine.model import LayerSpec

            if not isinstance(value, (list, tuple)) or not value:
                raise self._fail(value, where)
            try:
                return tuple(v if isinstance(v, LayerSpec) else LayerSpec.from_data(v) for v in value)
            except QuizgenError as exc:
                raise UserError(f"{where + ': ' if where else ''}{self.name!r}: {exc}") from None
        raise QuizgenError(f"unhandled parameter kind {kind!r}")  # pragma: no cover - guarded in __post_init__

    def _exact_int(self, v: Any, whole: Any, where: str) -> int:
        if isinstance(v, str) and re.fullmatch(r"\s*-?\d+\s*", v):
            return int(v)
        if isinstance(v, bool) or not isinstance(v, int):
            raise self._fail(whole, where)
        return v

    def _exact_number(self, v: Any, whole: Any, where: str) -> int | Fraction:
        if isinstance(v, bool):
            raise self._fail(whole, where)
        if isinstance(v, int):
            return v
        if isinstance(v, str) and re.fullmatch(r"\s*-?\d+(\s*/\s*\d+)?\s*", v):
            f = Fraction(v.replace(" ", ""))
            return f.numerator if f.denominator == 1 else f
        raise self._fail(whole, where)


def _positive_int(v: Any) -> int | None:
    if isinstance(v, str) and v.strip().isdigit():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        return None
    return v


def _matrix(value: Any, cell: Callable[[Any], Any], error: Exception) -> tuple:
    if hasattr(value, "tolist") and not isinstance(value, (list, tuple)):  # a numpy array from Python code
        value = value.tolist()
    if not isinstance(value, (list, tuple)) or not value or not all(isinstance(r, (list, tuple)) and r for r in value):
        raise error
    width = len(value[0])
    if any(len(r) != width for r in value):
        raise error
    if isinstance(value[0][0], (list, tuple)):
        depth = len(value[0][0])
        if depth == 0 or any(not isinstance(c, (list, tuple)) or len(c) != depth for r in value for c in r):
            raise error
        return tuple(tuple(tuple(cell(v) for v in c) for c in r) for r in value)
    return tuple(tuple(cell(v) for v in r) for r in value)


class Redraw(Exception):
    """Raised inside a generator when a draw is degenerate; the registry draws again."""


@dataclass(slots=True)
class Draw:
    """What a generator gets: the random generator, the difficulty, and the pinned parameters.

    ``draw(name, make)`` returns the pinned value of ``name`` if the instructor pinned one, else ``make()``
    (which draws with ``draw.rng``). ``draw.reject(reason)`` asks for another draw — except on the last
    attempt, when the problem is kept (this only happens when pinned values force the degenerate case).
    """

    rng: random.Random
    difficulty: Difficulty
    pinned: Mapping[str, Any]
    final_attempt: bool = False

    def __call__(self, name: str, make: Callable[[], Any]) -> Any:
        if name in self.pinned:
            return self.pinned[name]
        return make()

    def is_pinned(self, name: str) -> bool:
        return name in self.pinned

    def reject(self, reason: str) -> None:
        if not self.final_attempt:
            raise Redraw(reason)

    # Small helpers generators share.
    # A uniform integer in [0, n) is int(random() * n), for the small n generators use (the bias is n / 2**53):
    # random() is at most 1 − 2**-53, and for n < 2**53 that times n rounds to a float below n, so the floor
    # is at most n − 1 (tests check the extreme value).
    def integer(self, low: int, high: int) -> int:
        """A uniform integer in [low, high] (both ends included)."""
        return int(self.rng.random() * (high - low + 1)) + low

    def choice(self, options: Sequence[Any]) -> Any:
        return options[int(self.rng.random() * len(options))]

    def matrix(self, rows: int, cols: int, low: int, high: int, channels: int | None = None) -> tuple:
        """A random integer matrix (H × W, or H × W × C) with values in [low, high], drawn row by row."""
        uniform, n = self.rng.random, high - low + 1
        if channels is None:
            return tuple(tuple([int(uniform() * n) + low for _ in range(cols)]) for _ in range(rows))
        return tuple(
            tuple([tuple([int(uniform() * n) + low for _ in range(channels)]) for _ in range(cols)]) for _ in range(rows)
        )


@dataclass(frozen=True)
class Generator:
    """A registered generator."""

    name: str
    description: str
    fn: Callable[[Draw], Problem]
    params: Mapping[str, ParamSpec]
    mistakes: tuple[str, ...]

    def coerce_params(self, pinned: Mapping[str, Any], where: str = "") -> dict[str, Any]:
        """Check and convert pinned parameters; unknown names get a "did you mean"."""
        out = {}
        for key, value in pinned.items():
            spec = self.params.get(key)
            if spec is None:
                loc = f"{where}: " if where else ""
                raise UserError(
                    f"{loc}unknown parameter {key!r} for topic {self.name!r}{did_you_mean(key, self.params)}; "
                    f"allowed: {', '.join(self.params)}"
                )
            out[key] = spec.coerce(value, where)
        return out


_REGISTRY: dict[str, Generator] = {}
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def register(
    name: str, description: str, params: Sequence[ParamSpec], mistakes: Sequence[str]
) -> Callable[[Callable[[Draw], Problem]], Callable[[Draw], Problem]]:
    """Register a generator under ``name``; checks the entry and raises QuizgenError on a bad one."""

    def decorate(fn: Callable[[Draw], Problem]) -> Callable[[Draw], Problem]:
        if not _NAME.match(name):
            raise QuizgenError(f"generator name {name!r} must be kebab-case")
        if name in _REGISTRY:
            raise QuizgenError(f"generator {name!r} is registered twice")
        if not description or "\n" in description or len(description) > 100:
            raise QuizgenError(f"generator {name!r} needs a one-line description of at most 100 characters")
        specs: dict[str, ParamSpec] = {}
        for spec in params:
            if spec.name in specs:
                raise QuizgenError(f"generator {name!r} declares parameter {spec.name!r} twice")
            specs[spec.name] = spec
        unknown = [m for m in mistakes if m not in CATALOGUE]
        if unknown:
            raise QuizgenError(f"generator {name!r} names mistakes not in the catalogue: {unknown}")
        _REGISTRY[name] = Generator(name, description, fn, MappingProxyType(specs), tuple(mistakes))
        return fn

    return decorate


def _load() -> None:
    import quizgen.generators  # noqa: F401  (registers every generator)


def generators() -> Mapping[str, Generator]:
    """Every registered generator, by name, in registration order."""
    _load()
    return MappingProxyType(_REGISTRY)


def get(name: str) -> Generator:
    """The generator for a topic; UserError with close matches for an unknown one."""
    gen = _REGISTRY.get(name)
    if gen is not None:  # every problem asks: skip the import statement once the topic is registered
        return gen
    _load()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UserError(
            f"unknown topic {name!r}{did_you_mean(name, _REGISTRY)}; topics: {', '.join(_REGISTRY)}"
        ) from None


def problem_rng(seed: int, topic: str, index: int, salt: str = "") -> random.Random:
    """The random generator for one problem, derived from (seed, topic, index[, salt]) and nothing else.

    ``salt`` separates per-student variants (the student's ID) and bank sections. The generator is the
    standard library's Mersenne Twister seeded with an integer, and generators draw only through its
    ``random()``: the one combination Python promises will give the same sequence in every future version,
    so a student's variant can be made again years later (numpy makes no such promise for its Generator
    methods, and importing it would cost a fifth of the start-up budget).
    """
    key = f"{int(seed)}\x1f{topic}\x1f{int(index)}\x1f{salt}".encode()
    return random.Random(int.from_bytes(hashlib.blake2b(key, digest_size=16).digest(), "big"))


def generate(
    topic: str,
    rng: random.Random,
    difficulty: Difficulty | str = Difficulty.MEDIUM,
    pinned: Mapping[str, Any] | None = None,
    *,
    checked: bool = False,
) -> Problem:
    """One problem of ``topic``: draws with ``rng``, redrawing degenerate problems (see :class:`Draw`).

    ``checked`` says the pinned values were already checked by :meth:`Generator.coerce_params` (a quiz
    section checks them once, not once per problem).
    """
    gen = get(topic)
    difficulty = Difficulty.parse(difficulty)
    values = pinned or {} if checked else gen.coerce_params(pinned or {})
    for attempt in range(MAX_ATTEMPTS):
        draw = Draw(rng, difficulty, values, final_attempt=attempt == MAX_ATTEMPTS - 1)
        try:
            return gen.fn(draw)
        except Redraw:
            continue
    raise QuizgenError(f"generator {topic!r} did not return a problem")  # pragma: no cover
