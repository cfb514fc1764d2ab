"""The command line: each command parses its options and calls one library function.

Errors a person can fix become one line on stderr and a non-zero exit code; anything else is reported as an
internal error in one line too (QUIZGEN_DEBUG=1 shows the traceback).
"""

from __future__ import annotations

import gc
import os
import sys

import click

from quizgen import __version__
from quizgen.errors import QuizgenError, UserError

INTERNAL_ERROR = 70

# Making a quiz allocates many small, short-lived tuples while the engine's caches keep thousands of
# long-lived objects, which every collection of the older generations walks again. Problems are trees (no
# reference cycles to find), so the collector can run less often: with the youngest generation collected
# every 10,000 allocations instead of Python's default 700, 100,000 mixed problems take about 5% less time
# for about 1 MB more memory. Set for the process by the command line only; the library leaves it alone.
GC_THRESHOLD = 10_000


class _Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except UserError as exc:
            click.echo(f"quizgen: error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except QuizgenError as exc:
            if os.environ.get("QUIZGEN_DEBUG"):
                raise
            click.echo(f"quizgen: error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except BrokenPipeError:
            sys.stderr.close()  # the reader went away (e.g. `| head`): stop quietly
            ctx.exit(0)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - the one place that turns bugs into a one-line report
            if os.environ.get("QUIZGEN_DEBUG"):
                raise
            click.echo(
                f"quizgen: internal error: {type(exc).__name__}: {exc} "
                "(run again with QUIZGEN_DEBUG=1 for the traceback, and please report it)",
                err=True,
            )
            ctx.exit(INTERNAL_ERROR)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="quizgen")
def main() -> None:
    """Randomized CNN-fundamentals exercises with exact, Keras-checked answer keys."""
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])


@main.command()
@click.option("--params", "show_params", is_flag=True, help="Also list each topic's parameters.")
def topics(show_params: bool) -> None:
    """List the problem topics."""
    from quizgen.registry import generators

    for gen in generators().values():
        click.echo(f"{gen.name:14} {gen.description}")
        if show_params:
            for spec in gen.params.values():
                click.echo(f"    {spec.name:14} {spec.help}: {spec.describe()}")


@main.command()
@click.option("--topic", "-t", help="Topic to draw problems from (see `quizgen topics`).")
@click.option("--bank", "-b", type=click.Path(dir_okay=False), help="Question bank YAML file.")
@click.option("--count", "-n", type=int, help="Number of problems (with --topic; default 5).")
@click.option("--seed", "-s", type=int, help="Random seed; the same seed gives the same quiz (default: random, printed).")
@click.option("--difficulty", "-d", type=click.Choice(["easy", "medium", "hard"]), help="With --topic (default medium).")
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE", help="Pin a parameter, e.g. pool_size=3 (repeatable).")
@click.option("--format", "-f", "fmt", default="markdown", show_default=True, help="markdown, latex, moodle or json.")
@click.option("--out", "-o", type=click.Path(), help="Output file (default: stdout); with --roster, a folder.")
@click.option("--roster", type=click.Path(dir_okay=False), help="Class roster CSV: one variant per student, an answer key and an answer sheet in --out.")
@click.option("--solutions/--no-solutions", default=None, help="Include the answer key and worked solutions (default: yes; with --roster: no).")
@click.option("--templates", "templates_dir", type=click.Path(file_okay=False, exists=True), help="Folder of templates that override the shipped ones by name.")
@click.option("--moodle-type", help="With --format moodle: numerical (default) or multichoice, for numeric answers.")
@click.option("--key", "key", type=click.Path(dir_okay=False), help="Also write an answer key (key.json) for `quizgen grade`; everyone takes this one quiz.")
def make(topic, bank, count, seed, difficulty, params, fmt, out, roster, solutions, templates_dir, moodle_type, key) -> None:
    """Make a quiz with its answer key."""
    from quizgen.make import make_quiz, make_roster_quizzes, parse_params

    if roster:
        report = make_roster_quizzes(
            roster=roster, out=out, topic=topic, bank=bank, count=count, seed=seed, difficulty=difficulty,
            params=parse_params(params) or None, fmt=fmt, solutions=bool(solutions), templates_dir=templates_dir,
            moodle_type=moodle_type, key=key,
        )
        click.echo(report.summary(), err=True)
        return
    spec = make_quiz(
        topic=topic,
        bank=bank,
        count=count,
        seed=seed,
        difficulty=difficulty,
        params=parse_params(params) or None,
        fmt=fmt,
        out=out,
        solutions=solutions is not False,
        templates_dir=templates_dir,
        moodle_type=moodle_type,
        key=key,
    )
    if out:
        click.echo(f"wrote {out}: {spec.count} problems, seed {spec.seed}", err=True)
    if key:
        click.echo(f"wrote the answer key {key}: grade with `quizgen grade ANSWERS.csv --key {key}`", err=True)


@main.command()
@click.argument("answers", type=click.Path(dir_okay=False))
@click.option("--key", "-k", required=True, type=click.Path(dir_okay=False), help="The key.json written by `make --roster` or `make --key`.")
@click.option("--out", "-o", default="results", show_default=True, type=click.Path(file_okay=False), help="Folder for grades, feedback and rejected rows.")
@click.option("--tolerance", default="0.005", show_default=True, help="How far a decimal may be from a fraction answer.")
def grade(answers, key, out, tolerance) -> None:
    """Grade a class's answers CSV against an answer key."""
    import gc

    from quizgen.grade import grade_files, parse_tolerance

    # Millions of small objects (the key, every mark) live until the process ends: the collector stays paused
    # while they are made, and then they are frozen, so that it does not scan them all when it resumes, in
    # the summary and once more at exit (a second or so for a large class).
    gc.disable()
    try:
        report = grade_files(answers, key, out, tolerance=parse_tolerance(tolerance))
        gc.freeze()
    finally:
        gc.enable()
    click.echo("\n".join(report.summary()))


@main.command()
@click.option("--cases", "-n", default=1000, show_default=True, type=click.IntRange(min=1), help="Cases per family (its fixed edge cases are always among them).")
@click.option("--seed", "-s", default=0, show_default=True, type=int, help="Random seed; the same seed checks the same cases.")
@click.option(
    "--family",
    "families",
    multiple=True,
    metavar="NAME",
    help="Check only this family (repeatable): output-size, params, model-trace, pooling, convolution, adaptive-pooling, conv-macs.",
)
def verify(cases: int, seed: int, families: tuple[str, ...]) -> None:
    """Cross-check the engine against Keras on random configurations (needs TensorFlow); exit 1 on any disagreement."""
    from quizgen.crosscheck import load_keras
    from quizgen.verify import format_report, planned_cases, run_verify

    total = planned_cases(cases, families)
    load_keras()  # before the bar: a missing TensorFlow is a one-line error, and its import is not progress
    with click.progressbar(length=total, label="Cross-checking against Keras", file=sys.stderr) as bar:
        report = run_verify(cases, seed, bar.update, families)
    click.echo(format_report(report))
    if not report.ok:
        click.get_current_context().exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
