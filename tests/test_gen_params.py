"""The params topic: the course notes' parameter counts as pinned problems (Keras's numbers where a note slips),
its mistakes, trainable / non-trainable questions, and Keras's word on it."""

from __future__ import annotations

import pytest

from quizgen.bank import load_bank
from quizgen.errors import UserError
from quizgen.problem import Difficulty, ModelData
from quizgen.quiz import iter_items
from quizgen.registry import generate, problem_rng
from quizgen.resources import data_dir

TOPIC = "params"


def conv(filters, kernel, **kw):
    return {"class_name": "Conv2D", "filters": filters, "kernel_size": kernel, **kw}


def dense(units, **kw):
    return {"class_name": "Dense", "units": units, **kw}


POOL = {"class_name": "MaxPooling2D", "pool_size": [2, 2], "strides": 2}
FLATTEN = {"class_name": "Flatten"}
BN = {"class_name": "BatchNormalization"}
RELU = {"class_name": "Activation", "activation": "relu"}

MODEL_A = [conv(8, [3, 3], activation="relu"), POOL, FLATTEN, dense(32, activation="relu"), dense(10)]  # notes 000
MODEL_B = [conv(8, [3, 3]), POOL, {"class_name": "GlobalAveragePooling2D"}, dense(10)]  # notes 000
NOTES_001 = [conv(32, 3, padding="same"), POOL, conv(64, 3, padding="same"), POOL, FLATTEN, dense(128),
             {"class_name": "Dropout", "rate": 0.5}, dense(2)]
NOTES_001_BN = [conv(32, 3, padding="same"), BN, RELU, POOL, conv(64, 3, padding="same"), BN, RELU, POOL, FLATTEN,
                dense(128), BN, RELU, {"class_name": "Dropout", "rate": 0.5}, dense(2)]
NOTES_003 = [conv(8, 5), POOL, conv(16, 5), POOL, FLATTEN, dense(120), dense(84), dense(10)]
# The note's AveragePooling2D() ran on Keras 2; Keras 3 needs the pool_size (2 was the old default).
AVG = {"class_name": "AveragePooling2D", "pool_size": 2}
LENET_002 = [conv(6, 5), AVG, conv(16, 5), AVG, FLATTEN, dense(120), dense(84), dense(10)]


def made(difficulty: Difficulty = Difficulty.EASY, seed: int = 0, **params):
    return generate(TOPIC, problem_rng(seed, TOPIC, 0), difficulty, params)


def many(difficulty: Difficulty, n: int = 150, **params):
    return [generate(TOPIC, problem_rng(seed, TOPIC, 5), difficulty, params) for seed in range(n)]


def mistakes(problem) -> dict[str, int]:
    return {m.name: m.answer for m in problem.mistakes}


NOTES = [
    pytest.param({"layer": "Conv2D", "input_shape": [28, 28, 1], "filters": 8, "kernel_size": 3}, 80, id="000-conv"),
    pytest.param({"layer": "Dense", "input_shape": [1352], "units": 32}, 43_296, id="000-dense-32"),
    pytest.param({"layer": "Dense", "input_shape": [32], "units": 10}, 330, id="000-dense-10"),
    pytest.param({"layer": "model", "input_shape": [28, 28, 1], "layers": MODEL_A}, 43_706, id="000-model-a"),
    pytest.param({"layer": "model", "input_shape": [28, 28, 1], "layers": MODEL_B}, 170, id="000-model-b"),
    pytest.param({"layer": "Conv2D", "input_shape": [64, 64, 3], "filters": 32, "kernel_size": 3}, 896, id="001-conv1"),
    pytest.param({"layer": "Conv2D", "input_shape": [32, 32, 32], "filters": 64, "kernel_size": 3}, 18_496, id="001-conv2"),
    pytest.param({"layer": "Dense", "input_shape": [16384], "units": 128}, 2_097_280, id="001-dense-128"),
    pytest.param({"layer": "Dense", "input_shape": [128], "units": 2}, 258, id="001-dense-2"),
    pytest.param({"layer": "model", "input_shape": [64, 64, 3], "layers": NOTES_001}, 2_116_930, id="001-model"),
    pytest.param({"layer": "BatchNormalization", "input_shape": [64, 64, 32], "count": "total"}, 128, id="001-bn-32"),
    pytest.param({"layer": "BatchNormalization", "input_shape": [32, 32, 64], "count": "total"}, 256, id="001-bn-64"),
    pytest.param({"layer": "BatchNormalization", "input_shape": [128], "count": "total"}, 512, id="001-bn-128"),
    # 001 totals its batch-normalised model as 1,863,874, flattening 15 × 15 × 64; Keras flattens 16 × 16 × 64.
    pytest.param({"layer": "model", "input_shape": [64, 64, 3], "layers": NOTES_001_BN, "count": "total"}, 2_117_826,
                 id="001-bn-model"),
    pytest.param({"layer": "model", "input_shape": [64, 64, 3], "layers": NOTES_001_BN, "count": "trainable"}, 2_117_378, id="001-bn-trainable"),
    pytest.param({"layer": "model", "input_shape": [64, 64, 3], "layers": NOTES_001_BN, "count": "non_trainable"}, 448, id="001-bn-non-trainable"),
    # 002 counts "32 filters of 3 × 3 = 288", forgetting the biases.
    pytest.param({"layer": "Conv2D", "input_shape": [64, 64, 1], "filters": 32, "kernel_size": 3}, 320, id="002-32-filters"),
    pytest.param({"layer": "Dense", "input_shape": [4096], "units": 512}, 2_097_664, id="002-ann-512"),
    pytest.param({"layer": "Dense", "input_shape": [4096], "units": 1024}, 4_195_328, id="002-dense-1024"),
    pytest.param({"layer": "model", "input_shape": [32, 32, 1], "layers": LENET_002}, 61_706, id="002-lenet"),
    pytest.param({"layer": "Conv2D", "input_shape": [32, 32, 3], "filters": 10, "kernel_size": 3}, 280, id="003-10-filters"),
    pytest.param({"layer": "Conv2D", "input_shape": [32, 32, 3], "filters": 8, "kernel_size": 5}, 608, id="003-conv1"),
    pytest.param({"layer": "Conv2D", "input_shape": [14, 14, 8], "filters": 16, "kernel_size": 5}, 3216, id="003-conv2"),
    pytest.param({"layer": "Dense", "input_shape": [400], "units": 120}, 48_120, id="003-fc3"),
    pytest.param({"layer": "Dense", "input_shape": [120], "units": 84}, 10_164, id="003-fc4"),
    pytest.param({"layer": "Dense", "input_shape": [84], "units": 10}, 850, id="003-softmax"),
    pytest.param({"layer": "model", "input_shape": [32, 32, 3], "layers": NOTES_003}, 62_958, id="003-convnet"),
    pytest.param({"layer": "MaxPooling2D", "input_shape": [26, 26, 8], "pool_size": 2}, 0, id="pooling-is-free"),
]


@pytest.mark.parametrize("params, answer", NOTES)
def test_notes_examples(params, answer):
    for difficulty in Difficulty:
        assert made(difficulty, **params).answer == answer


@pytest.mark.parametrize(
    "params, expected",
    [
        # 002's slip: 32 × 3 × 3 = 288 leaves out the 32 biases.
        ({"layer": "Conv2D", "input_shape": [64, 64, 1], "filters": 32, "kernel_size": 3}, {"forgot-bias": 288}),
        # 003's formula (f × f + 1) × n_c forgets the input channels: (5 × 5 + 1) × 8 = 208, not 608.
        ({"layer": "Conv2D", "input_shape": [32, 32, 3], "filters": 8, "kernel_size": 5}, {"forgot-input-channels": 208}),
        ({"layer": "Conv1D", "input_shape": [100, 16], "filters": 32, "kernel_size": 3}, {"forgot-input-channels": 128}),
        ({"layer": "Dense", "input_shape": [400], "units": 120}, {"dense-no-bias": 48_000}),
        ({"layer": "DepthwiseConv2D", "input_shape": [16, 16, 32], "kernel_size": 3, "depth_multiplier": 1},
         {"forgot-bias": 288, "depthwise-as-conv": 32 * (9 * 32 + 1)}),
        ({"layer": "SeparableConv2D", "input_shape": [16, 16, 32], "filters": 64, "kernel_size": 3, "depth_multiplier": 1},
         {"separable-no-pointwise": 288 + 32, "forgot-bias": 288 + 2048}),
        ({"layer": "MaxPooling2D", "input_shape": [26, 26, 8], "pool_size": 2}, {"pooling-has-params": 2 * 2 * 8 + 8}),
        ({"layer": "BatchNormalization", "input_shape": [16, 16, 64], "count": "total"},
         {"batchnorm-two-per-channel": 128, "batchnorm-zero": 0}),
        ({"layer": "BatchNormalization", "input_shape": [16, 16, 64], "count": "trainable"}, {"trainable-includes-bn-stats": 256}),
        ({"layer": "BatchNormalization", "input_shape": [16, 16, 64], "count": "non_trainable"}, {"batchnorm-all-non-trainable": 256}),
        # Model A: without the Flatten, Dense(32) sees 8 channels; before the pooling, 26 × 26 × 8 values.
        ({"layer": "model", "input_shape": [28, 28, 1], "layers": MODEL_A},
         {"dense-on-unflattened": 80 + 8 * 32 + 32 + 330, "flattened-before-pooling": 80 + 5408 * 32 + 32 + 330,
          "pooling-has-params": 43_706 + 40, "dense-no-bias": 43_706 - 42, "forgot-bias": 43_706 - 50}),
    ],
)
def test_mistakes_are_the_engine_with_the_mistake_applied(params, expected):
    p = made(Difficulty.HARD, **params)
    found = mistakes(p)
    for name, value in expected.items():
        assert found.get(name) == value, (name, found)
    assert all(m.answer != p.answer for m in p.mistakes)


def test_worked_solutions_read_like_the_notes():
    p = made(layer="Conv2D", input_shape=[28, 28, 1], filters=8, kernel_size=3)
    assert "Conv2D: filters × (k_h × k_w × C_in + 1) = 8 × (3 × 3 × 1 + 1) = 80." in p.solution
    model = made(layer="model", input_shape=[28, 28, 1], layers=MODEL_A)
    assert isinstance(model.data[0], ModelData)
    assert "Flatten: 13 × 13 × 8 = 1352 values; 0 parameters; output (1352,)." in model.solution
    assert "Dense: n_in × n_out + n_out = 1352 × 32 + 32 = 43,296; output (32,)." in model.solution
    assert model.solution[-1] == "Total: 80 + 43,296 + 330 = 43,706."
    bn = made(layer="model", input_shape=[64, 64, 3], layers=NOTES_001_BN, count="non_trainable")
    assert bn.solution[-1].startswith("Non-trainable: 64 + 128 + 256 = 448")
    no_bias = made(layer="Conv2D", input_shape=[8, 8, 4], filters=2, kernel_size=3, use_bias=False)
    assert no_bias.answer == 72 and "forgot-bias" not in mistakes(no_bias)
    assert "Conv2D without bias: filters × k_h × k_w × C_in = 2 × 3 × 3 × 4 = 72." in no_bias.solution


def test_the_input_shape_keyword_of_a_first_layer_is_the_input_shape():
    p = made(layer="model", layers=[conv(8, 3, input_shape=[28, 28, 1]), FLATTEN, dense(10)])
    assert p.params["input_shape"] == (28, 28, 1) and "input_shape" not in p.params["layers"][0].kwargs
    assert p.answer == 80 + 26 * 26 * 8 * 10 + 10


def test_pinned_parameters_are_respected():
    for p in many(Difficulty.MEDIUM, 30, filters=24):
        assert p.params["layer"] in ("Conv2D", "Conv1D", "SeparableConv2D", "model")
        if p.params["layer"] == "model":
            assert p.params["layers"][0].kwargs["filters"] == 24
        else:
            assert p.params["filters"] == 24
    for p in many(Difficulty.EASY, 30, units=7):
        assert p.params["layer"] in ("Dense", "model")
    for p in many(Difficulty.MEDIUM, 20, count="non_trainable"):
        assert p.params["count"] == "non_trainable" and p.answer > 0
    for p in many(Difficulty.HARD, 20, layer="DepthwiseConv2D", depth_multiplier=3):
        assert p.params["depth_multiplier"] == 3
    assert made(layer="separableconv2d").params["layer"] == "SeparableConv2D"
    assert made(layer="Conv1D", kernel_size=5).params["kernel_size"] == 5


@pytest.mark.parametrize(
    "params, message",
    [
        ({"layer": "Conv2D", "units": 10}, "'units' does not apply to layer='Conv2D'"),
        ({"layer": "Conv1D", "kernel_size": [3, 5]}, "Conv1D is one size"),
        ({"layer": "Dense", "input_shape": [28, 28, 1]}, "'input_shape' for Dense must look like \\[1352\\]"),
        ({"layer": "model", "layers": [conv(8, 3)]}, "needs 'input_shape' too"),
        ({"layer": "model", "input_shape": [28, 28, 1], "layers": [conv(8, 3)], "filters": 4}, "cannot be pinned together"),
        ({"layer": "model", "input_shape": [28, 28, 1], "layers": [{"class_name": "Conv2D", "filterz": 8, "kernel_size": 3}]},
         "did you mean 'filters'"),
        ({"count": "trainable_"}, "did you mean 'trainable'"),
        ({"layer": "Conv2D", "input_shape": [2, 2, 3], "kernel_size": 3}, "larger than the padded input"),
    ],
)
def test_bad_pins_give_one_clear_error(params, message):
    with pytest.raises(UserError, match=message):
        made(Difficulty.MEDIUM, **params)


def test_every_difficulty_makes_valid_problems():
    for difficulty in Difficulty:
        problems = many(difficulty)
        for p in problems:
            assert isinstance(p.answer, int) and p.answer >= 0
            assert all(m.answer != p.answer for m in p.mistakes)
        assert sum(1 for p in problems if p.mistakes) >= 0.95 * len(problems)
        assert len({p.params["layer"] for p in problems}) >= 4


def test_hard_problems_ask_for_trainable_and_non_trainable_counts():
    problems = many(Difficulty.HARD, 200)
    counts = {p.params["count"] for p in problems}
    assert counts == {"total", "trainable", "non_trainable"}
    for p in problems:
        if p.params["count"] != "total":
            names = [p.params["layer"], *(s.class_name for s in p.params.get("layers", ()))]
            assert "BatchNormalization" in names
            assert p.answer > 0
    assert any(p.params["layer"] == "model" for p in problems)


def test_easy_and_medium_ask_for_the_total():
    for difficulty in (Difficulty.EASY, Difficulty.MEDIUM):
        assert {p.params["count"] for p in many(difficulty, 80)} == {"total"}



def test_the_shipped_bank_loads_and_makes_every_problem():
    spec = load_bank(data_dir("question_banks") / "params.yaml")
    assert {section.topic for section in spec.sections} == {"params"}
    assert {section.difficulty for section in spec.sections} == set(Difficulty)
    items = list(iter_items(spec))
    assert len(items) == spec.count
    answers = [item.problem.answer for item in items]
    # 002's "288" is 320 in Keras; 001's batch-normalised model is 2,117,826 (the note says 1,863,874).
    assert answers[:9] == [80, 320, 280, 608, 48_120, 43_706, 170, 2_117_826, 128]


# --- Keras --------------------------------------------------------------------------------------------------

EDGE_CASES = [
    {"layer": "Conv2D", "input_shape": [7, 9, 5], "filters": 3, "kernel_size": [1, 7], "use_bias": False},
    {"layer": "Conv1D", "input_shape": [10, 4], "filters": 2, "kernel_size": 10},
    {"layer": "DepthwiseConv2D", "input_shape": [5, 5, 3], "kernel_size": [3, 5], "depth_multiplier": 4, "use_bias": False},
    {"layer": "SeparableConv2D", "input_shape": [5, 5, 3], "filters": 7, "kernel_size": 3, "depth_multiplier": 2},
    {"layer": "BatchNormalization", "input_shape": [10, 6], "count": "non_trainable"},
    {"layer": "BatchNormalization", "input_shape": [3], "count": "trainable"},
    {"layer": "AveragePooling2D", "input_shape": [3, 3, 2], "pool_size": 3},
    {"layer": "model", "input_shape": [64, 64, 3], "layers": NOTES_001_BN, "count": "non_trainable"},
    {"layer": "model", "input_shape": [32, 32, 1], "layers": LENET_002},
    {"layer": "model", "input_shape": [20], "layers": [dense(5), BN, dense(3, use_bias=False)], "count": "trainable"},
    {"layer": "model", "input_shape": [12, 12, 4], "layers": [
        {"class_name": "SeparableConv2D", "filters": 6, "kernel_size": 3, "depth_multiplier": 2, "strides": 2},
        {"class_name": "BatchNormalization", "center": False},
        {"class_name": "DepthwiseConv2D", "kernel_size": 2, "depth_multiplier": 3},
        {"class_name": "GlobalMaxPooling2D"},
        dense(4),
    ]},
]
KERAS_SEEDS = 100  # per difficulty


@pytest.mark.keras
def test_generated_and_pinned_problems_agree_with_keras(keras_available):
    from quizgen.crosscheck import TOPIC_CHECKS

    check = TOPIC_CHECKS[TOPIC]
    problems = [generate(TOPIC, problem_rng(seed, TOPIC, 9), d) for d in Difficulty for seed in range(KERAS_SEEDS)]
    problems += [made(Difficulty.HARD, **params) for params in EDGE_CASES]
    problems += [made(Difficulty.MEDIUM, **param.values[0]) for param in NOTES]
    results = [(p, check(p)) for p in problems]
    failures = [f"{p.params}: {found}" for p, found in results if found]
    assert not failures, "\n".join(failures[:5])


@pytest.mark.keras
def test_the_keras_check_catches_a_wrong_count(keras_available):
    import dataclasses

    from quizgen.crosscheck import TOPIC_CHECKS

    p = made(layer="Conv2D", input_shape=[64, 64, 1], filters=32, kernel_size=3)
    assert TOPIC_CHECKS[TOPIC](dataclasses.replace(p, answer=288))
