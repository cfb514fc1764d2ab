"""The answer key manifest (``key.json``) written by ``quizgen make --roster`` and read by ``quizgen grade``.

Layout (README, "Per-student variants", documents every field)::

    {"quizgen_key": 1, "quizgen": "0.1.0", "bank": "banks/midterm.yaml", "title": "...", "seed": 42,
     "fingerprint": "sha256:...", "spec": {...}, "format": "latex", "questions": 5, "total_points": 10,
     "students": [
    {"id": "s123", "name": "Ada Lovelace", "file": "s123.tex", "questions": [{"number": 1, "points": 2,
      "problem_id": "pooling-54598e3aac", "topic": "pooling", "answer_kind": "matrix", "answer": [[6, 4], [4, 4]]}, ...]},
    ...
    ],
     "problems": {
    "pooling-54598e3aac": {"title": "...", "mistakes": [{"name": "ignored-stride", "answer": [...], "feedback": "..."}],
      "solution": ["..."]},
    ...
    }}

One student (and one problem) per line, so the file diffs well. A question's mistakes and worked solution
are stored once per problem, under its id (a content hash: the same problem always has the same id), since
students whose variants share a problem share them too. Answers use the JSON encoding of
:func:`quizgen.problem.answer_to_json`; the grader compares students' answers in that encoding, so loading
the key builds no Problem objects.
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from quizgen import __version__
from quizgen.errors import UserError
from quizgen.problem import AnswerKind, answer_to_json, number_from_json, number_to_json, params_to_json
from quizgen.problem import Problem
from quizgen.quiz import QuizItem, QuizSpec

KEY_FORMAT = 1  # bump when the manifest changes incompatibly
KINDS = frozenset(k.value for k in AnswerKind)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
MAX_STEM = 60


class AnswerKeyError(UserError):
    """A key file that is missing, not a quizgen key, or damaged; the message names the file and the entry."""


# --- writing ------------------------------------------------------------------------------------------------


def spec_to_json(spec: QuizSpec) -> dict[str, Any]:
    """What was asked for — title, seed, sections — as JSON data; enough to make the same variants again."""
    return {
        "title": spec.title,
        "seed": spec.seed,
        "sections": [
            {
                "topic": s.topic,
                "count": s.count,
                "difficulty": s.difficulty.value,
                "points": number_to_json(s.points),
                "params": params_to_json(s.params),
                "title": s.title,
            }
            for s in spec.sections
        ],
    }


def spec_fingerprint(spec: QuizSpec) -> str:
    """A hash of the spec: two keys with the same fingerprint hold variants of the same quiz."""
    canonical = json.dumps(spec_to_json(spec), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:16]


def question_entry(item: QuizItem) -> dict[str, Any]:
    """One question of one student's variant, as the key stores it (its problem's details are separate)."""
    p = item.problem
    return {
        "number": item.number,
        "points": number_to_json(item.points),
        "problem_id": p.id,
        "topic": p.topic,
        "answer_kind": p.kind.value,
        "answer": answer_to_json(p.answer),
    }


def problem_entry(problem: Problem) -> dict[str, Any]:
    """What the key stores once per problem: its title, its mistakes' answers and feedback, the solution."""
    return {
        "title": problem.title,
        "mistakes": [{"name": m.name, "answer": answer_to_json(m.answer), "feedback": m.feedback} for m in problem.mistakes],
        "solution": list(problem.solution),
    }


@dataclass
class KeyBuilder:
    """Collects the students' variants for a key; each distinct problem is stored once."""

    students: list[dict[str, Any]] = field(default_factory=list)
    problems: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, student_id: str, name: str, file: str, items: Sequence[QuizItem]) -> None:
        for item in items:
            if item.problem.id not in self.problems:
                self.problems[item.problem.id] = problem_entry(item.problem)
        self.students.append({"id": student_id, "name": name, "file": file, "questions": [question_entry(i) for i in items]})

    def chunks(self, spec: QuizSpec, fmt: str) -> Iterator[str]:
        """The key document, one student and one problem per line (for :func:`quizgen.output.write_atomic`)."""
        head = {
            "quizgen_key": KEY_FORMAT,
            "quizgen": __version__,
            "bank": spec.source or None,
            "title": spec.title,
            "seed": spec.seed,
            "fingerprint": spec_fingerprint(spec),
            "spec": spec_to_json(spec),
            "format": fmt,
            "questions": spec.count,
            "total_points": number_to_json(spec.total_points),
        }
        compact = {"ensure_ascii": False, "separators": (",", ":")}
        yield json.dumps(head, ensure_ascii=False)[:-1] + ',\n"students": [\n'
        yield ",\n".join(json.dumps(entry, **compact) for entry in self.students)
        yield '\n],\n"problems": {\n'
        yield ",\n".join(json.dumps(pid) + ":" + json.dumps(entry, **compact) for pid, entry in self.problems.items())
        yield "\n}}\n"


# --- file names of the variants and the feedback ----------------------------------------------------------------------------------------------


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def safe_stem(student_id: str) -> str:
    """A file name stem for an ID: the ID itself when it is made of letters, digits, '.', '_' and '-';
    otherwise the ID with other characters replaced by '_' and a short hash of the ID added."""
    stem = _UNSAFE.sub("_", student_id).strip("._")[:MAX_STEM]
    if stem != student_id or not stem or stem.casefold() in _RESERVED:
        stem = f"{stem or 'student'}-{_hash(student_id)}"
    return stem


def file_stems(ids: Iterable[str], taken: Iterable[str] = ()) -> dict[str, str]:
    """Stems for a class: :func:`safe_stem`, with a hash added where two stems would be the same file on a
    case-insensitive file system (or would take a name in ``taken``)."""
    ids = list(ids)
    stems = {sid: safe_stem(sid) for sid in ids}
    counts: dict[str, int] = {}
    for stem in stems.values():
        counts[stem.casefold()] = counts.get(stem.casefold(), 0) + 1
    reserved = {t.casefold() for t in taken}
    for sid, stem in stems.items():
        if counts[stem.casefold()] > 1 or stem.casefold() in reserved:
            stems[sid] = f"{stem}-{_hash(sid)}"
    return stems


# --- reading ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudentKey:
    """One student's variant: questions by number, each the key's JSON entry (read-only by convention)."""

    id: str
    name: str
    file: str
    questions: Mapping[int, Mapping[str, Any]]
    total_points: int | Fraction


@dataclass(frozen=True)
class AnswerKey:
    """A loaded key: every student's variant, plus lookups that forgive how IDs get retyped."""

    path: str
    title: str
    seed: int
    bank: str | None
    fingerprint: str
    version: str
    questions: int
    students: Mapping[str, StudentKey]
    _folded: Mapping[str, str] = field(default_factory=dict, repr=False)
    _unpadded: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def numbers(self) -> range:
        return range(1, self.questions + 1)

    def resolve(self, raw: str) -> str | None:
        """The key's ID for an ID typed in an answers file: exact (after trimming spaces); else ignoring letter
        case; else, for all-digit IDs, ignoring leading zeros (which Excel drops) — each only when it
        points at exactly one student. None when no student matches."""
        text = raw.strip()
        if text in self.students:
            return text
        if text.startswith("'"):
            return self.resolve(text[1:]) if text[1:].strip() else None
        hit = self._folded.get(text.casefold())
        if hit:
            return hit
        if text.isdigit():
            return self._unpadded.get(text.lstrip("0") or "0")
        return None


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: building millions of small lists from a large key otherwise
    triggers full collections that cost more than the parsing (the objects hold no cycles)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _fail(path: str, message: str) -> AnswerKeyError:
    return AnswerKeyError(f"{path}: {message}")


def load_key(path: str | Path) -> AnswerKey:
    """Read and check a key manifest; AnswerKeyError naming the file (and student, question) otherwise."""
    with gc_paused():
        return _load_key(path)


def _load_key(path: str | Path) -> AnswerKey:
    where = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise _fail(where, "no such key file (make one with `quizgen make --bank ... --roster ... --out DIR`)") from None
    except IsADirectoryError:
        raise _fail(where, "is a folder; give the key.json file inside it") from None
    except OSError as exc:
        raise _fail(where, f"cannot read the key ({exc.strerror})") from None
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _fail(where, f"not a quizgen answer key (not JSON: {exc})") from None
    if not isinstance(data, dict) or "quizgen_key" not in data:
        hint = " (this looks like a quiz made without --roster)" if isinstance(data, dict) and "problems" in data else ""
        raise _fail(where, f"not a quizgen answer key: no 'quizgen_key' field{hint}")
    if data["quizgen_key"] != KEY_FORMAT:
        raise _fail(where, f"key format {data['quizgen_key']!r} is not supported (this quizgen reads format {KEY_FORMAT})")
    students_data, problems = data.get("students"), data.get("problems")
    if not isinstance(students_data, list) or not students_data:
        raise _fail(where, "the key lists no students")
    if not isinstance(problems, dict):
        raise _fail(where, "the key has no 'problems' table")
    for pid, problem in problems.items():
        mistakes = problem.get("mistakes", []) if type(problem) is dict else None
        if (
            type(mistakes) is not list
            or not all(type(m) is dict and type(m.get("name")) is str and "answer" in m for m in mistakes)
            or type(problem.get("solution", [])) is not list
        ):
            raise _fail(where, f"problem {pid!r}: needs a 'mistakes' list (each with 'name' and 'answer') and a 'solution' list")
    students: dict[str, StudentKey] = {}
    count = 0
    for n, entry in enumerate(students_data, 1):
        student = _student(entry, problems, f"{where}: student {n}")
        if student.id in students:
            raise _fail(where, f"student {n}: ID {student.id!r} appears twice")
        students[student.id] = student
        count = max(count, max(student.questions))
    folded: dict[str, list[str]] = {}
    unpadded: dict[str, list[str]] = {}
    for sid in students:
        folded.setdefault(sid.casefold(), []).append(sid)
        if sid.isdigit():
            unpadded.setdefault(sid.lstrip("0") or "0", []).append(sid)
    return AnswerKey(
        path=where,
        title=str(data.get("title") or Path(where).stem),
        seed=data.get("seed", 0),
        bank=data.get("bank"),
        fingerprint=str(data.get("fingerprint", "")),
        version=str(data.get("quizgen", "")),
        questions=count,
        students=students,
        _folded={k: v[0] for k, v in folded.items() if len(v) == 1},
        _unpadded={k: v[0] for k, v in unpadded.items() if len(v) == 1},
    )


def _student(entry: Any, problems: Mapping[str, Any], where: str) -> StudentKey:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not entry["id"].strip():
        raise AnswerKeyError(f"{where}: needs an 'id' text")
    sid = entry["id"]
    where = f"{where} ({sid!r})"
    questions = entry.get("questions")
    if not isinstance(questions, list) or not questions:
        raise AnswerKeyError(f"{where}: needs a non-empty 'questions' list")
    by_number: dict[int, dict[str, Any]] = {}
    total: int | Fraction = 0
    for q in questions:
        number = q.get("number") if type(q) is dict else None
        if type(number) is not int or number < 1 or number in by_number:
            raise AnswerKeyError(f"{where}: a question without a unique 'number' >= 1")
        kind = q.get("answer_kind")
        if type(kind) is not str or not _answer_ok(kind, q.get("answer")):
            raise AnswerKeyError(
                f"{where}, question {number}: needs 'answer_kind' ({', '.join(sorted(KINDS))}) and an 'answer' of that kind"
            )
        pid = q.get("problem_id")
        problem = problems.get(pid) if type(pid) is str else None
        if problem is None:
            raise AnswerKeyError(f"{where}, question {number}: problem {q.get('problem_id')!r} is not in the 'problems' table")
        points = q.get("points", 1)
        if type(points) is not int:
            try:
                points = number_from_json(points)
            except Exception:  # noqa: BLE001 - any bad value is the same user-facing problem
                points = -1
        if points < 0:
            raise AnswerKeyError(f"{where}, question {number}: 'points' must be a number >= 0 (got {q.get('points')!r})")
        total += points
        # The grader reads one record per question: exact points, and the problem's details joined in
        # (shared with every student who has the problem, not copied).
        q["points"] = points
        q["title"] = problem.get("title", "")
        q["mistakes"] = problem.get("mistakes", [])
        q["solution"] = problem.get("solution", [])
        by_number[number] = q
    if list(by_number) != sorted(by_number):
        by_number = dict(sorted(by_number.items()))
    return StudentKey(sid, str(entry.get("name") or ""), str(entry.get("file") or ""), by_number, total)


def _answer_ok(kind: str, answer: Any) -> bool:
    """A cheap check that an answer has its kind's JSON type (the grader relies on it)."""
    if kind == "number":
        return type(answer) is int or type(answer) is str
    if kind in ("shape", "matrix"):
        return type(answer) is list and bool(answer)
    if kind == "table":
        return type(answer) is dict and type(answer.get("rows")) is list
    return False


def points_of(question: Mapping[str, Any]) -> int | Fraction:
    """A question's points as an exact number (the key stores ints and "p/q" strings; a loaded key holds
    them converted)."""
    points = question.get("points", 1)
    return points if type(points) is int or type(points) is Fraction else number_from_json(points)
