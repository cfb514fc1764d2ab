"""`quizgen make`: build the quiz spec from a topic or a bank, generate, render and write it."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from quizgen.errors import UserError
from quizgen.output import emit
from quizgen.quiz import DEFAULT_COUNT, QuizSpec, iter_items, spec_from_topic
from quizgen.render import check_format, render

SEED_RANGE = 1_000_000  # a random seed when none is given: short enough to read off a printout


def parse_param(text: str) -> tuple[str, Any]:
    """Parse one --param KEY=VALUE. VALUE is read as YAML data (3, [2, 2], same, true) — never as code."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    import yaml  # only when --param is used: keeps start-up short

    if not sep or not key:
        raise UserError(f"--param must look like KEY=VALUE, e.g. pool_size=3 (got {text!r})")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw.strip()
    return key, value


def parse_params(texts: Sequence[str]) -> dict[str, Any]:
    return dict(parse_param(t) for t in texts)


def build_spec(
    *,
    topic: str | None = None,
    bank: str | Path | None = None,
    count: int | None = None,
    seed: int | None = None,
    difficulty: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> QuizSpec:
    """The quiz to make: from exactly one of ``topic`` or ``bank``; a seed is drawn when none is given."""
    if (topic is None) == (bank is None):
        raise UserError("give either --topic or --bank (see `quizgen topics` for the topics)")
    if bank is not None:
        for flag, value in (("--count", count), ("--difficulty", difficulty), ("--param", params)):
            if value:
                raise UserError(f"{flag} goes with --topic; a bank sets it per section")
        from quizgen.bank import load_bank

        spec = load_bank(bank)
        if seed is not None:
            spec = QuizSpec(spec.title, seed, spec.sections, spec.source)
        return spec
    return spec_from_topic(
        topic,
        count=DEFAULT_COUNT if count is None else count,
        seed=secrets.randbelow(SEED_RANGE) if seed is None else seed,
        difficulty=difficulty or "medium",
        params=params,
    )


def make_quiz(
    *,
    topic: str | None = None,
    bank: str | Path | None = None,
    count: int | None = None,
    seed: int | None = None,
    difficulty: str | None = None,
    params: Mapping[str, Any] | None = None,
    fmt: str = "markdown",
    out: str | Path | None = None,
    solutions: bool = True,
    templates_dir: str | None = None,
    key: str | Path | None = None,
    **options: Any,
) -> QuizSpec:
    """Make one quiz and write it to ``out`` (stdout when None); returns the spec it used. With ``key``, also
    write an answer key for grading the quiz, which everyone takes in this one variant."""
    check_format(fmt)
    if out is not None and Path(out).is_dir():
        raise UserError(f"{out}: --out is a folder; give a file name (a folder goes with --roster)")
    if key is not None:
        if Path(key).is_dir():
            raise UserError(f"{key}: --key is a folder; give a file name such as key.json")
        if out is not None and str(out) != "-" and Path(key).resolve() == Path(out).resolve():
            raise UserError(f"{key}: --key and --out are the same file; the key needs a file of its own")
    spec = build_spec(topic=topic, bank=bank, count=count, seed=seed, difficulty=difficulty, params=params)
    if key is None:
        emit(render(spec, iter_items(spec), fmt, solutions=solutions, templates_dir=templates_dir, **options), out)
        return spec
    from quizgen.grade.key import write_shared_key

    items = list(iter_items(spec))
    emit(render(spec, items, fmt, solutions=solutions, templates_dir=templates_dir, **options), out)
    document = None if out is None or str(out) == "-" else str(out)
    write_shared_key(key, spec, items, fmt, document)  # after the quiz: a key exists only when its quiz does
    return spec


def make_roster_quizzes(
    *,
    roster: str | Path,
    out: str | Path | None,
    topic: str | None = None,
    bank: str | Path | None = None,
    count: int | None = None,
    seed: int | None = None,
    difficulty: str | None = None,
    params: Mapping[str, Any] | None = None,
    fmt: str = "markdown",
    solutions: bool = False,
    templates_dir: str | None = None,
    key: str | Path | None = None,
    **options: Any,
):
    """One variant per student of a roster, with the answer key and an answer sheet, in the folder ``out``
    (see :mod:`quizgen.roster`); returns what was written."""
    from quizgen.roster import KEY_FILE, make_variants, read_roster

    check_format(fmt)
    if key is not None:
        raise UserError(f"--key goes without --roster: with --roster the answer key is written to OUT/{KEY_FILE}")
    if out is None or str(out) == "-":
        raise UserError("--roster writes one file per student: give a folder with --out, e.g. --out exams/")
    students = read_roster(roster)
    spec = build_spec(topic=topic, bank=bank, count=count, seed=seed, difficulty=difficulty, params=params)
    return make_variants(spec, students, out, fmt, solutions=solutions, templates_dir=templates_dir, **options)
