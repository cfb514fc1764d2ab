"""Where the shipped templates and question banks live.

In a wheel they are package data under ``quizgen/_data/``; in a source checkout (editable install) they are
the top-level ``templates/`` and ``question_banks/`` folders.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The shipped folder ``name`` ('templates' or 'question_banks')."""
    packaged = _PACKAGE / "_data" / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / name
