"""Trace a sequential model given as data: per layer the output shape and parameter counts, as Keras's
``model.summary()`` reports them.

A model is an input shape (without the batch axis) and a list of :class:`LayerSpec`: a Keras class name with
the Keras keyword arguments. Unknown layers and keywords are refused with a "did you mean" suggestion — the
course notes' ``MaxPooling2D((2,2), stride=2)`` is such a typo, and Keras refuses it too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from quizgen.engine.params import (
    NO_PARAMS,
    ParamCount,
    batchnorm_params,
    conv1d_params,
    conv2d_params,
    dense_params,
    depthwise_conv2d_params,
    separable_conv2d_params,
)
from quizgen.engine.sizes import (
    as_pair,
    axis_length,
    check_padding,
    check_positive,
    check_strides_dilation,
)
from quizgen.errors import ConfigError, did_you_mean

Shape = tuple[int, ...]


@dataclass(frozen=True, slots=True)
class LayerSpec:
    """One layer: its Keras class name and keyword arguments."""

    class_name: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    # The layer checked and reduced to arithmetic on the input shape, made the first time it is applied: a
    # mistake re-traces the same layers many times. Not part of the value (kwargs values count as immutable).
    _plan: _Plan | None = field(default=None, init=False, repr=False, compare=False)
    # to_data's dict, made on first use: each problem's params are written to JSON twice (its id and its file).
    _data: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kwargs", MappingProxyType(dict(self.kwargs)))

    def to_data(self) -> dict[str, Any]:
        """A JSON-ready dict: {"class_name": ..., **kwargs} with tuples as lists. The dict is new on each call;
        the lists in it are made once per layer and shared, so change them only in a copy."""
        data = self._data
        if data is None:
            data = {"class_name": self.class_name}
            for k, v in self.kwargs.items():
                data[k] = _jsonable(v) if isinstance(v, tuple) else v
            object.__setattr__(self, "_data", data)
        return dict(data)

    @classmethod
    def from_data(cls, data: object) -> LayerSpec:
        """Build from {"class_name": "Conv2D", "filters": 8, ...} (the form :meth:`to_data` writes)."""
        if not isinstance(data, Mapping) or "class_name" not in data:
            raise ConfigError(f"a layer must be a mapping with a 'class_name' key (got {data!r})")
        kwargs = {k: _tupled(v) for k, v in data.items() if k != "class_name"}
        return cls(str(data["class_name"]), kwargs)


@dataclass(frozen=True, slots=True)
class LayerRow:
    """One row of a model summary."""

    name: str
    class_name: str
    output_shape: Shape
    params: ParamCount


@dataclass(frozen=True, slots=True)
class Trace:
    """A model summary: the input shape, one row per layer, and the totals."""

    input_shape: Shape
    rows: tuple[LayerRow, ...]
    _params: ParamCount | None = field(default=None, init=False, repr=False, compare=False)  # made on first use

    @property
    def params(self) -> ParamCount:
        total = self._params
        if total is None:
            trainable = non_trainable = 0
            for row in self.rows:
                trainable += row.params.trainable
                non_trainable += row.params.non_trainable
            total = ParamCount(trainable, non_trainable)
            object.__setattr__(self, "_params", total)
        return total

    @property
    def total(self) -> int:
        known = self._params  # read directly once made: answers and tables read every trace's total
        return (self.params if known is None else known).total

    def replaced(self, rows: Mapping[int, LayerRow]) -> Trace:
        """This trace with the rows at the given indices replaced, as a mistake recounts a few layers. Its totals
        are this trace's adjusted by the replaced rows rather than summed again over every row."""
        if not rows:
            return self
        new = list(self.rows)
        total = self.params
        trainable, non_trainable = total.trainable, total.non_trainable
        for i, row in rows.items():
            old = new[i].params
            new[i] = row
            trainable += row.params.trainable - old.trainable
            non_trainable += row.params.non_trainable - old.non_trainable
        trace = Trace(self.input_shape, tuple(new))
        object.__setattr__(trace, "_params", ParamCount(trainable, non_trainable))
        return trace

    @property
    def output_shape(self) -> Shape:
        return self.rows[-1].output_shape if self.rows else self.input_shape


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) if isinstance(v, tuple) else v for v in value]  # pairs of ints: no call per int
    return value


def _tupled(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tupled(v) for v in value)
    return value


# Keyword arguments that change nothing this engine computes (initialisers, regularisers, ...).
_INERT = frozenset(
    {
        "name",
        "dtype",
        "activation",
        "kernel_initializer",
        "bias_initializer",
        "kernel_regularizer",
        "bias_regularizer",
        "activity_regularizer",
        "kernel_constraint",
        "bias_constraint",
        "depthwise_initializer",
        "pointwise_initializer",
        "depthwise_regularizer",
        "pointwise_regularizer",
        "depthwise_constraint",
        "pointwise_constraint",
        "beta_initializer",
        "gamma_initializer",
        "moving_mean_initializer",
        "moving_variance_initializer",
        "beta_regularizer",
        "gamma_regularizer",
        "beta_constraint",
        "gamma_constraint",
        "momentum",
        "epsilon",
        "seed",
        "noise_shape",
        "max_value",
        "negative_slope",
        "threshold",
        "trainable",
        "input_shape",
        "data_format",
    }
)


@dataclass(frozen=True)
class _Kind:
    name: str
    keywords: tuple[str, ...]  # meaningful keywords, in Keras's positional order
    required: tuple[str, ...]
    rank: int | None  # input rank (without batch) the layer needs, None for any
    # ``prepare`` checks the keywords that do not depend on the input and returns the arguments ``apply``
    # takes after the input shape; ``apply`` does the rest, raising in the order the checks were written.
    prepare: Callable[[Mapping[str, Any]], tuple]
    apply: Callable[..., tuple[Shape, ParamCount]]


def _spatial(kw: Mapping[str, Any], key: str, default: Any) -> tuple[tuple[int, int], tuple[int, int], Any]:
    kernel = as_pair(key, kw.get(key, default))
    strides = kw.get("strides")
    strides = kernel if strides is None and key == "pool_size" else as_pair("strides", 1 if strides is None else strides)
    return kernel, strides, check_keras_padding(kw.get("padding", "valid"))


def check_keras_padding(padding: object) -> str:
    """Keras layers take only 'valid' or 'same' (integer padding is a ZeroPadding2D layer)."""
    value = check_padding(padding)
    if not isinstance(value, str):
        raise ConfigError(
            f"Keras layers take padding 'valid' or 'same' (got {padding!r}); "
            "for integer padding put a ZeroPadding2D layer in front"
        )
    return value


def _refuses_strided_dilation(strides: tuple[int, ...], dilation: tuple[int, ...]) -> bool:
    return max(strides) > 1 and max(dilation) > 1


def _prepare_conv2d(kw: Mapping[str, Any]) -> tuple:
    kernel, strides, padding = _spatial(kw, "kernel_size", None)
    dilation = as_pair("dilation_rate", kw.get("dilation_rate", 1))
    groups = check_positive("groups", kw.get("groups", 1))
    filters = check_positive("filters", kw["filters"])
    refused = _refuses_strided_dilation(strides, dilation)
    return kernel, strides, padding, dilation, groups, filters, refused, kw.get("use_bias", True)


def _conv2d(shape, kernel, strides, padding, dilation, groups, filters, refused, use_bias) -> tuple[Shape, ParamCount]:
    h, w, c = shape
    if c % groups or filters % groups:
        raise ConfigError(f"'groups'={groups} must divide both the input channels ({c}) and filters ({filters})")
    if refused:
        check_strides_dilation(strides, dilation)
    out = (
        axis_length(h, kernel[0], strides[0], padding, dilation[0]),
        axis_length(w, kernel[1], strides[1], padding, dilation[1]),
        filters,
    )
    return out, conv2d_params(filters, kernel, c // groups, use_bias)


def _prepare_conv1d(kw: Mapping[str, Any]) -> tuple:
    k = check_positive("kernel_size", _single("kernel_size", kw["kernel_size"]))
    s = check_positive("strides", _single("strides", kw.get("strides", 1)))
    d = check_positive("dilation_rate", _single("dilation_rate", kw.get("dilation_rate", 1)))
    padding = check_keras_padding(kw.get("padding", "valid"))
    filters = check_positive("filters", kw["filters"])
    return k, s, d, padding, filters, kw.get("use_bias", True)


def _conv1d(shape, k, s, d, padding, filters, use_bias) -> tuple[Shape, ParamCount]:
    length, c = shape
    if type(length) is not int or length < 1:  # the input size is checked first, as output_length does
        check_positive("input size", length)
    if s > 1 and d > 1:
        check_strides_dilation((s,), (d,))
    out = axis_length(length, k, s, padding, d)
    return (out, filters), conv1d_params(filters, k, c, use_bias)


def _prepare_depthwise(kw: Mapping[str, Any]) -> tuple:
    kernel, strides, padding = _spatial(kw, "kernel_size", None)
    dilation = as_pair("dilation_rate", kw.get("dilation_rate", 1))
    m = check_positive("depth_multiplier", kw.get("depth_multiplier", 1))
    return kernel, strides, padding, dilation, m, kw.get("use_bias", True)


def _depthwise(shape, kernel, strides, padding, dilation, m, use_bias) -> tuple[Shape, ParamCount]:
    h, w, c = shape
    out = (
        axis_length(h, kernel[0], strides[0], padding, dilation[0]),
        axis_length(w, kernel[1], strides[1], padding, dilation[1]),
        c * m,
    )
    return out, depthwise_conv2d_params(kernel, c, m, use_bias)


def _prepare_separable(kw: Mapping[str, Any]) -> tuple:
    kernel, strides, padding = _spatial(kw, "kernel_size", None)
    dilation = as_pair("dilation_rate", kw.get("dilation_rate", 1))
    m = check_positive("depth_multiplier", kw.get("depth_multiplier", 1))
    filters = check_positive("filters", kw["filters"])
    return kernel, strides, padding, dilation, m, filters, kw.get("use_bias", True)


def _separable(shape, kernel, strides, padding, dilation, m, filters, use_bias) -> tuple[Shape, ParamCount]:
    h, w, c = shape
    out = (
        axis_length(h, kernel[0], strides[0], padding, dilation[0]),
        axis_length(w, kernel[1], strides[1], padding, dilation[1]),
        filters,
    )
    return out, separable_conv2d_params(filters, kernel, c, m, use_bias)


def _prepare_pool2d(kw: Mapping[str, Any]) -> tuple:
    return _spatial(kw, "pool_size", (2, 2))


def _pool2d(shape, pool, strides, padding) -> tuple[Shape, ParamCount]:
    h, w, c = shape
    return (axis_length(h, pool[0], strides[0], padding), axis_length(w, pool[1], strides[1], padding), c), NO_PARAMS


def _prepare_pool1d(kw: Mapping[str, Any]) -> tuple:
    p = check_positive("pool_size", _single("pool_size", kw.get("pool_size", 2)))
    strides = kw.get("strides")
    s = p if strides is None else check_positive("strides", _single("strides", strides))
    return p, s, check_keras_padding(kw.get("padding", "valid"))


def _pool1d(shape, p, s, padding) -> tuple[Shape, ParamCount]:
    length, c = shape
    return (axis_length(length, p, s, padding), c), NO_PARAMS


def _prepare_global(kw: Mapping[str, Any]) -> tuple:
    return (kw.get("keepdims", False),)


def _global(shape, keepdims) -> tuple[Shape, ParamCount]:
    if keepdims:
        return (1,) * (len(shape) - 1) + (shape[-1],), NO_PARAMS
    return (shape[-1],), NO_PARAMS


def _prepare_nothing(kw: Mapping[str, Any]) -> tuple:
    return ()


def _flatten(shape) -> tuple[Shape, ParamCount]:
    return (math.prod(shape),), NO_PARAMS


def _identity(shape) -> tuple[Shape, ParamCount]:
    return shape, NO_PARAMS


def _prepare_zero_padding2d(kw: Mapping[str, Any]) -> tuple:
    pad = kw.get("padding", (1, 1))
    if isinstance(pad, int) and not isinstance(pad, bool):
        top = bottom = left = right = pad
    elif isinstance(pad, (tuple, list)) and len(pad) == 2 and all(isinstance(p, int) for p in pad):
        (top, bottom), (left, right) = (pad[0], pad[0]), (pad[1], pad[1])
    elif isinstance(pad, (tuple, list)) and len(pad) == 2 and all(isinstance(p, (tuple, list)) and len(p) == 2 for p in pad):
        (top, bottom), (left, right) = pad
    else:
        raise ConfigError(f"ZeroPadding2D 'padding' must be an int, (h, w) or ((top, bottom), (left, right)) (got {pad!r})")
    for v in (top, bottom, left, right):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ConfigError(f"ZeroPadding2D 'padding' values must be integers >= 0 (got {pad!r})")
    return top + bottom, left + right


def _zero_padding2d(shape, rows, cols) -> tuple[Shape, ParamCount]:
    h, w, c = shape
    return (h + rows, w + cols, c), NO_PARAMS


def _prepare_batchnorm(kw: Mapping[str, Any]) -> tuple:
    return kw.get("axis", -1), kw.get("center", True), kw.get("scale", True)


def _batchnorm(shape, axis, center, scale) -> tuple[Shape, ParamCount]:
    if axis not in (-1, len(shape)):
        raise ConfigError(f"BatchNormalization 'axis' must be -1, the channels axis (got {axis!r})")
    return shape, batchnorm_params(shape[-1], center, scale)


def _prepare_dense(kw: Mapping[str, Any]) -> tuple:
    return check_positive("units", kw["units"]), kw.get("use_bias", True)


def _dense(shape, units, use_bias) -> tuple[Shape, ParamCount]:
    # Keras's Dense acts on the last axis: on an (h, w, c) input it keeps (h, w) and maps c -> units.
    return shape[:-1] + (units,), dense_params(units, shape[-1], use_bias)


def _single(name: str, value: object) -> object:
    if isinstance(value, (tuple, list)) and len(value) == 1:
        return value[0]
    return value


_CONV = ("filters", "kernel_size", "strides", "padding", "dilation_rate", "groups", "use_bias")
_POOL2D = ("pool_size", "strides", "padding")
_KINDS: dict[str, _Kind] = {
    k.name: k
    for k in (
        _Kind("Conv2D", _CONV, ("filters", "kernel_size"), 3, _prepare_conv2d, _conv2d),
        _Kind(
            "Conv1D",
            ("filters", "kernel_size", "strides", "padding", "dilation_rate", "use_bias"),
            ("filters", "kernel_size"),
            2,
            _prepare_conv1d,
            _conv1d,
        ),
        _Kind(
            "DepthwiseConv2D",
            ("kernel_size", "strides", "padding", "depth_multiplier", "dilation_rate", "use_bias"),
            ("kernel_size",),
            3,
            _prepare_depthwise,
            _depthwise,
        ),
        _Kind(
            "SeparableConv2D",
            ("filters", "kernel_size", "strides", "padding", "depth_multiplier", "dilation_rate", "use_bias"),
            ("filters", "kernel_size"),
            3,
            _prepare_separable,
            _separable,
        ),
        # Keras 3 defaults MaxPooling's pool_size to 2 but requires it for AveragePooling (Keras 2 defaulted both).
        _Kind("MaxPooling2D", _POOL2D, (), 3, _prepare_pool2d, _pool2d),
        _Kind("AveragePooling2D", _POOL2D, ("pool_size",), 3, _prepare_pool2d, _pool2d),
        _Kind("MaxPooling1D", _POOL2D, (), 2, _prepare_pool1d, _pool1d),
        _Kind("AveragePooling1D", _POOL2D, ("pool_size",), 2, _prepare_pool1d, _pool1d),
        _Kind("GlobalAveragePooling2D", ("keepdims",), (), 3, _prepare_global, _global),
        _Kind("GlobalMaxPooling2D", ("keepdims",), (), 3, _prepare_global, _global),
        _Kind("GlobalAveragePooling1D", ("keepdims",), (), 2, _prepare_global, _global),
        _Kind("GlobalMaxPooling1D", ("keepdims",), (), 2, _prepare_global, _global),
        _Kind("Flatten", (), (), None, _prepare_nothing, _flatten),
        _Kind("Dropout", ("rate",), ("rate",), None, _prepare_nothing, _identity),
        _Kind("Activation", ("activation",), ("activation",), None, _prepare_nothing, _identity),
        _Kind("ReLU", (), (), None, _prepare_nothing, _identity),
        _Kind("LeakyReLU", (), (), None, _prepare_nothing, _identity),
        _Kind("ZeroPadding2D", ("padding",), (), 3, _prepare_zero_padding2d, _zero_padding2d),
        _Kind("BatchNormalization", ("axis", "center", "scale"), (), None, _prepare_batchnorm, _batchnorm),
        _Kind("Dense", ("units", "use_bias"), ("units",), None, _prepare_dense, _dense),
    )
}
# Keras's own aliases of the same classes.
_ALIASES = {
    "MaxPool2D": "MaxPooling2D",
    "AvgPool2D": "AveragePooling2D",
    "MaxPool1D": "MaxPooling1D",
    "AvgPool1D": "AveragePooling1D",
    "GlobalAvgPool2D": "GlobalAveragePooling2D",
    "GlobalMaxPool2D": "GlobalMaxPooling2D",
    "GlobalAvgPool1D": "GlobalAveragePooling1D",
    "GlobalMaxPool1D": "GlobalMaxPooling1D",
    "Convolution2D": "Conv2D",
    "Convolution1D": "Conv1D",
    "SeparableConvolution2D": "SeparableConv2D",
}
LAYER_CLASSES: tuple[str, ...] = tuple(_KINDS)


def canonical_class(class_name: str) -> str:
    """The canonical Keras class name for a name or alias; ConfigError with a suggestion for unknown ones."""
    name = _ALIASES.get(class_name, class_name)
    if name not in _KINDS:
        raise ConfigError(
            f"unknown layer {class_name!r}{did_you_mean(class_name, [*_KINDS, *_ALIASES])}; "
            f"supported layers: {', '.join(_KINDS)}"
        )
    return name


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and (name[i - 1].islower() or (i + 1 < len(name) and name[i + 1].islower())):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def _check_shape(shape: object) -> Shape:
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not shape:
        raise ConfigError(f"input_shape must be a non-empty tuple of integers >= 1 (got {shape!r})")
    for v in shape:
        check_positive("input_shape entries", v)
    return tuple(shape)


class _Plan:
    """A layer whose keywords passed every check that does not depend on the input: what is left to do is
    ``apply(shape, *args)``, which checks the rest.

    The answer and each mistake trace the same layers on the same few shapes, so a plan remembers its results
    by input shape (``done``) and its model-summary rows by input shape and position among layers of its
    class (``rows``). Only shapes of plain ints are remembered: 3.0 and True hash like 3 and 1. A row is
    remembered only if its output shape is plain ints too, so a trace can look up the next layer's row on it.
    """

    __slots__ = ("name", "row_name", "rank", "apply", "args", "frozen", "done", "rows")

    def __init__(self, name: str, kind: _Kind, args: tuple, frozen: bool) -> None:
        self.name = name
        self.row_name = _ROW_NAMES[name]
        self.rank = kind.rank
        self.apply = kind.apply
        self.args = args
        self.frozen = frozen  # trainable=False: every weight is non-trainable
        self.done: dict[Shape, tuple[Shape, ParamCount]] = {}
        self.rows: dict[tuple[Shape, int], LayerRow] = {}

    def result(self, shape: Shape) -> tuple[Shape, ParamCount]:
        """Output shape and parameters on an input of ``shape``."""
        exact = _exact_ints(shape)
        if exact:
            done = self.done.get(shape)
            if done is not None:
                return done
        if self.rank is not None and len(shape) != self.rank:
            raise _rank_error(self.name, self.rank, shape)
        out, params = self.apply(shape, *self.args)
        if self.frozen:
            params = ParamCount(0, params.total)
        if exact:
            _remember(self.done, shape, (out, params))
        return out, params

    def row(self, shape: Shape, n: int) -> LayerRow:
        """The summary row on an input of ``shape`` when ``n`` layers of the same class come before it."""
        exact = _exact_ints(shape)
        if exact:
            row = self.rows.get((shape, n))
            if row is not None:
                return row
        out, params = self.result(shape)
        row = LayerRow(self.row_name if n == 0 else f"{self.row_name}_{n}", self.name, out, params)
        if exact and _exact_ints(out):
            _remember(self.rows, (shape, n), row)
        return row


def _remember(memory: dict, key: Any, value: Any, size: int = 256) -> None:
    """Keep ``value`` under ``key``, forgetting everything first when ``memory`` is full (a layer used on many
    shapes; the generators' layers see a handful)."""
    if len(memory) >= size:
        memory.clear()
    memory[key] = value


_ROW_NAMES = {name: _snake(name) for name in _KINDS}  # model.summary()'s layer names: conv2d, max_pooling2d, ...


def _rank_error(name: str, rank: int, shape: Shape) -> ConfigError:
    return ConfigError(f"{name} needs a rank-{rank} input (without the batch axis), got shape {shape}")


def _plan(shape: Shape, layer: LayerSpec) -> _Plan:
    """Check ``layer`` in the documented order (class, keywords, input rank, values) and keep the plan on it."""
    name = canonical_class(layer.class_name)
    kind = _KINDS[name]
    kw = layer.kwargs
    for key in kw:
        if key not in kind.keywords and key not in _INERT:
            raise ConfigError(
                f"unknown keyword {key!r} for {name}{did_you_mean(key, kind.keywords)}; "
                f"allowed: {', '.join(kind.keywords) or '(none)'}"
            )
    for key in kind.required:
        if key not in kw:
            raise ConfigError(f"{name} needs {key!r}")
    if kind.rank is not None and len(shape) != kind.rank:
        raise _rank_error(name, kind.rank, shape)
    if "use_bias" in kw and not isinstance(kw["use_bias"], bool):
        raise ConfigError(f"'use_bias' must be true or false (got {kw['use_bias']!r})")
    if name == "Dropout":
        rate = kw["rate"]
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ConfigError(f"Dropout 'rate' must be a number in [0, 1) (got {rate!r})")
    if kw.get("data_format", "channels_last") != "channels_last":
        raise ConfigError(f"only data_format 'channels_last' is supported (got {kw['data_format']!r})")
    plan = _Plan(name, kind, kind.prepare(kw), kw.get("trainable", True) is False)
    object.__setattr__(layer, "_plan", plan)
    return plan


def _exact_ints(shape: object) -> bool:
    """Whether ``shape`` is a tuple of plain ints (not bools, floats or int subclasses)."""
    if type(shape) is not tuple:
        return False
    for v in shape:
        if type(v) is not int:
            return False
    return True


def apply_layer(shape: Shape, layer: LayerSpec) -> tuple[Shape, ParamCount]:
    """Output shape and parameters of one layer on an input of ``shape`` (batch axis excluded)."""
    plan = layer._plan
    if plan is None:
        plan = _plan(shape, layer)
    return plan.result(shape)


def _exact(value: Any) -> Any:
    """A cache key for a keyword value that tells apart what Python calls equal (True, 1 and 1.0)."""
    if type(value) is tuple:
        return tuple, tuple(map(_exact, value))
    return type(value), value


class LayerMemo:
    """Values remembered per layer object and a hashable key, for work that depends only on the layer and, say,
    its input shape. Layers are told apart by identity — their keywords may be unhashable, and 1 == True — and
    each entry holds on to its layer, so no other layer can take its id while the entry lives."""

    __slots__ = ("_entries", "_size")

    def __init__(self, size: int = 4096) -> None:
        self._entries: dict[tuple[int, Any], tuple[LayerSpec, Any]] = {}
        self._size = size

    def get(self, layer: LayerSpec, key: Any) -> Any:
        """The value kept for ``layer`` and ``key``, or None."""
        entry = self._entries.get((id(layer), key))
        return None if entry is None else entry[1]

    def put(self, layer: LayerSpec, key: Any, value: Any) -> Any:
        """Keep ``value`` for ``layer`` and ``key`` (forgetting everything when full) and return it."""
        if len(self._entries) >= self._size:
            self._entries.clear()
        self._entries[id(layer), key] = (layer, value)
        return value


_DERIVED: dict[tuple, tuple[LayerSpec, LayerSpec]] = {}  # by (id of the layer, the derivation)


def derived_layer(layer: LayerSpec, class_name: str | None = None, drop: tuple[str, ...] = (), **changes: Any) -> LayerSpec:
    """``layer`` made another class, without the keywords in ``drop`` and with ``changes``: a mistake's layer.

    Deriving the same change of the same layer object again returns the same object, so the checks and results
    the engine keeps on it serve every problem that uses the layer. (Each entry holds on to its layer, so no
    other layer can take its id.)
    """
    key = (id(layer), class_name, drop, *[(k, _exact(v)) for k, v in changes.items()])
    try:
        known = _DERIVED.get(key)
    except TypeError:  # an unhashable value: nothing to remember it by
        key = known = None
    if known is not None:
        return known[1]
    kwargs = {k: v for k, v in layer.kwargs.items() if k not in drop} if drop else dict(layer.kwargs)
    kwargs.update(changes)
    derived = LayerSpec(layer.class_name if class_name is None else class_name, kwargs)
    if key is not None:
        _remember(_DERIVED, key, (layer, derived), 4096)
    return derived


# Traces by input shape and layer objects: the same model is traced for its answer and again by each problem
# that draws it. Each entry holds on to its layers, so no other layer can take their ids while it lives.
_TRACES: dict[tuple, tuple[tuple[LayerSpec, ...], Trace]] = {}


def trace_model(input_shape: Sequence[int] | None, layers: Sequence[LayerSpec]) -> Trace:
    """Trace a sequential model: per layer the output shape and parameters, as ``model.summary()`` shows.

    ``input_shape`` excludes the batch axis. As in the course notes' Keras code, it may instead be given as
    the first layer's ``input_shape`` keyword.
    """
    layers = tuple(layers)
    if input_shape is None:
        if not layers or "input_shape" not in layers[0].kwargs:
            raise ConfigError("the model needs an input shape (input_shape=...)")
        input_shape = layers[0].kwargs["input_shape"]
    # ``exact``: whether ``shape`` is plain ints, so that rows on it may be looked up.
    if _exact_ints(input_shape) and input_shape and min(input_shape) >= 1:  # the common case: nothing to check
        shape, exact = input_shape, True
    else:
        shape = _check_shape(input_shape)
        exact = _exact_ints(shape)
    key = (shape, *map(id, layers)) if exact else None
    known = _TRACES.get(key)
    if known is not None:
        return known[1]
    start = shape
    counters: dict[str, int] = {}
    rows = []
    for layer in layers:
        plan = layer._plan
        row = None
        if plan is not None and exact:  # the layer's row on this shape may be known: look it up directly
            n = counters.get(plan.row_name, 0)
            row = plan.rows.get((shape, n))
        if row is None:
            try:
                if plan is None:
                    plan = _plan(shape, layer)
                n = counters.get(plan.row_name, 0)
                row = plan.row(shape, n)
            except ConfigError as exc:
                raise ConfigError(f"layer {len(rows) + 1} ({layer.class_name}): {exc}") from None
            # A row is remembered only if its output shape is plain ints (see _Plan): then the next row may be
            # looked up. (After a hit, ``exact`` holds for the same reason.)
            exact = exact and plan.rows.get((shape, n)) is row
        counters[plan.row_name] = n + 1
        rows.append(row)
        shape = row.output_shape
    trace = Trace(start, tuple(rows))
    if key is not None:
        _remember(_TRACES, key, (layers, trace), 4096)
    return trace


__all__ = [
    "LAYER_CLASSES",
    "LayerMemo",
    "LayerRow",
    "LayerSpec",
    "Trace",
    "apply_layer",
    "canonical_class",
    "derived_layer",
    "trace_model",
]
