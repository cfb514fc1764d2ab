"""The convolution topic: the course notes' examples as pinned problems, its mistakes, its worked solutions,
its difficulties, and agreement with Keras."""

from __future__ import annotations

import re
from fractions import Fraction as F

import pytest

from quizgen.bank import load_bank
from quizgen.errors import UserError
from quizgen.problem import Difficulty, Matrix
from quizgen.quiz import iter_items
from quizgen.registry import generate, problem_rng
from quizgen.resources import data_dir

TOPIC = "convolution"
ONE_TO_9 = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
NINE_TO_1 = [[9, 8, 7], [6, 5, 4], [3, 2, 1]]
ONE_TO_16 = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]
NOTES_002_X = [[1, 2, 3, 0], [4, 5, 6, 1], [7, 8, 9, 0], [1, 2, 3, 4]]
DIAGONAL = [[1, 0], [0, -1]]  # the notes' 2 × 2 kernel
ANTI = [[0, 1], [1, 0]]
EDGE_X = [[0, 0, 9, 9]] * 4  # a vertical edge


def conv(difficulty: Difficulty = Difficulty.EASY, seed: int = 0, **params):
    return generate(TOPIC, problem_rng(seed, TOPIC, 0), difficulty, params)


def mistakes(problem) -> dict:
    return {m.name: m.answer for m in problem.mistakes}


def channels(*grids):
    """H × W × C from C separate H × W grids."""
    return [[list(cells) for cells in zip(*rows)] for rows in zip(*grids)]


# --- the notes' examples ----------------------------------------------------------------------------------

EXAMPLES = [
    pytest.param(
        # 001's sample problem: 3 × 3 input, 2 × 2 kernel, stride 1, no padding. Its own element-wise steps give
        # −4 four times; its printed 3 × 3 "output" is what 'same' padding would give.
        dict(inputs=ONE_TO_9, kernel=DIAGONAL),
        ((-4, -4), (-4, -4)),
        {"flipped-kernel": ((4, 4), (4, 4)), "same-valid-confused": ((-4, -4, 3), (-4, -4, 6), (7, 8, 9))},
        id="notes-001-sample",
    ),
    pytest.param(
        # 002's scipy.signal.convolve2d flips the kernel and so prints +4s; its comment shows Keras's −4s.
        dict(inputs=ONE_TO_9, kernel=DIAGONAL, strides=1, padding="valid"),
        ((-4, -4), (-4, -4)),
        {"flipped-kernel": ((4, 4), (4, 4))},
        id="notes-002-scipy",
    ),
    pytest.param(
        # 002's numerical example: "1·1 + 2·0 + 4·0 + 5·(−1) = −4" at the top left.
        dict(inputs=NOTES_002_X, kernel=DIAGONAL),
        ((-4, -4, 2), (-4, -4, 6), (5, 5, 5)),
        {"flipped-kernel": ((4, 4, -2), (4, 4, -6), (-5, -5, -5))},
        id="notes-002-4x4",
    ),
    pytest.param(
        # Sobel X on a vertical edge: (−1·0 + 1·9) + (−2·0 + 2·9) + (−1·0 + 1·9) = 36; flipped, −36.
        dict(inputs=EDGE_X, kernel="sobel_x"),
        ((36, 36), (36, 36)),
        {"flipped-kernel": ((-36, -36), (-36, -36))},
        id="sobel-x-edge",
    ),
    pytest.param(
        # Box blur: (1 + 2 + … + 9)/9 = 5, exact; Gaussian: (1 + 2·2 + 3 + 2·4 + 4·5 + 2·6 + 7 + 2·8 + 10)/16 = 81/16.
        dict(inputs=[[1, 2, 3], [4, 5, 6], [7, 8, 10]], kernel="box_blur", padding="valid"),
        ((F(46, 9),),),
        {},
        id="box-blur",
    ),
    pytest.param(
        dict(inputs=[[1, 2, 3], [4, 5, 6], [7, 8, 10]], kernel="gaussian_blur", padding="valid"),
        ((F(81, 16),),),
        {},
        id="gaussian-blur",
    ),
    pytest.param(
        # 'same', stride 2 on 3 × 3 with a 2 × 2 kernel: one padding cell per axis, at the bottom / right.
        dict(inputs=ONE_TO_9, kernel=DIAGONAL, strides=2, padding="same"),
        ((-4, 3), (7, 9)),
        {"same-split-wrong": ((-1, -3), (-7, -4)), "same-valid-confused": ((-4,),)},
        id="same-stride-2-odd",
    ),
    pytest.param(
        # Textbook padding 1 (a zero on every side), stride 2: ⌊(3 + 2 − 2)/2⌋ + 1 = 2.
        dict(inputs=ONE_TO_9, kernel=DIAGONAL, strides=2, padding=1),
        ((-1, -3), (-7, -4)),
        {},
        id="padding-1-stride-2",
    ),
    pytest.param(
        # Bias 1, then ReLU.
        dict(inputs=NOTES_002_X, kernel=DIAGONAL, bias=[1], activation="relu"),
        ((0, 0, 3), (0, 0, 7), (6, 6, 6)),
        {"forgot-relu": ((-3, -3, 3), (-3, -3, 7), (6, 6, 6)), "forgot-conv-bias": ((0, 0, 2), (0, 0, 6), (5, 5, 5))},
        id="bias-relu",
    ),
    pytest.param(
        # Dilation 2: the 2 × 2 kernel spans 3 × 3 cells, out = x[i, j] − x[i + 2, j + 2] = −10.
        dict(inputs=ONE_TO_16, kernel=DIAGONAL, dilation_rate=2),
        ((-10, -10), (-10, -10)),
        {"ignored-dilation": ((-5, -5, -5), (-5, -5, -5), (-5, -5, -5))},
        id="dilation-2",
    ),
    pytest.param(
        # Two channels, summed: channel 1 gives −4 everywhere, channel 2 gives 14, 12, 8, 6.
        dict(inputs=channels(ONE_TO_9, NINE_TO_1), kernel=channels(DIAGONAL, ANTI)),
        (((10,), (8,)), ((4,), (2,))),
        {"single-channel-only": (((-4,), (-4,)), ((-4,), (-4,)))},
        id="two-channels",
    ),
    pytest.param(
        # Two filters: one output channel each.
        dict(inputs=ONE_TO_9, kernel=DIAGONAL, kernel_2=ANTI, filters=2),
        (((-4, 6), (-4, 8)), ((-4, 12), (-4, 14))),
        {},
        id="two-filters",
    ),
]


@pytest.mark.parametrize("params, answer, wrong", EXAMPLES)
def test_pinned_examples(params, answer, wrong):
    p = conv(**params)
    assert p.answer == Matrix(answer)
    found = mistakes(p)
    for name, value in wrong.items():
        assert found[name] == Matrix(value), name


def test_the_notes_sample_reads_like_the_notes():
    p = conv(inputs=ONE_TO_9, kernel=DIAGONAL)
    assert "out[1,1] = 1·1 + 2·0 + 4·0 + 5·(−1) = −4." in p.solution
    assert "Output rows and columns: ⌊(n − k)/s⌋ + 1 = ⌊(3 − 2)/1⌋ + 1 = 2." in p.solution
    assert [d.name for d in p.data] == ["X", "K"]


def test_scaled_kernels_show_the_whole_number_sum_then_divide():
    p = conv(inputs=[[1, 2, 3], [4, 5, 6], [7, 8, 10]], kernel="box_blur")
    assert "out[1,1] = (1/9)·(1·1 + 2·1 + 3·1 + 4·1 + 5·1 + 6·1 + 7·1 + 8·1 + 10·1) = 46/9." in p.solution


def test_multichannel_solution_sums_the_channels():
    p = conv(inputs=channels(ONE_TO_9, NINE_TO_1), kernel=channels(DIAGONAL, ANTI))
    assert "out[1,1] = (1·1 + 2·0 + 4·0 + 5·(−1)) + (9·0 + 8·1 + 6·1 + 5·0) = (−4) + 14 = 10." in p.solution


def test_bias_and_relu_steps_follow_the_sums():
    p = conv(inputs=NOTES_002_X, kernel=DIAGONAL, bias=[1], activation="relu")
    assert p.solution[-2] == "Add the bias b = 1 to every cell → rows −3, −3, 3; −3, −3, 7; 6, 6, 6."
    assert p.solution[-1] == "ReLU, max(0, v), turns the negative values into 0 → rows 0, 0, 3; 0, 0, 7; 6, 6, 6."


def test_same_padding_step_says_where_the_odd_cell_goes():
    p = conv(inputs=ONE_TO_9, kernel=DIAGONAL, strides=2, padding="same")
    assert any("0 before, 1 after (Keras puts the odd one at the end: bottom / right)" in s for s in p.solution)


def test_a_named_kernel_on_several_channels_is_used_on_every_channel():
    p = conv(inputs=channels(EDGE_X, EDGE_X), kernel="sobel_x")
    assert p.answer == Matrix((((72,), (72,)), ((72,), (72,))))


# --- the worked solution's arithmetic matches the answer -------------------------------------------------

_TERM = re.compile(r"^\(?(−?\d+(?:/\d+)?)\)?·\(?(−?\d+(?:/\d+)?)\)?$")


def _number(text: str) -> F:
    return F(text.replace("−", "-").replace(",", ""))


def _sum_of_products(expr: str) -> F:
    total = F(0)
    for term in expr.split(" + "):
        match = _TERM.match(term.strip())
        assert match, term
        total += _number(match.group(1)) * _number(match.group(2))
    return total


def _check_cell_lines(p) -> int:
    """Every "out[i,j] = …" line adds up: its products (per channel, then summed; times 1/s for a scaled
    kernel) give the value it ends with. Returns the number of lines checked."""
    x = Matrix(p.params["inputs"])
    several_channels = x.has_channels and x.shape[2] > 1
    checked = 0
    for step in p.solution:
        m = re.match(r"^(?:Filter \d: )?out\[\d+,\d+\] = (.*)\.$", step)
        if not m:
            continue
        parts = m.group(1).split(" = ")
        value = _number(parts[-1])
        scale = 1
        unscaled = re.match(r"^\(1/(\d+)\)·\((.*)\)$", parts[0])
        products = parts[0]
        if unscaled:
            scale, products = int(unscaled.group(1)), unscaled.group(2)
        if several_channels:
            per_channel = [_sum_of_products(x) for x in re.findall(r"\(((?:[^()]|\([^()]*\))*)\)", products)]
            partials = re.sub(r"^\(1/\d+\)·\((.*)\)$", r"\1", parts[1])
            assert [_number(x.strip("()")) for x in partials.split(" + ")] == per_channel, step
            total = sum(per_channel)
        else:
            total = _sum_of_products(products)
        assert total / scale == value, step
        checked += 1
    return checked


@pytest.mark.parametrize("difficulty", list(Difficulty), ids=lambda d: d.value)
def test_worked_solution_arithmetic_adds_up(difficulty):
    for seed in range(40):
        p = conv(difficulty, seed)
        cells = len(p.answer.cells())
        assert _check_cell_lines(p) == cells, p.solution


# --- difficulties -----------------------------------------------------------------------------------------


def _problems(difficulty: Difficulty, n: int = 80, index: int = 3):
    return [generate(TOPIC, problem_rng(seed, TOPIC, index), difficulty) for seed in range(n)]


@pytest.mark.parametrize("difficulty", list(Difficulty), ids=lambda d: d.value)
def test_every_difficulty_gives_valid_problems(difficulty):
    for p in _problems(difficulty):
        x = Matrix(p.params["inputs"])
        assert len(set(x.cells())) >= 3, "a constant input"
        assert 4 <= len(p.answer.cells()) <= 18
        kernel = p.params["kernel"]
        assert isinstance(kernel, str) or any(v != 0 for v in Matrix(kernel).cells()), "a kernel of zeros"
        # Every targeted mistake can be told from the answer (make_problem drops the ones that cannot).
        assert p.mistakes


def test_easy_problems_are_small_2d_stride_1_valid():
    for p in _problems(Difficulty.EASY):
        x = Matrix(p.params["inputs"])
        assert not x.has_channels and x.shape in ((4, 4), (5, 5), (4, 5))
        assert p.params["kernel_size"] in ((2, 2), (3, 3))
        assert p.params["strides"] == (1, 1) and p.params["padding"] == "valid"
        assert p.params["use_bias"] is False and p.params["activation"] == "linear"
        # A random kernel that reads the same flipped would hide the flipped-kernel mistake.
        assert "flipped-kernel" in mistakes(p)


def test_medium_problems_use_padding_stride_classic_kernels_bias_and_relu():
    problems = _problems(Difficulty.MEDIUM, 120)
    assert any(p.params["padding"] not in ("valid",) for p in problems)
    assert any(p.params["strides"] == (2, 2) for p in problems)
    assert {"box_blur", "gaussian_blur"} & {p.params["kernel"] for p in problems if isinstance(p.params["kernel"], str)}
    assert any(p.params["use_bias"] for p in problems)
    assert any(p.params["activation"] == "relu" for p in problems)
    assert any(isinstance(v, F) for p in problems for v in p.answer.cells()), "blurs give exact fractions"


def test_hard_problems_use_same_with_stride_channels_filters_and_dilation():
    problems = _problems(Difficulty.HARD, 120)
    same = [p for p in problems if p.params["padding"] == "same" and p.params["strides"] != (1, 1)]
    assert same and all("same-split-wrong" in mistakes(p) for p in same)
    assert any(Matrix(p.params["inputs"]).has_channels for p in problems)
    assert any("single-channel-only" in mistakes(p) for p in problems)
    assert any(p.params["filters"] == 2 for p in problems)
    assert any(p.params["dilation_rate"] == (2, 2) for p in problems)


def test_relu_and_bias_are_only_asked_when_they_matter():
    for difficulty in (Difficulty.MEDIUM, Difficulty.HARD):
        for p in _problems(difficulty):
            found = mistakes(p)
            if p.params["activation"] == "relu":
                assert "forgot-relu" in found
            if p.params["use_bias"]:
                assert "forgot-conv-bias" in found


# --- pins -------------------------------------------------------------------------------------------------

PINS = [
    {"kernel": "emboss"},
    {"kernel_size": (3, 3), "strides": (2, 2)},
    {"padding": "same", "strides": (2, 2), "input_shape": (5, 5)},
    {"padding": 1},
    {"filters": 2},
    {"input_shape": (4, 4, 3), "kernel_size": (2, 2)},
    {"dilation_rate": (2, 2), "input_shape": (6, 6)},
    {"use_bias": True, "bias": (-2,), "activation": "relu"},
    {"use_bias": False},
]


@pytest.mark.parametrize("pins", PINS, ids=lambda p: ",".join(p))
@pytest.mark.parametrize("difficulty", list(Difficulty), ids=lambda d: d.value)
def test_pinned_parameters_are_respected(pins, difficulty):
    for seed in range(10):
        p = conv(difficulty, seed, **pins)
        for key, value in pins.items():
            if key == "input_shape":
                assert Matrix(p.params["inputs"]).shape == value
            else:
                assert p.params[key] == value, key


@pytest.mark.parametrize(
    "params, message",
    [
        ({"kernel": "sobel", "inputs": ONE_TO_9}, "did you mean"),
        ({"kernel": DIAGONAL, "kernel_size": 3}, "'kernel_size' 3 × 3 does not match the pinned kernel"),
        ({"kernel_2": ANTI, "filters": 1}, "'kernel_2' is the second filter: it needs filters=2"),
        ({"bias": [1, 2], "filters": 1, "use_bias": True}, "'bias' needs one value per filter"),
        ({"bias": [1], "use_bias": False}, "'bias' needs use_bias=true"),
        ({"input_shape": [4, 4, 2, 2]}, "'input_shape' must be"),
        ({"inputs": ONE_TO_9, "input_shape": [4, 4]}, "'input_shape' [4, 4] does not match the pinned inputs (3 × 3)"),
        ({"inputs": ONE_TO_9, "kernel": channels(DIAGONAL, ANTI)}, "a kernel must cover every input channel"),
        ({"inputs": [[1, 2], [3, 4]], "kernel_size": 3, "padding": "valid"}, "larger than the padded input"),
        ({"strides": 2, "dilation_rate": 2}, "not supported by Keras"),
        ({"activation": "tanh"}, "'activation' must be 'linear' or 'relu'"),
    ],
)
def test_bad_pins_are_refused_with_one_clear_message(params, message):
    with pytest.raises(UserError, match=re.escape(message)):
        conv(Difficulty.MEDIUM, **params)


def test_the_cli_makes_convolution_problems(cli):
    result = cli("make", "--topic", TOPIC, "--seed", "3", "--param", "kernel=sobel_x", "--param", "padding=same")
    assert result.exit_code == 0, result.output
    assert "Sobel X" in result.output and "out\\[1,1\\]" in result.output


# --- the shipped bank -------------------------------------------------------------------------------------


def test_the_bank_loads_and_makes_every_problem():
    spec = load_bank(data_dir("question_banks") / "convolution.yaml")
    items = list(iter_items(spec))
    assert len(items) == spec.count and all(i.problem.topic == TOPIC for i in items)
    assert items[0].problem.answer == Matrix(((-4, -4), (-4, -4)))


# --- Keras ------------------------------------------------------------------------------------------------

KERAS_SEEDS = range(100)


@pytest.mark.keras
def test_generated_and_pinned_problems_agree_with_keras(keras_available):
    from quizgen.crosscheck import check_problem

    problems = [conv(**params) for params, _, _ in (e.values for e in EXAMPLES)]
    problems += [generate(TOPIC, problem_rng(s, TOPIC, 2), d) for d in Difficulty for s in KERAS_SEEDS]
    failures = [f"{p.difficulty.value} {dict(p.params)}: {r}" for p in problems if (r := check_problem(p))]
    assert not failures, "\n".join(failures[:5])


def test_pinned_second_kernel_or_biases_imply_the_number_of_filters():
    assert conv(Difficulty.EASY, 0, kernel=DIAGONAL, kernel_2=ANTI).params["filters"] == 2
    for seed in range(10):
        assert conv(Difficulty.HARD, seed, use_bias=True, bias=(-2,)).params["filters"] == 1
        assert conv(Difficulty.EASY, seed, use_bias=True, bias=(1, 2)).params["filters"] == 2
