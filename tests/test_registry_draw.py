"""The registry's per-problem steps every topic shares: looking a topic up and the Draw helpers."""

from __future__ import annotations

import pytest

from quizgen.errors import UserError
from quizgen.problem import Difficulty
from quizgen.registry import Draw, generators, get


class _Extreme:
    """A random() that always returns the given value."""

    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


@pytest.mark.parametrize("n", [1, 2, 3, 7, 10, 1000, 2**40 + 1])
def test_draw_helpers_stay_in_range_at_the_ends_of_random(n):
    top = Draw(_Extreme(1 - 2**-53), Difficulty.EASY, {})
    bottom = Draw(_Extreme(0.0), Difficulty.EASY, {})
    assert top.integer(5, 5 + n - 1) == 5 + n - 1
    assert bottom.integer(5, 5 + n - 1) == 5
    options = range(n)
    assert top.choice(options) == n - 1
    assert bottom.choice(options) == 0


def test_draw_returns_pinned_values_and_draws_the_rest():
    draw = Draw(_Extreme(0.5), Difficulty.EASY, {"k": 3})
    assert draw("k", lambda: 9) == 3 and draw.is_pinned("k")
    assert draw("s", lambda: draw.choice((1, 2, 3, 4))) == 3
    with pytest.raises(AttributeError):
        draw.unknown = 1  # slotted: a typo in a generator fails loudly


def test_get_finds_registered_topics_and_suggests_for_unknown_ones():
    assert get("pooling") is generators()["pooling"]
    with pytest.raises(UserError, match="did you mean 'pooling'"):
        get("poolng")
