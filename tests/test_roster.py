"""Per-student variants: rosters, one document per student, the key manifest and the answer sheet."""

from __future__ import annotations

import json
import pytest
from test_grade_helpers import BANK, ROSTER, make_class, read_csv, write_csv

from quizgen import __version__
from quizgen.bank import load_bank
from quizgen.errors import UserError
from quizgen.grade.csvio import SheetError
from quizgen.grade.key import file_stems, safe_stem, spec_fingerprint
from quizgen.problem import problem_to_json
from quizgen.quiz import iter_items
from quizgen.render import FORMATS, render
from quizgen.roster import RosterError, Student, make_variants, read_roster, student_spec

# --- reading rosters -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header, row, student",
    [
        (["id", "name"], ["s1", "Ada"], Student("s1", "Ada", 2)),
        (["ID", "Name"], ["s1", "Ada"], Student("s1", "Ada", 2)),
        (["student_id", "full name"], ["s1", "Ada L"], Student("s1", "Ada L", 2)),
        (["Student ID", "First name", "Last name"], ["s1", "Ada", "Lovelace"], Student("s1", "Ada Lovelace", 2)),
        (["ID number", "Surname"], [" 007 ", "Bond"], Student("007", "Bond", 2)),
        (["idnumber"], ["x9"], Student("x9", "", 2)),
        (["Username", "Email address"], ["ada", "ada@example.org"], Student("ada", "", 2)),
        (["Email"], ["ada@example.org"], Student("ada@example.org", "", 2)),
    ],
)
def test_roster_headers(tmp_path, header, row, student):
    path = write_csv(tmp_path / "r.csv", header, [row])
    assert read_roster(path) == (student,)


def test_roster_excel_habits(tmp_path):
    path = write_csv(tmp_path / "r.csv", ["Student ID", "Name", "Notes"], [["s1", "Zoë Ünal", ""], [], ["s2", "José", "x"], ["", ""]],
                     delimiter=";", bom=True)
    assert [s.id for s in read_roster(path)] == ["s1", "s2"]
    latin = tmp_path / "latin.csv"
    latin.write_bytes("id;name\r\ns1;Zoë\r\n".encode("cp1252"))
    assert read_roster(latin)[0].name == "Zoë"


@pytest.mark.parametrize(
    "rows, message",
    [
        ([["s1", "A"], ["s1", "B"]], r"r\.csv: row 3, column 1 \('id'\): duplicate ID 's1' \(first at row 2\)"),
        ([["s1", "A"], ["", "B"]], r"r\.csv: row 3, column 1 \('id'\): empty ID"),
        ([], r"r\.csv: the roster lists no students"),
    ],
)
def test_roster_errors_name_the_file_and_row(tmp_path, rows, message):
    path = write_csv(tmp_path / "r.csv", ["id", "name"], rows)
    with pytest.raises(RosterError, match=message):
        read_roster(path)


def test_roster_without_an_id_column(tmp_path):
    path = write_csv(tmp_path / "r.csv", ["Name", "Group"], [["Ada", "1"]])
    with pytest.raises(RosterError, match=r"r\.csv: row 1: no ID column; name one of: id, student id"):
        read_roster(path)


def test_missing_roster(tmp_path):
    with pytest.raises(SheetError, match="no such roster"):
        read_roster(tmp_path / "nope.csv")


# --- file names ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sid", ["s001", "A-12.b_3"])
def test_plain_ids_are_their_own_file_names(sid):
    assert safe_stem(sid) == sid


@pytest.mark.parametrize("sid", ["ada@example.org", "../etc/passwd", "a b", "CON", "=cmd|calc", "Zoë", ".hidden", "a/b"])
def test_other_ids_get_a_safe_name_with_a_hash(sid):
    stem = safe_stem(sid)
    assert stem != sid and "/" not in stem and not stem.startswith(".") and len(stem) <= 80
    assert all(c.isalnum() or c in "._-" for c in stem) and stem.isascii()


def test_ids_differing_only_in_case_get_different_files():
    stems = file_stems(["ab", "AB", "cd"])
    assert len({s.casefold() for s in stems.values()}) == 3 and stems["cd"] == "cd"


# --- making the variants -------------------------------------------------------------------------------------


def test_make_variants_writes_documents_key_and_sheet(tmp_path):
    out = tmp_path / "exams"
    key = make_class(out)
    students = read_roster(ROSTER)
    spec = load_bank(BANK)
    files = sorted(p.name for p in out.iterdir())
    assert "key.json" in files and "answers.csv" in files
    assert len([f for f in files if f.endswith(".md")]) == len(students)
    # The key: provenance and every field the grader and a person need.
    assert key["quizgen_key"] == 2 and key["quizgen"] == __version__
    assert key["bank"] == str(BANK) and key["title"] == spec.title and key["seed"] == spec.seed
    assert key["fingerprint"] == spec_fingerprint(spec) and key["questions"] == spec.count
    assert key["points"] == [2, 2, 1, 1] and key["total_points"] == 6
    assert [s["id"] for s in key["students"]] == [s.id for s in students]
    assert key["students"][0]["name"] == "Ada Lovelace"
    for entry in key["students"]:
        assert set(entry) == {"id", "name", "file", "problems"} and (out / entry["file"]).is_file()
        assert len(entry["problems"]) == spec.count  # question n is problems[n - 1]
        for pid in entry["problems"]:
            problem = key["problems"][pid]
            assert set(problem) == {"answer_kind", "answer", "title", "mistakes", "solution"} and problem["solution"]
            for name, _, feedback in problem["mistakes"]:
                assert isinstance(name, str) and 0 <= feedback < len(key["feedback"])
    # Each problem and each feedback sentence is stored once, whoever has it.
    assert len(key["feedback"]) == len(set(key["feedback"]))
    assert set(key["problems"]) == {pid for entry in key["students"] for pid in entry["problems"]}
    # The answer sheet: the right header, one row per student, answers blank.
    sheet = read_csv(out / "answers.csv")
    assert list(sheet[0]) == ["id", "name", "q1", "q2", "q3", "q4"]
    assert [r["id"] for r in sheet] == ["s001", "s002", "s003", "s004"]
    assert sheet[3]["name"] == "'=cmd|calc Mallory"  # neutralised: a spreadsheet would run it as a formula
    assert all(r[f"q{n}"] == "" for r in sheet for n in range(1, 5))


def test_a_variant_depends_on_the_bank_and_the_id_alone(tmp_path):
    """Any student's variant can be made again from the ID: the rest of the roster does not matter."""
    spec = load_bank(BANK)
    everyone = read_roster(ROSTER)
    make_variants(spec, everyone, tmp_path / "all")
    make_variants(spec, [everyone[2]], tmp_path / "one")
    name = f"{everyone[2].id}.md"
    assert (tmp_path / "all" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()
    direct = "".join(render(student_spec(spec, everyone[2]), list(iter_items(spec, salt=everyone[2].id)), "markdown", solutions=False))
    assert (tmp_path / "all" / name).read_text(encoding="utf-8") == direct
    # Different students, different variants; the key records each variant's problems.
    key = json.loads((tmp_path / "all" / "key.json").read_text(encoding="utf-8"))
    ids = [tuple(s["problems"][:2]) for s in key["students"]]
    assert len(set(ids)) > 1
    again = [problem_to_json(i.problem)["id"] for i in iter_items(spec, salt="s002")]
    assert key["students"][1]["problems"] == again


def test_student_documents_leave_out_the_answers_by_default(tmp_path):
    make_class(tmp_path / "exams")
    text = (tmp_path / "exams" / "s001.md").read_text(encoding="utf-8")
    assert "Ada Lovelace (s001)" in text and "Answer key" not in text and "Worked solution" not in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_per_student(tmp_path, fmt):
    out = tmp_path / fmt
    key = make_class(out, fmt=fmt)
    assert key["format"] == fmt
    for entry in key["students"]:
        path = out / entry["file"]
        assert path.stat().st_size > 0 and path.suffix != ".csv"
    if fmt == "json":
        doc = json.loads((out / key["students"][0]["file"]).read_text(encoding="utf-8"))
        assert [p["id"] for p in doc["problems"]] == key["students"][0]["problems"]


def test_an_id_named_key_does_not_overwrite_the_key(tmp_path):
    roster = write_csv(tmp_path / "r.csv", ["id"], [["key"], ["answers"]])
    make_variants(load_bank(BANK), read_roster(roster), tmp_path / "out", "json")
    key = json.loads((tmp_path / "out" / "key.json").read_text(encoding="utf-8"))
    assert [s["id"] for s in key["students"]] == ["key", "answers"]
    assert key["students"][0]["file"] != "key.json" and key["students"][1]["file"] == "answers.json"


# --- the command line ----------------------------------------------------------------------------------------


def test_cli_make_roster(cli, tmp_path):
    out = tmp_path / "exams"
    result = cli("make", "--bank", str(BANK), "--roster", str(ROSTER), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "wrote 4 variants of 4 questions" in result.output
    assert (out / "key.json").is_file() and (out / "s002.md").is_file()


def test_cli_make_roster_with_a_topic_and_solutions(cli, tmp_path):
    out = tmp_path / "exams"
    result = cli("make", "--topic", "pooling", "--count", "2", "--seed", "3", "--roster", str(ROSTER), "--out", str(out), "--solutions")
    assert result.exit_code == 0, result.output
    assert "Answer key" in (out / "s001.md").read_text(encoding="utf-8")
    key = json.loads((out / "key.json").read_text(encoding="utf-8"))
    assert key["bank"] is None and key["seed"] == 3 and key["spec"]["sections"][0]["topic"] == "pooling"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--out", "-"], "give a folder with --out"),
        ([], "give a folder with --out"),
    ],
)
def test_cli_make_roster_needs_a_folder(cli, args, message):
    result = cli("make", "--bank", str(BANK), "--roster", str(ROSTER), *args)
    assert result.exit_code == 2 and message in result.output


def test_cli_make_roster_errors_are_one_line(cli, tmp_path):
    bad = write_csv(tmp_path / "bad.csv", ["id"], [["s1"], ["s1"]])
    result = cli("make", "--bank", str(BANK), "--roster", str(bad), "--out", str(tmp_path / "x"))
    assert result.exit_code == 2
    assert result.output.strip() == f"quizgen: error: {bad}: row 3, column 1 ('id'): duplicate ID 's1' (first at row 2)"
    assert not (tmp_path / "x").exists()


def test_make_without_roster_refuses_a_folder(cli, tmp_path):
    result = cli("make", "--topic", "pooling", "--out", str(tmp_path))
    assert result.exit_code == 2 and "is a folder" in result.output


def test_out_file_for_roster_is_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(UserError, match="must be a folder"):
        make_variants(load_bank(BANK), read_roster(ROSTER), tmp_path / "f")
