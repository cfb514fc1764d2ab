"""Question banks: YAML files that describe a quiz (title, seed, sections with topic, count, difficulty,
points and pinned parameters). Every mistake in a bank is reported with the file, the line and the key."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from quizgen.errors import QuizgenError, UserError, did_you_mean
from quizgen.problem import Difficulty
from quizgen.quiz import DEFAULT_COUNT, DEFAULT_DIFFICULTY, DEFAULT_POINTS, QuizSpec, Section
from quizgen.registry import generators, get

TOP_KEYS = ("title", "seed", "sections", "description")
SECTION_KEYS = ("topic", "count", "difficulty", "points", "params", "title")
MAX_COUNT = 10_000


class BankError(UserError):
    """A question bank that cannot be used; the message names the file and line."""


class _Doc:
    """A YAML mapping node with its values constructed and their line numbers kept."""

    def __init__(self, loader: yaml.SafeLoader, node: yaml.Node, where: str) -> None:
        self.where = where
        self.line = node.start_mark.line + 1
        self.values: dict[str, Any] = {}
        self.nodes: dict[str, yaml.Node] = {}
        self.lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            self.values[str(key)] = loader.construct_object(value_node, deep=True)
            self.nodes[str(key)] = value_node
            self.lines[str(key)] = key_node.start_mark.line + 1

    def error(self, key: str | None, message: str) -> BankError:
        line = self.lines.get(key, self.line) if key else self.line
        return BankError(f"{self.where}:{line}: {message}")

    def check_keys(self, allowed: tuple[str, ...], what: str) -> None:
        for key in self.values:
            if key not in allowed:
                raise self.error(key, f"unknown {what} key {key!r}{did_you_mean(key, allowed)}; allowed: {', '.join(allowed)}")


def _int(doc: _Doc, key: str, default: int, low: int, high: int | None = None) -> int:
    value = doc.values.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bound = f">= {low}" + (f" and <= {high:,}" if high is not None else "")
        raise doc.error(key, f"{key!r} must be an integer {bound} (got {value!r})")
    return value


def load_bank(path: str | Path) -> QuizSpec:
    """Read and check a bank file; BankError with file and line for anything wrong."""
    path = Path(path)
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise BankError(f"{where}: no such bank file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BankError(f"{where}: cannot read the bank ({exc})") from None
    return parse_bank(text, where)


def parse_bank(text: str, where: str = "<bank>") -> QuizSpec:
    """Check a bank given as YAML text (see :func:`load_bank`)."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise BankError(f"{where}{line}: not valid YAML: {problem}") from None
    finally:
        loader.dispose()
    if root is None or not isinstance(root, yaml.MappingNode):
        raise BankError(f"{where}:1: a bank must be a mapping with 'title', 'seed' and 'sections'")
    try:
        doc = _Doc(yaml.SafeLoader(""), root, where)
    except yaml.YAMLError as exc:
        raise BankError(f"{where}: not valid YAML: {exc}") from None
    doc.check_keys(TOP_KEYS, "bank")
    title = doc.values.get("title", Path(where).stem)
    if not isinstance(title, str) or not title.strip():
        raise doc.error("title", f"'title' must be a non-empty text (got {title!r})")
    seed = _int(doc, "seed", 0, 0)
    sections_node = doc.nodes.get("sections")
    if not isinstance(sections_node, yaml.SequenceNode) or not sections_node.value:
        raise doc.error("sections" if "sections" in doc.values else None, "'sections' must be a non-empty list of sections")
    sections = []
    for n, node in enumerate(sections_node.value, 1):
        if not isinstance(node, yaml.MappingNode):
            raise BankError(f"{where}:{node.start_mark.line + 1}: section {n} must be a mapping with at least 'topic'")
        sections.append(_section(_Doc(yaml.SafeLoader(""), node, where), n))
    return QuizSpec(title.strip(), seed, tuple(sections), where)


def _section(doc: _Doc, n: int) -> Section:
    doc.check_keys(SECTION_KEYS, f"section {n}")
    topic = doc.values.get("topic")
    if not isinstance(topic, str):
        raise doc.error("topic" if "topic" in doc.values else None, f"section {n} needs a 'topic' ({', '.join(generators())})")
    try:
        gen = get(topic)
    except UserError as exc:
        raise doc.error("topic", str(exc)) from None
    count = _int(doc, "count", DEFAULT_COUNT, 1, MAX_COUNT)
    try:
        difficulty = Difficulty.parse(doc.values.get("difficulty", DEFAULT_DIFFICULTY.value))
    except UserError as exc:
        raise doc.error("difficulty", str(exc)) from None
    points = doc.values.get("points", DEFAULT_POINTS)
    if isinstance(points, float) and points > 0 and (points * 4).is_integer():
        points = Fraction(points).limit_denominator(4)
    if isinstance(points, bool) or not isinstance(points, (int, Fraction)) or points <= 0:
        raise doc.error("points", f"'points' must be a positive number such as 1, 2 or 0.5 (got {points!r})")
    params = doc.values.get("params", {}) or {}
    if not isinstance(params, dict):
        raise doc.error("params", f"'params' must be a mapping of parameter: value (got {params!r})")
    param_doc = _Doc(yaml.SafeLoader(""), doc.nodes["params"], doc.where) if "params" in doc.nodes and params else None
    pinned = {}
    for key, value in params.items():
        where = f"{doc.where}:{param_doc.lines.get(str(key), doc.line) if param_doc else doc.line}"
        try:
            pinned.update(gen.coerce_params({str(key): value}, where))
        except QuizgenError as exc:
            raise BankError(str(exc)) from None
    title = doc.values.get("title", "")
    if not isinstance(title, str):
        raise doc.error("title", f"'title' must be text (got {title!r})")
    return Section(topic, count, difficulty, points, pinned, title)
