"""`quizgen verify`: cross-check the engine against Keras on many random configurations of every family.

Each family draws its configurations from its own numpy Generator, derived from the seed and the family's
name (so ``--family`` picks the same cases as a full run). Every run starts with the family's fixed edge
cases — 'same' padding with strides > 1 on odd and even sizes, even kernels, dilation, a kernel as large as
the input, 1 × 1 kernels, many channels — which count toward the requested number of cases.

Families and what they compare (engine ↔ Keras):

==================  ===========================================================================================
output-size         output_size_2d ↔ keras.ops.conv / max_pool: Keras's shape rule and a real run on zeros
params              apply_layer (every supported layer type) ↔ the layer's output shape and weights
model-trace         trace_model of random small sequential models ↔ keras_output_shape
pooling             pool2d / global_pool ↔ MaxPooling2D, AveragePooling2D, −MaxPooling2D(−x), global pooling
convolution         conv2d ↔ Conv2D with the same weights (random and named kernels)
adaptive-pooling    adaptive_avg_pool's (stride, kernel) + pool2d ↔ AdaptiveAveragePooling2D
conv-macs           conv_macs ↔ Keras's output positions × its kernel tensor's size
==================  ===========================================================================================

The receptive field has no Keras counterpart and is not cross-checked here.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from quizgen import crosscheck as kc
from quizgen.engine import KERNELS, adaptive_avg_pool, conv2d, conv_macs, global_pool, output_size_2d, pool2d, trace_model
from quizgen.engine.model import LayerSpec, apply_layer
from quizgen.errors import ConfigError, UserError, did_you_mean, one_of

MAX_EXAMPLES = 3  # disagreements kept in full per family
MAX_GROUP = 6  # random inputs that share one pooling / convolution configuration (one Keras layer)

Rng = np.random.Generator
Progress = Callable[[int], None]


# --- the report --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseResult:
    """One cross-checked case: its configuration, both answers as text, and the disagreements (none: agreed)."""

    config: str
    engine: str
    keras: str
    problems: tuple[str, ...] = ()

    @property
    def agrees(self) -> bool:
        return not self.problems


AGREED = CaseResult("", "", "")  # agreeing cases keep no text: only disagreements are shown


def _result(problems: Sequence[str], config: Callable[[], str], engine: Callable[[], str], keras: Callable[[], str]) -> CaseResult:
    """A case's result; the texts are only worked out for a disagreement."""
    if not problems:
        return AGREED
    return CaseResult(config(), engine(), keras(), tuple(problems))


@dataclass(frozen=True)
class FamilyReport:
    family: str
    cases: int
    agreements: int
    disagreements: int
    examples: tuple[CaseResult, ...]  # the first disagreements, in full


@dataclass(frozen=True)
class VerifyReport:
    seed: int
    cases_per_family: int
    families: tuple[FamilyReport, ...]

    @property
    def disagreements(self) -> int:
        return sum(f.disagreements for f in self.families)

    @property
    def ok(self) -> bool:
        return self.disagreements == 0


# --- text --------------------------------------------------------------------------------------------------


def _exact(value: Any) -> str:
    """Exact values as nested lists: [[1, 15/4], ...]."""
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_exact(v) for v in value) + "]"
    if isinstance(value, Fraction):
        return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    return str(value)


def _approx(array: Any) -> str:
    a = np.asarray(array, dtype=np.float64)
    if a.ndim == 0:
        return f"{float(a):.7g}"
    return "[" + ", ".join(_approx(row) for row in a) + "]"


def _outcome(value: Any, fmt: Callable[[Any], str]) -> str:
    if isinstance(value, (ConfigError, kc.KerasRefusal)):
        return f"refuses: {value}"
    return fmt(value)


def _layer_text(spec: LayerSpec) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in spec.kwargs.items())
    return f"{spec.class_name}({args})"


def format_report(report: VerifyReport) -> str:
    """The table (family, cases, agreements, disagreements) and the first disagreements in full."""
    head = ("family", "cases", "agreements", "disagreements")
    rows = [(f.family, f"{f.cases:,}", f"{f.agreements:,}", f"{f.disagreements:,}") for f in report.families]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    line = lambda r: "  ".join(r[0].ljust(widths[0]) if i == 0 else r[i].rjust(widths[i]) for i in range(4))  # noqa: E731
    out = [line(head), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]
    total = sum(f.cases for f in report.families)
    if report.ok:
        out.append(f"\nengine and Keras agree on all {total:,} cases (seed {report.seed})")
        return "\n".join(out)
    out.append(f"\n{report.disagreements:,} disagreement(s) in {total:,} cases (seed {report.seed})")
    for f in report.families:
        for ex in f.examples:
            out.append(f"\n[{f.family}] {ex.config}")
            out.append(f"  engine: {ex.engine}")
            out.append(f"  Keras:  {ex.keras}")
            out.extend(f"  - {p}" for p in ex.problems)
    return "\n".join(out)


# --- checking one case (also used by the tests) ------------------------------------------------------------


def _padding_text(padding: Any) -> str:
    return f"padding={padding!r}" if isinstance(padding, str) else f"zero padding {padding}"


def check_output_size(op: str, input_hw: tuple[int, int], kernel: tuple[int, int], strides: tuple[int, int], padding: Any, dilation: tuple[int, int] = (1, 1)) -> CaseResult:
    """Output (H, W) of a convolution (op 'conv') or pooling (op 'pool'): engine.output_size_2d against
    keras.ops.conv / keras.ops.max_pool run on zeros."""
    if op == "pool":
        dilation = (1, 1)
    e, k, problems = kc.compare_outcomes(
        lambda: output_size_2d(input_hw, kernel, strides, padding, dilation),
        lambda: kc.keras_output_hw(op, input_hw, kernel, strides, padding, dilation),
        lambda a, b: kc.compare_shapes(a, b, "output size"),
    )
    return _result(
        problems,
        lambda: f"{op} on {input_hw[0]}×{input_hw[1]}, kernel {kernel}, strides {strides}, {_padding_text(padding)}"
        + (f", dilation {dilation}" if op == "conv" else ""),
        lambda: _outcome(e, str),
        lambda: _outcome(k, str),
    )


def check_layer(input_shape: tuple[int, ...], spec: LayerSpec) -> CaseResult:
    """One layer's output shape and parameters: engine.apply_layer against the Keras layer."""
    e, k, problems = kc.compare_outcomes(
        lambda: apply_layer(input_shape, spec),
        lambda: kc.keras_output_shape(input_shape, [spec])[0],
        lambda a, b: kc.compare_shapes(a[0], b[0]) + kc.compare_params(a[1], b[1], b[2]),
    )
    return _result(
        problems,
        lambda: f"{_layer_text(spec)} on input {input_shape}",
        lambda: _outcome(e, lambda r: f"{r[0]}, {r[1].trainable:,} trainable + {r[1].non_trainable:,} non-trainable"),
        lambda: _outcome(k, lambda r: f"{r[0]}, {r[1]:,} trainable + {r[2]:,} non-trainable"),
    )


def check_model(input_shape: tuple[int, ...], layers: Sequence[LayerSpec]) -> CaseResult:
    """A sequential model: engine.trace_model against keras_output_shape, layer by layer and in total."""
    e, k, problems = kc.compare_outcomes(
        lambda: trace_model(input_shape, layers), lambda: kc.keras_output_shape(input_shape, layers), kc.compare_trace
    )
    return _result(
        problems,
        lambda: f"input {input_shape} → " + " → ".join(_layer_text(s) for s in layers),
        lambda: _outcome(e, lambda t: "; ".join(f"{r.output_shape} {r.params.total:,}" for r in t.rows) + f"; total {t.total:,}"),
        lambda: _outcome(k, lambda rows: "; ".join(f"{s} {a + b:,}" for s, a, b in rows) + f"; total {sum(a + b for _, a, b in rows):,}"),
    )


def _per_input(
    xs: Sequence[Any], config: Callable[[], str], engine: Callable[[Any], Any], keras_batch: Callable[[np.ndarray], np.ndarray], match: Callable[[Any, np.ndarray], np.ndarray]
) -> list[CaseResult]:
    """Run Keras once on the stacked inputs and compare each input's exact engine result with its slice."""
    stacked = np.stack([kc.as_hwc(x)[0] for x in xs])
    try:
        batch: Any = keras_batch(stacked)
    except kc.KerasRefusal as exc:
        batch = exc
    results = []
    for i, x in enumerate(xs):
        e, k, problems = kc.compare_outcomes(
            lambda: engine(x),
            lambda: _raise(batch) if isinstance(batch, Exception) else match(x, batch[i]),
            lambda a, b: kc.compare_values(a, b),
        )
        results.append(
            _result(problems, lambda: f"{config()}, X = {_exact(x)}", lambda: _outcome(e, _exact), lambda: _outcome(k, _approx))
        )
    return results


def _raise(exc: Exception) -> Any:
    raise exc


def _layout(x: Any, out: np.ndarray) -> np.ndarray:
    """Keras's H' × W' × C result in the layout of the engine's answer for input ``x`` (2D stays 2D)."""
    return out if kc.as_hwc(x)[1] else out[:, :, 0]


def check_pooling(xs: Sequence[Any], mode: str, pool_size: Any = None, strides: Any = None, padding: Any = "valid") -> list[CaseResult]:
    """Pooling of several maps of one shape and configuration; ``mode`` is max, min, average, global_max or
    global_average. One Keras call for all of them."""
    if mode.startswith("global_"):
        kind = mode.removeprefix("global_")
        return _per_input(
            xs,
            lambda: f"global {kind} pooling",
            lambda x: global_pool(x, kind),
            lambda b: kc.keras_global_pool_batch(b, kind),
            lambda x, out: out,
        )
    return _per_input(
        xs,
        lambda: f"{mode} pooling, pool_size {pool_size}, strides {strides}, {_padding_text(padding)}",
        lambda x: pool2d(x, pool_size, strides, padding, mode),
        lambda b: kc.keras_pool2d_batch(b, pool_size, strides, padding, mode),
        _layout,
    )


def check_convolution(
    xs: Sequence[Any],
    kernels: Sequence[Any],
    strides: Any = 1,
    padding: Any = "valid",
    bias: Sequence[Any] | None = None,
    relu: bool = False,
    dilation: Any = 1,
) -> list[CaseResult]:
    """Conv2D of several maps of one shape with the same kernels: engine.conv2d against Keras's Conv2D."""
    def config() -> str:
        return (
            f"conv2d, kernels {_exact(kernels)}, strides {strides}, {_padding_text(padding)}, dilation {dilation}, "
            f"bias {_exact(bias) if bias is not None else None}, relu {relu}"
        )

    def match(x: Any, out: np.ndarray) -> np.ndarray:
        return out if kc.as_hwc(x)[1] or len(kernels) > 1 else out[:, :, 0]

    def keras_batch(b: np.ndarray) -> np.ndarray:
        return kc.keras_conv2d_batch(b, kc.kernel_tensor(kernels), strides, padding, bias, relu, dilation)

    return _per_input(xs, config, lambda x: conv2d(x, kernels, strides, padding, bias, relu, dilation), keras_batch, match)


def check_adaptive(xs: Sequence[Any], output_size: tuple[int, int]) -> list[CaseResult]:
    """Adaptive average pooling: the engine's (stride, kernel) per axis, applied with exact pool2d, against
    Keras's AdaptiveAveragePooling2D."""

    def engine(x: Any) -> Any:
        h, w = kc.as_hwc(x)[0].shape[:2]
        (sh, kh), (sw, kw) = adaptive_avg_pool(h, output_size[0]), adaptive_avg_pool(w, output_size[1])
        return pool2d(x, (kh, kw), (sh, sw), "valid", "average")

    return _per_input(
        xs, lambda: f"adaptive average pooling to {output_size}", engine, lambda b: kc.keras_adaptive_avg_pool_batch(b, output_size), _layout
    )


def check_conv_macs(input_shape: tuple[int, int, int], kernel: tuple[int, int], filters: int, strides: Any = 1, padding: Any = "valid", dilation: Any = 1) -> CaseResult:
    """MACs of a Conv2D layer: engine (output_size_2d + conv_macs) against Keras's output shape and kernel size."""
    h, w, c = input_shape

    def engine() -> int:
        return conv_macs(output_size_2d((h, w), kernel, strides, padding, dilation), kernel, c, filters)

    e, k, problems = kc.compare_outcomes(
        engine,
        lambda: kc.keras_conv_macs(input_shape, kernel, filters, strides, padding, dilation),
        lambda a, b: [] if a == b else [f"MACs: engine {a:,}, Keras {b:,}"],
    )
    return _result(
        problems,
        lambda: f"Conv2D({filters}, {kernel}, strides={strides}, {_padding_text(padding)}, dilation_rate={dilation}) on {input_shape}",
        lambda: _outcome(e, lambda v: f"{v:,}"),
        lambda: _outcome(k, lambda v: f"{v:,}"),
    )


# --- random configurations --------------------------------------------------------------------------------


def _int(rng: Rng, low: int, high: int) -> int:
    """A uniform integer in [low, high], both included."""
    return int(rng.integers(low, high + 1))


def _pick(rng: Rng, options: Sequence[Any]) -> Any:
    return options[int(rng.integers(0, len(options)))]


def _maybe_pair(rng: Rng, low: int, high: int, square: float = 0.7) -> tuple[int, int]:
    a = _int(rng, low, high)
    return (a, a) if rng.random() < square else (a, _int(rng, low, high))


def _padding(rng: Rng, max_int: int = 2) -> Any:
    r = rng.random()
    return "valid" if r < 0.4 else "same" if r < 0.8 else _int(rng, 0, max_int)


def _values(rng: Rng, shape: tuple[int, ...]) -> tuple:
    """A random integer map: small signed values, small non-negative values or pixel values."""
    low, high = _pick(rng, ((-9, 9), (0, 9), (0, 255)))
    return _nested(rng.integers(low, high + 1, size=shape).tolist())


def _nested(values: Any) -> Any:
    return tuple(_nested(v) for v in values) if isinstance(values, list) else int(values)


# Output size: (op, input, kernel, strides, padding, dilation).
_OUTPUT_SIZE_EDGES = [
    ("conv", (7, 7), (3, 3), (2, 2), "same", (1, 1)),  # 'same', stride 2, odd size
    ("conv", (8, 8), (3, 3), (2, 2), "same", (1, 1)),  # 'same', stride 2, even size
    ("pool", (7, 7), (2, 2), (2, 2), "same", (1, 1)),
    ("pool", (8, 8), (3, 3), (2, 2), "same", (1, 1)),
    ("conv", (9, 10), (4, 4), (3, 3), "same", (1, 1)),
    ("conv", (6, 6), (2, 2), (1, 1), "valid", (1, 1)),  # even kernels
    ("conv", (6, 6), (4, 4), (1, 1), "same", (1, 1)),
    ("conv", (7, 7), (3, 3), (1, 1), "valid", (2, 2)),  # dilation
    ("conv", (7, 9), (3, 2), (1, 1), "same", (2, 3)),
    ("conv", (7, 7), (3, 3), (1, 1), 1, (2, 2)),
    ("conv", (7, 7), (3, 3), (2, 2), "valid", (2, 2)),  # strides and dilation: Keras refuses
    ("conv", (9, 9), (3, 3), (2, 1), "valid", (1, 2)),  # ... on different axes too
    ("conv", (5, 5), (5, 5), (1, 1), "valid", (1, 1)),  # kernel equal to the input
    ("pool", (4, 6), (4, 6), (1, 1), "valid", (1, 1)),
    ("conv", (5, 5), (5, 5), (2, 2), "same", (1, 1)),
    ("conv", (5, 5), (6, 6), (1, 1), "valid", (1, 1)),  # kernel larger than the input: refused
    ("conv", (5, 5), (6, 6), (1, 1), 1, (1, 1)),  # ... but it fits with zero padding 1
    ("pool", (3, 3), (4, 4), (1, 1), "same", (1, 1)),
    ("conv", (8, 8), (1, 1), (2, 2), "valid", (1, 1)),  # 1 × 1 kernels
    ("pool", (9, 9), (1, 1), (3, 3), "same", (1, 1)),
    ("conv", (28, 28), (5, 5), (1, 1), 2, (1, 1)),
    ("conv", (227, 227), (11, 11), (4, 4), "valid", (1, 1)),
    ("pool", (1, 1), (1, 1), (1, 1), "valid", (1, 1)),
]


def _draw_output_size(rng: Rng) -> tuple:
    op = _pick(rng, ("conv", "conv", "pool"))
    size = _maybe_pair(rng, 1, 40, 0.6)
    kernel = _maybe_pair(rng, 1, 7)
    strides = _maybe_pair(rng, 1, 4, 0.8)
    dilation = (1, 1)
    if op == "conv" and rng.random() < 0.35:
        dilation = _maybe_pair(rng, 1, 3, 0.7)
        if rng.random() < 0.8:
            strides = (1, 1)
    return op, size, kernel, strides, _padding(rng, 3), dilation


def _output_size(rng: Rng, n: int) -> Iterator[list[CaseResult]]:
    for config in _with_edges(_OUTPUT_SIZE_EDGES, _draw_output_size, rng, n):
        yield [check_output_size(*config)]


def _with_edges(edges: Sequence[Any], draw: Callable[[Rng], Any], rng: Rng, n: int) -> Iterator[Any]:
    yield from edges
    for _ in range(max(n - len(edges), 0)):
        yield draw(rng)


def L(class_name: str, **kwargs: Any) -> LayerSpec:  # noqa: N802 - reads like a Keras layer call
    return LayerSpec(class_name, kwargs)


_PARAMS_EDGES: list[tuple[tuple[int, ...], LayerSpec]] = [
    ((28, 28, 1), L("Conv2D", filters=8, kernel_size=(3, 3))),
    ((32, 32, 512), L("Conv2D", filters=512, kernel_size=3, padding="same")),  # many channels
    ((14, 14, 256), L("Conv2D", filters=64, kernel_size=1)),  # 1 × 1
    ((8, 8, 3), L("Conv2D", filters=4, kernel_size=(2, 4), strides=(2, 1), padding="same", use_bias=False)),
    ((9, 9, 2), L("Conv2D", filters=2, kernel_size=3, strides=(2, 1), dilation_rate=(1, 2))),  # refused
    ((9, 9, 8), L("Conv2D", filters=8, kernel_size=3, groups=4)),
    ((5, 5, 3), L("Conv2D", filters=6, kernel_size=5)),  # kernel equal to the input
    ((20, 16), L("Conv1D", filters=8, kernel_size=5, strides=2, padding="same")),
    ((9, 9, 3), L("DepthwiseConv2D", kernel_size=3, strides=2, dilation_rate=2, depth_multiplier=2)),
    ((9, 9, 3), L("SeparableConv2D", filters=8, kernel_size=3, strides=(2, 1), dilation_rate=(1, 2))),
    ((16, 16, 32), L("SeparableConv2D", filters=64, kernel_size=3, depth_multiplier=2, padding="same")),
    ((1352,), L("Dense", units=32)),
    ((5, 5, 64), L("Dense", units=10)),  # Dense on a 3-D input acts on the last axis
    ((128,), L("BatchNormalization")),
    ((16, 16, 64), L("BatchNormalization", center=False)),
    ((16, 16, 64), L("BatchNormalization", scale=False, trainable=False)),
    ((26, 26, 32), L("MaxPooling2D", pool_size=(2, 2))),
    ((7, 7, 4), L("AveragePooling2D", pool_size=2, strides=2, padding="same")),
    ((13, 13, 8), L("GlobalAveragePooling2D", keepdims=True)),
    ((5, 5, 16), L("Flatten")),
    ((28, 28, 1), L("ZeroPadding2D", padding=((1, 2), (0, 3)))),
    ((28, 28, 8), L("Conv2D", filters=8, kernel_size=3, trainable=False)),
]


def _draw_spatial(rng: Rng, low: int = 3, high: int = 32) -> tuple[int, int]:
    return _maybe_pair(rng, low, high, 0.7)


def _channels(rng: Rng) -> int:
    return _pick(rng, (1, 1, 2, 3, 3, 4, 8, 16, 32, 64, 256))


def _draw_layer(rng: Rng) -> tuple[tuple[int, ...], LayerSpec]:
    kind = _pick(
        rng,
        (
            "Conv2D", "Conv2D", "Conv1D", "DepthwiseConv2D", "SeparableConv2D", "Dense", "Dense", "BatchNormalization",
            "MaxPooling2D", "AveragePooling2D", "MaxPooling1D", "AveragePooling1D", "GlobalAveragePooling2D",
            "GlobalMaxPooling2D", "GlobalAveragePooling1D", "GlobalMaxPooling1D", "Flatten", "Dropout", "Activation",
            "ReLU", "LeakyReLU", "ZeroPadding2D",
        ),
    )  # fmt: skip
    h, w = _draw_spatial(rng)
    c = _channels(rng)
    image = (h, w, c)
    kw: dict[str, Any] = {}
    conv_kernel = _maybe_pair(rng, 1, min(5, h, w), 0.8)
    strides = _maybe_pair(rng, 1, 3, 0.8)
    padding = _pick(rng, ("valid", "same"))
    bias = bool(rng.random() < 0.8)
    if kind == "Conv2D":
        kw = dict(filters=_pick(rng, (1, 4, 8, 16, 32, 64, 128)), kernel_size=conv_kernel, strides=strides, padding=padding, use_bias=bias)
        if rng.random() < 0.25:
            kw["strides"], kw["dilation_rate"] = (1, 1), _maybe_pair(rng, 1, 2)
        if rng.random() < 0.15:
            groups = _pick(rng, [g for g in (1, 2, 4) if c % g == 0])
            kw["groups"], kw["filters"] = groups, groups * _int(rng, 1, 8)
        shape: tuple[int, ...] = image
    elif kind == "Conv1D":
        shape = (_int(rng, 5, 60), c)
        kw = dict(filters=_pick(rng, (1, 8, 16, 32)), kernel_size=_int(rng, 1, 5), strides=_int(rng, 1, 3), padding=padding, use_bias=bias)
        if rng.random() < 0.25:
            kw["strides"], kw["dilation_rate"] = 1, 2
    elif kind in ("DepthwiseConv2D", "SeparableConv2D"):
        kw = dict(kernel_size=conv_kernel, strides=strides, padding=padding, depth_multiplier=_int(rng, 1, 3), use_bias=bias)
        if rng.random() < 0.25:
            kw["dilation_rate"] = _maybe_pair(rng, 1, 2)
            if kw["padding"] == "valid":
                kw["kernel_size"] = (1, 1) if min(h, w) < 3 else _maybe_pair(rng, 1, min(3, (min(h, w) + 1) // 2))
        if kind == "SeparableConv2D":
            kw["filters"] = _pick(rng, (1, 8, 16, 64))
        shape = image
    elif kind == "Dense":
        shape = (_int(rng, 1, 3000),) if rng.random() < 0.75 else image
        kw = dict(units=_pick(rng, (1, 2, 10, 32, 128, 500)), use_bias=bias)
    elif kind == "BatchNormalization":
        shape = (_int(rng, 1, 512),) if rng.random() < 0.4 else image
        kw = dict(center=bool(rng.random() < 0.8), scale=bool(rng.random() < 0.8))
    elif kind in ("MaxPooling2D", "AveragePooling2D"):
        pool = _maybe_pair(rng, 1, min(4, h, w), 0.8)
        kw = dict(pool_size=pool, padding=padding)
        if rng.random() < 0.5:
            kw["strides"] = _maybe_pair(rng, 1, 3, 0.8)
        shape = image
    elif kind in ("MaxPooling1D", "AveragePooling1D"):
        shape = (_int(rng, 4, 60), c)
        kw = dict(pool_size=_int(rng, 1, 4), padding=padding)
        if rng.random() < 0.5:
            kw["strides"] = _int(rng, 1, 3)
    elif kind.startswith("Global"):
        shape = image if kind.endswith("2D") else (_int(rng, 1, 60), c)
        if rng.random() < 0.3:
            kw = dict(keepdims=True)
    elif kind == "ZeroPadding2D":
        kw = dict(padding=_pick(rng, (1, 2, (1, 2), ((0, 1), (2, 3)))))
        shape = image
    else:
        shape = _pick(rng, (image, (_int(rng, 1, 500),), (_int(rng, 2, 30), c)))
        if kind == "Dropout":
            kw = dict(rate=_pick(rng, (0.0, 0.25, 0.5)))
        elif kind == "Activation":
            kw = dict(activation=_pick(rng, ("relu", "softmax", "tanh")))
    if rng.random() < 0.1:
        kw["trainable"] = False
    return shape, LayerSpec(kind, kw)


def _params(rng: Rng, n: int) -> Iterator[list[CaseResult]]:
    for shape, spec in _with_edges(_PARAMS_EDGES, _draw_layer, rng, n):
        yield [check_layer(shape, spec)]


# Classic models, written as in the course notes (with 000's `stride=2` typo corrected).
_MODEL_EDGES: list[tuple[tuple[int, ...], list[LayerSpec]]] = [
    (
        (28, 28, 1),
        [L("Conv2D", filters=8, kernel_size=(3, 3), activation="relu"), L("MaxPooling2D", pool_size=(2, 2), strides=2),
         L("Flatten"), L("Dense", units=32, activation="relu"), L("Dense", units=10, activation="softmax")],
    ),
    (
        (64, 64, 3),
        [L("Conv2D", filters=32, kernel_size=3, padding="same"), L("BatchNormalization"), L("Activation", activation="relu"),
         L("MaxPooling2D", pool_size=2, strides=2), L("Conv2D", filters=64, kernel_size=3, padding="same"),
         L("BatchNormalization"), L("Activation", activation="relu"), L("MaxPooling2D", pool_size=2, strides=2),
         L("Flatten"), L("Dense", units=128), L("BatchNormalization"), L("Activation", activation="relu"),
         L("Dropout", rate=0.5), L("Dense", units=2, activation="softmax")],
    ),
    (
        (32, 32, 1),
        [L("Conv2D", filters=6, kernel_size=(5, 5), activation="tanh"), L("AveragePooling2D"),
         L("Conv2D", filters=16, kernel_size=(5, 5), activation="tanh"), L("AveragePooling2D"), L("Flatten"),
         L("Dense", units=120), L("Dense", units=84), L("Dense", units=10)],
    ),
    (
        (227, 227, 3),
        [L("Conv2D", filters=96, kernel_size=(11, 11), strides=4), L("MaxPooling2D", pool_size=(3, 3), strides=2),
         L("Conv2D", filters=256, kernel_size=(5, 5), padding="same"), L("MaxPooling2D", pool_size=(3, 3), strides=2),
         L("Conv2D", filters=384, kernel_size=3, padding="same"), L("Conv2D", filters=384, kernel_size=3, padding="same"),
         L("Conv2D", filters=256, kernel_size=3, padding="same"), L("MaxPooling2D", pool_size=(3, 3), strides=2),
         L("Flatten"), L("Dense", units=4096), L("Dropout", rate=0.5), L("Dense", units=4096), L("Dense", units=1000)],
    ),
    (
        (7, 7, 3),
        [L("Conv2D", filters=4, kernel_size=2, strides=2, padding="same"), L("SeparableConv2D", filters=8, kernel_size=3, padding="same"),
         L("DepthwiseConv2D", kernel_size=4, padding="same", depth_multiplier=3), L("GlobalMaxPooling2D"), L("Dense", units=3)],
    ),
    ((40, 3), [L("Conv1D", filters=16, kernel_size=5, dilation_rate=2), L("MaxPooling1D"), L("GlobalAveragePooling1D"), L("Dense", units=1)]),
    ((5, 5, 2), [L("Conv2D", filters=4, kernel_size=5), L("Conv2D", filters=4, kernel_size=2)]),  # refused
]  # fmt: skip


def _draw_model(rng: Rng) -> tuple[tuple[int, ...], list[LayerSpec]]:
    if rng.random() < 0.15:
        shape: tuple[int, ...] = (_int(rng, 16, 100), _pick(rng, (1, 2, 3, 8)))
        layers = [L("Conv1D", filters=_pick(rng, (4, 8, 16)), kernel_size=_int(rng, 2, 5), padding=_pick(rng, ("valid", "same")))]
        if rng.random() < 0.6:
            layers.append(L("MaxPooling1D", pool_size=_int(rng, 2, 3)))
        layers.append(_pick(rng, (L("Flatten"), L("GlobalAveragePooling1D"), L("GlobalMaxPooling1D"))))
        layers.append(L("Dense", units=_pick(rng, (1, 5, 10))))
        return shape, _valid_prefix(rng, shape, layers)
    h, w = _maybe_pair(rng, 8, 64, 0.8)
    shape = (h, w, _pick(rng, (1, 1, 3, 3, 4)))
    layers: list[LayerSpec] = []
    for _ in range(_int(rng, 1, 3)):
        kernel = _maybe_pair(rng, 1, 5, 0.85)
        strides = _pick(rng, (1, 1, 1, 2))
        padding = _pick(rng, ("valid", "same"))
        kind = _pick(rng, ("Conv2D", "Conv2D", "Conv2D", "DepthwiseConv2D", "SeparableConv2D"))
        if kind == "DepthwiseConv2D":
            layers.append(L(kind, kernel_size=kernel, strides=strides, padding=padding, depth_multiplier=_int(rng, 1, 2)))
        else:
            layers.append(L(kind, filters=_pick(rng, (4, 8, 16, 32, 64)), kernel_size=kernel, strides=strides, padding=padding))
        if rng.random() < 0.3:
            layers.append(L("BatchNormalization"))
        if rng.random() < 0.3:
            layers.append(_pick(rng, (L("Activation", activation="relu"), L("ReLU"))))
        if rng.random() < 0.1:
            layers.append(L("ZeroPadding2D", padding=1))
        if rng.random() < 0.6:
            pool = _int(rng, 2, 3)
            layers.append(L(_pick(rng, ("MaxPooling2D", "AveragePooling2D")), pool_size=pool, strides=_pick(rng, (None, 1, 2)), padding=_pick(rng, ("valid", "same"))))
        if rng.random() < 0.15:
            layers.append(L("Dropout", rate=0.25))
    head = _int(rng, 0, 2)
    if head == 0:
        layers += [L("Flatten"), L("Dense", units=_pick(rng, (16, 32, 64, 128)))]
        if rng.random() < 0.3:
            layers.append(L("BatchNormalization"))
        if rng.random() < 0.3:
            layers.append(L("Dropout", rate=0.5))
    elif head == 1:
        layers.append(_pick(rng, (L("GlobalAveragePooling2D"), L("GlobalMaxPooling2D"))))
    layers.append(L("Dense", units=_pick(rng, (1, 2, 10))))
    return shape, _valid_prefix(rng, shape, layers)


def _valid_prefix(rng: Rng, shape: tuple[int, ...], layers: list[LayerSpec]) -> list[LayerSpec]:
    """Random stacks can shrink the map away: keep the layers up to the first one the engine refuses, and now
    and then that layer too, so that refusals are cross-checked as well."""
    for n, layer in enumerate(layers):
        try:
            shape = apply_layer(shape, layer)[0]
        except ConfigError:
            return layers[: n + 1] if n == 0 or rng.random() < 0.2 else layers[:n]
    return layers


def _model_trace(rng: Rng, n: int) -> Iterator[list[CaseResult]]:
    for shape, layers in _with_edges(_MODEL_EDGES, _draw_model, rng, n):
        yield [check_model(shape, layers)]


def _random_kernel(rng: Rng, kh: int, kw: int, channels: int | None) -> tuple:
    shape = (kh, kw) if channels is None else (kh, kw, channels)
    r = rng.random()
    if r < 0.7:
        return _nested(rng.integers(-3, 4, size=shape).tolist())
    denominators = rng.choice([1, 2, 4], size=shape)  # exact in binary floating point too
    numerators = rng.integers(-4, 5, size=shape)
    return _fractions(numerators, denominators)


def _fractions(num: np.ndarray, den: np.ndarray) -> Any:
    if num.ndim == 0:
        f = Fraction(int(num), int(den))
        return f.numerator if f.denominator == 1 else f
    return tuple(_fractions(a, b) for a, b in zip(num, den))


def _named_kernel(name: str, channels: int | None) -> tuple:
    grid = KERNELS[name]
    if channels is None:
        return grid
    return tuple(tuple(tuple(v for _ in range(channels)) for v in row) for row in grid)


def _pattern_kernel(kh: int, kw: int, channels: int | None, salt: int = 0) -> tuple:
    """A fixed kernel with small signed integer weights and no symmetry, for the edge cases."""
    if channels is None:
        return tuple(tuple((3 * i + 5 * j + salt) % 7 - 3 for j in range(kw)) for i in range(kh))
    return tuple(tuple(tuple((3 * i + 5 * j + 2 * c + salt) % 7 - 3 for c in range(channels)) for j in range(kw)) for i in range(kh))


@dataclass(frozen=True)
class _ConvConfig:
    shape: tuple[int, ...]
    kernels: tuple
    strides: tuple[int, int] = (1, 1)
    padding: Any = "valid"
    bias: tuple | None = None
    relu: bool = False
    dilation: tuple[int, int] = (1, 1)
    inputs: int = 2  # how many random maps share the configuration
    fixed_input: Any = None  # or one given map

    @property
    def cases(self) -> int:
        return 1 if self.fixed_input is not None else self.inputs


_CONV_EDGES = [
    # The notes' example: [[1, 2, 3], [4, 5, 6], [7, 8, 9]] with [[1, 0], [0, -1]].
    _ConvConfig((3, 3), (((1, 0), (0, -1)),), fixed_input=((1, 2, 3), (4, 5, 6), (7, 8, 9))),
    _ConvConfig((7, 7), (KERNELS["sobel_x"],), (2, 2), "same"),  # 'same', stride 2, odd size
    _ConvConfig((8, 8), (KERNELS["laplacian"],), (2, 2), "same"),  # ... even size: all the padding at the end
    _ConvConfig((5, 6, 2), (_pattern_kernel(2, 2, 2), _pattern_kernel(2, 2, 2, 1)), padding="same", bias=(1, -2)),  # even kernel
    _ConvConfig((6, 6), (_pattern_kernel(4, 4, None),), padding="same"),  # even kernel: 1 before, 2 after
    _ConvConfig((7, 7), (KERNELS["edge"],), relu=True, dilation=(2, 2)),  # dilation
    _ConvConfig((6, 7, 3), (_named_kernel("emboss", 3),), padding="same", bias=(2,), dilation=(2, 1)),
    _ConvConfig((4, 4, 3), (_pattern_kernel(4, 4, 3),)),  # kernel equal to the input
    _ConvConfig((5, 5, 16), tuple(_pattern_kernel(1, 1, 16, f) for f in range(8))),  # 1 × 1, 16 channels, 8 filters
    _ConvConfig((5, 8), (_pattern_kernel(3, 2, None),), (2, 1), "same"),  # rectangular strides
    _ConvConfig((6, 6), (KERNELS["sobel_y"],), (2, 2), 1, bias=(1,), relu=True),  # zero padding 1
    _ConvConfig((5, 5), (KERNELS["box_blur"], KERNELS["gaussian_blur"]), padding="same"),  # exact fractions
    _ConvConfig((3, 3), (KERNELS["sharpen"],), (2, 2), "same", inputs=1),
    _ConvConfig((2, 2), (KERNELS["sharpen"],)),  # kernel larger than the map: both refuse
]


def _draw_conv(rng: Rng) -> _ConvConfig:
    channels = None if rng.random() < 0.45 else _pick(rng, (1, 2, 3, 3, 4, 8, 16))
    h, w = _maybe_pair(rng, 1, 9, 0.7)
    padding = _padding(rng, 2)
    strides = _maybe_pair(rng, 1, 3, 0.8)
    dilation = (1, 1)
    if rng.random() < 0.25:
        dilation, strides = _maybe_pair(rng, 1, 3, 0.7), (1, 1)
    filters = _pick(rng, (1, 1, 2, 3, 4))
    if rng.random() < 0.25:
        kernels = tuple(_named_kernel(_pick(rng, list(KERNELS)), channels) for _ in range(filters))
        kh = kw = 3
    else:
        kh, kw = _maybe_pair(rng, 1, 5, 0.75)
        kernels = tuple(_random_kernel(rng, kh, kw, channels) for _ in range(filters))
    if padding != "same" and rng.random() < 0.95:  # mostly kernels that fit the (padded) map; the rest both refuse
        pad = padding if isinstance(padding, int) else 0
        h = max(h, dilation[0] * (kh - 1) + 1 - 2 * pad, 1)
        w = max(w, dilation[1] * (kw - 1) + 1 - 2 * pad, 1)
    bias = None if rng.random() < 0.4 else tuple(_pick(rng, (-5, -2, -1, 0, 1, 3, Fraction(1, 2))) for _ in range(filters))
    shape = (h, w) if channels is None else (h, w, channels)
    return _ConvConfig(shape, kernels, strides, padding, bias, bool(rng.random() < 0.3), dilation, _int(rng, 1, MAX_GROUP))


def _grouped(configs: Iterator[tuple[bool, Any]], n: int, run: Callable[[Any, int], list[CaseResult]]) -> Iterator[list[CaseResult]]:
    """Run configurations that each cover several inputs until ``n`` cases are done (edge cases always run)."""
    done = 0
    for edge, config in configs:
        if not edge and done >= n:
            return
        results = run(config, config.cases if edge else min(config.cases, n - done))
        done += len(results)
        yield results


def _tagged(edges: Sequence[Any], draw: Callable[[Rng], Any], rng: Rng) -> Iterator[tuple[bool, Any]]:
    for e in edges:
        yield True, e
    while True:
        yield False, draw(rng)


def _convolution(rng: Rng, n: int) -> Iterator[list[CaseResult]]:
    def run(c: _ConvConfig, count: int) -> list[CaseResult]:
        xs = [c.fixed_input] if c.fixed_input is not None else [_values(rng, c.shape) for _ in range(count)]
        return check_convolution(xs, c.kernels, c.strides, c.padding, c.bias, c.relu, c.dilation)

    yield from _grouped(_tagged(_CONV_EDGES, _draw_conv, rng), n, run)


@dataclass(frozen=True)
class _PoolConfig:
    shape: tuple[int, ...]
    mode: str  # max, min, average, global_max or global_average
    pool_size: tuple[int, int] | None = None
    strides: tuple[int, int] | None = None
    padding: Any = "valid"
    inputs: int = 2
    fixed_input: Any = None

    @property
    def cases(self) -> int:
        return 1 if self.fixed_input is not None else self.inputs


_POOLING_EDGES = [
    _PoolConfig((5, 5), "max", (2, 2), (2, 2), "same"),  # 'same', stride 2, odd size: padding at the bottom / right
    _PoolConfig((6, 6), "average", (3, 3), (2, 2), "same"),  # ... even size
    _PoolConfig((5, 5), "average", (2, 2), (2, 2), "same"),  # averages over the cells inside the map only
    _PoolConfig((5, 5), "min", (2, 2), (2, 2), "same"),
    _PoolConfig((4, 4), "max", (4, 4)),  # pool equal to the input
    _PoolConfig((4, 4), "average", (4, 4), (1, 1), "same"),
    _PoolConfig((6, 6), "average", (2, 2), (1, 1), "same"),  # even pool, stride 1
    _PoolConfig((7, 7), "max", (1, 1), (2, 2)),  # 1 × 1 pool
    _PoolConfig((3, 3, 16), "max", (2, 2), (1, 1), "same"),  # many channels
    _PoolConfig((4, 5, 3), "average", (2, 3), (2, 1), "same"),  # rectangular
    _PoolConfig((5, 5), "max", (2, 2), (2, 2), 1),  # zero padding 1: those zeros take part
    _PoolConfig((4, 4), "max", (5, 5), inputs=1),  # pool larger than the map: both refuse
    _PoolConfig((3, 3), "max", (2, 2), (2, 2), "same", fixed_input=((-3, -1, -4), (-1, -5, -9), (-2, -6, -5))),  # padding never wins a max
    _PoolConfig((4, 4), "global_average"),
    _PoolConfig((3, 3, 16), "global_max"),
]


def _draw_pool(rng: Rng) -> _PoolConfig:
    channels = None if rng.random() < 0.5 else _pick(rng, (1, 2, 3, 4, 16))
    h, w = _maybe_pair(rng, 1, 9, 0.7)
    mode = _pick(rng, ("max", "max", "min", "average", "average", "global_max", "global_average"))
    inputs = _int(rng, 1, MAX_GROUP)
    if mode.startswith("global"):
        return _PoolConfig((h, w) if channels is None else (h, w, channels), mode, inputs=inputs)
    pool = _maybe_pair(rng, 1, 4, 0.75)
    strides = None if rng.random() < 0.3 else _maybe_pair(rng, 1, 4, 0.8)
    padding = _padding(rng, 2)
    if padding != "same" and rng.random() < 0.95:  # mostly pools that fit; the rest both refuse
        pad = padding if isinstance(padding, int) else 0
        h, w = max(h, pool[0] - 2 * pad), max(w, pool[1] - 2 * pad)
    return _PoolConfig((h, w) if channels is None else (h, w, channels), mode, pool, strides, padding, inputs)


def _pooling(rng: Rng, n: int) -> Iterator[list[CaseResult]]:
    def run(c: _PoolConfig, count: int) -> list[CaseResult]:
        xs = [c.fixed_input] if c.fixed_input is not None else [_values(rng, c.shape) for _ in range(count)]
        return check_pooling(xs, c.mode, c.pool_size, c.strides, c.padding)

    yield from _grouped(_tagged(_POOLING_EDGES, _draw_pool, rng), n, run)


@dataclass(frozen=True)
class _AdaptiveConfig:
    shape: tuple[int, ...]
    output_size: tuple[int, int]
    inputs: int = 2

    @property
    def cases(self) -> int:
        return self.inputs


_ADAPTIVE_EDGES = [
    _AdaptiveConfig((6, 6), (3, 3)),
    _AdaptiveConfig((6, 8, 2), (3, 2)),  # rectangular
    _AdaptiveConfig((5, 5, 3), (1, 1)),  # output 1 × 1: global average pooling
    _AdaptiveConfig((4, 4), (4, 4), 1),  # output = input: the identity
    _AdaptiveConfig((12, 12, 16), (4, 6), 1),  # many channels
]


def _draw_adaptive(rng: Rng) -> _AdaptiveConfig:
    """Only sizes the output divides: the engine refuses the others (Keras then uses windows of varying size)."""
    out = _maybe_pair(rng, 1, 6, 0.7)
    factor = _maybe_pair(rng, 1, 5, 0.7)
    channels = None if rng.random() < 0.5 else _pick(rng, (1, 2, 3, 8))
    hw = (out[0] * factor[0], out[1] * factor[1])
    return _AdaptiveConfig(hw if channels is None else (*hw, channels), out, _int(rng, 4, 12))  # Keras is slow per call here


def _adaptive(rng: Rng, n: int) -> Iterator[list[CaseResult]]:
    def run(c: _AdaptiveConfig, count: int) -> list[CaseResult]:
        return check_adaptive([_values(rng, c.shape) for _ in range(count)], c.output_size)

    yield from _grouped(_tagged(_ADAPTIVE_EDGES, _draw_adaptive, rng), n, run)


# Conv MACs: (input shape, kernel, filters, strides, padding, dilation).
_MACS_EDGES = [
    ((28, 28, 1), (3, 3), 8, 1, "valid", 1),
    ((56, 56, 64), (1, 1), 128, 1, "same", 1),  # 1 × 1, many channels
    ((7, 7, 3), (3, 3), 4, 2, "same", 1),
    ((8, 8, 3), (2, 2), 4, 2, "same", 1),
    ((9, 9, 2), (3, 3), 4, 1, "valid", 2),
    ((5, 5, 3), (5, 5), 2, 1, "valid", 1),
    ((6, 6, 1), (3, 3), 2, 1, 1, 1),
]


def _draw_macs(rng: Rng) -> tuple[Any, ...]:
    h, w = _maybe_pair(rng, 3, 64, 0.8)
    kernel = _maybe_pair(rng, 1, min(7, h, w), 0.8)
    strides, dilation = _maybe_pair(rng, 1, 3, 0.8), (1, 1)
    if rng.random() < 0.2:
        strides, dilation = (1, 1), (2, 2)
        kernel = (min(kernel[0], (h + 1) // 2), min(kernel[1], (w + 1) // 2))
    return (h, w, _channels(rng)), kernel, _pick(rng, (1, 8, 16, 32, 64)), strides, _padding(rng, 2), dilation


def _conv_macs(rng: Rng, n: int) -> Iterator[list[CaseResult]]:
    for config in _with_edges(_MACS_EDGES, _draw_macs, rng, n):
        yield [check_conv_macs(*config)]


@dataclass(frozen=True)
class _Family:
    run: Callable[[Rng, int], Iterator[list[CaseResult]]]
    edge_cases: int


FAMILIES: dict[str, _Family] = {
    "output-size": _Family(_output_size, len(_OUTPUT_SIZE_EDGES)),
    "params": _Family(_params, len(_PARAMS_EDGES)),
    "model-trace": _Family(_model_trace, len(_MODEL_EDGES)),
    "pooling": _Family(_pooling, sum(c.cases for c in _POOLING_EDGES)),
    "convolution": _Family(_convolution, sum(c.cases for c in _CONV_EDGES)),
    "adaptive-pooling": _Family(_adaptive, sum(c.cases for c in _ADAPTIVE_EDGES)),
    "conv-macs": _Family(_conv_macs, len(_MACS_EDGES)),
}


# --- running -----------------------------------------------------------------------------------------------


def family_rng(seed: int, family: str) -> np.random.Generator:
    """The family's own Generator: the same seed gives the same cases whichever families run."""
    return np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFFFFFFFFFF, zlib.crc32(family.encode())]))


def select_families(names: Sequence[str] | None) -> list[str]:
    """The families to run, in the canonical order; UserError with a suggestion for an unknown name."""
    if not names:
        return list(FAMILIES)
    for name in names:
        if name not in FAMILIES:
            raise UserError(f"unknown family {name!r}{did_you_mean(name, FAMILIES)}; families: {one_of(list(FAMILIES))}")
    return [f for f in FAMILIES if f in names]


def planned_cases(cases_per_family: int, families: Sequence[str] | None = None) -> int:
    """How many cases :func:`run_verify` will check (edge cases always run, so a family may run more than asked)."""
    return sum(max(cases_per_family, FAMILIES[f].edge_cases) for f in select_families(families))


def run_verify(cases_per_family: int, seed: int, progress: Progress | None = None, families: Sequence[str] | None = None) -> VerifyReport:
    """Cross-check the engine against Keras on ``cases_per_family`` configurations of each family.

    ``progress(n)`` is called as each batch of n cases is done. Raises MissingDependencyError without
    TensorFlow, UserError for a bad argument.
    """
    if isinstance(cases_per_family, bool) or not isinstance(cases_per_family, int) or cases_per_family < 1:
        raise UserError(f"the number of cases per family must be an integer >= 1 (got {cases_per_family!r})")
    chosen = select_families(families)
    kc.load_keras()
    reports = []
    for name in chosen:
        cases = agreements = 0
        examples: list[CaseResult] = []
        for batch in FAMILIES[name].run(family_rng(seed, name), cases_per_family):
            for result in batch:
                cases += 1
                if result.agrees:
                    agreements += 1
                elif len(examples) < MAX_EXAMPLES:
                    examples.append(result)
            if progress is not None:
                progress(len(batch))
        reports.append(FamilyReport(name, cases, agreements, cases - agreements, tuple(examples)))
    return VerifyReport(seed, cases_per_family, tuple(reports))


__all__ = [
    "FAMILIES",
    "MAX_EXAMPLES",
    "CaseResult",
    "FamilyReport",
    "VerifyReport",
    "check_adaptive",
    "check_conv_macs",
    "check_convolution",
    "check_layer",
    "check_model",
    "check_output_size",
    "check_pooling",
    "family_rng",
    "format_report",
    "planned_cases",
    "run_verify",
    "select_families",
]
