"""The convolution engine's shortcuts (windows into the unpadded input, flipped sums without a flipped copy,
cached ratios for scaled kernels) against a plain reference computed the long way."""

from __future__ import annotations

from fractions import Fraction as F
from itertools import product

import pytest

from quizgen.engine import flip_kernel
from quizgen.engine.conv import LayerInput, check_layer, windows
from quizgen.engine.sizes import output_length, padding_amounts


def _reference(grid, kernel, strides, padding, dilation, extra_first=False):
    """Cross-correlation of one 2D grid, written out with an explicitly zero-padded copy."""
    h, w, kh, kw = len(grid), len(grid[0]), len(kernel), len(kernel[0])
    (sh, sw), (dh, dw) = strides, dilation
    top, bottom = padding_amounts(h, kh, sh, padding, dh)
    left, right = padding_amounts(w, kw, sw, padding, dw)
    if extra_first:
        top, left = bottom, right
    padded = [[0] * (left + w + right) for _ in range(top)]
    padded += [[0] * left + list(row) + [0] * right for row in grid]
    padded += [[0] * (left + w + right) for _ in range(bottom)]
    oh, ow = output_length(h, kh, sh, padding, dh), output_length(w, kw, sw, padding, dw)
    return [
        [sum(padded[i * sh + a * dh][j * sw + b * dw] * kernel[a][b] for a in range(kh) for b in range(kw)) for j in range(ow)]
        for i in range(oh)
    ]


X = tuple(tuple((3 * i + 5 * j) % 11 - 4 for j in range(6)) for i in range(5))
Y = tuple(tuple((2 * i + j) % 7 - 3 for j in range(6)) for i in range(5))
KERNEL = ((1, -2, 0), (3, 1, -1))  # 2 × 3 and asymmetric: a flip or a transposed index shows
GEOMETRIES = [
    pytest.param(s, p, d, e, id=f"s{s}-{p}-d{d}{'-extra-first' if e else ''}")
    for s, p, d, e in [
        ((1, 1), "valid", (1, 1), False),
        ((2, 2), "same", (1, 1), False),
        ((2, 2), "same", (1, 1), True),
        ((1, 2), 2, (1, 1), False),
        ((1, 1), "same", (2, 2), False),
        ((3, 1), 1, (1, 1), False),
    ]
]


@pytest.mark.parametrize("strides, padding, dilation, extra_first", GEOMETRIES)
def test_sums_match_a_padded_copy_and_flip_matches_a_flipped_kernel(strides, padding, dilation, extra_first):
    layer = LayerInput((X, Y))
    kernel = (KERNEL, flip_kernel(KERNEL)[::-1])
    sums = layer.sums(kernel, strides, padding, dilation, extra_first=extra_first, per_channel=True)
    for c, (grid, k) in enumerate(zip((X, Y), kernel)):
        assert [list(r) for r in sums.grid(channels=(c,))] == _reference(grid, k, strides, padding, dilation, extra_first)
    flipped = tuple(map(flip_kernel, kernel))
    for per_channel in (False, True):
        by_flip = layer.sums(kernel, strides, padding, dilation, extra_first=extra_first, per_channel=per_channel, flip=True)
        assert by_flip == layer.sums(flipped, strides, padding, dilation, extra_first=extra_first, per_channel=per_channel)
    assert layer.sums(kernel, strides, padding, dilation, flip=True) != layer.sums(kernel, strides, padding, dilation)


def test_flip_on_sums_too_large_for_int64():
    big = 10**12
    x = tuple(tuple(v * big for v in row) for row in X)
    kernel = (tuple(tuple(v * big for v in row) for row in KERNEL),)
    layer = LayerInput((x,))
    flipped = layer.sums(kernel, (1, 1), "same", (1, 1), flip=True)
    assert flipped.grid() == layer.sums((flip_kernel(kernel[0]),), (1, 1), "same", (1, 1)).grid()
    assert [list(r) for r in flipped.grid()] == _reference(x, flip_kernel(kernel[0]), (1, 1), "same", (1, 1))


@pytest.mark.parametrize("strides, padding, dilation, extra_first", [g for g in GEOMETRIES if not g.values[3]])
def test_windows_put_the_fill_where_the_padding_is(strides, padding, dilation, extra_first):
    tagged = tuple(tuple((i, j) for j in range(len(X[0]))) for i in range(len(X)))
    covered = windows(tagged, (2, 3), strides, padding, dilation, fill="pad")
    # A window's cell is the input cell under the tap, or the fill where the tap is in the padding.
    top, _ = padding_amounts(len(X), 2, strides[0], padding, dilation[0])
    left, _ = padding_amounts(len(X[0]), 3, strides[1], padding, dilation[1])
    ow = output_length(len(X[0]), 3, strides[1], padding, dilation[1])
    for n, cells in enumerate(covered):
        i, j = divmod(n, ow)
        for (a, b), cell in zip(product(range(2), range(3)), cells):
            r, c = i * strides[0] - top + a * dilation[0], j * strides[1] - left + b * dilation[1]
            assert cell == ((r, c) if 0 <= r < len(X) and 0 <= c < len(X[0]) else "pad")


@pytest.mark.parametrize("bias", [0, 2, -3])
def test_scaled_kernels_give_the_same_exact_values_with_an_integer_bias(bias):
    blur = ((F(1, 9),) * 3,) * 3
    channels, filters, _ = check_layer(X, [blur])
    sums = LayerInput(channels).sums(filters[0], (1, 1), "valid", (1, 1))
    values = sums.values(bias)
    whole = sums.values(times=9)
    assert values == [F(t, 9) + bias for t in whole]
    # Whole values are ints, so that they print and compare as the answer does.
    assert [type(v) for v in values] == [int if t % 9 == 0 else F for t in whole] and int in map(type, values)
    assert sums.values(bias, relu=True) == [max(v, 0) for v in values]


def test_generator_cells_read_as_matrix_cells_do():
    from quizgen.generators.convolution import _cells
    from quizgen.problem import Matrix

    stacked = tuple(tuple((v, -v, 2 * v) for v in row) for row in X)
    for m in (X, stacked, ((0,),), (((0, 1),),)):
        assert tuple(_cells(m)) == Matrix(m).cells()


def test_solution_weights_are_whole_numbers_for_a_scaled_kernel():
    from quizgen.generators.convolution import _weights

    assert list(_weights(KERNEL, 1)) == [1, -2, 0, 3, 1, -1]
    blur = ((F(1, 16), F(2, 16)), (F(2, 16), F(4, 16)))
    assert _weights(blur, 16) == [1, 2, 2, 4] and all(type(v) is F and v.denominator == 1 for v in _weights(blur, 16))
