#!/usr/bin/env python3
"""quizgen's benchmark suite: whole-process timings and peak memory of the things instructors run.

    python benchmarks/run.py            # full sizes (a few minutes)
    python benchmarks/run.py --quick    # small sizes, a smoke run (CI runs this so the suite cannot rot)

Each task runs as a separate `quizgen` process (cold start included: a new interpreter, every import), after
one uncounted warm-up run, several times per size; the table gives the median, min and max wall time, the
median CPU time (user + system) and the largest peak RSS. Sizes grow by 10× so linear cost is visible.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]


def quizgen_cmd() -> list[str]:
    exe = shutil.which("quizgen")
    return [exe] if exe else [sys.executable, "-m", "quizgen.cli"]


@dataclass
class Task:
    name: str
    target: str
    sizes: tuple[int, ...]
    quick_sizes: tuple[int, ...]
    unit: str
    command: Callable[[int, Path], list[str]]  # size, scratch dir -> argv
    prepare: Callable[[int, Path], None] | None = None
    needs: Path | None = None  # a folder the task writes to; without it the task is left out, with a note


# As after `pip install`: Python may cache compiled bytecode (some sandboxes set PYTHONDONTWRITEBYTECODE, which
# makes every start compile quizgen afresh — not what a user's machine does).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_once(argv: list[str]) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (KiB) and CPU seconds (user + system) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode not in (0,):
        raise SystemExit(f"benchmark command failed ({proc.returncode}): {' '.join(argv)}\n{err}")
    return wall, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


# --- tasks ------------------------------------------------------------------------------------------------


def _cold_start(size: int, scratch: Path) -> list[str]:
    return [*quizgen_cmd(), "make", "--topic", "pooling", "--count", str(size), "--seed", "1"]


def _moodle_cloze(size: int, scratch: Path) -> list[str]:
    return [
        *quizgen_cmd(), "make", "--topic", "pooling", "--param", "mode=max", "--param", "input_shape=4x4",
        "--difficulty", "easy", "--count", str(size), "--seed", "1", "--format", "moodle", "--out", os.devnull,
    ]


def _mixed_bank(size: int, scratch: Path) -> None:
    from quizgen.registry import generators

    topics = list(generators())
    per = max(size // (len(topics) * 3), 1)
    lines = ["title: Benchmark", "seed: 1", "sections:"]
    for topic in topics:
        for difficulty in ("easy", "medium", "hard"):
            lines += [f"  - topic: {topic}", f"    count: {per}", f"    difficulty: {difficulty}"]
    (scratch / f"mixed-{size}.yaml").write_text("\n".join(lines) + "\n")


def _mixed_json(size: int, scratch: Path) -> list[str]:
    return [*quizgen_cmd(), "make", "--bank", str(scratch / f"mixed-{size}.yaml"), "--format", "json", "--out", os.devnull]


def _grade_class(size: int, scratch: Path) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from grade_bench import build_class  # the synthetic class used by the grading benchmark

    folder = scratch / f"class-{size}"
    if not (folder / "answers.csv").exists():  # both grading tasks use the same class (written last)
        build_class(folder, students=size, questions=20)


def _grade(size: int, scratch: Path, results: Path | None = None) -> list[str]:
    folder = scratch / f"class-{size}"
    out = results or folder / "results"
    return [*quizgen_cmd(), "grade", str(folder / "answers.csv"), "--key", str(folder / "key.json"), "--out", str(out)]


# Grading writes one feedback file per student (10,000 files, about 100 MB, for the largest class). How long
# the kernel takes to create them depends on the disk far more than on quizgen — on this project's virtual
# disk from 0.2 s to 5 s for the same run — so grading is also timed with its results in a memory-backed
# folder, which shows quizgen's own cost.
MEMORY = Path("/dev/shm")


def _grade_in_memory(size: int, scratch: Path) -> list[str]:
    return _grade(size, scratch, MEMORY / f"{scratch.name}-results-{size}")


def _verify(size: int, scratch: Path) -> list[str]:
    return [*quizgen_cmd(), "verify", "--cases", str(size), "--seed", "1"]


TASKS = [
    Task("cold start: make --topic pooling (Markdown)", "<= 0.4 s for 5", (5, 50, 500), (5,), "problems", _cold_start),
    Task("max-pooling Moodle Cloze", "<= 2 s for 10,000", (1_000, 10_000), (100,), "variants", _moodle_cloze),
    Task("mixed topics to JSON (streamed)", "<= 15 s, <= 200 MB for 100,000", (10_000, 100_000), (300,), "problems", _mixed_json, _mixed_bank),
    Task("grade students x 20 questions", "<= 3 s for 10,000", (1_000, 10_000), (50,), "students", _grade, _grade_class),
    Task(
        "grade, results in memory (/dev/shm)", "<= 3 s for 10,000", (1_000, 10_000), (50,), "students",
        _grade_in_memory, _grade_class, needs=MEMORY,
    ),
    Task("verify against Keras (per family)", "<= 60 s for 1,000", (100, 1_000), (10,), "cases", _verify),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each (a smoke test)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per size (default 5; --quick: 1)")
    parser.add_argument("--only", action="append", default=[], help="run only tasks whose name contains this")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args()
    repeat = 1 if args.quick else max(args.repeat, 1)
    rows = []
    with tempfile.TemporaryDirectory(prefix="quizgen-bench-") as tmp:
        scratch = Path(tmp)
        for task in TASKS:
            if args.only and not any(o in task.name for o in args.only):
                continue
            if task.needs is not None and not task.needs.is_dir():
                print(f"{task.name:44} left out: {task.needs} does not exist on this machine", flush=True)
                continue
            for size in task.quick_sizes if args.quick else task.sizes:
                if task.prepare:
                    task.prepare(size, scratch)
                argv = task.command(size, scratch)
                try:
                    if not args.quick:
                        run_once(argv)  # warm-up, not counted: bytecode written, files in the page cache
                    runs = [run_once(argv) for _ in range(repeat if "verify" not in task.name else min(repeat, 3))]
                finally:
                    if task.needs is not None:  # what the task wrote outside the scratch folder
                        for path in task.needs.glob(f"{scratch.name}-*"):
                            shutil.rmtree(path, ignore_errors=True)
                walls = [w for w, _, _ in runs]
                row = {
                    "task": task.name,
                    "size": f"{size:,} {task.unit}",
                    "median_s": statistics.median(walls),
                    "min_s": min(walls),
                    "max_s": max(walls),
                    "cpu_s": statistics.median(c for _, _, c in runs),
                    "peak_rss_mb": max(r for _, r, _ in runs) / 1024,
                    "target": task.target,
                    "runs": len(runs),
                }
                rows.append(row)
                print(
                    f"{row['task']:44} {row['size']:>18} median {row['median_s']:7.3f} s  "
                    f"min {row['min_s']:7.3f}  max {row['max_s']:7.3f}  cpu {row['cpu_s']:7.3f}  "
                    f"peak {row['peak_rss_mb']:6.1f} MB  (target {row['target']})",
                    flush=True,
                )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
