"""Unit tests of the exact engine, without TensorFlow.

Every number stated here is also proven by Keras: tests/test_crosscheck.py runs these same tables through Keras
(test_engine_tables_agree_with_keras), so a table entry that is wrong fails there, not only here.
"""

from __future__ import annotations

import re
from fractions import Fraction as F

import numpy as np
import pytest

from quizgen.engine import (
    KERNELS,
    LayerSpec,
    ParamCount,
    adaptive_avg_pool,
    batchnorm_params,
    conv1d_params,
    conv2d,
    conv2d_params,
    conv_macs,
    dense_params,
    depthwise_conv2d_params,
    flip_kernel,
    global_pool,
    named_kernel,
    output_length,
    output_size_2d,
    pool2d,
    receptive_field,
    same_padding,
    separable_conv2d_params,
    trace_model,
)
from quizgen.engine.conv import LayerInput, check_layer, windows
from quizgen.engine.model import apply_layer
from quizgen.engine.pooling import Pooler
from quizgen.engine.sizes import as_pair, padding_amounts
from quizgen.errors import ConfigError


def L(class_name: str, **kwargs) -> LayerSpec:  # noqa: N802 - reads like the Keras layer call it stands for
    return LayerSpec(class_name, kwargs)


def grid(rows: int, cols: int) -> tuple:
    """1, 2, 3, ... row by row: the notes' favourite map."""
    return tuple(tuple(cols * i + j + 1 for j in range(cols)) for i in range(rows))


X3 = grid(3, 3)
X4 = grid(4, 4)
X5 = grid(5, 5)
NEGATIVE = ((-3, -1, -4), (-1, -5, -9), (-2, -6, -5))

# --- output sizes ------------------------------------------------------------------------------------------

# (n, k, s, padding, dilation, expected length)
OUTPUT_LENGTHS = [
    pytest.param(5, 3, 1, 0, 1, 3, id="textbook (5-3+0)/1+1"),
    pytest.param(32, 3, 1, 1, 1, 32, id="padding 1 keeps a 3x3 conv's size"),
    pytest.param(28, 3, 1, "valid", 1, 26, id="valid"),
    pytest.param(26, 2, 2, "valid", 1, 13, id="pool 2 stride 2"),
    pytest.param(7, 2, 2, "valid", 1, 3, id="floor of (7-2)/2"),
    pytest.param(8, 3, 2, "valid", 1, 3, id="floor of (8-3)/2"),
    pytest.param(10, 4, 3, 1, 1, 3, id="padding and stride"),
    pytest.param(7, 3, 2, "same", 1, 4, id="same odd size ceil(7/2)"),
    pytest.param(8, 3, 2, "same", 1, 4, id="same even size ceil(8/2)"),
    pytest.param(7, 2, 2, "same", 1, 4, id="same even kernel"),
    pytest.param(9, 1, 3, "same", 1, 3, id="same 1x1 stride 3"),
    pytest.param(3, 4, 1, "same", 1, 3, id="same kernel larger than the input"),
    pytest.param(7, 3, 1, "valid", 2, 3, id="dilation 2: span 5"),
    pytest.param(7, 3, 1, 2, 2, 7, id="dilation 2 with padding 2"),
    pytest.param(9, 3, 1, "same", 3, 9, id="dilation 3 same"),
    pytest.param(5, 5, 1, "valid", 1, 1, id="kernel equal to the input"),
    pytest.param(5, 6, 1, 1, 1, 2, id="larger kernel fits with padding"),
    pytest.param(227, 11, 4, "valid", 1, 55, id="AlexNet conv1"),
    pytest.param(1, 1, 1, "valid", 1, 1, id="1x1 on 1x1"),
]


@pytest.mark.parametrize("n, k, s, padding, dilation, expected", OUTPUT_LENGTHS)
def test_output_length(n, k, s, padding, dilation, expected):
    assert output_length(n, k, s, padding, dilation) == expected
    # The same in 2D, on a square and in a rectangle with the other axis fixed.
    assert output_size_2d(n, k, s, padding, dilation) == (expected, expected)
    assert output_size_2d((n, 4), (k, 1), (s, 1), padding, (dilation, 1))[0] == expected


@pytest.mark.parametrize("n, k, s, padding, dilation, expected", [p.values for p in OUTPUT_LENGTHS if isinstance(p.values[3], int)])
def test_integer_padding_is_the_textbook_formula(n, k, s, padding, dilation, expected):
    assert expected == (n + 2 * padding - dilation * (k - 1) - 1) // s + 1


@pytest.mark.parametrize("n", range(1, 13))
@pytest.mark.parametrize("s", [1, 2, 3])
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_same_is_ceil_n_over_s_and_its_padding_gives_that(n, s, k):
    out = output_length(n, k, s, "same")
    assert out == -(-n // s)
    before, after = same_padding(n, k, s)
    assert 0 <= after - before <= 1  # the odd cell goes after: bottom / right
    assert output_length(n + before + after, k, s, "valid") == out


# (n, k, s, dilation, (before, after)): Keras's 'same' split, the extra cell at the end.
SAME_SPLITS = [
    pytest.param(7, 3, 2, 1, (1, 1), id="odd size, stride 2: 2 cells, 1 + 1"),
    pytest.param(8, 3, 2, 1, (0, 1), id="even size, stride 2: 1 cell, at the end"),
    pytest.param(5, 2, 1, 1, (0, 1), id="even kernel: 1 cell, at the end"),
    pytest.param(6, 4, 1, 1, (1, 2), id="even kernel 4: 3 cells, 1 + 2"),
    pytest.param(10, 4, 3, 1, (1, 2), id="stride 3: 3 cells, 1 + 2"),
    pytest.param(6, 3, 1, 2, (2, 2), id="dilation 2: span 5"),
    pytest.param(5, 5, 2, 1, (2, 2), id="kernel equal to the input"),
    pytest.param(4, 1, 2, 1, (0, 0), id="1x1 stride 2: none"),
    pytest.param(3, 4, 1, 1, (1, 2), id="kernel larger than the input"),
]


@pytest.mark.parametrize("n, k, s, dilation, split", SAME_SPLITS)
def test_same_padding_split(n, k, s, dilation, split):
    assert same_padding(n, k, s, dilation) == split
    assert padding_amounts(n, k, s, "same", dilation) == split


@pytest.mark.parametrize("padding, split", [("valid", (0, 0)), (2, (2, 2)), ("SAME", (1, 1))])
def test_padding_amounts(padding, split):
    assert padding_amounts(7, 3, 2, padding) == split


# --- errors, with their messages ---------------------------------------------------------------------------

ERRORS = [
    pytest.param(lambda: output_length(5, 6), "kernel size 6 is larger than the padded input (5 + 0 padding = 5)", id="kernel too large"),
    pytest.param(lambda: output_length(4, 3, 1, "valid", 2), "dilated kernel span 5 is larger than the padded input", id="dilated span too large"),
    pytest.param(
        lambda: output_length(7, 3, 2, "valid", 2),
        "strides > 1 together with dilation_rate > 1 is not supported by Keras (got strides=2, dilation_rate=2)",
        id="strides and dilation",
    ),
    pytest.param(
        lambda: output_size_2d(9, 3, (2, 1), "valid", (1, 2)),
        "not supported by Keras (got strides=(2, 1), dilation_rate=(1, 2))",
        id="strides and dilation on different axes",
    ),
    pytest.param(
        lambda: conv2d(X3, [((1,),)], (1, 2), "valid", dilation=(2, 1)), "not supported by Keras", id="conv2d strides and dilation"
    ),
    pytest.param(lambda: output_length(5, 3, 1, "full"), "'padding' must be 'valid', 'same' or an integer >= 0 (got 'full')", id="padding name"),
    pytest.param(lambda: output_length(5, 3, 1, -1), "'padding' must be 'valid', 'same' or an integer >= 0 (got -1)", id="negative padding"),
    pytest.param(lambda: output_length(0, 3), "'input size' must be an integer >= 1 (got 0)", id="empty input"),
    pytest.param(lambda: output_length(5, 3, 0), "'strides' must be an integer >= 1 (got 0)", id="stride 0"),
    pytest.param(lambda: as_pair("kernel_size", (1, 2, 3)), "'kernel_size' must be an integer >= 1 or a pair of them (got (1, 2, 3))", id="triple"),
    pytest.param(lambda: pool2d(X4, 2, mode="median"), "pooling mode must be 'max', 'min' or 'average' (got 'median')", id="pool mode"),
    pytest.param(lambda: global_pool(X4, "min"), "pooling mode must be 'max' or 'average' (got 'min')", id="global mode"),
    pytest.param(lambda: pool2d(X4, 5), "kernel size 5 is larger than the padded input", id="pool too large"),
    pytest.param(
        lambda: conv2d((((1, 2, 3),),), [((1,),)]),
        "kernel 1 has 1 channel(s) but the input has 3: a kernel must cover every input channel",
        id="kernel channels",
    ),
    pytest.param(lambda: conv2d(X3, [((1, 0),), ((1,),)]), "all kernels of a layer must have the same size", id="kernel sizes"),
    pytest.param(lambda: conv2d(X3, [((0.5,),)]), "must hold integers or exact fractions (got 0.5)", id="floats"),
    pytest.param(lambda: conv2d(X3, [((1,),)], bias=[1, 2]), "bias needs one value per kernel (1), got 2", id="bias count"),
    pytest.param(lambda: named_kernel("sobelx"), "unknown kernel 'sobelx' (did you mean 'sobel_x'?)", id="kernel name"),
    pytest.param(lambda: adaptive_avg_pool(10, 4), "output size 4 does not divide input size 10", id="adaptive uneven"),
    pytest.param(lambda: adaptive_avg_pool(3, 4), "output size 4 is larger than the input size 3", id="adaptive larger"),
    pytest.param(
        lambda: trace_model((28, 28, 1), [L("MaxPooling2D", pool_size=(2, 2), stride=2)]),
        "layer 1 (MaxPooling2D): unknown keyword 'stride' for MaxPooling2D (did you mean 'strides'?)",
        id="the notes' stride= typo",
    ),
    pytest.param(
        lambda: trace_model((28, 28, 1), [L("Conv2d", filters=8, kernel_size=3)]), "unknown layer 'Conv2d' (did you mean 'Conv2D'?)", id="layer name"
    ),
    pytest.param(lambda: trace_model((32, 32, 1), [L("AveragePooling2D")]), "AveragePooling2D needs 'pool_size'", id="Keras 3 pool_size"),
    pytest.param(lambda: trace_model((8, 8, 1), [L("Conv2D", filters=2)]), "Conv2D needs 'kernel_size'", id="missing keyword"),
    pytest.param(
        lambda: trace_model((28, 28, 1), [L("Flatten"), L("MaxPooling2D")]),
        "layer 2 (MaxPooling2D): MaxPooling2D needs a rank-3 input (without the batch axis), got shape (784,)",
        id="pooling after Flatten",
    ),
    pytest.param(
        lambda: trace_model((5, 5, 2), [L("Conv2D", filters=4, kernel_size=5), L("Conv2D", filters=4, kernel_size=2)]),
        "layer 2 (Conv2D): kernel size 2 is larger than the padded input (1 + 0 padding = 1)",
        id="map shrunk away",
    ),
    pytest.param(
        lambda: trace_model((8, 8, 3), [L("Conv2D", filters=4, kernel_size=3, groups=2)]),
        "'groups'=2 must divide both the input channels (3) and filters (4)",
        id="groups",
    ),
    pytest.param(lambda: trace_model((8, 8, 3), [L("Conv2D", filters=4, kernel_size=3, padding=1)]), "put a ZeroPadding2D layer in front", id="integer padding on a layer"),
    pytest.param(lambda: trace_model((8,), [L("Dropout", rate=1.5)]), "Dropout 'rate' must be a number in [0, 1) (got 1.5)", id="dropout rate"),
    pytest.param(lambda: trace_model(None, [L("Flatten")]), "the model needs an input shape", id="no input shape"),
]


@pytest.mark.parametrize("call, message", ERRORS)
def test_errors_name_the_bad_value(call, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        call()


# --- parameters --------------------------------------------------------------------------------------------

# (input shape, layer, output shape, parameters, the same count from the params.py function)
LAYERS = [
    pytest.param((28, 28, 1), L("Conv2D", filters=8, kernel_size=(3, 3)), (26, 26, 8), ParamCount(80), lambda: conv2d_params(8, 3, 1), id="Conv2D 8x(3*3*1+1)"),
    pytest.param((64, 64, 3), L("Conv2D", filters=32, kernel_size=3, padding="same"), (64, 64, 32), ParamCount(896), lambda: conv2d_params(32, (3, 3), 3), id="Conv2D on RGB"),
    pytest.param((32, 32, 32), L("Conv2D", filters=64, kernel_size=3, padding="same"), (32, 32, 64), ParamCount(18496), lambda: conv2d_params(64, 3, 32), id="Conv2D 64 on 32"),
    pytest.param((9, 9, 3), L("Conv2D", filters=10, kernel_size=3), (7, 7, 10), ParamCount(280), lambda: conv2d_params(10, 3, 3), id="10 filters 3x3x3"),
    pytest.param(
        (8, 8, 3), L("Conv2D", filters=4, kernel_size=(2, 4), strides=(2, 1), padding="same", use_bias=False), (4, 8, 4), ParamCount(96),
        lambda: conv2d_params(4, (2, 4), 3, use_bias=False), id="Conv2D no bias, rectangular",
    ),
    pytest.param((14, 14, 256), L("Conv2D", filters=64, kernel_size=1), (14, 14, 64), ParamCount(16448), lambda: conv2d_params(64, 1, 256), id="1x1 conv, many channels"),
    pytest.param((9, 9, 8), L("Conv2D", filters=8, kernel_size=3, groups=4), (7, 7, 8), ParamCount(152), lambda: conv2d_params(8, 3, 2), id="grouped conv"),
    pytest.param((9, 9, 2), L("Conv2D", filters=3, kernel_size=3, dilation_rate=2), (5, 5, 3), ParamCount(57), lambda: conv2d_params(3, 3, 2), id="dilated conv"),
    pytest.param((20, 16), L("Conv1D", filters=8, kernel_size=5, strides=2, padding="same"), (10, 8), ParamCount(648), lambda: conv1d_params(8, 5, 16), id="Conv1D"),
    pytest.param(
        (9, 9, 3), L("DepthwiseConv2D", kernel_size=3, depth_multiplier=2), (7, 7, 6), ParamCount(60),
        lambda: depthwise_conv2d_params(3, 3, 2), id="DepthwiseConv2D",
    ),
    pytest.param(
        (9, 9, 3), L("DepthwiseConv2D", kernel_size=3, strides=2, dilation_rate=2), (3, 3, 3), ParamCount(30),
        lambda: depthwise_conv2d_params(3, 3), id="DepthwiseConv2D allows strides with dilation",
    ),
    pytest.param(
        (16, 16, 32), L("SeparableConv2D", filters=64, kernel_size=3, depth_multiplier=2, padding="same"), (16, 16, 64), ParamCount(4736),
        lambda: separable_conv2d_params(64, 3, 32, 2), id="SeparableConv2D",
    ),
    pytest.param((1352,), L("Dense", units=32), (32,), ParamCount(43296), lambda: dense_params(32, 1352), id="Dense 1352->32"),
    pytest.param((16384,), L("Dense", units=128), (128,), ParamCount(2097280), lambda: dense_params(128, 16384), id="Dense 16384->128"),
    pytest.param((128,), L("Dense", units=2, use_bias=False), (2,), ParamCount(256), lambda: dense_params(2, 128, use_bias=False), id="Dense no bias"),
    pytest.param((5, 5, 64), L("Dense", units=10), (5, 5, 10), ParamCount(650), lambda: dense_params(10, 64), id="Dense on a 3D input: last axis"),
    pytest.param((16, 16, 64), L("BatchNormalization"), (16, 16, 64), ParamCount(128, 128), lambda: batchnorm_params(64), id="BatchNormalization"),
    pytest.param((128,), L("BatchNormalization", center=False), (128,), ParamCount(128, 256), lambda: batchnorm_params(128, center=False), id="BN no beta"),
    pytest.param((26, 26, 32), L("MaxPooling2D", pool_size=(2, 2)), (13, 13, 32), ParamCount(0), lambda: ParamCount(0), id="MaxPooling2D"),
    pytest.param((7, 7, 4), L("AveragePooling2D", pool_size=2, strides=2, padding="same"), (4, 4, 4), ParamCount(0), lambda: ParamCount(0), id="AveragePooling2D same"),
    pytest.param((13, 13, 8), L("GlobalAveragePooling2D"), (8,), ParamCount(0), lambda: ParamCount(0), id="GlobalAveragePooling2D"),
    pytest.param((13, 13, 8), L("GlobalMaxPooling2D", keepdims=True), (1, 1, 8), ParamCount(0), lambda: ParamCount(0), id="global keepdims"),
    pytest.param((5, 5, 16), L("Flatten"), (400,), ParamCount(0), lambda: ParamCount(0), id="Flatten"),
    pytest.param((128,), L("Dropout", rate=0.5), (128,), ParamCount(0), lambda: ParamCount(0), id="Dropout"),
    pytest.param((28, 28, 1), L("ZeroPadding2D", padding=((1, 2), (0, 3))), (31, 31, 1), ParamCount(0), lambda: ParamCount(0), id="ZeroPadding2D"),
    pytest.param((40, 3), L("MaxPooling1D", pool_size=3, strides=2), (19, 3), ParamCount(0), lambda: ParamCount(0), id="MaxPooling1D"),
    pytest.param(
        (28, 28, 8), L("Conv2D", filters=8, kernel_size=3, trainable=False), (26, 26, 8), ParamCount(0, 584),
        lambda: ParamCount(0, conv2d_params(8, 3, 8).total), id="frozen layer",
    ),
]  # fmt: skip


@pytest.mark.parametrize("input_shape, spec, out_shape, params, formula", LAYERS)
def test_layer_shape_and_parameters(input_shape, spec, out_shape, params, formula):
    assert apply_layer(input_shape, spec) == (out_shape, params)
    assert formula() == params


def test_param_count_adds_up_and_totals():
    total = ParamCount(10, 2) + ParamCount(5)
    assert (total.trainable, total.non_trainable, total.total) == (15, 2, 17)


# --- sequential models -------------------------------------------------------------------------------------

# (input shape, layers, per-layer output shapes, per-layer parameters)
MODELS = [
    pytest.param(
        (28, 28, 1),
        [L("Conv2D", filters=8, kernel_size=(3, 3), activation="relu"), L("MaxPooling2D", pool_size=(2, 2), strides=2), L("Flatten"),
         L("Dense", units=32, activation="relu"), L("Dense", units=10, activation="softmax")],
        [(26, 26, 8), (13, 13, 8), (1352,), (32,), (10,)],
        [80, 0, 0, 43296, 330],
        id="000 model A",
    ),
    pytest.param(
        (32, 32, 3),
        [L("Conv2D", filters=8, kernel_size=5), L("MaxPooling2D", pool_size=2), L("Conv2D", filters=16, kernel_size=5),
         L("MaxPooling2D", pool_size=2), L("Flatten"), L("Dense", units=120), L("Dense", units=84), L("Dense", units=10)],
        [(28, 28, 8), (14, 14, 8), (10, 10, 16), (5, 5, 16), (400,), (120,), (84,), (10,)],
        [608, 0, 3216, 0, 0, 48120, 10164, 850],
        id="003 table",
    ),
    pytest.param(
        (7, 7, 3),
        [L("Conv2D", filters=4, kernel_size=2, strides=2, padding="same"), L("SeparableConv2D", filters=8, kernel_size=3, padding="same"),
         L("DepthwiseConv2D", kernel_size=4, padding="same", depth_multiplier=3), L("BatchNormalization"), L("GlobalMaxPooling2D"),
         L("Dense", units=3)],
        [(4, 4, 4), (4, 4, 8), (4, 4, 24), (4, 4, 24), (24,), (3,)],
        [52, 76, 408, 96, 0, 75],
        id="separable and depthwise",
    ),
    pytest.param(
        (40, 3),
        [L("Conv1D", filters=16, kernel_size=5, dilation_rate=2), L("MaxPooling1D"), L("GlobalAveragePooling1D"), L("Dense", units=1)],
        [(32, 16), (16, 16), (16,), (1,)],
        [256, 0, 0, 17],
        id="1D model",
    ),
]  # fmt: skip


@pytest.mark.parametrize("input_shape, layers, shapes, params", MODELS)
def test_trace_model(input_shape, layers, shapes, params):
    trace = trace_model(input_shape, layers)
    assert [r.output_shape for r in trace.rows] == shapes
    assert [r.params.total for r in trace.rows] == params
    assert trace.total == sum(params)
    assert trace.output_shape == shapes[-1]


def test_trace_names_layers_like_keras_and_takes_input_shape_from_the_first_layer():
    layers = [L("Conv2D", filters=2, kernel_size=3, input_shape=(8, 8, 1)), L("MaxPool2D"), L("Conv2D", filters=2, kernel_size=3), L("Flatten")]
    trace = trace_model(None, layers)
    assert [r.name for r in trace.rows] == ["conv2d", "max_pooling2d", "conv2d_1", "flatten"]
    assert [r.class_name for r in trace.rows] == ["Conv2D", "MaxPooling2D", "Conv2D", "Flatten"]
    assert trace.input_shape == (8, 8, 1)


# (input shape, layers, trainable, non-trainable)
NON_TRAINABLE = [
    pytest.param((16, 16, 64), [L("BatchNormalization"), L("Dense", units=2, trainable=False)], 128, 128 + 130, id="BN statistics and a frozen layer"),
    pytest.param((10,), [L("BatchNormalization", scale=False, center=False)], 0, 20, id="BN without gamma and beta"),
]


@pytest.mark.parametrize("input_shape, layers, trainable, non_trainable", NON_TRAINABLE)
def test_trace_separates_non_trainable_weights(input_shape, layers, trainable, non_trainable):
    trace = trace_model(input_shape, layers)
    assert (trace.params.trainable, trace.params.non_trainable) == (trainable, non_trainable)


def test_layer_spec_round_trips_through_data():
    spec = L("Conv2D", filters=8, kernel_size=(3, 3), padding="same")
    assert spec.to_data() == {"class_name": "Conv2D", "filters": 8, "kernel_size": [3, 3], "padding": "same"}
    assert LayerSpec.from_data(spec.to_data()) == spec


# --- pooling -----------------------------------------------------------------------------------------------

# (input, pool_size, strides, padding, mode, expected)
POOLS = [
    pytest.param(((1, 3, 2, 4), (5, 6, 1, 2), (2, 4, 0, 1), (1, 2, 3, 4)), 2, 2, "valid", "max", ((6, 4), (4, 4)), id="000 max"),
    pytest.param(((1, 3, 2, 4), (5, 6, 7, 8), (3, 2, 1, 0), (9, 8, 6, 5)), 2, 2, "valid", "max", ((6, 8), (9, 6)), id="001 max"),
    pytest.param(X4, 2, 2, "valid", "min", ((1, 3), (9, 11)), id="001 min"),
    pytest.param(
        ((1, 3, 2, 4), (5, 6, 7, 8), (3, 2, 1, 0), (9, 8, 6, 5)), 2, 2, "valid", "average", ((F(15, 4), F(21, 4)), (F(11, 2), 3)), id="001 average"
    ),
    pytest.param(((1, 3), (7, 9)), 2, None, "valid", "max", ((9,),), id="001 one window"),
    pytest.param(X4, (2, 2), None, "valid", "max", ((6, 8), (14, 16)), id="002 Keras example"),
    pytest.param(X3, 2, 1, "valid", "max", ((5, 6), (8, 9)), id="overlapping windows"),
    pytest.param(X3, 2, 2, "same", "average", ((3, F(9, 2)), (F(15, 2), 9)), id="same average divides by the cells inside"),
    pytest.param(X5, 3, 2, "same", "average", ((4, F(11, 2), 7), (F(23, 2), 13, F(29, 2)), (19, F(41, 2), 22)), id="same average, padding on both sides"),
    pytest.param(NEGATIVE, 2, 2, "same", "max", ((-1, -4), (-2, -5)), id="same max: padding never wins"),
    pytest.param(NEGATIVE, 2, 2, "same", "min", ((-5, -9), (-6, -5)), id="same min"),
    pytest.param(NEGATIVE, 2, 2, 1, "max", ((0, 0), (0, -5)), id="zero padding 1: the zeros take part"),
    pytest.param(X4, 4, None, "valid", "average", ((F(17, 2),),), id="pool equal to the input"),
    pytest.param(X5, 1, 2, "valid", "max", ((1, 3, 5), (11, 13, 15), (21, 23, 25)), id="1x1 pool stride 2"),
    pytest.param(grid(4, 6), (2, 3), (2, 3), "valid", "max", ((9, 12), (21, 24)), id="rectangular pool"),
    pytest.param((((1, 5), (2, 6)), ((3, 7), (4, 8))), 2, None, "valid", "max", (((4, 8),),), id="two channels"),
]  # fmt: skip


@pytest.mark.parametrize("x, pool, strides, padding, mode, expected", POOLS)
def test_pool2d(x, pool, strides, padding, mode, expected):
    assert pool2d(x, pool, strides, padding, mode) == expected


def test_one_pooler_gives_pool2d_for_every_configuration_in_any_order():
    """A Pooler flattens its map once and reuses it: each configuration, asked for in any order and after the
    others, must still give exactly what a fresh pool2d gives."""
    cases = [c.values for c in POOLS]
    for x in {id(c[0]): c[0] for c in cases}.values():
        pooler = Pooler(x)
        mine = [c for c in cases if c[0] is x]
        for _x, pool, strides, padding, mode, expected in mine + mine[::-1]:
            assert pooler.pool(pool, strides, padding, mode) == expected == pool2d(x, pool, strides, padding, mode)


def test_pooler_windows_show_each_output_cells_values_and_window_size():
    # X3 = 1..9 as 3 × 3; 2 × 2 'same' with stride 2 hangs over the bottom and right edges (Keras pads there).
    # Per channel, per output row, per output cell: (the in-bounds values, the full window size).
    one_channel = (
        (((1, 2, 4, 5), 4), ((3, 6), 4)),
        (((7, 8), 4), ((9,), 4)),
    )
    assert Pooler(X3).windows(2, 2, "same") == (one_channel,)
    assert Pooler([[1, 2], [3, 4]]).windows(1) == (((((1,), 1), ((2,), 1)), (((3,), 1), ((4,), 1))),)
    two = Pooler((((1, 5), (2, 6)), ((3, 7), (4, 8))))
    assert two.windows(2, 1, "valid") == (((((1, 2, 3, 4), 4),),), ((((5, 6, 7, 8), 4),),))
    with pytest.raises(ConfigError, match="'valid' or 'same'"):
        Pooler(X3).windows(2, 1, 1)


# Two common mistakes the engine models (not Keras): (input, mode, 'same' split as ((top, bottom), (left, right)),
# the wrong answer). Their numbers equal Keras pooling of the map zero-padded that way (test_crosscheck.py).
POOL_MISTAKES = [
    # The padded zeros averaged in: 9/4 instead of 9/2 at the edge.
    pytest.param(X3, "average", ((0, 1), (0, 1)), ((3, F(9, 4)), (F(15, 4), F(9, 4))), id="averaged padded zeros"),
    pytest.param(NEGATIVE, "max", ((0, 1), (0, 1)), ((-1, 0), (0, 0)), id="padded zeros win a max"),
]


@pytest.mark.parametrize("x, mode, split, wrong", POOL_MISTAKES)
def test_pool2d_mistake_switches_change_the_answer(x, mode, split, wrong):
    assert pool2d(x, 2, 2, "same", mode, include_padding=True) == wrong != pool2d(x, 2, 2, "same", mode)


# (input, mode, expected per channel)
GLOBAL_POOLS = [
    pytest.param(X4, "average", (F(17, 2),), id="001 GAP 8.5"),
    pytest.param(X4, "max", (16,), id="001 GMP 16"),
    pytest.param((((1, -5), (2, 6)), ((3, 7), (4, 8))), "average", (F(5, 2), 4), id="two channels average"),
    pytest.param((((1, -5), (2, 6)), ((3, 7), (4, 8))), "max", (4, 8), id="two channels max"),
]


@pytest.mark.parametrize("x, mode, expected", GLOBAL_POOLS)
def test_global_pool(x, mode, expected):
    assert global_pool(x, mode) == expected


# --- convolution -------------------------------------------------------------------------------------------

NOTE_KERNEL = ((1, 0), (0, -1))

# (input, kernels, strides, padding, bias, relu, dilation, expected)
CONVS = [
    pytest.param(X3, [NOTE_KERNEL], 1, "valid", None, False, 1, ((-4, -4), (-4, -4)), id="001 example"),
    pytest.param(X3, [flip_kernel(NOTE_KERNEL)], 1, "valid", None, False, 1, ((4, 4), (4, 4)), id="flipped kernel: scipy's convolve2d"),
    pytest.param(X3, [NOTE_KERNEL], 1, "same", None, False, 1, ((-4, -4, 3), (-4, -4, 6), (7, 8, 9)), id="same: zeros at the bottom and right"),
    pytest.param(
        ((1, 2, 3, 0), (4, 5, 6, 1), (7, 8, 9, 0), (1, 2, 3, 4)), [NOTE_KERNEL], 1, "valid", None, False, 1,
        ((-4, -4, 2), (-4, -4, 6), (5, 5, 5)), id="002 4x4 example",
    ),
    pytest.param(X3, [KERNELS["sobel_x"]], 1, 1, None, False, 1, ((9, 6, -9), (20, 8, -20), (21, 6, -21)), id="zero padding 1"),
    pytest.param(X3, [KERNELS["sobel_x"]], 2, 1, None, False, 1, ((9, -9), (21, -21)), id="zero padding 1, stride 2"),
    pytest.param(X4, [((1, 1, 1),) * 3], 2, "same", None, False, 1, ((54, 45), (72, 54)), id="same stride 2 even size: pad after"),
    pytest.param(X5, [KERNELS["laplacian"]], (2, 1), "same", None, False, 1, ((4, 3, 2, 1, -6), (-10, 0, 0, 0, -16), (-46, -27, -28, -29, -56)), id="rectangular strides"),
    pytest.param(X5, [((1, 0), (0, 1))], 1, "valid", None, False, 2, ((14, 16, 18), (24, 26, 28), (34, 36, 38)), id="dilation 2"),
    pytest.param(((1, 2), (3, 4)), [KERNELS["box_blur"]], 1, "same", None, False, 1, ((F(10, 9),) * 2,) * 2, id="box blur, exact ninths"),
    pytest.param(X3, [KERNELS["gaussian_blur"]], 1, "valid", None, False, 1, ((5,),), id="Gaussian blur"),
    pytest.param(((1, 2), (3, 4)), [((-1,),)], 1, "valid", [2], True, 1, ((1, 0), (0, 0)), id="bias then ReLU"),
    pytest.param(
        (((1, 2), (3, 4)), ((5, 6), (7, 8))), [(((1, 1),),), (((1, -1),),)], 1, "valid", None, False, 1,
        (((3, -1), (7, -1)), ((11, -1), (15, -1))), id="two channels, two filters",
    ),
    pytest.param(X3, [X3], 1, "valid", [F(1, 2)], False, 1, ((F(571, 2),),), id="kernel equal to the input, fraction bias"),
]  # fmt: skip


@pytest.mark.parametrize("x, kernels, strides, padding, bias, relu, dilation, expected", CONVS)
def test_conv2d(x, kernels, strides, padding, bias, relu, dilation, expected):
    assert conv2d(x, kernels, strides, padding, bias, relu, dilation) == expected


def test_keras_cross_correlates_a_true_convolution_flips():
    # Keras slides the kernel as printed; a true convolution (scipy's convolve2d) rotates it by 180° first.
    assert flip_kernel(NOTE_KERNEL) == ((-1, 0), (0, 1))
    assert conv2d(X3, [NOTE_KERNEL]) != conv2d(X3, [flip_kernel(NOTE_KERNEL)])
    assert flip_kernel(KERNELS["sobel_x"]) == tuple(tuple(-v for v in row) for row in KERNELS["sobel_x"])
    assert flip_kernel(KERNELS["laplacian"]) == KERNELS["laplacian"]  # symmetric kernels do not care


def test_named_kernels_are_exact():
    assert named_kernel("Box blur")[0][0] == F(1, 9)
    assert sum(v for row in named_kernel("gaussian-blur") for v in row) == 1
    assert sum(v for row in named_kernel("edge") for v in row) == 0


def scaled(grid, factor):
    """Every value of a 2D or H × W × C map times ``factor``."""
    return tuple(tuple(tuple(v * factor for v in c) if isinstance(c, tuple) else c * factor for c in row) for row in grid)


@pytest.mark.parametrize(
    "x, kernel",
    [
        pytest.param(X4, ((1, -2), (3, 0)), id="2D"),
        pytest.param(X3, KERNELS["box_blur"], id="fractions"),
        pytest.param(tuple(tuple((v, -v, 2 * v) for v in row) for row in X4), (((1, 0, 2), (0, -1, 1)),) * 2, id="channels"),
    ],
)
def test_conv2d_stays_exact_beyond_64_bit_integers(x, kernel):
    # Sums that could overflow int64 are done with Python ints; convolution is linear, so scaling the input
    # scales the output by the same (huge) factor.
    big = 10**30
    for padding in ("valid", "same", 1):
        assert conv2d(scaled(x, big), [kernel], 1, padding) == scaled(conv2d(x, [kernel], 1, padding), big)
        assert conv2d(x, [scaled(kernel, big)], 1, padding) == scaled(conv2d(x, [kernel], 1, padding), big)
        # Each fits in 64 bits, their products do not.
        assert conv2d(scaled(x, 10**10), [scaled(kernel, 10**10)], 1, padding) == scaled(conv2d(x, [kernel], 1, padding), 10**20)


def test_layer_input_sums_per_channel_add_up_to_the_filter():
    def channel(m, c):
        return tuple(tuple(cell[c] for cell in row) for row in m)

    x = tuple(tuple((v, 10 - v) for v in row) for row in X4)
    kernel = (((1, 2), (0, -1)), ((F(1, 2), 3), (-1, 0)))
    channels, filters, has_channels = check_layer(x, [kernel])
    assert has_channels and channels == (channel(x, 0), channel(x, 1)) and filters == [(channel(kernel, 0), channel(kernel, 1))]
    layer = LayerInput(channels)
    whole = layer.sums(filters[0], (2, 2), "same", (1, 1))
    split = layer.sums(filters[0], (2, 2), "same", (1, 1), per_channel=True)
    assert len(whole.numerators) == 1 and len(split.numerators) == 2
    assert whole.grid() == split.grid() == channel(conv2d(x, [kernel], 2, "same"), 0)
    for c in range(2):
        alone = conv2d(channel(x, c), [channel(kernel, c)], 2, "same")
        assert split.grid(channels=(c,)) == alone
    # The kernel is 1/2 times whole numbers: ``times`` undoes that scale.
    assert whole.kernel_scale == 2 and whole.grid(times=2) == tuple(tuple(2 * v for v in row) for row in whole.grid())
    assert whole.grid(bias=F(1, 2), relu=True) == channel(conv2d(x, [kernel], 2, "same", [F(1, 2)], True), 0)


def test_check_layer_reads_lists_arrays_and_tuples_alike():
    x = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]
    as_tuples = tuple(tuple(tuple(cell) for cell in row) for row in x)
    assert check_layer(x, [x]) == check_layer(as_tuples, [as_tuples])
    assert check_layer(np.array(X3), [((1,),)]) == check_layer(X3, [((1,),)]) == ((X3,), [(((1,),),)], False)


def test_windows_show_what_each_output_cell_covers():
    # 'same' on 3 × 3 with a 2 × 2 kernel pads one row and column at the end.
    covered = windows(X3, (2, 2), (1, 1), "same", fill=None)
    assert covered[0] == (1, 2, 4, 5) and covered[2] == (3, None, 6, None) and covered[8] == (9, None, None, None)
    assert windows(X5, (2, 2), (1, 1), "valid", (2, 2))[0] == (1, 3, 11, 13)


# --- extras ------------------------------------------------------------------------------------------------

# (input size, output size, (stride, kernel))
ADAPTIVE = [
    pytest.param(6, 3, (2, 2), id="6->3"),
    pytest.param(8, 2, (4, 4), id="8->2"),
    pytest.param(12, 4, (3, 3), id="12->4"),
    pytest.param(5, 1, (5, 5), id="global"),
    pytest.param(4, 4, (1, 1), id="identity"),
]


@pytest.mark.parametrize("n_in, n_out, expected", ADAPTIVE)
def test_adaptive_avg_pool(n_in, n_out, expected):
    stride, kernel = adaptive_avg_pool(n_in, n_out)
    assert (stride, kernel) == expected
    assert output_length(n_in, kernel, stride) == n_out


# (layers as (kernel, stride[, dilation]), receptive field of one output cell)
RECEPTIVE_FIELDS = [
    pytest.param([(3, 1)], 3, id="one 3x3"),
    pytest.param([(3, 1), (3, 1)], 5, id="two 3x3 see 5x5"),
    pytest.param([(3, 1)] * 3, 7, id="three 3x3 see 7x7"),
    pytest.param([(3, 2), (3, 2)], 7, id="strided"),
    pytest.param([(3, 1, 2)], 5, id="dilated"),
    pytest.param([(2, 2), (3, 1)], 6, id="pool then conv"),
    pytest.param([(5, 1), (2, 2), (5, 1), (2, 2)], 16, id="LeNet-5"),
]


@pytest.mark.parametrize("layers, expected", RECEPTIVE_FIELDS)
def test_receptive_field(layers, expected):
    assert receptive_field(layers) == expected


# (input shape, padding, output size, kernel, input channels, filters, MACs)
MACS = [
    pytest.param((28, 28, 1), "valid", (26, 26), 3, 1, 8, 48672, id="000 model A conv"),
    pytest.param((64, 64, 3), "same", (64, 64), (3, 3), 3, 32, 3538944, id="001 first conv"),
    pytest.param((5, 11, 3), "valid", (4, 8), (2, 4), 3, 4, 3072, id="rectangular"),
]


@pytest.mark.parametrize("input_shape, padding, out_hw, kernel, channels, filters, expected", MACS)
def test_conv_macs(input_shape, padding, out_hw, kernel, channels, filters, expected):
    assert output_size_2d(input_shape[:2], kernel, 1, padding) == out_hw
    assert conv_macs(out_hw, kernel, channels, filters) == expected
