"""Grading whole answer files: synthetic classes with right, mistaken, malformed and Excel-flavoured answers,
rejected rows, structural errors, the every-row-ends-somewhere invariant, outputs and the command line."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_grade_helpers import make_class, questions_of, read_csv, typed_forms, write_csv

from quizgen.errors import UserError, did_you_mean
from quizgen.grade import grade_files
from quizgen.grade import report as report_module
from quizgen.grade.sheet import Suggestions

ROOT = Path(__file__).resolve().parents[1]
FORMAT_1 = ROOT / "tests" / "data" / "format-1"  # a key as quizgen wrote them before format 2, answers and results


@pytest.fixture(scope="module")
def exams(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("exams")
    make_class(folder)
    return folder


@pytest.fixture
def key(exams) -> dict:
    return json.loads((exams / "key.json").read_text(encoding="utf-8"))


def student(key, sid):
    return next(s for s in key["students"] if s["id"] == sid)


def right(key, sid, form=0):
    return [typed_forms(q["answer_kind"], q["answer"])[form % len(typed_forms(q["answer_kind"], q["answer"]))] for q in questions_of(key, student(key, sid))]


def mistaken(key, sid):
    """Each question answered with its first catalogued mistake (the right answer if it has none)."""
    out, names = [], []
    for q in questions_of(key, student(key, sid)):
        m = q["mistakes"][0] if q["mistakes"] else None
        out.append(typed_forms(q["answer_kind"], m["answer"] if m else q["answer"])[0])
        names.append(m["name"] if m else None)
    return out, names


HEADER = ["id", "name", "q1", "q2", "q3", "q4"]


def grade(tmp_path, exams, header, rows, **csv_options):
    answers = write_csv(tmp_path / "answers.csv", header, rows, **csv_options)
    return grade_files(answers, exams / "key.json", tmp_path / "results")


# --- a class, end to end -------------------------------------------------------------------------------------


def test_a_class_with_right_mistaken_malformed_and_partial_answers(tmp_path, exams, key):
    wrong, names = mistaken(key, "s002")
    partial = right(key, "s004")
    q1 = questions_of(key, student(key, "s004"))[0]
    cells = [row[:] for row in q1["answer"]]
    cells[0][0] = 99
    partial[0] = "; ".join(" ".join(map(str, r)) for r in cells)
    rows = [
        ["s001", "Ada", *right(key, "s001")],
        ["s002", "Alan", *wrong],
        ["s003", "Grace", "see my paper", "", "[[1,2],[3]", "4..5"],
        ["s004", "Mallory", *partial],
    ]
    report = grade(tmp_path, exams, HEADER, rows)
    out = tmp_path / "results"
    assert len(report.results) == 4 and not report.rejected
    grades = {r["id"]: r for r in read_csv(out / "grades.csv")}
    assert list(next(iter(grades.values()))) == ["id", "name", "q1", "q2", "q3", "q4", "total", "percent"]
    assert grades["s001"]["total"] == "6" and grades["s001"]["percent"] == "100"
    assert grades["s003"]["total"] == "0" and grades["s003"]["name"] == "Grace Hopper"  # names from the key
    cells_q1 = len([v for row in q1["answer"] for v in row])
    assert Fraction(grades["s004"]["q1"]) == round(Fraction(2 * (cells_q1 - 1), cells_q1), 2)
    # Mistakes are diagnosed by name, with their feedback, in the student's feedback page.
    page = (out / "feedback" / "s002.md").read_text(encoding="utf-8")
    for name in filter(None, names):
        assert f"*{name}*" in page
    assert "Worked solution:" in page and "Right answer:" in page and "Your answer:" in page
    page = (out / "feedback" / "s003.md").read_text(encoding="utf-8")
    assert "could not read answer" in page and "see my paper" in page and "no answer" in page
    assert (out / "feedback" / "s001.md").read_text(encoding="utf-8").count("right") >= 4
    moodle = read_csv(out / "moodle_grades.csv")
    assert list(moodle[0]) == ["ID number", "Grading fixture"] and moodle[0]["Grading fixture"] == "6"
    assert read_csv(out / "rejected.csv") == []
    summary = "\n".join(report.summary())
    assert "graded 4 student(s)" in summary and "rejected 0 row(s)" in summary and "class mean" in summary
    assert "q1: mean" in summary and "mistakes:" in summary


def test_excel_habits(tmp_path, exams, key):
    """BOM, ';' delimiter, CRLF, decimal commas, blank cells, extra columns, formula-looking names,
    trailing blank rows."""
    header = ["Student ID", "Name", "Section", "Q1", "Q2", "Q3", "Q4", "Comment"]
    decimal_commas = []  # decimal commas wherever the answer has a fraction
    for q in questions_of(key, student(key, "s002")):
        forms = typed_forms(q["answer_kind"], q["answer"])
        decimal_commas.append(forms[2] if q["answer_kind"] == "number" else forms[-1])
    assert any("," in cell and "/" not in cell for cell in decimal_commas)
    rows = [
        ["s001", "=HYPERLINK(\"http://x\")", "A", *right(key, "s001", form=1), "+1 great"],
        ["s002", "@SUM(A1)", "B", *decimal_commas, "-"],
        ["s003", "Grace", "B", "", "", "", "", ""],
        ["", "", "", "", "", "", "", ""],
        [],
        [";", "", "", "", "", "", "", ""][1:],
    ]
    report = grade(tmp_path, exams, header, rows, delimiter=";", bom=True, newline="\r\n")
    out = tmp_path / "results"
    assert [r.id for r in report.results] == ["s001", "s002", "s003"]
    assert report.blank_rows == 3 and not report.rejected
    assert any("';'" in n for n in report.notes) and any("'Section'" in n and "'Comment'" in n for n in report.notes)
    grades = {r["id"]: r for r in read_csv(out / "grades.csv")}
    assert grades["s001"]["total"] == "6" and grades["s002"]["total"] == "6" and grades["s003"]["total"] == "0"
    # Formula-looking names never reach a spreadsheet as formulas (the key's names are used: plain here).
    text = (out / "grades.csv").read_text(encoding="utf-8-sig")
    assert "\n=" not in text and ",=" not in text


def test_windows_1252_file_is_read_with_a_note(tmp_path, exams, key):
    answers = tmp_path / "answers.csv"
    lines = ["id,name,q1,q2,q3,q4", ",".join(["s001", "Zoë"] + [f'"{a}"' for a in right(key, "s001")])]
    answers.write_bytes("\r\n".join(lines).encode("cp1252"))
    report = grade_files(answers, exams / "key.json", tmp_path / "results")
    assert report.results[0].total == 6
    assert any("not valid UTF-8" in n and "Windows-1252" in n for n in report.notes)


def test_utf16_tab_separated_unicode_text(tmp_path, exams, key):
    """What Excel's "Unicode text" export writes: UTF-16 with a byte-order mark, tab-separated."""
    answers = tmp_path / "answers.txt"
    lines = ["\t".join(HEADER), "\t".join(["s001", "Zoë", *right(key, "s001")])]
    answers.write_bytes("\r\n".join(lines).encode("utf-16"))
    report = grade_files(answers, exams / "key.json", tmp_path / "results")
    assert report.results[0].total == 6 and any("tab" in n for n in report.notes)


def test_formula_injection_is_neutralised_in_every_csv(tmp_path, exams):
    (tmp_path / "k").mkdir()
    key = json.loads((exams / "key.json").read_text(encoding="utf-8"))
    key["students"][0]["name"] = "=HYPERLINK(\"http://evil\")"
    key["students"][1]["name"] = "+cmd"
    key["title"] = "@title"
    (tmp_path / "k" / "key.json").write_text(json.dumps(key), encoding="utf-8")
    answers = write_csv(tmp_path / "answers.csv", HEADER, [["s001", "", "", "", "", ""], ["s002", "", "", "", "", ""],
                                                            ["-1+1", "=1+1", "", "", "", ""]])
    grade_files(answers, tmp_path / "k" / "key.json", tmp_path / "results")
    out = tmp_path / "results"
    grades = read_csv(out / "grades.csv")
    assert grades[0]["name"] == "'=HYPERLINK(\"http://evil\")" and grades[1]["name"] == "'+cmd"
    assert list(read_csv(out / "moodle_grades.csv")[0]) == ["ID number", "'@title"]
    rejected = read_csv(out / "rejected.csv")
    assert rejected[0]["id"] == "'-1+1" and rejected[0]["raw"].startswith("'-1+1")
    for name in ("grades.csv", "moodle_grades.csv", "rejected.csv"):
        for row in read_csv(out / name):
            assert not any(v[:1] in ("=", "+", "-", "@", "\t", "\r") for v in row.values())


# --- rows that cannot be graded -----------------------------------------------------------------------------


def test_rejected_rows_are_kept_with_the_reason(tmp_path, exams, key):
    rows = [
        ["s001", "Ada", *right(key, "s001")],
        ["s0001", "typo", "1", "", "", ""],
        ["s001", "again", "1", "2", "3", "4"],
        ["", "no id", "1", "", "", ""],
        ["s002", "Alan", "", "", "", ""],
    ]
    report = grade(tmp_path, exams, HEADER, rows)
    assert [r.id for r in report.results] == ["s001", "s002"]
    rejected = read_csv(tmp_path / "results" / "rejected.csv")
    assert [(r["row"], r["id"]) for r in rejected] == [("3", "s0001"), ("4", "s001"), ("5", "")]
    assert "not in the key (did you mean 's001'?)" in rejected[0]["reason"]
    assert rejected[1]["reason"] == "duplicate ID 's001': row 2 was graded for this student"
    assert rejected[2]["reason"] == "no ID" and rejected[1]["raw"] == "s001,again,1,2,3,4"
    assert "rejected 3 row(s)" in "\n".join(report.summary())
    assert report.results[0].total == 6  # the first occurrence counts, not the second


def test_answers_for_questions_a_student_did_not_get(tmp_path, exams, key):
    student(key, "s003")["problems"].pop()  # s003's variant has questions 1–3 only
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "key.json").write_text(json.dumps(key), encoding="utf-8")
    answers = write_csv(tmp_path / "a.csv", HEADER, [["s003", "", "1", "", "", "5"], ["s002", "", "", "", "", "5"], ["s003", "", "1", "", "", ""]])
    report = grade_files(answers, tmp_path / "k" / "key.json", tmp_path / "results")
    assert [r.row for r in report.rejected] == [2]
    assert report.rejected[0].reason == "answers for question 4, which student 's003' did not get"
    assert [r.id for r in report.results] == ["s002", "s003"] and len(report.results[1].marks) == 3


def test_ids_as_spreadsheets_retype_them(tmp_path, exams):
    key = json.loads((exams / "key.json").read_text(encoding="utf-8"))
    key["students"][0]["id"] = "007"
    key["students"][1]["id"] = "AbC"
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "key.json").write_text(json.dumps(key), encoding="utf-8")
    answers = write_csv(tmp_path / "a.csv", HEADER, [["7", "", "", "", "", ""], ["abc", "", "", "", "", ""], ["'s003", "", "", "", "", ""], [" s004 ", "", "", "", "", ""]])
    report = grade_files(answers, tmp_path / "k" / "key.json", tmp_path / "results")
    assert [r.id for r in report.results] == ["007", "AbC", "s003", "s004"] and not report.rejected


def test_long_format(tmp_path, exams, key):
    a = right(key, "s001")
    rows = [["s001", f"q{n}", text] for n, text in enumerate(a, 1)]
    rows += [["s002", "Question 2", "1"], ["s002", "2", "2"], ["s002", "9", "x"], ["s002", "abc", "1"], ["s999", "1", "1"], ["", "", ""]]
    report = grade(tmp_path, exams, ["ID", "Question", "Answer"], rows)
    assert report.layout == "long"
    assert [r.id for r in report.results] == ["s001", "s002"] and report.results[0].total == 6
    reasons = [r.reason for r in report.rejected]
    assert reasons[0] == "a second answer to question 2 for 's002': row 6 was graded"
    assert "did not get question 9" in reasons[1] and "'abc' is not a question number" in reasons[2]
    assert "'s999' is not in the key" in reasons[3]
    assert report.rows == len(rows) and report.blank_rows == 1
    assert len(report.results[1].marks) == 4 and report.results[1].rows == (6,)


# --- structural errors: one line, nothing written -----------------------------------------------------------


@pytest.mark.parametrize(
    "header, message",
    [
        (["name", "q1", "q2", "q3", "q4"], r"answers\.csv: row 1: no ID column; name one of: id, student id"),
        (["id", "q1", "q2", "q3", "q4", "q5"], r"answers\.csv: row 1, column 6 \('q5'\): question 5 is not in the key \(.*key\.json has questions 1–4\)"),
        (["id", "q1", "q2"], r"answers\.csv: row 1: the sheet has columns for questions 1–2 but .*key\.json has questions 1–4 \(no column for 3–4\): is this the answer sheet for this key\?"),
        (["id", "q1", "Q1", "q2", "q3", "q4"], r"answers\.csv: row 1, column 3 \('Q1'\): a second column for question 1"),
        (["id", "name", "comment"], r"answers\.csv: row 1: no question columns"),
    ],
)
def test_structural_errors_stop_before_writing(tmp_path, exams, header, message):
    answers = write_csv(tmp_path / "answers.csv", header, [["s001"] + [""] * (len(header) - 1)])
    with pytest.raises(UserError, match=message):
        grade_files(answers, exams / "key.json", tmp_path / "results")
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", r"answers\.csv: the answers file is empty"),
        (b"\n\n ,, \n", r"answers\.csv: the answers file is empty"),
        (b"PK\x03\x04rest-of-a-zip", r"answers\.csv: this is an Excel workbook \(\.xlsx\)"),
        (b"i\x00d\x00,\x00q\x001\x00", r"answers\.csv: contains NUL bytes"),
    ],
)
def test_unreadable_answer_files(tmp_path, exams, content, message):
    (tmp_path / "answers.csv").write_bytes(content)
    with pytest.raises(UserError, match=message):
        grade_files(tmp_path / "answers.csv", exams / "key.json", tmp_path / "results")


def test_missing_files(tmp_path, exams):
    with pytest.raises(UserError, match=r"nope\.csv: no such answers file"):
        grade_files(tmp_path / "nope.csv", exams / "key.json", tmp_path / "r")
    answers = write_csv(tmp_path / "a.csv", HEADER, [])
    with pytest.raises(UserError, match=r"nokey\.json: no such key file"):
        grade_files(answers, tmp_path / "nokey.json", tmp_path / "r")
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match="--out must be a folder"):
        grade_files(answers, exams / "key.json", tmp_path / "file")


@pytest.mark.parametrize(
    "content, message",
    [
        ("not json", "not a quizgen answer key (not JSON"),
        ('{"title": "x", "problems": []}', "not a quizgen answer key: no 'quizgen_key' field (this looks like a quiz made without --roster)"),
        ("[1, 2]", "not a quizgen answer key: no 'quizgen_key' field"),
        ('{"quizgen_key": 3}', "key format 3 is not supported (this quizgen reads formats 1 and 2)"),
        ('{"quizgen_key": 1, "students": [], "problems": {}}', "the key lists no students"),
        ('{"quizgen_key": 1, "students": [{"id": "a", "questions": [{"number": 1, "answer_kind": "number", "answer": 1, "problem_id": "p"}]}], "problems": {}}',
         "student 1 ('a'), question 1: problem 'p' is not in the 'problems' table"),
        ('{"quizgen_key": 1, "students": [{"id": "a", "questions": [{"number": 1, "answer_kind": "essay", "answer": 1}]}], "problems": {}}',
         "needs 'answer_kind'"),
        ('{"quizgen_key": 2, "points": [1], "students": [], "problems": {}}', "the key lists no students"),
        ('{"quizgen_key": 2, "students": [{"id": "a", "problems": ["p"]}], "problems": {}}', "the key has no 'points' list"),
        ('{"quizgen_key": 2, "points": [1], "students": [{"id": "a", "problems": ["p"]}], "problems": {}}',
         "student 1 ('a'), question 1: problem 'p' is not in the 'problems' table"),
        ('{"quizgen_key": 2, "points": [1], "students": [{"id": "a", "problems": ["p", "p"]}], "problems": {"p": {"answer_kind": "number", "answer": 1}}}',
         "student 1 ('a'): has 2 questions but 'points' lists 1"),
        ('{"quizgen_key": 2, "points": [1], "students": [{"id": "a", "problems": ["p"]}], "problems": {"p": {"answer_kind": "essay", "answer": 1}}}',
         "problem 'p': needs 'answer_kind' (matrix, number, shape, table), got 'essay'"),
        ('{"quizgen_key": 2, "points": [1], "students": [{"id": "a", "problems": ["p"]}], "problems": {"p": {"answer_kind": "number", "answer": "1/0"}}}',
         "problem 'p': needs a number, got '1/0' (divides by zero)"),
        ('{"quizgen_key": 2, "points": [1], "feedback": [], "students": [{"id": "a", "problems": ["p"]}], "problems": {"p": {"answer_kind": "number", "answer": 2, "mistakes": [["m", 3, 0]]}}}',
         "problem 'p': needs mistakes as [name, answer, index into 'feedback'"),
        ('{"quizgen_key": 2, "points": [1], "shared": {"problems": ["p"]}, "students": [{"id": "a", "problems": ["p"]}], "problems": {"p": {"answer_kind": "number", "answer": 1}}}',
         "the key has both 'students' and 'shared'"),
        ('{"quizgen_key": 2, "points": [-1], "shared": {"problems": ["p"]}, "problems": {"p": {"answer_kind": "number", "answer": 1}}}',
         "'points' must be a number >= 0 (got -1)"),
    ],
)
def test_a_key_that_is_not_a_quizgen_key(tmp_path, content, message):
    (tmp_path / "key.json").write_text(content, encoding="utf-8")
    answers = write_csv(tmp_path / "a.csv", HEADER, [])
    with pytest.raises(UserError) as info:
        grade_files(answers, tmp_path / "key.json", tmp_path / "r")
    assert str(info.value).startswith(str(tmp_path / "key.json")) and message in str(info.value)


def _set(doc, path, value):
    for step in path[:-1]:
        doc = doc[step]
    doc[path[-1]] = value


DAMAGE = [None, 1, "x", [], {}, [[1, [2]]], {"rows": 1}, -1, "-1/0", True]


def _grade_damaged(tmp_path, doc):
    (tmp_path / "key.json").write_text(json.dumps(doc), encoding="utf-8")
    answers = write_csv(tmp_path / "a.csv", HEADER, [["s001", "", "1 2; 3 4", "5", "", "4.5"], ["s002", "", "", "[[1]]", "7/2", "(1, 2)"]])
    try:
        grade_files(answers, tmp_path / "key.json", tmp_path / "r")
    except UserError as exc:
        assert str(exc).startswith(str(tmp_path / "key.json"))


@pytest.mark.parametrize("value", DAMAGE, ids=repr)
@pytest.mark.parametrize(
    "path",
    [
        ("students", 0, "problems"),
        ("students", 0, "problems", 0),
        ("students", 0, "id"),
        ("students", 0, "name"),
        ("students", 0, "file"),
        ("points",),
        ("points", 0),
        ("feedback",),
        ("feedback", 0),
        ("problem", "answer_kind"),
        ("problem", "answer"),
        ("problem", "answer", 0),
        ("problem", "answer", 0, 0),
        ("problem", "title"),
        ("problem", "mistakes"),
        ("problem", "mistakes", 0),
        ("problem", "mistakes", 0, 0),
        ("problem", "mistakes", 0, 1),
        ("problem", "mistakes", 0, 1, 0),
        ("problem", "mistakes", 0, 2),
        ("problem", "solution"),
        ("problem", "solution", 0),
    ],
)
def test_a_damaged_key_is_a_clear_error_or_still_grades(tmp_path, exams, key, path, value):
    doc = json.loads(json.dumps(key))
    if path[0] == "problem":
        path = ("problems", doc["students"][0]["problems"][0], *path[1:])
    _set(doc, path, value)
    _grade_damaged(tmp_path, doc)


@pytest.mark.parametrize("value", DAMAGE, ids=repr)
@pytest.mark.parametrize(
    "path",
    [
        ("students", 0, "questions", 0, "answer"),
        ("students", 0, "questions", 0, "answer", 0),
        ("students", 0, "questions", 0, "answer", 0, 0),
        ("students", 0, "questions", 0, "points"),
        ("students", 0, "questions", 0, "answer_kind"),
        ("students", 0, "questions", 0, "problem_id"),
        ("students", 0, "id"),
        ("students", 0, "file"),
        ("problem", "mistakes"),
        ("problem", "mistakes", 0),
        ("problem", "mistakes", 0, "answer"),
        ("problem", "solution"),
    ],
)
def test_a_damaged_format_1_key_is_a_clear_error_or_still_grades(tmp_path, path, value):
    doc = json.loads((FORMAT_1 / "key.json").read_text(encoding="utf-8"))
    if path[0] == "problem":
        path = ("problems", doc["students"][0]["questions"][0]["problem_id"], *path[1:])
    _set(doc, path, value)
    _grade_damaged(tmp_path, doc)


def test_a_format_1_key_grades_as_it_did(tmp_path):
    """Keys written before problems were stored once (format 1) still grade, with the same results."""
    report = grade_files(FORMAT_1 / "answers.csv", FORMAT_1 / "key.json", tmp_path / "results")
    assert [r.id for r in report.results] == ["s001", "s002", "s003"] and not report.rejected
    out = tmp_path / "results"
    assert (out / "grades.csv").read_bytes() == (FORMAT_1 / "grades.csv").read_bytes()
    assert (out / "feedback" / "s002.md").read_bytes() == (FORMAT_1 / "s002.md").read_bytes()


def test_a_quiz_document_is_not_a_key(cli, tmp_path):
    quiz = tmp_path / "quiz.json"
    cli("make", "--topic", "pooling", "--format", "json", "--out", str(quiz))
    answers = write_csv(tmp_path / "a.csv", HEADER, [])
    with pytest.raises(UserError, match="made without --roster"):
        grade_files(answers, quiz, tmp_path / "r")


# --- every row ends in exactly one output ------------------------------------------------------------------

ROW = st.one_of(
    st.sampled_from(["s001", "s002", "s003", "s004", "S001", " s002 ", "s005", "", "nobody", "=1+1"]).flatmap(
        lambda sid: st.lists(st.sampled_from(["", "1", "6 4; 4 4", "abc", "27/8", "3,75", "(1, 2)", "\n", ";", '"']), min_size=0, max_size=7).map(
            lambda cells: [sid, "name", *cells]
        )
    ),
    st.just([]),
    st.just(["", "", ""]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=st.lists(ROW, max_size=25), delimiter=st.sampled_from([",", ";", "\t"]))
def test_every_row_is_graded_rejected_or_blank(exams, rows, delimiter):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        answers = write_csv(tmp / "answers.csv", HEADER, rows, delimiter=delimiter)
        report = grade_files(answers, exams / "key.json", tmp / "results")
        graded_rows = sum(len(r.rows) for r in report.results)
        assert graded_rows + len(report.rejected) + report.blank_rows == report.rows == len(rows)
        assert len(read_csv(tmp / "results" / "grades.csv")) == len(report.results)
        assert len(read_csv(tmp / "results" / "rejected.csv")) == len(report.rejected)
        assert len(list((tmp / "results" / "feedback").iterdir())) == len(report.results)
        assert len({r.id for r in report.results}) == len(report.results)


def test_a_big_synthetic_class_loses_no_row(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from grade_bench import build_class
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    key, answers = build_class(tmp_path, students=400, questions=10)
    report = grade_files(answers, key, tmp_path / "results")
    assert len(report.results) == 400 and len(report.rejected) == 2  # an unknown ID and a duplicate
    assert report.rows == 402 and report.blank_rows == 0
    grades = read_csv(tmp_path / "results" / "grades.csv")
    assert len(grades) == 400 and all(Fraction(g["total"]) <= 20 for g in grades)
    statuses = {m.status.value for r in report.results for m in r.marks}
    assert statuses == {"correct", "partial", "wrong", "blank", "unreadable"}


# --- outputs are written whole or not at all -------------------------------------------------------------------


def test_a_crash_while_writing_leaves_the_previous_grades(tmp_path, exams, key, monkeypatch):
    rows = [["s001", "Ada", *right(key, "s001")]]
    grade(tmp_path, exams, HEADER, rows)
    out = tmp_path / "results"
    before = (out / "grades.csv").read_bytes()
    feedback_before = sorted(p.name for p in (out / "feedback").iterdir())

    def crash(path, chunks):
        if Path(path).name == "grades.csv":
            for i, _ in enumerate(chunks):
                if i:
                    raise KeyboardInterrupt("power cut")
        return real(path, chunks)

    real = report_module.write_atomic
    monkeypatch.setattr(report_module, "write_atomic", crash)
    with pytest.raises(KeyboardInterrupt):
        grade(tmp_path, exams, HEADER, rows + [["s002", "Alan", "", "", "", ""]])
    assert (out / "grades.csv").read_bytes() == before
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left behind
    monkeypatch.undo()
    grade(tmp_path, exams, HEADER, rows)
    assert sorted(p.name for p in (out / "feedback").iterdir()) == feedback_before

    def crash_in_feedback(self, result):
        if result.id == "s002":
            raise KeyboardInterrupt("power cut")
        return real_page(self, result)

    real_page = report_module.FeedbackWriter.page
    monkeypatch.setattr(report_module.FeedbackWriter, "page", crash_in_feedback)
    with pytest.raises(KeyboardInterrupt):
        grade(tmp_path, exams, HEADER, rows + [["s002", "Alan", "", "", "", ""]])
    assert sorted(p.name for p in (out / "feedback").iterdir()) == feedback_before  # the old folder, whole
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_regrading_replaces_the_feedback_folder(tmp_path, exams, key):
    grade(tmp_path, exams, HEADER, [["s001", "", "", "", "", ""], ["s002", "", "", "", "", ""]])
    grade(tmp_path, exams, HEADER, [["s002", "", "", "", "", ""]])
    assert sorted(p.name for p in (tmp_path / "results" / "feedback").iterdir()) == ["s002.md"]


# --- the command line ----------------------------------------------------------------------------------------


def test_cli_grade(cli, tmp_path, exams, key):
    answers = write_csv(tmp_path / "answers.csv", HEADER, [["s001", "Ada", *right(key, "s001")], ["s9", "x", "", "", "", ""]])
    result = cli("grade", str(answers), "--key", str(exams / "key.json"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert "graded 1 student(s)" in result.output and "rejected 1 row(s)" in result.output
    assert "class mean 6 / 6 points (100%)" in result.output
    assert (tmp_path / "out" / "grades.csv").is_file()


def test_cli_grade_errors_are_one_line(cli, tmp_path, exams):
    answers = write_csv(tmp_path / "answers.csv", ["who", "q1"], [["s001", "1"]])
    result = cli("grade", str(answers), "--key", str(exams / "key.json"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert result.output.startswith(f"quizgen: error: {answers}: row 1: no ID column")


@pytest.mark.parametrize("value, ok", [("0.05", True), ("1/20", True), ("0", True), ("-1", False), ("lots", False)])
def test_cli_tolerance(cli, tmp_path, exams, key, value, ok):
    answers = write_csv(tmp_path / "answers.csv", HEADER, [["s001", "", "", "", "", ""]])
    result = cli("grade", str(answers), "--key", str(exams / "key.json"), "--out", str(tmp_path / "o"), "--tolerance", value)
    assert (result.exit_code == 0) == ok
    if not ok:
        assert "--tolerance must be a number >= 0" in result.output


def test_outputs_are_independent_of_a_previous_results_folder(tmp_path, exams, key):
    (tmp_path / "results" / "feedback").mkdir(parents=True)
    (tmp_path / "results" / "feedback" / "stale.md").write_text("old")
    grade(tmp_path, exams, HEADER, [["s001", "", *right(key, "s001")]])
    assert [p.name for p in (tmp_path / "results" / "feedback").iterdir()] == ["s001.md"]
    shutil.rmtree(tmp_path / "results")


# --- "did you mean" among a large class ----------------------------------------------------------------------

ID_TEXT = st.text(alphabet="sS0129ab._-@ ", min_size=1, max_size=9)


@settings(max_examples=300, deadline=None)
@given(ids=st.lists(ID_TEXT, min_size=1, max_size=40, unique=True), word=ID_TEXT)
def test_suggestions_match_did_you_mean(ids, word):
    assert Suggestions(ids).hint(word) == did_you_mean(word, ids)


def test_suggestions_in_a_large_class():
    ids = [f"s{n:06d}" for n in range(3000)]
    suggest = Suggestions(ids)
    for word in ("s00001", "S000123x", "s0000123", "nobody", "s002999"):
        assert suggest.hint(word) == did_you_mean(word, ids)
