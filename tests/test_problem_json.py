"""The JSON every topic shares: the document's text for a problem and its content id."""

from __future__ import annotations

import json
from fractions import Fraction
from types import MappingProxyType

import pytest

from quizgen.engine.model import LayerSpec
from quizgen.errors import QuizgenError
from quizgen.mistakes import mistake
from quizgen.problem import (
    Difficulty,
    Matrix,
    MatrixData,
    Shape,
    Table,
    TableRow,
    answer_kind,
    make_problem,
    problem_id,
    problem_json_text,
    problem_to_json,
)
from quizgen.registry import generate, generators, problem_rng


def _dumps(problem, extra=None) -> str:
    """The reference: the documented dict, encoded as render_json always wrote it."""
    data = problem_to_json(problem)
    data.update(extra or {})
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("topic", list(generators()))
@pytest.mark.parametrize("difficulty", list(Difficulty))
def test_problem_json_text_is_the_documented_dict_encoded(topic, difficulty):
    for seed in range(15):
        p = generate(topic, problem_rng(seed, topic, 0), difficulty)
        assert problem_json_text(p) == _dumps(p)
        extra = {"number": seed + 1, "points": "3/2"}
        assert problem_json_text(p, extra) == _dumps(p, extra)


def _problem(answer, mistakes=(), params=None):
    return make_problem(
        topic="pooling",
        difficulty=Difficulty.HARD,
        params=params if params is not None else {"n": 1},
        title="T “quoted” ×",
        prompt='A "prompt"\nwith a line break and a tab\t.',
        data=(MatrixData("X", Matrix(((1, 2), (3, 4)))),),
        answer=answer,
        solution=("step 1", "−3 × 2 = −6"),
        mistakes=mistakes,
    )


@pytest.mark.parametrize(
    "answer, wrong",
    [
        (7, 8),
        (Fraction(15, 4), Fraction(8, 2)),  # a Fraction equal to an int is written as the int
        (Shape((13, 13, 8)), Shape((10,))),
        (Matrix(((1, Fraction(1, 2)), (Fraction(6, 3), -4))), Matrix(((0, 0), (0, 0)))),
        (Matrix((((1, Fraction(-1, 3)), (2, 3)),)), Matrix((((1, 1), (2, 3)),))),  # channels last
        (
            Table((TableRow("conv (Conv2D)", Shape((26, 26, 8)), 80), TableRow("flat (Flatten)", Shape((5408,)), 0)), 80),
            Table((TableRow("conv (Conv2D)", Shape((26, 26, 8)), 72),), 72),
        ),
    ],
)
def test_problem_json_text_matches_for_every_answer_kind(answer, wrong):
    p = _problem(answer, [mistake("forgot-bias", wrong), mistake("ignored-stride", answer)])
    assert len(p.mistakes) == 1  # the one equal to the right answer is dropped
    assert problem_json_text(p, {"number": 2, "points": 1}) == _dumps(p, {"number": 2, "points": 1})


def test_problem_json_text_matches_for_every_kind_of_param():
    params = {
        "input": ((1, -2), (3, Fraction(7, 2))),
        "kernel": (((1, 0), (Fraction(2, 1), 1)),),
        "layers": (LayerSpec("Conv2D", {"filters": 8, "kernel_size": (3, 3), "padding": "same"}), LayerSpec("Flatten")),
        "difficulty_enum": Difficulty.MEDIUM,
        "nested": MappingProxyType({"b": Fraction(4, 2), "a": [1, (2, 3)]}),
        "flag": True,
        "none": None,
        "rate": 0.25,
    }
    p = _problem(3, params=params)
    assert problem_json_text(p) == _dumps(p)
    assert json.loads(problem_json_text(p))["params"]["input"] == [[1, -2], [3, "7/2"]]


def test_problem_json_text_escapes_text_as_json_does():
    every = "".join(map(chr, range(0x20))) + '\x7f\u2028\u2029\\"/😀 é × −'
    p = _problem(3, params={"name": every}, mistakes=[mistake("forgot-bias", 4)])
    assert problem_json_text(p, {"note": every}) == _dumps(p, {"note": every})


@pytest.mark.parametrize("big", [2**64, -(2**70), 10**30])
def test_integers_beyond_64_bits_are_written_exactly(big):
    # exact arithmetic has no limit; the fast encoder stops at 64 bits and the standard one takes over
    p = _problem(big, params={"units": big}, mistakes=[mistake("forgot-bias", Matrix(((big, Fraction(big, 7)),)))])
    assert problem_json_text(p) == _dumps(p)
    assert json.loads(problem_json_text(p))["answer"] == big


def test_a_float_setting_is_the_same_number():
    params = {"rate": 1e-05, "momentum": 0.99, "big": 1e16}
    p = _problem(3, params=params)
    assert json.loads(problem_json_text(p)) == json.loads(_dumps(p))


def test_problem_json_text_rejects_what_json_cannot_hold():
    with pytest.raises(TypeError, match="not JSON-ready"):
        problem_json_text(_problem(3, params={"x": object()}))


def test_ids_stay_what_they_were():
    # Ids are content hashes that students' answer files refer to: these were made before the encoders were
    # shared, and must never change.
    pooling = {"input": ((1, -2), (3, Fraction(7, 2))), "pool_size": (2, 2), "padding": "same"}
    model = {
        "input_shape": (28, 28, 1),
        "layers": (LayerSpec("Conv2D", {"filters": 8, "kernel_size": (3, 3)}), LayerSpec("Flatten")),
        "extra": {"b": Fraction(4, 2), "a": Difficulty.MEDIUM},
    }
    for params in (pooling, MappingProxyType(pooling)):
        assert problem_id("pooling", Difficulty.EASY, params) == "pooling-f505099500"
    for params in (model, MappingProxyType(model)):
        assert problem_id("architecture", Difficulty.HARD, params) == "architecture-107fb96640"
    assert _problem(3, params=pooling).id == problem_id("pooling", Difficulty.HARD, pooling)


class _Count(int):
    """An int subclass: not one of the exact types answer_kind looks up first."""


@pytest.mark.parametrize(
    "answer, kind",
    [
        (3, "number"),
        (_Count(3), "number"),
        (Fraction(1, 2), "number"),
        (Shape((2, 2)), "shape"),
        (Matrix(((1,),)), "matrix"),
        (Table((), 0), "table"),
    ],
)
def test_answer_kind_by_exact_type_and_by_subclass(answer, kind):
    assert answer_kind(answer).value == kind


@pytest.mark.parametrize("answer", [True, 2.5, "3", None])
def test_answer_kind_rejects_what_is_not_an_answer(answer):
    with pytest.raises(QuizgenError, match="not an answer"):
        answer_kind(answer)
