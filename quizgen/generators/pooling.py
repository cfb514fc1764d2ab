"""`pooling`: max / min / average pooling of a random integer map, and global pooling, with Keras semantics."""

from __future__ import annotations

from functools import lru_cache

from quizgen.engine import global_pool, output_length
from quizgen.engine.grid import exact_ratio
from quizgen.engine.pooling import Pooler
from quizgen.engine.sizes import padding_amounts
from quizgen.errors import ConfigError
from quizgen.mistakes import mistake
from quizgen.problem import Difficulty, Matrix, MatrixData, Problem, make_problem
from quizgen.registry import Draw, ParamSpec, register
from quizgen import text

MODES = ("max", "min", "average", "global_max", "global_average")
KERAS_LAYER = {
    "max": "MaxPooling2D",
    "average": "AveragePooling2D",
    "min": "min pooling (−MaxPooling2D(−x))",
    "global_max": "GlobalMaxPooling2D",
    "global_average": "GlobalAveragePooling2D",
}


@register(
    "pooling",
    "Max, min, average and global pooling of an integer feature map (Keras padding rules)",
    params=[
        ParamSpec("mode", "choice", "which pooling", choices=MODES),
        ParamSpec("inputs", "matrix", "the input feature map, H × W or H × W × C"),
        ParamSpec("input_shape", "shape", "size of the random input map, (H, W) or (H, W, C)"),
        ParamSpec("pool_size", "pair", "pooling window", min=1, max=8),
        ParamSpec("strides", "pair", "window step (defaults to pool_size, as in Keras)", min=1, max=8),
        ParamSpec("padding", "padding", "Keras padding", choices=("valid", "same")),
    ],
    mistakes=[
        "ignored-stride",
        "kernel-as-stride",
        "same-valid-confused",
        "averaged-padded-zeros",
        "padded-max-with-zeros",
        "same-split-wrong",
        "confused-max-min",
        "global-sum",
    ],
)
def pooling(draw: Draw) -> Problem:
    d = draw.difficulty
    mode = draw("mode", lambda: draw.choice({
        Difficulty.EASY: ("max", "max", "max", "average", "average", "min", "global_average"),
        Difficulty.MEDIUM: ("max", "max", "min", "average", "average", "global_max", "global_average"),
        Difficulty.HARD: ("max", "max", "min", "average", "average", "average", "global_average"),
    }[d]))
    if draw.is_pinned("inputs"):
        x = draw.pinned["inputs"]
    else:
        shape = draw("input_shape", lambda: _random_shape(draw))
        if len(shape) not in (2, 3):
            raise ConfigError(f"'input_shape' must be (H, W) or (H, W, C) (got {shape})")
        low, high = (-9, 9) if d is Difficulty.HARD else (0, 9)
        x = draw.matrix(shape[0], shape[1], low, high, shape[2] if len(shape) == 3 else None)
    X = Matrix(x)
    h, w = X.shape[0], X.shape[1]
    if len(set(X.cells())) < 3:
        draw.reject("the map is (nearly) constant")
    if mode.startswith("global"):
        return _global(draw, mode, X)

    pool = draw("pool_size", lambda: (2, 2) if d is Difficulty.EASY else draw.choice(((2, 2), (2, 2), (3, 3))))
    strides = draw("strides", lambda: pool if d is Difficulty.EASY else draw.choice((pool, pool, (1, 1), (2, 2))))
    padding = draw("padding", lambda: "same" if d is Difficulty.HARD and draw.choice((True, True, False)) else "valid")
    pooler = Pooler(x)
    try:
        answer = pooler.pool(pool, strides, padding, mode)
    except ConfigError:
        if any(draw.is_pinned(k) for k in ("pool_size", "strides", "padding", "inputs", "input_shape")):
            raise
        draw.reject("the pool does not fit the map")
        raise
    if d is Difficulty.EASY and (h - pool[0]) % strides[0] + (w - pool[1]) % strides[1] and not draw.is_pinned("inputs"):
        draw.reject("easy problems tile evenly")

    wrong = []

    def alt(name: str, **changes) -> None:
        args = dict(pool_size=pool, strides=strides, padding=padding, mode=mode)
        args.update(changes)
        try:
            wrong.append(mistake(name, Matrix(pooler.pool(**args))))
        except ConfigError:
            pass

    if padding == "same":
        if mode == "average":
            alt("averaged-padded-zeros", include_padding=True)
        else:
            alt("padded-max-with-zeros", include_padding=True)
        alt("same-split-wrong", extra_first=True)
    if strides != (1, 1):
        alt("ignored-stride", strides=(1, 1))
    if strides != pool:
        alt("kernel-as-stride", strides=pool)
    alt("same-valid-confused", padding="valid" if padding == "same" else "same")
    if mode in ("max", "min"):
        alt("confused-max-min", mode="min" if mode == "max" else "max")

    answer_m = Matrix(answer)
    cells = answer_m.cells()
    if len(set(cells)) < min(3, -(-len(cells) // 2)) and not draw.is_pinned("inputs"):
        draw.reject("the output is (nearly) constant")  # e.g. min pooling landing on 0 everywhere
    if padding == "same" and not any(m.name in ("averaged-padded-zeros", "padded-max-with-zeros", "same-split-wrong") and m.answer != answer_m for m in wrong):
        draw.reject("'same' padding makes no difference to this answer")

    layer = KERAS_LAYER[mode]
    channels_note = f" with {X.shape[2]} channels (shown one channel per matrix)" if X.has_channels else ""
    prompt = (
        f"Apply {text.pair(pool)} {mode} pooling with stride {text.pair(strides) if strides[0] != strides[1] else strides[0]} "
        f"and {text.padding(padding)} to the {h} × {w} feature map X{channels_note}. "
        f"Give the output feature map{' (per channel)' if X.has_channels else ''}."
    )
    return make_problem(
        topic="pooling",
        difficulty=d,
        params={"mode": mode, "inputs": x, "pool_size": pool, "strides": strides, "padding": padding},
        title=f"{mode.capitalize()} pooling of a {text.dims(X.shape)} map",
        prompt=prompt,
        data=[MatrixData("X", X, "input feature map")],
        answer=answer_m,
        solution=_solution(pooler, X, pool, strides, padding, mode, layer, answer_m),
        mistakes=wrong,
    )


def _random_shape(draw: Draw) -> tuple[int, ...]:
    d = draw.difficulty
    if d is Difficulty.EASY:
        return draw.choice(((4, 4), (4, 4), (6, 6), (4, 6)))
    if d is Difficulty.MEDIUM:
        return draw.choice(((4, 4), (5, 5), (6, 6), (5, 6)))
    return draw.choice(((5, 5), (5, 5, 2), (6, 6, 2), (7, 7), (5, 6)))


def _solution(pooler: Pooler, X: Matrix, pool, strides, padding, mode, layer, answer: Matrix) -> list[str]:
    h, w = X.shape[0], X.shape[1]
    steps = list(_size_steps(h, w, pool, strides, padding, layer))
    num, nums, terms = text.num, text.nums, text.terms
    answers = answer.channels()
    for c, channel in enumerate(pooler.windows(pool, strides, padding)):
        prefix = f"Channel {c + 1}: " if X.has_channels else ""
        out_grid = answers[c]
        for i, line in enumerate(channel, 1):
            out_row = out_grid[i - 1]
            for j, (vals, size) in enumerate(line, 1):
                if mode == "average":
                    note = f" (only the {len(vals)} cells inside the map)" if len(vals) < size else ""
                    frac = num(exact_ratio(sum(vals), len(vals)))
                    steps.append(f"{prefix}out[{i},{j}] = ({terms(vals)})/{len(vals)} = {frac}{note}.")
                else:
                    steps.append(f"{prefix}out[{i},{j}] = {mode}({nums(vals)}) = {num(out_row[j - 1])}.")
    return steps


@lru_cache(maxsize=256)
def _size_steps(h: int, w: int, pool, strides, padding, layer: str) -> tuple[str, ...]:
    """The solution's first steps: the Keras layer and the output size per axis (the same for many problems)."""
    kwargs = {"pool_size": pool, "strides": strides, "padding": padding}
    steps = [f"Keras layer: {text.keras_call(layer, kwargs) if not layer.startswith('min') else layer}."]
    for axis, n, k, s in (("rows", h, pool[0], strides[0]), ("columns", w, pool[1], strides[1])):
        out = output_length(n, k, s, padding)
        if padding == "same":
            before, after = padding_amounts(n, k, s, padding)
            steps.append(
                f"Output {axis}: 'same' gives ⌈n/s⌉ = ⌈{n}/{s}⌉ = {out}; padding needed (out − 1)·s + k − n = "
                f"({out} − 1)·{s} + {k} − {n} = {before + after}: {before} before, {after} after "
                "(Keras puts an odd one at the end)."
            )
        else:
            steps.append(f"Output {axis}: ⌊(n − k)/s⌋ + 1 = ⌊({n} − {k})/{s}⌋ + 1 = {out}.")
    return tuple(steps)


def _global(draw: Draw, mode: str, X: Matrix) -> Problem:
    kind = mode.split("_", 1)[1]
    values = global_pool(X.values, kind)
    layer = KERAS_LAYER[mode]
    wrong = []
    if kind == "average":
        sums = tuple(sum(v for row in g for v in row) for g in X.channels())
        wrong.append(mistake("global-sum", Matrix((sums,)) if X.has_channels else sums[0]))
    else:
        mins = tuple(min(v for row in g for v in row) for g in X.channels())
        wrong.append(mistake("confused-max-min", Matrix((mins,)) if X.has_channels else mins[0]))
    answer = Matrix((values,)) if X.has_channels else values[0]
    h, w = X.shape[0], X.shape[1]
    steps = [f"Keras layer: {layer}(); the output has one value per channel."]
    for c, g in enumerate(X.channels()):
        prefix = f"Channel {c + 1}: " if X.has_channels else ""
        cells = [v for row in g for v in row]
        if kind == "average":
            quotient = f"{text.num(sum(cells))}/{h * w}"
            result = text.num(values[c])
            tail = "" if result == quotient else f" = {result}"
            steps.append(f"{prefix}({text.terms(cells)})/({h} × {w}) = {quotient}{tail}.")
        else:
            steps.append(f"{prefix}max({text.nums(cells)}) = {text.num(values[c])}.")
    what = "vector of per-channel values" if X.has_channels else "value"
    return make_problem(
        topic="pooling",
        difficulty=draw.difficulty,
        params={"mode": mode, "inputs": X.values},
        title=f"Global {kind} pooling of a {text.dims(X.shape)} map",
        prompt=f"Apply global {kind} pooling ({layer}) to the {h} × {w} feature map X"
        f"{' with ' + str(X.shape[2]) + ' channels (shown one channel per matrix)' if X.has_channels else ''}. Give the output {what}.",
        data=[MatrixData("X", X, "input feature map")],
        answer=answer,
        solution=steps,
        mistakes=wrong,
    )
