"""Reading typed answers: the rules the README documents, as tables, and hypothesis fuzzing the parser."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quizgen.grade.parse import AnswerSyntaxError, parse_answer, read_matrix, read_number, read_shape, read_table
from quizgen.problem import AnswerKind

F = Fraction


@pytest.mark.parametrize(
    "text, integer_hint, value, decimal",
    [
        ("43706", True, 43706, False),
        ("43,706", True, 43706, False),  # comma + exactly 3 digits, integer answer: thousands
        ("43 706", True, 43706, False),
        ("43\u202f706", True, 43706, False),  # narrow no-break space
        ("43\u00a0706", True, 43706, False),
        ("43'706", True, 43706, False),
        ("43’706", True, 43706, False),
        ("1,234,567", True, 1234567, False),
        ("1.234.567", True, 1234567, False),
        ("43,706.5", True, F(87413, 2), True),
        ("43.706,5", True, F(87413, 2), True),
        ("43 706,25", False, F(174825, 4), True),
        ("3.75", False, F(15, 4), True),
        ("3,75", False, F(15, 4), True),
        ("3,75", True, F(15, 4), True),  # 2 digits after the comma: always a decimal comma
        ("43,706", False, F(43706, 1000), True),  # comma + 3 digits, fraction answer: decimal comma
        ("0,375", True, F(3, 8), True),  # "0," never starts a thousands group
        ("1.234", True, F(1234, 1000), True),  # a single dot is always a decimal point
        (".5", False, F(1, 2), True),
        (",5", False, F(1, 2), True),
        ("13/4", False, F(13, 4), False),
        ("-13/4", False, F(-13, 4), False),
        ("−13/4", False, F(-13, 4), False),  # Unicode minus
        ("13 / 4", False, F(13, 4), False),
        ("3 1/4", False, F(13, 4), False),
        ("-3 1/4", False, F(-13, 4), False),
        ("+7", True, 7, False),
        ("- 7", True, -7, False),
        ("1e3", True, 1000, True),
        ("4.37E+04", True, 43700, True),
        ("'43706", True, 43706, False),  # Excel's text marker
        ("  80  ", True, 80, False),
        ("43706.0", True, 43706, True),
    ],
)
def test_numbers(text, integer_hint, value, decimal):
    assert read_number(text, integer_hint) == (value, decimal)


@pytest.mark.parametrize(
    "text",
    ["", "abc", "43 70", "1,23,456", "1.2.3,4,5", "3..5", "13/0", "3 5/4", "1e99", "12a", "--3",
     "1,234.567,8", "1" * 61, "0x10", "½", "١٢٣", "²"],
)
def test_unreadable_numbers(text):
    with pytest.raises(AnswerSyntaxError):
        read_number(text, True)


@pytest.mark.parametrize("text, value", [("43,70", F(437, 10)), ("4,3706", F(43706, 10000)), ("43_706", 43706)])
def test_other_commas_are_decimal_commas_and_underscores_group(text, value):
    # Not three digits after the only comma: a decimal comma even for an integer answer (then simply wrong).
    assert read_number(text, True)[0] == value


@pytest.mark.parametrize(
    "text, dims",
    [
        ("(13, 13, 8)", [13, 13, 8]),
        ("13x13x8", [13, 13, 8]),
        ("13X13X8", [13, 13, 8]),
        ("13×13×8", [13, 13, 8]),
        ("13 x 13 x 8", [13, 13, 8]),
        ("13 × 13 × 8", [13, 13, 8]),
        ("[13,13,8]", [13, 13, 8]),
        ("13, 13, 8", [13, 13, 8]),
        ("13 13 8", [13, 13, 8]),
        ("(None, 13, 13, 8)", [13, 13, 8]),  # Keras's batch axis
        ("(10,)", [10]),
        ("10", [10]),
        ("((13, 13, 8))", [13, 13, 8]),
    ],
)
def test_shapes(text, dims):
    assert read_shape(text) == dims


@pytest.mark.parametrize("text", ["", "()", "(13, , 8)", "(13.5, 8)", "(a, b)", "(-1, 3)", "1 2 3 4 5 6 7 8 9"])
def test_unreadable_shapes(text):
    with pytest.raises(AnswerSyntaxError):
        read_shape(text)


M22 = [[6, 4], [4, 4]]


@pytest.mark.parametrize(
    "text",
    [
        "6 4; 4 4",
        "6 4;4 4;",
        "[[6,4],[4,4]]",
        "[[6, 4], [4, 4]]",
        "[[6 4]\n [4 4]]",  # numpy's print
        "[6 4; 4 4]",  # MATLAB
        "((6, 4), (4, 4))",
        "[6,4],[4,4]",
        "6 4\n4 4",
        "6 4\r\n4 4",
        "6,4;4,4",
        "6, 4; 4, 4",
        "6\t4\n4\t4",
    ],
)
def test_matrices(text):
    assert read_matrix(text, M22).value == M22


def test_matrix_values_fractions_and_decimals():
    reading = read_matrix("15/4 3.5; -1/2 0", [["15/4", "7/2"], ["-1/2", 0]])
    assert reading.value == [["15/4", "7/2"], ["-1/2", 0]]
    assert reading.decimals == {1}


def test_decimal_commas_in_a_matrix_are_read_by_the_expected_shape():
    # "3,5 1,25; 0 2": commas as separators give ragged rows; as decimal commas, the expected 2 × 2.
    assert read_matrix("3,5 1,25; 0 2", [[1, 1], [1, 1]]).value == [["7/2", "5/4"], [0, 2]]
    # "6,4;4,4" is 2 × 2 with commas separating values — the reading that fits the expected shape.
    assert read_matrix("6,4;4,4", M22).value == M22
    # The same text against a 2 × 1 answer: decimal commas.
    assert read_matrix("6,4;4,4", [[1], [1]]).value == [["32/5"], ["22/5"]]
    # Neither reading fits: commas separate values (and the answer is simply the wrong size).
    assert read_matrix("6,4 4,4", [[1, 1, 1]]).value == [[6, 4, 4, 4]]


def test_matrix_channels():
    want = [[[1, 5], [2, 6]], [[3, 7], [4, 8]]]  # rows, columns, channels (the key's order)
    for text in ["[[[1,5],[2,6]],[[3,7],[4,8]]]", "1 2; 3 4 | 5 6; 7 8", "1 2\n3 4\n\n5 6\n7 8"]:
        assert read_matrix(text, want).value == want, text
    # Nested brackets follow the key's order (rows, columns, channels) — and channels first when only that
    # reading has the expected shape (here 2 × 2 × 3 typed as 3 × 2 × 2).
    assert read_matrix("[[[1,2],[3,4]],[[5,6],[7,8]]]", want).value == [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]
    want3 = [[[1, 5, 9], [2, 6, 10]], [[3, 7, 11], [4, 8, 12]]]
    assert read_matrix("[[[1,2],[3,4]],[[5,6],[7,8]],[[9,10],[11,12]]]", want3).value == want3


def test_row_vector_typed_as_a_column():
    assert read_matrix("4; 7", [[1, 1]]).value == [[4, 7]]
    assert read_matrix("[4, 7]", [[1, 1]]).value == [[4, 7]]


@pytest.mark.parametrize("text", ["", "6 4; 4", "[[6,4],[4]]", "[[6,4],[4,4]", "6 4; x 4", "[[1,,2]]", "[[[[[[[[[[1]]]]]]]]]]", "1/0 2"])
def test_unreadable_matrices(text):
    with pytest.raises(AnswerSyntaxError):
        read_matrix(text, M22)


TABLE = {"rows": [{"output_shape": [26, 26, 8], "params": 80}, {"output_shape": [13, 13, 8], "params": 0},
                  {"output_shape": [1352], "params": 0}, {"output_shape": [10], "params": 13530}], "total": 13610}


@pytest.mark.parametrize(
    "text",
    [
        "(26, 26, 8) 80\n(13, 13, 8) 0\n(1352,) 0\n(10,) 13530\ntotal 13610",
        "(26, 26, 8) 80; (13, 13, 8) 0; (1352,) 0; (10,) 13,530; total 13,610",
        "26x26x8 80; 13x13x8 0; 1352 0; 10 13530; 13610",
        "conv2d (Conv2D) (None, 26, 26, 8) 80\nmax_pooling2d (MaxPooling2D) (None, 13, 13, 8) 0\n"
        "flatten (Flatten) (None, 1352) 0\ndense (Dense) (None, 10) 13,530\nTotal params: 13,610",
        "| conv | (26, 26, 8) | 80 |\n| pool | (13, 13, 8) | 0 |\n| flat | (1352,) | 0 |\n| dense | (10,) | 13530 |\n| total | 13610 |",
        "26 26 8 80\n13 13 8 0\n1352 0\n10 13530\n13 610",
    ],
)
def test_tables(text):
    reading = read_table(text)
    assert reading.value == TABLE


def test_a_pasted_keras_summary():
    summary = (Path(__file__).parent / "data" / "keras_summary.txt").read_text(encoding="utf-8")
    assert read_table(summary).value == TABLE


def test_table_without_total():
    assert read_table("(26, 26, 8) 80").value == {"rows": [{"output_shape": [26, 26, 8], "params": 80}], "total": None}


@pytest.mark.parametrize("text", ["", "total 5", "80\n(26, 26, 8) 80", "(26, 26, 8)", "(26, 26, 8) eighty", "total 5\n(1,) 2", "layer shape params"])
def test_unreadable_tables(text):
    with pytest.raises(AnswerSyntaxError):
        read_table(text)


# --- fuzzing: the parser raises its own error and nothing else ---------------------------------------------

EXPECTED = {
    AnswerKind.NUMBER: [43706, "27/8"],
    AnswerKind.SHAPE: [[13, 13, 8]],
    AnswerKind.MATRIX: [M22, [[[1, 5], [2, 6]], [[3, 7], [4, 8]]], [[1, 2]]],
    AnswerKind.TABLE: [TABLE],
}
ALPHABET = st.sampled_from(list("0123456789 ,.;:'/-+x×()[]{}|\n\t\r eE_Nonetotal") + ["\u202f", "\u2212", "\u00a0", "½", "١", "\x00", "𝟙"])
CELLS = st.one_of(st.text(), st.text(ALPHABET, max_size=80), st.lists(st.integers(-10**70, 10**70), max_size=6).map(lambda v: " ".join(map(str, v))))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=CELLS, kind=st.sampled_from(list(AnswerKind)), which=st.integers(0, 2))
def test_parser_never_raises_anything_but_its_own_error(text, kind, which):
    expected = EXPECTED[kind][which % len(EXPECTED[kind])]
    try:
        parse_answer(text, kind, expected)
    except AnswerSyntaxError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.fractions(min_value=-50, max_value=50, max_denominator=12), min_size=3, max_size=3), min_size=1, max_size=4))
def test_any_exact_matrix_typed_three_ways_reads_back(rows):
    def show(v):
        return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"

    want = [[v.numerator if v.denominator == 1 else f"{v.numerator}/{v.denominator}" for v in row] for row in rows]
    for text in (
        "; ".join(" ".join(show(v) for v in row) for row in rows),
        "[" + ", ".join("[" + ", ".join(show(v) for v in row) + "]" for row in rows) + "]",
        "\n".join(" ".join(show(v) for v in row) for row in rows),
    ):
        assert read_matrix(text, want).value == want


@settings(max_examples=300, deadline=None)
@given(st.integers(-10**12, 10**12))
def test_any_integer_with_thousands_separators_reads_back(n):
    for sep in (",", " ", "\u202f", "'"):
        text = f"{n:,}".replace(",", sep)
        assert read_number(text, True) == (n, False)


# --- the shortcuts for common spellings read exactly as the general rules do ------------------------------------

from quizgen.grade import parse as parse_module  # noqa: E402


def _outcome(fn, *args):
    try:
        return ("value", fn(*args))
    except AnswerSyntaxError as exc:
        return ("error", str(exc))


SHAPE_TEXT = st.text(alphabet="0123456789 ,xX*()[];None\t", max_size=24) | st.lists(
    st.integers(0, 10**10), min_size=1, max_size=9
).map(lambda dims: st_join(dims))


def st_join(dims):
    return "(" + ", ".join(map(str, dims)) + ("," if len(dims) == 1 else "") + ")"


@settings(max_examples=400, deadline=None)
@given(text=SHAPE_TEXT)
def test_the_shape_shortcut_agrees_with_the_rules(text):
    assert _outcome(read_shape, text) == _outcome(parse_module._shape_by_rules, text)


@settings(max_examples=400, deadline=None)
@given(text=st.text(alphabet="0123456789.,-+ '/e", max_size=16), hint=st.booleans())
def test_the_number_shortcuts_agree_with_the_rules(text, hint):
    assert _outcome(read_number, text, hint) == _outcome(parse_module._number_by_rules, text, hint)


@settings(max_examples=400, deadline=None)
@given(text=st.text(alphabet="0123456789 ,()[]None", max_size=30) | st.tuples(
    st.lists(st.integers(0, 10**10), min_size=1, max_size=9), st.integers(0, 10**12)
).map(lambda t: f"{st_join(t[0])} {t[1]}"))
def test_the_table_row_shortcut_agrees_with_the_rules(text):
    assert _outcome(parse_module._row, text) == _outcome(parse_module._row_by_rules, text)


MATRIX_TEXT = st.text(alphabet="0123456789-/., []\n", max_size=40) | st.lists(
    st.lists(st.sampled_from(["1", "-2", "7/2", "0.5", "x", "", "1e2"]), min_size=1, max_size=3), min_size=1, max_size=3
).map(lambda rows: "[" + ", ".join("[" + ", ".join(r) + "]" for r in rows) + "]")


@settings(max_examples=400, deadline=None)
@given(text=MATRIX_TEXT | MATRIX_TEXT.map(lambda t: "[" + t + ", " + t + "]"))
def test_the_bracketed_matrix_shortcut_agrees_with_the_tokenizer(text):
    grid = parse_module._grid(text)
    if grid is not None:
        tree = parse_module._bracketed(text)
        assert grid == (tree, parse_module._shape_of(tree))


@pytest.mark.parametrize(
    "text",
    ["[[6, 4], [4, 4]]", "[[6 4]\n [4 4]]", "[[1,2,3]]", "[[7/2, -1], [0.5, 1e2]]", "[[6, 4] [4, 4]]",
     "[[[1, 5], [2, 6]], [[3, 7], [4, 8]]]", "[[[1 5] [2 6]] [[3 7] [4 8]]]"],
)
def test_the_bracketed_matrix_shortcut_reads_the_usual_spellings(text):
    grid = parse_module._grid(text)
    tree = parse_module._bracketed(text)
    assert grid is not None and grid == (tree, parse_module._shape_of(tree))
