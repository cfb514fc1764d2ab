"""The architecture topic: the course notes' networks as pinned problems (per-layer tables, totals, the GAP
head's savings), the mistakes, the difficulties, and agreement with Keras."""

from __future__ import annotations

import re

import pytest

from quizgen.bank import load_bank
from quizgen.engine import LayerSpec
from quizgen.errors import UserError
from quizgen.problem import Difficulty, Shape, Table
from quizgen.quiz import iter_items
from quizgen.registry import generate, problem_rng
from quizgen.resources import data_dir

TOPIC = "architecture"


def L(class_name: str, **kwargs) -> dict:
    return {"class_name": class_name, **kwargs}


# 000: Model A (the notes write MaxPooling2D((2,2), stride=2), which Keras refuses: the keyword is strides).
MODEL_A = [
    L("Conv2D", filters=8, kernel_size=[3, 3], activation="relu"),
    L("MaxPooling2D", pool_size=[2, 2], strides=2),
    L("Flatten"),
    L("Dense", units=32, activation="relu"),
    L("Dense", units=10, activation="softmax"),
]
MODEL_B = [
    L("Conv2D", filters=8, kernel_size=[3, 3], activation="relu"),
    L("MaxPooling2D", pool_size=[2, 2], strides=2),
    L("GlobalAveragePooling2D"),
    L("Dense", units=10, activation="softmax"),
]
# 001: the 64 × 64 × 3 network and its BatchNormalization variant.
NET_001 = [
    L("Conv2D", filters=32, kernel_size=[3, 3], strides=1, padding="same", activation="relu"),
    L("MaxPooling2D", pool_size=[2, 2], strides=2, padding="valid"),
    L("Conv2D", filters=64, kernel_size=[3, 3], strides=1, padding="same", activation="relu"),
    L("MaxPooling2D", pool_size=[2, 2], strides=2, padding="valid"),
    L("Flatten"),
    L("Dense", units=128, activation="relu"),
    L("Dropout", rate=0.5),
    L("Dense", units=2, activation="softmax"),
]
NET_001_BN = [
    L("Conv2D", filters=32, kernel_size=[3, 3], strides=1, padding="same", activation=None),
    L("BatchNormalization"),
    L("Activation", activation="relu"),
    L("MaxPooling2D", pool_size=[2, 2], strides=2, padding="valid"),
    L("Conv2D", filters=64, kernel_size=[3, 3], strides=1, padding="same", activation=None),
    L("BatchNormalization"),
    L("Activation", activation="relu"),
    L("MaxPooling2D", pool_size=[2, 2], strides=2, padding="valid"),
    L("Flatten"),
    L("Dense", units=128, activation=None),
    L("BatchNormalization"),
    L("Activation", activation="relu"),
    L("Dropout", rate=0.5),
    L("Dense", units=2, activation="softmax"),
]
# 003: the class review's example ConvNet (CONV1 f=5 with 8 filters, POOL1, CONV2 f=5 with 16, POOL2, FC3, FC4, softmax).
NET_003 = [
    L("Conv2D", filters=8, kernel_size=5),
    L("MaxPooling2D", pool_size=2),
    L("Conv2D", filters=16, kernel_size=5),
    L("MaxPooling2D", pool_size=2),
    L("Flatten"),
    L("Dense", units=120),
    L("Dense", units=84),
    L("Dense", units=10, activation="softmax"),
]
# 002: LeNet-5 and the small MNIST network with the shapes its comments list. The notes' AveragePooling2D()
# no longer runs on Keras 3, whose AveragePooling2D needs a pool_size.
LENET = [
    L("Conv2D", filters=6, kernel_size=[5, 5], activation="tanh"),
    L("AveragePooling2D", pool_size=2),
    L("Conv2D", filters=16, kernel_size=[5, 5], activation="tanh"),
    L("AveragePooling2D", pool_size=2),
    L("Flatten"),
    L("Dense", units=120, activation="tanh"),
    L("Dense", units=84, activation="tanh"),
    L("Dense", units=10, activation="softmax"),
]
MNIST_002 = [
    L("Conv2D", filters=32, kernel_size=[3, 3], activation="relu"),
    L("MaxPooling2D", pool_size=[2, 2]),
    L("Conv2D", filters=64, kernel_size=[3, 3], activation="relu"),
    L("MaxPooling2D", pool_size=[2, 2]),
    L("Flatten"),
    L("Dense", units=128, activation="relu"),
    L("Dense", units=10, activation="softmax"),
]


def arch(difficulty: Difficulty = Difficulty.MEDIUM, seed: int = 0, **params):
    return generate(TOPIC, problem_rng(seed, TOPIC, 0), difficulty, params)


def mistakes(problem) -> dict:
    return {m.name: m.answer for m in problem.mistakes}


# --- the notes' examples ----------------------------------------------------------------------------------

TABLES = [
    pytest.param(
        (28, 28, 1),
        MODEL_A,
        [((26, 26, 8), 80), ((13, 13, 8), 0), ((1352,), 0), ((32,), 43_296), ((10,), 330)],
        43_706,
        id="notes-000-model-a",
    ),
    pytest.param(
        (28, 28, 1), MODEL_B, [((26, 26, 8), 80), ((13, 13, 8), 0), ((8,), 0), ((10,), 90)], 170, id="notes-000-model-b"
    ),
    pytest.param(
        (64, 64, 3),
        NET_001,
        [
            ((64, 64, 32), 896),
            ((32, 32, 32), 0),
            ((32, 32, 64), 18_496),
            ((16, 16, 64), 0),
            ((16384,), 0),
            ((128,), 2_097_280),
            ((128,), 0),
            ((2,), 258),
        ],
        2_116_930,
        id="notes-001-network",
    ),
    pytest.param(
        (32, 32, 3),
        NET_003,
        [
            ((28, 28, 8), 608),
            ((14, 14, 8), 0),
            ((10, 10, 16), 3216),
            ((5, 5, 16), 0),
            ((400,), 0),
            ((120,), 48_120),
            ((84,), 10_164),
            ((10,), 850),
        ],
        62_958,
        id="notes-003-convnet",
    ),
    pytest.param(
        (32, 32, 1),
        LENET,
        [
            ((28, 28, 6), 156),
            ((14, 14, 6), 0),
            ((10, 10, 16), 2416),
            ((5, 5, 16), 0),
            ((400,), 0),
            ((120,), 48_120),
            ((84,), 10_164),
            ((10,), 850),
        ],
        61_706,
        id="notes-002-lenet",
    ),
    pytest.param(
        (28, 28, 1),
        MNIST_002,
        [
            ((26, 26, 32), 320),
            ((13, 13, 32), 0),
            ((11, 11, 64), 18_496),
            ((5, 5, 64), 0),
            ((1600,), 0),
            ((128,), 204_928),
            ((10,), 1290),
        ],
        225_034,
        id="notes-002-mnist",
    ),
]


@pytest.mark.parametrize("input_shape, layers, rows, total", TABLES)
def test_notes_tables(input_shape, layers, rows, total):
    p = arch(input_shape=input_shape, layers=layers, ask="table")
    assert isinstance(p.answer, Table)
    assert [(r.output_shape, r.params) for r in p.answer.rows] == [(Shape(s), n) for s, n in rows]
    assert p.answer.total == total
    assert arch(input_shape=input_shape, layers=layers, ask="total").answer == total


def test_table_rows_are_named_as_model_summary_names_them():
    p = arch(input_shape=(64, 64, 3), layers=NET_001, ask="table")
    assert [r.layer for r in p.answer.rows] == [
        "conv2d (Conv2D)",
        "max_pooling2d (MaxPooling2D)",
        "conv2d_1 (Conv2D)",
        "max_pooling2d_1 (MaxPooling2D)",
        "flatten (Flatten)",
        "dense (Dense)",
        "dropout (Dropout)",
        "dense_1 (Dense)",
    ]


def test_gap_head_saves_43536_parameters_over_model_a():
    p = arch(input_shape=(28, 28, 1), layers=MODEL_A, ask="gap_savings")
    assert p.answer == 43_706 - 170 == 43_536
    assert [d.layers for d in p.data][1][2] == LayerSpec("GlobalAveragePooling2D")
    assert p.solution[-1] == "Savings: 43,706 − 170 = 43,536 parameters."
    # From the GAP model, model A's Flatten head is rebuilt by swapping GlobalAveragePooling2D for Flatten.
    assert arch(input_shape=(28, 28, 1), layers=MODEL_B, ask="gap_savings").answer == (80 + 13 * 13 * 8 * 10 + 10) - 170


def test_notes_001_batchnorm_variant():
    """The notes get 1,863,874 (they flatten 15 × 15 × 64); Keras says 2,117,826, of which 448 non-trainable."""
    p = arch(input_shape=(64, 64, 3), layers=NET_001_BN, ask="total")
    assert p.answer == 2_117_826
    assert p.params["batch_norm"] is True
    assert p.solution[-1] == (
        "Total: 896 + 128 + 18,496 + 256 + 2,097,280 + 512 + 258 = 2,117,826 "
        "(trainable 2,117,378; non-trainable 448: BatchNormalization's moving means and variances)."
    )
    found = mistakes(p)
    assert found["batchnorm-zero"] == 2_116_930
    assert found["batchnorm-two-per-channel"] == 2_117_378


def test_worked_solution_reads_like_the_notes():
    p = arch(input_shape=(64, 64, 3), layers=NET_001, ask="table")
    assert p.solution[0] == (
        "Layer 1, Conv2D(32, 3×3, 'same') on 64 × 64 × 3: 'same' gives ⌈64/1⌉ = 64; output 64 × 64 × 32; "
        "params 32 × (3 × 3 × 3 + 1) = 896."
    )
    assert "Layer 6, Dense(128) on 16384 inputs: output 128; params 16384 × 128 + 128 = 2,097,280." in p.solution
    a = arch(input_shape=(28, 28, 1), layers=MODEL_A, ask="total")
    assert "Layer 2, MaxPooling2D(2×2, stride 2) on 26 × 26 × 8: ⌊(26 − 2)/2⌋ + 1 = 13; output 13 × 13 × 8; " \
        "params 0 (pooling has no weights)." in a.solution
    assert a.solution[-1] == "Total: 80 + 43,296 + 330 = 43,706."


MODEL_A_MISTAKES = {
    "forgot-bias": 72 + 43_264 + 320,
    "flattened-before-pooling": 80 + (26 * 26 * 8 * 32 + 32) + 330,  # Dense(32) fed the 26 × 26 × 8 map
    "pooling-has-params": 43_706 + 2 * 2 * 8 + 8,
    "dense-on-unflattened": 80 + (8 * 32 + 32) + 330,
    "same-valid-confused": 80 + (14 * 14 * 8 * 32 + 32) + 330,  # 'same' keeps 28, pooled to 14
}


@pytest.mark.parametrize("name, total", MODEL_A_MISTAKES.items())
def test_model_a_mistakes(name, total):
    assert mistakes(arch(input_shape=(28, 28, 1), layers=MODEL_A, ask="total"))[name] == total


def test_forgot_input_channels_counts_each_filter_as_one_channel_deep():
    found = mistakes(arch(input_shape=(64, 64, 3), layers=NET_001, ask="total"))
    assert found["forgot-input-channels"] == 2_116_930 - 896 - 18_496 + 32 * (3 * 3 + 1) + 64 * (3 * 3 + 1)


def test_table_mistakes_are_whole_tables():
    p = arch(input_shape=(28, 28, 1), layers=MODEL_A, ask="table")
    wrong = mistakes(p)["flattened-before-pooling"]
    assert isinstance(wrong, Table)
    # The pooling row is written correctly; Flatten and the Dense after it use the unpooled map.
    assert [r.output_shape for r in wrong.rows[:3]] == [Shape((26, 26, 8)), Shape((13, 13, 8)), Shape((5408,))]
    assert wrong.total == MODEL_A_MISTAKES["flattened-before-pooling"]


# --- difficulties -----------------------------------------------------------------------------------------


def _problems(difficulty: Difficulty, n: int = 60, index: int = 3):
    return [generate(TOPIC, problem_rng(seed, TOPIC, index), difficulty) for seed in range(n)]


@pytest.mark.parametrize("difficulty", list(Difficulty), ids=lambda d: d.value)
def test_every_difficulty_gives_valid_problems(difficulty):
    problems = _problems(difficulty)
    assert {p.params["ask"] for p in problems} == {"table", "total", "gap_savings"}
    for p in problems:
        assert p.mistakes and "forgot-bias" in mistakes(p)
        layers = p.params["layers"]
        assert all(isinstance(layer, LayerSpec) for layer in layers)
        assert p.params["batch_norm"] == any(layer.class_name == "BatchNormalization" for layer in layers)
        if p.params["ask"] == "table":
            assert len(p.answer.rows) == len(layers) and p.answer.total == sum(r.params for r in p.answer.rows)
        else:
            assert isinstance(p.answer, int) and p.answer > 0


def test_easy_models_are_one_conv_block_without_batchnorm():
    for p in _problems(Difficulty.EASY):
        classes = [layer.class_name for layer in p.params["layers"]]
        assert classes.count("Conv2D") == 1 and "BatchNormalization" not in classes


def test_medium_and_hard_models_use_batchnorm_and_both_heads():
    for difficulty in (Difficulty.MEDIUM, Difficulty.HARD):
        problems = _problems(difficulty)
        assert any(p.params["batch_norm"] for p in problems)
        assert {p.params["head"] for p in problems} == {"flatten", "gap"}


def test_hard_models_use_odd_sizes_and_same_with_stride():
    for p in _problems(Difficulty.HARD):
        assert p.params["input_shape"][0] % 2 == 1
        first = p.params["layers"][0].kwargs
        assert first["strides"] == 2 and first["padding"] == "same"


@pytest.mark.parametrize(
    "pins",
    [
        {"ask": "gap_savings"},
        {"ask": "table", "batch_norm": True},
        {"head": "gap", "batch_norm": False},
        {"input_shape": (48, 48, 3), "ask": "total"},
    ],
    ids=lambda p: ",".join(p),
)
@pytest.mark.parametrize("difficulty", list(Difficulty), ids=lambda d: d.value)
def test_pinned_parameters_are_respected(pins, difficulty):
    for seed in range(8):
        p = arch(difficulty, seed, **pins)
        for key, value in pins.items():
            assert p.params[key] == value, key


@pytest.mark.parametrize(
    "params, message",
    [
        ({"layers": [L("MaxPool2d")], "input_shape": [28, 28, 1]}, "did you mean 'MaxPool2D'?"),
        ({"layers": MODEL_A}, "with 'layers' pinned, pin 'input_shape' too"),
        ({"layers": MODEL_A, "input_shape": [28, 28, 1], "batch_norm": True}, "'batch_norm' is True but the pinned layers"),
        ({"layers": MODEL_A, "input_shape": [28, 28, 1], "head": "gap"}, "'head' is 'gap' but the pinned layers"),
        ({"layers": MODEL_A[:2], "input_shape": [28, 28, 1], "ask": "gap_savings"}, "needs a model with a Flatten"),
        ({"layers": [L("Conv2D", filters=8, kernel_size=5)], "input_shape": [3, 3, 1]}, "larger than the padded input"),
        ({"input_shape": [28, 28]}, "'input_shape' must be (H, W, C)"),
        ({"ask": "everything"}, "'ask' must be 'table', 'total' or 'gap_savings'"),
        (
            {"layers": [{k: v for k, v in layer.items() if k != "pool_size"} for layer in LENET], "input_shape": [32, 32, 1]},
            "layer 2 (AveragePooling2D): AveragePooling2D needs 'pool_size'",
        ),
    ],
)
def test_bad_pins_are_refused_with_one_clear_message(params, message):
    with pytest.raises(UserError, match=re.escape(message)):
        arch(**params)


def test_the_first_layers_input_shape_keyword_is_used_when_input_shape_is_not_pinned():
    layers = [{**MODEL_A[0], "input_shape": [28, 28, 1]}, *MODEL_A[1:]]
    assert arch(layers=layers, ask="total").answer == 43_706


def test_the_cli_makes_architecture_problems(cli):
    result = cli("make", "--topic", TOPIC, "--difficulty", "hard", "--seed", "4", "--param", "ask=table")
    assert result.exit_code == 0, result.output
    assert "| Layer |" in result.output or "Layer" in result.output


# --- the shipped bank -------------------------------------------------------------------------------------


def test_the_bank_loads_and_makes_every_problem():
    spec = load_bank(data_dir("question_banks") / "architecture.yaml")
    items = list(iter_items(spec))
    assert len(items) == spec.count and all(i.problem.topic == TOPIC for i in items)
    answers = [i.problem.answer for i in items]
    assert answers[0].total == 43_706 and answers[1] == 170 and answers[2] == 43_536


# --- Keras ------------------------------------------------------------------------------------------------

KERAS_SEEDS = range(80)


@pytest.mark.keras
def test_generated_and_pinned_problems_agree_with_keras(keras_available):
    from quizgen.crosscheck import check_problem

    problems = [arch(input_shape=p.values[0], layers=p.values[1], ask=ask) for p in TABLES for ask in ("table", "gap_savings")]
    problems.append(arch(input_shape=(64, 64, 3), layers=NET_001_BN, ask="table"))
    problems += [generate(TOPIC, problem_rng(s, TOPIC, 2), d) for d in Difficulty for s in KERAS_SEEDS]
    failures = [f"{p.difficulty.value} {p.params['ask']} {p.id}: {r}" for p in problems if (r := check_problem(p))]
    assert not failures, "\n".join(failures[:5])
