"""Feature-map conversion: the check-once memo must never change what a map means or let a bad map through."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from quizgen.engine import pool2d
from quizgen.engine.grid import exact_ratio, from_channels, to_channels
from quizgen.errors import ConfigError


def test_a_list_map_changed_in_place_is_read_again():
    x = [[1, 2], [3, 4]]
    assert pool2d(x, 2) == ((4,),)
    x[0][0] = 9
    assert pool2d(x, 2) == ((9,),)


def test_an_equal_map_of_floats_is_still_refused_after_the_int_map_was_seen():
    ints = ((1, 2), (3, 4))
    assert to_channels(ints) == ((((1, 2), (3, 4)),), False)
    with pytest.raises(ConfigError, match="integers or exact fractions"):
        to_channels(((1.0, 2.0), (3.0, 4.0)))


def test_tuple_maps_convert_the_same_every_time():
    x = (((1, 2), (3, 4)), ((5, 6), (Fraction(7, 2), 8)))
    first = to_channels(x)
    assert to_channels(x) is first
    assert first == ((((1, 3), (5, Fraction(7, 2))), ((2, 4), (6, 8))), True)


def test_a_tuple_holding_lists_is_not_remembered():
    row = [1, 2]
    x = (tuple(row), row)
    assert to_channels(x)[0] == (((1, 2), (1, 2)),)
    row[0] = 5
    assert to_channels(x)[0] == (((1, 2), (5, 2)),)


# Multi-channel maps as generators hold them (tuples of ints), as people type them (lists), with numpy integers
# and with fractions: each must split into the same channels, and from_channels must put them back.
CHANNEL_MAPS = [
    pytest.param((((1, 5), (2, 6)), ((3, 7), (4, 8))), id="tuples of ints"),
    pytest.param([[[1, 5], [2, 6]], [[3, 7], [4, 8]]], id="lists"),
    pytest.param((((1, 5), (2, Fraction(6))), ((3, 7), (4, 8))), id="a whole Fraction"),
]


@pytest.mark.parametrize("x", CHANNEL_MAPS)
def test_channels_split_and_stack_back(x):
    channels, has_channels = to_channels(x)
    assert has_channels
    assert channels == (((1, 2), (3, 4)), ((5, 6), (7, 8)))
    assert from_channels(channels, True) == (((1, 5), (2, 6)), ((3, 7), (4, 8)))
    assert from_channels((((1, 2), (3, 4)),), False) == ((1, 2), (3, 4))


def test_channels_of_numpy_integers_and_three_channels():
    x = np.arange(12, dtype=np.int64).reshape(2, 2, 3)
    channels, has_channels = to_channels(x)
    assert has_channels and all(type(v) is int for ch in channels for row in ch for v in row)
    assert channels == (((0, 3), (6, 9)), ((1, 4), (7, 10)), ((2, 5), (8, 11)))
    assert from_channels(channels, True) == tuple(tuple(tuple(int(v) for v in cell) for cell in row) for row in x)


def test_a_ragged_channel_axis_is_refused():
    with pytest.raises(ConfigError, match="same number of channels"):
        to_channels((((1, 2), (3,)), ((4, 5), (6, 7))))


@pytest.mark.parametrize(
    "total, count, expected",
    [(8, 4, 2), (9, 4, Fraction(9, 4)), (6, 4, Fraction(3, 2)), (-6, 4, Fraction(-3, 2)), (-8, 2, -4), (0, 3, 0)],
)
def test_exact_ratio_is_an_int_when_it_divides_and_a_reduced_fraction_otherwise(total, count, expected):
    for _ in range(2):  # the second call comes from the cache
        value = exact_ratio(total, count)
        assert value == expected and type(value) is type(expected)
