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
from quizgen.engine.sizes import as_pair, check_padding, check_positive, check_strides_dilation, output_length
from quizgen.errors import ConfigError, did_you_mean

Shape = tuple[int, ...]


@dataclass(frozen=True, slots=True)
class LayerSpec:
    """One layer: its Keras class name and keyword arguments."""

    class_name: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kwargs", MappingProxyType(dict(self.kwargs)))

    def to_data(self) -> dict[str, Any]:
        """A JSON-ready dict: {"class_name": ..., **kwargs} with tuples as lists."""
        return {"class_name": self.class_name, **{k: _jsonable(v) for k, v in self.kwargs.items()}}

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

    @property
    def params(self) -> ParamCount:
        total = NO_PARAMS
        for row in self.rows:
            total = total + row.params
        return total

    @property
    def total(self) -> int:
        return self.params.total

    @property
    def output_shape(self) -> Shape:
        return self.rows[-1].output_shape if self.rows else self.input_shape


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
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
    apply: Callable[[Shape, dict[str, Any]], tuple[Shape, ParamCount]]


def _spatial(n: Shape, kw: dict[str, Any], key: str, default: Any) -> tuple[tuple[int, int], tuple[int, int], Any]:
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


def _conv2d(shape: Shape, kw: dict[str, Any]) -> tuple[Shape, ParamCount]:
    (kh, kw_), (sh, sw), padding = _spatial(shape, kw, "kernel_size", None)
    dh, dw = as_pair("dilation_rate", kw.get("dilation_rate", 1))
    groups = check_positive("groups", kw.get("groups", 1))
    filters = check_positive("filters", kw["filters"])
    h, w, c = shape
    if c % groups or filters % groups:
        raise ConfigError(f"'groups'={groups} must divide both the input channels ({c}) and filters ({filters})")
    check_strides_dilation((sh, sw), (dh, dw))
    out = (output_length(h, kh, sh, padding, dh), output_length(w, kw_, sw, padding, dw), filters)
    return out, conv2d_params(filters, (kh, kw_), c // groups, kw.get("use_bias", True))


def _conv1d(shape: Shape, kw: dict[str, Any]) -> tuple[Shape, ParamCount]:
    k = check_positive("kernel_size", _single("kernel_size", kw["kernel_size"]))
    s = check_positive("strides", _single("strides", kw.get("strides", 1)))
    d = check_positive("dilation_rate", _single("dilation_rate", kw.get("dilation_rate", 1)))
    padding = check_keras_padding(kw.get("padding", "valid"))
    filters = check_positive("filters", kw["filters"])
    length, c = shape
    return (output_length(length, k, s, padding, d), filters), conv1d_params(filters, k, c, kw.get("use_bias", True))


def _depthwise(shape: Shape, kw: dict[str, Any]) -> tuple[Shape, ParamCount]:
    (kh, kw_), (sh, sw), padding = _spatial(shape, kw, "kernel_size", None)
    dh, dw = as_pair("dilation_rate", kw.get("dilation_rate", 1))
    m = check_positive("depth_multiplier", kw.get("depth_multiplier", 1))
    h, w, c = shape
    out = (
        output_length(h, kh, sh, padding, dh, strided_dilation=True),
        output_length(w, kw_, sw, padding, dw, strided_dilation=True),
        c * m,
    )
    return out, depthwise_conv2d_params((kh, kw_), c, m, kw.get("use_bias", True))


def _separable(shape: Shape, kw: dict[str, Any]) -> tuple[Shape, ParamCount]:
    (kh, kw_), (sh, sw), padding = _spatial(shape, kw, "kernel_size", None)
    dh, dw = as_pair("dilation_rate", kw.get("dilation_rate", 1))
    m = check_positive("depth_multiplier", kw.get("depth_multiplier", 1))
    filters = check_positive("filters", kw["filters"])
    h, w, c = shape
    out = (
        output_length(h, kh, sh, padding, dh, strided_dilation=True),
        output_length(w, kw_, sw, padding, dw, strided_dilation=True),
        filters,
    )
    return out, separable_conv2d_params(filters, (kh, kw_), c, m, kw.get("use_bias", True))


def _pool2d(shape: Shape, kw: dict[str, Any]) -> tuple[Shape, ParamCount]:
    (ph, pw), (sh, sw), padding = _spatial(shape, kw, "pool_size", (2, 2))
    h, w, c = shape
    return (output_length(h, ph, sh, padding), output_length(w, pw, sw, padding), c), NO_PARAMS


def _pool1d(shape: Shape, kw: dict[str, Any]) -> tuple[Shape, ParamCount]:
    p = check_positive("pool_size", _single("pool_size", kw.get("pool_size", 2)))
    strides = kw.get("strides")
    s = p if strides is None else check_positive("strides", _single("strides", strides))
    padding = check_keras_padding(kw.get("padding", "valid"))
    length, c = shape
    return (output_length(length, p, s, padding), c), NO_PARAMS


def _global(shape: Shape, kw: dict[str, Any]) -> tuple[Shape, ParamCount]:
    if kw.get("keepdims", False):
        return (1,) * (len(shape) - 1) + (shape[-1],), NO_PARAMS
    return (shape[-1],), NO_PARAMS


def _flatten(shape: Shape, kw: dict[str, Any]) -> tuple[Shape, ParamCount]:
    return (math.prod(shape),), NO_PARAMS


def _identity(shape: Shape, kw: dict[str, Any]) -> tuple[Shape, ParamCount]:
    return shape, NO_PARAMS


def _zero_padding2d(shape: Shape, kw: dict[str, Any]) -> tuple[Shape, ParamCount]:
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
    h, w, c = shape
    return (h + top + bottom, w + left + right, c), NO_PARAMS


def _batchnorm(shape: Shape, kw: dict[str, Any]) -> tuple[Shape, ParamCount]:
    axis = kw.get("axis", -1)
    if axis not in (-1, len(shape)):
        raise ConfigError(f"BatchNormalization 'axis' must be -1, the channels axis (got {axis!r})")
    return shape, batchnorm_params(shape[-1], kw.get("center", True), kw.get("scale", True))


def _dense(shape: Shape, kw: dict[str, Any]) -> tuple[Shape, ParamCount]:
    # Keras's Dense acts on the last axis: on an (h, w, c) input it keeps (h, w) and maps c -> units.
    units = check_positive("units", kw["units"])
    return shape[:-1] + (units,), dense_params(units, shape[-1], kw.get("use_bias", True))


def _single(name: str, value: object) -> object:
    if isinstance(value, (tuple, list)) and len(value) == 1:
        return value[0]
    return value


_CONV = ("filters", "kernel_size", "strides", "padding", "dilation_rate", "groups", "use_bias")
_POOL2D = ("pool_size", "strides", "padding")
_KINDS: dict[str, _Kind] = {
    k.name: k
    for k in (
        _Kind("Conv2D", _CONV, ("filters", "kernel_size"), 3, _conv2d),
        _Kind("Conv1D", ("filters", "kernel_size", "strides", "padding", "dilation_rate", "use_bias"), ("filters", "kernel_size"), 2, _conv1d),
        _Kind(
            "DepthwiseConv2D",
            ("kernel_size", "strides", "padding", "depth_multiplier", "dilation_rate", "use_bias"),
            ("kernel_size",),
            3,
            _depthwise,
        ),
        _Kind(
            "SeparableConv2D",
            ("filters", "kernel_size", "strides", "padding", "depth_multiplier", "dilation_rate", "use_bias"),
            ("filters", "kernel_size"),
            3,
            _separable,
        ),
        # Keras 3 defaults MaxPooling's pool_size to 2 but requires it for AveragePooling (Keras 2 defaulted both).
        _Kind("MaxPooling2D", _POOL2D, (), 3, _pool2d),
        _Kind("AveragePooling2D", _POOL2D, ("pool_size",), 3, _pool2d),
        _Kind("MaxPooling1D", _POOL2D, (), 2, _pool1d),
        _Kind("AveragePooling1D", _POOL2D, ("pool_size",), 2, _pool1d),
        _Kind("GlobalAveragePooling2D", ("keepdims",), (), 3, _global),
        _Kind("GlobalMaxPooling2D", ("keepdims",), (), 3, _global),
        _Kind("GlobalAveragePooling1D", ("keepdims",), (), 2, _global),
        _Kind("GlobalMaxPooling1D", ("keepdims",), (), 2, _global),
        _Kind("Flatten", (), (), None, _flatten),
        _Kind("Dropout", ("rate",), ("rate",), None, _identity),
        _Kind("Activation", ("activation",), ("activation",), None, _identity),
        _Kind("ReLU", (), (), None, _identity),
        _Kind("LeakyReLU", (), (), None, _identity),
        _Kind("ZeroPadding2D", ("padding",), (), 3, _zero_padding2d),
        _Kind("BatchNormalization", ("axis", "center", "scale"), (), None, _batchnorm),
        _Kind("Dense", ("units", "use_bias"), ("units",), None, _dense),
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


def apply_layer(shape: Shape, layer: LayerSpec) -> tuple[Shape, ParamCount]:
    """Output shape and parameters of one layer on an input of ``shape`` (batch axis excluded)."""
    name = canonical_class(layer.class_name)
    kind = _KINDS[name]
    kw = dict(layer.kwargs)
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
        raise ConfigError(f"{name} needs a rank-{kind.rank} input (without the batch axis), got shape {shape}")
    if "use_bias" in kw and not isinstance(kw["use_bias"], bool):
        raise ConfigError(f"'use_bias' must be true or false (got {kw['use_bias']!r})")
    if name == "Dropout":
        rate = kw["rate"]
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ConfigError(f"Dropout 'rate' must be a number in [0, 1) (got {rate!r})")
    if kw.get("data_format", "channels_last") != "channels_last":
        raise ConfigError(f"only data_format 'channels_last' is supported (got {kw['data_format']!r})")
    out, params = kind.apply(shape, kw)
    if kw.get("trainable", True) is False:
        params = ParamCount(0, params.total)
    return out, params


def trace_model(input_shape: Sequence[int] | None, layers: Sequence[LayerSpec]) -> Trace:
    """Trace a sequential model: per layer the output shape and parameters, as ``model.summary()`` shows.

    ``input_shape`` excludes the batch axis. As in the course notes' Keras code, it may instead be given as
    the first layer's ``input_shape`` keyword.
    """
    if input_shape is None:
        if not layers or "input_shape" not in layers[0].kwargs:
            raise ConfigError("the model needs an input shape (input_shape=...)")
        input_shape = layers[0].kwargs["input_shape"]
    shape = _check_shape(input_shape)
    start = shape
    counters: dict[str, int] = {}
    rows = []
    for layer in layers:
        try:
            out, params = apply_layer(shape, layer)
        except ConfigError as exc:
            raise ConfigError(f"layer {len(rows) + 1} ({layer.class_name}): {exc}") from None
        base = _snake(canonical_class(layer.class_name))
        n = counters.get(base, 0)
        counters[base] = n + 1
        rows.append(LayerRow(base if n == 0 else f"{base}_{n}", canonical_class(layer.class_name), out, params))
        shape = out
    return Trace(start, tuple(rows))


__all__ = ["LAYER_CLASSES", "LayerRow", "LayerSpec", "Trace", "apply_layer", "canonical_class", "trace_model"]
