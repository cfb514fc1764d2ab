"""What the output-size generator remembers: problems per configuration, mistaken layers per list of layers,
and the checks each difficulty makes — each must give what working it out afresh gives."""

from __future__ import annotations

import pytest

import quizgen.generators.output_size as osize
from quizgen.engine import trace_model
from quizgen.engine.model import LayerSpec, derived_layer
from quizgen.problem import Difficulty
from quizgen.registry import Draw, Redraw, generate, problem_rng

TOPIC = "output-size"
CONV = (
    ("layer", "Conv2D"),
    ("input_shape", (29, 29, 3)),
    ("kernel_size", (3, 3)),
    ("strides", (2, 2)),
    ("padding", 1),
    ("dilation_rate", (1, 1)),
    ("filters", 8),
)


def test_a_configuration_is_built_once():
    first = osize._single_problem(Difficulty.HARD, *CONV)
    again = osize._single_problem(Difficulty.HARD, *CONV)
    assert again is first
    rejected, problem = first
    assert rejected == "" and problem.answer.dims == (15, 15, 8)
    # The same configuration built afresh gives an equal problem.
    params = dict(CONV)
    assert osize._build(Difficulty.HARD, params, osize.keras_layers(params)) == first


def test_a_rejected_configuration_is_remembered_without_a_problem():
    # 8 filters on 8 channels: channels-from-input gives the right answer, which hard problems must tell apart.
    items = tuple((k, (29, 29, 8) if k == "input_shape" else v) for k, v in CONV)
    rejected, problem = osize._single_problem(Difficulty.HARD, *items)
    assert rejected == "channels-from-input would give the right answer" and problem is None
    params = dict(items)
    _, kept = osize._build(Difficulty.HARD, params, osize.keras_layers(params), keep=True)
    assert kept.answer.dims == (15, 15, 8)


def test_the_last_attempt_keeps_a_rejected_problem():
    pinned = {k: v for k, v in CONV if k != "input_shape"} | {"input_shape": (29, 29, 8)}
    with pytest.raises(Redraw):
        osize.output_size(Draw(problem_rng(0, TOPIC, 0), Difficulty.HARD, pinned))
    kept = osize.output_size(Draw(problem_rng(0, TOPIC, 0), Difficulty.HARD, pinned, final_attempt=True))
    assert kept.answer.dims == (15, 15, 8) and "channels-from-input" not in {m.name for m in kept.mistakes}


def test_mistaken_layers_from_different_layers_are_one_object():
    a = osize._spec("Conv2D", ("filters", 8), ("kernel_size", (3, 3)), ("strides", (2, 2)), ("padding", "valid"))
    b = osize._spec("Conv2D", ("filters", 8), ("kernel_size", (3, 3)), ("strides", (3, 3)), ("padding", "valid"))
    assert osize._with(a, strides=(1, 1)) is osize._with(b, strides=(1, 1))
    assert dict(osize._with(a, strides=(1, 1)).kwargs) == {**a.kwargs, "strides": (1, 1)}


def test_a_pinned_layer_with_values_that_only_look_plain_is_not_merged():
    # True == 1 and hash(True) == hash(1): a layer with use_bias=True must not turn into one with use_bias=1.
    plain = osize._spec("Conv2D", ("filters", 8), ("kernel_size", (3, 3)), ("use_bias", 1))
    pinned = LayerSpec("Conv2D", {"filters": 8, "kernel_size": (3, 3), "use_bias": True})
    changed = osize._with(pinned, strides=(1, 1))
    assert changed.kwargs["use_bias"] is True
    assert changed is derived_layer(pinned, strides=(1, 1))
    assert osize._with(plain, strides=(1, 1)).kwargs["use_bias"] == 1


def _fresh(trace, layers, name):
    """A mistake's shape worked out afresh, layer by layer, as _mistaken_shape does."""
    names = [row.class_name for row in trace.rows]
    shapes = [trace.input_shape, *(row.output_shape for row in trace.rows)]
    try:
        return osize._mistaken_shape(shapes, layers, names, [osize._window(s) for s in layers], osize.CHANGES[name][1])
    except osize.ConfigError:
        return None


@pytest.mark.parametrize("difficulty", list(Difficulty))
def test_remembered_changes_give_the_shapes_worked_out_afresh(difficulty):
    seen = 0
    for seed in range(150):
        p = generate(TOPIC, problem_rng(seed, TOPIC, 3), difficulty)
        params = dict(p.params)
        layers = params["layers"] if params["layer"] == "chain" else osize.keras_layers(params)
        trace = trace_model(params["input_shape"], layers)
        shapes = osize._shapes(params["input_shape"], layers)
        assert shapes == [trace.input_shape, *(row.output_shape for row in trace.rows)]
        mistaken = osize._Mistakes(shapes, osize._known(layers))
        for name in osize.CHANGES:
            assert mistaken(name) == _fresh(trace, layers, name), (params, name)
            seen += mistaken(name) not in (None, trace.output_shape)
    assert seen > 150


def test_an_impossible_layer_is_reported_in_the_textbooks_terms():
    params = dict(CONV) | {"input_shape": (2, 2, 3), "kernel_size": (7, 7), "padding": 1}
    with pytest.raises(osize.ConfigError, match=r"kernel size 7 is larger than the padded input \(2 \+ 2 padding"):
        osize._build(Difficulty.HARD, params, osize.keras_layers(params))


def test_targeted_checks_are_the_targeted_sets_in_check_order():
    layers = osize.keras_layers(dict(CONV))
    must_differ, must_equal = osize._targeted(Difficulty.MEDIUM, layers)
    differ, equal, order = osize._known(layers).targeted(Difficulty.MEDIUM)
    assert set(differ) == must_differ and set(equal) == must_equal
    assert list(differ) == sorted(differ, key=osize.CHECK_ORDER.index)
    assert set(order) == set(osize.CHANGES) and set(order[: len(must_differ)]) == must_differ
    assert osize._known(layers) is osize._known(tuple(layers))
