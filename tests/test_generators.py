"""One test suite over every registered generator: a new topic cannot skip these checks."""

from __future__ import annotations

import dataclasses
import json
import os

import pytest

from quizgen.errors import UserError
from quizgen.mistakes import CATALOGUE
from quizgen.problem import Difficulty, Problem, answer_from_json, answer_to_json, problem_to_json
from quizgen.registry import generate, generators, problem_rng

TOPICS = list(generators())
DIFFICULTIES = list(Difficulty)
SEEDS = range(40)


def _problems(topic: str, difficulty: Difficulty, seeds=SEEDS) -> list[Problem]:
    return [generate(topic, problem_rng(seed, topic, 0), difficulty) for seed in seeds]


def test_every_topic_is_registered():
    # The topics the product promises; more may come, none may go.
    assert {"pooling", "output-size", "params", "convolution", "architecture"} <= set(TOPICS)


@pytest.mark.parametrize("topic", TOPICS)
def test_registry_entry_is_well_formed(topic):
    gen = generators()[topic]
    assert gen.description and "\n" not in gen.description
    assert gen.params, "a generator must declare its parameters"
    assert set(gen.mistakes) <= set(CATALOGUE)


class _OnlyRandom:
    """A random generator with nothing but ``random()``, the one method whose sequence Python promises to keep."""

    def __init__(self, rng):
        self._random = rng.random

    def random(self) -> float:
        return self._random()


@pytest.mark.parametrize("difficulty", DIFFICULTIES, ids=lambda d: d.value)
@pytest.mark.parametrize("topic", TOPICS)
def test_generators_draw_only_through_random_so_variants_survive_python_upgrades(topic, difficulty):
    for index in range(20):
        plain = generate(topic, problem_rng(3, topic, index), difficulty)
        only = generate(topic, _OnlyRandom(problem_rng(3, topic, index)), difficulty)
        assert only == plain


def test_problem_streams_depend_on_seed_topic_index_and_salt_only():
    first = [problem_rng(1, "pooling", 0).random() for _ in range(2)]
    assert first[0] == first[1]
    others = {problem_rng(2, "pooling", 0).random(), problem_rng(1, "params", 0).random(),
              problem_rng(1, "pooling", 1).random(), problem_rng(1, "pooling", 0, "s1").random()}
    assert first[0] not in others and len(others) == 4


@pytest.mark.parametrize("difficulty", DIFFICULTIES, ids=lambda d: d.value)
@pytest.mark.parametrize("topic", TOPICS)
def test_problems_are_complete_immutable_and_json_ready(topic, difficulty):
    gen = generators()[topic]
    for p in _problems(topic, difficulty):
        assert p.topic == topic and p.difficulty is difficulty
        assert p.id.startswith(topic + "-")
        assert p.title and p.prompt and p.solution
        assert all(isinstance(step, str) and step for step in p.solution)
        # Every param is a declared (pinnable) parameter with a Keras-style name.
        assert set(p.params) <= set(gen.params), set(p.params) - set(gen.params)
        # Immutable.
        with pytest.raises(dataclasses.FrozenInstanceError):
            p.answer = 0  # type: ignore[misc]
        with pytest.raises(TypeError):
            p.params["x"] = 1  # type: ignore[index]
        # Mistakes: catalogued, different from the answer and from each other.
        answers = [p.answer]
        for m in p.mistakes:
            assert m.name in CATALOGUE and m.name in gen.mistakes, m.name
            assert m.answer not in answers, f"{m.name} repeats an answer"
            answers.append(m.answer)
            assert answer_from_json(p.kind, answer_to_json(m.answer)) == m.answer
        # JSON round trip of the answer; the whole problem serialises.
        assert answer_from_json(p.kind, answer_to_json(p.answer)) == p.answer
        json.dumps(problem_to_json(p))


@pytest.mark.parametrize("difficulty", DIFFICULTIES, ids=lambda d: d.value)
@pytest.mark.parametrize("topic", TOPICS)
def test_most_problems_have_a_detectable_mistake(topic, difficulty):
    problems = _problems(topic, difficulty)
    with_mistakes = sum(1 for p in problems if p.mistakes)
    assert with_mistakes >= 0.9 * len(problems)


@pytest.mark.parametrize("topic", TOPICS)
def test_same_seed_same_problem_and_different_seeds_vary(topic):
    a = [problem_to_json(p) for p in _problems(topic, Difficulty.MEDIUM, range(10))]
    b = [problem_to_json(p) for p in _problems(topic, Difficulty.MEDIUM, range(10))]
    assert a == b
    assert len({p["id"] for p in a}) >= 5


@pytest.mark.parametrize("difficulty", DIFFICULTIES, ids=lambda d: d.value)
@pytest.mark.parametrize("topic", TOPICS)
def test_params_rebuild_the_problem(topic, difficulty):
    """Pinning every recorded parameter reproduces the problem from any seed: the params are complete."""
    for p in _problems(topic, difficulty, range(15)):
        again = generate(topic, problem_rng(10_000, topic, 7), difficulty, dict(p.params))
        assert again.answer == p.answer
        assert again.id == p.id
        assert again.mistakes == p.mistakes


@pytest.mark.parametrize("topic", TOPICS)
def test_unknown_parameter_is_refused_with_a_suggestion(topic):
    gen = generators()[topic]
    name = next(iter(gen.params))
    with pytest.raises(UserError, match="did you mean"):
        generate(topic, problem_rng(0, topic, 0), Difficulty.EASY, {name + "x": 1})


# --- Keras: every generator's answers are cross-checked -------------------------------------------------------

KERAS_PER_DIFFICULTY = int(os.environ.get("QUIZGEN_KERAS_CASES", "70"))


@pytest.mark.keras
@pytest.mark.parametrize("topic", TOPICS)
def test_generated_answers_agree_with_keras(topic, keras_available):
    from quizgen.crosscheck import TOPIC_CHECKS

    assert topic in TOPIC_CHECKS, f"topic {topic!r} has no Keras cross-check in quizgen.crosscheck.TOPIC_CHECKS"
    check = TOPIC_CHECKS[topic]
    failures = []
    for difficulty in DIFFICULTIES:
        for seed in range(KERAS_PER_DIFFICULTY):
            p = generate(topic, problem_rng(seed, topic, 1), difficulty)
            problems = check(p)
            if problems:
                failures.append(f"{difficulty.value} seed {seed}: {problems}")
    assert not failures, "\n".join(failures[:5])
