#!/usr/bin/env python3
"""Generation benchmark: in-process cost of one problem, per topic and difficulty, and of its JSON form.

    python benchmarks/generate_bench.py                 # 2,000 problems per topic and difficulty
    python benchmarks/generate_bench.py -n 500 --topic convolution

Whole-process figures (start-up, rendering, writing) are benchmarks/run.py's job; this one says which
generator a slow quiz spends its time in. Each row is the mean over N problems drawn exactly as a quiz
draws them (``problem_rng(seed, topic, index)``), after a short warm-up.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from quizgen.problem import Difficulty, problem_json_text  # noqa: E402
from quizgen.registry import generate, generators, problem_rng  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=2000, help="problems per topic and difficulty (default 2,000)")
    parser.add_argument("--topic", action="append", default=[], help="only these topics")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    topics = args.topic or list(generators())
    total_gen = total_json = 0.0
    count = 0
    print(f"{'topic':14} {'difficulty':10} {'generate':>12} {'to JSON':>12}")
    for topic in topics:
        for difficulty in Difficulty:
            for i in range(20):  # warm-up: imports, caches
                generate(topic, problem_rng(args.seed, topic, i, salt="warm-up"), difficulty)
            start = time.perf_counter()
            problems = [generate(topic, problem_rng(args.seed, topic, i), difficulty) for i in range(args.n)]
            gen = time.perf_counter() - start
            start = time.perf_counter()
            for p in problems:
                problem_json_text(p)  # as `make --format json` writes it
            enc = time.perf_counter() - start
            total_gen += gen
            total_json += enc
            count += args.n
            print(f"{topic:14} {difficulty.value:10} {gen / args.n * 1e3:9.3f} ms {enc / args.n * 1e3:9.3f} ms", flush=True)
    print(f"{'mean':14} {'':10} {total_gen / count * 1e3:9.3f} ms {total_json / count * 1e3:9.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
