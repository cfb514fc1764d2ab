"""`convolution`: the feature map of a small integer input under a kernel, exactly as Keras's Conv2D computes it.

Easy problems slide a small random kernel over a 4 × 4 or 5 × 5 map; medium ones add padding, stride 2, the
course notes' classic kernels (the blurs give exact fractions), a bias or a ReLU; hard ones use 'same' with
stride 2 on sizes that need an odd padding, several input channels whose products are summed, two filters or
dilation.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import chain

from quizgen import text
from quizgen.engine import KERNELS, flip_kernel, named_kernel, output_length
from quizgen.engine.conv import KERNEL_TITLES, FilterSums, LayerInput, check_layer, layer_output, windows
from quizgen.engine.sizes import effective_kernel, padding_amounts
from quizgen.errors import ConfigError, UserError
from quizgen.mistakes import mistake
from quizgen.problem import Difficulty, Matrix, MatrixData, Mistake, Problem, make_problem
from quizgen.registry import Draw, ParamSpec, register

ACTIVATIONS = ("linear", "relu")  # Keras's names: 'linear' is activation=None
MAX_FILTERS = 2
MAX_CELLS = 18  # output values a random problem asks for: each is one line of the worked solution
MIN_CELLS = 4

# What a random problem of each difficulty practises (one combination is drawn per problem).
MEDIUM_FOCI = (
    ("padding",),
    ("stride",),
    ("named",),
    ("named",),
    ("bias", "relu"),
    ("padding", "named"),
    ("stride", "named"),
    ("stride", "relu"),
    ("padding", "bias"),
    ("named", "bias", "relu"),
)
HARD_FOCI = (
    ("same_stride",),
    ("same_stride",),
    ("same_stride", "relu"),
    ("same_stride", "named"),
    ("channels",),
    ("channels", "bias"),
    ("channels", "same_stride"),
    ("filters",),
    ("filters", "relu"),
    ("dilation",),
    ("dilation", "bias"),
)
# Classic kernels a random problem uses: the asymmetric ones also catch a flipped kernel.
NAMED_CHOICES = ("sobel_x", "sobel_y", "emboss", "box_blur", "gaussian_blur", "sharpen", "laplacian", "sobel_x", "emboss")


@register(
    "convolution",
    "Feature map of an integer input under a kernel: stride, padding, bias, ReLU, channels, filters",
    params=[
        ParamSpec("inputs", "matrix", "the input feature map, H × W or H × W × C"),
        ParamSpec("input_shape", "shape", "size of the random input, (H, W) or (H, W, C)"),
        ParamSpec(
            "kernel",
            "kernel",
            "the (first) filter: a classic kernel or a matrix, k × k (used on every channel) or k × k × C",
            choices=tuple(KERNELS),
        ),
        ParamSpec("kernel_2", "kernel", "the second filter, with filters=2", choices=tuple(KERNELS)),
        ParamSpec("kernel_size", "pair", "size of a random kernel", min=1, max=5),
        ParamSpec("filters", "int", "number of filters (output channels)", min=1, max=MAX_FILTERS),
        ParamSpec("strides", "pair", "step of the kernel", min=1, max=4),
        ParamSpec("padding", "padding", "'valid', 'same' or zeros on every side"),
        ParamSpec("dilation_rate", "pair", "spacing of the kernel taps (needs strides 1)", min=1, max=3),
        ParamSpec("use_bias", "bool", "whether each filter adds a bias"),
        ParamSpec("bias", "int_list", "one bias per filter (needs use_bias)"),
        ParamSpec("activation", "choice", "activation after the sum", choices=ACTIVATIONS),
    ],
    mistakes=[
        "flipped-kernel",
        "forgot-relu",
        "forgot-conv-bias",
        "single-channel-only",
        "same-valid-confused",
        "ignored-stride",
        "ignored-dilation",
        "same-split-wrong",
        "forgot-padding",
    ],
)
def convolution(draw: Draw) -> Problem:
    d = draw.difficulty
    focus = _focus(draw)

    # The classic kernels are 3 × 3; a pinned kernel_size of another size means a random kernel.
    named = "named" in focus and draw.pinned.get("kernel_size", (3, 3)) == (3, 3)
    first = draw("kernel", lambda: _named(draw)) if named or draw.is_pinned("kernel") else None
    pinned_depth = _depth(first) if first is not None and _depth(first) > 1 else None
    if draw.is_pinned("inputs"):
        x = draw.pinned["inputs"]
    else:
        shape = draw("input_shape", lambda: _random_shape(draw, focus, pinned_depth))
        if len(shape) not in (2, 3):
            raise UserError(f"'input_shape' must be (H, W) or (H, W, C) (got {list(shape)})")
        low, high = _value_range(d, focus)
        x = draw.matrix(shape[0], shape[1], low, high, shape[2] if len(shape) == 3 else None)
    X = Matrix(x)
    if draw.is_pinned("inputs") and draw.is_pinned("input_shape") and tuple(draw.pinned["input_shape"]) != X.shape:
        raise UserError(
            f"'input_shape' {list(draw.pinned['input_shape'])} does not match the pinned inputs ({text.dims(X.shape)})"
        )
    shape = X.shape
    h, w = shape[0], shape[1]
    channels = shape[2] if len(shape) == 3 else 1
    if not draw.is_pinned("inputs") and len(set(_cells(x))) < 3:
        draw.reject("the input is (nearly) constant")

    if first is not None:
        size = _size(first)
        if draw.is_pinned("kernel_size") and draw.pinned["kernel_size"] != size:
            raise UserError(
                f"'kernel_size' {text.pair(draw.pinned['kernel_size'])} does not match the pinned kernel ({text.pair(size)})"
            )
        kernel_size = size
    else:
        kernel_size = draw("kernel_size", lambda: _random_kernel_size(draw, focus, channels))
    # A pinned second kernel or per-filter bias says how many filters there are.
    implied = 2 if draw.is_pinned("kernel_2") else len(draw.pinned["bias"]) if draw.is_pinned("bias") else None
    filters = draw("filters", lambda: implied or (2 if "filters" in focus else 1))
    if draw.is_pinned("kernel_2") and filters != 2:
        raise UserError(f"'kernel_2' is the second filter: it needs filters=2 (got filters={filters})")
    strides = draw("strides", lambda: (2, 2) if {"stride", "same_stride"} & set(focus) else (1, 1))
    padding = draw("padding", lambda: _random_padding(draw, focus, kernel_size))
    dilation = draw("dilation_rate", lambda: (2, 2) if "dilation" in focus and strides == (1, 1) else (1, 1))

    # Output size first: cheap, and a kernel that does not fit is either a redraw or the user's error.
    try:
        out_h = output_length(h, kernel_size[0], strides[0], padding, dilation[0])
        out_w = output_length(w, kernel_size[1], strides[1], padding, dilation[1])
    except ConfigError:
        draw.reject("the kernel does not fit the input")
        raise  # on the last attempt: the pinned values leave no room, and the message says why
    # A redraw cannot help when everything that sets the output size is pinned (then the problem is kept).
    shape_fixed = (
        (draw.is_pinned("inputs") or draw.is_pinned("input_shape"))
        and (draw.is_pinned("kernel") or draw.is_pinned("kernel_size"))
        and all(draw.is_pinned(k) for k in ("filters", "strides", "padding", "dilation_rate"))
    )
    if not MIN_CELLS <= out_h * out_w * filters <= MAX_CELLS and not shape_fixed:
        draw.reject(f"{out_h} × {out_w} × {filters} output values is not a good exercise size")

    if first is None:
        first = draw("kernel", lambda: _random_kernel(draw, kernel_size, channels))
    second = None
    if filters == 2:
        second = draw("kernel_2", lambda: _random_kernel(draw, kernel_size, channels))
        if _size(second) != kernel_size:
            raise UserError(f"'kernel_2' must have the size of 'kernel' ({text.pair(kernel_size)}), got {text.pair(_size(second))}")
    names = [k for k in (first, second) if k is not None]
    kernels = [_expand(k, channels) for k in names]
    data_fixed = draw.is_pinned("inputs") and draw.is_pinned("kernel") and (filters == 1 or draw.is_pinned("kernel_2"))
    for k in names:
        if not isinstance(k, str) and not any(_cells(k)) and not data_fixed:
            draw.reject("a kernel of zeros")
    # Flipping a k × k × C kernel flips each channel's slice: one test serves the redraw and the mistakes.
    symmetric = all(flip_kernel(k) == k for k in kernels)
    if not draw.is_pinned("kernel") and not isinstance(first, str) and symmetric:
        draw.reject("a symmetric random kernel hides the flipped-kernel mistake")

    use_bias = draw("use_bias", lambda: "bias" in focus or draw.is_pinned("bias"))
    if draw.is_pinned("bias") and not use_bias:
        raise UserError("'bias' needs use_bias=true")
    bias = draw("bias", lambda: tuple(draw.choice((-3, -2, -1, 1, 2, 3)) for _ in range(filters))) if use_bias else None
    if bias is not None and len(bias) != filters:
        raise UserError(f"'bias' needs one value per filter ({filters}), got {len(bias)}: {list(bias)}")
    activation = draw("activation", lambda: "relu" if "relu" in focus else "linear")
    relu = activation == "relu"

    odd_split = padding == "same" and _odd_same_padding((h, w), kernel_size, strides, dilation)
    # Checked before the layer's sums and the mistakes are worked out, as they cost far more than this test
    # (which draws nothing, so the next attempt draws as it did when the test came after them).
    if d is Difficulty.HARD and padding == "same" and strides != (1, 1) and not odd_split and not shape_fixed:
        draw.reject("'same' with a stride should need an odd padding on hard problems")
    layer = _Layer(x, kernels, strides, padding, dilation, bias, relu)
    answer = layer.output(layer.sums, bias, relu)
    wrong, targeted = _mistakes(layer, odd_split, symmetric)
    for m in wrong:
        if m.name in targeted and m.answer == answer and not data_fixed:
            draw.reject(f"the {m.name} mistake gives the right answer here")

    params = {
        "inputs": x,
        "kernel": first,
        **({"kernel_2": second} if second is not None else {}),
        "kernel_size": kernel_size,
        "filters": filters,
        "strides": strides,
        "padding": padding,
        "dilation_rate": dilation,
        "use_bias": use_bias,
        **({"bias": bias} if bias is not None else {}),
        "activation": activation,
    }
    return make_problem(
        topic="convolution",
        difficulty=d,
        params=params,
        title=_title(shape, names, kernel_size, filters),
        prompt=_prompt(shape, names, kernel_size, filters, strides, padding, dilation, bias, relu),
        data=_data(X, names, kernels),
        answer=answer,
        solution=_solution(layer, names, kernel_size, answer),
        mistakes=wrong,
    )


# --- drawing ----------------------------------------------------------------------------------------------


def _focus(draw: Draw) -> tuple[str, ...]:
    if draw.difficulty is Difficulty.EASY:
        return ()
    return draw.choice(MEDIUM_FOCI if draw.difficulty is Difficulty.MEDIUM else HARD_FOCI)


def _named(draw: Draw) -> str:
    return draw.choice(NAMED_CHOICES)


def _random_shape(draw: Draw, focus: tuple[str, ...], depth: int | None) -> tuple[int, ...]:
    d = draw.difficulty
    if d is Difficulty.EASY:
        hw = draw.choice(((4, 4), (4, 4), (5, 5), (4, 5)))
    elif {"stride", "same_stride", "dilation"} & set(focus):
        hw = draw.choice(((5, 5), (6, 6), (7, 7), (5, 7), (6, 5)))
    else:
        hw = draw.choice(((4, 4), (5, 5), (5, 5), (4, 5)))
    if depth is None and "channels" in focus:
        depth = draw.choice((2, 2, 3))
    return hw if depth is None else hw + (depth,)


def _value_range(d: Difficulty, focus: tuple[str, ...]) -> tuple[int, int]:
    if d is Difficulty.EASY:
        return 0, 9
    if d is Difficulty.MEDIUM and "relu" not in focus:
        return 0, 9
    return -5, 6


def _random_kernel_size(draw: Draw, focus: tuple[str, ...], channels: int) -> tuple[int, int]:
    if channels > 1 or "filters" in focus:
        return draw.choice(((2, 2), (2, 2), (3, 3)))
    if draw.difficulty is Difficulty.EASY:
        return draw.choice(((2, 2), (3, 3)))
    return draw.choice(((2, 2), (3, 3), (3, 3)))


def _random_padding(draw: Draw, focus: tuple[str, ...], kernel_size: tuple[int, int]) -> int | str:
    if "same_stride" in focus:
        return "same"
    if "padding" in focus:
        return draw.choice((1, 1, "same")) if kernel_size[0] > 2 else draw.choice(("same", 1))
    if "stride" in focus:
        return draw.choice(("valid", "valid", 1))
    return "valid"


def _random_kernel(draw: Draw, size: tuple[int, int], channels: int) -> tuple:
    low, high = (-1, 1) if draw.difficulty is Difficulty.EASY else (-2, 2)
    return draw.matrix(size[0], size[1], low, high, channels if channels > 1 else None)


# --- kernels ----------------------------------------------------------------------------------------------


def _grid(kernel) -> tuple:
    """A pinned or drawn kernel as numbers: a name becomes its matrix."""
    return named_kernel(kernel) if isinstance(kernel, str) else kernel


def _cells(m: tuple) -> chain:
    """Every value of a drawn or pinned map or kernel (nested tuples), row-major: Matrix.cells() without
    building the Matrix."""
    rows = chain.from_iterable(m)
    return chain.from_iterable(rows) if type(m[0][0]) is tuple else rows


def _size(kernel) -> tuple[int, int]:
    g = _grid(kernel)
    return len(g), len(g[0])


def _depth(kernel) -> int:
    return Matrix(_grid(kernel)).shape[2] if Matrix(_grid(kernel)).has_channels else 1


def _expand(kernel, channels: int) -> tuple:
    """The kernel as the layer uses it: a k × k kernel on a C-channel input is the same slice for every channel."""
    g = _grid(kernel)
    if channels == 1 or Matrix(g).has_channels:
        return g
    return tuple(tuple((v,) * channels for v in row) for row in g)


def kernels_from_params(params) -> list[tuple]:
    """The filters of a convolution problem as the layer uses them (k × k × C when the input has channels),
    rebuilt from its params — for the Keras cross-check."""
    x = Matrix(params["inputs"])
    channels = x.shape[2] if x.has_channels else 1
    names = [params["kernel"]] + ([params["kernel_2"]] if "kernel_2" in params else [])
    return [_expand(k, channels) for k in names]


# --- the layer and its mistakes ---------------------------------------------------------------------------


class _Layer:
    """The problem's Conv2D layer, checked once. The answer, every mistake's wrong answer and the worked
    solution all come from per-channel sums of products the engine computes once per geometry and kernel."""

    def __init__(self, x, kernels, strides, padding, dilation, bias, relu) -> None:
        self.channels, self.filters, self.has_channels = check_layer(x, kernels)
        self.input = LayerInput(self.channels)
        self.strides, self.padding, self.dilation = strides, padding, dilation
        self.bias, self.relu = bias, relu
        # Kept per input channel: the worked solution shows each channel's sum.
        self.sums = [self.input.sums(f, strides, padding, dilation, per_channel=True) for f in self.filters]

    def slide(self, *, flip=False, strides=None, padding=None, dilation=None, extra_first=False) -> list[FilterSums]:
        """Each filter's sums with some settings changed, or the filters flipped (ConfigError when the kernel
        then does not fit)."""
        strides = self.strides if strides is None else strides
        padding = self.padding if padding is None else padding
        dilation = self.dilation if dilation is None else dilation
        slide = self.input.sums
        return [slide(f, strides, padding, dilation, extra_first=extra_first, flip=flip) for f in self.filters]

    def output(self, sums: list[FilterSums], bias, relu: bool, channels=None) -> Matrix:
        """The layer's output from some sums, a bias (None for none) and ReLU or not — summing only some input
        channels if asked."""
        biases = bias if bias is not None else (0,) * len(sums)
        return Matrix(layer_output(sums, biases, relu, self.has_channels or len(sums) > 1, channels))


def _odd_same_padding(hw, kernel_size, strides, dilation) -> bool:
    """Whether 'same' padding needs an odd number of zeros on some axis (so Keras puts the extra one at the end)."""
    return any(sum(padding_amounts(n, k, s, "same", dd)) % 2 for n, k, s, dd in zip(hw, kernel_size, strides, dilation))


def _mistakes(layer: _Layer, odd_split: bool, symmetric: bool) -> tuple[list[Mistake], set[str]]:
    """Each mistake's wrong answer from the engine with the mistake applied, and the names this problem is
    meant to catch (a problem is redrawn when one of those gives the right answer by coincidence).
    ``odd_split``: 'same' padding with an odd number of zeros on some axis; ``symmetric``: every kernel is
    unchanged by a flip."""
    wrong: list[Mistake] = []
    targeted: set[str] = set()

    def alt(name: str, target: bool = True, sums=None, bias=layer.bias, relu=layer.relu, channels=None, **changes) -> None:
        try:
            sums = layer.slide(**changes) if sums is None else sums
        except ConfigError:
            return
        wrong.append(mistake(name, layer.output(sums, bias, relu, channels)))
        if target:
            targeted.add(name)

    strides, padding, dilation = layer.strides, layer.padding, layer.dilation
    if not symmetric:
        alt("flipped-kernel", flip=True)
    if layer.relu:
        alt("forgot-relu", sums=layer.sums, relu=False)
    if layer.bias is not None and any(layer.bias):
        alt("forgot-conv-bias", sums=layer.sums, bias=None)
    if len(layer.channels) > 1:
        alt("single-channel-only", sums=layer.sums, channels=(0,))
    if padding == "same":
        alt("same-valid-confused", padding="valid")
        if odd_split:
            alt("same-split-wrong", extra_first=True)
    elif padding == "valid":
        alt("same-valid-confused", target=False, padding="same")
    elif padding > 0:
        alt("forgot-padding", padding=0)
    if strides != (1, 1):
        alt("ignored-stride", strides=(1, 1))
    if dilation != (1, 1):
        alt("ignored-dilation", dilation=(1, 1))
    return wrong, targeted


# --- text -------------------------------------------------------------------------------------------------


def _kernel_label(kernel, kernel_size) -> str:
    if isinstance(kernel, str):
        return f"the {KERNEL_TITLES[kernel]} kernel"
    return f"the {text.pair(kernel_size)} kernel"


def _title(shape: tuple[int, ...], names, kernel_size, filters: int) -> str:
    shape = text.dims(shape)
    if filters > 1:
        return f"Convolution of a {shape} map with {filters} filters"
    if isinstance(names[0], str):
        name = KERNEL_TITLES[names[0]].split(" (")[0]
        return f"{name[0].upper()}{name[1:]} on a {shape} map"
    return f"Convolution of a {shape} map with a {text.pair(kernel_size)} kernel"


def _step(s: tuple[int, int]) -> str:
    return str(s[0]) if s[0] == s[1] else text.pair(s)


def _prompt(shape: tuple[int, ...], names, kernel_size, filters, strides, padding, dilation, bias, relu) -> str:
    h, w = shape[0], shape[1]
    channels = shape[2] if len(shape) == 3 else 1
    if filters == 1:
        what = f"{_kernel_label(names[0], kernel_size)} K"
    else:
        what = f"{filters} filters K1 and K2 ({text.pair(kernel_size)} each; the output has one channel per filter)"
    where = f"the {h} × {w} input X"
    if channels > 1:
        where += f" with {channels} channels (shown one channel per matrix)"
        sliced = [n for n in names if not Matrix(_grid(n)).has_channels]
        what += (
            " (the same slice on every channel; the channels' products are summed)"
            if sliced
            else f" (one {text.pair(kernel_size)} slice per input channel; the channels' products are summed)"
        )
    settings = [f"stride {_step(strides)}", _padding_words(padding)]
    if dilation != (1, 1):
        settings.append(f"dilation rate {_step(dilation)}")
    if bias is None:
        settings.append("no bias")
    elif filters == 1:
        settings.append(f"bias {text.num(bias[0])}")
    else:
        settings.append("biases " + " and ".join(text.num(b) for b in bias))
    settings.append("ReLU activation" if relu else "no activation")
    return (
        f"A Keras Conv2D layer applies {what} to {where}: {', '.join(settings)}. "
        f"Give the output feature map{' (one matrix per filter)' if filters > 1 else ''}."
    )


def _padding_words(padding) -> str:
    if padding == "valid":
        return "'valid' padding (none)"
    if padding == 0:
        return "no padding"
    if padding == "same":
        return "'same' padding"
    return f"zero padding {padding} (on every side)"


def _data(X: Matrix, names, kernels) -> list[MatrixData]:
    data = [MatrixData("X", X, "input feature map")]
    for n, (name, kernel) in enumerate(zip(names, kernels), 1):
        label = "K" if len(kernels) == 1 else f"K{n}"
        caption = KERNEL_TITLES[name] if isinstance(name, str) else "kernel"
        data.append(MatrixData(label, Matrix(kernel), caption))
    return data


@lru_cache(maxsize=1024)
def _keras(kernel_size, filters, strides, padding, dilation, bias, relu) -> str:
    kwargs = {"filters": filters, "kernel_size": kernel_size, "strides": strides}
    kwargs["padding"] = padding if isinstance(padding, str) else "valid"
    if dilation != (1, 1):
        kwargs["dilation_rate"] = dilation
    if bias is None:
        kwargs["use_bias"] = False
    if relu:
        kwargs["activation"] = "relu"
    call = text.keras_call("Conv2D", kwargs)
    if isinstance(padding, int) and padding:
        call = f"ZeroPadding2D(padding={padding}), then {call}"
    return f"Keras: {call}. The kernel slides over X as printed, without being flipped (a cross-correlation)."


@lru_cache(maxsize=1024)
def _size_steps(hw, kernel_size, strides, padding, dilation) -> tuple[str, ...]:
    axes = [("rows", hw[0], kernel_size[0], strides[0], dilation[0]), ("columns", hw[1], kernel_size[1], strides[1], dilation[1])]
    if axes[0][1:] == axes[1][1:]:
        axes = [("rows and columns", *axes[0][1:])]
    steps = []
    for axis, n, k, s, dd in axes:
        out = output_length(n, k, s, padding, dd)
        span = effective_kernel(k, dd)
        span_note = f"the dilated kernel spans d·(k − 1) + 1 = {dd}·({k} − 1) + 1 = {span} cells; " if dd > 1 else ""
        kk = "span" if dd > 1 else "k"
        if padding == "same":
            before, after = padding_amounts(n, k, s, padding, dd)
            odd = " (Keras puts the odd one at the end: bottom / right)" if before != after else ""
            steps.append(
                f"Output {axis}: {span_note}'same' gives ⌈n/s⌉ = ⌈{n}/{s}⌉ = {out}; padding needed "
                f"(out − 1)·s + {kk} − n = ({out} − 1)·{s} + {span} − {n} = {before + after}: "
                f"{before} before, {after} after{odd}."
            )
        elif padding == "valid" or padding == 0:
            steps.append(f"Output {axis}: {span_note}⌊(n − {kk})/s⌋ + 1 = ⌊({n} − {span})/{s}⌋ + 1 = {out}.")
        else:
            steps.append(
                f"Output {axis}: {span_note}⌊(n + 2p − {kk})/s⌋ + 1 = ⌊({n} + 2·{padding} − {span})/{s}⌋ + 1 = {out}."
            )
    return tuple(steps)


class _Memo(dict):
    """A one-argument text function with memory: a solution writes the same few numbers again and again.
    (Equal numbers read alike, so int and Fraction keys may share an entry.)"""

    def __init__(self, fn) -> None:
        super().__init__()
        self.fn = fn

    def __missing__(self, value):
        if len(self) > 4096:  # pinned values could be anything: stay small
            self.clear()
        self[value] = written = self.fn(value)
        return written


_term = _Memo(text.term).__getitem__  # "5", "(−1)", "(1/9)": a number inside a product
_num = _Memo(text.num).__getitem__


def _solution(layer: _Layer, names, kernel_size, answer: Matrix) -> list[str]:
    strides, padding, dilation, bias = layer.strides, layer.padding, layer.dilation, layer.bias
    hw = (layer.input.height, layer.input.width)
    filters = len(layer.filters)
    steps = [_keras(kernel_size, filters, strides, padding, dilation, bias, layer.relu)]
    steps += _size_steps(hw, kernel_size, strides, padding, dilation)
    several = len(layer.channels) > 1
    # Per input channel and output cell (row-major), what the window covers, already as terms ("(−3)"; "0" for padding).
    covered = [
        windows(tuple([tuple(map(_term, row)) for row in g]), kernel_size, strides, padding, dilation, fill="0")
        for g in layer.channels
    ]
    for f, (kernel, sums) in enumerate(zip(layer.filters, layer.sums)):
        prefix = f"Filter {f + 1}: " if filters > 1 else ""
        scale = sums.kernel_scale
        if scale > 1:
            steps.append(
                f"{prefix}K is 1/{scale} times a kernel of whole numbers: sum the products with the whole numbers, "
                f"then divide by {scale}."
            )
        # Each channel's products at each output cell, "1·1 + 2·0 + 4·0 + 5·(−1)" (with the whole-number weights
        # when K is scaled): the weights go into a template once, the covered cells fill it in.
        templates = ["%s·" + " + %s·".join(map(_term, _weights(g, scale))) for g in kernel]
        products = [[template % cell for cell in cells] for template, cells in zip(templates, covered)]
        # The columns of the "out[i,j] = … = …" lines.
        if several:
            per_channel = [sums.values(channels=(c,), times=scale) for c in range(len(kernel))]
            columns = [
                [" + ".join([f"({p})" for p in cell]) for cell in zip(*products)],
                [" + ".join(map(_term, cell)) for cell in zip(*per_channel)],
            ]
        else:
            columns = [products[0]]
        # Last, the value. A scaled kernel's line ends with the whole-number sum over the scale, then the value
        # unless that is already it ("46/9", "45/9 = 5"); otherwise the line so far ends with a sum, never the value.
        values = list(map(_num, sums.values()))
        if scale > 1:
            columns = [[f"(1/{scale})·({part})" for part in column] for column in columns]
            whole = [f"{text.plain(v)}/{scale}" for v in sums.values(times=scale)]
            values = [w if w == v else f"{w} = {v}" for w, v in zip(whole, values)]
        columns.append(values)
        labels = _cell_labels(sums.rows, sums.cols)
        steps += [f"{prefix}{label} = {' = '.join(parts)}." for label, *parts in zip(labels, *columns)]
    if bias is not None:
        for f, (b, sums) in enumerate(zip(bias, layer.sums)):
            prefix = f"Filter {f + 1}: " if filters > 1 else ""
            steps.append(f"{prefix}Add the bias b = {text.num(b)} to every cell → {_rows(sums.grid(b))}.")
    if layer.relu:
        for f, grid in enumerate(answer.channels()):
            prefix = f"Filter {f + 1}: " if filters > 1 else ""
            steps.append(f"{prefix}ReLU, max(0, v), turns the negative values into 0 → {_rows(grid)}.")
    return steps


def _weights(grid, scale: int):
    """A kernel slice's weights row by row, times ``scale`` (whole numbers for a scaled kernel such as a blur)."""
    weights = chain.from_iterable(grid)
    return weights if scale == 1 else [v * scale for v in weights]


@lru_cache(maxsize=64)
def _cell_labels(rows: int, cols: int) -> tuple[str, ...]:
    """The output cells' names in the worked solution, row by row: out[1,1], out[1,2], …"""
    return tuple(f"out[{i + 1},{j + 1}]" for i in range(rows) for j in range(cols))


def _rows(grid) -> str:
    return "rows " + "; ".join(", ".join(map(_num, row)) for row in grid)
