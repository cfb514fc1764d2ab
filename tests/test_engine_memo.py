"""The engine remembers per layer object (its checked plan, its results per input shape, derived layers, whole
traces). Remembering must never change an answer: these tests compare against fresh layers and look for the
cases where Python calls different values equal."""

from __future__ import annotations

import pytest

from quizgen.engine import LayerSpec, ParamCount, trace_model
from quizgen.engine.model import LayerMemo, apply_layer, derived_layer
from quizgen.errors import ConfigError

CONV = {"filters": 8, "kernel_size": (3, 3), "padding": "valid"}


def _fresh(spec: LayerSpec) -> LayerSpec:
    return LayerSpec(spec.class_name, dict(spec.kwargs))


def test_one_layer_on_many_shapes_answers_as_fresh_layers_do():
    conv = LayerSpec("Conv2D", CONV)
    shapes = [(8, 8, 1), (8, 8, 3), (5, 7, 2), (8, 8, 1), (3, 3, 16), (8, 8, 3)]
    for shape in shapes + shapes[::-1]:
        assert apply_layer(shape, conv) == apply_layer(shape, _fresh(conv))
    assert apply_layer((8, 8, 3), conv) == ((6, 6, 8), ParamCount(8 * (3 * 3 * 3 + 1)))


def test_a_remembered_layer_still_refuses_what_does_not_fit():
    conv = LayerSpec("Conv2D", CONV)
    assert apply_layer((4, 4, 1), conv)[0] == (2, 2, 8)
    with pytest.raises(ConfigError, match="larger than the padded input"):
        apply_layer((2, 2, 1), conv)
    with pytest.raises(ConfigError, match="rank-3 input"):
        apply_layer((4, 4), conv)  # the rank is checked on every shape, not only the first
    assert apply_layer((4, 4, 1), conv)[0] == (2, 2, 8)


def test_shapes_that_only_look_equal_are_not_served_from_memory():
    dense = LayerSpec("Dense", {"units": 4})
    assert apply_layer((3,), dense) == ((4,), ParamCount(16))
    assert apply_layer((1,), dense) == ((4,), ParamCount(8))
    with pytest.raises(ConfigError):
        apply_layer((True,), dense)  # hashes like (1,), which must not be answered from memory
    with pytest.raises(ConfigError):
        apply_layer((3.0,), dense)


def test_traces_of_the_same_layers_and_of_equal_fresh_layers_agree():
    layers = (LayerSpec("Conv2D", CONV), LayerSpec("MaxPooling2D", {"pool_size": 2}), LayerSpec("Flatten"), LayerSpec("Dense", {"units": 10}))
    first = trace_model((12, 12, 1), layers)
    assert trace_model((12, 12, 1), layers) == first == trace_model((12, 12, 1), tuple(map(_fresh, layers)))
    other = trace_model((16, 16, 3), layers)
    assert other.output_shape == (10,) and other.rows[0].output_shape == (14, 14, 8)
    assert [r.name for r in first.rows] == ["conv2d", "max_pooling2d", "flatten", "dense"]
    # Two layers of a class get Keras's numbered names, also when the second is the very same object.
    dense = LayerSpec("Dense", {"units": 10})
    twice = trace_model((5,), (dense, dense))
    assert [r.name for r in twice.rows] == ["dense", "dense_1"]
    assert twice.total == (5 * 10 + 10) + (10 * 10 + 10)


def test_derived_layers_are_shared_only_for_the_same_change():
    conv = LayerSpec("Conv2D", CONV)
    same = derived_layer(conv, padding="same")
    assert same.kwargs["padding"] == "same" and conv.kwargs["padding"] == "valid"
    assert derived_layer(conv, padding="same") is same
    assert derived_layer(conv, padding="valid") is not same
    assert derived_layer(_fresh(conv), padding="same") is not same  # told apart by identity
    biasless = derived_layer(conv, use_bias=False)
    assert apply_layer((5, 5, 1), biasless)[1] == ParamCount(8 * 9)
    # 1 and True are equal in Python, but not as Keras keywords.
    assert derived_layer(conv, strides=1) is not derived_layer(conv, strides=True)
    dropped = derived_layer(conv, "SeparableConv2D", drop=("filters",), filters=4)
    assert dropped.class_name == "SeparableConv2D" and dropped.kwargs["filters"] == 4
    unhashable = derived_layer(conv, kernel_size=[5, 5])
    assert unhashable.kwargs["kernel_size"] == [5, 5] and derived_layer(conv, kernel_size=[5, 5]) is not unhashable


def test_layer_memo_keeps_values_per_layer_object_and_key():
    memo = LayerMemo(size=2)
    a, b = LayerSpec("Dense", {"units": 1}), LayerSpec("Dense", {"units": 1})
    assert memo.get(a, "k") is None
    assert memo.put(a, "k", 1) == 1 and memo.get(a, "k") == 1
    assert memo.get(b, "k") is None  # an equal layer is another layer
    memo.put(b, "k", 2)
    memo.put(b, "j", 3)  # full: forgets everything first
    assert memo.get(a, "k") is None and memo.get(b, "j") == 3
