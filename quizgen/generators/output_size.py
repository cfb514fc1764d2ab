"""`output-size`: the output shape of a Conv2D or pooling layer, or of a short chain of them (Keras rules).

Integer padding ``p`` is the textbook's: p zeros on every side. Keras layers only know 'valid' and 'same', so a
layer with integer padding is Keras's ``ZeroPadding2D(p)`` followed by the layer with ``padding='valid'`` —
that is how the answer is computed here and how the cross-check rebuilds the problem from its params.

Every wrong answer is the engine's answer for the same layers with the mistake applied to them (a stride of 1,
the other Keras padding, padding on one side only, ...). Two mistakes need a word:

- ``forgot-floor`` is not offered: the unfloored size (n + 2p − k)/s + 1 is a fraction such as 14.5, which is
  not a shape. A student who keeps the last partial window instead is caught by ``rounded-up``, computed as the
  same layer with s − 1 extra cells at the end (⌈x/s⌉ = ⌊(x + s − 1)/s⌋).
- ``same-floored`` (⌊n/s⌋ where 'same' gives ⌈n/s⌉) is the layer with an s-wide window, stride s and no
  padding, whose output is exactly ⌊n/s⌋.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from quizgen import text
from quizgen.engine import LayerSpec, output_size_2d, trace_model
from quizgen.engine.model import LayerMemo, apply_layer, canonical_class, derived_layer
from quizgen.engine.sizes import as_pair
from quizgen.errors import ConfigError, UserError
from quizgen.mistakes import mistake
from quizgen.problem import Difficulty, Mistake, ModelData, Problem, Shape, make_problem
from quizgen.registry import Draw, ParamSpec, register

TOPIC = "output-size"
POOLS = ("MaxPooling2D", "AveragePooling2D")
LAYERS = ("Conv2D", *POOLS, "chain")
WINDOWED = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D", *POOLS)  # layers with a sliding window
CHAIN_LENGTHS = (2, 3)

# Which pinned parameters make sense for which layer.
APPLIES_TO = {
    "Conv2D": ("input_shape", "kernel_size", "strides", "padding", "dilation_rate", "filters"),
    "MaxPooling2D": ("input_shape", "pool_size", "strides", "padding"),
    "AveragePooling2D": ("input_shape", "pool_size", "strides", "padding"),
    "chain": ("input_shape", "layers"),
}

LAYER_MIX = {
    Difficulty.EASY: ("Conv2D", "Conv2D", "MaxPooling2D", "AveragePooling2D"),
    Difficulty.MEDIUM: ("Conv2D", "Conv2D", "Conv2D", "MaxPooling2D", "AveragePooling2D"),
    Difficulty.HARD: ("Conv2D", "Conv2D", "Conv2D", "MaxPooling2D", "AveragePooling2D", "chain", "chain"),
}



# When two mistakes give the same wrong answer the first one names it: those the problem targets come first
# (see _targeted), then this order.
MISTAKES = (
    "ignored-stride",
    "kernel-as-stride",
    "rounded-up",
    "same-floored",
    "same-valid-confused",
    "forgot-padding",
    "padding-one-side",
    "ignored-dilation",
    "channels-from-input",
)

# The order _undetectable checks mistakes in: those that most often fail first, so that a rejected draw
# stops early, and channels-from-input (worked out on the layers' shapes, not remembered per layer) last.
CHECK_ORDER = (
    "rounded-up",
    "same-floored",
    "padding-one-side",
    "same-valid-confused",
    "ignored-stride",
    "ignored-dilation",
    "kernel-as-stride",
    "forgot-padding",
    "channels-from-input",
)


@register(
    TOPIC,
    "Output shape of a conv or pooling layer, or a 2–3 layer chain: padding, stride, dilation",
    params=[
        ParamSpec("layer", "choice", "the layer, or a chain of 2–3 layers", choices=LAYERS),
        ParamSpec("input_shape", "shape", "the input (height, width, channels)"),
        ParamSpec("kernel_size", "pair", "Conv2D kernel (height, width)", min=1, max=15),
        ParamSpec("pool_size", "pair", "pooling window (height, width)", min=1, max=8),
        ParamSpec("strides", "pair", "window step (pooling: defaults to pool_size, as in Keras)", min=1, max=8),
        ParamSpec("padding", "padding", "textbook zero padding p (p zeros on each side) or Keras 'valid' / 'same'"),
        ParamSpec("dilation_rate", "pair", "Conv2D dilation (Keras allows it only with stride 1)", min=1, max=8),
        ParamSpec("filters", "int", "Conv2D filters: the output channels", min=1, max=2048),
        ParamSpec("layers", "layers", "the chain's layers, e.g. [{class_name: Conv2D, filters: 8, kernel_size: 3}]"),
    ],
    mistakes=MISTAKES,
)
def output_size(draw: Draw) -> Problem:
    layer = draw("layer", lambda: _pick_layer(draw))
    _check_pins(draw, layer)
    shape = draw("input_shape", lambda: _random_input(draw, layer))
    if len(shape) != 3:
        raise UserError(f"'input_shape' must be (height, width, channels), e.g. [28, 28, 1] (got {list(shape)})")
    if layer == "chain":
        layers = draw("layers", lambda: _random_chain(draw, shape))
        layers = tuple(derived_layer(s, drop=("input_shape",)) for s in layers)
        params: dict[str, Any] = {"layer": "chain", "input_shape": shape, "layers": layers}
        try:
            rejected, problem = _build(draw.difficulty, params, layers)
        except ConfigError:
            draw.reject("the layers do not fit the input")
            raise
    else:
        params = _single_params(draw, layer, shape)
        try:
            rejected, problem = _single_problem(draw.difficulty, *params.items())
        except ConfigError:
            draw.reject("the layer does not fit the input")
            raise
    if rejected:
        draw.reject(rejected)  # raises Redraw, except on the last attempt, which keeps the problem
        layers = params["layers"] if layer == "chain" else keras_layers(params)
        _, problem = _build(draw.difficulty, params, layers, keep=True)
    return problem


@lru_cache(maxsize=4096)
def _single_problem(difficulty: Difficulty, *items: tuple[str, Any]) -> tuple[str, Problem | None]:
    """:func:`_build` for a single-layer problem, once per configuration: a quiz that asks for more problems
    than there are distinct ones redraws the same few again and again (so do rejected draws). The params are
    the generator's own values, drawn or pinned and coerced: plain ints, strings and tuples of ints."""
    params = dict(items)
    return _build(difficulty, params, keras_layers(params))


def _build(difficulty: Difficulty, params: dict[str, Any], layers: tuple[LayerSpec, ...], keep: bool = False
           ) -> tuple[str, Problem | None]:
    """(why the problem cannot tell a targeted mistake from the right answer, or "", the problem).

    The problem is built only when it passes, or when ``keep`` says to build it anyway."""
    shape = params["input_shape"]
    chain = params["layer"] == "chain"
    try:
        if chain:  # the worked solution goes through the model summary
            trace = trace_model(shape, layers)
            shapes = [shape, *(row.output_shape for row in trace.rows)]
        else:
            shapes = _shapes(shape, layers)
    except ConfigError:
        if not chain:  # an impossible layer is reported in the textbook's terms, as the student sees it
            output_size_2d(shape[:2], params.get("kernel_size") or params["pool_size"], params["strides"],
                           params["padding"], params.get("dilation_rate", 1))
            trace_model(shape, layers)  # else as the engine reports it, naming the layer
        raise
    answer = Shape(shapes[-1])
    known = _known(layers)
    must_differ, must_equal, order = known.targeted(difficulty)
    mistaken = _Mistakes(shapes, known)
    rejected = _undetectable(difficulty, answer, mistaken, must_differ, must_equal)
    if rejected and not keep:
        return rejected, None
    # Mistakes that give the right shape, or none, are left out (make_problem would drop them); those the
    # problem targets come first.
    wrong = [(name, mistaken(name)) for name in order]
    wrong = [(name, dims) for name, dims in wrong if dims is not None and dims != answer.dims]

    if chain:
        title = f"Output shape after {len(layers)} layers on {text.dims(shape)}"
        prompt = (
            f"The layers below are applied in order to an input of shape {text.dims(shape)} (height × width × "
            "channels). What is the shape of the final output (height, width, channels)?"
        )
        data = [ModelData(shape, layers)]
        solution = _chain_solution(shape, layers, trace, answer)
    else:
        layer = params["layer"]
        title = f"Output shape of {'an' if layer[0] in 'AEIOU' else 'a'} {layer} layer on {text.dims(shape)}"
        prompt = _single_prompt(params, shape)
        data = []
        solution = _single_solution(params, shape, layers, answer)
    return rejected, make_problem(
        topic=TOPIC,
        difficulty=difficulty,
        params=params,
        title=title,
        prompt=prompt,
        data=data,
        answer=answer,
        solution=solution,
        mistakes=[_mistake(name, dims) for name, dims in wrong],
    )


# --- drawing ---------------------------------------------------------------------------------------------


def _pick_layer(draw: Draw) -> str:
    """A layer that every pinned parameter applies to (a pinned pool_size means a pooling layer, ...)."""
    if not draw.pinned:
        return draw.choice(LAYER_MIX[draw.difficulty])
    options = [name for name in LAYER_MIX[draw.difficulty] if all(k in APPLIES_TO[name] for k in draw.pinned)]
    if not options:
        options = [name for name in LAYERS if all(k in APPLIES_TO[name] for k in draw.pinned)]
    return draw.choice(options or list(LAYER_MIX[draw.difficulty]))


def _check_pins(draw: Draw, layer: str) -> None:
    for key in draw.pinned:
        if key != "layer" and key not in APPLIES_TO[layer]:
            users = [name for name in LAYERS if key in APPLIES_TO[name]]
            raise UserError(
                f"'{key}' does not apply to layer={layer!r} (it applies to {', '.join(users)}); "
                f"pinnable with {layer}: {', '.join(APPLIES_TO[layer])}"
            )


def _random_input(draw: Draw, layer: str) -> tuple[int, int, int]:
    d = draw.difficulty
    pinned_layers = draw.pinned.get("layers")
    if pinned_layers and "input_shape" in pinned_layers[0].kwargs:  # Keras's input_shape=... on the first layer
        return tuple(pinned_layers[0].kwargs["input_shape"])
    if layer == "chain":
        if d is Difficulty.HARD:
            h = draw.integer(20, 64)
            return (h, draw.choice((h, h, draw.integer(20, 64))), draw.choice((1, 3, 3)))
        return (draw.choice((28, 32, 32, 64)),) * 2 + (draw.choice((1, 3)),)
    if d is Difficulty.EASY:
        sizes = (5, 6, 7, 8, 10, 12, 14, 16, 28, 32) if layer == "Conv2D" else (4, 6, 8, 12, 16, 28, 32)
        n = draw.choice(sizes)
        return (n, n, draw.choice((1, 1, 3)) if layer == "Conv2D" else draw.choice((1, 3, 8, 16)))
    if d is Difficulty.MEDIUM:
        n = draw.integer(7, 64)
        return (n, n, draw.choice((1, 3, 3, 8, 16, 32)))
    h = draw.integer(9, 65)
    w = h if draw.choice((True, False)) else draw.integer(9, 65)
    return (h, w, draw.choice((3, 16, 32, 64, 128)))


def _single_params(draw: Draw, layer: str, shape: tuple[int, int, int]) -> dict[str, Any]:
    d = draw.difficulty
    if layer == "Conv2D":
        kernel = draw("kernel_size", lambda: _conv_kernel(draw))
        strides = draw("strides", lambda: _conv_strides(draw))
        padding = draw("padding", lambda: _padding(draw, kernel))
        dilation = draw("dilation_rate", lambda: _dilation(draw, strides, padding))
        filters = draw("filters", lambda: draw.choice({
            Difficulty.EASY: (4, 6, 8, 10, 16, 32),
            Difficulty.MEDIUM: (8, 16, 32, 64),
            Difficulty.HARD: (16, 32, 64, 96, 128, 256),
        }[d]))
        return {
            "layer": layer,
            "input_shape": shape,
            "kernel_size": kernel,
            "strides": strides,
            "padding": padding,
            "dilation_rate": dilation,
            "filters": filters,
        }
    pool = draw("pool_size", lambda: (draw.choice((2, 2, 3)),) * 2 if d is not Difficulty.HARD else draw.choice(
        ((2, 2), (3, 3), (3, 3), (2, 3))
    ))
    strides = draw("strides", lambda: pool if d is Difficulty.EASY else draw.choice((pool, pool, (2, 2), (1, 1))))
    padding = draw("padding", lambda: "valid" if d is not Difficulty.HARD else draw.choice(("valid", "same", "same")))
    return {"layer": layer, "input_shape": shape, "pool_size": pool, "strides": strides, "padding": padding}


def _conv_kernel(draw: Draw) -> tuple[int, int]:
    d = draw.difficulty
    if d is Difficulty.EASY:
        k = draw.choice((1, 3, 3, 3, 5))
    elif d is Difficulty.MEDIUM:
        k = draw.choice((2, 3, 3, 4, 5, 5, 7))
    elif draw.choice((True, False)):
        return draw.choice(((1, 3), (3, 1), (3, 5), (5, 3), (1, 7), (7, 1), (2, 3)))
    else:
        k = draw.choice((3, 5, 7, 11))
    return (k, k)


def _conv_strides(draw: Draw) -> tuple[int, int]:
    pinned_dilation = draw.pinned.get("dilation_rate", (1, 1))
    if max(pinned_dilation) > 1:
        return (1, 1)  # Keras refuses strides > 1 together with dilation
    d = draw.difficulty
    if d is Difficulty.EASY:
        s = draw.choice((1, 1, 1, 2))
    elif d is Difficulty.MEDIUM:
        s = draw.choice((1, 2, 2, 3))
    elif draw.choice((True, True, True, False)):
        s = draw.choice((1, 1, 2, 2, 3))
    else:
        return draw.choice(((1, 2), (2, 1), (2, 3)))
    return (s, s)


def _padding(draw: Draw, kernel: tuple[int, int]) -> int | str:
    d = draw.difficulty
    if d is Difficulty.EASY:
        # p = (k − 1)/2 is the textbook's "same convolution" for an odd kernel.
        return draw.choice(("valid", "valid", 0, "same", (kernel[0] - 1) // 2))
    if d is Difficulty.MEDIUM:
        return draw.choice(("valid", 0, 1, 1, 2, 3, "same"))
    return draw.choice(("same", "same", "valid", 1, 2))


def _dilation(draw: Draw, strides: tuple[int, int], padding: int | str) -> tuple[int, int]:
    # Dilation only in hard problems, with stride 1 (Keras's rule) and without 'same' (where it changes nothing).
    if draw.difficulty is Difficulty.HARD and strides == (1, 1) and padding != "same" and draw.choice((True, False)):
        return draw.choice(((2, 2), (2, 2), (3, 3), (1, 2)))
    return (1, 1)


def _random_chain(draw: Draw, shape: tuple[int, int, int]) -> tuple[LayerSpec, ...]:
    d = draw.difficulty
    pattern = draw.choice((("conv", "pool"), ("conv", "conv", "pool"), ("conv", "pool", "conv"), ("pool", "conv")))
    layers: list[LayerSpec] = []
    for kind in pattern:
        if kind == "conv":
            k = draw.choice((3, 3, 5))
            s = 1 if d is Difficulty.EASY else draw.choice((1, 1, 2))
            padding = draw.choice(("valid", "same")) if d is Difficulty.EASY else draw.choice(("valid", "same", "same", 1))
            if isinstance(padding, int):
                layers.append(_zero_padding(padding))
                padding = "valid"
            filters = draw.choice((8, 16, 32, 64))
            layers.append(_spec("Conv2D", ("filters", filters), ("kernel_size", (k, k)), ("strides", (s, s)), ("padding", padding)))
        else:
            p = 2 if d is Difficulty.EASY else draw.choice((2, 2, 3))
            s = p if d is Difficulty.EASY else draw.choice((p, 2))
            padding = draw.choice(("valid", "valid", "same")) if d is Difficulty.HARD else "valid"
            layers.append(_spec(draw.choice(POOLS), ("pool_size", (p, p)), ("strides", (s, s)), ("padding", padding)))
    return tuple(layers)


def keras_layers(params: dict[str, Any]) -> tuple[LayerSpec, ...]:
    """A single-layer problem as Keras layers: integer padding p is ZeroPadding2D(p), then the layer 'valid'."""
    layer, padding = params["layer"], params["padding"]
    if layer == "Conv2D":
        kwargs = {
            "filters": params["filters"],
            "kernel_size": params["kernel_size"],
            "strides": params["strides"],
            "dilation_rate": params["dilation_rate"],
        }
    else:
        kwargs = {"pool_size": params["pool_size"], "strides": params["strides"]}
    if isinstance(padding, int):
        front = (_zero_padding(padding),) if padding else ()
        return front + (_spec(layer, *kwargs.items(), ("padding", "valid")),)
    return (_spec(layer, *kwargs.items(), ("padding", padding)),)


@lru_cache(maxsize=4096)
def _spec(class_name: str, *items: tuple[str, Any]) -> LayerSpec:
    """The layer with these keywords, built once: the engine keeps its checks and results on the layer object,
    so every problem that draws the same layer shares them. (The keywords are the generator's own values,
    drawn or pinned and coerced, so one keyword never sees both True and 1.)"""
    return LayerSpec(class_name, dict(items))


# --- mistakes --------------------------------------------------------------------------------------------


_WINDOWS = LayerMemo()


def _window(spec: LayerSpec) -> tuple[tuple[int, int], tuple[int, int], str, tuple[int, int]] | None:
    """(kernel, strides, padding, dilation) of a windowed layer, None for any other layer."""
    win = _WINDOWS.get(spec, "window")
    if win is None:  # remembered as () for a layer without a window
        win = _WINDOWS.put(spec, "window", _read_window(spec) or ())
    return win or None


def _read_window(spec: LayerSpec) -> tuple[tuple[int, int], tuple[int, int], str, tuple[int, int]] | None:
    name = canonical_class(spec.class_name)
    if name not in WINDOWED:
        return None
    kw = spec.kwargs
    if name in POOLS:
        kernel = as_pair("pool_size", kw.get("pool_size", 2))
        strides = kernel if kw.get("strides") is None else as_pair("strides", kw["strides"])
        dilation = (1, 1)
    else:
        kernel = as_pair("kernel_size", kw["kernel_size"])
        strides = as_pair("strides", kw.get("strides", 1))
        dilation = as_pair("dilation_rate", kw.get("dilation_rate", 1))
    return kernel, strides, str(kw.get("padding", "valid")).lower(), dilation


def _with(spec: LayerSpec, **changes: Any) -> LayerSpec:
    """``spec`` with ``changes``: a mistake's layer. When every keyword is a plain value it comes from _spec,
    so that the same mistaken layer reached from different layers (any strides with ignored-stride, ...) is
    one object, checked once and sharing its results per shape with the layers drawn as they are."""
    plain = _PLAIN.get(spec, "plain")
    if plain is None:
        plain = _PLAIN.put(spec, "plain", all(map(_plain, spec.kwargs.values())))
    if plain:  # the changes are the generator's own plain values
        return _spec(spec.class_name, *{**spec.kwargs, **changes}.items())
    return derived_layer(spec, **changes)  # a pinned layer's keywords may be True where 1 is meant, ...


_PLAIN = LayerMemo()


def _plain(value: Any) -> bool:
    """Whether ``value`` is an int, a str or a tuple of ints — values that equal only values of their own type."""
    kind = type(value)
    return kind is int or kind is str or (kind is tuple and all(type(v) is int for v in value))


@lru_cache(maxsize=1024)
def _zero_padding(padding: int | tuple) -> LayerSpec:
    return LayerSpec("ZeroPadding2D", {"padding": padding})


# Each mistake: (layer, its class, its window (see _window), its input shape, its index, every layer's class)
# -> the layers the student applies in its place. A change that would not change the layer (a stride of 1
# where it already is 1, ...) leaves it as it is, which gives the same shapes. Only the SHAPE_DEPENDENT
# mistakes read the input shape; the others are given None (see _Known).
Change = Callable[[LayerSpec, str, Any, "tuple[int, ...] | None", int, Sequence[str]], list[LayerSpec]]


def _ignored_stride(spec: LayerSpec, name, win, shape, i, names) -> list[LayerSpec]:
    return [_with(spec, strides=(1, 1)) if win and win[1] != (1, 1) else spec]


def _kernel_as_stride(spec: LayerSpec, name, win, shape, i, names) -> list[LayerSpec]:
    return [_with(spec, strides=win[0]) if win and name in POOLS and win[1] != win[0] else spec]


def _rounded_up(spec: LayerSpec, name, win, shape, i, names) -> list[LayerSpec]:
    # Rounding the division up keeps a last partial window: as if s − 1 more cells followed the input.
    if not win or win[2] != "valid" or win[1] == (1, 1):
        return [spec]
    (sh, sw) = win[1]
    return [_zero_padding(((0, sh - 1), (0, sw - 1))), spec]


def _same_floored(spec: LayerSpec, name, win, shape, i, names) -> list[LayerSpec]:
    # ⌊n/s⌋ instead of ⌈n/s⌉: an s-wide window with stride s and no padding gives exactly ⌊n/s⌋.
    if not win or win[2] != "same" or win[1] == (1, 1):
        return [spec]
    if name in POOLS:
        return [_with(spec, pool_size=win[1], padding="valid")]
    return [_with(spec, kernel_size=win[1], padding="valid", dilation_rate=(1, 1))]


def _same_valid_confused(spec: LayerSpec, name, win, shape, i, names) -> list[LayerSpec]:
    # 'same' read as 'valid' anywhere; 'valid' read as 'same' only for convolutions ('valid' is the pooling
    # layers' default, which students rarely think of as a choice) without textbook padding in front.
    if not win:
        return [spec]
    if win[2] == "valid" and (name in POOLS or (i and names[i - 1] == "ZeroPadding2D")):
        return [spec]
    return [_with(spec, padding="valid" if win[2] == "same" else "same")]


def _forgot_padding(spec: LayerSpec, name, win, shape, i, names) -> list[LayerSpec]:
    return [] if name == "ZeroPadding2D" else [spec]


def _padding_one_side(spec: LayerSpec, name, win, shape, i, names) -> list[LayerSpec]:
    if name != "ZeroPadding2D":
        return [spec]
    pad = spec.kwargs.get("padding", (1, 1))
    if isinstance(pad, int):
        pad = (pad, pad)
    if not all(isinstance(p, int) for p in pad):
        return [spec]  # already asymmetric: nothing to get wrong this way
    return [_zero_padding(((0, pad[0]), (0, pad[1])))]


def _ignored_dilation(spec: LayerSpec, name, win, shape, i, names) -> list[LayerSpec]:
    dilated = "dilation_rate" in spec.kwargs and (win is None or win[3] != (1, 1))
    return [_with(spec, dilation_rate=(1, 1)) if dilated else spec]


def _channels_from_input(spec: LayerSpec, name, win, shape, i, names) -> list[LayerSpec]:
    if name in ("Conv2D", "SeparableConv2D") and spec.kwargs.get("filters") != shape[-1]:
        return [_with(spec, filters=shape[-1])]
    return [spec]


DILATED = ("Conv2D", "Conv1D", "DepthwiseConv2D", "SeparableConv2D")  # the layers with a dilation_rate
CHANGES: dict[str, tuple[tuple[str, ...], Change]] = {  # each mistake: the layers it can change, and how
    "ignored-stride": (WINDOWED, _ignored_stride),
    "kernel-as-stride": (POOLS, _kernel_as_stride),
    "rounded-up": (WINDOWED, _rounded_up),
    "same-floored": (WINDOWED, _same_floored),
    "same-valid-confused": (WINDOWED, _same_valid_confused),
    "forgot-padding": (("ZeroPadding2D",), _forgot_padding),
    "padding-one-side": (("ZeroPadding2D",), _padding_one_side),
    "ignored-dilation": (DILATED, _ignored_dilation),
    "channels-from-input": (("Conv2D", "SeparableConv2D"), _channels_from_input),
}


@lru_cache(maxsize=4096)
def _mistake(name: str, dims: tuple[int, ...]) -> Mistake:
    return mistake(name, Shape(dims))  # the same few wrong shapes come back problem after problem


def _shapes(shape: tuple[int, ...], layers: Sequence[LayerSpec]) -> list[tuple[int, ...]]:
    """The input shape and the output shape of each layer in turn."""
    shapes = [shape]
    for layer in layers:
        shape, _ = apply_layer(shape, layer)
        shapes.append(shape)
    return shapes


def _mistaken_shape(shapes: Sequence[tuple[int, ...]], layers: Sequence[LayerSpec], names: Sequence[str],
                    windows: Sequence[Any], change: Change) -> tuple[int, ...]:
    """The engine's output shape with ``change`` applied to every layer, on the shapes the mistake leads to.

    A layer the mistake leaves alone, on the input the right answer gives it (``shapes``, see :func:`_shapes`),
    has the output the right answer gives it."""
    shape = shapes[0]
    for i, spec in enumerate(layers):
        new = change(spec, names[i], windows[i], shape, i, names)
        if len(new) == 1 and new[0] is spec and shape == shapes[i]:
            shape = shapes[i + 1]
            continue
        for layer in new:
            shape, _ = apply_layer(shape, layer)
    return shape


# Mistakes whose changes depend on a layer's input shape: the others change the same layers the same way
# whatever the input, so those changes are worked out once per list of layers (see _Known).
SHAPE_DEPENDENT = frozenset({"channels-from-input"})


class _Known:
    """What does not depend on the input shape, per list of layers: each layer's class and window, the layers
    a student applies in their place for each mistake (but the shape-dependent ones; None when the mistake
    changes none of them), and the mistakes each difficulty targets. Each worked out when first asked for."""

    __slots__ = ("layers", "names", "windows", "changes", "targets")

    def __init__(self, layers: tuple[LayerSpec, ...]) -> None:
        self.layers = layers
        self.names = [canonical_class(spec.class_name) for spec in layers]
        self.windows = [_window(spec) for spec in layers]
        self.changes: dict[str, tuple[LayerSpec, ...] | None] = {}
        self.targets: dict[Difficulty, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {}

    def changed(self, mistake: str) -> tuple[LayerSpec, ...] | None:
        """The layers applied in place of these with ``mistake``; None when it changes none of them."""
        try:
            return self.changes[mistake]
        except KeyError:
            pass
        layers, names = self.layers, self.names
        touches, change = CHANGES[mistake]
        new = []
        for i, spec in enumerate(layers):
            new += change(spec, names[i], self.windows[i], None, i, names) if names[i] in touches else [spec]
        same = len(new) == len(layers) and all(a is b for a, b in zip(new, layers))
        self.changes[mistake] = changed = None if same else tuple(new)
        return changed

    def targeted(self, difficulty: Difficulty) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        """(mistakes that must change the answer and mistakes that must not, both in CHECK_ORDER; every
        mistake, the targeted ones first) — see :func:`_targeted`."""
        known = self.targets.get(difficulty)
        if known is None:
            must_differ, must_equal = _targeted(difficulty, self.layers)
            known = self.targets[difficulty] = (
                tuple(sorted(must_differ, key=CHECK_ORDER.index)),
                tuple(sorted(must_equal, key=CHECK_ORDER.index)),
                tuple(sorted(CHANGES, key=lambda name: name not in must_differ)),
            )
        return known


# Per list of layer objects; each entry holds on to its layers, so no other layer can take their ids.
_KNOWN: dict[tuple[int, ...], _Known] = {}


def _known(layers: tuple[LayerSpec, ...]) -> _Known:
    key = tuple(map(id, layers))
    known = _KNOWN.get(key)
    if known is None:
        if len(_KNOWN) >= 4096:
            _KNOWN.clear()
        known = _KNOWN[key] = _Known(layers)
    return known


class _Mistakes:
    """The output shape each mistake leads to, worked out the first time it is asked for (a draw may be
    rejected after the first few); None when the mistake leads to an impossible layer."""

    def __init__(self, shapes: Sequence[tuple[int, ...]], known: _Known) -> None:
        self.shapes = shapes
        self.known = known
        self.found: dict[str, tuple[int, ...] | None] = {}

    def __call__(self, name: str) -> tuple[int, ...] | None:
        found = self.found
        if name in found:
            return found[name]
        shapes, known = self.shapes, self.known
        try:
            if name in SHAPE_DEPENDENT:
                dims = _mistaken_shape(shapes, known.layers, known.names, known.windows, CHANGES[name][1])
            else:
                new = known.changed(name)
                if new is None:  # it changes none of the layers: the right shape
                    dims = shapes[-1]
                else:
                    dims = shapes[0]
                    for layer in new:
                        dims, _ = apply_layer(dims, layer)
        except ConfigError:
            dims = None  # the mistake leads to an impossible layer: no answer to diagnose
        found[name] = dims
        return dims


def _targeted(difficulty: Difficulty, layers: Sequence[LayerSpec]) -> tuple[set[str], set[str]]:
    """(mistakes the problem must be able to tell apart, mistakes that must not change the answer).

    Easy problems divide evenly, so rounding cannot matter; medium ones exercise floors (and 'same' only where
    the stride divides the size); hard ones use 'same' with a stride on sizes it does not divide.
    """
    must_differ: set[str] = set()
    must_equal: set[str] = set()
    for spec in layers:
        name = canonical_class(spec.class_name)
        if name == "ZeroPadding2D" and difficulty is not Difficulty.EASY:
            must_differ.add("padding-one-side")
        if name in ("Conv2D", "SeparableConv2D"):
            must_differ.add("channels-from-input")
        win = _window(spec)
        if not win:
            continue
        _, strides, padding, dilation = win
        if strides != (1, 1):
            must_differ.add("ignored-stride")
            if difficulty is Difficulty.EASY:
                must_equal.update(("rounded-up", "same-floored"))
            elif padding == "valid" and difficulty is Difficulty.MEDIUM:
                must_differ.add("rounded-up")
            elif padding == "same":
                (must_differ if difficulty is Difficulty.HARD else must_equal).add("same-floored")
        if padding == "same" and difficulty is not Difficulty.EASY:
            must_differ.add("same-valid-confused")
        if dilation != (1, 1):
            must_differ.add("ignored-dilation")
    return must_differ, must_equal - must_differ


def _undetectable(difficulty: Difficulty, answer: Shape, mistaken: _Mistakes, must_differ, must_equal) -> str:
    """Why the problem fails its difficulty's checks (the first failure found), or "" when it passes."""
    for name in must_differ:
        if mistaken(name) in (None, answer.dims):  # None: the mistake has no answer
            return f"{name} would give the right answer"
    for name in must_equal:
        if mistaken(name) not in (None, answer.dims):
            return f"{difficulty.value} problems divide evenly"
    return ""


# --- text ------------------------------------------------------------------------------------------------


def _strides_text(strides: tuple[int, int]) -> str:
    return f"stride {strides[0]}" if strides[0] == strides[1] else f"strides {text.shape_tuple(strides)} (rows, columns)"


def _padding_text(padding: int | str) -> str:
    if isinstance(padding, str):
        return f"padding='{padding}'"
    if padding == 0:
        return "no padding"
    return f"zero padding {padding} ({padding} zero{'s' if padding > 1 else ''} on each side)"


def _single_prompt(params: dict[str, Any], shape) -> str:
    layer = params["layer"]
    where = f"is applied to an input of shape {text.dims(shape)} (height × width × channels)"
    if layer == "Conv2D":
        dilation = params["dilation_rate"]
        dil = "" if dilation == (1, 1) else f", dilation rate {dilation[0] if dilation[0] == dilation[1] else text.shape_tuple(dilation)}"
        what = (
            f"A Conv2D layer with {params['filters']} filter{'s' if params['filters'] > 1 else ''} of size "
            f"{text.pair(params['kernel_size'])}, "
            f"{_strides_text(params['strides'])}, {_padding_text(params['padding'])}{dil}"
        )
    else:
        kind = "max" if layer == "MaxPooling2D" else "average"
        what = (
            f"A {text.pair(params['pool_size'])} {kind} pooling layer ({layer}) with {_strides_text(params['strides'])} "
            f"and {_padding_text(params['padding'])}"
        )
    return f"{what} {where}. What is the shape of its output (height, width, channels)?"


def _keras_kwargs(spec: LayerSpec) -> dict[str, Any]:
    return {k: v for k, v in spec.kwargs.items() if not (k == "dilation_rate" and as_pair(k, v) == (1, 1))}


def _axis_steps(n_hw, kernel, strides, padding, dilation, out_hw) -> list[str]:
    """One line per axis (one line for both when they agree): formula first, then the numbers."""
    axes = list(zip(("H_out", "W_out"), n_hw, kernel, strides, dilation, out_hw))
    if axes[0][1:] == axes[1][1:]:
        axes = [("H_out = W_out", *axes[0][1:])]
    steps = []
    for label, n, k, s, d, out in axes:
        if padding == "same":
            steps.append(f"{label} = ⌈n/s⌉ = ⌈{n}/{s}⌉ = {out}")
            continue
        p = 0 if padding == "valid" else padding
        if d == 1 and padding == "valid":
            steps.append(f"{label} = ⌊(n − k)/s⌋ + 1 = ⌊({n} − {k})/{s}⌋ + 1 = {out}")
        elif d == 1:
            steps.append(f"{label} = ⌊(n + 2p − k)/s⌋ + 1 = ⌊({n} + 2·{p} − {k})/{s}⌋ + 1 = {out}")
        else:
            steps.append(
                f"{label} = ⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1 = ⌊({n} + 2·{p} − {d}·({k} − 1) − 1)/{s}⌋ + 1 = {out}"
                f" (the dilated kernel spans d(k − 1) + 1 cells)"
            )
    return steps


_KERAS_CALLS = LayerMemo()


def _keras_text(spec: LayerSpec) -> str:
    """The layer as Keras code, remembered per layer object."""
    return _KERAS_CALLS.get(spec, "call") or _KERAS_CALLS.put(spec, "call", text.keras_call(spec.class_name, _keras_kwargs(spec)))


def _single_solution(params: dict[str, Any], shape, layers: Sequence[LayerSpec], answer: Shape) -> list[str]:
    steps = [f"Keras: {', then '.join(_keras_text(spec) for spec in layers)}."]
    layer = params["layer"]
    kernel = params["kernel_size"] if layer == "Conv2D" else params["pool_size"]
    dilation = params.get("dilation_rate", (1, 1))
    if params["padding"] == "same":
        steps.append("'same' padding: Keras pads just enough that the output is ⌈n/s⌉, whatever the kernel size.")
    steps += [f"{step}." for step in _axis_steps(shape[:2], kernel, params["strides"], params["padding"], dilation, answer.dims[:2])]
    if layer == "Conv2D":
        steps.append(f"Channels: one per filter, C_out = filters = {params['filters']}.")
    else:
        steps.append(f"Channels: pooling works on each channel separately, C_out = C_in = {shape[2]}.")
    steps.append(f"Output shape: {text.shape_tuple(answer.dims)}.")
    return steps


def _chain_solution(shape, layers: Sequence[LayerSpec], trace, answer: Shape) -> list[str]:
    steps = []
    current = tuple(shape)
    for n, (spec, row) in enumerate(zip(layers, trace.rows), 1):
        head = f"Layer {n}, {_keras_text(spec)}: {text.shape_tuple(current)} → "
        out = row.output_shape
        win = _window(spec)
        name = canonical_class(spec.class_name)
        if win and len(current) == 3:
            kernel, strides, padding, dilation = win
            sizes = "; ".join(_axis_steps(current[:2], kernel, strides, padding, dilation, out[:2]))
            depth = f"C_out = filters = {out[2]}" if name in ("Conv2D", "SeparableConv2D") else f"C_out = C_in = {out[2]}"
            steps.append(f"{head}{text.shape_tuple(out)}: {sizes}; {depth}.")
        elif name == "ZeroPadding2D" and isinstance(spec.kwargs.get("padding", 1), int):
            p = spec.kwargs.get("padding", 1)
            steps.append(
                f"{head}{text.shape_tuple(out)}: n + 2p = {current[0]} + 2·{p} = {out[0]}"
                + ("" if current[0] == current[1] else f" and {current[1]} + 2·{p} = {out[1]}")
                + " (p zeros on each side)."
            )
        else:
            steps.append(f"{head}{text.shape_tuple(out)}.")
        current = out
    steps.append(f"Output shape: {text.shape_tuple(answer.dims)}.")
    return steps
