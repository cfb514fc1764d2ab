"""Cross-check the exact engine against Keras: build the same computation in Keras, run it, compare.

TensorFlow is an optional dependency and heavy to import, so it is imported only inside the functions here
(:func:`load_keras`), never when a quizgen module is imported. Without it those functions raise
:class:`~quizgen.errors.MissingDependencyError`.

Keras building blocks (plain Python / numpy results):

- :func:`keras_output_shape` — per-layer output shape and weights of a sequential model;
- :func:`keras_output_hw` — output height and width of a convolution or pooling, as Keras computes them;
- :func:`keras_pool2d`, :func:`keras_global_pool`, :func:`keras_conv2d` — feature maps, with ``*_batch``
  variants that run many inputs of one configuration at once;
- :func:`keras_adaptive_avg_pool` — Keras's AdaptiveAveragePooling2D;
- :func:`keras_conv_macs` — a Conv2D layer's multiply-accumulates from Keras's output shape and kernel.

Comparisons return a list of human-readable disagreements, empty when engine and Keras agree: shapes and
parameter counts exactly, values within :data:`RTOL` relative (Keras computes in float32) with an absolute
floor :data:`ATOL` for values near zero. When Keras refuses a configuration it raises :class:`KerasRefusal`;
the engine refusing (ConfigError) what Keras refuses counts as agreement (:func:`compare_outcomes`).

Checking generated problems
---------------------------
:func:`check_problem` cross-checks one :class:`~quizgen.problem.Problem` and returns its disagreements. It
checks what every problem must satisfy (each mistake's answer differs from the right answer) and then calls
the topic's entry in :data:`TOPIC_CHECKS`.

Contract of a ``TOPIC_CHECKS`` entry, ``check(problem) -> list[str]``:

1. Rebuild the computation in Keras from ``problem.params`` alone (they use Keras keyword names) — never from
   the engine, the prompt or the solution text.
2. Compare ``problem.answer`` with the Keras result using the comparison functions below and return the
   disagreements as sentences; an empty list means "Keras agrees". Do not raise for a disagreement; a
   configuration Keras refuses is a disagreement too (catch :class:`KerasRefusal`).
3. Where the answer is a value Keras computes, also report a mistake whose answer Keras would accept
   (:func:`mistakes_keras_accepts`).
4. Register it with the :func:`topic_check` decorator in this module, e.g.::

       @topic_check("params")
       def _check_params(problem: Problem) -> list[str]:
           ...

The checks run for every registered topic in ``tests/test_generators.py`` (the entries themselves) and
``tests/test_crosscheck.py`` (through :func:`check_problem`).
"""

from __future__ import annotations

import contextlib
import math
import os
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from quizgen.engine.model import LayerSpec, Trace
from quizgen.engine.params import ParamCount
from quizgen.errors import ConfigError, MissingDependencyError, QuizgenError
from quizgen.problem import Matrix, Problem

RTOL = 1e-5  # relative tolerance of a Keras (float32) value against the exact one
ATOL = 1e-4  # absolute floor of the tolerance, for values at or near zero
MAX_CELLS_REPORTED = 4  # differing cells listed per comparison before "... and N more"
INSTALL_COMMAND = "pip install 'quizgen[keras]'"
_LAYER_CACHE_SIZE = 1024

KerasRow = tuple[tuple[int, ...], int, int]  # (output shape without the batch axis, trainable, non-trainable)


class KerasRefusal(QuizgenError):
    """Keras refused to build or run a configuration; the message is Keras's own, shortened to one line."""


# --- loading Keras quietly ---------------------------------------------------------------------------------

_keras: Any = None


def load_keras() -> Any:
    """Import Keras on the TensorFlow backend once, with its logging silenced, and return the module.

    Raises MissingDependencyError naming the install command when TensorFlow is not installed.
    """
    global _keras
    if _keras is not None:
        return _keras
    # Must be set before TensorFlow is imported: C++ log level, and no oneDNN banner on stderr.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    try:
        with _quiet():
            import tensorflow as tf
            import keras
    except ImportError as exc:
        raise MissingDependencyError(
            f"the Keras cross-check needs TensorFlow, which is not installed ({exc}); "
            f"install it with: {INSTALL_COMMAND}"
        ) from None
    tf.get_logger().setLevel("ERROR")
    keras.config.disable_interactive_logging()
    _keras = keras
    return keras


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Keras warns about things that do not concern a cross-check (input_shape on a layer, retracing)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _refusal(exc: BaseException, where: str = "") -> KerasRefusal:
    text = " ".join(str(exc).split())
    if len(text) > 240:
        text = text[:237] + "..."
    prefix = f"{where}: " if where else ""
    return KerasRefusal(f"Keras refuses {prefix}{type(exc).__name__}: {text}")


class _LRU(OrderedDict):
    """A small least-recently-used cache of Keras layers, keyed by their configuration."""

    def get_or_make(self, key: Any, make: Callable[[], Any]) -> Any:
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = self[key] = make()
        if len(self) > _LAYER_CACHE_SIZE:
            self.popitem(last=False)
        return value


_layers = _LRU()


# --- conversions -------------------------------------------------------------------------------------------


def _pair(name: str, value: Any) -> tuple[int, int]:
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return int(value[0]), int(value[1])
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value), int(value)
    raise QuizgenError(f"{name!r} must be an integer or a pair of them (got {value!r})")


def to_array(values: Any) -> np.ndarray:
    """An exact map (nested tuples of ints / Fractions) as a float64 array of the same shape."""
    return np.asarray(values, dtype=object).astype(np.float64)


def as_hwc(x: Any) -> tuple[np.ndarray, bool]:
    """An exact H × W or H × W × C map as an H × W × C float32 array, and whether it had a channel axis."""
    a = to_array(x)
    if a.ndim == 2:
        return a[:, :, None].astype(np.float32), False
    if a.ndim == 3:
        return a.astype(np.float32), True
    raise QuizgenError(f"a feature map must be H × W or H × W × C (got an array of shape {a.shape})")


def _numpy(tensor: Any) -> np.ndarray:
    return np.asarray(load_keras().ops.convert_to_numpy(tensor))


def _run_layer(layer: Any, xs: np.ndarray, what: str) -> np.ndarray:
    """Call a Keras layer eagerly on a batch, after Keras's own shape rule for it (what a model checks when it is
    built) has accepted the input: eagerly, TensorFlow can return an empty or even a meaningless map where that
    rule says "Computed output size would be zero or negative"."""
    try:
        expected = tuple(layer.compute_output_shape(xs.shape))
    except Exception as exc:  # noqa: BLE001
        raise _refusal(exc, what) from None
    out = _numpy(layer(xs))
    if out.shape != expected or 0 in out.shape:
        raise KerasRefusal(f"Keras refuses {what}: it computes shape {out.shape} where its shape rule says {expected}")
    return out


def _zero_pad(xs: np.ndarray, p: int) -> np.ndarray:
    """Keras's ZeroPadding2D(p): the textbook's integer padding, p zeros on every side."""
    if p == 0:
        return xs
    keras = load_keras()
    layer = _layers.get_or_make(("ZeroPadding2D", p), lambda: keras.layers.ZeroPadding2D(p))
    return _run_layer(layer, xs, f"ZeroPadding2D({p})")


def _split_padding(padding: Any) -> tuple[int, str]:
    """(explicit zero padding, Keras padding mode): an integer p becomes ZeroPadding2D(p) + 'valid'."""
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
        return int(padding), "valid"
    return 0, str(padding).lower()


# --- sequential models: output shapes and parameter counts -------------------------------------------------


def keras_layer(spec: LayerSpec) -> Any:
    """A fresh Keras layer from a LayerSpec (class name and Keras keywords); KerasRefusal if Keras will not."""
    keras = load_keras()
    cls = getattr(keras.layers, spec.class_name, None)
    if cls is None or not isinstance(cls, type):
        raise KerasRefusal(f"Keras has no layer class {spec.class_name!r}")
    kwargs = {k: _keras_value(v) for k, v in spec.kwargs.items() if k != "input_shape"}
    try:
        return cls(**kwargs)
    except Exception as exc:  # noqa: BLE001 - any Keras complaint is a refusal to report
        raise _refusal(exc, spec.class_name) from None


def _keras_value(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_keras_value(v) for v in value)
    if isinstance(value, tuple):
        return tuple(_keras_value(v) for v in value)
    return value


def _weights(weights: Sequence[Any]) -> int:
    return sum(math.prod(int(d) for d in w.shape) for w in weights)


def keras_output_shape(input_shape: Sequence[int] | None, layers: Sequence[LayerSpec]) -> list[KerasRow]:
    """Per layer of a sequential model: (output shape without the batch axis, trainable, non-trainable weights).

    Each layer is called on a symbolic keras.KerasTensor, exactly as keras.Sequential does when it starts with
    keras.Input(shape), but without building a Model. The weights are created inside a keras.StatelessScope
    that skips their initialisation (only their shapes are needed), and layer objects are reused between
    calls where that cannot change the answer, which makes this cheap enough to run thousands of times.
    ``input_shape`` may be None when the first layer has an ``input_shape`` keyword. Raises KerasRefusal
    naming the layer Keras refuses.
    """
    keras = load_keras()
    if input_shape is None:
        if not layers or "input_shape" not in layers[0].kwargs:
            raise KerasRefusal("Keras needs an input shape (keras.Input or input_shape=...)")
        input_shape = layers[0].kwargs["input_shape"]
    rows: list[KerasRow] = []
    # Deferred variables stay registered with Keras until something initialises them; they hold no values.
    with _quiet(), keras.StatelessScope(initialize_variables=False):
        try:
            x = keras.KerasTensor((None, *(int(d) for d in input_shape)))
        except Exception as exc:  # noqa: BLE001
            raise _refusal(exc, "the input shape") from None
        for n, spec in enumerate(layers, 1):
            layer, x = _symbolic_call(spec, x, f"layer {n} ({spec.class_name})")
            rows.append(
                (tuple(int(d) for d in x.shape[1:]), _weights(layer.trainable_weights), _weights(layer.non_trainable_weights))
            )
    return rows


# Layers whose weights depend on the input only through its rank and last (channels) axis.
_CHANNEL_WEIGHTED = frozenset(
    {"Conv1D", "Conv2D", "Convolution1D", "Convolution2D", "DepthwiseConv2D", "SeparableConv2D", "SeparableConvolution2D", "Dense"}
)


def _symbolic_call(spec: LayerSpec, x: Any, where: str) -> tuple[Any, Any]:
    """Call the layer ``spec`` on the KerasTensor ``x``: (the layer, its output).

    Creating a Keras layer costs far more than calling one, so layer objects are kept and called again on
    inputs that build the same weights: a layer that built no weights for any input of the same
    configuration; a convolution or Dense layer for inputs of the same rank and channels; any other layer
    for the same input shape only. A kept layer that refuses an input gets a second chance as a fresh layer,
    so every refusal is a fresh layer's.
    """
    shape = tuple(x.shape)
    key = ("symbolic", spec.class_name, repr(sorted(spec.kwargs.items())))
    channels = (*key, len(shape), shape[-1])
    shaped = (*key, shape)
    for cache_key in (key, channels, shaped):
        layer = _layers.get(cache_key)
        if layer is not None:
            try:
                return layer, layer(x)
            except Exception:  # noqa: BLE001 - retried below with a fresh layer
                break
    layer = keras_layer(spec)
    try:
        out = layer(x)
    except Exception as exc:  # noqa: BLE001
        raise _refusal(exc, where) from None
    if not layer.weights:
        _layers.get_or_make(key, lambda: layer)
    elif spec.class_name in _CHANNEL_WEIGHTED or (spec.class_name == "BatchNormalization" and spec.kwargs.get("axis", -1) == -1):
        _layers.get_or_make(channels, lambda: layer)
    else:
        _layers.get_or_make(shaped, lambda: layer)
    return layer, out


def keras_conv_macs(
    input_shape: Sequence[int], kernel_size: Any, filters: int, strides: Any = 1, padding: Any = "valid", dilation: Any = 1
) -> int:
    """Multiply-accumulates of a Conv2D layer from Keras's own numbers: output positions × kernel weights.

    Keras has no MAC counter; this multiplies the output height and width Keras computes by the size of the
    kernel tensor Keras creates (k_h × k_w × C_in × filters). An integer ``padding`` is a ZeroPadding2D(p)
    layer in front of a 'valid' Conv2D.
    """
    keras = load_keras()
    pad, keras_padding = _split_padding(padding)
    with _quiet(), keras.StatelessScope(initialize_variables=False):
        try:
            x = keras.KerasTensor((None, *(int(d) for d in input_shape)))
            if pad:
                x = keras.layers.ZeroPadding2D(pad)(x)
            layer = keras.layers.Conv2D(filters, kernel_size, strides=strides, padding=keras_padding, dilation_rate=dilation)
            out = layer(x)
        except Exception as exc:  # noqa: BLE001
            raise _refusal(exc, "Conv2D") from None
        return int(out.shape[1]) * int(out.shape[2]) * math.prod(int(d) for d in layer.kernel.shape)


def keras_output_hw(op: str, input_hw: Sequence[int], kernel: Any, strides: Any = 1, padding: Any = "valid", dilation: Any = 1) -> tuple[int, int]:
    """Output (height, width) of a convolution (op 'conv') or max pooling (op 'pool') as Keras computes it:
    keras.ops.conv / keras.ops.max_pool called symbolically (Keras's shape rule, which refuses what a model
    refuses) and run on a map of zeros; the two must agree. Integer padding is ZeroPadding2D first."""
    keras = load_keras()
    kh, kw = _pair("kernel", kernel)
    step = _pair("strides", strides)
    rate = _pair("dilation_rate", dilation)
    pad, keras_padding = _split_padding(padding)
    what = f"{op} with kernel {(kh, kw)}, strides {step}, padding {padding!r}" + (f", dilation_rate {rate}" if op == "conv" else "")
    if op not in ("conv", "pool"):
        raise QuizgenError(f"op must be 'conv' or 'pool' (got {op!r})")

    def run(xs: Any, kernel_tensor: Any) -> Any:
        if op == "conv":
            return keras.ops.conv(xs, kernel_tensor, step, keras_padding, dilation_rate=rate)
        return keras.ops.max_pool(xs, (kh, kw), step, keras_padding)

    try:
        with _quiet():
            xs = _zero_pad(np.zeros((1, *(int(d) for d in input_hw), 1), np.float32), pad)
            symbolic = tuple(run(keras.KerasTensor(xs.shape), keras.KerasTensor((kh, kw, 1, 1))).shape)
            computed = _numpy(run(xs, np.zeros((kh, kw, 1, 1), np.float32))).shape
    except (KerasRefusal, QuizgenError):
        raise
    except Exception as exc:  # noqa: BLE001
        raise _refusal(exc, what) from None
    if tuple(computed) != symbolic:
        raise KerasRefusal(f"Keras refuses {what}: it computes shape {computed} where its shape rule says {symbolic}")
    return int(symbolic[1]), int(symbolic[2])


# --- pooling -----------------------------------------------------------------------------------------------

_POOL_MODES = {"max": "max", "min": "min", "average": "average", "avg": "average", "mean": "average"}


def _pool_mode(mode: str) -> str:
    key = str(mode).strip().lower()
    if key not in _POOL_MODES:
        raise QuizgenError(f"pooling mode must be 'max', 'min' or 'average' (got {mode!r})")
    return _POOL_MODES[key]


def keras_pool2d_batch(xs: np.ndarray, pool_size: Any = 2, strides: Any = None, padding: Any = "valid", mode: str = "max") -> np.ndarray:
    """Pool a batch N × H × W × C with MaxPooling2D / AveragePooling2D; min pooling is −MaxPooling2D(−x).

    An integer ``padding`` is ZeroPadding2D(p) followed by a 'valid' pooling layer. ``strides`` None means
    pool_size, as in Keras. Returns N × H' × W' × C (float32); KerasRefusal if Keras refuses.
    """
    keras = load_keras()
    mode = _pool_mode(mode)
    pool = _pair("pool_size", pool_size)
    step = pool if strides is None else _pair("strides", strides)
    pad, keras_padding = _split_padding(padding)
    cls = "AveragePooling2D" if mode == "average" else "MaxPooling2D"
    xs = np.asarray(xs, dtype=np.float32)
    try:
        with _quiet():
            layer = _layers.get_or_make(
                (cls, pool, step, keras_padding),
                lambda: getattr(keras.layers, cls)(pool_size=pool, strides=step, padding=keras_padding),
            )
            xs = _zero_pad(xs, pad)
            what = f"{cls}(pool_size={pool}, strides={step}, padding={padding!r})"
            return -_run_layer(layer, -xs, what) if mode == "min" else _run_layer(layer, xs, what)
    except KerasRefusal:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _refusal(exc, f"{cls}(pool_size={pool}, strides={step}, padding={padding!r})") from None


def keras_pool2d(x: Any, pool_size: Any = 2, strides: Any = None, padding: Any = "valid", mode: str = "max") -> np.ndarray:
    """Pool one exact H × W or H × W × C map in Keras; the result has the same layout (float32 values)."""
    a, has_channels = as_hwc(x)
    out = keras_pool2d_batch(a[None], pool_size, strides, padding, mode)[0]
    return out if has_channels else out[:, :, 0]


def keras_global_pool_batch(xs: np.ndarray, mode: str = "average") -> np.ndarray:
    """GlobalMaxPooling2D / GlobalAveragePooling2D of a batch N × H × W × C: an N × C array."""
    keras = load_keras()
    kind = _pool_mode(mode)
    if kind == "min":
        raise QuizgenError("global pooling mode must be 'max' or 'average' (got 'min')")
    cls = "GlobalMaxPooling2D" if kind == "max" else "GlobalAveragePooling2D"
    layer = _layers.get_or_make((cls,), lambda: getattr(keras.layers, cls)())
    with _quiet():
        return _numpy(layer(np.asarray(xs, dtype=np.float32)))


def keras_global_pool(x: Any, mode: str = "average") -> np.ndarray:
    """Global max or average pooling of one H × W or H × W × C map: one value per channel (shape (C,))."""
    a, _ = as_hwc(x)
    return keras_global_pool_batch(a[None], mode)[0]


def keras_adaptive_avg_pool_batch(xs: np.ndarray, output_size: Any) -> np.ndarray:
    """Keras's AdaptiveAveragePooling2D(output_size) of a batch N × H × W × C."""
    keras = load_keras()
    size = _pair("output_size", output_size)
    try:
        with _quiet():
            layer = _layers.get_or_make(("AdaptiveAveragePooling2D", size), lambda: keras.layers.AdaptiveAveragePooling2D(size))
            return _run_layer(layer, np.asarray(xs, dtype=np.float32), f"AdaptiveAveragePooling2D({size})")
    except KerasRefusal:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _refusal(exc, f"AdaptiveAveragePooling2D({size})") from None


def keras_adaptive_avg_pool(x: Any, output_size: Any) -> np.ndarray:
    """AdaptiveAveragePooling2D of one H × W or H × W × C map, in the same layout."""
    a, has_channels = as_hwc(x)
    out = keras_adaptive_avg_pool_batch(a[None], output_size)[0]
    return out if has_channels else out[:, :, 0]


# --- convolution -------------------------------------------------------------------------------------------


def kernel_tensor(kernels: Sequence[Any]) -> np.ndarray:
    """The engine's list of F filters (each k_h × k_w, or k_h × k_w × C) as Keras's (k_h, k_w, C_in, F) kernel."""
    filters = [to_array(k) for k in kernels]
    if not filters:
        raise QuizgenError("at least one kernel is needed")
    stacked = np.stack([f if f.ndim == 3 else f[:, :, None] for f in filters], axis=-1)
    return stacked.astype(np.float32)


def keras_conv2d_batch(
    xs: np.ndarray,
    kernel: np.ndarray,
    strides: Any = 1,
    padding: Any = "valid",
    bias: Sequence[Any] | None = None,
    relu: bool = False,
    dilation: Any = 1,
) -> np.ndarray:
    """Conv2D on a batch N × H × W × C with the given (k_h, k_w, C, F) kernel: N × H' × W' × F (float32).

    The weights are set with ``layer.set_weights``; an integer ``padding`` is ZeroPadding2D(p) followed by a
    'valid' Conv2D; ``relu`` is Conv2D's activation='relu'. Layers are reused across calls with the same
    configuration, and the maps run one at a time. KerasRefusal if Keras refuses.
    """
    keras = load_keras()
    kernel = np.asarray(kernel, dtype=np.float32)
    kh, kw, c, f = kernel.shape
    step = _pair("strides", strides)
    rate = _pair("dilation_rate", dilation)
    pad, keras_padding = _split_padding(padding)
    use_bias = bias is not None
    key = ("Conv2D", kh, kw, c, f, step, rate, keras_padding, bool(relu), use_bias)

    def make() -> Any:
        layer = keras.layers.Conv2D(
            f,
            (kh, kw),
            strides=step,
            padding=keras_padding,
            dilation_rate=rate,
            activation="relu" if relu else None,
            use_bias=use_bias,
        )
        layer.build((None, None, None, c))
        return layer

    config = f"Conv2D(filters={f}, kernel_size={(kh, kw)}, strides={step}, padding={padding!r}, dilation_rate={rate})"
    try:
        with _quiet():
            layer = _layers.get_or_make(key, make)
            weights = [kernel] + ([to_array(list(bias)).reshape(f).astype(np.float32)] if use_bias else [])
            layer.set_weights(weights)
            xs = _zero_pad(np.asarray(xs, dtype=np.float32), pad)
            # One map per call: TensorFlow's oneDNN kernels (on by default on x86) get some batched convolutions
            # with unequal strides wrong, e.g. strides (1, 3) with a batch of 2 and an output one column wide.
            return np.concatenate([_run_layer(layer, xs[i : i + 1], config) for i in range(len(xs))])
    except KerasRefusal:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _refusal(exc, config) from None


def keras_conv2d(
    x: Any,
    kernels: Sequence[Any],
    strides: Any = 1,
    padding: Any = "valid",
    bias: Sequence[Any] | None = None,
    relu: bool = False,
    dilation: Any = 1,
) -> np.ndarray:
    """Keras's Conv2D on one exact map, with the engine's arguments and result layout (see engine.conv2d):
    H' × W' for an H × W input and one kernel, else H' × W' × F."""
    a, has_channels = as_hwc(x)
    kernel = kernel_tensor(kernels)
    out = keras_conv2d_batch(a[None], kernel, strides, padding, bias, relu, dilation)[0]
    return out if has_channels or kernel.shape[-1] > 1 else out[:, :, 0]


# --- comparisons -------------------------------------------------------------------------------------------


def show(value: Any) -> str:
    """An exact engine value as text: ints as is, fractions as "p/q (decimal)"."""
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return str(value.numerator)
        return f"{value.numerator}/{value.denominator} ({float(value):.6g})"
    return str(value)


def close(exact: Any, approx: Any) -> np.ndarray:
    """Elementwise: is the Keras value within RTOL relative, or ATOL absolute, of the exact one?"""
    e = to_array(exact) if not isinstance(exact, np.ndarray) else exact.astype(np.float64)
    k = np.asarray(approx, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.abs(e - k) <= np.maximum(ATOL, RTOL * np.abs(e))


def compare_values(engine: Any, keras: Any, what: str = "output") -> list[str]:
    """Exact engine values (a number or nested tuples) against Keras's array: shapes exactly, values within
    tolerance. Lists the first few differing cells with both values."""
    exact = np.asarray(engine, dtype=object)
    k = np.asarray(keras, dtype=np.float64)
    if exact.shape != k.shape:
        return [f"{what}: engine shape {exact.shape}, Keras shape {k.shape}"]
    ok = close(exact.astype(np.float64), k)
    bad = np.argwhere(~ok)
    out = []
    for idx in bad[:MAX_CELLS_REPORTED]:
        at = tuple(int(i) for i in idx)
        where = f"{what}[{', '.join(str(i) for i in at)}]" if at else what
        out.append(f"{where}: engine {show(exact[at])}, Keras {k[at]:.7g}")
    if len(bad) > MAX_CELLS_REPORTED:
        out.append(f"{what}: ... and {len(bad) - MAX_CELLS_REPORTED} more differing cells")
    return out


def compare_shapes(engine: Sequence[int], keras: Sequence[int], what: str = "output shape") -> list[str]:
    """Two shapes, exactly."""
    e, k = tuple(int(d) for d in engine), tuple(int(d) for d in keras)
    return [] if e == k else [f"{what}: engine {e}, Keras {k}"]


def compare_params(engine: ParamCount, trainable: int, non_trainable: int, what: str = "parameters") -> list[str]:
    """A ParamCount against Keras's trainable and non-trainable weight counts, exactly."""
    if (engine.trainable, engine.non_trainable) == (trainable, non_trainable):
        return []
    return [
        f"{what}: engine {engine.trainable:,} trainable + {engine.non_trainable:,} non-trainable, "
        f"Keras {trainable:,} + {non_trainable:,}"
    ]


def compare_trace(trace: Trace, keras_rows: Sequence[KerasRow]) -> list[str]:
    """An engine model trace against :func:`keras_output_shape`: every layer's shape and weights, and the totals."""
    if len(trace.rows) != len(keras_rows):
        return [f"engine traced {len(trace.rows)} layers, Keras {len(keras_rows)}"]
    out: list[str] = []
    for n, (row, (shape, trainable, non_trainable)) in enumerate(zip(trace.rows, keras_rows), 1):
        what = f"layer {n} ({row.class_name})"
        out += compare_shapes(row.output_shape, shape, f"{what} output shape")
        out += compare_params(row.params, trainable, non_trainable, f"{what} parameters")
    total = sum(t + n for _, t, n in keras_rows)
    if trace.total != total:
        out.append(f"total parameters: engine {trace.total:,}, Keras {total:,}")
    return out


def compare_outcomes(engine: Callable[[], Any], keras: Callable[[], Any], compare: Callable[[Any, Any], list[str]]) -> tuple[Any, Any, list[str]]:
    """Run both sides and compare. A refusal on both sides (engine ConfigError, Keras KerasRefusal) agrees;
    a refusal on one side is a disagreement. Returns (engine result or error, Keras result or error, problems)."""
    try:
        e: Any = engine()
    except ConfigError as exc:
        e = exc
    try:
        k: Any = keras()
    except KerasRefusal as exc:
        k = exc
    e_failed, k_failed = isinstance(e, ConfigError), isinstance(k, KerasRefusal)
    if e_failed and k_failed:
        return e, k, []
    if e_failed:
        return e, k, [f"the engine refuses ({e}) but Keras computes it"]
    if k_failed:
        return e, k, [f"Keras refuses ({k}) but the engine computes it"]
    return e, k, compare(e, k)


# --- generated problems ------------------------------------------------------------------------------------

TOPIC_CHECKS: dict[str, Callable[[Problem], list[str]]] = {}


def topic_check(topic: str) -> Callable[[Callable[[Problem], list[str]]], Callable[[Problem], list[str]]]:
    """Register ``fn`` as the Keras cross-check of ``topic`` (see the module docstring for the contract)."""

    def register(fn: Callable[[Problem], list[str]]) -> Callable[[Problem], list[str]]:
        if topic in TOPIC_CHECKS:
            raise QuizgenError(f"topic {topic!r} has two Keras cross-checks")
        TOPIC_CHECKS[topic] = fn
        return fn

    return register


def check_mistakes(problem: Problem) -> list[str]:
    """What every problem must satisfy: each mistake's answer differs from the right answer."""
    return [
        f"mistake {m.name!r} gives the right answer ({m.answer!r})" for m in problem.mistakes if m.answer == problem.answer
    ]


def mistakes_keras_accepts(problem: Problem, keras_answer: Any, as_values: Callable[[Any], Any] | None = None) -> list[str]:
    """Mistakes whose answers Keras's own result would accept (within tolerance): a wrong answer must be wrong.

    ``as_values`` turns an answer into the numbers compared with ``keras_answer`` (default: a Matrix's values).
    """
    convert = as_values or (lambda a: a.values if isinstance(a, Matrix) else a)
    out = []
    for m in problem.mistakes:
        try:
            values = convert(m.answer)
        except (AttributeError, TypeError, ValueError):
            continue
        if np.asarray(values, dtype=object).shape == np.shape(keras_answer) and not compare_values(values, keras_answer):
            out.append(f"mistake {m.name!r} gives an answer Keras agrees with")
    return out


def check_problem(problem: Problem) -> list[str]:
    """Cross-check one generated problem against Keras: its mistakes, then its topic's check (TOPIC_CHECKS)."""
    check = TOPIC_CHECKS.get(problem.topic)
    if check is None:
        return [f"no Keras cross-check for topic {problem.topic!r} in quizgen.crosscheck.TOPIC_CHECKS"]
    return check_mistakes(problem) + check(problem)


@topic_check("pooling")
def _check_pooling(problem: Problem) -> list[str]:
    """Rebuild a `pooling` problem as (Global)MaxPooling2D / AveragePooling2D / −MaxPooling2D(−x)."""
    p = problem.params
    mode, x = p["mode"], p["inputs"]
    answer = problem.answer
    try:
        if mode.startswith("global_"):
            per_channel = keras_global_pool(x, mode.removeprefix("global_"))
            if Matrix(x).has_channels:
                if not isinstance(answer, Matrix):
                    return [f"a multi-channel global pooling answer must be a 1 × C Matrix (got {answer!r})"]
                expected, values = per_channel[None, :], answer.values
            else:
                if isinstance(answer, Matrix):
                    return [f"a single-channel global pooling answer must be a number (got {answer!r})"]
                expected, values = per_channel[0], answer
        else:
            expected = keras_pool2d(x, p["pool_size"], p.get("strides"), p.get("padding", "valid"), mode)
            if not isinstance(answer, Matrix):
                return [f"a pooling answer must be a Matrix (got {answer!r})"]
            values = answer.values
    except KerasRefusal as exc:
        return [str(exc)]
    return compare_values(values, expected, "answer") + mistakes_keras_accepts(problem, expected)


@topic_check("convolution")
def _check_convolution(problem: Problem) -> list[str]:
    """Rebuild a `convolution` problem as Conv2D (after ZeroPadding2D for integer padding) with its kernels and
    biases set, run it on the input, and compare the feature map."""
    from quizgen.generators.convolution import kernels_from_params

    p = problem.params
    if not isinstance(problem.answer, Matrix):
        return [f"a convolution answer must be a Matrix (got {problem.answer!r})"]
    bias = p["bias"] if p["use_bias"] else None
    try:
        expected = keras_conv2d(
            p["inputs"], kernels_from_params(p), p["strides"], p["padding"], bias, p["activation"] == "relu", p["dilation_rate"]
        )
    except KerasRefusal as exc:
        return [str(exc)]
    return compare_values(problem.answer.values, expected, "answer") + mistakes_keras_accepts(problem, expected)


def _keras_table(input_shape: Sequence[int], layers: Sequence[LayerSpec]) -> list[tuple[tuple[int, ...], int]]:
    """(output shape, parameters) per layer of a sequential model, from Keras."""
    return [(shape, trainable + non_trainable) for shape, trainable, non_trainable in keras_output_shape(input_shape, layers)]


@topic_check("architecture")
def _check_architecture(problem: Problem) -> list[str]:
    """Rebuild an `architecture` problem's model (and, for gap_savings, its GAP-head twin) layer by layer in
    Keras and compare every output shape and parameter count, the total, or the savings."""
    from quizgen.generators.architecture import gap_models
    from quizgen.problem import Table

    p = problem.params
    answer = problem.answer
    try:
        if p["ask"] == "gap_savings":
            flatten, gap = gap_models(p["layers"])
            totals = [sum(n for _, n in _keras_table(p["input_shape"], model)) for model in (flatten, gap)]
            keras_answer: Any = totals[0] - totals[1]
        else:
            rows = _keras_table(p["input_shape"], p["layers"])
            keras_answer = sum(n for _, n in rows) if p["ask"] == "total" else (rows, sum(n for _, n in rows))
    except KerasRefusal as exc:
        return [str(exc)]

    def as_keras(a: Any) -> Any:
        if isinstance(a, Table):
            return ([(r.output_shape.dims, r.params) for r in a.rows], a.total)
        return a

    out = []
    if as_keras(answer) != keras_answer:
        if isinstance(answer, Table):
            rows, total = keras_answer
            if len(rows) != len(answer.rows):
                out.append(f"answer has {len(answer.rows)} layers, Keras {len(rows)}")
            for row, (shape, params) in zip(answer.rows, rows):
                out += compare_shapes(row.output_shape.dims, shape, f"{row.layer} output shape")
                if row.params != params:
                    out.append(f"{row.layer} parameters: engine {row.params:,}, Keras {params:,}")
            if answer.total != total:
                out.append(f"total parameters: engine {answer.total:,}, Keras {total:,}")
        else:
            out.append(f"answer: engine {answer!r}, Keras {keras_answer!r}")
    out += [f"mistake {m.name!r} gives an answer Keras agrees with" for m in problem.mistakes if as_keras(m.answer) == keras_answer]
    return out



def _layer_specs(layers: Sequence[Any]) -> list[LayerSpec]:
    """Layers from params: LayerSpecs, or the {"class_name": ..., ...} dicts of a problem read back from JSON."""
    return [spec if isinstance(spec, LayerSpec) else LayerSpec.from_data(spec) for spec in layers]


@topic_check("output-size")
def _check_output_size(problem: Problem) -> list[str]:
    """Rebuild an `output-size` problem in Keras: its chain of layers, or its single layer — integer padding p
    being ZeroPadding2D(p) followed by the layer with padding='valid' — and compare the final output shape."""
    from quizgen.problem import Shape

    p = problem.params
    if p["layer"] == "chain":
        layers = _layer_specs(p["layers"])
    else:
        keys = ("filters", "kernel_size", "strides", "dilation_rate") if p["layer"] == "Conv2D" else ("pool_size", "strides")
        pad, keras_padding = _split_padding(p.get("padding", "valid"))
        front = [LayerSpec("ZeroPadding2D", {"padding": pad})] if pad else []
        layers = front + [LayerSpec(p["layer"], {**{k: p[k] for k in keys if k in p}, "padding": keras_padding})]
    try:
        expected = keras_output_shape(p["input_shape"], layers)[-1][0]
    except KerasRefusal as exc:
        return [str(exc)]
    if not isinstance(problem.answer, Shape):
        return [f"an output-size answer must be a Shape (got {problem.answer!r})"]
    return compare_shapes(problem.answer.dims, expected, "answer") + [
        f"mistake {m.name!r} gives the shape Keras computes, {expected}"
        for m in problem.mistakes
        if isinstance(m.answer, Shape) and tuple(m.answer.dims) == expected
    ]


@topic_check("params")
def _check_params(problem: Problem) -> list[str]:
    """Rebuild a `params` problem as one Keras layer (or its sequential model) on its input shape and compare
    the total, trainable or non-trainable weight count it asks for."""
    p = problem.params
    if p["layer"] == "model":
        layers = _layer_specs(p["layers"])
    else:
        keys = ("filters", "kernel_size", "units", "use_bias", "depth_multiplier", "pool_size")
        layers = [LayerSpec(p["layer"], {k: p[k] for k in keys if k in p})]
    try:
        rows = keras_output_shape(p["input_shape"], layers)
    except KerasRefusal as exc:
        return [str(exc)]
    trainable = sum(t for _, t, _ in rows)
    non_trainable = sum(n for _, _, n in rows)
    count = p.get("count", "total")
    expected = {"total": trainable + non_trainable, "trainable": trainable, "non_trainable": non_trainable}[count]
    out = [] if problem.answer == expected else [f"{count} parameters: engine {problem.answer!r}, Keras {expected:,}"]
    return out + [f"mistake {m.name!r} gives Keras's count, {expected:,}" for m in problem.mistakes if m.answer == expected]

__all__ = [
    "ATOL",
    "INSTALL_COMMAND",
    "RTOL",
    "TOPIC_CHECKS",
    "KerasRefusal",
    "check_mistakes",
    "check_problem",
    "close",
    "compare_outcomes",
    "compare_params",
    "compare_shapes",
    "compare_trace",
    "compare_values",
    "kernel_tensor",
    "keras_adaptive_avg_pool",
    "keras_adaptive_avg_pool_batch",
    "keras_conv2d",
    "keras_conv2d_batch",
    "keras_conv_macs",
    "keras_global_pool",
    "keras_global_pool_batch",
    "keras_layer",
    "as_hwc",
    "keras_output_hw",
    "keras_output_shape",
    "keras_pool2d",
    "keras_pool2d_batch",
    "load_keras",
    "mistakes_keras_accepts",
    "show",
    "to_array",
    "topic_check",
]
