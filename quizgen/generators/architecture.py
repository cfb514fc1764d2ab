"""`architecture`: a small Keras CNN → each layer's output shape and parameters, the total, or how many
parameters a GlobalAveragePooling2D head saves over a Flatten + Dense head (the course notes' Model A / B).

Every number comes from :func:`quizgen.engine.trace_model`; a mistake's answer is the trace of the model with
the mistake applied (biases switched off, 'same' and 'valid' swapped, ...), or the right trace with the
mistaken count of the layers concerned from the engine's parameter formulas.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import compress
from operator import is_not

from quizgen import text
from quizgen.engine import LayerSpec, Trace, conv2d_params, dense_params, trace_model
from quizgen.engine.model import LayerMemo, LayerRow, apply_layer, canonical_class, derived_layer
from quizgen.engine.params import NO_PARAMS, ParamCount, depthwise_conv2d_params
from quizgen.engine.sizes import as_pair, effective_kernel
from quizgen.errors import ConfigError, UserError
from quizgen.mistakes import mistake
from quizgen.problem import Difficulty, ModelData, Problem, Shape, Table, TableRow, make_problem
from quizgen.registry import Draw, ParamSpec, register

ASKS = ("table", "total", "gap_savings")
HEADS = ("flatten", "gap")
POOLING = ("MaxPooling2D", "AveragePooling2D")
GLOBAL_POOLING = ("GlobalAveragePooling2D", "GlobalMaxPooling2D")
WITH_BIAS = ("Conv2D", "Conv1D", "Dense", "DepthwiseConv2D", "SeparableConv2D")
# Layers that keep the shape: a pooling layer followed only by these still feeds Flatten directly.
SHAPE_KEEPING = ("BatchNormalization", "Dropout", "Activation", "ReLU", "LeakyReLU")


@register(
    "architecture",
    "Per-layer output shapes and parameters of a small CNN, its total, and what a GAP head saves",
    params=[
        ParamSpec("input_shape", "shape", "the model's input shape without the batch axis, e.g. [28, 28, 1]"),
        ParamSpec("layers", "layers", "the whole model: Keras layers with their keywords (the rest is then ignored)"),
        ParamSpec("ask", "choice", "what to find: the per-layer table, the total, or the GAP head's savings", choices=ASKS),
        ParamSpec("batch_norm", "bool", "BatchNormalization after each Conv2D and hidden Dense layer"),
        ParamSpec("head", "choice", "Flatten + Dense layers, or GlobalAveragePooling2D, before the output", choices=HEADS),
    ],
    mistakes=[
        "flattened-before-pooling",
        "forgot-bias",
        "forgot-input-channels",
        "batchnorm-two-per-channel",
        "batchnorm-zero",
        "pooling-has-params",
        "same-valid-confused",
        "dense-on-unflattened",
    ],
)
def architecture(draw: Draw) -> Problem:
    d = draw.difficulty
    ask = draw("ask", lambda: draw.choice(("table", "table", "table", "total", "gap_savings")))
    if draw.is_pinned("layers"):
        layers = draw.pinned["layers"]
        input_shape = draw("input_shape", lambda: _shape_from_first_layer(layers))
        batch_norm = _has(layers, ("BatchNormalization",))
        head = "gap" if _has(layers, GLOBAL_POOLING) else "flatten" if _has(layers, ("Flatten",)) else None
        for name, value in (("batch_norm", batch_norm), ("head", head)):
            if draw.is_pinned(name) and draw.pinned[name] != value:
                raise UserError(
                    f"{name!r} is {draw.pinned[name]!r} but the pinned layers have {value!r}; "
                    f"with 'layers' pinned, {name!r} describes them (leave it out or make it match)"
                )
    else:
        input_shape = draw("input_shape", lambda: _random_input_shape(draw))
        if len(input_shape) != 3:
            raise UserError(f"'input_shape' must be (H, W, C) for a random CNN (got {list(input_shape)})")
        batch_norm = draw("batch_norm", lambda: d is not Difficulty.EASY and draw.choice((True, False, False)))
        head = draw("head", lambda: "flatten" if ask == "gap_savings" else draw.choice(("flatten", "flatten", "gap")))
        layers = draw("layers", lambda: _random_layers(draw, batch_norm, head))

    try:
        trace = trace_model(input_shape, layers)
        pair = _gap_pair(input_shape, layers) if ask == "gap_savings" else None
    except ConfigError:
        draw.reject("a layer does not fit its input")
        raise  # on the last attempt the pinned model itself is impossible; the message names the layer

    params = {"input_shape": tuple(input_shape), "layers": tuple(layers), "ask": ask, "batch_norm": batch_norm}
    if head is not None:
        params["head"] = head
    title, prompt, data, answer, steps, wrong = _solved(ask, tuple(input_shape), tuple(layers), trace, pair)
    return make_problem(
        topic="architecture",
        difficulty=d,
        params=params,
        title=title,
        prompt=prompt,
        data=data,
        answer=answer,
        solution=steps,
        mistakes=wrong,
    )


# Everything but the params follows from what is asked and the model, and models come back problem after
# problem (a quiz section pins one; the random ones are built from a few shared layer objects). Kept by
# (ask, input shape, layer objects); each entry holds on to its layers, so no other layer can take their ids.
_SOLVED: dict[tuple, tuple[tuple[LayerSpec, ...], tuple]] = {}


def _solved(ask: str, input_shape: tuple[int, ...], layers: tuple[LayerSpec, ...], trace: Trace, pair) -> tuple:
    """(title, prompt, data, answer, solution steps, mistakes) of the problem about ``layers``."""
    key = (ask, input_shape, *map(id, layers))
    known = _SOLVED.get(key)
    if known is not None:
        return known[1]
    solved = _solve(ask, input_shape, layers, trace, pair)
    if len(_SOLVED) >= 2048:
        _SOLVED.clear()
    _SOLVED[key] = (layers, solved)
    return solved


def _solve(ask: str, input_shape: tuple[int, ...], layers: tuple[LayerSpec, ...], trace: Trace, pair) -> tuple:
    data: tuple[ModelData, ...] = (ModelData(input_shape, layers),)
    if pair is None:
        answer = _table(trace) if ask == "table" else trace.total
        wrong = tuple(
            mistake(name, _table(t, (trace, answer)) if ask == "table" else t.total)
            for name, t in _mistaken_traces(input_shape, layers, trace)
        )
        steps = tuple(_layer_steps(trace, layers) + [_total_step(trace)])
        title = f"{'Shapes and parameters' if ask == 'table' else 'Parameters'} of a CNN with {len(layers)} layers"
        prompt = _prompt(ask, input_shape)
    else:
        (with_flatten, a), (with_gap, b) = pair
        answer = a.total - b.total
        wrong_a = dict(_mistaken_traces(input_shape, with_flatten, a))
        wrong_b = dict(_mistaken_traces(input_shape, with_gap, b))
        wrong = tuple(
            mistake(name, wrong_a.get(name, a).total - wrong_b.get(name, b).total)
            for name in dict.fromkeys([*wrong_a, *wrong_b])
        )
        data = (
            ModelData(input_shape, tuple(with_flatten), "Model A"),
            ModelData(input_shape, tuple(with_gap), "Model B"),
        )
        steps = tuple(
            [f"Model A: {s}" for s in _layer_steps(a, with_flatten) + [_total_step(a)]]
            + [f"Model B: {s}" for s in _layer_steps(b, with_gap) + [_total_step(b)]]
            + [f"Savings: {text.num(a.total)} − {text.num(b.total)} = {text.num(answer)} parameters."]
        )
        title = "Parameters saved by a GlobalAveragePooling2D head"
        prompt = (
            f"Model A (input shape {text.shape_tuple(input_shape)}) ends with Flatten and Dense "
            "layers; model B has the same layers up to there, then GlobalAveragePooling2D and the output "
            "Dense layer. How many fewer parameters does model B have than model A?"
        )
    return title, prompt, data, answer, steps, wrong


# --- models -----------------------------------------------------------------------------------------------


def _has(layers: Sequence[LayerSpec], classes: Sequence[str]) -> bool:
    return any(_class(layer) in classes for layer in layers)


def _class(layer: LayerSpec) -> str:
    try:
        return canonical_class(layer.class_name)
    except ConfigError:
        return layer.class_name  # the engine names an unknown layer when it traces the model


def _shape_from_first_layer(layers: Sequence[LayerSpec]) -> tuple[int, ...]:
    if layers and "input_shape" in layers[0].kwargs:
        return tuple(layers[0].kwargs["input_shape"])
    raise UserError("with 'layers' pinned, pin 'input_shape' too (or give the first layer an input_shape keyword)")


def gap_models(layers: Sequence[LayerSpec]) -> tuple[tuple[LayerSpec, ...], tuple[LayerSpec, ...]]:
    """The Flatten + Dense head model and the GlobalAveragePooling2D head model compared by ``gap_savings``.

    From a model with Flatten: model B keeps the layers before Flatten, then GlobalAveragePooling2D and the
    model's last Dense layer (with whatever follows it) — the notes' Model A → Model B. From a model with a
    GlobalAveragePooling2D head: model A replaces it by Flatten.
    """
    layers = tuple(layers)
    classes = [_class(layer) for layer in layers]
    if "Flatten" in classes:
        cut = classes.index("Flatten")
        dense = [i for i, c in enumerate(classes) if c == "Dense" and i > cut]
        if not dense:
            raise UserError("ask=gap_savings needs a Dense output layer after Flatten")
        return layers, layers[:cut] + (GAP,) + layers[dense[-1] :]
    if "GlobalAveragePooling2D" in classes:
        cut = classes.index("GlobalAveragePooling2D")
        return layers[:cut] + (FLATTEN,) + layers[cut + 1 :], layers
    raise UserError("ask=gap_savings needs a model with a Flatten or a GlobalAveragePooling2D head")


def _gap_pair(input_shape, layers) -> tuple[tuple[tuple[LayerSpec, ...], Trace], tuple[tuple[LayerSpec, ...], Trace]]:
    with_flatten, with_gap = gap_models(layers)
    return (with_flatten, trace_model(input_shape, with_flatten)), (with_gap, trace_model(input_shape, with_gap))


def _random_input_shape(draw: Draw) -> tuple[int, int, int]:
    d = draw.difficulty
    if d is Difficulty.EASY:
        return draw.choice(((28, 28, 1), (28, 28, 1), (32, 32, 1), (32, 32, 3)))
    if d is Difficulty.MEDIUM:
        return draw.choice(((32, 32, 3), (64, 64, 3), (28, 28, 1), (48, 48, 3)))
    n = draw.choice((27, 29, 31, 33, 35, 37, 39))
    return (n, n, draw.choice((1, 3, 3)))


# The random models are made of these layers, each built once: the engine keeps its checks and results on a
# layer object, so reusing the objects lets every problem share them.
@lru_cache(maxsize=None)
def _conv(filters: int, k: int, **kwargs) -> LayerSpec:
    return LayerSpec("Conv2D", {"filters": filters, "kernel_size": (k, k), **kwargs, "activation": "relu"})


@lru_cache(maxsize=None)
def _dense(units: int, activation: str) -> LayerSpec:
    return LayerSpec("Dense", {"units": units, "activation": activation})


POOL_2 = LayerSpec("MaxPooling2D", {"pool_size": (2, 2)})
POOL_2_STRIDE_2 = LayerSpec("MaxPooling2D", {"pool_size": (2, 2), "strides": 2})
HARD_POOLS = (
    LayerSpec("MaxPooling2D", {"pool_size": (3, 3), "strides": 2}),
    POOL_2,
    LayerSpec("AveragePooling2D", {"pool_size": (2, 2)}),
)
LAST_POOLS = (LayerSpec("MaxPooling2D", {"pool_size": (2, 2), "padding": "same"}), POOL_2)
FLATTEN = LayerSpec("Flatten")
GAP = LayerSpec("GlobalAveragePooling2D")
DROPOUT = LayerSpec("Dropout", {"rate": 0.5})
BATCH_NORM = LayerSpec("BatchNormalization")


def _random_layers(draw: Draw, batch_norm: bool, head: str) -> tuple[LayerSpec, ...]:
    d = draw.difficulty
    if d is Difficulty.EASY:
        body = [_conv(draw.choice((8, 16, 32)), draw.choice((3, 3, 5))), POOL_2]
    elif d is Difficulty.MEDIUM:
        padding = draw.choice(("same", "valid"))
        f, k = draw.choice((16, 32)), draw.choice((3, 3, 5))
        body = [_conv(f, k, padding=padding), POOL_2_STRIDE_2, _conv(2 * f, 3, padding=padding), POOL_2_STRIDE_2]
    else:
        f = draw.choice((16, 32))
        first = _conv(f, draw.choice((3, 5)), strides=2, padding="same")
        pool = draw.choice(HARD_POOLS)
        second = draw.choice((
            _conv(2 * f, 3),
            _conv(2 * f, 3, padding="same", dilation_rate=2),
            _conv(2 * f, 3, strides=2, padding="same"),
        ))
        last = draw.choice(LAST_POOLS)
        body = [first, pool, second, last]
    classes = draw.choice((10, 10, 2, 5))
    if head == "gap":
        top = [GAP, _dense(classes, "softmax")]
    else:
        top = [FLATTEN, _dense(draw.choice((32, 64, 128)), "relu")]
        if d is not Difficulty.EASY and draw.choice((True, False)):
            top.append(DROPOUT)
        top.append(_dense(classes, "softmax"))
    layers = body + top
    if batch_norm:
        # After each Conv2D and each hidden Dense layer (the notes' BatchNormalization variant).
        last_dense = max(i for i, layer in enumerate(layers) if layer.class_name == "Dense")
        layers = [
            x
            for i, layer in enumerate(layers)
            for x in ([layer, BATCH_NORM] if layer.class_name == "Conv2D" or layer.class_name == "Dense" and i != last_dense else [layer])
        ]
    return tuple(layers)


# --- answers and mistakes ---------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _table_row(name: str, class_name: str, shape: tuple[int, ...], params: int) -> TableRow:
    # The answer and every mistaken table repeat most rows, and rows repeat from one problem to the next.
    return TableRow(f"{name} ({class_name})", Shape(shape), params)


def _table(trace: Trace, like: tuple[Trace, Table] | None = None) -> Table:
    """The trace as a table; rows it shares with the trace of table ``like`` (a mistake's trace and the answer's
    share most rows) are taken from that table."""
    if like is None:
        return Table(tuple(_table_row(r.name, r.class_name, r.output_shape, r.params.total) for r in trace.rows), trace.total)
    base, table = like
    if trace is base:  # a mistake that changes no row
        return table
    rows = list(table.rows[: len(trace.rows)])
    changed = compress(range(len(rows)), map(is_not, trace.rows, base.rows))  # indices of the rows not shared, found in C
    for i in changed:
        row = trace.rows[i]
        rows[i] = _table_row(row.name, row.class_name, row.output_shape, row.params.total)
    for row in trace.rows[len(rows) :]:
        rows.append(_table_row(row.name, row.class_name, row.output_shape, row.params.total))
    return Table(tuple(rows), trace.total)


def _inputs(trace: Trace) -> list[tuple[int, ...]]:
    """The input shape of each layer of a trace."""
    return [trace.input_shape] + [r.output_shape for r in trace.rows[:-1]]


_RECOUNTED = LayerMemo()  # a mistake's row for a layer: by (input shape, row name, mistake)


def _mistaken_traces(input_shape, layers: Sequence[LayerSpec], trace: Trace) -> list[tuple[str, Trace]]:
    """(mistake name, the trace a student making it would write) for each mistake that applies to the model."""
    layers = tuple(layers)
    classes = [row.class_name for row in trace.rows]
    inputs = _inputs(trace)
    at: dict[str, list[int]] = {}  # the indices of each class's layers: most mistakes touch one or two classes
    for i, c in enumerate(classes):
        at.setdefault(c, []).append(i)
    out: list[tuple[str, Trace]] = []

    def traced(name: str, changed: Sequence[LayerSpec], keep: int = 0) -> None:
        try:
            wrong = trace_model(input_shape, changed)
        except ConfigError:
            return
        # The first ``keep`` rows are written correctly; the mistake shows from there on.
        out.append((name, Trace(trace.input_shape, trace.rows[:keep] + wrong.rows[keep:]) if keep else wrong))

    def recounted(name: str, classes_counted: Sequence[str], count: Callable[[int], ParamCount | None]) -> None:
        # ``count`` depends only on the layer and its input shape, so each row's recount is remembered.
        rows = trace.rows
        changed = {}
        for c in classes_counted:
            for i in at.get(c, ()):
                row = rows[i]
                key = (inputs[i], row.name, name)
                new = _RECOUNTED.get(layers[i], key)
                if new is None:
                    params = count(i)
                    new = _RECOUNTED.put(
                        layers[i], key, False if params is None else LayerRow(row.name, row.class_name, row.output_shape, params)
                    )
                if new:  # False: this layer is counted the same way
                    changed[i] = new
        out.append((name, trace.replaced(changed)))

    # Flatten sees the map before the pooling layer in front of it (with only shape-keeping layers between).
    if "Flatten" in classes:
        cut = classes.index("Flatten")
        before = [i for i in range(cut) if classes[i] not in SHAPE_KEEPING]
        if before and classes[before[-1]] in POOLING:
            q = before[-1]
            unpooled = list(layers)
            unpooled[q] = derived_layer(layers[q], pool_size=(1, 1), strides=(1, 1))
            traced("flattened-before-pooling", unpooled, keep=q + 1)
    if any(layers[i].kwargs.get("use_bias", True) for c in WITH_BIAS for i in at.get(c, ())):
        # The model traced with use_bias=False on every layer that has biases; no shape changes, so only
        # those layers are counted again.
        recounted("forgot-bias", WITH_BIAS, lambda i: apply_layer(inputs[i], derived_layer(layers[i], use_bias=False))[1])

    def conv_without_channels(i: int) -> ParamCount | None:
        kw = layers[i].kwargs
        if inputs[i][-1] == 1 or kw.get("groups", 1) != 1:
            return None
        return conv2d_params(kw["filters"], kw["kernel_size"], 1, kw.get("use_bias", True))

    if any(inputs[i][-1] > 1 for i in at.get("Conv2D", ())):
        recounted("forgot-input-channels", ("Conv2D",), conv_without_channels)
    if "BatchNormalization" in at:
        bn = ("BatchNormalization",)
        recounted("batchnorm-two-per-channel", bn, lambda i: ParamCount(trace.rows[i].params.trainable))
        recounted("batchnorm-zero", bn, lambda i: NO_PARAMS)
    if any(c in at for c in POOLING):
        # As if each channel's window held weights and a bias, like a depthwise convolution.
        recounted(
            "pooling-has-params",
            POOLING,
            lambda i: depthwise_conv2d_params(layers[i].kwargs.get("pool_size", (2, 2)), inputs[i][-1]),
        )
    if "Conv2D" in at:
        swapped = [
            derived_layer(layer, padding="valid" if layer.kwargs.get("padding", "valid") == "same" else "same") if c == "Conv2D" else layer
            for c, layer in zip(classes, layers)
        ]
        traced("same-valid-confused", swapped)
    if "Flatten" in classes:
        cut = classes.index("Flatten")
        if cut + 1 < len(layers) and classes[cut + 1] == "Dense":
            dense = layers[cut + 1].kwargs
            channels = inputs[cut][-1]
            row = trace.rows[cut + 1]
            params = dense_params(dense["units"], channels, dense.get("use_bias", True))
            out.append(("dense-on-unflattened", trace.replaced({cut + 1: LayerRow(row.name, row.class_name, row.output_shape, params)})))
    return out


# --- text -------------------------------------------------------------------------------------------------


def _prompt(ask: str, input_shape) -> str:
    model = f"the Keras Sequential model below (input shape {text.shape_tuple(input_shape)}, batch axis left out)"
    if ask == "table":
        return (
            f"For {model}, give each layer's output shape and number of parameters, and the model's total number "
            "of parameters, as model.summary() reports them."
        )
    return f"How many parameters in total (trainable and non-trainable, as model.summary() reports) does {model} have?"


def _k(value) -> str:
    a, b = as_pair("size", value)
    return f"{a}×{b}"


def _label(layer: LayerSpec, cls: str) -> str:
    kw = layer.kwargs
    if cls == "Conv2D":
        extra = []
        if as_pair("strides", kw.get("strides", 1)) != (1, 1):
            extra.append(f"stride {_one(kw['strides'])}")
        if as_pair("dilation_rate", kw.get("dilation_rate", 1)) != (1, 1):
            extra.append(f"dilation {_one(kw['dilation_rate'])}")
        extra.append(f"'{kw.get('padding', 'valid')}'")
        return f"Conv2D({kw['filters']}, {_k(kw['kernel_size'])}, {', '.join(extra)})"
    if cls in POOLING:
        pool = kw.get("pool_size", (2, 2))
        strides = kw.get("strides") or pool
        padding = f", '{kw['padding']}'" if kw.get("padding", "valid") != "valid" else ""
        return f"{cls}({_k(pool)}, stride {_one(strides)}{padding})"
    if cls == "Dense":
        return f"Dense({kw['units']})"
    if cls == "Dropout":
        return f"Dropout({kw['rate']})"
    if cls == "Activation":
        return f"Activation({text.keras_value(kw['activation'])})"
    return cls


def _one(value) -> str:
    a, b = as_pair("value", value)
    return str(a) if a == b else f"{a}×{b}"


def _sizes(cls: str, layer: LayerSpec, shape, out) -> str:
    """How a Conv2D or pooling layer gets its output height and width, as the notes write it."""
    kw = layer.kwargs
    key = "kernel_size" if cls == "Conv2D" else "pool_size"
    kernel = as_pair(key, kw.get(key, (2, 2)))
    default = 1 if cls == "Conv2D" else kernel
    strides = as_pair("strides", kw.get("strides") or default)
    dilation = as_pair("dilation_rate", kw.get("dilation_rate", 1))
    padding = kw.get("padding", "valid")
    axes = list(zip(("rows", "columns"), shape[:2], kernel, strides, dilation, out[:2]))
    if axes[0][1:] == axes[1][1:]:
        axes = [("", *axes[0][1:])]
    parts = []
    for axis, n, k, s, dd, o in axes:
        name = f" {axis}" if axis else ""
        if padding == "same":
            parts.append(f"'same' gives ⌈{n}/{s}⌉ = {o}{name}")
        else:
            span = effective_kernel(k, dd)
            note = f" (dilated span {dd}·({k} − 1) + 1 = {span})" if dd > 1 else ""
            parts.append(f"⌊({n} − {span})/{s}⌋ + 1 = {o}{name}{note}")
    return ", ".join(parts)


# What a layer does to an input depends only on the layer and the input shape, and the generator's layers come
# back problem after problem.
_STEPS = LayerMemo()


def _layer_steps(trace: Trace, layers: Sequence[LayerSpec]) -> list[str]:
    steps = []
    for n, (row, layer, shape) in enumerate(zip(trace.rows, layers, _inputs(trace)), 1):
        step = _STEPS.get(layer, shape) or _STEPS.put(layer, shape, _describe_step(layer, row, shape))
        steps.append(f"Layer {n}, {step}")
    return steps


def _describe_step(layer: LayerSpec, row: LayerRow, shape: tuple[int, ...]) -> str:
    """One layer's step of the worked solution, after its "Layer n, "."""
    cls = row.class_name
    out, total = row.output_shape, row.params.total
    kw = layer.kwargs
    bias = kw.get("use_bias", True)
    if cls == "Dense" and len(shape) == 1:
        n_in = shape[-1]
        formula = f"{text.plain(n_in)} × {kw['units']}" + (f" + {kw['units']}" if bias else "")
        return f"{_label(layer, cls)} on {text.plain(n_in)} inputs: output {out[0]}; params {formula} = {text.num(total)}."
    head = f"{_label(layer, cls)} on {text.dims(shape)}"
    if cls == "Conv2D" and kw.get("groups", 1) == 1:
        k = as_pair("kernel_size", kw["kernel_size"])
        weights = f"{k[0]} × {k[1]} × {shape[-1]}"
        formula = f"{kw['filters']} × ({weights} + 1)" if bias else f"{kw['filters']} × {weights}"
        return f"{head}: {_sizes(cls, layer, shape, out)}; output {text.dims(out)}; params {formula} = {text.num(total)}."
    if cls in POOLING:
        return f"{head}: {_sizes(cls, layer, shape, out)}; output {text.dims(out)}; params 0 (pooling has no weights)."
    if cls == "Flatten":
        return f"{head}: {text.dims(shape)} = {text.plain(out[0])} values; params 0."
    if cls in GLOBAL_POOLING and len(out) == 1:
        return f"{head}: one value per channel, output {out[0]}; params 0."
    if cls == "Dense":
        formula = f"{text.plain(shape[-1])} × {kw['units']}" + (f" + {kw['units']}" if bias else "")
        return f"{head}: acts on the last axis, output {text.dims(out)}; params {formula} = {text.num(total)}."
    if cls == "BatchNormalization" and kw.get("center", True) and kw.get("scale", True):
        return (
            f"{head}: shape unchanged; params 4 × {shape[-1]} = {text.num(total)} (γ and β trainable: "
            f"{text.num(row.params.trainable)}; moving mean and variance non-trainable: {text.num(row.params.non_trainable)})."
        )
    if total == 0 and out == shape:
        return f"{head}: shape unchanged; params 0."
    return f"{head}: output {text.dims(out)}; params {text.num(total)}."


def _total_step(trace: Trace) -> str:
    counted = [v for v in [r.params.total for r in trace.rows] if v]
    sums = " + ".join(map(text.num, counted)) if len(counted) > 1 else ""
    params = trace.params
    line = f"Total: {sums} = {text.num(params.total)}" if sums else f"Total: {text.num(params.total)}"
    if params.non_trainable:
        line += (
            f" (trainable {text.num(params.trainable)}; non-trainable {text.num(params.non_trainable)}: "
            "BatchNormalization's moving means and variances)"
        )
    return line + "."
