"""Feature-map conversion: the check-once memo must never change what a map means or let a bad map through."""

from __future__ import annotations

from fractions import Fraction

import pytest

from quizgen.engine import pool2d
from quizgen.engine.grid import to_channels
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
