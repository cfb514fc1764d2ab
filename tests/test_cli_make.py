"""`quizgen make` and `quizgen topics` from the command line, and banks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from quizgen.bank import BankError, load_bank, parse_bank
from quizgen.make import make_quiz
from quizgen.registry import generators
from quizgen.resources import data_dir

BANKS = sorted(data_dir("question_banks").glob("*.yaml"))


def test_topics_lists_every_generator(cli):
    result = cli("topics")
    assert result.exit_code == 0
    for name, gen in generators().items():
        assert name in result.output and gen.description in result.output


def test_topics_params_lists_parameters(cli):
    result = cli("topics", "--params")
    assert "pool_size" in result.output


def test_make_default_is_five_markdown_problems_with_a_key(cli):
    result = cli("make", "--topic", "pooling", "--seed", "7")
    assert result.exit_code == 0
    out = result.output
    assert out.count("### Question") == 10  # five questions, five answers
    assert "## Answer key" in out and "Seed: 7" in out


def test_no_solutions_leaves_out_the_key(cli):
    out = cli("make", "--topic", "pooling", "--seed", "7", "--no-solutions").output
    assert "Answer key" not in out and "Worked solution" not in out


@pytest.mark.parametrize("fmt", ["markdown", "json"])
def test_same_seed_gives_byte_identical_output(cli, fmt):
    a = cli("make", "--topic", "pooling", "--seed", "11", "--count", "8", "--format", fmt).output
    b = cli("make", "--topic", "pooling", "--seed", "11", "--count", "8", "--format", fmt).output
    c = cli("make", "--topic", "pooling", "--seed", "12", "--count", "8", "--format", fmt).output
    assert a == b and a != c


def test_random_seed_is_printed_so_the_quiz_can_be_remade(cli):
    first = json.loads(cli("make", "--topic", "pooling", "--format", "json").output)
    again = json.loads(cli("make", "--topic", "pooling", "--format", "json", "--seed", str(first["seed"])).output)
    assert first == again


def test_json_document_shape(cli):
    doc = json.loads(cli("make", "--topic", "pooling", "--seed", "3", "--count", "4", "--format", "json").output)
    assert set(doc) == {"quizgen", "title", "seed", "problems"}
    assert doc["seed"] == 3 and len(doc["problems"]) == 4
    for n, p in enumerate(doc["problems"], 1):
        assert p["number"] == n
        assert {"id", "topic", "difficulty", "params", "answer", "solution", "mistakes"} <= set(p)
        for m in p["mistakes"]:
            assert set(m) == {"name", "answer", "feedback"}


def test_fractions_are_p_over_q_strings_in_json(cli):
    out = cli(
        "make", "--topic", "pooling", "--format", "json", "--seed", "1", "--count", "1",
        "--param", "mode=average", "--param", "inputs=[[1, 3, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [9, 8, 6, 5]]",
        "--param", "pool_size=2", "--param", "strides=2", "--param", "padding=valid",
    ).output
    assert json.loads(out)["problems"][0]["answer"] == [["15/4", "21/4"], ["11/2", 3]]


def test_cli_and_library_give_the_same_result(cli, tmp_path, capsys):
    out = tmp_path / "lib.json"
    make_quiz(topic="pooling", seed=5, count=3, fmt="json", out=out)
    assert cli("make", "--topic", "pooling", "--seed", "5", "--count", "3", "--format", "json").output == out.read_text()


def test_param_pins_are_respected(cli):
    doc = json.loads(
        cli("make", "-t", "pooling", "-s", "2", "-n", "6", "-f", "json", "-p", "mode=min", "-p", "pool_size=3x3", "-p", "strides=1").output
    )
    for p in doc["problems"]:
        assert p["params"]["mode"] == "min"
        assert p["params"]["pool_size"] == [3, 3] and p["params"]["strides"] == [1, 1]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--topic", "poolng"], "unknown topic 'poolng' (did you mean 'pooling'?)"),
        (["--topic", "pooling", "--param", "pool_sise=2"], "unknown parameter 'pool_sise' for topic 'pooling' (did you mean 'pool_size'?)"),
        (["--topic", "pooling", "--param", "pool_size"], "--param must look like KEY=VALUE"),
        (["--topic", "pooling", "--param", "padding=full"], "'padding' must be 'valid' or 'same' (got 'full')"),
        (["--topic", "pooling", "--count", "0"], "--count must be at least 1"),
        (["--bank", "nope.yaml"], "nope.yaml: no such bank file"),
        ([], "give either --topic or --bank"),
        (["--topic", "pooling", "--format", "pdf"], "--format must be"),
    ],
)
def test_errors_are_one_clear_line(cli, args, message):
    result = cli("make", *args)
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines() if hasattr(result, "stderr") else result.output.strip().splitlines()
    assert len(lines) == 1, lines
    assert message in lines[0]
    assert "Traceback" not in result.output


def test_out_writes_the_file_and_reports(cli, tmp_path):
    target = tmp_path / "sub" / "quiz.md"
    result = cli("make", "--topic", "pooling", "--seed", "1", "--out", str(target))
    assert result.exit_code == 0
    assert target.read_text().startswith("# Pooling quiz")
    assert "wrote" in result.stderr and "seed 1" in result.stderr
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".tmp")]


def test_command_line_entry_point_has_no_traceback_on_errors():
    proc = subprocess.run(
        [sys.executable, "-m", "quizgen.cli", "make", "--topic", "nope"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("quizgen: error: unknown topic 'nope'")
    assert "Traceback" not in proc.stderr


# --- banks ----------------------------------------------------------------------------------------------------


def test_shipped_banks_are_shipped():
    assert {p.name for p in BANKS} >= {"pooling.yaml"}


@pytest.mark.parametrize("bank", BANKS, ids=lambda p: p.name)
def test_every_shipped_bank_makes_a_quiz(bank, tmp_path):
    spec = make_quiz(bank=bank, fmt="json", out=tmp_path / "q.json")
    doc = json.loads((tmp_path / "q.json").read_text())
    assert len(doc["problems"]) == spec.count >= 1


@pytest.mark.parametrize(
    "text, message",
    [
        ("title: x\nsections: []\n", "<bank>:2: 'sections' must be a non-empty list"),
        ("title: x\nseed: -1\nsections:\n  - topic: pooling\n", "<bank>:2: 'seed' must be an integer >= 0"),
        ("title: x\nsections:\n  - topic: pooling\n    cout: 3\n", "<bank>:4: unknown section 1 key 'cout' (did you mean 'count'?)"),
        ("title: x\nsections:\n  - topic: pooling\n    count: many\n", "<bank>:4: 'count' must be an integer"),
        ("title: x\nsections:\n  - topic: poling\n", "<bank>:3: unknown topic 'poling' (did you mean 'pooling'?)"),
        ("title: x\nsections:\n  - topic: pooling\n    difficulty: extreme\n", "<bank>:4: difficulty must be"),
        ("title: x\nsections:\n  - topic: pooling\n    params:\n      pool_size: big\n", "<bank>:5: 'pool_size' must be"),
        ("title: x\nsections:\n  - topic: pooling\n    params:\n      mode: maximum\n", "<bank>:5: 'mode' must be"),
        ("title: x\nsectons:\n  - topic: pooling\n", "<bank>:2: unknown bank key 'sectons' (did you mean 'sections'?)"),
        ("title: [unclosed\n", "<bank>:2: not valid YAML"),
        ("- just\n- a list\n", "<bank>:1: a bank must be a mapping"),
        ("title: x\nsections:\n  - pooling\n", "<bank>:3: section 1 must be a mapping"),
        ("title: x\nsections:\n  - topic: pooling\n    points: -2\n", "<bank>:4: 'points' must be a positive number"),
    ],
)
def test_bank_errors_name_the_line_and_the_value(text, message):
    with pytest.raises(BankError) as info:
        parse_bank(text)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_bank_points_and_sections(tmp_path):
    path = tmp_path / "b.yaml"
    path.write_text("title: T\nseed: 4\nsections:\n  - topic: pooling\n    count: 2\n    points: 1.5\n  - topic: pooling\n    count: 1\n    points: 3\n")
    spec = load_bank(path)
    assert spec.count == 3 and spec.total_points == 6
    assert spec.source == str(path)


def test_bank_seed_can_be_overridden(cli, tmp_path):
    bank = str(data_dir("question_banks") / "pooling.yaml")
    a = cli("make", "--bank", bank, "--format", "json").output
    b = cli("make", "--bank", bank, "--format", "json", "--seed", "99").output
    assert json.loads(a)["seed"] == 2025 and json.loads(b)["seed"] == 99


def test_bank_with_topic_options_is_refused(cli):
    bank = str(data_dir("question_banks") / "pooling.yaml")
    result = cli("make", "--bank", bank, "--count", "3")
    assert result.exit_code == 2 and "--count goes with --topic" in result.output


def test_a_section_with_few_distinct_problems_stops_redrawing(monkeypatch):
    """All parameters pinned: every draw is the same problem. The quiz still has its 30 questions, and the
    section gives up avoiding repeats after DUPLICATE_RETRIES fresh draws instead of retrying every time."""
    import quizgen.quiz as quiz

    calls = []
    real = quiz.generate
    monkeypatch.setattr(quiz, "generate", lambda *a, **k: calls.append(1) or real(*a, **k))
    spec = quiz.spec_from_topic(
        "pooling", count=30, seed=1,
        params={"mode": "max", "inputs": [[1, 2], [3, 4]], "pool_size": 2, "strides": 2, "padding": "valid"},
    )
    items = list(quiz.iter_items(spec))
    assert len(items) == 30 and len({i.problem.id for i in items}) == 1
    assert len(calls) == 30 + quiz.DUPLICATE_RETRIES


def test_a_quiz_avoids_repeating_a_problem_when_it_can():
    from quizgen.quiz import iter_items, spec_from_topic

    spec = spec_from_topic("output-size", count=12, seed=3, difficulty="easy")
    ids = [i.problem.id for i in iter_items(spec)]
    assert len(set(ids)) == len(ids)


def test_the_command_line_collects_garbage_less_often_and_the_library_does_not(cli):
    import gc

    from quizgen.cli import GC_THRESHOLD

    default = subprocess.run(
        [sys.executable, "-c", "import gc; print(gc.get_threshold())"], capture_output=True, text=True, check=True
    ).stdout
    library = subprocess.run(
        [sys.executable, "-c", "import gc, quizgen.make, quizgen.grade; print(gc.get_threshold())"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert library == default  # importing the library changes nothing for the program that imports it
    before = gc.get_threshold()
    try:
        assert cli("topics").exit_code == 0
        assert gc.get_threshold() == (GC_THRESHOLD, *before[1:])
    finally:
        gc.set_threshold(*before)
