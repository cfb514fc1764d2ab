"""What the model engine keeps to save work — a trace's recounted copy, a layer's JSON data, rows looked up by a
trace — must give what computing afresh gives."""

from __future__ import annotations

import enum

from quizgen.engine import LayerSpec, ParamCount, trace_model
from quizgen.engine.model import LayerRow, Trace

CONV = {"filters": 8, "kernel_size": (3, 3), "padding": "valid"}


def _fresh(spec: LayerSpec) -> LayerSpec:
    return LayerSpec(spec.class_name, dict(spec.kwargs))


def test_a_replaced_trace_has_the_rows_and_totals_of_one_built_afresh():
    layers = (LayerSpec("Conv2D", CONV), LayerSpec("BatchNormalization"), LayerSpec("Flatten"), LayerSpec("Dense", {"units": 10}))
    trace = trace_model((10, 10, 3), layers)
    bn, dense = trace.rows[1], trace.rows[3]
    changes = {
        1: LayerRow(bn.name, bn.class_name, bn.output_shape, ParamCount(16)),
        3: LayerRow(dense.name, dense.class_name, dense.output_shape, ParamCount(7, 5)),
    }
    replaced = trace.replaced(changes)
    rows = list(trace.rows)
    for i, row in changes.items():
        rows[i] = row
    afresh = Trace(trace.input_shape, tuple(rows))
    assert Trace(trace.input_shape, tuple(rows)).total == sum(r.params.total for r in rows)  # total before params
    assert replaced == afresh
    expected = trace.params.trainable - bn.params.trainable - dense.params.trainable + 16 + 7
    assert replaced.params == afresh.params == ParamCount(expected, 5)
    assert replaced.total == afresh.total
    assert trace.replaced({}) is trace


def test_to_data_is_a_new_dict_each_time_and_stays_the_layers_data():
    spec = LayerSpec("ZeroPadding2D", {"padding": ((1, 2), (3, 4))})
    first = spec.to_data()
    assert first == {"class_name": "ZeroPadding2D", "padding": [[1, 2], [3, 4]]}
    first["padding"] = "changed"
    first["extra"] = 1
    assert spec.to_data() == {"class_name": "ZeroPadding2D", "padding": [[1, 2], [3, 4]]}
    assert spec.to_data() is not spec.to_data()
    assert LayerSpec.from_data(spec.to_data()) == spec


class Units(enum.IntEnum):
    TEN = 10


def test_rows_on_shapes_of_int_subclasses_are_not_served_for_plain_int_shapes():
    # Dense(units=Units.TEN) outputs (Units.TEN,): equal to and hashing like (10,), but not plain ints. A trace
    # must not take the next layer's row on (10,) for it (Dropout passes its input shape on as it is).
    odd, dropout = LayerSpec("Dense", {"units": Units.TEN}), LayerSpec("Dropout", {"rate": 0.5})
    plain = trace_model((3,), (LayerSpec("Dense", {"units": 10}), dropout))
    trace_model((3,), (odd,))  # now the odd layer's row on (3,) may be known
    for mixed in (trace_model((3,), (odd, dropout)), trace_model((3,), (odd, LayerSpec("Dropout", {"rate": 0.5})))):
        assert [type(r.output_shape[0]) for r in mixed.rows] == [Units, Units]
        assert [r.output_shape for r in mixed.rows] == [r.output_shape for r in plain.rows]
        assert mixed.total == plain.total
    again = trace_model((10,), (dropout,))
    assert type(again.rows[0].output_shape[0]) is int


def test_a_trace_looked_up_row_by_row_equals_one_of_fresh_layers():
    layers = (LayerSpec("Conv2D", CONV), LayerSpec("MaxPooling2D", {"pool_size": 2}), LayerSpec("Conv2D", CONV),
              LayerSpec("Flatten"), LayerSpec("Dense", {"units": 10}))
    for shape in [(12, 12, 1), (16, 16, 3), (12, 12, 1), (20, 18, 2)]:
        first = trace_model(shape, layers)
        shuffled = trace_model(shape, (layers[0], layers[1], _fresh(layers[2]), layers[3], layers[4]))
        assert first == shuffled == trace_model(shape, tuple(map(_fresh, layers)))
        assert [r.name for r in first.rows] == ["conv2d", "max_pooling2d", "conv2d_1", "flatten", "dense"]
