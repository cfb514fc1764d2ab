"""Known answers from the course notes in /work/shared/seeds (000-003), engine and Keras side by side.

Every number is checked twice: against the engine (plain tests) and against Keras (tests marked ``keras``,
which fail rather than skip in CI when TensorFlow is missing). Where a note and Keras disagree, Keras is right;
each such case says so in a comment and asserts the note's number is not the answer.
"""

from __future__ import annotations

import re
from fractions import Fraction as F

import numpy as np
import pytest

from quizgen.engine import LayerSpec, adaptive_avg_pool, conv2d, flip_kernel, global_pool, output_length, pool2d, trace_model
from quizgen.engine.model import apply_layer
from quizgen.errors import ConfigError


def L(class_name: str, **kwargs) -> LayerSpec:  # noqa: N802 - reads like the Keras layer call it stands for
    return LayerSpec(class_name, kwargs)


def grid(rows: int, cols: int) -> tuple:
    return tuple(tuple(cols * i + j + 1 for j in range(cols)) for i in range(rows))



def _keras():
    from quizgen import crosscheck

    return crosscheck


# --- whole models ------------------------------------------------------------------------------------------

MODEL_A = [
    L("Conv2D", filters=8, kernel_size=(3, 3), activation="relu"),
    # 000 writes MaxPooling2D((2,2), stride=2): Keras has no `stride` keyword (see the typo test below).
    L("MaxPooling2D", pool_size=(2, 2), strides=2),
    L("Flatten"),
    L("Dense", units=32, activation="relu"),
    L("Dense", units=10, activation="softmax"),
]
MODEL_B = [
    L("Conv2D", filters=8, kernel_size=(3, 3), activation="relu"),
    L("MaxPooling2D", pool_size=(2, 2), strides=2),
    L("GlobalAveragePooling2D"),
    L("Dense", units=10, activation="softmax"),
]
NET_001 = [
    L("Conv2D", filters=32, kernel_size=(3, 3), strides=1, padding="same", activation="relu"),
    L("MaxPooling2D", pool_size=(2, 2), strides=2, padding="valid"),
    L("Conv2D", filters=64, kernel_size=(3, 3), strides=1, padding="same", activation="relu"),
    L("MaxPooling2D", pool_size=(2, 2), strides=2, padding="valid"),
    L("Flatten"),
    L("Dense", units=128, activation="relu"),
    L("Dropout", rate=0.5),
    L("Dense", units=2, activation="softmax"),
]
NET_001_BN = [
    L("Conv2D", filters=32, kernel_size=(3, 3), strides=1, padding="same", activation=None),
    L("BatchNormalization"),
    L("Activation", activation="relu"),
    L("MaxPooling2D", pool_size=(2, 2), strides=2, padding="valid"),
    L("Conv2D", filters=64, kernel_size=(3, 3), strides=1, padding="same", activation=None),
    L("BatchNormalization"),
    L("Activation", activation="relu"),
    L("MaxPooling2D", pool_size=(2, 2), strides=2, padding="valid"),
    L("Flatten"),
    L("Dense", units=128, activation=None),
    L("BatchNormalization"),
    L("Activation", activation="relu"),
    L("Dropout", rate=0.5),
    L("Dense", units=2, activation="softmax"),
]
PIPELINE_002 = [
    L("Conv2D", filters=32, kernel_size=(3, 3), activation="relu"),
    L("MaxPooling2D", pool_size=(2, 2)),
    L("Conv2D", filters=64, kernel_size=(3, 3), activation="relu"),
    L("MaxPooling2D", pool_size=(2, 2)),
    L("Flatten"),
    L("Dense", units=128, activation="relu"),
    L("Dense", units=10, activation="softmax"),
]
FLATTEN_002 = [
    L("Conv2D", filters=32, kernel_size=(3, 3), activation="relu"),
    L("Flatten"),
    L("Dense", units=128, activation="relu"),
    L("Dense", units=10, activation="softmax"),
]


def lenet(pool: LayerSpec) -> list[LayerSpec]:
    return [
        L("Conv2D", filters=6, kernel_size=(5, 5), activation="tanh"),
        pool,
        L("Conv2D", filters=16, kernel_size=(5, 5), activation="tanh"),
        pool,
        L("Flatten"),
        L("Dense", units=120, activation="tanh"),
        L("Dense", units=84, activation="tanh"),
        L("Dense", units=10, activation="softmax"),
    ]


# 003's table: CONV1 (f=5, s=1, 8 filters), POOL1, CONV2 (f=5, s=1, 16), POOL2, FC3 120, FC4 84, softmax 10.
# The table has no Flatten row; Keras needs one before the first Dense.
TABLE_003 = [
    L("Conv2D", filters=8, kernel_size=5),
    L("MaxPooling2D", pool_size=2, strides=2),
    L("Conv2D", filters=16, kernel_size=5),
    L("MaxPooling2D", pool_size=2, strides=2),
    L("Flatten"),
    L("Dense", units=120),
    L("Dense", units=84),
    L("Dense", units=10, activation="softmax"),
]


def vgg16() -> list[LayerSpec]:
    """002's VGG-16 code (a functional model, sequential in fact)."""
    layers = []
    for filters, convs in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        layers += [L("Conv2D", filters=filters, kernel_size=(3, 3), activation="relu", padding="same") for _ in range(convs)]
        layers.append(L("MaxPooling2D", pool_size=(2, 2)))
    return [*layers, L("Flatten"), L("Dense", units=4096), L("Dense", units=4096), L("Dense", units=1000)]


# (input shape, layers, per-layer output shapes or None, per-layer parameters or None, total, non-trainable)
MODELS = [
    pytest.param((28, 28, 1), MODEL_A, [(26, 26, 8), (13, 13, 8), (1352,), (32,), (10,)], [80, 0, 0, 43296, 330], 43706, 0, id="000 model A"),
    pytest.param((28, 28, 1), MODEL_B, [(26, 26, 8), (13, 13, 8), (8,), (10,)], [80, 0, 0, 90], 170, 0, id="000 model B"),
    pytest.param(
        (28, 28, 1), [L("Conv2D", filters=32, kernel_size=(3, 3), activation="relu"), L("GlobalAveragePooling2D")],
        [(26, 26, 32), (32,)], [320, 0], 320, 0, id="000 GAP output (None, 32)",
    ),
    pytest.param(
        (64, 64, 3), NET_001,
        [(64, 64, 32), (32, 32, 32), (32, 32, 64), (16, 16, 64), (16384,), (128,), (128,), (2,)],
        [896, 0, 18496, 0, 0, 2097280, 0, 258], 2116930, 0, id="001 64x64x3 network",
    ),
    # 001 says 1,863,874: it flattens 15 × 15 × 64 = 14,400 instead of 16 × 16 × 64 = 16,384 (the same
    # network without BN prints (16, 16, 64) a page earlier), then mis-adds its own table. Keras: 2,117,826, of
    # which 448 (the moving means and variances, 2 per channel) are non-trainable.
    pytest.param(
        (64, 64, 3), NET_001_BN,
        [(64, 64, 32), (64, 64, 32), (64, 64, 32), (32, 32, 32), (32, 32, 64), (32, 32, 64), (32, 32, 64), (16, 16, 64), (16384,),
         (128,), (128,), (128,), (128,), (2,)],
        [896, 128, 0, 0, 18496, 256, 0, 0, 0, 2097280, 512, 0, 0, 258], 2117826, 448, id="001 BatchNormalization network",
    ),
    pytest.param(
        (28, 28, 1), PIPELINE_002, [(26, 26, 32), (13, 13, 32), (11, 11, 64), (5, 5, 64), (1600,), (128,), (10,)],
        [320, 0, 18496, 0, 0, 204928, 1290], 225034, 0, id="002 28x28 pipeline",
    ),
    pytest.param(
        (28, 28, 1), FLATTEN_002, [(26, 26, 32), (21632,), (128,), (10,)], [320, 0, 2769024, 1290], 2770634, 0, id="002 Flatten 26x26x32 -> 21632",
    ),
    # 002: "Total params: 60K". Its code's AveragePooling2D() no longer runs on Keras 3 (see below); with
    # Keras 2's default pool_size=(2, 2) the model has 61,706 parameters.
    pytest.param(
        (32, 32, 1), lenet(L("AveragePooling2D", pool_size=(2, 2))),
        [(28, 28, 6), (14, 14, 6), (10, 10, 16), (5, 5, 16), (400,), (120,), (84,), (10,)],
        [156, 0, 2416, 0, 0, 48120, 10164, 850], 61706, 0, id="002 LeNet-5",
    ),
    pytest.param((224, 224, 3), vgg16(), None, None, 138357544, 0, id="002 VGG-16 138M"),
    pytest.param(
        (32, 32, 3), TABLE_003, [(28, 28, 8), (14, 14, 8), (10, 10, 16), (5, 5, 16), (400,), (120,), (84,), (10,)],
        [608, 0, 3216, 0, 0, 48120, 10164, 850], 62958, 0, id="003 table",
    ),
]  # fmt: skip


@pytest.mark.parametrize("input_shape, layers, shapes, params, total, non_trainable", MODELS)
def test_models_engine(input_shape, layers, shapes, params, total, non_trainable):
    trace = trace_model(input_shape, layers)
    if shapes is not None:
        assert [r.output_shape for r in trace.rows] == shapes
    if params is not None:
        assert [r.params.total for r in trace.rows] == params
    assert (trace.total, trace.params.non_trainable) == (total, non_trainable)


@pytest.mark.parametrize("input_shape, layers, shapes, params, total, non_trainable", MODELS)
@pytest.mark.keras
@pytest.mark.usefixtures("keras_available")
def test_models_keras(input_shape, layers, shapes, params, total, non_trainable):
    rows = _keras().keras_output_shape(input_shape, layers)
    if shapes is not None:
        assert [r[0] for r in rows] == shapes
    if params is not None:
        assert [r[1] + r[2] for r in rows] == params
    assert (sum(r[1] + r[2] for r in rows), sum(r[2] for r in rows)) == (total, non_trainable)


def test_001_bn_network_is_not_the_notes_total():
    trace = trace_model((64, 64, 3), NET_001_BN)
    assert trace.total != 1_863_874
    assert trace.rows[8].output_shape == (16384,) != (14400,)  # the note's 15 × 15 × 64


# --- code in the notes that Keras refuses ------------------------------------------------------------------

REFUSED = [
    # 000: MaxPooling2D((2,2), stride=2) — Keras's keyword is `strides`.
    pytest.param((28, 28, 1), [L("Conv2D", filters=8, kernel_size=(3, 3)), L("MaxPooling2D", pool_size=(2, 2), stride=2)],
                 "unknown keyword 'stride' for MaxPooling2D (did you mean 'strides'?)",
                 "Unrecognized keyword arguments passed to MaxPooling2D: {'stride': 2}", id="000 stride= typo"),
    # 002's LeNet: AveragePooling2D() — Keras 3 requires pool_size (Keras 2 defaulted it to (2, 2)).
    pytest.param((32, 32, 1), lenet(L("AveragePooling2D")), "AveragePooling2D needs 'pool_size'",
                 "missing 1 required positional argument: 'pool_size'", id="002 AveragePooling2D()"),
]  # fmt: skip


@pytest.mark.parametrize("input_shape, layers, message, keras_message", REFUSED)
def test_refused_code_engine(input_shape, layers, message, keras_message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        trace_model(input_shape, layers)


@pytest.mark.parametrize("input_shape, layers, message, keras_message", REFUSED)
@pytest.mark.keras
@pytest.mark.usefixtures("keras_available")
def test_refused_code_keras(input_shape, layers, message, keras_message):
    kc = _keras()
    with pytest.raises(kc.KerasRefusal, match=re.escape(keras_message)):
        kc.keras_output_shape(input_shape, layers)


# --- single-layer counts the notes state -------------------------------------------------------------------

# (input shape, layer, what the note says, Keras)
LAYER_COUNTS = [
    pytest.param((9, 9, 3), L("Conv2D", filters=10, kernel_size=3), 280, 280, id="003 10 filters 3x3x3 = 280"),
    pytest.param((4096,), L("Dense", units=512), 2_097_664, 2_097_664, id="002 ANN 4096x512+512"),
    pytest.param((4096,), L("Dense", units=1024), 4_195_328, 4_195_328, id="002 FC 4096->1024"),
    pytest.param((16384,), L("Dense", units=128), 2_097_280, 2_097_280, id="001 Dense 16384->128"),
    # 002: "32 filters, size 3 × 3: Parameters = 32 × 3 × 3 = 288" on a 64 × 64 grayscale image: no biases.
    pytest.param((64, 64, 1), L("Conv2D", filters=32, kernel_size=3), 288, 320, id="002 288 forgets the bias"),
    # 002: "cnn_params = 5 * 3 * 3 * 1  # = 45": no biases either.
    pytest.param((100, 100, 1), L("Conv2D", filters=5, kernel_size=3), 45, 50, id="002 45 forgets the bias"),
    # 002: "fc_params = 100 * 100 * 500  # = 5,000,000": the 500 biases are missing.
    pytest.param((10000,), L("Dense", units=500), 5_000_000, 5_000_500, id="002 FC 100x100x500 forgets the bias"),
    # 003: "For CONV, No. parameters = (f × f + 1) × n_c" leaves out the input channels; its own table is right.
    pytest.param((32, 32, 3), L("Conv2D", filters=8, kernel_size=5), (5 * 5 + 1) * 8, 608, id="003 formula CONV1: 208 vs 608"),
    pytest.param((14, 14, 8), L("Conv2D", filters=16, kernel_size=5), (5 * 5 + 1) * 16, 3216, id="003 formula CONV2: 416 vs 3216"),
]  # fmt: skip


@pytest.mark.parametrize("input_shape, spec, note, keras", LAYER_COUNTS)
def test_layer_counts_engine(input_shape, spec, note, keras):
    _, params = apply_layer(input_shape, spec)
    assert params.total == keras
    assert (note == keras) == (params.total == note)


@pytest.mark.parametrize("input_shape, spec, note, keras", LAYER_COUNTS)
@pytest.mark.keras
@pytest.mark.usefixtures("keras_available")
def test_layer_counts_keras(input_shape, spec, note, keras):
    (_, trainable, non_trainable), = _keras().keras_output_shape(input_shape, [spec])
    assert trainable + non_trainable == keras


# --- output sizes ------------------------------------------------------------------------------------------

# (op, n, k, s, padding, expected)
SIZES = [
    pytest.param("conv", 5, 3, 1, 0, 3, id="001 5x5, 3x3, stride 1, padding 0 -> 3x3"),
    pytest.param("conv", 32, 3, 1, 1, 32, id="001 32x32 with padding 1 stays 32x32"),
    pytest.param("pool", 64, 2, 2, "valid", 32, id="001 (64-2)/2+1 = 32"),
    pytest.param("pool", 32, 2, 2, "valid", 16, id="001 (32-2)/2+1 = 16"),
    pytest.param("pool", 26, 2, 2, "valid", 13, id="000 13x13 after pooling"),
    pytest.param("conv", 28, 3, 1, "valid", 26, id="002 28 -> 26"),
    pytest.param("conv", 13, 3, 1, "valid", 11, id="002 13 -> 11"),
    pytest.param("pool", 11, 2, 2, "valid", 5, id="002 11 -> 5, floored"),
    pytest.param("pool", 4, 2, 2, "valid", 2, id="002 W=4, P=2, S=2 -> 2"),
    pytest.param("conv", 7, 3, 1, 1, 7, id="003 same: p = (f-1)/2"),
    # 000's pooling formula (H - m + 2p)/s + 1 has no floor: (7 - 2)/2 + 1 = 3.5; Keras (and 002, 003) floor to 3.
    pytest.param("pool", 7, 2, 2, "valid", 3, id="000 formula without floor: 3.5 vs 3"),
]


@pytest.mark.parametrize("op, n, k, s, padding, expected", SIZES)
def test_sizes_engine(op, n, k, s, padding, expected):
    assert output_length(n, k, s, padding) == expected


@pytest.mark.parametrize("op, n, k, s, padding, expected", SIZES)
@pytest.mark.keras
@pytest.mark.usefixtures("keras_available")
def test_sizes_keras(op, n, k, s, padding, expected):
    assert _keras().keras_output_hw(op, (n, n), k, s, padding) == (expected, expected)


# --- pooling -----------------------------------------------------------------------------------------------

X_001 = ((1, 3, 2, 4), (5, 6, 7, 8), (3, 2, 1, 0), (9, 8, 6, 5))

# (input, pool_size, strides, mode, expected)
POOLS = [
    pytest.param(((1, 3, 2, 4), (5, 6, 1, 2), (2, 4, 0, 1), (1, 2, 3, 4)), 2, 2, "max", ((6, 4), (4, 4)), id="000 max 2x2 stride 2"),
    pytest.param(X_001, 2, 2, "max", ((6, 8), (9, 6)), id="001 max"),
    pytest.param(grid(4, 4), 2, 2, "min", ((1, 3), (9, 11)), id="001 min"),
    pytest.param(X_001, 2, 2, "average", ((F(15, 4), F(21, 4)), (F(11, 2), 3)), id="001 average 3.75 5.25 5.5 3.0"),
    pytest.param(((1, 3), (7, 9)), 2, 2, "max", ((9,),), id="001 [[1,3],[7,9]] -> 9"),
    pytest.param(grid(4, 4), (2, 2), None, "max", ((6, 8), (14, 16)), id="002 Keras MaxPooling2D"),
]


@pytest.mark.parametrize("x, pool, strides, mode, expected", POOLS)
def test_pooling_engine(x, pool, strides, mode, expected):
    assert pool2d(x, pool, strides, "valid", mode) == expected


@pytest.mark.parametrize("x, pool, strides, mode, expected", POOLS)
@pytest.mark.keras
@pytest.mark.usefixtures("keras_available")
def test_pooling_keras(x, pool, strides, mode, expected):
    kc = _keras()
    assert kc.compare_values(expected, kc.keras_pool2d(x, pool, strides, "valid", mode)) == []


GLOBAL = [
    pytest.param("average", F(17, 2), id="001 GAP 136/16 = 8.5"),
    pytest.param("max", 16, id="001 GMP 16"),
]


@pytest.mark.parametrize("mode, expected", GLOBAL)
def test_global_pooling_engine(mode, expected):
    assert global_pool(grid(4, 4), mode) == (expected,)


@pytest.mark.parametrize("mode, expected", GLOBAL)
@pytest.mark.keras
@pytest.mark.usefixtures("keras_available")
def test_global_pooling_keras(mode, expected):
    kc = _keras()
    assert kc.compare_values((expected,), kc.keras_global_pool(grid(4, 4), mode)) == []


# --- convolution -------------------------------------------------------------------------------------------

X3 = grid(3, 3)
K = ((1, 0), (0, -1))

# (input, kernel, padding, expected)
CONVS = [
    # 001: 3 × 3 input, 2 × 2 kernel, stride 1, "No Padding": [[-4, -4], [-4, -4]]. The note prints a 3 × 3
    # "2×2 Convolution Output" [[-4, -4, 3], [-4, -4, 6], [7, 8, 9]]: that is padding='same' (zeros at the
    # bottom and right), not the valid convolution it describes.
    pytest.param(X3, K, "valid", ((-4, -4), (-4, -4)), id="001 valid 2x2"),
    pytest.param(X3, K, "same", ((-4, -4, 3), (-4, -4, 6), (7, 8, 9)), id="001 printed matrix is 'same'"),
    # 002: `convolve2d(I, K, mode='valid')` is printed as [[-4, -4], [-4, -4]] — the cross-correlation Keras
    # computes. scipy's convolve2d flips the kernel and gives [[4, 4], [4, 4]]: Conv2D with the flipped kernel.
    pytest.param(X3, K, "valid", ((-4, -4), (-4, -4)), id="002 printed output is Keras's"),
    pytest.param(X3, flip_kernel(K), "valid", ((4, 4), (4, 4)), id="002 scipy convolve2d = flipped kernel"),
    # 002's 4 × 4 example: "Convolution result at top-left position: 1 − 5 = −4".
    pytest.param(((1, 2, 3, 0), (4, 5, 6, 1), (7, 8, 9, 0), (1, 2, 3, 4)), K, "valid", ((-4, -4, 2), (-4, -4, 6), (5, 5, 5)), id="002 4x4"),
]  # fmt: skip


@pytest.mark.parametrize("x, kernel, padding, expected", CONVS)
def test_convolution_engine(x, kernel, padding, expected):
    assert conv2d(x, [kernel], 1, padding) == expected


@pytest.mark.parametrize("x, kernel, padding, expected", CONVS)
@pytest.mark.keras
@pytest.mark.usefixtures("keras_available")
def test_convolution_keras(x, kernel, padding, expected):
    kc = _keras()
    assert kc.compare_values(expected, kc.keras_conv2d(x, [kernel], 1, padding)) == []


def test_note_001_printed_matrix_is_not_the_valid_convolution():
    assert conv2d(X3, [K]) != ((-4, -4, 3), (-4, -4, 6), (7, 8, 9))


def test_scipy_convolve2d_flips_the_kernel():
    signal = pytest.importorskip("scipy.signal")
    assert signal.convolve2d(np.array(X3), np.array(K), mode="valid").tolist() == [[4, 4], [4, 4]]
    assert signal.correlate2d(np.array(X3), np.array(K), mode="valid").tolist() == [list(r) for r in conv2d(X3, [K])]


# --- 003's adaptive average pooling ------------------------------------------------------------------------

# 003: stride = input // output, kernel = input − (output − 1) · stride, padding 0.
ADAPTIVE = [pytest.param(6, 3, (2, 2), id="6->3"), pytest.param(8, 2, (4, 4), id="8->2"), pytest.param(12, 4, (3, 3), id="12->4")]


@pytest.mark.parametrize("n_in, n_out, expected", ADAPTIVE)
def test_adaptive_formula_engine(n_in, n_out, expected):
    assert adaptive_avg_pool(n_in, n_out) == expected


@pytest.mark.parametrize("n_in, n_out, expected", ADAPTIVE)
@pytest.mark.keras
@pytest.mark.usefixtures("keras_available")
def test_adaptive_formula_keras(n_in, n_out, expected):
    kc = _keras()
    x = grid(n_in, n_in)
    stride, kernel = expected
    assert kc.compare_values(pool2d(x, kernel, stride, "valid", "average"), kc.keras_adaptive_avg_pool(x, n_out)) == []


def test_adaptive_formula_is_refused_when_the_windows_vary():
    with pytest.raises(ConfigError, match="does not divide"):
        adaptive_avg_pool(10, 4)


@pytest.mark.keras
@pytest.mark.usefixtures("keras_available")
def test_adaptive_formula_is_wrong_when_the_output_does_not_divide_the_input():
    # 10 -> 4: the formula's fixed windows (stride 2, kernel 4) cover [0, 4), [2, 6), [4, 8), [6, 10); Keras (like
    # PyTorch) uses [0, 3), [2, 5), [5, 8), [7, 10). That is why the engine refuses such sizes.
    kc = _keras()
    x = grid(10, 10)
    fixed = kc.keras_pool2d(x, 4, 2, "valid", "average")
    assert fixed.shape == (4, 4)
    assert kc.compare_values(pool2d(x, 4, 2, "valid", "average"), kc.keras_adaptive_avg_pool(x, 4)) != []
