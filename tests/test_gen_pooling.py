"""The pooling topic: the course notes' examples as pinned problems, and its common mistakes."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from quizgen.errors import UserError
from quizgen.problem import Difficulty, Matrix
from quizgen.registry import generate, problem_rng

NOTES_000 = [[1, 3, 2, 4], [5, 6, 1, 2], [2, 4, 0, 1], [1, 2, 3, 4]]
NOTES_001 = [[1, 3, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [9, 8, 6, 5]]
ONE_TO_16 = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]


def pooled(**params):
    return generate("pooling", problem_rng(0, "pooling", 0), Difficulty.EASY, params)


@pytest.mark.parametrize(
    "params, answer",
    [
        # 000: 2×2 max pooling, stride 2.
        ({"mode": "max", "inputs": NOTES_000, "pool_size": 2}, Matrix(((6, 4), (4, 4)))),
        # 001: max pooling example.
        ({"mode": "max", "inputs": NOTES_001, "pool_size": 2}, Matrix(((6, 8), (9, 6)))),
        # 001: average pooling of the same map: 3.75, 5.25, 5.5, 3.0.
        ({"mode": "average", "inputs": NOTES_001, "pool_size": 2}, Matrix(((F(15, 4), F(21, 4)), (F(11, 2), 3)))),
        # 001: min pooling of 1..16.
        ({"mode": "min", "inputs": ONE_TO_16, "pool_size": 2}, Matrix(((1, 3), (9, 11)))),
        # 002: Keras MaxPooling2D on 1..16 prints [[6, 8], [14, 16]].
        ({"mode": "max", "inputs": ONE_TO_16, "pool_size": 2}, Matrix(((6, 8), (14, 16)))),
        # 001: GAP = 136/16 = 8.5 and GMP = 16 of 1..16.
        ({"mode": "global_average", "inputs": ONE_TO_16}, F(17, 2)),
        ({"mode": "global_max", "inputs": ONE_TO_16}, 16),
    ],
)
def test_notes_examples(params, answer):
    assert pooled(**params).answer == answer


def test_same_average_divides_by_cells_inside_the_map_and_names_the_mistake():
    x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    p = pooled(mode="average", inputs=x, pool_size=2, strides=2, padding="same")
    assert p.answer == Matrix(((3, F(9, 2)), (F(15, 2), 9)))
    by_name = {m.name: m.answer for m in p.mistakes}
    assert by_name["averaged-padded-zeros"] == Matrix(((3, F(9, 4)), (F(15, 4), F(9, 4))))
    assert by_name["same-split-wrong"] == Matrix(((1, F(5, 2)), (F(11, 2), 7)))


def test_padded_cells_never_win_a_max():
    x = [[-1, -2, -3], [-4, -5, -6], [-7, -8, -9]]
    p = pooled(mode="max", inputs=x, pool_size=2, strides=2, padding="same")
    assert p.answer == Matrix(((-1, -3), (-7, -9)))
    # 'same' pads 1 row and column here, all at the bottom / right: only the first window has no padding.
    assert {m.name: m.answer for m in p.mistakes}["padded-max-with-zeros"] == Matrix(((-1, 0), (0, 0)))


def test_worked_solution_reads_like_the_notes():
    p = pooled(mode="max", inputs=NOTES_001, pool_size=2)
    assert "out[1,1] = max(1, 3, 5, 6) = 6." in p.solution
    assert any(step.startswith("Output rows: ⌊(n − k)/s⌋ + 1 = ⌊(4 − 2)/2⌋ + 1 = 2") for step in p.solution)


def test_multichannel_pools_each_channel():
    x = [[[1, -1], [2, -2]], [[3, -3], [4, -4]]]
    p = pooled(mode="max", inputs=x, pool_size=2)
    assert p.answer == Matrix((((4, -1),),))


def test_pool_larger_than_the_map_is_a_clear_error():
    with pytest.raises(UserError, match="larger than the padded input"):
        pooled(mode="max", inputs=NOTES_000, pool_size=5)


@pytest.mark.parametrize("bad, message", [("mode", "must be"), ("padding", "must be")])
def test_bad_pins_are_refused(bad, message):
    with pytest.raises(UserError, match=message):
        pooled(**{bad: "full"})


def test_hard_problems_use_same_padding_and_channels_sometimes():
    problems = [generate("pooling", problem_rng(s, "pooling", 0), Difficulty.HARD) for s in range(60)]
    assert any(p.params.get("padding") == "same" for p in problems)
    assert any(len(p.data[0].matrix.shape) == 3 for p in problems)


def test_degenerate_draws_are_redrawn():
    """Random maps and their outputs are never (nearly) constant, and a 'same' problem is only kept when the padding matters
    (when it would not, the padding mistakes could not be told from the right answer)."""
    for s in range(150):
        p = generate("pooling", problem_rng(s, "pooling", 3), Difficulty.HARD)
        assert len(set(p.data[0].matrix.cells())) >= 3
        if isinstance(p.answer, Matrix):  # nor is the output (min pooling of 0..9 landing on 0 everywhere)
            cells = p.answer.cells()
            assert len(set(cells)) >= min(3, -(-len(cells) // 2)), p.params
        if p.params.get("padding") == "same":
            names = {m.name for m in p.mistakes}
            assert names & {"averaged-padded-zeros", "padded-max-with-zeros", "same-split-wrong"}, p.params


def test_a_pinned_degenerate_map_is_still_made():
    # The instructor asked for it: the problem is made, with the mistakes that can still be told apart.
    p = pooled(mode="max", inputs=[[1, 1], [1, 1]], pool_size=2)
    assert p.answer == Matrix(((1,),))
