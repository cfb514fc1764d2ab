"""`params`: how many parameters one layer or a small sequential model has, as Keras's model.summary() counts them.

The question asks for the total (``count='total'``, Keras's "Total params") or, with BatchNormalization in the
layer or model, for the trainable or non-trainable count: BatchNormalization's moving mean and variance are
weights Keras counts but never trains.

Every wrong answer is the engine's count with the mistake applied to the layers: ``use_bias=False`` for
forgot-bias, one input channel for forgot-input-channels (the class review's (f·f + 1)·n_c), a Conv2D with as
many filters as the depthwise layer has outputs for depthwise-as-conv, the model without its Flatten for
dense-on-unflattened (Keras's Dense then sees only the channels), and so on. A pooling layer that "has
parameters" is counted as if its window were a depthwise kernel: k_h × k_w weights and a bias per channel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from quizgen import text
from quizgen.engine import LayerSpec, ParamCount, Trace, depthwise_conv2d_params, trace_model
from quizgen.engine.model import LayerMemo, apply_layer, canonical_class, derived_layer
from quizgen.engine.params import NO_PARAMS
from quizgen.engine.sizes import as_pair
from quizgen.errors import ConfigError, UserError
from quizgen.mistakes import mistake
from quizgen.problem import Difficulty, ModelData, Problem, make_problem
from quizgen.registry import Draw, ParamSpec, register

TOPIC = "params"
POOLS = ("MaxPooling2D", "AveragePooling2D")
LAYERS = (
    "Conv2D",
    "Conv1D",
    "Dense",
    "BatchNormalization",
    "DepthwiseConv2D",
    "SeparableConv2D",
    *POOLS,
    "model",
)
COUNTS = ("total", "trainable", "non_trainable")
COUNT_WORDS = {"total": "parameters", "trainable": "trainable parameters", "non_trainable": "non-trainable parameters"}
SUMMARY_LINE = {"total": "Total params", "trainable": "Trainable params", "non_trainable": "Non-trainable params"}
BIASED = ("Conv2D", "Conv1D", "Dense", "DepthwiseConv2D", "SeparableConv2D")  # layers with a use_bias keyword
SHAPE_ONLY = ("Dropout", "Activation", "ReLU", "LeakyReLU", "BatchNormalization")  # keep the shape as it is

# Which pinned parameters apply to which layer, and the input ranks (without the batch axis) each accepts.
APPLIES_TO = {
    "Conv2D": ("input_shape", "filters", "kernel_size", "use_bias", "count"),
    "Conv1D": ("input_shape", "filters", "kernel_size", "use_bias", "count"),
    "Dense": ("input_shape", "units", "use_bias", "count"),
    "BatchNormalization": ("input_shape", "count"),
    "DepthwiseConv2D": ("input_shape", "kernel_size", "depth_multiplier", "use_bias", "count"),
    "SeparableConv2D": ("input_shape", "filters", "kernel_size", "depth_multiplier", "use_bias", "count"),
    "MaxPooling2D": ("input_shape", "pool_size", "count"),
    "AveragePooling2D": ("input_shape", "pool_size", "count"),
    "model": ("input_shape", "layers", "filters", "kernel_size", "units", "use_bias", "pool_size", "count"),
}
RANKS = {
    "Conv2D": (3,),
    "Conv1D": (2,),
    "Dense": (1,),
    "BatchNormalization": (1, 2, 3),
    "DepthwiseConv2D": (3,),
    "SeparableConv2D": (3,),
    "MaxPooling2D": (3,),
    "AveragePooling2D": (3,),
    "model": (1, 3),
}
LAYER_MIX = {
    Difficulty.EASY: ("Conv2D",) * 4 + ("Dense",) * 3 + POOLS + ("model",) * 2,
    Difficulty.MEDIUM: ("Conv2D",) * 3 + ("Dense",) * 2 + ("Conv1D", "BatchNormalization", "DepthwiseConv2D", "SeparableConv2D", "MaxPooling2D") + ("model",) * 3,
    Difficulty.HARD: ("Conv2D", "Conv1D", "DepthwiseConv2D") + ("SeparableConv2D", "BatchNormalization") * 2 + ("model",) * 4,
}

MODEL_INPUTS = {
    Difficulty.EASY: ((28, 28, 1), (32, 32, 1), (32, 32, 3)),
    Difficulty.MEDIUM: ((28, 28, 1), (32, 32, 1), (32, 32, 3), (64, 64, 3)),
    Difficulty.HARD: ((28, 28, 1), (32, 32, 3), (48, 48, 1), (64, 64, 3)),
}

MISTAKES = (  # in this order: when two give the same wrong answer, the first one names it
    "dense-no-bias",
    "forgot-bias",
    "forgot-input-channels",
    "depthwise-as-conv",
    "separable-no-pointwise",
    "dense-on-unflattened",
    "flattened-before-pooling",
    "pooling-has-params",
    "batchnorm-two-per-channel",
    "batchnorm-zero",
    "trainable-includes-bn-stats",
    "batchnorm-all-non-trainable",
)


@register(
    TOPIC,
    "Parameters of a layer (Conv2D, Dense, BatchNormalization, ...) or of a small model",
    params=[
        ParamSpec("layer", "choice", "the layer, or a small sequential model", choices=LAYERS),
        ParamSpec("input_shape", "shape", "the layer's input without the batch axis, e.g. [28, 28, 1] or [1352]"),
        ParamSpec("filters", "int", "filters (output channels) of a convolution", min=1, max=4096),
        ParamSpec("kernel_size", "pair", "convolution kernel (Conv1D: one size)", min=1, max=15),
        ParamSpec("units", "int", "Dense units (output neurons)", min=1, max=100_000),
        ParamSpec("use_bias", "bool", "whether the layer has biases (Keras's default: true)"),
        ParamSpec("depth_multiplier", "int", "DepthwiseConv2D / SeparableConv2D outputs per input channel", min=1, max=16),
        ParamSpec("pool_size", "pair", "pooling window", min=1, max=8),
        ParamSpec("layers", "layers", "the model's layers, e.g. [{class_name: Conv2D, filters: 8, kernel_size: 3}, ...]"),
        ParamSpec("count", "choice", "which count to ask for (model.summary()'s lines)", choices=COUNTS),
    ],
    mistakes=MISTAKES,
)
def params(draw: Draw) -> Problem:
    layer = draw("layer", lambda: _pick_layer(draw))
    _check_pins(draw, layer)
    if layer == "model":
        shape, layers = _model(draw)
        record: dict[str, Any] = {"layer": layer, "input_shape": shape, "layers": layers}
    else:
        shape, kwargs = _single(draw, layer)
        layers = (_spec(layer, *kwargs.items()),)
        record = {"layer": layer, "input_shape": shape, **kwargs}
    try:
        trace = trace_model(shape, layers)
    except ConfigError:
        draw.reject("the layers do not fit the input")
        raise
    has_bn = any(canonical_class(s.class_name) == "BatchNormalization" for s in layers)
    count = draw("count", lambda: _count(draw, has_bn))
    record["count"] = count
    if count != "total" and not has_bn:
        draw.reject("without BatchNormalization every parameter is trainable")
    answer, title, prompt, data, solution, wrong = _solved(layer, count, shape, layers, trace, record)
    return make_problem(
        topic=TOPIC,
        difficulty=draw.difficulty,
        params=record,
        title=title,
        prompt=prompt,
        data=data,
        answer=answer,
        solution=solution,
        mistakes=wrong,
    )


# Everything but the params follows from the layer (or "model"), the count asked for, the input shape and the
# layer objects, and these come back problem after problem. Each entry holds on to its layers, so no other
# layer can take their ids.
_SOLVED: dict[tuple, tuple[tuple[LayerSpec, ...], tuple]] = {}


def _solved(layer: str, count: str, shape: Shape, layers: tuple[LayerSpec, ...], trace: Trace, record: dict[str, Any]) -> tuple:
    """(answer, title, prompt, data, solution steps, mistakes) of the problem."""
    key = (layer, count, shape, *map(id, layers))
    known = _SOLVED.get(key)
    if known is not None:
        return known[1]
    solved = _solve(layer, count, shape, layers, trace, record)
    if len(_SOLVED) >= 4096:
        _SOLVED.clear()
    _SOLVED[key] = (layers, solved)
    return solved


def _solve(layer: str, count: str, shape: Shape, layers: tuple[LayerSpec, ...], trace: Trace, record: dict[str, Any]) -> tuple:
    answer = _select(trace.params, count)
    names = [row.class_name for row in trace.rows]
    present = set(names)
    wrong = []
    for name, (touches, change) in CHANGES.items():
        if present.isdisjoint(touches):
            continue  # the mistake changes none of these layers: it gives the right answer
        try:
            wrong.append(mistake(name, _select(_mistaken_params(trace, layers, names, touches, change), count)))
        except ConfigError:
            continue  # the mistake leads to an impossible layer: no answer to diagnose

    what = COUNT_WORDS[count]
    if layer == "model":
        title = f"{what.capitalize()} of a {len(layers)}-layer model"
        prompt = (
            f"How many {what} does this Keras Sequential model have (the '{SUMMARY_LINE[count]}' line of "
            f"model.summary())? The input has shape {text.shape_tuple(shape)}, without the batch axis."
        )
        data: tuple[ModelData, ...] = (ModelData(shape, layers),)
        solution = _model_solution(shape, layers, trace, count)
    else:
        title = f"{what.capitalize()} of a {layer} layer"
        prompt = f"How many {what} does {_describe(layer, record)} have when its input has shape {_input_text(shape)}?"
        data = ()
        solution = _single_solution(layers[0], shape, trace, count)
    return answer, title, prompt, data, tuple(solution), tuple(wrong)


@lru_cache(maxsize=4096)
def _spec(class_name: str, *items: tuple[str, Any]) -> LayerSpec:
    """The layer with these keywords, built once: the engine keeps its checks and results on the layer object,
    so every problem that draws the same layer shares them. (The keywords are the generator's own values,
    drawn or pinned and coerced, so one keyword never sees both True and 1.)"""
    return LayerSpec(class_name, dict(items))


def _select(count: ParamCount, which: str) -> int:
    return getattr(count, which)  # which is one of COUNTS: total, trainable or non_trainable


# --- drawing ---------------------------------------------------------------------------------------------


def _fits(name: str, draw: Draw) -> bool:
    if not all(k in APPLIES_TO[name] for k in draw.pinned):
        return False
    shape = draw.pinned.get("input_shape")
    return shape is None or len(shape) in RANKS[name]


def _pick_layer(draw: Draw) -> str:
    """A layer every pinned parameter applies to; a pinned trainable / non-trainable count means BatchNormalization."""
    if not draw.pinned:
        return draw.choice(LAYER_MIX[draw.difficulty])
    options = [name for name in LAYER_MIX[draw.difficulty] if _fits(name, draw)]
    options = options or [name for name in LAYERS if _fits(name, draw)]
    if draw.pinned.get("count", "total") != "total":
        options = [name for name in options if name in ("BatchNormalization", "model")] or options
    return draw.choice(options or list(LAYER_MIX[draw.difficulty]))


def _check_pins(draw: Draw, layer: str) -> None:
    for key in draw.pinned:
        if key != "layer" and key not in APPLIES_TO[layer]:
            users = [name for name in LAYERS if key in APPLIES_TO[name]]
            raise UserError(
                f"'{key}' does not apply to layer={layer!r} (it applies to {', '.join(users)}); "
                f"pinnable with {layer}: {', '.join(APPLIES_TO[layer])}"
            )
    if layer == "model" and "layers" in draw.pinned:
        for key in ("filters", "kernel_size", "units", "use_bias", "pool_size"):
            if key in draw.pinned:
                raise UserError(f"'{key}' cannot be pinned together with 'layers': set it in the layers themselves")
    shape = draw.pinned.get("input_shape")
    if shape is not None and len(shape) not in RANKS[layer]:
        examples = {1: "[1352]", 2: "[100, 16] (steps, channels)", 3: "[28, 28, 1] (height, width, channels)"}
        allowed = " or ".join(examples[r] for r in RANKS[layer])
        raise UserError(f"'input_shape' for {layer} must look like {allowed} (got {list(shape)})")


def _count(draw: Draw, has_bn: bool) -> str:
    if draw.difficulty is Difficulty.HARD and has_bn:
        return draw.choice(("total", "trainable", "non_trainable", "non_trainable"))
    return "total"


def _image(draw: Draw) -> tuple[int, int, int]:
    d = draw.difficulty
    if d is Difficulty.EASY:
        return draw.choice(((28, 28, 1), (32, 32, 1), (32, 32, 3), (64, 64, 3), (28, 28, 3)))
    n = draw.choice((14, 16, 28, 32, 56, 64))
    if d is Difficulty.MEDIUM:
        return (n, n, draw.choice((3, 8, 16, 32, 64)))
    return (n, draw.choice((n, n, 2 * n)), draw.choice((32, 64, 96, 128, 256)))


def _random_input(draw: Draw, layer: str) -> tuple[int, ...]:
    d = draw.difficulty
    if layer == "Dense":
        sizes = (64, 100, 128, 784) if d is Difficulty.EASY else (84, 120, 256, 400, 512, 1352, 2048, 4096, 16384)
        return (draw.choice(sizes),)
    if layer == "Conv1D":
        steps = draw.choice((50, 100, 128, 200))
        return (steps, 1) if d is Difficulty.EASY else (steps, draw.choice((1, 8, 16, 32, 64)))
    if layer == "BatchNormalization" and draw.choice((True, False, False)):
        return (draw.choice((64, 128, 256, 512)),)
    if layer in ("BatchNormalization", "DepthwiseConv2D", "SeparableConv2D") and d is not Difficulty.HARD:
        n = draw.choice((14, 16, 28, 32))
        return (n, n, draw.choice((8, 16, 32, 64, 128)))
    return _image(draw)


def _kernel(draw: Draw) -> tuple[int, int]:
    d = draw.difficulty
    if d is Difficulty.EASY:
        k = draw.choice((3, 3, 5))
    elif d is Difficulty.MEDIUM or draw.choice((True, False)):
        k = draw.choice((1, 3, 3, 5, 7))
    else:
        return draw.choice(((1, 3), (3, 1), (3, 5), (5, 3), (1, 7), (7, 1)))
    return (k, k)


def _single(draw: Draw, layer: str) -> tuple[tuple[int, ...], dict[str, Any]]:
    d = draw.difficulty
    shape = draw("input_shape", lambda: _random_input(draw, layer))
    kwargs: dict[str, Any] = {}
    if layer in ("Conv2D", "Conv1D", "SeparableConv2D"):
        kwargs["filters"] = draw("filters", lambda: draw.choice({
            Difficulty.EASY: (6, 8, 10, 16, 32),
            Difficulty.MEDIUM: (16, 32, 64, 128),
            Difficulty.HARD: (32, 64, 128, 256),
        }[d]))
    if layer in ("Conv2D", "Conv1D", "DepthwiseConv2D", "SeparableConv2D"):
        kernel = draw("kernel_size", lambda: _kernel(draw) if layer != "Conv1D" else (draw.choice((3, 5, 7)),) * 2)
        if layer == "Conv1D":
            if kernel[0] != kernel[1]:
                raise UserError(f"'kernel_size' for Conv1D is one size such as 3 (got {list(kernel)})")
            kwargs["kernel_size"] = kernel[0]
        else:
            kwargs["kernel_size"] = kernel
    if layer in ("DepthwiseConv2D", "SeparableConv2D"):
        kwargs["depth_multiplier"] = draw("depth_multiplier", lambda: 1 if d is not Difficulty.HARD else draw.choice((1, 2, 3)))
    if layer == "Dense":
        kwargs["units"] = draw("units", lambda: draw.choice((10, 32, 64, 128) if d is Difficulty.EASY else (10, 84, 120, 128, 256, 512, 1024)))
    if layer in BIASED:
        # Hard problems sometimes leave the bias out, as a Conv2D followed by BatchNormalization usually does.
        kwargs["use_bias"] = draw("use_bias", lambda: not (d is Difficulty.HARD and layer == "Conv2D" and draw.choice((True, False, False))))
    if layer in POOLS:
        kwargs["pool_size"] = draw("pool_size", lambda: (draw.choice((2, 2, 3)),) * 2)
    return shape, kwargs


def _model(draw: Draw) -> tuple[tuple[int, ...], tuple[LayerSpec, ...]]:
    pinned = draw.pinned.get("layers")
    if pinned is not None:
        first = pinned[0].kwargs.get("input_shape")
        shape = draw("input_shape", lambda: tuple(first) if first else _no_input_shape())
        # The input shape lives in params; the layers carry only their own keywords.
        layers = tuple(derived_layer(s, drop=("input_shape",)) for s in pinned)
        return shape, layers
    shape = draw("input_shape", lambda: draw.choice(MODEL_INPUTS[draw.difficulty]))
    return shape, (_random_mlp(draw) if len(shape) == 1 else _random_cnn(draw))


def _no_input_shape() -> tuple[int, ...]:
    raise UserError("a pinned 'layers' needs 'input_shape' too (or input_shape=... on the first layer)")


def _random_cnn(draw: Draw) -> tuple[LayerSpec, ...]:
    d = draw.difficulty
    f1 = draw("filters", lambda: draw.choice((6, 8, 16, 32)))
    f2 = draw.choice((16, 32, 64))
    kernel = draw("kernel_size", lambda: (draw.choice((3, 3, 5)),) * 2)
    pool = draw("pool_size", lambda: (2, 2))
    units = draw("units", lambda: draw.choice((32, 64, 120, 128)))
    bias = draw("use_bias", lambda: True)
    classes = draw.choice((2, 10, 10))

    def conv(filters: int, padding: str = "valid", use_bias: bool = bias) -> LayerSpec:
        items = (("filters", filters), ("kernel_size", kernel), ("padding", padding))
        return _spec("Conv2D", *items) if use_bias else _spec("Conv2D", *items, ("use_bias", False))

    def dense(n: int) -> LayerSpec:
        return _spec("Dense", ("units", n)) if bias else _spec("Dense", ("units", n), ("use_bias", False))

    pooling = _spec("MaxPooling2D", ("pool_size", pool))
    flatten = _spec("Flatten")
    if d is Difficulty.EASY:
        options = ((conv(f1), flatten, dense(classes)), (conv(f1), pooling, flatten, dense(classes)))
    elif d is Difficulty.MEDIUM:
        padding = draw.choice(("valid", "valid", "same"))
        options = (
            (conv(f1, padding), pooling, flatten, dense(units), dense(classes)),
            (conv(f1, padding), pooling, _spec("GlobalAveragePooling2D"), dense(classes)),
            (conv(f1, padding), pooling, conv(f2, padding), pooling, flatten, dense(units)),
        )
    else:
        bn = _spec("BatchNormalization")
        relu = _spec("Activation", ("activation", "relu"))
        # With BatchNormalization right after it, a convolution's bias is redundant; real models often drop it.
        conv_bias = draw("use_bias", lambda: draw.choice((True, False)))
        options = (
            (conv(f1, "same", conv_bias), bn, relu, pooling, conv(f2, "same", conv_bias), bn, relu, pooling, flatten,
             dense(units), _spec("Dropout", ("rate", 0.5)), dense(classes)),
            (conv(f1, "same", conv_bias), bn, relu, pooling,
             _spec("SeparableConv2D", ("filters", f2), ("kernel_size", kernel), ("padding", "same")), bn,
             _spec("GlobalAveragePooling2D"), dense(classes)),
            (conv(f1, "valid", conv_bias), bn, pooling, flatten, dense(units), bn, dense(classes)),
            (conv(f1, "same", conv_bias), bn, _spec("DepthwiseConv2D", ("kernel_size", kernel), ("padding", "same")),
             bn, pooling, _spec("GlobalAveragePooling2D"), dense(classes)),
        )
    return draw.choice(options)


def _random_mlp(draw: Draw) -> tuple[LayerSpec, ...]:
    units = draw("units", lambda: draw.choice((32, 64, 128, 256)))
    bias = draw("use_bias", lambda: True)
    middle = (_spec("BatchNormalization"),) if draw.difficulty is Difficulty.HARD else ()
    extra = () if bias else (("use_bias", False),)
    return (_spec("Dense", ("units", units), *extra), *middle, _spec("Dense", ("units", 10), *extra))


# --- mistakes --------------------------------------------------------------------------------------------

Shape = tuple[int, ...]
# (layer, its class, its input shape, its index, every layer's class) -> the mistaken (output, count), or None
# when the mistake leaves the layer as it is.
Change = Callable[[LayerSpec, str, Shape, int, Sequence[str]], "tuple[Shape, ParamCount] | None"]


def _name(spec: LayerSpec) -> str:
    return canonical_class(spec.class_name)


def _no_bias(names: Sequence[str]) -> Change:
    def change(spec, name, shape, i, classes):
        if name in names and spec.kwargs.get("use_bias", True):
            return apply_layer(shape, derived_layer(spec, use_bias=False))
        return None

    return change


def _forgot_input_channels(spec, name, shape, i, classes):
    # The class review's (f·f + 1)·n_c: each filter counted as if the input had one channel.
    if name in ("Conv2D", "Conv1D") and shape[-1] > 1:
        out, _ = apply_layer(shape, spec)
        return out, apply_layer(shape[:-1] + (1,), spec)[1]
    return None


def _depthwise_as_conv(spec, name, shape, i, classes):
    if name != "DepthwiseConv2D":
        return None
    out, _ = apply_layer(shape, spec)
    return out, apply_layer(shape, derived_layer(spec, "Conv2D", drop=("depth_multiplier",), filters=out[-1]))[1]


def _separable_no_pointwise(spec, name, shape, i, classes):
    if name != "SeparableConv2D":
        return None
    out, _ = apply_layer(shape, spec)
    return out, apply_layer(shape, derived_layer(spec, "DepthwiseConv2D", drop=("filters",)))[1]


def _dense_on_unflattened(spec, name, shape, i, classes):
    # Without the Flatten, Keras's Dense acts on the last axis: n_in is the channels only.
    has_dense_after = "Dense" in classes[i + 1 :]
    return (shape, NO_PARAMS) if name == "Flatten" and len(shape) > 1 and has_dense_after else None


def _flattened_before_pooling(spec, name, shape, i, classes):
    # The pooling layer whose output Flatten sees (only shape-keeping layers in between) is skipped.
    if name not in POOLS:
        return None
    for later in classes[i + 1 :]:
        if later == "Flatten":
            return shape, NO_PARAMS
        if later not in SHAPE_ONLY:
            return None
    return None


def _pooling_has_params(spec, name, shape, i, classes):
    if name not in POOLS:
        return None
    out, _ = apply_layer(shape, spec)
    return out, depthwise_conv2d_params(as_pair("pool_size", spec.kwargs.get("pool_size", 2)), shape[-1])


def _batchnorm(replace: Callable[[ParamCount], ParamCount]) -> Change:
    def change(spec, name, shape, i, classes):
        if name != "BatchNormalization":
            return None
        out, count = apply_layer(shape, spec)
        return out, replace(count)

    return change


BN = ("BatchNormalization",)
CHANGES: dict[str, tuple[tuple[str, ...], Change]] = {  # each mistake: the layers it can change, and how
    "dense-no-bias": (("Dense",), _no_bias(("Dense",))),
    "forgot-bias": (BIASED, _no_bias(BIASED)),
    "forgot-input-channels": (("Conv2D", "Conv1D"), _forgot_input_channels),
    "depthwise-as-conv": (("DepthwiseConv2D",), _depthwise_as_conv),
    "separable-no-pointwise": (("SeparableConv2D",), _separable_no_pointwise),
    "dense-on-unflattened": (("Flatten",), _dense_on_unflattened),
    "flattened-before-pooling": (POOLS, _flattened_before_pooling),
    "pooling-has-params": (POOLS, _pooling_has_params),
    # Only γ and β, with the moving statistics forgotten.
    "batchnorm-two-per-channel": (BN, _batchnorm(lambda c: ParamCount(c.trainable))),
    "batchnorm-zero": (BN, _batchnorm(lambda c: NO_PARAMS)),
    "trainable-includes-bn-stats": (BN, _batchnorm(lambda c: ParamCount(c.total))),
    "batchnorm-all-non-trainable": (BN, _batchnorm(lambda c: ParamCount(0, c.total))),
}


def _mistaken_params(
    trace: Trace, layers: Sequence[LayerSpec], classes: Sequence[str], touches: tuple[str, ...], change: Change
) -> ParamCount:
    """The engine's parameter count with ``change`` applied to every layer, on the shapes it leads to.

    ``change`` leaves alone the layers whose class is not in ``touches``, so it is asked only about the others. A
    layer the mistake leaves alone, on the input the right answer gives it, is counted as in ``trace``."""
    shape = right_input = trace.input_shape
    trainable = non_trainable = 0
    for i, row in enumerate(trace.rows):
        changed = change(layers[i], classes[i], shape, i, classes) if classes[i] in touches else None
        if changed is not None:
            shape, count = changed
        elif shape == right_input:
            shape, count = row.output_shape, row.params
        else:
            shape, count = apply_layer(shape, layers[i])
        right_input = row.output_shape
        trainable += count.trainable
        non_trainable += count.non_trainable
    return ParamCount(trainable, non_trainable)


# --- text ------------------------------------------------------------------------------------------------


def _input_text(shape: Shape) -> str:
    meaning = {1: "features", 2: "steps, channels", 3: "height, width, channels"}[len(shape)]
    return f"{text.shape_tuple(shape)} ({meaning})"


def _filters(p: dict[str, Any]) -> str:
    return f"{p['filters']} filter{'s' if p['filters'] > 1 else ''}"


def _describe(layer: str, p: dict[str, Any]) -> str:
    bias = "" if p.get("use_bias", True) else " and no biases (use_bias=False)"
    if layer == "Conv2D":
        return f"a Conv2D layer with {_filters(p)} of size {text.pair(p['kernel_size'])}{bias}"
    if layer == "Conv1D":
        return f"a Conv1D layer with {_filters(p)} of size {p['kernel_size']}{bias}"
    if layer == "Dense":
        return f"a Dense layer with {p['units']} unit{'s' if p['units'] > 1 else ''}{bias}"
    if layer == "DepthwiseConv2D":
        return f"a DepthwiseConv2D layer with a {text.pair(p['kernel_size'])} kernel and depth_multiplier={p['depth_multiplier']}{bias}"
    if layer == "SeparableConv2D":
        return (
            f"a SeparableConv2D layer with {_filters(p)} of size {text.pair(p['kernel_size'])} and "
            f"depth_multiplier={p['depth_multiplier']}{bias}"
        )
    if layer in POOLS:
        kind = "max" if layer == "MaxPooling2D" else "average"
        return f"a {text.pair(p['pool_size'])} {kind} pooling layer ({layer})"
    return "a BatchNormalization layer"


def _p(value: int) -> str:
    return text.plain(value)


def layer_formula(spec: LayerSpec, shape: Shape, out: Shape, count: ParamCount) -> str:
    """One layer's count as the notes write it: the formula, then the numbers, then the result."""
    name = _name(spec)
    kw = spec.kwargs
    bias = kw.get("use_bias", True)
    result = text.num(count.total)
    c = shape[-1]
    if kw.get("trainable", True) is False:
        return f"{name}: {result} parameters, all non-trainable (trainable=False)"
    if name == "Conv2D":
        kh, kw_ = as_pair("kernel_size", kw["kernel_size"])
        f = kw["filters"]
        groups = kw.get("groups", 1)
        cin, cin_n = ("C_in", _p(c)) if groups == 1 else ("C_in/groups", f"{_p(c)}/{groups}")
        if bias:
            return f"Conv2D: filters × (k_h × k_w × {cin} + 1) = {_p(f)} × ({kh} × {kw_} × {cin_n} + 1) = {result}"
        return f"Conv2D without bias: filters × k_h × k_w × {cin} = {_p(f)} × {kh} × {kw_} × {cin_n} = {result}"
    if name == "Conv1D":
        k = kw["kernel_size"][0] if isinstance(kw["kernel_size"], (tuple, list)) else kw["kernel_size"]
        f = kw["filters"]
        if bias:
            return f"Conv1D: filters × (k × C_in + 1) = {_p(f)} × ({k} × {_p(c)} + 1) = {result}"
        return f"Conv1D without bias: filters × k × C_in = {_p(f)} × {k} × {_p(c)} = {result}"
    if name == "Dense":
        u = kw["units"]
        note = "" if len(shape) == 1 else f" (Keras's Dense acts on the last axis: n_in = {_p(c)})"
        if bias:
            return f"Dense: n_in × n_out + n_out = {_p(c)} × {_p(u)} + {_p(u)} = {result}{note}"
        return f"Dense without bias: n_in × n_out = {_p(c)} × {_p(u)} = {result}{note}"
    if name in ("DepthwiseConv2D", "SeparableConv2D"):
        kh, kw_ = as_pair("kernel_size", kw["kernel_size"])
        m = kw.get("depth_multiplier", 1)
        depthwise = f"{kh} × {kw_} × {_p(c)} × {m}"
        if name == "DepthwiseConv2D":
            if bias:
                return f"DepthwiseConv2D: k_h × k_w × C_in × m + C_in × m = {depthwise} + {_p(c)} × {m} = {result}"
            return f"DepthwiseConv2D without bias: k_h × k_w × C_in × m = {depthwise} = {result}"
        f = kw["filters"]
        formula = "depthwise k_h × k_w × C_in × m + pointwise C_in × m × filters"
        numbers = f"{depthwise} + {_p(c)} × {m} × {_p(f)}"
        if bias:
            return f"SeparableConv2D: {formula} + filters = {numbers} + {_p(f)} = {result}"
        return f"SeparableConv2D without bias: {formula} = {numbers} = {result}"
    if name == "BatchNormalization":
        if kw.get("center", True) and kw.get("scale", True):
            return (
                f"BatchNormalization: 4 × C = 4 × {_p(c)} = {result} (γ and β: 2 × {_p(c)} = {text.num(count.trainable)} "
                f"trainable; moving mean and variance: 2 × {_p(c)} = {text.num(count.non_trainable)} non-trainable)"
            )
        return (
            f"BatchNormalization: {text.num(count.trainable)} trainable (γ and/or β) + "
            f"{text.num(count.non_trainable)} non-trainable (moving mean and variance) = {result}"
        )
    if name == "Flatten":
        return f"Flatten: {text.dims(shape)} = {_p(out[0])} values; 0 parameters"
    if count.total == 0:
        why = " (a fixed max or average: nothing to learn)" if "Pooling" in name else ""
        return f"{name}: 0 parameters{why}"
    return f"{name}: {result} parameters"


def _single_solution(spec: LayerSpec, shape: Shape, trace, count: str) -> list[str]:
    row = trace.rows[0]
    shown = {k: v for k, v in spec.kwargs.items() if not (k == "use_bias" and v is True)}
    steps = [f"Keras layer: {text.keras_call(spec.class_name, shown)} on an input of shape {text.shape_tuple(shape)}."]
    steps.append(layer_formula(spec, shape, row.output_shape, row.params) + ".")
    if count == "trainable":
        steps.append(f"Trainable parameters: {text.num(row.params.trainable)} (the moving statistics are not trained).")
    elif count == "non_trainable":
        steps.append(f"Non-trainable parameters: {text.num(row.params.non_trainable)}.")
    return steps


# A layer's step depends only on the layer and its input, and the same layers come back in model after model.
_STEPS = LayerMemo()


def _model_solution(shape: Shape, layers: Sequence[LayerSpec], trace, count: str) -> list[str]:
    steps = []
    current = tuple(shape)
    for spec, row in zip(layers, trace.rows):
        step = _STEPS.get(spec, current) or _STEPS.put(
            spec, current, f"{layer_formula(spec, current, row.output_shape, row.params)}; output {text.shape_tuple(row.output_shape)}."
        )
        steps.append(step)
        current = row.output_shape
    values = [_select(row.params, count) for row in trace.rows]
    terms = [text.num(v) for v in values if v]
    total = text.num(_select(trace.params, count))
    sum_text = f"{' + '.join(terms)} = {total}" if len(terms) > 1 else total
    if count == "total":
        steps.append(f"Total: {sum_text}.")
    elif count == "trainable":
        steps.append(f"Trainable: {sum_text} (BatchNormalization's moving mean and variance are not trained).")
    else:
        steps.append(f"Non-trainable: {sum_text} (the moving mean and variance of each BatchNormalization layer).")
    return steps
