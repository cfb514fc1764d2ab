"""Helpers shared by the grading and roster tests (typed answers, small classes, CSV writing), with tests
that the helpers themselves type answers the way the README says people may."""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction
from pathlib import Path

import pytest

from quizgen.bank import load_bank
from quizgen.grade.key import question_record, read_key_data
from quizgen.grade.score import Status, grade_question
from quizgen.roster import make_variants, read_roster

DATA = Path(__file__).parent / "data"
BANK = DATA / "class.yaml"
ROSTER = DATA / "roster.csv"


def _num(value, style: str = "plain") -> str:
    """A key number (int or "p/q") typed in one of several styles."""
    if isinstance(value, str):
        f = Fraction(value)
        if style == "decimal":
            return f"{float(f):.2f}"
        if style == "comma":
            return f"{float(f):.2f}".replace(".", ",")
        return value
    if style == "comma" and abs(value) >= 1000:
        return f"{value:,}"
    if style == "decimal" and abs(value) >= 1000:
        return f"{value:,}".replace(",", "\u202f")
    return str(value)


def typed_forms(kind: str, answer) -> list[str]:
    """The right answer typed the ways the README lists, for one answer in the key's JSON encoding."""
    if kind == "number":
        return [_num(answer), _num(answer, "decimal"), _num(answer, "comma"), f" {_num(answer)} "]
    if kind == "shape":
        return ["(" + ", ".join(map(str, answer)) + ")", "x".join(map(str, answer)), " × ".join(map(str, answer)), json.dumps(answer)]
    if kind == "matrix":
        if isinstance(answer[0][0], list):
            grids = [[[cell[c] for cell in row] for row in answer] for c in range(len(answer[0][0]))]
            return [
                json.dumps(answer).replace('"', ""),
                " | ".join("; ".join(" ".join(map(str, r)) for r in g) for g in grids),
                "\n\n".join("\n".join(" ".join(map(str, r)) for r in g) for g in grids),
            ]
        forms = [
            "; ".join(" ".join(str(v) for v in row) for row in answer),
            json.dumps(answer).replace('"', ""),
            "\n".join(" ".join(str(v) for v in row) for row in answer),
            ";".join(",".join(str(v) for v in row) for row in answer),
        ]
        if any(isinstance(v, str) for row in answer for v in row):
            forms.append("; ".join(" ".join(_num(v, "decimal") for v in row) for row in answer))
            forms.append("; ".join(" ".join(_num(v, "comma") for v in row) for row in answer))
        return forms
    rows = [("(" + ", ".join(map(str, r["output_shape"])) + ")", r["params"]) for r in answer["rows"]]
    return [
        "\n".join(f"{s} {p}" for s, p in rows) + f"\ntotal {answer['total']}",
        "; ".join(f"{s} {p:,}" for s, p in rows) + f"; {answer['total']:,}",
        "\n".join(f"{r['layer']} {s} {p}" for r, (s, p) in zip(answer["rows"], rows)) + f"\nTotal params: {answer['total']:,}",
    ]


def make_class(folder: Path, roster: Path = ROSTER, bank: Path = BANK, fmt: str = "markdown") -> dict:
    """make --roster into ``folder``; returns the key document."""
    make_variants(load_bank(bank), read_roster(roster), folder, fmt)
    return json.loads((folder / "key.json").read_text(encoding="utf-8"))


def questions_of(key: dict, student: dict) -> list[dict]:
    """A student's questions (of a key document) with the answer, mistakes and solution of each problem
    joined in, as records: number, points, problem_id, answer_kind, answer, title, mistakes, solution."""
    loaded = read_key_data(key)
    return [question_record(q) for q in loaded.students[student["id"]].questions.values()]


def write_csv(path: Path, header, rows, *, delimiter=",", encoding="utf-8", bom=False, newline="\r\n") -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    data = buffer.getvalue().encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def read_csv(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


@pytest.mark.parametrize(
    "kind, answer",
    [
        ("number", 43706),
        ("number", "27/8"),
        ("number", -3),
        ("shape", [13, 13, 8]),
        ("matrix", [[6, 4], [4, 4]]),
        ("matrix", [["15/4", 2], [0, "-1/2"]]),
        ("matrix", [[[1, 5], [2, 6]], [[3, 7], [4, 8]]]),
        ("table", {"rows": [{"layer": "conv2d (Conv2D)", "output_shape": [26, 26, 8], "params": 80}], "total": 43706}),
    ],
)
def test_typed_forms_read_back_as_the_answer(kind, answer):
    question = {"number": 1, "points": 1, "problem_id": "p", "answer_kind": kind, "answer": answer, "mistakes": []}
    for text in typed_forms(kind, answer):
        mark = grade_question(question, text)
        assert mark.status is Status.CORRECT, (text, mark.detail)
