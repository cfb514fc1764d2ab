"""The project's exceptions.

Every error quizgen raises on purpose is a :class:`QuizgenError`. A :class:`UserError` is one that a person
caused and can fix (a bank typo, a bad option, an impossible layer configuration); the command line turns it
into a single line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class QuizgenError(Exception):
    """Base class of every exception quizgen raises deliberately."""

    exit_code = 1


class UserError(QuizgenError):
    """An error in what a person asked for or supplied; its message is shown as is."""

    exit_code = 2


class ConfigError(UserError):
    """An impossible or unsupported layer / operation configuration (engine-level)."""


class MissingDependencyError(UserError):
    """An optional dependency (TensorFlow for the cross-check) is not installed."""

    exit_code = 3


def did_you_mean(value: str, allowed: Iterable[str]) -> str:
    """Return " (did you mean 'x'?)" for the closest allowed name, or "" when nothing is close."""
    close = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def one_of(allowed: Iterable[object]) -> str:
    """Format allowed values as "'a', 'b' or 'c'"."""
    items = [repr(a) for a in allowed]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]
