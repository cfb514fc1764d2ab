"""Moodle XML: well-formed whatever the text holds; every question carries the right answers, fractions,
tolerances and feedback; every Cloze field follows Moodle's embedded-answers grammar."""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from fractions import Fraction

import pytest
from lxml import etree
from lxml import html as lxml_html

from quizgen import text
from quizgen.problem import AnswerKind, Matrix, Shape, Table
from quizgen.quiz import QuizSpec, Section, iter_items
from quizgen.registry import generators
from quizgen.render import render
from quizgen.render.moodle import CATEGORY_ROOT, MIN_DISTRACTORS, OTHER_FEEDBACK, ROUNDED_TOLERANCE

TOPICS = list(generators())


def moodle(spec, items, **options) -> etree._Element:
    xml = "".join(render(spec, items, "moodle", **options)).encode("utf-8")
    return etree.fromstring(xml)


def questions(root) -> list[etree._Element]:
    return [q for q in root.findall("question") if q.get("type") != "category"]


def question_html(q) -> str:
    return q.findtext("questiontext/text")


# --- a parser of Moodle's Cloze (embedded answers) syntax ----------------------------------------------------

CLOZE_TYPES = (
    "NUMERICAL|NM|SHORTANSWER|SA|MW|SHORTANSWER_C|SAC|MWC|MULTICHOICE|MC|MULTICHOICE_V|MCV|MULTICHOICE_H|MCH|"
    "MULTICHOICE_S|MCS|MULTICHOICE_VS|MCVS|MULTICHOICE_HS|MCHS|MULTIRESPONSE|MR|MULTIRESPONSE_H|MRH|"
    "MULTIRESPONSE_S|MRS|MULTIRESPONSE_HS|MRHS"
)
FIELD_START = re.compile(r"\{(\d*):(" + CLOZE_TYPES + r"):")
NUMBER = r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"  # Moodle's number, written with a decimal point
NUMERICAL = re.compile(rf"({NUMBER})(?::({NUMBER}))?")


@dataclass
class Alternative:
    fraction: Fraction  # 1 for "=", n/100 for "%n%"
    answer: str  # "3.75:0.005" or "*"
    feedback: str  # unescaped, as Moodle shows it

    @property
    def value(self) -> Fraction:
        return Fraction(NUMERICAL.fullmatch(self.answer).group(1))

    @property
    def tolerance(self) -> Fraction:
        tol = NUMERICAL.fullmatch(self.answer).group(2)
        return Fraction(tol) if tol else Fraction(0)


@dataclass
class Field:
    weight: int
    type: str
    alternatives: list[Alternative]


def _split_unescaped(body: str, sep: str) -> list[str]:
    parts, current, i = [], "", 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            current += body[i : i + 2]
            i += 2
            continue
        if ch == sep:
            parts.append(current)
            current = ""
        else:
            current += ch
        i += 1
    return parts + [current]


def _unescape(s: str) -> str:
    """What Moodle shows for an answer or feedback of a Cloze field: it decodes HTML entities once, turns
    \\} and \\# back into } and # (nothing else: any other backslash would stay visible) and stores the result
    as HTML."""
    assert "~" not in s and "}" not in s.replace("\\}", ""), f"an unescaped ~ or }} in {s!r}"
    stored = html.unescape(s).replace("\\}", "}").replace("\\#", "#")
    assert "\\" not in stored, f"a backslash Moodle would show: {s!r}"
    return html.unescape(stored)


def parse_cloze(question_text: str) -> list[Field]:
    """Every {weight:TYPE:alternatives} field of a question text, in order, checked against the grammar."""
    fields, pos = [], 0
    while (m := FIELD_START.search(question_text, pos)) is not None:
        i = m.end()
        while question_text[i] != "}" or question_text[i - 1] == "\\":  # the field ends at an unescaped }
            i += 2 if question_text[i] == "\\" else 1
        body = question_text[m.end() : i]
        pos = i + 1
        alternatives = []
        for raw in _split_unescaped(body, "~"):
            prefix = re.match(r"=|%(-?\d+(?:\.\d*)?)%", raw)
            assert prefix, f"an alternative without '=' or '%n%': {raw!r}"
            fraction = Fraction(1) if prefix.group(0) == "=" else Fraction(prefix.group(1)) / 100
            answer, *feedback = _split_unescaped(raw[prefix.end() :], "#")
            assert len(feedback) <= 1, f"an unescaped # in feedback: {raw!r}"
            alternatives.append(Alternative(fraction, _unescape(answer), _unescape(feedback[0]) if feedback else ""))
        assert m.group(1).isdigit(), "a field needs a weight"
        fields.append(Field(int(m.group(1)), m.group(2), alternatives))
    return fields


def rounded_2(value: Fraction) -> Fraction:
    return Fraction(math.floor(value * 100 + Fraction(1, 2)), 100)


def check_numerical_field(field: Field, exact, wrong: list[tuple[object, str]]) -> None:
    """One NUMERICAL field against the exact answer and the (value, feedback) mistakes at that place."""
    assert field.type in ("NUMERICAL", "NM") and field.weight >= 1
    alts = field.alternatives
    right = [a for a in alts if a.fraction == 1]
    assert len(right) >= 1 and alts[0] is right[0]
    r = right[0]
    assert abs(r.value - Fraction(exact)) <= r.tolerance
    assert abs(r.value - rounded_2(Fraction(exact))) <= r.tolerance  # a student may round to 2 decimals
    assert r.tolerance == (0 if Fraction(exact).denominator == 1 else ROUNDED_TOLERANCE)
    assert alts[-1].answer == "*" and alts[-1].fraction == 0 and alts[-1].feedback == OTHER_FEEDBACK
    seen = []
    for alt in alts[1:-1]:
        assert alt.fraction == 0
        assert abs(alt.value - Fraction(exact)) > r.tolerance, "a wrong value inside the right tolerance"
        assert alt.value not in seen
        seen.append(alt.value)
        first = next(fb for v, fb in wrong if abs(Fraction(v) - alt.value) <= max(alt.tolerance, Fraction(1, 10**6)))
        assert alt.feedback == first
    expected = {rounded_2(Fraction(v)) for v, _ in wrong if abs(Fraction(v) - Fraction(exact)) > r.tolerance}
    assert {rounded_2(v) for v in seen} == expected


def expected_cells(problem) -> list[tuple[object, list[tuple[object, str]]]]:
    """(exact value, [(mistake value, feedback)]) per Cloze field, in the order the question lays them out."""
    answer = problem.answer
    if isinstance(answer, Shape):
        wrong = [m for m in problem.mistakes if isinstance(m.answer, Shape) and len(m.answer.dims) == len(answer.dims)]
        return [(d, [(m.answer.dims[i], m.feedback) for m in wrong]) for i, d in enumerate(answer.dims)]
    if isinstance(answer, Matrix):
        wrong = [m for m in problem.mistakes if isinstance(m.answer, Matrix) and m.answer.shape == answer.shape]
        cells = []
        for c, grid in enumerate(answer.channels()):
            for i, row in enumerate(grid):
                for j, v in enumerate(row):
                    cells.append((v, [(m.answer.channels()[c][i][j], m.feedback) for m in wrong]))
        return cells
    assert isinstance(answer, Table)
    wrong = [
        m for m in problem.mistakes
        if isinstance(m.answer, Table) and len(m.answer.rows) == len(answer.rows)
        and all(len(a.output_shape.dims) == len(b.output_shape.dims) for a, b in zip(m.answer.rows, answer.rows))
    ]
    cells = []
    for i, row in enumerate(answer.rows):
        for k, d in enumerate(row.output_shape.dims):
            cells.append((d, [(m.answer.rows[i].output_shape.dims[k], m.feedback) for m in wrong]))
        cells.append((row.params, [(m.answer.rows[i].params, m.feedback) for m in wrong]))
    cells.append((answer.total, [(m.answer.total, m.feedback) for m in wrong]))
    return cells


def check_question(q, item, moodle_type="numerical") -> None:
    p = item.problem
    name = q.findtext("name/text")
    assert p.id in name and re.match(rf"Q0*{item.number} ", name)  # zero-padded: the bank sorts by name
    assert q.find("questiontext").get("format") == "html"
    assert q.findtext("hidden") == "0"
    if p.kind is AnswerKind.NUMBER and moodle_type == "numerical":
        assert q.get("type") == "numerical"
        check_numerical_question(q, p)
    elif p.kind is AnswerKind.NUMBER:
        assert q.get("type") == "multichoice"
        check_multichoice_question(q, p)
    else:
        assert q.get("type") == "cloze"
        fields = parse_cloze(question_html(q))
        cells = expected_cells(p)
        assert len(fields) == len(cells) == int(q.findtext("defaultgrade"))
        for field, (exact, wrong) in zip(fields, cells):
            check_numerical_field(field, exact, wrong)


def check_numerical_question(q, p) -> None:
    answers = q.findall("answer")
    alts = [
        Alternative(Fraction(a.get("fraction")) / 100, a.findtext("text") + (":" + a.findtext("tolerance") if a.findtext("text") != "*" else ""),
                    html.unescape(a.findtext("feedback/text")))
        for a in answers
    ]
    wrong = [(m.answer, m.feedback) for m in p.mistakes]
    check_numerical_field(Field(1, "NUMERICAL", alts), p.answer, wrong)
    assert [a.get("format") for a in answers] == ["moodle_auto_format"] * len(answers)
    for tag, value in (("unitgradingtype", "0"), ("showunits", "3"), ("unitsleft", "0")):
        assert q.findtext(tag) == value
    assert q.find("unitpenalty") is not None


def check_multichoice_question(q, p) -> None:
    assert q.findtext("single") == "true" and q.findtext("shuffleanswers") == "1"
    assert q.findtext("answernumbering") == "abc"
    answers = [(Fraction(a.get("fraction")), html.unescape(a.findtext("text")), html.unescape(a.findtext("feedback/text")))
               for a in q.findall("answer")]
    labels = [label for _, label, _ in answers]
    assert len(labels) == len(set(labels)) and len(labels) >= 1 + MIN_DISTRACTORS
    assert [label for f, label, _ in answers if f == 100] == [text.num(p.answer)]
    feedback = {text.num(m.answer): m.feedback for m in reversed(p.mistakes)}
    for f, label, fb in answers:
        if f == 0 and label in feedback:
            assert fb == feedback[label]


# --- every topic -----------------------------------------------------------------------------------------


def topic_quiz(topic: str, seed: int = 2025):
    spec = QuizSpec(f"{topic} check", seed, tuple(Section(topic, 4, d) for d in ("easy", "medium", "hard")))
    return spec, list(iter_items(spec))


@pytest.mark.parametrize("topic", TOPICS)
@pytest.mark.parametrize("moodle_type", ["numerical", "multichoice"])
def test_every_question_of_every_topic(topic, moodle_type):
    spec, items = topic_quiz(topic)
    root = moodle(spec, items, moodle_type=moodle_type)
    assert root.tag == "quiz"
    first = root.find("question")
    assert first.get("type") == "category" and first.findtext("category/text") == f"{CATEGORY_ROOT}/{topic}"
    qs = questions(root)
    assert len(qs) == len(items)
    for q, item in zip(qs, items):
        check_question(q, item, moodle_type)


def test_one_category_per_topic_run():
    spec = QuizSpec("two topics", 3, (Section("pooling", 2), Section(TOPICS[-1], 2), Section("pooling", 1)))
    root = moodle(spec, iter_items(spec))
    kinds = [q.get("type") if q.get("type") == "category" else "q" for q in root.findall("question")]
    assert kinds == ["category", "q", "q", "category", "q", "q", "category", "q"]
    assert [c.findtext("category/text") for c in root.findall("question[@type='category']")] == [
        f"$course$/quizgen/{t}" for t in ("pooling", TOPICS[-1], "pooling")
    ]


# --- hand-made problems: every kind, text that needs escaping ----------------------------------------------


@pytest.mark.parametrize("moodle_type", ["numerical", "multichoice"])
def test_special_problems_are_well_formed_and_carry_their_answers(quiz_of, special_problems, nasty, moodle_type):
    spec, items = quiz_of(special_problems)
    root = moodle(spec, items, moodle_type=moodle_type)  # parses: well-formed
    qs = questions(root)
    assert len(qs) == len(items)
    for q, item in zip(qs, items):
        check_question(q, item, moodle_type)
        assert q.findtext("name/text").endswith(item.problem.title)
        shown = lxml_html.fromstring(question_html(q)).text_content()
        assert item.problem.prompt in shown  # <, &, ]]> and the rest survive both HTML and XML escaping
        solution = lxml_html.fromstring(q.findtext("generalfeedback/text")).text_content()
        assert f"Step one: {nasty}" in solution


def test_text_never_passes_for_a_cloze_field(quiz_of, special_problems, nasty):
    """A prompt holding "{1:NUMERICAL:=1}" must not become a field: Moodle scans the whole question text."""
    assert "{1:NUMERICAL:" in nasty
    spec, items = quiz_of([p for p in special_problems if p.kind is not AnswerKind.NUMBER])
    for q, item in zip(questions(moodle(spec, items)), items):
        assert len(parse_cloze(question_html(q))) == len(expected_cells(item.problem))


def test_a_wrong_value_inside_the_right_tolerance_gets_no_answer(quiz_of, special_problems):
    fraction = next(p for p in special_problems if p.answer == Fraction(7, 3))
    assert Fraction(467, 200) in [m.answer for m in fraction.mistakes]  # 2.335: rounds like 7/3 would
    spec, items = quiz_of([fraction])
    texts = [a.findtext("text") for a in questions(moodle(spec, items))[0].findall("answer")]
    assert texts == ["2.333333", "7", "2.5", "-3", "*"]


def test_a_tie_is_accepted_both_ways(quiz_of, special_problems):
    tie = next(p for p in special_problems if p.answer == Fraction(3, 8))
    spec, items = quiz_of([tie])
    right = questions(moodle(spec, items))[0].find("answer")
    value, tol = Fraction(right.findtext("text")), Fraction(right.findtext("tolerance"))
    assert abs(Fraction(37, 100) - value) <= tol and abs(Fraction(38, 100) - value) <= tol


def test_multichoice_pads_with_near_misses(quiz_of, special_problems):
    negative = next(p for p in special_problems if p.answer == Fraction(-15, 4))
    spec, items = quiz_of([negative])
    answers = questions(moodle(spec, items, moodle_type="multichoice"))[0].findall("answer")
    labels = [a.findtext("text") for a in answers]
    assert labels[0] == "−15/4" and labels[1] == "15/4"  # the right one, then the mistake
    assert len(labels) == 1 + MIN_DISTRACTORS and len(set(labels)) == len(labels)
    assert all(label.startswith("−") for label in labels if label != "15/4")  # near misses keep the sign


def test_declared_utf8():
    spec, items = topic_quiz("pooling")
    xml = "".join(render(spec, items[:1], "moodle"))
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')


@pytest.mark.parametrize(
    "feedback",
    ["a & b < c > d", "braces } and # hashes", "tilde ~ and backslash \\ and slash / and \"quotes\"", "ends with \\", "&#126; literally"],
)
def test_cloze_feedback_survives_moodles_reading(feedback):
    from quizgen.render.moodle import cloze_field

    text = str(cloze_field(3, [(4, feedback)]))
    (field,) = parse_cloze(text)
    assert [a.feedback for a in field.alternatives if a.answer.startswith("4")] == [feedback]


def test_a_cloze_field_is_built_for_its_own_feedback():
    """Fields are built once per right value and (wrong value, feedback) pairs: other feedback, other field."""
    from quizgen.render.moodle import cloze_field

    one, two = str(cloze_field(3, [(4, "one")])), str(cloze_field(3, [(4, "two")]))
    assert "4:0#one~" in one and "4:0#two~" in two
    assert str(cloze_field(3, [(Fraction(4), "one")])) == one  # 4 and 4/1 are the same value
