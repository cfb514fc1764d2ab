"""Scoring: exact answers, the decimal tolerance, partial credit, and the diagnosis of common mistakes —
explicit pooling cases, and every registered generator."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from test_grade_helpers import typed_forms

from quizgen.grade.key import KeyBuilder, question_record, read_key_data
from quizgen.grade.score import DEFAULT_TOLERANCE, Grader, Status, grade_question
from quizgen.problem import Difficulty, answer_to_json
from quizgen.quiz import QuizItem, QuizSpec, Section
from quizgen.registry import generate, generators, problem_rng


def question(kind, answer, points=2, mistakes=()):
    return {"number": 1, "points": points, "problem_id": "p-1", "answer_kind": kind, "answer": answer,
            "mistakes": [{"name": n, "answer": a, "feedback": f"feedback for {n}"} for n, a in mistakes], "solution": []}


def key_question(problem, points=2):
    """The problem as a key stores it (written by KeyBuilder, read back), as a question record."""
    builder = KeyBuilder()
    builder.add("s1", "", "s1.md", [QuizItem(1, 0, points, problem)])
    spec = QuizSpec("t", 0, (Section(problem.topic, 1, points=points),))
    doc = json.loads("".join(builder.chunks(spec, "markdown")))
    return question_record(read_key_data(doc).students["s1"].questions[1])


# --- numbers -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, score, status",
    [
        ("27/8", 2, Status.CORRECT),
        ("3.375", 2, Status.CORRECT),
        ("3.38", 2, Status.CORRECT),  # |3.38 − 3.375| = 0.005: the value to 2 decimals
        ("3.37", 2, Status.CORRECT),
        ("3,38", 2, Status.CORRECT),
        ("3.4", 0, Status.WRONG),  # 0.025 away
        ("3.381", 0, Status.WRONG),  # 0.006 away
        ("3 3/8", 2, Status.CORRECT),
        ("54/16", 2, Status.CORRECT),  # the same exact value
        ("", 0, Status.BLANK),
        ("   ", 0, Status.BLANK),
        ("three", 0, Status.UNREADABLE),
    ],
)
def test_fraction_answers_exact_or_a_decimal_within_the_tolerance(typed, score, status):
    mark = grade_question(question("number", "27/8"), typed)
    assert (mark.score, mark.status) == (score, status)
    if status is Status.UNREADABLE:
        assert "could not read answer" in mark.detail
    if status is Status.BLANK:
        assert mark.detail == "no answer"


def test_integer_answers_compare_exactly():
    q = question("number", 43706)
    for typed in ("43706", "43,706", "43 706", "43\u202f706", "43'706", "43706.0", "4.3706e4"):
        assert grade_question(q, typed).status is Status.CORRECT, typed
    for typed in ("43706.004", "43705", "43,7"):
        assert grade_question(q, typed).status is Status.WRONG, typed


def test_the_tolerance_is_a_setting():
    q = question("number", "27/8")
    assert grade_question(q, "3.4", Fraction(1, 20)).status is Status.CORRECT
    assert grade_question(q, "3.38", Fraction(0)).status is Status.WRONG
    assert DEFAULT_TOLERANCE == Fraction(5, 1000)


def test_a_number_equal_to_a_mistake_is_diagnosed():
    q = question("number", 80, mistakes=[("forgot-bias", 72), ("forgot-input-channels", 32)])
    mark = grade_question(q, "72")
    assert mark.status is Status.WRONG and mark.mistakes == ("forgot-bias",)
    assert mark.feedback == ("feedback for forgot-bias",)
    assert grade_question(q, "71").mistakes == ()


def test_a_decimal_matches_a_fraction_mistake_within_the_tolerance():
    q = question("number", "41/9", mistakes=[("global-sum", 41)])
    assert grade_question(q, "4.56").status is Status.CORRECT
    q = question("number", 5, mistakes=[("averaged-padded-zeros", "41/9")])
    assert grade_question(q, "4.56").mistakes == ("averaged-padded-zeros",)


# --- shapes, matrices, tables ------------------------------------------------------------------------------


def test_shapes_are_all_or_nothing():
    q = question("shape", [13, 13, 8], mistakes=[("rounded-up", [14, 14, 8])])
    assert grade_question(q, "13x13x8").score == 2
    mark = grade_question(q, "(13, 13, 9)")
    assert mark.score == 0 and mark.mistakes == ()
    assert grade_question(q, "14 × 14 × 8").mistakes == ("rounded-up",)


def test_matrices_earn_credit_per_value():
    q = question("matrix", [[6, 4], [4, 4]], points=2)
    assert grade_question(q, "6 4; 4 4").score == 2
    mark = grade_question(q, "6 4; 4 5")
    assert mark.status is Status.PARTIAL and mark.score == Fraction(3, 2) and mark.detail == "3 of 4 values right"
    mark = grade_question(q, "6 4 4")
    assert mark.score == 0 and "1 × 3 matrix" in mark.detail


def test_matrix_decimals_within_the_tolerance_per_value():
    q = question("matrix", [["8/3", "23/9"], ["8/3", "23/9"]], points=4)
    assert grade_question(q, "2.67 2.56; 2.67 2.56").score == 4
    assert grade_question(q, "2,67 2,56; 2,67 2,56").score == 4
    assert grade_question(q, "8/3 23/9; 2.67 2.5").score == 3
    assert grade_question(q, "2.6 23/9; 8/3 23/9").score == 3  # 0.067 away


def test_a_whole_matrix_equal_to_a_mistake_names_it_even_with_partial_credit():
    q = question("matrix", [[6, 4], [4, 4]], mistakes=[("ignored-stride", [[6, 5, 4], [5, 5, 4], [4, 4, 4]]), ("confused-max-min", [[6, 1], [0, 4]])])
    mark = grade_question(q, "6 1; 0 4")
    assert mark.status is Status.PARTIAL and mark.score == 1 and mark.mistakes == ("confused-max-min",)
    mark = grade_question(q, "[[6,5,4],[5,5,4],[4,4,4]]")
    assert mark.score == 0 and mark.mistakes == ("ignored-stride",)
    assert grade_question(q, "6 1; 0 3").mistakes == ()


TABLE = {"rows": [{"layer": "conv2d (Conv2D)", "output_shape": [26, 26, 8], "params": 80},
                  {"layer": "max_pooling2d (MaxPooling2D)", "output_shape": [13, 13, 8], "params": 0},
                  {"layer": "flatten (Flatten)", "output_shape": [1352], "params": 0},
                  {"layer": "dense (Dense)", "output_shape": [10], "params": 13530}], "total": 13610}
NO_BIAS = {"rows": [{**TABLE["rows"][0], "params": 72}, TABLE["rows"][1], TABLE["rows"][2], {**TABLE["rows"][3], "params": 13520}], "total": 13592}
POOL_PARAMS = {"rows": [TABLE["rows"][0], {**TABLE["rows"][1], "params": 16}, TABLE["rows"][2], TABLE["rows"][3]], "total": 13626}


def test_tables_earn_credit_per_row_with_the_total_as_a_row():
    q = question("table", TABLE, points=5, mistakes=[("forgot-bias", NO_BIAS), ("pooling-has-params", POOL_PARAMS)])
    assert grade_question(q, "(26,26,8) 80; (13,13,8) 0; (1352,) 0; (10,) 13530; total 13610").score == 5
    mark = grade_question(q, "(26,26,8) 80; (13,13,8) 0; (1352,) 0; (10,) 13530")
    assert mark.score == 4 and "no total" in mark.detail
    mark = grade_question(q, "(26,26,8) 72; (13,13,8) 0; (1352,) 0; (10,) 13520; 13592")
    assert mark.score == 2 and mark.mistakes == ("forgot-bias",)  # the whole table: forgot-bias
    mark = grade_question(q, "(26,26,8) 80; (13,13,8) 16; (1352,) 0; (10,) 13520; 13610")
    assert mark.score == 3 and mark.mistakes == ("pooling-has-params", "forgot-bias")  # row by row
    mark = grade_question(q, "(26,26,8) 80; (13,13,8) 0; (1352,) 0; total 13610")
    assert mark.score == 4 and "3 layer rows given, 4 expected" in mark.detail
    extra = "(26,26,8) 80; (13,13,8) 0; (1352,) 0; (10,) 13530; (1,) 1; total 13610"
    assert grade_question(q, extra).score == 4  # an extra row never earns full credit


def test_the_grader_remembers_judgements_but_marks_carry_each_questions_points():
    grader = Grader()
    a = grader.mark({**question("matrix", [[6, 4], [4, 4]], points=2), "number": 3}, "6 4; 4 5")
    b = grader.mark({**question("matrix", [[6, 4], [4, 4]], points=4), "number": 5}, "6 4; 4 5")
    assert (a.number, a.score) == (3, Fraction(3, 2)) and (b.number, b.score) == (5, 3)


# --- pooling examples from the notes -----------------------------------------------------------------------


def test_pooling_right_answers_and_mistakes():
    x = [[1, 3, 2, 4], [5, 6, 1, 2], [2, 4, 0, 1], [1, 2, 3, 4]]
    p = generate("pooling", problem_rng(0, "pooling", 0), Difficulty.EASY, {"mode": "max", "inputs": x, "pool_size": 2})
    q = key_question(p)
    assert q["answer"] == [[6, 4], [4, 4]]
    for typed in ("6 4; 4 4", "[[6,4],[4,4]]", "6,4;4,4", "6 4\n4 4"):
        assert grade_question(q, typed).status is Status.CORRECT
    names = {m["name"]: m["answer"] for m in q["mistakes"]}
    assert grade_question(q, "1 1; 1 0").mistakes == ("confused-max-min",)
    assert names["ignored-stride"] == [[6, 6, 4], [6, 6, 2], [4, 4, 4]]
    assert grade_question(q, "6 6 4; 6 6 2; 4 4 4").mistakes == ("ignored-stride",)


def test_average_pooling_fractions_typed_as_decimals():
    x = [[1, 3, 2, 4], [5, 6, 1, 2], [2, 4, 0, 1], [1, 2, 3, 4]]
    p = generate("pooling", problem_rng(0, "pooling", 0), Difficulty.MEDIUM,
                 {"mode": "average", "inputs": x, "pool_size": 3, "strides": 1})
    q = key_question(p, points=1)
    assert q["answer"] == [["8/3", "23/9"], ["8/3", "23/9"]]
    assert grade_question(q, "2.67 2.56; 2.67 2.56").score == 1
    assert grade_question(q, "8/3 23/9; 8/3 23/9").score == 1


# --- every registered generator ----------------------------------------------------------------------------

TOPICS = list(generators())


@pytest.mark.parametrize("difficulty", list(Difficulty), ids=lambda d: d.value)
@pytest.mark.parametrize("topic", TOPICS)
def test_every_generator_right_answers_score_full_and_mistakes_are_named(topic, difficulty):
    named = 0
    for seed in range(12):
        p = generate(topic, problem_rng(seed, topic, 3), difficulty)
        q = key_question(p, points=3)
        for typed in typed_forms(q["answer_kind"], q["answer"]):
            mark = grade_question(q, typed)
            assert mark.status is Status.CORRECT and mark.score == 3, (typed, mark.detail)
        for m in q["mistakes"]:
            if type(m["answer"]) is not type(q["answer"]):
                continue
            typed = typed_forms(q["answer_kind"], m["answer"])[0]
            mark = grade_question(q, typed)
            assert mark.status is not Status.CORRECT, (m["name"], typed)
            assert mark.mistakes[:1] == (m["name"],), (m["name"], typed, mark.mistakes)
            named += 1
    assert named > 0


def test_a_table_mistake_is_stored_as_the_rows_it_changes():
    """The key keeps a table mistake small — each changed row's shape and parameters, null for a row equal to
    the answer's — and reading it back gives the whole wrong table again."""
    p = generate("architecture", problem_rng(1, "architecture", 0), Difficulty.MEDIUM, {"ask": "table"})
    builder = KeyBuilder()
    builder.add("s1", "", "s1.md", [QuizItem(1, 0, 1, p)])
    entry = builder.problems[p.id]
    assert entry["mistakes"]
    for (name, stored, _), m in zip(entry["mistakes"], p.mistakes):
        whole = answer_to_json(m.answer)
        assert name == m.name and stored["total"] == whole["total"]
        for row, wrong, right in zip(stored["rows"], whole["rows"], entry["answer"]["rows"], strict=True):
            assert row == (None if wrong == right else [wrong["output_shape"], wrong["params"]])
        assert None in stored["rows"]
    read_back = key_question(p)
    assert [m["answer"] for m in read_back["mistakes"]] == [answer_to_json(m.answer) for m in p.mistakes]


def test_one_grader_reads_the_same_text_per_answer_context():
    """The grader reads a text once per kind of answer and context; the context (a matrix's shape, whether a
    number is an integer) still decides ambiguous commas for each question."""
    grader = Grader()
    assert grader.mark(question("matrix", [[6, 4], [4, 4]]), "6,4;4,4").status is Status.CORRECT
    assert grader.mark(question("matrix", [["32/5"], ["22/5"]]), "6,4;4,4").status is Status.CORRECT
    assert grader.mark(question("number", 43706), "43,706").status is Status.CORRECT
    assert grader.mark(question("number", "21853/500"), "43,706").status is Status.CORRECT
    assert grader.mark(question("number", 43706), "43,706").status is Status.CORRECT


def test_students_who_type_the_same_answer_share_one_mark():
    key = read_key_data(json.loads("".join(_builder_chunks())))
    grader = Grader()
    q = key.students["s1"].questions[1]
    a, total_a = grader.grade({1: q}, {1: "6 4; 4 5"})
    b, total_b = grader.grade({1: q}, {1: "6 4; 4 5"})
    assert a[0] is b[0] and total_a == total_b == Fraction(3, 2)
    assert grader.grade({1: q}, {})[0][0].status is Status.BLANK


def _builder_chunks():
    p = generate("pooling", problem_rng(0, "pooling", 0), Difficulty.EASY,
                 {"mode": "max", "inputs": [[1, 3, 2, 4], [5, 6, 1, 2], [2, 4, 0, 1], [1, 2, 3, 4]], "pool_size": 2})
    builder = KeyBuilder()
    builder.add("s1", "", "s1.md", [QuizItem(1, 0, 2, p)])
    return builder.chunks(QuizSpec("t", 0, (Section("pooling", 1, points=2),)), "markdown")
