#!/usr/bin/env python3
"""Grading benchmark: a synthetic class of N students × Q questions, graded in-process and timed.

    python benchmarks/grade_bench.py                       # 10,000 students × 20 questions
    python benchmarks/grade_bench.py --students 1000 --keep /tmp/class
    python benchmarks/grade_bench.py --students 1000 --distinct   # every student their own variant

The class is built like ``make --roster`` builds one — the same key manifest and answer sheet — except that
the problems come from a pool of variants (drawing 200,000 problems would time the generators, not the
grader); ``--distinct`` draws every student's own variant instead, as a real roster gets. Answers are a realistic mix: right answers typed in the ways people type them (thousands separators,
decimal commas, brackets, 13x13x8), answers equal to a catalogued mistake, partly right matrices, blanks,
unreadable text, and a few rows that must be rejected (unknown and duplicate IDs).
``build_class`` is also what benchmarks/run.py uses for its whole-process grading timing.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from quizgen.grade.csvio import csv_chunks  # noqa: E402
from quizgen.grade.key import KeyBuilder  # noqa: E402
from quizgen.output import write_atomic  # noqa: E402
from quizgen.problem import Difficulty, answer_to_json  # noqa: E402
from quizgen.quiz import QuizSpec, Section, iter_items  # noqa: E402
from quizgen.registry import generators  # noqa: E402

POOL = 100  # distinct variants the students share


def class_spec(questions: int, seed: int = 1) -> QuizSpec:
    """A bank-like spec cycling through every registered topic and difficulty."""
    topics = list(generators())
    sections = []
    for i in range(questions):
        sections.append(Section(topics[i % len(topics)], 1, list(Difficulty)[i % 3], 1 + i % 3))
    return QuizSpec("Benchmark class", seed, tuple(sections), "benchmark")


def _number(value, rng: random.Random) -> str:
    if isinstance(value, int):
        style = rng.random()
        if value >= 1000 and style < 0.3:
            return f"{value:,}"
        if value >= 1000 and style < 0.4:
            return f"{value:,}".replace(",", "\u202f")
        return str(value)
    f = Fraction(value)
    return value if rng.random() < 0.5 else f"{float(f):.2f}".replace(".", "," if rng.random() < 0.3 else ".")


def _matrix(value, rng: random.Random) -> str:
    if isinstance(value[0][0], list):
        return json.dumps(value).replace('"', "")
    if rng.random() < 0.5:
        return "; ".join(" ".join(str(v) for v in row) for row in value)
    return json.dumps(value).replace('"', "")


def typed(kind: str, answer, rng: random.Random) -> str:
    """An answer as a student might type it."""
    if kind == "number":
        return _number(answer, rng)
    if kind == "shape":
        return rng.choice(["({})".format(", ".join(map(str, answer))), "x".join(map(str, answer)), json.dumps(answer)])
    if kind == "matrix":
        return _matrix(answer, rng)
    rows = [f"{tuple(r['output_shape'])} {r['params']}".replace(",)", ")") for r in answer["rows"]]
    return "\n".join(rows + [f"total {answer['total']}"])


def _perturb(kind: str, answer, rng: random.Random):
    if kind == "matrix":
        rows = json.loads(json.dumps(answer))
        rows[0][0] = 99 if not isinstance(rows[0][0], list) else [99] * len(rows[0][0])
        return rows
    if kind == "number":
        return (answer if isinstance(answer, int) else 1) + 1
    if kind == "shape":
        return [d + 1 for d in answer]
    table = json.loads(json.dumps(answer))
    table["total"] += 1
    return table


def build_class(
    folder: Path, students: int = 10_000, questions: int = 20, seed: int = 1, *, distinct: bool = False
) -> tuple[Path, Path]:
    """Write folder/key.json and folder/answers.csv for a synthetic class; returns their paths. With
    ``distinct`` every student gets their own variant, drawn as ``make --roster`` draws it (salted with the ID)."""
    folder = Path(folder)
    rng = random.Random(seed)
    spec = class_spec(questions, seed)
    ids = [f"s{n:06d}" for n in range(students)]
    if distinct:
        variants = [list(iter_items(spec, salt=sid)) for sid in ids]
    else:
        pool = [list(iter_items(spec, salt=f"pool-{i}")) for i in range(min(POOL, students))]
        variants = [pool[n % len(pool)] for n in range(students)]
    builder = KeyBuilder()
    for n, sid in enumerate(ids):
        builder.add(sid, f"Student {n}", f"{sid}.md", variants[n])
    key = folder / "key.json"
    write_atomic(key, builder.chunks(spec, "markdown"))
    rows = []
    for n, sid in enumerate(ids):
        cells = [sid, f"Student {n}"]
        for item in variants[n]:
            kind, answer = item.problem.kind.value, answer_to_json(item.problem.answer)
            mistakes = item.problem.mistakes
            r = rng.random()
            if r < 0.70:
                cells.append(typed(kind, answer, rng))
            elif r < 0.82 and mistakes:
                cells.append(typed(kind, answer_to_json(rng.choice(mistakes).answer), rng))
            elif r < 0.90:
                cells.append(typed(kind, _perturb(kind, answer, rng), rng))
            elif r < 0.96:
                cells.append("")
            else:
                cells.append(rng.choice(["no idea", "?", "see paper", "3..5", "[[1,2],[3]]"]))
        rows.append(cells)
    rows.append(["nobody", "Not Enrolled", *[""] * questions])
    rows.append(list(rows[0]))
    header = ["id", "name", *(f"q{n}" for n in range(1, questions + 1))]
    answers = folder / "answers.csv"
    write_atomic(answers, csv_chunks(header, rows, bom=True))
    return key, answers


def grade_process(key: Path, answers: Path, out: Path) -> float:
    """Wall seconds of one whole `quizgen grade` process (start-up included), as an instructor runs it."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "quizgen.cli", "grade", str(answers), "--key", str(key), "--out", str(out)],
        check=True, stdout=subprocess.DEVNULL, cwd=ROOT,
    )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=10_000)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--distinct", action="store_true", help="every student their own variant (slow to build)")
    parser.add_argument("--keep", type=Path, help="build the class in this folder and keep it")
    args = parser.parse_args()
    from quizgen.grade import grade_files

    with tempfile.TemporaryDirectory(prefix="quizgen-grade-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        key, answers = build_class(folder, args.students, args.questions, distinct=args.distinct)
        built = time.perf_counter() - start
        size = key.stat().st_size / 1e6
        start = time.perf_counter()
        report = grade_files(answers, key, folder / "results")
        graded = time.perf_counter() - start
        process = grade_process(key, answers, folder / "results-process")
    variants = "a variant each" if args.distinct else f"{min(POOL, args.students)} shared variants"
    print(f"built the class ({variants}) in {built:.1f} s (key.json {size:.1f} MB)")
    print(
        f"graded {len(report.results):,} students × {args.questions} questions "
        f"({len(report.rejected)} rows rejected) in {graded:.2f} s in-process; "
        f"a whole `quizgen grade` process took {process:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
