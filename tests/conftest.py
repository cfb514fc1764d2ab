"""Shared fixtures."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def keras_available():
    """TensorFlow/Keras for the cross-check tests: required in CI (a missing install fails, never skips)."""
    if os.environ.get("CI"):
        import tensorflow  # noqa: F401
    else:
        pytest.importorskip("tensorflow")
    return True


@pytest.fixture
def cli():
    """Invoke the click CLI in-process: cli(args...) -> click.testing.Result."""
    from click.testing import CliRunner

    from quizgen.cli import main

    runner = CliRunner()

    def invoke(*args: str, **kwargs):
        return runner.invoke(main, list(args), catch_exceptions=False, **kwargs)

    return invoke
