"""The output-size topic: the course notes' examples as pinned problems, its mistakes, and Keras's word on it."""

from __future__ import annotations

import pytest

from quizgen.bank import load_bank
from quizgen.errors import UserError
from quizgen.problem import Difficulty, ModelData, Shape
from quizgen.quiz import iter_items
from quizgen.registry import generate, problem_rng
from quizgen.resources import data_dir

TOPIC = "output-size"
CONV = {"layer": "Conv2D", "strides": 1, "padding": "valid", "dilation_rate": 1}
MAX_2X2 = {"layer": "MaxPooling2D", "pool_size": 2, "strides": 2, "padding": "valid"}

NOTES_001_NETWORK = [  # notes 001: the 64 × 64 × 3 network (its layers with Keras 3 keywords)
    {"class_name": "Conv2D", "filters": 32, "kernel_size": [3, 3], "strides": 1, "padding": "same"},
    {"class_name": "MaxPooling2D", "pool_size": [2, 2], "strides": 2, "padding": "valid"},
    {"class_name": "Conv2D", "filters": 64, "kernel_size": [3, 3], "strides": 1, "padding": "same"},
    {"class_name": "MaxPooling2D", "pool_size": [2, 2], "strides": 2, "padding": "valid"},
]
NOTES_003_CONVNET = [  # notes 003: CONV1 (f=5) → POOL1 → CONV2 (f=5) → POOL2 on 32 × 32 × 3
    {"class_name": "Conv2D", "filters": 8, "kernel_size": 5},
    {"class_name": "MaxPooling2D", "pool_size": 2},
    {"class_name": "Conv2D", "filters": 16, "kernel_size": 5},
    {"class_name": "MaxPooling2D", "pool_size": 2},
]


def made(difficulty: Difficulty = Difficulty.EASY, seed: int = 0, **params):
    return generate(TOPIC, problem_rng(seed, TOPIC, 0), difficulty, params)


def many(difficulty: Difficulty, count: int = 150, **params):
    return [generate(TOPIC, problem_rng(seed, TOPIC, 5), difficulty, params) for seed in range(count)]


def mistakes(problem) -> dict[str, tuple[int, ...]]:
    return {m.name: m.answer.dims for m in problem.mistakes}


# Pinned examples from the course notes, with the shapes Keras gives.
NOTES = [
    pytest.param({**CONV, "input_shape": [28, 28, 1], "filters": 8, "kernel_size": 3}, (26, 26, 8), id="000-conv-28x28"),
    pytest.param({**MAX_2X2, "input_shape": [26, 26, 8]}, (13, 13, 8), id="000-pool-26x26"),
    pytest.param({**CONV, "input_shape": [32, 32, 3], "filters": 16, "kernel_size": 3, "padding": 1}, (32, 32, 16), id="001-padding-1"),
    pytest.param({**CONV, "input_shape": [5, 5, 1], "filters": 1, "kernel_size": 3, "padding": 0}, (3, 3, 1), id="001-5x5"),
    pytest.param({**CONV, "input_shape": [64, 64, 3], "filters": 32, "kernel_size": 3, "padding": "same"}, (64, 64, 32), id="001-conv1"),
    pytest.param({**MAX_2X2, "input_shape": [64, 64, 32]}, (32, 32, 32), id="001-pool1"),
    pytest.param({**CONV, "input_shape": [32, 32, 32], "filters": 64, "kernel_size": 3, "padding": "same"}, (32, 32, 64), id="001-conv2"),
    # 001's batch-normalised variant says 15 × 15 × 64 reach Flatten; Keras pools 32 × 32 to 16 × 16.
    pytest.param({**MAX_2X2, "input_shape": [32, 32, 64]}, (16, 16, 64), id="001-pool2-not-15"),
    pytest.param({"layer": "chain", "input_shape": [64, 64, 3], "layers": NOTES_001_NETWORK}, (16, 16, 64), id="001-network"),
    pytest.param({"layer": "MaxPooling2D", "input_shape": [4, 4, 1], "pool_size": 2, "strides": 2, "padding": "valid"}, (2, 2, 1), id="002-W4-P2-S2"),
    pytest.param({**CONV, "input_shape": [227, 227, 3], "filters": 96, "kernel_size": 11, "strides": 4}, (55, 55, 96), id="002-alexnet-conv1"),
    pytest.param({"layer": "MaxPooling2D", "input_shape": [55, 55, 96], "pool_size": 3, "strides": 2, "padding": "valid"}, (27, 27, 96), id="002-alexnet-pool1"),
    pytest.param(
        {"layer": "chain", "input_shape": [224, 224, 3], "layers": [
            {"class_name": "Conv2D", "filters": 64, "kernel_size": 7, "strides": 2, "padding": "same"},
            {"class_name": "MaxPooling2D", "pool_size": 3, "strides": 2, "padding": "same"},
        ]},
        (56, 56, 64),
        id="002-resnet-stem",
    ),
    pytest.param({**CONV, "input_shape": [32, 32, 3], "filters": 8, "kernel_size": 5}, (28, 28, 8), id="003-conv1"),
    pytest.param({**MAX_2X2, "input_shape": [28, 28, 8]}, (14, 14, 8), id="003-pool1"),
    pytest.param({**CONV, "input_shape": [14, 14, 8], "filters": 16, "kernel_size": 5}, (10, 10, 16), id="003-conv2"),
    pytest.param({"layer": "chain", "input_shape": [32, 32, 3], "layers": NOTES_003_CONVNET}, (5, 5, 16), id="003-convnet"),
    pytest.param({**CONV, "input_shape": [7, 7, 3], "filters": 2, "kernel_size": 3, "strides": 2}, (3, 3, 2), id="003-strided-7x7"),
    # p = (f − 1)/2 keeps the size ("same convolution", notes 003) for any odd f.
    pytest.param({**CONV, "input_shape": [20, 20, 3], "filters": 4, "kernel_size": 5, "padding": 2}, (20, 20, 4), id="003-same-conv-p2"),
]


@pytest.mark.parametrize("params, shape", NOTES)
def test_notes_examples(params, shape):
    for difficulty in Difficulty:
        assert made(difficulty, **params).answer == Shape(shape)


@pytest.mark.parametrize(
    "params, expected",
    [
        # Textbook padding with a stride: ⌊(28 + 2·1 − 3)/2⌋ + 1 = 14.
        (
            {**CONV, "input_shape": [28, 28, 1], "filters": 8, "kernel_size": 3, "strides": 2, "padding": 1},
            {"ignored-stride": (28, 28, 8), "rounded-up": (15, 15, 8), "channels-from-input": (14, 14, 1)},
        ),
        # n + p instead of n + 2p: ⌊(32 + 1 − 3)/1⌋ + 1 = 31.
        (
            {**CONV, "input_shape": [32, 32, 3], "filters": 16, "kernel_size": 3, "padding": 1},
            {"padding-one-side": (31, 31, 16), "forgot-padding": (30, 30, 16)},
        ),
        (
            {**CONV, "input_shape": [32, 32, 3], "filters": 16, "kernel_size": 3, "padding": "valid"},
            {"same-valid-confused": (32, 32, 16)},
        ),
        # 'same' with a stride on an odd size: ⌈7/2⌉ = 4, not ⌊7/2⌋ = 3 ('valid''s ⌊(7 − 3)/2⌋ + 1 is 3 too:
        # the targeted mistake names it).
        (
            {**CONV, "input_shape": [7, 7, 3], "filters": 8, "kernel_size": 3, "strides": 2, "padding": "same"},
            {"ignored-stride": (7, 7, 8), "same-floored": (3, 3, 8)},
        ),
        (
            {**CONV, "input_shape": [7, 7, 3], "filters": 8, "kernel_size": 5, "strides": 2, "padding": "same"},
            {"same-floored": (3, 3, 8), "same-valid-confused": (2, 2, 8)},
        ),
        (
            {"layer": "MaxPooling2D", "input_shape": [9, 9, 4], "pool_size": 2, "strides": 2, "padding": "same"},
            {"ignored-stride": (9, 9, 4), "same-floored": (4, 4, 4)},
        ),
        # A dilated 3 × 3 kernel spans 5 cells: 28 − 5 + 1 = 24; ignoring the dilation gives 26.
        (
            {**CONV, "input_shape": [28, 28, 1], "filters": 4, "kernel_size": 3, "dilation_rate": 2},
            {"ignored-dilation": (26, 26, 4)},
        ),
        # Pooling with a stride that is not its window: kernel-as-stride uses 3.
        (
            {"layer": "AveragePooling2D", "input_shape": [14, 14, 2], "pool_size": 3, "strides": 2, "padding": "valid"},
            {"ignored-stride": (12, 12, 2), "kernel-as-stride": (4, 4, 2), "rounded-up": (7, 7, 2)},
        ),
    ],
)
def test_mistakes_are_the_engine_with_the_mistake_applied(params, expected):
    p = made(Difficulty.HARD, **params)
    found = mistakes(p)
    for name, shape in expected.items():
        assert found.get(name) == shape, (name, found)
    assert all(m.answer != p.answer for m in p.mistakes)


def test_textbook_padding_is_not_a_keras_mode_to_confuse():
    p = made(**{**CONV, "input_shape": [32, 32, 3], "filters": 16, "kernel_size": 3, "padding": 1})
    assert "same-valid-confused" not in mistakes(p)


def test_forgot_floor_is_never_offered_for_a_shape():
    # The unfloored size (n + 2p − k)/s + 1 is a fraction, not a shape: rounded-up stands for that slip.
    for p in many(Difficulty.MEDIUM, 60):
        assert "forgot-floor" not in mistakes(p)


def test_worked_solution_is_formula_first_then_numbers():
    p = made(**{**CONV, "input_shape": [28, 28, 1], "filters": 8, "kernel_size": 3, "strides": 2, "padding": 1})
    assert p.answer == Shape((14, 14, 8))
    assert "H_out = W_out = ⌊(n + 2p − k)/s⌋ + 1 = ⌊(28 + 2·1 − 3)/2⌋ + 1 = 14." in p.solution
    assert p.solution[0] == (
        "Keras: ZeroPadding2D(padding=1), then Conv2D(filters=8, kernel_size=(3, 3), strides=(2, 2), padding='valid')."
    )
    same = made(**{**CONV, "input_shape": [7, 9, 3], "filters": 8, "kernel_size": 3, "strides": 2, "padding": "same"})
    assert "H_out = ⌈n/s⌉ = ⌈7/2⌉ = 4." in same.solution and "W_out = ⌈n/s⌉ = ⌈9/2⌉ = 5." in same.solution
    dilated = made(**{**CONV, "input_shape": [28, 28, 1], "filters": 4, "kernel_size": 3, "dilation_rate": 2})
    assert any("⌊(28 + 2·0 − 2·(3 − 1) − 1)/1⌋ + 1 = 24" in step for step in dilated.solution)


def test_chain_prompt_shows_the_layers_and_solves_layer_by_layer():
    p = made(layer="chain", input_shape=[32, 32, 3], layers=NOTES_003_CONVNET)
    assert isinstance(p.data[0], ModelData) and len(p.data[0].layers) == 4
    assert p.solution[0].startswith("Layer 1, Conv2D(filters=8, kernel_size=5): (32, 32, 3) → (28, 28, 8)")
    assert p.solution[-1] == "Output shape: (5, 5, 16)."


def test_pinned_parameters_are_respected():
    pins = {"layer": "Conv2D", "kernel_size": [5, 3], "strides": [2, 1], "padding": "same", "filters": 12}
    for p in many(Difficulty.MEDIUM, 30, **pins):
        assert p.params["kernel_size"] == (5, 3) and p.params["strides"] == (2, 1)
        assert p.params["padding"] == "same" and p.params["filters"] == 12 and p.answer.dims[2] == 12
    for p in many(Difficulty.EASY, 30, pool_size=3):
        assert p.params["layer"] in ("MaxPooling2D", "AveragePooling2D") and p.params["pool_size"] == (3, 3)
    for p in many(Difficulty.HARD, 30, input_shape="17x23x5"):
        assert p.params["input_shape"] == (17, 23, 5)
    # Class names are matched whatever their case.
    assert made(layer="maxpooling2d").params["layer"] == "MaxPooling2D"


def test_integer_padding_is_recorded_so_keras_can_rebuild_it():
    p = made(**{**CONV, "input_shape": [28, 28, 1], "filters": 8, "kernel_size": 3, "padding": 2})
    assert p.params["padding"] == 2 and p.params["layer"] == "Conv2D"


@pytest.mark.parametrize(
    "params, message",
    [
        ({"layer": "MaxPooling2D", "kernel_size": 3}, "'kernel_size' does not apply to layer='MaxPooling2D'"),
        ({"layer": "Conv2D", "layers": NOTES_003_CONVNET}, "'layers' does not apply"),
        ({"padding": "full"}, "'padding' must be 'valid', 'same' or an integer >= 0"),
        ({"input_shape": [28, 28]}, "must be \\(height, width, channels\\)"),
        ({"layer": "Conv2D", "input_shape": [5, 5, 1], "kernel_size": 9, "padding": 0}, "larger than the padded input"),
        ({"layer": "Conv2D", "strides": 2, "dilation_rate": 2}, "not supported by Keras"),
        ({"layer": "chain", "layers": [{"class_name": "Conv2D", "filterz": 8, "kernel_size": 3}]}, "did you mean 'filters'"),
        ({"layer": "conv3d"}, "must be 'Conv2D'"),
    ],
)
def test_bad_pins_give_one_clear_error(params, message):
    with pytest.raises(UserError, match=message):
        made(Difficulty.MEDIUM, **params)


# --- what each difficulty asks for ----------------------------------------------------------------------------


def test_every_difficulty_makes_valid_problems():
    for difficulty in Difficulty:
        for p in many(difficulty):
            assert p.kind.value == "shape" and len(p.answer.dims) == 3
            assert all(isinstance(d, int) and d >= 1 for d in p.answer.dims), p.params
            assert p.mistakes, p.params
            assert all(m.answer != p.answer for m in p.mistakes)


def test_easy_problems_divide_evenly_and_are_single_layers():
    for p in many(Difficulty.EASY):
        assert p.params["layer"] != "chain"
        assert not {"rounded-up", "same-floored"} & set(mistakes(p)), p.params


def test_medium_problems_need_the_floor_whenever_they_stride():
    strided = 0
    for p in many(Difficulty.MEDIUM):
        if p.params["strides"] != (1, 1) and p.params["padding"] != "same":
            strided += 1
            assert "rounded-up" in mistakes(p), p.params
        if isinstance(p.params["padding"], int) and p.params["padding"] > 0:
            assert "padding-one-side" in mistakes(p), p.params
    assert strided >= 20


def test_hard_problems_use_same_with_strides_on_odd_sizes_dilation_rectangles_and_chains():
    problems = many(Difficulty.HARD, 200)
    singles = [p for p in problems if p.params["layer"] != "chain"]
    same_strided = [p for p in singles if p.params["padding"] == "same" and p.params["strides"] != (1, 1)]
    assert same_strided and all("same-floored" in mistakes(p) for p in same_strided)
    dilated = [p for p in singles if p.params.get("dilation_rate", (1, 1)) != (1, 1)]
    assert dilated and all("ignored-dilation" in mistakes(p) for p in dilated)
    assert any(p.params["input_shape"][0] != p.params["input_shape"][1] for p in singles)
    assert any(p.params.get("kernel_size", (1, 1))[0] != p.params.get("kernel_size", (1, 1))[1] for p in singles)
    assert any(p.params["input_shape"][2] > 3 for p in singles)
    chains = [p for p in problems if p.params["layer"] == "chain"]
    # 2–3 convolution / pooling layers; an integer padding adds its ZeroPadding2D layer in front of a Conv2D
    assert chains and all(2 <= sum(s.class_name != "ZeroPadding2D" for s in p.params["layers"]) <= 3 for p in chains)


def test_conv_problems_never_have_as_many_filters_as_input_channels():
    # Otherwise channels-from-input could not be told from the right answer.
    for difficulty in Difficulty:
        for p in many(difficulty, 80, layer="Conv2D"):
            assert p.params["filters"] != p.params["input_shape"][2]



def test_the_shipped_bank_loads_and_makes_every_problem():
    spec = load_bank(data_dir("question_banks") / "output-size.yaml")
    assert {section.topic for section in spec.sections} == {"output-size"}
    assert {section.difficulty for section in spec.sections} == set(Difficulty)
    items = list(iter_items(spec))
    assert len(items) == spec.count
    answers = [item.problem.answer for item in items]
    assert answers[:7] == [Shape(s) for s in ((26, 26, 8), (32, 32, 16), (3, 3, 1), (16, 16, 64), (5, 5, 16), (55, 55, 96), (56, 56, 64))]


# --- Keras --------------------------------------------------------------------------------------------------

EDGE_CASES = [
    {**CONV, "input_shape": [7, 7, 3], "filters": 8, "kernel_size": 3, "strides": 2, "padding": "same"},
    {**CONV, "input_shape": [8, 7, 3], "filters": 8, "kernel_size": [4, 3], "strides": [3, 2], "padding": "same"},
    {**CONV, "input_shape": [5, 5, 1], "filters": 2, "kernel_size": 5, "padding": 0},
    {**CONV, "input_shape": [5, 5, 1], "filters": 2, "kernel_size": 7, "padding": 1},
    {**CONV, "input_shape": [28, 28, 1], "filters": 4, "kernel_size": 3, "dilation_rate": [2, 3], "padding": 3},
    {**CONV, "input_shape": [9, 9, 1], "filters": 4, "kernel_size": 3, "dilation_rate": 4, "padding": "valid"},
    {**CONV, "input_shape": [28, 28, 1], "filters": 8, "kernel_size": 3, "strides": 2, "padding": 1},
    {"layer": "MaxPooling2D", "input_shape": [9, 9, 4], "pool_size": 2, "strides": 2, "padding": "same"},
    {"layer": "AveragePooling2D", "input_shape": [2, 3, 1], "pool_size": 3, "strides": 3, "padding": "same"},
    {"layer": "AveragePooling2D", "input_shape": [13, 13, 2], "pool_size": [3, 2], "strides": [2, 1], "padding": 1},
    {"layer": "chain", "input_shape": [64, 64, 3], "layers": NOTES_001_NETWORK},
    {"layer": "chain", "input_shape": [32, 32, 3], "layers": NOTES_003_CONVNET},
    {"layer": "chain", "input_shape": [15, 11, 1], "layers": [
        {"class_name": "ZeroPadding2D", "padding": [[0, 1], [2, 0]]},
        {"class_name": "Conv2D", "filters": 3, "kernel_size": [3, 1], "strides": 2, "padding": "same"},
        {"class_name": "AveragePooling2D", "pool_size": 2, "padding": "same"},
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
def test_the_keras_check_catches_a_wrong_answer(keras_available):
    import dataclasses

    from quizgen.crosscheck import TOPIC_CHECKS

    p = made(**{**CONV, "input_shape": [28, 28, 1], "filters": 8, "kernel_size": 3})
    assert TOPIC_CHECKS[TOPIC](dataclasses.replace(p, answer=Shape((27, 27, 8))))
