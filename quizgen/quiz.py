"""A quiz: sections of problems drawn reproducibly from a seed, produced one at a time (streamed)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from quizgen.errors import UserError
from quizgen.problem import Difficulty, Problem
from quizgen.registry import generate, get, problem_rng

DEFAULT_COUNT = 5
DEFAULT_POINTS = 1
DEFAULT_DIFFICULTY = Difficulty.MEDIUM
DUPLICATE_RETRIES = 10  # fresh draws tried before a quiz accepts a repeated problem


@dataclass(frozen=True)
class Section:
    """``count`` problems of one topic at one difficulty, each worth ``points``, with pinned parameters."""

    topic: str
    count: int = DEFAULT_COUNT
    difficulty: Difficulty = DEFAULT_DIFFICULTY
    points: int | Fraction = DEFAULT_POINTS
    params: Mapping[str, Any] = field(default_factory=dict)
    title: str = ""

    def __post_init__(self) -> None:
        # Pinned values are checked (and brought to the generator's types) once, here.
        checked = get(self.topic).coerce_params(self.params)
        object.__setattr__(self, "params", MappingProxyType(checked))


@dataclass(frozen=True)
class QuizSpec:
    """What to make: a title, a seed and sections (from CLI options or a question bank)."""

    title: str
    seed: int
    sections: tuple[Section, ...]
    source: str = ""  # the bank file, if any

    @property
    def count(self) -> int:
        return sum(s.count for s in self.sections)

    @property
    def total_points(self) -> int | Fraction:
        return sum((s.points * s.count for s in self.sections), 0)


@dataclass(frozen=True)
class QuizItem:
    """One numbered question of a quiz."""

    number: int
    section: int
    points: int | Fraction
    problem: Problem


def spec_from_topic(
    topic: str,
    *,
    count: int = DEFAULT_COUNT,
    seed: int = 0,
    difficulty: Difficulty | str = DEFAULT_DIFFICULTY,
    params: Mapping[str, Any] | None = None,
    title: str | None = None,
) -> QuizSpec:
    """A one-section quiz of ``count`` problems of ``topic``; pinned params are checked here."""
    gen = get(topic)
    if count < 1:
        raise UserError(f"--count must be at least 1 (got {count})")
    section = Section(topic, count, Difficulty.parse(difficulty), DEFAULT_POINTS, gen.coerce_params(params or {}, "--param"))
    return QuizSpec(title or f"{topic.replace('-', ' ').capitalize()} quiz", seed, (section,))


def iter_items(spec: QuizSpec, salt: str = "") -> Iterator[QuizItem]:
    """Generate the quiz's problems in order, one at a time.

    Problem k of section j is drawn from problem_rng(seed, topic, index, salt + section) — the same spec and
    salt (a student's ID for per-student variants) always give the same problems. A problem identical to an
    earlier one in the same quiz is replaced by a fresh draw, up to DUPLICATE_RETRIES times; a section whose
    draws keep repeating (its pinned parameters leave few distinct problems, or it asks for thousands) stops
    trying, so a large quiz never spends its time redrawing.
    """
    seen: set[str] = set()
    number = 0
    for j, section in enumerate(spec.sections):
        index = 0
        retries = DUPLICATE_RETRIES
        section_salt = f"{salt}#{j}"
        for _ in range(section.count):
            for attempt in range(retries + 1):
                rng = problem_rng(spec.seed, section.topic, index, section_salt)
                index += 1
                problem = generate(section.topic, rng, section.difficulty, section.params, checked=True)
                if problem.id not in seen:
                    break
            else:
                retries = 0  # this section has run out of fresh problems: accept repeats from now on
            seen.add(problem.id)
            number += 1
            yield QuizItem(number, j, section.points, problem)
