"""Reading a class's answers file: find the layout from the header, then turn each row into a submission or
a rejection (every non-blank row ends in exactly one of them).

Two layouts are recognised from the header:

- wide: an ID column, then one column per question — 'q1', 'Q1', 'question 1', '1', 'Q 01' ...;
- long: an ID column, a 'question' column and an 'answer' column, one answer per row.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from operator import itemgetter

from quizgen.grade.csvio import ID_HEADERS, Sheet, SheetError, find_column, header_key, is_blank, name_columns, row_text
from quizgen.grade.key import AnswerKey, StudentKey

QUESTION_NAME = re.compile(r"(?:q|question|frage|ex|exercise|problem|item|aufgabe)? ?0*(\d{1,4})\Z")
QUESTION_HEADERS = ("question", "question number", "q", "item", "problem")
ANSWER_HEADERS = ("answer", "response", "student answer", "value")
MAX_SUGGESTIONS = 20  # unknown IDs that get a "did you mean" (each costs a scan of the class)


def question_number(text: str) -> int | None:
    """'q1', 'Q1', 'question 1', '1', 'Q 01' -> 1; None for anything else."""
    m = QUESTION_NAME.match(header_key(text))
    return int(m.group(1)) if m else None


def _span(numbers) -> str:
    numbers = sorted(numbers)
    if not numbers:
        return "none"
    if numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"{numbers[0]}–{numbers[-1]}" if len(numbers) > 1 else str(numbers[0])
    return ", ".join(map(str, numbers))


@dataclass(frozen=True)
class Layout:
    """Where things are in the answers file."""

    id_col: int
    name_cols: tuple[int, ...]
    questions: dict[int, int] = field(default_factory=dict)  # wide: question number -> column
    question_col: int | None = None  # long
    answer_col: int | None = None  # long
    ignored: tuple[str, ...] = ()  # header cells of columns that are not used

    @property
    def long(self) -> bool:
        return self.question_col is not None


@dataclass(frozen=True)
class Submission:
    """One student's answers: by question number, as typed; the rows they came from; the student's variant."""

    student_id: str
    typed_id: str
    rows: tuple[int, ...]
    answers: dict[int, str]
    student: StudentKey | None = None


@dataclass(frozen=True)
class Rejection:
    """A row that cannot be graded, and why."""

    row: int
    id: str
    reason: str
    raw: str


def detect_layout(sheet: Sheet, key: AnswerKey) -> Layout:
    """The layout of an answers file, checked against the key; SheetError naming file, row and column."""
    header = sheet.header
    where = f"{sheet.path}: row {sheet.header_row}"
    id_col = find_column(header, ID_HEADERS)
    if id_col is None:
        raise SheetError(
            f"{where}: no ID column; name one of: {', '.join(ID_HEADERS)} (found: {', '.join(repr(h) for h in header)})"
        )
    names = name_columns(header)
    used = {id_col, *names}
    question_col = find_column(header, QUESTION_HEADERS)
    answer_col = find_column(header, ANSWER_HEADERS)
    numbered = {}
    for col, name in enumerate(header):
        if col in used or col in (question_col, answer_col):
            continue
        n = question_number(name)
        if n is None:
            continue
        if n in numbered:
            raise SheetError(
                f"{sheet.where(sheet.header_row, col)}: a second column for question {n} "
                f"(column {numbered[n] + 1}, {header[numbered[n]]!r}, is the first)"
            )
        numbered[n] = col
    if question_col is not None and answer_col is not None and not numbered:
        used |= {question_col, answer_col}
        ignored = tuple(h for i, h in enumerate(header) if i not in used and h)
        return Layout(id_col, names, question_col=question_col, answer_col=answer_col, ignored=ignored)
    if not numbered:
        raise SheetError(
            f"{where}: no question columns; name them q1, q2, … (one column per question), "
            "or use 'id', 'question' and 'answer' columns (one answer per row)"
        )
    for n, col in sorted(numbered.items()):
        if n not in key.numbers:
            raise SheetError(
                f"{sheet.where(sheet.header_row, col)}: question {n} is not in the key "
                f"({key.path} has questions {_span(key.numbers)})"
            )
    missing = [n for n in key.numbers if n not in numbered]
    if missing:
        raise SheetError(
            f"{where}: the sheet has columns for questions {_span(numbered)} but {key.path} has questions "
            f"{_span(key.numbers)} (no column for {_span(missing)}): is this the answer sheet for this key?"
        )
    used |= set(numbered.values())
    ignored = tuple(h for i, h in enumerate(header) if i not in used and h)
    return Layout(id_col, names, questions=dict(sorted(numbered.items())), ignored=ignored)


class Suggestions:
    """"did you mean" for IDs typed in an answers file, among a whole class: the same answer as
    :func:`quizgen.errors.did_you_mean` (difflib's closest match with a ratio of at least 0.6), found without
    computing difflib's ratio for every student. Each ID's letters are counted once; a typed ID's upper bound
    against each (difflib's quick ratio, which its ratio never exceeds) orders the candidates, and the exact
    ratio is computed only while a candidate's bound can still beat the best so far."""

    CUTOFF = 0.6  # difflib.get_close_matches' default, as did_you_mean uses it

    def __init__(self, ids: Iterable[str]) -> None:
        self.ids = [str(i) for i in ids]
        self._letters: list[dict[str, int]] | None = None

    def closest(self, word: str) -> str | None:
        if self._letters is None:
            self._letters = [dict(Counter(x)) for x in self.ids]
        wanted = Counter(word).items()
        size = len(word)
        cutoff = self.CUTOFF
        bounded = []
        for x, letters in zip(self.ids, self._letters):
            total = len(x) + size
            if 2.0 * min(len(x), size) / total < cutoff:  # difflib's real_quick_ratio
                continue
            shared = 0
            for letter, n in wanted:
                have = letters.get(letter)
                if have:
                    shared += n if n < have else have
            bound = 2.0 * shared / total  # difflib's quick_ratio
            if bound >= cutoff:
                bounded.append((bound, x))
        bounded.sort(reverse=True)
        matcher = SequenceMatcher()
        matcher.set_seq2(word)
        best: tuple[float, str] | None = None
        for bound, x in bounded:
            if best is not None and bound < best[0]:
                break  # no candidate left can reach the best ratio
            matcher.set_seq1(x)
            score = matcher.ratio()
            if score >= cutoff and (best is None or (score, x) > best):
                best = (score, x)
        return best[1] if best else None

    def hint(self, word: str) -> str:
        """" (did you mean 'x'?)", or "" when no ID is close."""
        close = self.closest(word)
        return f" (did you mean {close!r}?)" if close is not None else ""


class _Ids:
    """Resolves typed IDs against the key, with a limited number of "did you mean" suggestions.

    With a shared key every ID is a student: the first spelling met is the student's ID, and a later ID
    that differs from it only in letter case (or a leading ') is the same student."""

    def __init__(self, key: AnswerKey, sheet: Sheet, layout: Layout) -> None:
        self.key = key
        self.suggested = 0
        self.names = layout.name_cols
        self._shared: dict[str, StudentKey] = {}  # casefolded ID -> student, for a shared key
        self._suggestions: Suggestions | None = None

    def resolve(self, typed: str, cells: list[str]) -> StudentKey | None:
        key = self.key
        if key.shared is None:
            sid = key.resolve(typed)
            return None if sid is None else key.students[sid]
        text = typed.strip()
        if text.startswith("'"):
            text = text[1:].strip()
        if not text:
            return None
        folded = text.casefold()
        student = self._shared.get(folded)
        if student is None:
            name = " ".join(c for c in (_cell(cells, i).strip() for i in self.names) if c)
            student = self._shared[folded] = key.everyone(text, name)
        return student

    def unknown(self, typed: str) -> str:
        if self.key.shared is not None:
            return "no ID"  # only an ID that is a lone ' gets here
        hint = ""
        if self.suggested < MAX_SUGGESTIONS:
            self.suggested += 1
            if self._suggestions is None:
                self._suggestions = Suggestions(self.key.students)
            hint = self._suggestions.hint(typed.strip())
        return f"ID {typed.strip()!r} is not in the key{hint}"


def _cell(cells: list[str], col: int) -> str:
    return cells[col] if col < len(cells) else ""


def submissions(sheet: Sheet, layout: Layout, key: AnswerKey, notes: list[str]) -> Iterator[Submission | Rejection | int]:
    """Each row of the answers file as a Submission or a Rejection, in file order (long format: each
    student's Submission when the file is read to the end); a blank row yields its row number."""
    if layout.long:
        yield from _long(sheet, layout, key, notes)
    else:
        yield from _wide(sheet, layout, key, notes)


def _wide(sheet: Sheet, layout: Layout, key: AnswerKey, notes: list[str]) -> Iterator[Submission | Rejection | int]:
    ids = _Ids(key, sheet, layout)
    seen: dict[str, int] = {}
    width = len(sheet.header)
    columns = list(layout.questions.items())
    numbers = [n for n, _ in columns]
    cells_of = itemgetter(*(col for _, col in columns))  # the question columns of a full row, in order
    long_rows = 0
    for row, cells in sheet.rows():
        if is_blank(cells):
            yield row
            continue

        def reject(reason: str) -> Rejection:
            return _rejection(sheet, layout, row, cells, reason)

        typed = _cell(cells, layout.id_col)
        student = _identify(ids, typed, cells)
        if isinstance(student, str):
            yield reject(student)
            continue
        sid = student.id
        if sid in seen:
            yield reject(f"duplicate ID {typed.strip()!r}: row {seen[sid]} was graded for this student")
            continue
        if len(cells) >= width and len(columns) > 1:
            answers = dict(zip(numbers, cells_of(cells)))
        else:
            answers = {n: _cell(cells, col) for n, col in columns}
        questions = student.questions
        if len(questions) < len(answers):
            extra = [n for n, text in answers.items() if n not in questions and text.strip()]
            if extra:
                yield reject(f"answers for question {_span(extra)}, which student {sid!r} did not get")
                continue
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            long_rows += 1
        seen[sid] = row
        yield Submission(sid, typed.strip(), (row,), answers, student)
    if long_rows:
        notes.append(f"{long_rows} row(s) had cells beyond the last header column; those cells were ignored")


def _rejection(sheet: Sheet, layout: Layout, row: int, cells: list[str], reason: str) -> Rejection:
    return Rejection(row, _cell(cells, layout.id_col).strip(), reason, row_text(cells, sheet.delimiter))


def _identify(ids: "_Ids", typed: str, cells: list[str]) -> "StudentKey | str":
    """The student a row's typed ID names, or why the row cannot be graded."""
    if not typed.strip():
        return "no ID"
    student = ids.resolve(typed, cells)
    return ids.unknown(typed) if student is None else student


def _long(sheet: Sheet, layout: Layout, key: AnswerKey, notes: list[str]) -> Iterator[Submission | Rejection | int]:
    ids = _Ids(key, sheet, layout)
    order: list[StudentKey] = []
    answers: dict[str, dict[int, tuple[int, str]]] = {}
    typed_ids: dict[str, str] = {}
    for row, cells in sheet.rows():
        if is_blank(cells):
            yield row
            continue

        def reject(reason: str) -> Rejection:
            return _rejection(sheet, layout, row, cells, reason)

        typed = _cell(cells, layout.id_col)
        student = _identify(ids, typed, cells)
        if isinstance(student, str):
            yield reject(student)
            continue
        sid = student.id
        qtext = _cell(cells, layout.question_col).strip()  # type: ignore[arg-type]
        n = question_number(qtext)
        if n is None:
            yield reject(f"{qtext!r} is not a question number" if qtext else "no question number")
            continue
        if n not in student.questions:
            yield reject(f"student {sid!r} did not get question {n} (their variant has questions {_span(student.questions)})")
            continue
        mine = answers.setdefault(sid, {})
        if n in mine:
            yield reject(f"a second answer to question {n} for {sid!r}: row {mine[n][0]} was graded")
            continue
        if sid not in typed_ids:
            order.append(student)
            typed_ids[sid] = typed.strip()
        mine[n] = (row, _cell(cells, layout.answer_col))  # type: ignore[arg-type]
    for student in order:
        mine = answers[student.id]
        rows = tuple(sorted(r for r, _ in mine.values()))
        yield Submission(student.id, typed_ids[student.id], rows, {n: text for n, (_, text) in sorted(mine.items())}, student)
