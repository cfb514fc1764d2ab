"""The shape writers every topic's prompts and solutions use."""

from __future__ import annotations

import pytest

from quizgen.text import dims, shape_tuple


@pytest.mark.parametrize(
    "shape, as_dims, as_tuple",
    [
        ((13, 13, 8), "13 × 13 × 8", "(13, 13, 8)"),
        ((10,), "10", "(10,)"),
        ([28, 28], "28 × 28", "(28, 28)"),
        (iter((2, 3)), "2 × 3", None),  # any iterable, read once
    ],
)
def test_dims_and_shape_tuple(shape, as_dims, as_tuple):
    assert dims(shape) == as_dims
    if as_tuple is not None:
        assert shape_tuple(shape) == as_tuple


def test_dims_takes_a_separator():
    assert dims((3, 4), sep="x") == "3x4"
