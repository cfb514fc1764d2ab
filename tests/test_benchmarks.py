"""The benchmark suite runs (at its smallest sizes) so it cannot rot. It asserts no timings: speed is
measured by `python benchmarks/run.py`, never by tests on a shared machine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_benchmark_run_completes(tmp_path, keras_available):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--json", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = json.loads(out.read_text())
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import run

    expected = {t.name for t in run.TASKS if t.needs is None or t.needs.is_dir()}
    assert {row["task"] for row in rows} == expected
    assert all(row["median_s"] > 0 and row["cpu_s"] > 0 and row["peak_rss_mb"] > 0 for row in rows)
    assert not list(run.MEMORY.glob("quizgen-bench-*-results-*"))  # results written in memory are removed


def test_generation_benchmark_runs():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "generate_bench.py"), "-n", "3", "--topic", "pooling"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines()[1:]]
    assert [r[:2] for r in rows[:3]] == [["pooling", "easy"], ["pooling", "medium"], ["pooling", "hard"]]
    assert rows[-1][0] == "mean"
