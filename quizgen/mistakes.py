"""The catalogue of common mistakes: a name, a short title and one sentence of feedback each.

Generators compute the wrong answer each mistake leads to (through the engine, with the mistake applied) and
attach the ones that differ from the right answer; Moodle feedback, multiple-choice distractors and the
grader's diagnosis all come from here. Several come straight from slips in the course notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from quizgen.errors import QuizgenError
from quizgen.problem import Answer, Mistake


@dataclass(frozen=True, slots=True)
class MistakeInfo:
    name: str
    title: str
    feedback: str


_ENTRIES = (
    MistakeInfo(
        "forgot-bias",
        "forgot the bias",
        "You left out the biases: every filter (or neuron) has one bias weight, the +1 in (k_h × k_w × C_in + 1).",
    ),
    MistakeInfo(
        "forgot-input-channels",
        "forgot the input channels",
        "Each filter spans every input channel: it has k_h × k_w × C_in weights, so the count is "
        "filters × (k_h × k_w × C_in + 1), not (k_h × k_w + 1) × filters.",
    ),
    MistakeInfo(
        "forgot-floor",
        "forgot the floor",
        "The output size is ⌊(n + 2p − k)/s⌋ + 1: when the stride does not divide evenly, round the division down "
        "(a window that would run past the edge is dropped).",
    ),
    MistakeInfo(
        "rounded-up",
        "rounded up instead of down",
        "The division in ⌊(n + 2p − k)/s⌋ + 1 rounds down, not up: the last partial window is dropped.",
    ),
    MistakeInfo(
        "same-valid-confused",
        "confused 'same' and 'valid'",
        "'valid' means no padding (the map shrinks); 'same' pads so the output is ⌈n/s⌉ — you used the other one.",
    ),
    MistakeInfo(
        "padding-one-side",
        "padded one side only",
        "Padding p adds p zeros on each side, so the padded size is n + 2p, not n + p.",
    ),
    MistakeInfo(
        "ignored-stride",
        "ignored the stride",
        "The window moves by the stride, not by 1: divide by s in ⌊(n + 2p − k)/s⌋ + 1 and step s cells at a time.",
    ),
    MistakeInfo(
        "ignored-dilation",
        "ignored the dilation",
        "A dilated kernel spans d·(k − 1) + 1 cells, so use that span in place of k.",
    ),
    MistakeInfo(
        "kernel-as-stride",
        "used the kernel size as the stride",
        "The stride is its own setting: the window moves by s, not by the kernel size.",
    ),
    MistakeInfo(
        "batchnorm-two-per-channel",
        "counted BatchNormalization as 2 per channel",
        "BatchNormalization has 4 weights per channel: γ and β are trained, the moving mean and variance are "
        "not but still count as parameters (non-trainable).",
    ),
    MistakeInfo(
        "batchnorm-zero",
        "counted BatchNormalization as 0",
        "BatchNormalization is not free: it has 4 weights per channel (γ, β, moving mean, moving variance).",
    ),
    MistakeInfo(
        "flattened-before-pooling",
        "flattened the shape before pooling",
        "Flatten sees the pooled map: multiply the height, width and channels after the pooling layer.",
    ),
    MistakeInfo(
        "pooling-has-params",
        "gave pooling layers parameters",
        "Pooling layers only apply a fixed max or average: they have 0 parameters.",
    ),
    MistakeInfo(
        "averaged-padded-zeros",
        "averaged over padded zeros",
        "With 'same' padding Keras averages only the cells inside the map: divide by the number of real cells in "
        "the window, not by the window size.",
    ),
    MistakeInfo(
        "padded-max-with-zeros",
        "let padded zeros win a max",
        "With 'same' padding the padded cells never take part: a window of negative values has a negative max.",
    ),
    MistakeInfo(
        "same-split-wrong",
        "put the extra 'same' padding on the wrong side",
        "When 'same' needs an odd number of padding cells, Keras puts the extra one at the bottom / right, "
        "not at the top / left.",
    ),
    MistakeInfo(
        "flipped-kernel",
        "flipped the kernel",
        "Keras's Conv2D computes a cross-correlation: the kernel slides over the input as printed, without "
        "being rotated by 180° (that would be a 'true' convolution, as scipy.signal.convolve2d does).",
    ),
    MistakeInfo(
        "forgot-relu",
        "forgot the ReLU",
        "The layer applies ReLU after the convolution: negative values become 0.",
    ),
    MistakeInfo(
        "forgot-conv-bias",
        "forgot to add the bias",
        "Add the filter's bias to every output cell after summing the products.",
    ),
    MistakeInfo(
        "single-channel-only",
        "used only the first channel",
        "A filter covers every input channel: compute each channel's products and add them all up.",
    ),
    MistakeInfo(
        "confused-max-min",
        "took the max instead of the min (or the reverse)",
        "Min pooling keeps the smallest value in each window, max pooling the largest.",
    ),
    MistakeInfo(
        "global-sum",
        "summed instead of averaged",
        "Global average pooling divides each channel's sum by H × W.",
    ),
    MistakeInfo(
        "dense-on-unflattened",
        "counted the Dense input as the channels only",
        "Dense after Flatten sees every value of the map: n_in = H × W × C.",
    ),
    MistakeInfo(
        "dense-no-bias",
        "forgot the Dense biases",
        "A Dense layer has n_in × n_out weights plus one bias per output neuron (+n_out).",
    ),
    MistakeInfo(
        "depthwise-as-conv",
        "counted a depthwise convolution like a full one",
        "DepthwiseConv2D applies one k × k kernel per input channel; it does not mix channels.",
    ),
    MistakeInfo(
        "separable-no-pointwise",
        "forgot the pointwise part of a separable convolution",
        "SeparableConv2D is a depthwise k × k × C_in step followed by a 1 × 1 pointwise step with C_in × filters weights.",
    ),
    MistakeInfo(
        "trainable-includes-bn-stats",
        "counted BatchNormalization's moving statistics as trainable",
        "Only γ and β are trainable; the moving mean and variance are non-trainable.",
    ),
    MistakeInfo(
        "channels-from-input",
        "kept the input's channels",
        "A Conv2D layer outputs one channel per filter: the output depth is the number of filters, not the "
        "input's channel count.",
    ),
    MistakeInfo(
        "same-floored",
        "rounded a 'same' size down",
        "With 'same' padding the output is ⌈n/s⌉: Keras pads so that the last partial window still counts, so round up.",
    ),
    MistakeInfo(
        "batchnorm-all-non-trainable",
        "counted all of BatchNormalization as non-trainable",
        "γ and β are learned by gradient descent, so they are trainable; only the moving mean and variance "
        "(2 per channel) are non-trainable.",
    ),
    MistakeInfo(
        "forgot-padding",
        "left out the zero padding",
        "Zero padding p puts p rows / columns of zeros on every side before the kernel slides, so the border "
        "cells get their own outputs: the map is n + 2p wide.",
    ),
)

CATALOGUE: MappingProxyType[str, MistakeInfo] = MappingProxyType({m.name: m for m in _ENTRIES})


def mistake(name: str, answer: Answer) -> Mistake:
    """The catalogued mistake ``name`` with the wrong answer it leads to on one problem."""
    try:
        info = CATALOGUE[name]
    except KeyError:
        raise QuizgenError(f"no mistake named {name!r} in the catalogue") from None
    return Mistake(name, answer, info.feedback)
