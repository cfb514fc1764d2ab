"""A quiz everyone takes in the same variant: `make --key` writes its answer key, and `quizgen grade` grades any
student ID against it — end to end through the command line."""

from __future__ import annotations

import json

import pytest
from test_grade_helpers import BANK, ROSTER, read_csv, typed_forms, write_csv

from quizgen.errors import UserError
from quizgen.grade.key import question_record, read_key_data
from quizgen.make import make_quiz

HEADER = ["Student ID", "Name", "q1", "q2", "q3", "q4"]


def shared_questions(key_path) -> list[dict]:
    doc = json.loads(key_path.read_text(encoding="utf-8"))
    return [question_record(q) for q in read_key_data(doc).shared.questions.values()]


def right_answers(questions, form=0) -> list[str]:
    return [typed_forms(q["answer_kind"], q["answer"])[form % len(typed_forms(q["answer_kind"], q["answer"]))] for q in questions]


def test_make_a_key_fill_the_sheet_and_grade(cli, tmp_path):
    quiz, key = tmp_path / "quiz.md", tmp_path / "key.json"
    result = cli("make", "--bank", str(BANK), "--out", str(quiz), "--key", str(key), "--no-solutions")
    assert result.exit_code == 0, result.output
    assert f"wrote {quiz}: 4 problems, seed 2025" in result.output and f"wrote the answer key {key}" in result.output
    assert "Worked solution" not in quiz.read_text(encoding="utf-8")
    doc = json.loads(key.read_text(encoding="utf-8"))
    assert doc["quizgen_key"] == 2 and "students" not in doc
    assert doc["shared"]["file"] == str(quiz) and len(doc["shared"]["problems"]) == 4 and doc["points"] == [2, 2, 1, 1]

    questions = shared_questions(key)
    wrong = [typed_forms(q["answer_kind"], q["mistakes"][0]["answer"] if q["mistakes"] else q["answer"])[0] for q in questions]
    rows = [
        ["u1", "Ada Lovelace", *right_answers(questions)],
        ["u2", "Alan Turing", *wrong],
        ["u3", "", "", "", "", ""],
        ["U1", "Ada again", *right_answers(questions, 1)],  # the same student, typed in capitals
        ["", "nobody", "1", "", "", ""],
        ["ada@example.org", "Zoë", *right_answers(questions, 2)],
    ]
    answers = write_csv(tmp_path / "answers.csv", HEADER, rows)
    result = cli("grade", str(answers), "--key", str(key), "--out", str(tmp_path / "results"))
    assert result.exit_code == 0, result.output
    assert "graded 4 student(s)" in result.output and "rejected 2 row(s)" in result.output
    assert "have no answers" not in result.output  # no roster: nobody is missing

    out = tmp_path / "results"
    grades = {g["id"]: g for g in read_csv(out / "grades.csv")}
    assert list(grades) == ["u1", "u2", "u3", "ada@example.org"]
    assert grades["u1"]["name"] == "Ada Lovelace" and grades["ada@example.org"]["name"] == "Zoë"  # from the sheet
    assert grades["u1"]["total"] == "6" and grades["u1"]["percent"] == "100" and grades["ada@example.org"]["total"] == "6"
    assert grades["u3"]["total"] == "0"
    assert [r["reason"] for r in read_csv(out / "rejected.csv")] == [
        "duplicate ID 'U1': row 2 was graded for this student",
        "no ID",
    ]
    pages = sorted(p.name for p in (out / "feedback").iterdir())
    assert len(pages) == 4 and "u1.md" in pages and any(p.startswith("ada_example.org-") for p in pages)
    page = (out / "feedback" / "u2.md").read_text(encoding="utf-8")
    assert "feedback for Alan Turing (u2)" in page
    for q in questions:
        if q["mistakes"]:
            assert f"*{q['mistakes'][0]['name']}*" in page
    assert read_csv(out / "moodle_grades.csv")[0] == {"ID number": "u1", "Grading fixture": "6"}


def test_a_topic_quiz_on_stdout_with_its_key_and_answers_one_per_row(cli, tmp_path):
    key = tmp_path / "k.json"
    result = cli("make", "--topic", "pooling", "--count", "2", "--seed", "3", "--key", str(key))
    assert result.exit_code == 0 and "# Pooling quiz" in result.output
    doc = json.loads(key.read_text(encoding="utf-8"))
    assert doc["bank"] is None and doc["seed"] == 3 and doc["shared"]["file"] is None
    assert doc["spec"]["sections"][0]["topic"] == "pooling"
    a, b = right_answers(shared_questions(key))
    answers = write_csv(tmp_path / "a.csv", ["id", "question", "answer"], [["s1", "q1", a], ["s1", "q2", b], ["s2", "2", b]])
    result = cli("grade", str(answers), "--key", str(key), "--out", str(tmp_path / "r"))
    assert result.exit_code == 0, result.output
    grades = {g["id"]: g["total"] for g in read_csv(tmp_path / "r" / "grades.csv")}
    assert grades == {"s1": "2", "s2": "1"}


def test_the_key_describes_the_quiz_that_was_written(cli, tmp_path):
    quiz, key = tmp_path / "quiz.json", tmp_path / "key.json"
    assert cli("make", "--bank", str(BANK), "--format", "json", "--out", str(quiz), "--key", str(key)).exit_code == 0
    document = json.loads(quiz.read_text(encoding="utf-8"))
    doc = json.loads(key.read_text(encoding="utf-8"))
    assert [p["id"] for p in document["problems"]] == doc["shared"]["problems"]
    assert [p["answer"] for p in document["problems"]] == [doc["problems"][pid]["answer"] for pid in doc["shared"]["problems"]]
    assert doc["format"] == "json"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--roster", str(ROSTER), "--out", "{tmp}/exams"], "--key goes without --roster"),
        (["--out", "{tmp}/same.md"], "--key and --out are the same file"),
    ],
)
def test_make_key_errors_are_one_line(cli, tmp_path, args, message):
    key = tmp_path / "same.md"
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = cli("make", "--bank", str(BANK), "--key", str(key), *args)
    assert result.exit_code == 2 and result.output.count("\n") == 1 and message in result.output
    assert not key.exists()


def test_a_key_folder_is_refused(cli, tmp_path):
    result = cli("make", "--topic", "pooling", "--key", str(tmp_path))
    assert result.exit_code == 2 and "is a directory" in result.output
    with pytest.raises(UserError, match="--key is a folder"):
        make_quiz(topic="pooling", key=tmp_path)
