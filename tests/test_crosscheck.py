"""The engine against Keras: hypothesis property tests over wide random configurations of every family, the
engine tables of test_engine.py proven by Keras, generated problems, the checker itself, and the command.

Tests marked ``keras`` need TensorFlow: they fail in CI when it is missing (the keras_available fixture), and
are skipped elsewhere. The others check that TensorFlow stays optional.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import test_engine as tables  # the engine's known-answer tables, proven by Keras below
from quizgen import crosscheck as kc
from quizgen import verify
from quizgen.engine import KERNELS, LayerSpec, ParamCount, conv2d, flip_kernel, pool2d, receptive_field, trace_model
from quizgen.engine.model import LayerRow, Trace, apply_layer
from quizgen.errors import ConfigError, UserError
from quizgen.problem import Difficulty, Mistake
from quizgen.registry import generate, generators, problem_rng

needs_keras = pytest.mark.usefixtures("keras_available")
PROPERTY = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FEW = settings(PROPERTY, max_examples=250)


def L(class_name: str, **kwargs) -> LayerSpec:  # noqa: N802 - reads like the Keras layer call it stands for
    return LayerSpec(class_name, kwargs)


def agree(results) -> None:
    results = results if isinstance(results, list) else [results]
    bad = [r for r in results if not r.agrees]
    assert not bad, "\n".join(f"{r.config}\n  engine: {r.engine}\n  Keras:  {r.keras}\n  {r.problems}" for r in bad)


def nested(a: np.ndarray):
    return tuple(nested(v) for v in a) if a.ndim else int(a)


# --- TensorFlow stays optional ------------------------------------------------------------------------------


def _run(*code: str) -> subprocess.CompletedProcess:
    script = "\n".join(textwrap.dedent(part) for part in code)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)


def test_importing_quizgen_and_its_cli_does_not_import_tensorflow():
    proc = _run(
        """
        import sys
        import quizgen, quizgen.cli, quizgen.crosscheck, quizgen.verify, quizgen.registry
        from click.testing import CliRunner
        for args in (["--help"], ["verify", "--help"], ["topics"]):
            result = CliRunner().invoke(quizgen.cli.main, args)
            assert result.exit_code == 0, (args, result.output)
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras")))
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_making_a_quiz_imports_neither_tensorflow_nor_numpy():
    # numpy alone costs about a quarter of the start-up budget; only the cross-check and convolutions need it.
    proc = _run(
        """
        import sys
        from click.testing import CliRunner
        import quizgen.cli
        for topic in ("pooling", "output-size", "params", "architecture"):
            result = CliRunner().invoke(quizgen.cli.main, ["make", "--topic", topic, "--count", "5", "--seed", "1"])
            assert result.exit_code == 0, result.output
        print(sorted({m.split(".")[0] for m in sys.modules} & {"numpy", "tensorflow", "keras"}))
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


_WITHOUT_TENSORFLOW = """
    import sys

    class NoTensorFlow:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("tensorflow", "keras"):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    sys.meta_path.insert(0, NoTensorFlow())
"""


def test_missing_tensorflow_names_the_install_command():
    proc = _run(
        _WITHOUT_TENSORFLOW,
        """
        from quizgen.crosscheck import load_keras
        from quizgen.errors import MissingDependencyError
        try:
            load_keras()
        except MissingDependencyError as exc:
            print(exc)
        """,
    )
    assert proc.returncode == 0, proc.stderr
    assert "pip install 'quizgen[keras]'" in proc.stdout


def test_verify_without_tensorflow_is_a_one_line_error():
    proc = _run(_WITHOUT_TENSORFLOW, "from quizgen.cli import main\nmain(['verify', '--cases', '3'])")
    assert proc.returncode == 3
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("quizgen: error:") and "pip install 'quizgen[keras]'" in lines[0], proc.stderr
    assert proc.stdout == ""


# --- the checker, without Keras -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "engine, keras, problems",
    [
        ([[F(1, 3)]], [[0.33333334]], 0),  # float32 rounding
        ([[0]], [[5e-5]], 0),  # the absolute floor near zero
        ([[0]], [[2e-4]], 1),
        ([[100000]], [[100000.5]], 0),  # within 1e-5 relative
        ([[100000]], [[100002]], 1),
        ([[1, 2], [3, 4]], [[1, 2], [3, 5]], 1),
        ([[1, 2], [3, 4]], [[1, 2]], 1),  # shapes
        (F(17, 2), 8.5, 0),
    ],
)
def test_compare_values_tolerance(engine, keras, problems):
    assert len(kc.compare_values(engine, np.asarray(keras))) == problems


def test_compare_values_shows_both_values_and_counts_the_rest():
    out = kc.compare_values(((F(15, 4),) * 6,), np.zeros((1, 6)))
    assert out[0] == "output[0, 0]: engine 15/4 (3.75), Keras 0"
    assert out[-1] == "output: ... and 2 more differing cells"


def test_compare_outcomes_counts_two_refusals_as_agreement():
    def refuse_engine():
        raise ConfigError("no")

    def refuse_keras():
        raise kc.KerasRefusal("no either")

    assert kc.compare_outcomes(refuse_engine, refuse_keras, lambda a, b: ["never"])[2] == []
    assert "the engine refuses" in kc.compare_outcomes(refuse_engine, lambda: 1, lambda a, b: [])[2][0]
    assert "Keras refuses" in kc.compare_outcomes(lambda: 1, refuse_keras, lambda a, b: [])[2][0]
    assert kc.compare_outcomes(lambda: 1, lambda: 2, lambda a, b: [f"{a} != {b}"])[2] == ["1 != 2"]


def test_compare_trace_names_the_layer_and_the_total():
    trace = Trace((4,), (LayerRow("dense", "Dense", (2,), ParamCount(10)), LayerRow("batch_normalization", "BatchNormalization", (2,), ParamCount(4))))
    assert kc.compare_trace(trace, [((2,), 10, 0), ((2,), 4, 4)]) == [
        "layer 2 (BatchNormalization) parameters: engine 4 trainable + 0 non-trainable, Keras 4 + 4",
        "total parameters: engine 14, Keras 18",
    ]
    assert kc.compare_trace(trace, [((2,), 10, 0)]) == ["engine traced 2 layers, Keras 1"]


def _pooling_problem():
    return generate("pooling", problem_rng(3, "pooling", 0), Difficulty.HARD, {"mode": "max"})


def test_check_problem_reports_a_mistake_that_gives_the_right_answer():
    p = _pooling_problem()
    bad = dataclasses.replace(p, mistakes=(Mistake("ignored-stride", p.answer, "..."),))
    assert kc.check_mistakes(bad) == [f"mistake 'ignored-stride' gives the right answer ({p.answer!r})"]


def test_check_problem_needs_a_check_for_the_topic():
    p = dataclasses.replace(_pooling_problem(), topic="no-such-topic")
    assert kc.check_problem(p) == ["no Keras cross-check for topic 'no-such-topic' in quizgen.crosscheck.TOPIC_CHECKS"]


def test_topic_check_refuses_a_second_check_for_a_topic():
    with pytest.raises(Exception, match="two Keras cross-checks"):
        kc.topic_check("pooling")(lambda p: [])


def test_verify_arguments_are_checked_before_keras_loads():
    with pytest.raises(UserError, match="must be an integer >= 1"):
        verify.run_verify(0, 0)
    with pytest.raises(UserError, match="unknown family 'poolng' \\(did you mean 'pooling'\\?\\)"):
        verify.run_verify(5, 0, families=["poolng"])


def test_planned_cases_counts_the_edge_cases_that_always_run():
    edges = {name: f.edge_cases for name, f in verify.FAMILIES.items()}
    assert verify.planned_cases(1) == sum(edges.values())
    assert verify.planned_cases(1000, ["pooling", "params"]) == 2000
    assert all(n >= 5 for n in edges.values())


def test_format_report_shows_the_table_and_the_disagreements_in_full():
    bad = verify.CaseResult("conv on 7×7, kernel (3, 3)", "(4, 4)", "(3, 3)", ("output size: engine (4, 4), Keras (3, 3)",))
    report = verify.VerifyReport(
        7, 10, (verify.FamilyReport("output-size", 10, 9, 1, (bad,)), verify.FamilyReport("pooling", 12, 12, 0, ()))
    )
    text = verify.format_report(report)
    assert text.splitlines()[:4] == [
        "family       cases  agreements  disagreements",
        "-----------  -----  ----------  -------------",
        "output-size     10           9              1",
        "pooling         12          12              0",
    ]
    assert "1 disagreement(s) in 22 cases (seed 7)" in text
    assert "[output-size] conv on 7×7, kernel (3, 3)\n  engine: (4, 4)\n  Keras:  (3, 3)\n  - output size" in text
    assert not report.ok


# --- hypothesis: engine against Keras, family by family -----------------------------------------------------

pairs = st.tuples(st.integers(1, 5), st.integers(1, 5))
paddings = st.sampled_from(["valid", "same"]) | st.integers(0, 3)


@st.composite
def output_size_cases(draw):
    op = draw(st.sampled_from(["conv", "pool"]))
    size = draw(st.tuples(st.integers(1, 40), st.integers(1, 40)))
    kernel = draw(st.tuples(st.integers(1, 8), st.integers(1, 8)))
    strides = draw(st.tuples(st.integers(1, 4), st.integers(1, 4)))
    dilation = draw(st.tuples(st.integers(1, 3), st.integers(1, 3))) if op == "conv" and draw(st.booleans()) else (1, 1)
    return op, size, kernel, strides, draw(paddings), dilation


@pytest.mark.keras
@needs_keras
@PROPERTY
@given(output_size_cases())
@example(("conv", (7, 7), (3, 3), (2, 2), "same", (1, 1)))  # 'same' with stride 2, odd size
@example(("conv", (8, 8), (3, 3), (2, 2), "same", (1, 1)))  # ... even size
@example(("pool", (8, 9), (2, 2), (3, 3), "same", (1, 1)))
@example(("conv", (6, 6), (4, 4), (1, 1), "same", (1, 1)))  # even kernel
@example(("conv", (7, 7), (3, 3), (1, 1), "valid", (2, 2)))  # dilation
@example(("conv", (9, 9), (3, 3), (2, 1), "valid", (1, 2)))  # strides and dilation on different axes
@example(("conv", (5, 5), (5, 5), (1, 1), "valid", (1, 1)))  # kernel equal to the input
@example(("conv", (5, 5), (6, 6), (1, 1), "valid", (1, 1)))  # kernel larger: both refuse
@example(("pool", (9, 9), (1, 1), (2, 2), "valid", (1, 1)))  # 1 × 1
def test_output_size_agrees_with_keras(case):
    agree(verify.check_output_size(*case))


@st.composite
def layer_cases(draw):
    kind = draw(
        st.sampled_from(
            ["Conv2D", "Conv1D", "DepthwiseConv2D", "SeparableConv2D", "Dense", "BatchNormalization", "MaxPooling2D",
             "AveragePooling2D", "MaxPooling1D", "AveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
             "GlobalAveragePooling1D", "Flatten", "Dropout", "Activation", "ReLU", "ZeroPadding2D"]
        )
    )  # fmt: skip
    h, w = draw(st.integers(1, 24)), draw(st.integers(1, 24))
    c = draw(st.sampled_from([1, 2, 3, 8, 64, 512]))
    image, sequence = (h, w, c), (draw(st.integers(1, 50)), c)
    padding = st.sampled_from(["valid", "same"])
    kw: dict = {}
    shape = image
    if kind in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D"):
        kw = dict(kernel_size=draw(pairs), strides=draw(st.integers(1, 3) | pairs), padding=draw(padding), use_bias=draw(st.booleans()))
        if draw(st.booleans()):
            kw["dilation_rate"] = draw(st.integers(1, 2) | st.tuples(st.integers(1, 2), st.integers(1, 2)))
        if kind != "DepthwiseConv2D":
            kw["filters"] = draw(st.integers(1, 64))
        if kind != "Conv2D":
            kw["depth_multiplier"] = draw(st.integers(1, 3))
    elif kind == "Conv1D":
        shape = sequence
        kw = dict(filters=draw(st.integers(1, 32)), kernel_size=draw(st.integers(1, 5)), strides=draw(st.integers(1, 3)), padding=draw(padding))
        if draw(st.booleans()):
            kw["dilation_rate"] = 2
    elif kind == "Dense":
        shape = draw(st.sampled_from([image, (draw(st.integers(1, 5000)),)]))
        kw = dict(units=draw(st.integers(1, 300)), use_bias=draw(st.booleans()))
    elif kind == "BatchNormalization":
        shape = draw(st.sampled_from([image, (draw(st.integers(1, 600)),)]))
        kw = dict(center=draw(st.booleans()), scale=draw(st.booleans()))
    elif kind in ("MaxPooling2D", "AveragePooling2D"):
        kw = dict(pool_size=draw(pairs), padding=draw(padding))
        if draw(st.booleans()):
            kw["strides"] = draw(pairs)
    elif kind in ("MaxPooling1D", "AveragePooling1D"):
        shape = sequence
        kw = dict(pool_size=draw(st.integers(1, 4)), padding=draw(padding))
    elif kind.startswith("Global"):
        shape = sequence if kind.endswith("1D") else image
        kw = dict(keepdims=draw(st.booleans()))
    elif kind == "ZeroPadding2D":
        kw = dict(padding=draw(st.integers(0, 3) | pairs | st.tuples(pairs, pairs)))
    elif kind == "Dropout":
        shape = draw(st.sampled_from([image, sequence]))
        kw = dict(rate=draw(st.sampled_from([0.0, 0.3, 0.5])))
    elif kind == "Activation":
        kw = dict(activation=draw(st.sampled_from(["relu", "tanh", "softmax"])))
    if draw(st.integers(0, 9)) == 0:
        kw["trainable"] = False
    return shape, LayerSpec(kind, kw)


@pytest.mark.keras
@needs_keras
@PROPERTY
@given(layer_cases())
@example(((32, 32, 512), L("Conv2D", filters=512, kernel_size=3, padding="same")))  # many channels
@example(((14, 14, 256), L("Conv2D", filters=64, kernel_size=1)))  # 1 × 1
@example(((8, 8, 3), L("Conv2D", filters=4, kernel_size=(2, 4), strides=2, padding="same")))  # even kernel, 'same', stride 2
@example(((9, 9, 3), L("DepthwiseConv2D", kernel_size=3, strides=2, dilation_rate=2)))  # Keras allows this one
@example(((9, 9, 3), L("SeparableConv2D", filters=2, kernel_size=3, strides=(2, 1), dilation_rate=(1, 2))))
@example(((9, 9, 3), L("Conv2D", filters=2, kernel_size=3, strides=(2, 1), dilation_rate=(1, 2))))  # ... and refuses this
@example(((5, 5, 3), L("Conv2D", filters=2, kernel_size=5)))  # kernel equal to the input
@example(((32, 32, 1), L("AveragePooling2D")))  # Keras 3: pool_size required
def test_layer_shapes_and_parameters_agree_with_keras(case):
    agree(verify.check_layer(*case))


@st.composite
def model_cases(draw):
    shape = (draw(st.integers(6, 48)), draw(st.integers(6, 48)), draw(st.sampled_from([1, 3, 4])))
    body = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["Conv2D", "Conv2D", "DepthwiseConv2D", "SeparableConv2D"]))
        kw = dict(kernel_size=draw(pairs), strides=draw(st.integers(1, 2)), padding=draw(st.sampled_from(["valid", "same"])))
        if kind != "DepthwiseConv2D":
            kw["filters"] = draw(st.sampled_from([4, 8, 16, 32]))
        body.append(LayerSpec(kind, kw))
        extra = draw(st.sampled_from(["", "bn", "relu", "pool", "pool", "pad", "drop"]))
        if extra == "bn":
            body.append(L("BatchNormalization"))
        elif extra == "relu":
            body.append(L("ReLU"))
        elif extra == "pool":
            body.append(L(draw(st.sampled_from(["MaxPooling2D", "AveragePooling2D"])), pool_size=draw(st.integers(2, 3)), padding=draw(st.sampled_from(["valid", "same"]))))
        elif extra == "pad":
            body.append(L("ZeroPadding2D", padding=1))
        elif extra == "drop":
            body.append(L("Dropout", rate=0.25))
    head = draw(st.sampled_from([[L("Flatten"), L("Dense", units=32)], [L("GlobalAveragePooling2D")], [L("GlobalMaxPooling2D")], []]))
    layers = [*body, *head, L("Dense", units=draw(st.sampled_from([1, 2, 10])))]
    # Stacks that shrink the map away: keep up to the first refused layer (then both must refuse), or stop before it.
    current = shape
    for n, layer in enumerate(layers):
        try:
            current = apply_layer(current, layer)[0]
        except ConfigError:
            layers = layers[: n + 1] if draw(st.booleans()) or n == 0 else layers[:n]
            break
    return shape, layers


@pytest.mark.keras
@needs_keras
@FEW
@given(model_cases())
def test_model_traces_agree_with_keras(case):
    agree(verify.check_model(*case))


def maps(shape, low=-20, high=20):
    from hypothesis.extra.numpy import arrays

    return arrays(np.int64, shape, elements=st.integers(low, high)).map(nested)


@st.composite
def pooling_cases(draw):
    channels = draw(st.sampled_from([None, 1, 2, 3, 16]))
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    shape = (h, w) if channels is None else (h, w, channels)
    xs = draw(st.lists(maps(shape), min_size=1, max_size=3))
    mode = draw(st.sampled_from(["max", "min", "average", "global_max", "global_average"]))
    if mode.startswith("global"):
        return xs, mode, None, None, None
    return xs, mode, draw(pairs), draw(st.none() | pairs), draw(st.sampled_from(["valid", "same"]) | st.integers(0, 2))


@pytest.mark.keras
@needs_keras
@PROPERTY
@given(pooling_cases())
@example(([tables.X5], "average", (2, 2), (2, 2), "same"))  # 'same', stride 2, odd size
@example(([tables.grid(6, 6)], "max", (3, 3), (2, 2), "same"))  # ... even size
@example(([tables.X4], "average", (4, 4), None, "same"))  # pool equal to the input
@example(([tables.NEGATIVE], "max", (2, 2), (2, 2), "same"))  # padded cells never win a max
@example(([tables.NEGATIVE], "min", (1, 1), (2, 2), 1))  # 1 × 1 with zero padding
@example(([tuple(tuple(tuple(range(c, c + 16)) for c in range(3)) for _ in range(3))], "average", (2, 2), (1, 1), "same"))  # 16 channels
def test_pooling_agrees_with_keras(case):
    agree(verify.check_pooling(*case))


@st.composite
def kernel_values(draw, shape):
    """Integers, binary fractions (exact in float32 too) or a classic kernel."""
    kind = draw(st.sampled_from(["int", "int", "fraction", "named"]))
    if kind == "named" and shape[:2] == (3, 3):
        grid = KERNELS[draw(st.sampled_from(sorted(KERNELS)))]
        return grid if len(shape) == 2 else tuple(tuple(tuple(v for _ in range(shape[2])) for v in row) for row in grid)
    if kind == "fraction":
        num = draw(maps(shape, -8, 8))
        den = draw(st.sampled_from([2, 4, 8]))
        return _divide(num, den)
    return draw(maps(shape, -3, 3))


def _divide(values, den):
    if isinstance(values, tuple):
        return tuple(_divide(v, den) for v in values)
    f = F(values, den)
    return f.numerator if f.denominator == 1 else f


@st.composite
def conv_cases(draw):
    channels = draw(st.sampled_from([None, 1, 2, 3, 8]))
    h, w = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    kh, kw = draw(st.sampled_from([(3, 3), (3, 3), (1, 1), (2, 2)]) | pairs)
    filters = draw(st.integers(1, 3))
    shape = (h, w) if channels is None else (h, w, channels)
    kshape = (kh, kw) if channels is None else (kh, kw, channels)
    kernels = [draw(kernel_values(kshape)) for _ in range(filters)]
    strides = draw(st.integers(1, 3) | st.tuples(st.integers(1, 3), st.integers(1, 3)))
    dilation = draw(st.integers(1, 3)) if strides == 1 and draw(st.booleans()) else 1
    bias = draw(st.none() | st.lists(st.integers(-5, 5) | st.just(F(1, 2)), min_size=filters, max_size=filters))
    xs = draw(st.lists(maps(shape, -9, 9), min_size=1, max_size=3))
    return xs, kernels, strides, draw(paddings), bias, draw(st.booleans()), dilation


@pytest.mark.keras
@needs_keras
@PROPERTY
@given(conv_cases())
@example(([tables.X3], [((1, 0), (0, -1))], 1, "valid", None, False, 1))  # the notes' example
@example(([tables.grid(7, 7)], [KERNELS["sobel_x"]], 2, "same", None, False, 1))  # 'same', stride 2, odd size
@example(([tables.grid(8, 8)], [KERNELS["laplacian"]], 2, "same", [1], True, 1))  # ... even size
@example(([tables.grid(6, 6)], [((1, 2, 0, -1),) * 4], 1, "same", None, False, 1))  # even kernel: 1 before, 2 after
@example(([tables.grid(7, 7)], [KERNELS["edge"]], 1, "same", None, False, 2))  # dilation
@example(([tables.X3], [tables.X3], 1, "valid", [F(1, 2)], False, 1))  # kernel equal to the input
@example(([tuple(tuple(tuple((i + j + c) % 5 for c in range(16)) for j in range(4)) for i in range(4))],
          [tuple(tuple(tuple(c % (f + 2) - 1 for c in range(16)) for _ in range(1)) for _ in range(1)) for f in range(4)],
          1, "valid", None, False, 1))  # 1 × 1 kernels, 16 channels, 4 filters
@example(([tables.X5], [KERNELS["box_blur"], KERNELS["gaussian_blur"]], 1, "same", None, False, 1))  # exact fractions
def test_convolution_agrees_with_keras(case):
    agree(verify.check_convolution(*case))


@st.composite
def adaptive_cases(draw):
    out = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    factor = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    channels = draw(st.sampled_from([None, 1, 3]))
    hw = (out[0] * factor[0], out[1] * factor[1])
    xs = draw(st.lists(maps(hw if channels is None else (*hw, channels)), min_size=1, max_size=3))
    return xs, out


@pytest.mark.keras
@needs_keras
@FEW
@given(adaptive_cases())
@example(([tables.X4], (1, 1)))  # global average pooling
@example(([tables.X4], (4, 4)))  # the identity
def test_adaptive_pooling_agrees_with_keras(case):
    agree(verify.check_adaptive(*case))


@st.composite
def macs_cases(draw):
    shape = (draw(st.integers(1, 40)), draw(st.integers(1, 40)), draw(st.sampled_from([1, 3, 16, 64])))
    strides = draw(st.integers(1, 3))
    dilation = draw(st.integers(1, 2)) if strides == 1 else 1
    return shape, draw(pairs), draw(st.integers(1, 64)), strides, draw(paddings), dilation


@pytest.mark.keras
@needs_keras
@FEW
@given(macs_cases())
@example(((56, 56, 64), (1, 1), 128, 1, "same", 1))
def test_conv_macs_agree_with_keras(case):
    agree(verify.check_conv_macs(*case))


@pytest.mark.keras
@needs_keras
def test_every_edge_case_of_verify_agrees():
    report = verify.run_verify(1, seed=0)
    assert report.ok, verify.format_report(report)
    assert {f.family: f.cases for f in report.families} == {name: f.edge_cases for name, f in verify.FAMILIES.items()}


# --- test_engine.py's tables, proven by Keras ---------------------------------------------------------------


def _values(params):
    return [pytest.param(*p.values, id=p.id) for p in params]


@pytest.mark.keras
@needs_keras
@pytest.mark.parametrize("n, k, s, padding, dilation, expected", _values(tables.OUTPUT_LENGTHS))
def test_engine_output_lengths_are_keras(n, k, s, padding, dilation, expected):
    assert kc.keras_output_hw("conv", (n, n), k, s, padding, dilation) == (expected, expected)


@pytest.mark.keras
@needs_keras
@pytest.mark.parametrize("n, k, s, dilation, split", _values(tables.SAME_SPLITS))
def test_engine_same_splits_are_keras(n, k, s, dilation, split):
    # Keras's 'same' equals explicit zero padding (before, after) then 'valid' — and not the reverse split.
    rng = np.random.default_rng(n * 100 + k * 10 + s)
    x = rng.integers(-9, 10, size=(1, n, 1, 1)).astype(np.float32)
    kernel = rng.integers(1, 10, size=(k, 1, 1, 1)).astype(np.float32)
    same = kc.keras_conv2d_batch(x, kernel, (s, 1), "same", dilation=(dilation, 1))
    for before, after, equal in ((*split, True), (split[1], split[0], split[0] == split[1])):
        padded = np.pad(x, ((0, 0), (before, after), (0, 0), (0, 0)))
        valid = kc.keras_conv2d_batch(padded, kernel, (s, 1), "valid", dilation=(dilation, 1))
        assert np.array_equal(same, valid) == equal


@pytest.mark.keras
@needs_keras
@pytest.mark.parametrize("input_shape, spec, out_shape, params, formula", _values(tables.LAYERS))
def test_engine_layer_table_is_keras(input_shape, spec, out_shape, params, formula):
    assert kc.keras_output_shape(input_shape, [spec]) == [(out_shape, params.trainable, params.non_trainable)]


@pytest.mark.keras
@needs_keras
@pytest.mark.parametrize("input_shape, layers, shapes, params", _values(tables.MODELS))
def test_engine_model_table_is_keras(input_shape, layers, shapes, params):
    rows = kc.keras_output_shape(input_shape, layers)
    assert [(r[0], r[1] + r[2]) for r in rows] == list(zip(shapes, params))


@pytest.mark.keras
@needs_keras
@pytest.mark.parametrize("input_shape, layers, trainable, non_trainable", _values(tables.NON_TRAINABLE))
def test_engine_non_trainable_table_is_keras(input_shape, layers, trainable, non_trainable):
    rows = kc.keras_output_shape(input_shape, layers)
    assert (sum(r[1] for r in rows), sum(r[2] for r in rows)) == (trainable, non_trainable)


@pytest.mark.keras
@needs_keras
@pytest.mark.parametrize("x, pool, strides, padding, mode, expected", _values(tables.POOLS))
def test_engine_pooling_table_is_keras(x, pool, strides, padding, mode, expected):
    assert kc.compare_values(expected, kc.keras_pool2d(x, pool, strides, padding, mode)) == []


@pytest.mark.keras
@needs_keras
@pytest.mark.parametrize("x, mode, split, wrong", _values(tables.POOL_MISTAKES))
def test_engine_pooling_mistakes_are_keras_on_zero_padded_maps(x, mode, split, wrong):
    padded = np.pad(np.asarray(x, dtype=np.float32), split)
    assert kc.compare_values(wrong, kc.keras_pool2d(padded, 2, 2, "valid", mode)) == []
    assert kc.compare_values(wrong, kc.keras_pool2d(x, 2, 2, "same", mode)) != []


@pytest.mark.keras
@needs_keras
@pytest.mark.parametrize("x, mode, expected", _values(tables.GLOBAL_POOLS))
def test_engine_global_pooling_table_is_keras(x, mode, expected):
    assert kc.compare_values(expected, kc.keras_global_pool(x, mode)) == []


@pytest.mark.keras
@needs_keras
@pytest.mark.parametrize("x, kernels, strides, padding, bias, relu, dilation, expected", _values(tables.CONVS))
def test_engine_convolution_table_is_keras(x, kernels, strides, padding, bias, relu, dilation, expected):
    assert kc.compare_values(expected, kc.keras_conv2d(x, kernels, strides, padding, bias, relu, dilation)) == []


@pytest.mark.keras
@needs_keras
@pytest.mark.parametrize("n_in, n_out, expected", _values(tables.ADAPTIVE))
def test_engine_adaptive_table_is_keras(n_in, n_out, expected):
    stride, kernel = expected
    x = np.random.default_rng(n_in).integers(-9, 10, size=(n_in, n_in, 2)).astype(np.float32)
    assert np.allclose(kc.keras_adaptive_avg_pool(x, n_out), kc.keras_pool2d(x, kernel, stride, "valid", "average"), atol=1e-5)


@pytest.mark.keras
@needs_keras
@pytest.mark.parametrize("input_shape, padding, out_hw, kernel, channels, filters, expected", _values(tables.MACS))
def test_engine_macs_table_is_keras(input_shape, padding, out_hw, kernel, channels, filters, expected):
    assert kc.keras_conv_macs(input_shape, kernel, filters, 1, padding) == expected


def keras_receptive_field(layers) -> int:
    """The span of input cells one output cell depends on: the gradient of that cell through a Keras stack of
    all-ones convolutions (no cancellation), along one axis."""
    import tensorflow as tf

    keras = kc.load_keras()
    n = 4 * receptive_field(layers) + 16
    stack = [
        keras.layers.Conv2D(1, (1, k), strides=(1, s), dilation_rate=(1, rest[0] if rest else 1), use_bias=False, kernel_initializer="ones")
        for k, s, *rest in layers
    ]
    x = tf.ones((1, 1, n, 1))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x
        for layer in stack:
            y = layer(y)
        cell = y[0, 0, y.shape[2] // 2, 0]
    touched = np.flatnonzero(tape.gradient(cell, x).numpy()[0, 0, :, 0])
    return int(touched[-1] - touched[0] + 1)


@pytest.mark.keras
@needs_keras
@pytest.mark.parametrize("layers, expected", _values(tables.RECEPTIVE_FIELDS))
def test_engine_receptive_fields_are_keras(layers, expected):
    assert keras_receptive_field(layers) == expected


# --- generated problems ------------------------------------------------------------------------------------


@pytest.mark.keras
@needs_keras
@pytest.mark.parametrize("topic", list(generators()))
def test_generated_problems_pass_check_problem(topic):
    failures = []
    for difficulty in Difficulty:
        for seed in range(12):
            p = generate(topic, problem_rng(seed, topic, 2), difficulty)
            problems = kc.check_problem(p)
            if problems:
                failures.append(f"{difficulty.value} seed {seed}: {problems}")
    assert not failures, "\n".join(failures[:5])


@pytest.mark.keras
@needs_keras
def test_check_problem_catches_a_wrong_answer_key():
    p = _pooling_problem()
    for m in p.mistakes:  # each mistake's answer, passed off as the key, is caught
        problems = kc.check_problem(dataclasses.replace(p, answer=m.answer, mistakes=()))
        assert problems and all(line.startswith("answer") for line in problems), (m.name, problems)


@pytest.mark.keras
@needs_keras
def test_check_problem_catches_a_mistake_keras_would_accept():
    p = _pooling_problem()
    sneaky = dataclasses.replace(p, mistakes=(Mistake("ignored-stride", dataclasses.replace(p.answer), "..."),))
    # Equal to the answer, so also caught by check_mistakes; Keras accepts it as well.
    assert "mistake 'ignored-stride' gives an answer Keras agrees with" in kc.check_problem(sneaky)


# --- the checker catches a wrong engine --------------------------------------------------------------------


@pytest.mark.keras
@needs_keras
def test_a_wrong_engine_is_caught(monkeypatch):
    # Each of these engines makes one classic mistake; verify must notice every one.
    monkeypatch.setattr(verify, "pool2d", lambda x, p, s, pad, mode: pool2d(x, p, s, pad, mode, include_padding=True))
    assert not verify.check_pooling([tables.X3], "average", (2, 2), (2, 2), "same")[0].agrees
    monkeypatch.setattr(verify, "conv2d", lambda x, k, *args: conv2d(x, [flip_kernel(kk) for kk in k], *args))
    assert not verify.check_convolution([tables.X3], [((1, 0), (0, -1))])[0].agrees
    monkeypatch.setattr(verify, "output_size_2d", lambda hw, k, s, p, d: (7, 7))
    assert not verify.check_output_size("conv", (8, 8), (3, 3), (2, 2), "same").agrees
    monkeypatch.setattr(verify, "apply_layer", lambda shape, spec: ((16, 16, 64), ParamCount(128)))  # BN as 2 per channel
    result = verify.check_layer((16, 16, 64), L("BatchNormalization"))
    assert result.problems == ("parameters: engine 128 trainable + 0 non-trainable, Keras 128 + 128",)
    monkeypatch.setattr(verify, "trace_model", lambda shape, layers: trace_model(shape, layers[:-1]))
    assert not verify.check_model((28, 28, 1), tables.MODELS[0].values[1]).agrees


@pytest.mark.keras
@needs_keras
def test_verify_command_prints_the_table_and_exits_1_on_a_disagreement(cli, monkeypatch):
    result = cli("verify", "--cases", "40", "--family", "pooling", "--family", "output-size", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert "engine and Keras agree on all 80 cases (seed 3)" in result.output
    assert result.output.index("output-size") < result.output.index("pooling")

    monkeypatch.setattr(verify, "global_pool", lambda x, mode: (0,) * len(kc.as_hwc(x)[0][0, 0]))
    result = cli("verify", "--cases", "30", "--family", "pooling")
    assert result.exit_code == 1
    assert "disagreement(s) in 30 cases" in result.output and "[pooling] global" in result.output


def test_verify_command_refuses_an_unknown_family(cli):
    result = cli("verify", "--family", "convolutoin")
    assert result.exit_code == 2
    assert "unknown family 'convolutoin' (did you mean 'convolution'?)" in result.output


def test_verify_command_help_names_every_family(cli):
    text = " ".join(cli("verify", "--help").output.split())
    assert all(name in text for name in verify.FAMILIES)


def test_reports_are_plain_data():
    # The report is frozen dataclasses of plain values: easy to print, compare and serialise.
    report = verify.VerifyReport(0, 1, (verify.FamilyReport("params", 1, 1, 0, ()),))
    assert json.loads(json.dumps(dataclasses.asdict(report)))["families"][0]["family"] == "params"
