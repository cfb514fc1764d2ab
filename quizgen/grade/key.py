"""The answer key manifest (``key.json``) written by ``quizgen make --roster`` (or ``make --key``) and read by
``quizgen grade``.

Layout (README, "The answer key manifest", documents every field)::

    {"quizgen_key": 2, "quizgen": "0.1.0", "bank": "banks/midterm.yaml", "title": "...", "seed": 42,
     "fingerprint": "sha256:...", "spec": {...}, "format": "latex", "questions": 5, "total_points": 10,
     "points": [2, 2, 2, 2, 2],
     "students": [
    {"id": "s123", "name": "Ada Lovelace", "file": "s123.tex", "problems": ["pooling-54598e3aac", ...]},
    ...
    ],
     "feedback": [
    "Pooling windows move by the stride ...",
    ...
    ],
     "problems": {
    "pooling-54598e3aac": {"answer_kind": "matrix", "answer": [[6, 4], [4, 4]], "title": "...",
      "mistakes": [["ignored-stride", [[6, 5, 4], ...], 0]], "solution": ["..."]},
    ...
    }}

A key for one quiz that everyone takes (``make --key``) has ``"shared": {"file": ..., "problems": [...]}`` in
place of ``students``: any student ID is graded against that variant.

Everything about a problem is stored once, under its id (a content hash: the same problem always has the same
id); a student's entry only lists the ids of their questions in order, and the points of question n are
``points[n - 1]``. Mistakes are ``[name, answer, feedback]`` with the feedback sentence given by its index in
``feedback`` (the same few sentences recur across thousands of problems), and a table mistake stores only what
grading compares — each row's output shape and parameters, ``null`` for a row equal to the right answer's.
One student, sentence or problem per line, so the file diffs well.

Answers use the JSON encoding of :func:`quizgen.problem.answer_to_json`; loading checks every problem once and
builds :class:`ProblemKey` records that the grader compares students' answers with, so grading builds no
Problem objects. Format 1 keys (every answer repeated in each student's entry) are still read.
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quizgen import __version__
from quizgen.errors import QuizgenError, UserError
from quizgen.problem import AnswerKind, answer_to_json, number_to_json, params_to_json

if TYPE_CHECKING:  # the grader never needs the generators: keep `quizgen grade` from importing them
    from quizgen.problem import Problem
    from quizgen.quiz import QuizItem, QuizSpec

KEY_FORMAT = 2  # bump when the manifest changes incompatibly
READ_FORMATS = (1, 2)  # formats `quizgen grade` still reads
KINDS = frozenset(k.value for k in AnswerKind)
_KIND = {k.value: k for k in AnswerKind}
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


def _table_rows_json(table: Mapping[str, Any]) -> list[list[Any]]:
    return [[r["output_shape"], r["params"]] for r in table["rows"]]


def mistake_answer_json(kind: AnswerKind, answer: Any, right: Any) -> Any:
    """A mistake's wrong answer as the key stores it: as is, except that a table keeps only each row's output
    shape and parameters (all the grader compares), with ``None`` for a row equal to the right answer's."""
    if kind is not AnswerKind.TABLE:
        return answer
    right_rows = _table_rows_json(right)
    rows = [
        None if i < len(right_rows) and row == right_rows[i] else row for i, row in enumerate(_table_rows_json(answer))
    ]
    return {"rows": rows, "total": answer["total"]}


def problem_entry(problem: Problem, feedback_index: Callable[[str], int]) -> dict[str, Any]:
    """What the key stores once per problem: the answer and its kind, the title, the mistakes (name, wrong
    answer, index of the feedback sentence) and the worked solution."""
    kind = problem.kind
    right = answer_to_json(problem.answer)
    return {
        "answer_kind": kind.value,
        "answer": right,
        "title": problem.title,
        "mistakes": [
            [m.name, mistake_answer_json(kind, answer_to_json(m.answer), right), feedback_index(m.feedback)]
            for m in problem.mistakes
        ],
        "solution": list(problem.solution),
    }


@dataclass
class KeyBuilder:
    """Collects the variants for a key — one per student, or one shared by everyone; each distinct problem
    and feedback sentence is stored once."""

    students: list[dict[str, Any]] = field(default_factory=list)
    shared: dict[str, Any] | None = None
    points: list[int | str] = field(default_factory=list)
    problems: dict[str, dict[str, Any]] = field(default_factory=dict)
    feedback: dict[str, int] = field(default_factory=dict)

    def _feedback_index(self, sentence: str) -> int:
        return self.feedback.setdefault(sentence, len(self.feedback))

    def _variant(self, items: Sequence[QuizItem]) -> list[str]:
        """The problem ids of a variant, recording its problems and each question's points."""
        for n, item in enumerate(items, 1):
            if item.number != n:
                raise QuizgenError(f"question {item.number} is item {n} of the variant (numbers must run 1, 2, …)")
            points = number_to_json(item.points)
            if n > len(self.points):
                self.points.append(points)
            elif self.points[n - 1] != points:
                raise QuizgenError(f"question {n} is worth {self.points[n - 1]} in one variant and {points} in another")
            if item.problem.id not in self.problems:
                self.problems[item.problem.id] = problem_entry(item.problem, self._feedback_index)
        return [item.problem.id for item in items]

    def add(self, student_id: str, name: str, file: str, items: Sequence[QuizItem]) -> None:
        """One student's variant."""
        if self.shared is not None:
            raise QuizgenError("a key holds either one variant per student or one shared variant, not both")
        self.students.append({"id": student_id, "name": name, "file": file, "problems": self._variant(items)})

    def add_shared(self, file: str | None, items: Sequence[QuizItem]) -> None:
        """The one variant everyone takes; ``file`` is the quiz document (None when it went to stdout)."""
        if self.shared is not None or self.students:
            raise QuizgenError("a key holds either one variant per student or one shared variant, not both")
        self.shared = {"file": file, "problems": self._variant(items)}

    def chunks(self, spec: QuizSpec, fmt: str) -> Iterator[str]:
        """The key document, one student, sentence and problem per line (for
        :func:`quizgen.output.write_atomic`)."""
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
            "points": self.points,
        }
        compact = {"ensure_ascii": False, "separators": (",", ":")}
        dumps = json.JSONEncoder(**compact).encode
        yield json.dumps(head, ensure_ascii=False)[:-1] + ",\n"
        if self.shared is not None:
            yield '"shared": ' + dumps(self.shared) + ",\n"
        else:
            yield '"students": [\n'
            for start in range(0, len(self.students), 1024):
                part = ",\n".join(dumps(entry) for entry in self.students[start:start + 1024])
                yield ("" if start == 0 else ",\n") + part
            yield "\n],\n"
        yield '"feedback": [\n' + ",\n".join(dumps(sentence) for sentence in self.feedback) + "\n],\n"
        yield '"problems": {\n'
        items = list(self.problems.items())
        for start in range(0, len(items), 512):
            part = ",\n".join(dumps(pid) + ":" + dumps(entry) for pid, entry in items[start:start + 512])
            yield ("" if start == 0 else ",\n") + part
        yield "\n}}\n"


def write_shared_key(path: str | Path, spec: QuizSpec, items: Sequence[QuizItem], fmt: str, document: str | None) -> Path:
    """The key for a quiz everyone takes in the same variant (``make --key``): ``document`` is where the quiz
    itself went (None for stdout)."""
    from quizgen.output import write_atomic

    builder = KeyBuilder()
    builder.add_shared(document, items)
    write_atomic(path, builder.chunks(spec, fmt))
    return Path(path)


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


# --- the loaded key ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class MistakeKey:
    """A catalogued mistake of one problem: its name, the wrong answer it leads to (the key's JSON encoding;
    a table's rows hold only output shapes and parameters) and its feedback sentence."""

    name: str
    answer: Any
    feedback: str


@dataclass(frozen=True, slots=True, eq=False)
class ProblemKey:
    """What grading knows of one problem. ``answer`` is the exact answer in the key's JSON encoding, checked
    and normalised when the key is loaded (numbers as ints or reduced "p/q" strings), so the grader can rely
    on its structure. Compared by identity: a key holds one record per problem."""

    id: str
    kind: AnswerKind
    answer: Any
    title: str = ""
    mistakes: tuple[MistakeKey, ...] = ()
    solution: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class Question:
    """Question ``number`` of a variant: its points and its problem. Students whose variants have the same
    problem at the same number share one Question."""

    number: int
    points: int | Fraction
    problem: ProblemKey


@dataclass(frozen=True)
class StudentKey:
    """One student's variant: questions by number (read-only by convention)."""

    id: str
    name: str
    file: str
    questions: Mapping[int, Question]
    total_points: int | Fraction


@dataclass(frozen=True)
class AnswerKey:
    """A loaded key: every student's variant, or the one variant everyone took (``shared``), plus lookups
    that forgive how IDs get retyped."""

    path: str
    title: str
    seed: int
    bank: str | None
    fingerprint: str
    version: str
    questions: int
    students: Mapping[str, StudentKey]
    shared: StudentKey | None = None
    _folded: Mapping[str, str] = field(default_factory=dict, repr=False)
    _unpadded: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def numbers(self) -> range:
        return range(1, self.questions + 1)

    def resolve(self, raw: str) -> str | None:
        """The key's ID for an ID typed in an answers file: exact (after trimming spaces); else ignoring letter
        case; else, for all-digit IDs, ignoring leading zeros (which Excel drops) — each only when it
        points at exactly one student. None when no student matches (always, for a shared key)."""
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

    def everyone(self, student_id: str, name: str = "") -> StudentKey:
        """The shared variant as the given student's (a shared key only)."""
        if self.shared is None:
            raise QuizgenError("not a shared key: students have their own variants")
        return StudentKey(student_id, name, "", self.shared.questions, self.shared.total_points)


# --- reading ------------------------------------------------------------------------------------------------


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


class _Bad(Exception):
    """An entry that is not what the key format says; the message is what was expected."""


def _fail(path: str, message: str) -> AnswerKeyError:
    return AnswerKeyError(f"{path}: {message}")


_RATIO = re.compile(r"-?\d{1,60}(?:/\d{1,60})?\Z")


@lru_cache(maxsize=65_536)
def _ratio(text: str) -> int | str:
    """A "p/q" (or integer) string as the key's canonical number: an int, or a reduced "p/q"."""
    if not _RATIO.match(text):
        raise _Bad(f"a number (an integer or \"p/q\"), got {text!r}")
    try:
        value = Fraction(text)
    except ZeroDivisionError:
        raise _Bad(f"a number, got {text!r} (divides by zero)") from None
    return value.numerator if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def _number(value: Any) -> int | str:
    if type(value) is int:
        return value
    if type(value) is str:
        return _ratio(value)
    raise _Bad(f"a number (an integer or \"p/q\"), got {value!r}")


_INT = {int}  # set(map(type, values)) of a list of plain ints (a C-speed check; bools are not ints here)


def _dims(value: Any) -> list[int]:
    if type(value) is not list or not value or set(map(type, value)) != _INT or min(value) < 0:
        raise _Bad(f"a shape (a list of whole numbers), got {value!r}")
    return value


_LIST = {list}
_NUMBERS = {int, str}


def _normalised(values: list) -> list:
    return [v if type(v) is int else _number(v) for v in values]


def _matrix(value: Any) -> list:
    """A rectangular H × W or H × W × C matrix of numbers, normalised. The checks run over whole rows at a
    time (a large key holds hundreds of thousands of rows)."""
    if type(value) is not list or not value or type(value[0]) is not list or not value[0]:
        raise _Bad(f"a matrix (rows of numbers), got {value!r}")
    if set(map(type, value)) != _LIST or set(map(len, value)) != {len(value[0])}:
        raise _Bad("a rectangular matrix (rows of equal length)")
    kinds = set(map(type, chain.from_iterable(value)))
    if kinds == _INT:
        return value
    if kinds <= _NUMBERS:
        return [_normalised(row) for row in value]
    if kinds != _LIST:
        raise _Bad(f"a matrix of numbers, got {value!r}")
    depth = len(value[0][0])
    if not depth or set(map(len, chain.from_iterable(value))) != {depth}:
        raise _Bad("a rectangular matrix (every cell with the same channels)")
    kinds = set(map(type, chain.from_iterable(chain.from_iterable(value))))
    if kinds == _INT:
        return value
    if kinds <= _NUMBERS:
        return [[_normalised(cell) for cell in row] for row in value]
    raise _Bad(f"a matrix of numbers, got {value!r}")


def _table(value: Any) -> dict[str, Any]:
    if type(value) is not dict or type(value.get("rows")) is not list or type(value.get("total")) is not int:
        raise _Bad("a table ({'rows': [...], 'total': n})")
    rows = []
    for r in value["rows"]:
        if type(r) is not dict or type(r.get("params")) is not int:
            raise _Bad("table rows with 'output_shape' and 'params'")
        layer = r.get("layer", "")
        rows.append({"layer": layer if type(layer) is str else str(layer), "output_shape": _dims(r.get("output_shape")), "params": r["params"]})
    return {"rows": rows, "total": value["total"]}


def check_answer(kind: AnswerKind, value: Any) -> Any:
    """An answer of ``kind`` in the key's JSON encoding, checked and normalised; raises _Bad."""
    if kind is AnswerKind.NUMBER:
        return _number(value)
    if kind is AnswerKind.SHAPE:
        return _dims(value)
    if kind is AnswerKind.MATRIX:
        return _matrix(value)
    return _table(value)


def _mistake_table(value: Any, right: Mapping[str, Any]) -> dict[str, Any]:
    """A stored table mistake (rows as [shape, params] or null) as a whole table; its layer names are the
    right answer's (a mistake changes the numbers, not the layers)."""
    if type(value) is not dict or type(value.get("rows")) is not list or type(value.get("total")) is not int:
        raise _Bad("a table mistake ({'rows': [...], 'total': n})")
    right_rows = right["rows"]
    rows = []
    for i, r in enumerate(value["rows"]):
        if r is None:
            if i >= len(right_rows):
                raise _Bad(f"row {i + 1} of a table mistake is null but the answer has {len(right_rows)} rows")
            rows.append(right_rows[i])
            continue
        if type(r) is dict:  # the whole row, as format 1 stores it
            shape, params = _dims(r.get("output_shape")), _int(r.get("params"))
        elif type(r) is list and len(r) == 2:
            shape, params = _dims(r[0]), _int(r[1])
        else:
            raise _Bad("table mistake rows as [output shape, params] or null")
        layer = right_rows[i]["layer"] if i < len(right_rows) else ""
        rows.append({"layer": layer, "output_shape": shape, "params": params})
    return {"rows": rows, "total": value["total"]}


def _int(value: Any) -> int:
    if type(value) is not int:
        raise _Bad(f"a whole number, got {value!r}")
    return value


def _kind(value: Any) -> AnswerKind:
    kind = _KIND.get(value) if type(value) is str else None
    if kind is None:
        raise _Bad(f"'answer_kind' ({', '.join(sorted(KINDS))}), got {value!r}")
    return kind


def _texts(value: Any, what: str) -> tuple[str, ...]:
    if type(value) is not list or not set(map(type, value)) <= _STR:
        raise _Bad(f"a {what!r} list of texts")
    return tuple(value)


_STR = {str}


def _points(value: Any) -> int | Fraction:
    if type(value) is int and value >= 0:
        return value
    try:
        number = _number(value)
    except _Bad:
        number = -1
    exact = Fraction(number) if type(number) is str else number
    if exact < 0:
        raise _Bad(f"'points' must be a number >= 0 (got {value!r})")
    return exact


def load_key(path: str | Path) -> AnswerKey:
    """Read and check a key manifest; AnswerKeyError naming the file (and student, question) otherwise."""
    where = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise _fail(
            where,
            "no such key file (make one with `quizgen make --bank ... --roster ... --out DIR`, "
            "or `quizgen make ... --key key.json` for a quiz everyone takes)",
        ) from None
    except IsADirectoryError:
        raise _fail(where, "is a folder; give the key.json file inside it") from None
    except OSError as exc:
        raise _fail(where, f"cannot read the key ({exc.strerror})") from None
    with gc_paused():
        try:
            data = json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise _fail(where, f"not a quizgen answer key (not JSON: {exc})") from None
        return read_key_data(data, where)


def read_key_data(data: Any, where: str = "key.json") -> AnswerKey:
    """A key manifest already parsed from JSON, checked; ``where`` names it in messages."""
    if not isinstance(data, dict) or "quizgen_key" not in data:
        hint = (
            " (this looks like a quiz made without --roster): give the key that `make --roster` or `make --key` wrote"
            if isinstance(data, dict) and "problems" in data
            else ""
        )
        raise _fail(where, f"not a quizgen answer key: no 'quizgen_key' field{hint}")
    if data["quizgen_key"] not in READ_FORMATS or type(data["quizgen_key"]) is not int:
        raise _fail(where, f"key format {data['quizgen_key']!r} is not supported (this quizgen reads formats 1 and {KEY_FORMAT})")
    if data["quizgen_key"] == 1:
        students, shared = _students_v1(data, where)
    else:
        students, shared = _students_v2(data, where)
    count = max(max(s.questions) for s in ([shared] if shared else students.values()))
    folded: dict[str, list[str]] = {}
    unpadded: dict[str, list[str]] = {}
    for sid in students:
        folded.setdefault(sid.casefold(), []).append(sid)
        if sid.isdigit():
            unpadded.setdefault(sid.lstrip("0") or "0", []).append(sid)
    seed = data.get("seed", 0)
    return AnswerKey(
        path=where,
        title=str(data.get("title") or Path(where).stem),
        seed=seed if type(seed) is int else 0,
        bank=data.get("bank") if type(data.get("bank")) is str else None,
        fingerprint=str(data.get("fingerprint", "")),
        version=str(data.get("quizgen", "")),
        questions=count,
        students=students,
        shared=shared,
        _folded={k: v[0] for k, v in folded.items() if len(v) == 1},
        _unpadded={k: v[0] for k, v in unpadded.items() if len(v) == 1},
    )


def _student_fields(entry: Any, n: int, where: str) -> tuple[str, str, str]:
    if type(entry) is not dict or type(entry.get("id")) is not str or not entry["id"].strip():
        raise _fail(where, f"student {n}: needs an 'id' text")
    sid = entry["id"]
    name, file = entry.get("name"), entry.get("file")
    if name is not None and type(name) is not str or file is not None and type(file) is not str:
        raise _fail(where, f"student {n} ({sid!r}): 'name' and 'file' must be texts")
    return sid, name or "", file or ""


# --- format 2 ---


def _problems_v2(data: Mapping[str, Any], where: str) -> dict[str, ProblemKey]:
    problems, feedback = data.get("problems"), data.get("feedback", [])
    if type(problems) is not dict:
        raise _fail(where, "the key has no 'problems' table")
    if type(feedback) is not list or not all(type(s) is str for s in feedback):
        raise _fail(where, "'feedback' must be a list of texts")
    out: dict[str, ProblemKey] = {}
    for pid, entry in problems.items():
        try:
            if type(entry) is not dict:
                raise _Bad("an object with 'answer_kind', 'answer', 'title', 'mistakes' and 'solution'")
            kind = _kind(entry.get("answer_kind"))
            answer = check_answer(kind, entry.get("answer"))
            title = entry.get("title", "")
            if type(title) is not str:
                raise _Bad("a 'title' text")
            mistakes = entry.get("mistakes", [])
            if type(mistakes) is not list:
                raise _Bad("a 'mistakes' list of [name, answer, feedback]")
            records = []
            for m in mistakes:
                if type(m) is not list or len(m) != 3 or type(m[0]) is not str or type(m[2]) is not int or not 0 <= m[2] < len(feedback):
                    raise _Bad(f"mistakes as [name, answer, index into 'feedback' (0–{len(feedback) - 1})], got {m!r}")
                wrong = _mistake_table(m[1], answer) if kind is AnswerKind.TABLE else check_answer(kind, m[1])
                records.append(MistakeKey(m[0], wrong, feedback[m[2]]))
            solution = _texts(entry.get("solution", []), "solution")
        except _Bad as exc:
            raise _fail(where, f"problem {pid!r}: needs {exc}") from None
        out[pid] = ProblemKey(pid, kind, answer, title, tuple(records), solution)
    return out


def _students_v2(data: Mapping[str, Any], where: str) -> tuple[dict[str, StudentKey], StudentKey | None]:
    raw_points = data.get("points")
    if type(raw_points) is not list or not raw_points:
        raise _fail(where, "the key has no 'points' list (the points of each question)")
    try:
        points = [_points(p) for p in raw_points]
    except _Bad as exc:
        raise _fail(where, str(exc)) from None
    totals: list[int | Fraction] = [0]
    for p in points:
        totals.append(totals[-1] + p)
    problems = _problems_v2(data, where)
    shared_data, students_data = data.get("shared"), data.get("students")
    # One Question per (number, problem), shared by the students who have it: by number, then problem id.
    questions: list[dict[str, Question]] = [{} for _ in points]
    numbers = range(1, len(points) + 1)

    def variant(pids: Any, who: str) -> dict[int, Question]:
        if type(pids) is not list or not pids:
            raise _fail(where, f"{who}: needs a non-empty 'problems' list")
        if len(pids) > len(points):
            raise _fail(where, f"{who}: has {len(pids)} questions but 'points' lists {len(points)}")
        try:  # the usual case: every question already made for an earlier student
            found = [made[pid] for pid, made in zip(pids, questions)]
        except (KeyError, TypeError):
            found = []
            for n, (pid, made) in enumerate(zip(pids, questions), 1):
                q = made.get(pid) if type(pid) is str else None
                if q is None:
                    problem = problems.get(pid) if type(pid) is str else None
                    if problem is None:
                        raise _fail(where, f"{who}, question {n}: problem {pid!r} is not in the 'problems' table") from None
                    q = made[pid] = Question(n, points[n - 1], problem)
                found.append(q)
        return dict(zip(numbers, found))

    if shared_data is not None:
        if students_data is not None:
            raise _fail(where, "the key has both 'students' and 'shared'; it must have one of them")
        if type(shared_data) is not dict:
            raise _fail(where, "'shared' must be an object with 'file' and 'problems'")
        file = shared_data.get("file")
        qs = variant(shared_data.get("problems"), "the shared variant")
        return {}, StudentKey("", "", file if type(file) is str else "", qs, totals[len(qs)])
    if type(students_data) is not list or not students_data:
        raise _fail(where, "the key lists no students")
    students: dict[str, StudentKey] = {}
    for n, entry in enumerate(students_data, 1):
        sid, name, file = _student_fields(entry, n, where)
        if sid in students:
            raise _fail(where, f"student {n}: ID {sid!r} appears twice")
        qs = variant(entry.get("problems"), f"student {n} ({sid!r})")
        students[sid] = StudentKey(sid, name, file, qs, totals[len(qs)])
    return students, None


# --- format 1: every question carries its answer; mistakes and solutions in 'problems' ---


def _students_v1(data: Mapping[str, Any], where: str) -> tuple[dict[str, StudentKey], None]:
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
    # By problem id, each answer seen as written (kind, answer) with its record: normally one per id, checked
    # once however many students have it; a hand-edited answer makes another.
    records: dict[str, list[tuple[Any, Any, ProblemKey]]] = {}
    made: dict[tuple[int, Any, ProblemKey], Question] = {}  # one Question per (number, points, problem)
    students: dict[str, StudentKey] = {}
    for n, entry in enumerate(students_data, 1):
        sid, name, file = _student_fields(entry, n, where)
        who = f"student {n} ({sid!r})"
        questions = entry.get("questions")
        if not isinstance(questions, list) or not questions:
            raise _fail(where, f"{who}: needs a non-empty 'questions' list")
        by_number: dict[int, Question] = {}
        total: int | Fraction = 0
        for q in questions:
            number = q.get("number") if type(q) is dict else None
            if type(number) is not int or number < 1 or number in by_number:
                raise _fail(where, f"{who}: a question without a unique 'number' >= 1")
            pid, raw_kind, raw_answer = q.get("problem_id"), q.get("answer_kind"), q.get("answer")
            same = records.get(pid) if type(pid) is str else None
            record = next((r for k, a, r in same if k == raw_kind and a == raw_answer), None) if same else None
            if record is None:
                try:
                    kind = _kind(raw_kind)
                    answer = check_answer(kind, raw_answer)
                except _Bad:
                    raise _fail(
                        where, f"{who}, question {number}: needs 'answer_kind' ({', '.join(sorted(KINDS))}) and an 'answer' of that kind"
                    ) from None
                problem = problems.get(pid) if type(pid) is str else None
                if problem is None:
                    raise _fail(where, f"{who}, question {number}: problem {pid!r} is not in the 'problems' table")
                try:
                    record = _problem_v1(pid, kind, answer, problem)
                except _Bad as exc:
                    raise _fail(where, f"problem {pid!r}: needs {exc}") from None
                records.setdefault(pid, []).append((raw_kind, raw_answer, record))
            try:
                points = _points(q.get("points", 1))
            except _Bad:
                raise _fail(where, f"{who}, question {number}: 'points' must be a number >= 0 (got {q.get('points')!r})") from None
            question = made.get((number, points, record))
            if question is None:
                question = made[number, points, record] = Question(number, points, record)
            by_number[number] = question
            total += points
        if sid in students:
            raise _fail(where, f"student {n}: ID {sid!r} appears twice")
        students[sid] = StudentKey(sid, name, file, dict(sorted(by_number.items())), total)
    return students, None


def _problem_v1(pid: str, kind: AnswerKind, answer: Any, entry: Mapping[str, Any]) -> ProblemKey:
    mistakes = []
    for m in entry.get("mistakes", []):
        wrong = _mistake_table(m["answer"], answer) if kind is AnswerKind.TABLE else check_answer(kind, m["answer"])
        feedback = m.get("feedback", "")
        mistakes.append(MistakeKey(m["name"], wrong, feedback if type(feedback) is str else str(feedback)))
    title = entry.get("title", "")
    return ProblemKey(pid, kind, answer, title if type(title) is str else str(title), tuple(mistakes), _texts(entry.get("solution", []), "solution"))


# --- questions as plain records ------------------------------------------------------------------------------


def question_record(question: Question) -> dict[str, Any]:
    """A question with its problem joined in, as one JSON-ready record: number, points, problem_id,
    answer_kind, answer, title, mistakes (name, answer, feedback) and solution."""
    p = question.problem
    return {
        "number": question.number,
        "points": number_to_json(question.points),
        "problem_id": p.id,
        "answer_kind": p.kind.value,
        "answer": p.answer,
        "title": p.title,
        "mistakes": [{"name": m.name, "answer": m.answer, "feedback": m.feedback} for m in p.mistakes],
        "solution": list(p.solution),
    }


def question_from_record(record: Mapping[str, Any]) -> Question:
    """The inverse of :func:`question_record` (missing fields default: points 1, no mistakes); AnswerKeyError
    for a record that is not one."""
    try:
        kind = _kind(record.get("answer_kind"))
        answer = check_answer(kind, record.get("answer"))
        mistakes = []
        for m in record.get("mistakes") or ():
            wrong = m.get("answer")
            wrong = _mistake_table(wrong, answer) if kind is AnswerKind.TABLE else check_answer(kind, wrong)
            mistakes.append(MistakeKey(str(m["name"]), wrong, str(m.get("feedback", ""))))
        points = _points(record.get("points", 1))
        number = _int(record.get("number", 1))
        solution = _texts(list(record.get("solution") or ()), "solution")
    except (_Bad, KeyError, AttributeError, TypeError) as exc:
        raise AnswerKeyError(f"not a question record: {exc}") from None
    problem = ProblemKey(str(record.get("problem_id") or ""), kind, answer, str(record.get("title") or ""), tuple(mistakes), solution)
    return Question(number, points, problem)
