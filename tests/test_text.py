"""quizgen.text: how numbers are written in prompts and worked solutions."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from quizgen import text

# (value, num, term)
NUMBERS = [
    pytest.param(0, "0", "0", id="zero"),
    pytest.param(7, "7", "7", id="small"),
    pytest.param(999, "999", "999", id="largest without a separator"),
    pytest.param(1000, "1,000", "1,000", id="thousands separator"),
    pytest.param(43706, "43,706", "43,706", id="notes' parameter count"),
    pytest.param(-3, "−3", "(−3)", id="negative: a minus sign, bracketed in a term"),
    pytest.param(-1000, "−1,000", "(−1,000)", id="large negative"),
    pytest.param(F(15, 4), "15/4", "(15/4)", id="fraction"),
    pytest.param(F(-9, 2), "−9/2", "(−9/2)", id="negative fraction"),
    pytest.param(F(8, 1), "8", "8", id="whole fraction prints as an int"),
]


@pytest.mark.parametrize("value, num, term", NUMBERS)
def test_num_and_term(value, num, term):
    assert text.num(value) == num
    assert text.term(value) == term


def test_nums_and_terms_join_what_num_and_term_write():
    values = [p.values[0] for p in NUMBERS]
    assert text.nums(values) == ", ".join(p.values[1] for p in NUMBERS)
    assert text.terms(values) == " + ".join(p.values[2] for p in NUMBERS)
    assert text.nums([3, -1], sep=" ") == "3 −1"
    assert text.nums(()) == text.terms(()) == ""
