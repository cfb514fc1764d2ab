"""Writing results: streamed to stdout, or to a file atomically (a crash never leaves half a file)."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from quizgen.errors import UserError


def write_atomic(path: str | Path, chunks: Iterable[str]) -> int:
    """Write chunks to a temporary file beside ``path`` and rename it into place; returns characters written.

    A path that exists and is not a regular file (/dev/null, a pipe) is written directly.
    """
    path = Path(path)
    if path.exists() and not path.is_file():
        with open(path, "w", encoding="utf-8", newline="") as fh:
            return write_stream(chunks, fh)
    if path.parent and not path.parent.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"{path.parent}: cannot create the folder ({exc.strerror})") from None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    except OSError as exc:
        raise UserError(f"{path}: cannot write here ({exc.strerror})") from None
    written = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            for chunk in chunks:
                fh.write(chunk)
                written += len(chunk)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return written


def write_stream(chunks: Iterable[str], stream=None) -> int:
    """Write chunks to a text stream (stdout by default) as they come."""
    stream = stream or sys.stdout
    written = 0
    for chunk in chunks:
        stream.write(chunk)
        written += len(chunk)
    stream.flush()
    return written


def emit(chunks: Iterable[str], out: str | Path | None) -> int:
    """Write to ``out`` atomically, or stream to stdout when ``out`` is None or '-'."""
    if out is None or str(out) == "-":
        return write_stream(chunks)
    return write_atomic(out, chunks)
