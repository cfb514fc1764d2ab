"""Reading the CSV files people save from Excel, LibreOffice or a text editor, and writing CSV safely.

Reading copes with the usual habits: a UTF-8 byte-order mark, Windows-1252 files that are not UTF-8 (read
anyway, with a note), UTF-16 "Unicode text", ',' ';' or tab delimiters (sniffed from the header line), CRLF
line ends, and blank lines. Writing neutralises cells that a spreadsheet would run as a formula.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from quizgen.errors import UserError

DELIMITERS = (",", ";", "\t")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what makes Excel/LibreOffice read a cell as a formula
ENCODING_NAMES = {"utf-8": "UTF-8", "utf-16": "UTF-16", "cp1252": "Windows-1252", "latin-1": "Latin-1"}

_HEADER_PUNCT = re.compile(r"[\s_\-.:#/]+")

# Header names accepted for the ID and name columns, compared after header_key() (case, '_', '-' ignored).
# The first ID column in this order wins when a file has several.
ID_HEADERS = (
    "id",
    "student id",
    "studentid",
    "student number",
    "id number",
    "idnumber",
    "username",
    "user name",
    "email",
    "email address",
    "e mail",
    "e mail address",
)
NAME_HEADERS = ("name", "full name", "fullname", "student name", "student")
FIRST_NAME_HEADERS = ("first name", "firstname", "given name", "given names", "forename")
LAST_NAME_HEADERS = ("last name", "lastname", "surname", "family name")


class SheetError(UserError):
    """A CSV file that cannot be read at all, or whose layout is wrong; the message names file, row, column."""


def header_key(text: str) -> str:
    """A header cell reduced for matching: 'Student_ID ' -> 'student id', 'E-mail' -> 'e mail'."""
    return _HEADER_PUNCT.sub(" ", text.replace("\ufeff", "")).strip().casefold()


def find_column(header: Sequence[str], names: Sequence[str]) -> int | None:
    """The index of the first header cell matching ``names`` (in the order of ``names``), or None."""
    keys = [header_key(h) for h in header]
    for name in names:
        if name in keys:
            return keys.index(name)
    return None


def name_columns(header: Sequence[str]) -> tuple[int, ...]:
    """The columns that make up a name: a name column, or first name + last name (either alone will do)."""
    full = find_column(header, NAME_HEADERS)
    if full is not None:
        return (full,)
    parts = (find_column(header, FIRST_NAME_HEADERS), find_column(header, LAST_NAME_HEADERS))
    return tuple(i for i in parts if i is not None)


@dataclass(frozen=True)
class Sheet:
    """A CSV file read into memory: its header (row ``header_row``) and the text the rows are read from."""

    path: str
    header: tuple[str, ...]
    header_row: int
    delimiter: str
    encoding: str
    text: str
    notes: tuple[str, ...] = ()

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(row number, cells) for every row after the header, as a spreadsheet numbers them (the header
        of a file without leading blank lines is row 1). Blank rows are included, as empty lists or
        lists of empty cells."""
        reader = csv.reader(io.StringIO(self.text, newline=""), delimiter=self.delimiter, strict=False)
        number = 0
        try:
            for cells in reader:
                number += 1
                if number > self.header_row:
                    yield number, cells
        except csv.Error as exc:
            raise SheetError(f"{self.path}: row {number + 1}: cannot read the CSV ({exc})") from None

    def where(self, row: int, column: int | None = None) -> str:
        """'answers.csv: row 4, column 3 ('q2')' for messages."""
        text = f"{self.path}: row {row}"
        if column is not None:
            name = self.header[column] if column < len(self.header) else ""
            text += f", column {column + 1}" + (f" ({name!r})" if name else "")
        return text


def _decode(data: bytes, where: str) -> tuple[str, str, list[str]]:
    notes: list[str] = []
    if data.startswith(b"PK\x03\x04"):
        raise SheetError(f"{where}: this is an Excel workbook (.xlsx), not a CSV file; save it as 'CSV UTF-8' and try again")
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "utf-8", notes
        except UnicodeDecodeError:
            data = data[3:]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16", notes
        except UnicodeDecodeError:
            raise SheetError(f"{where}: starts like UTF-16 text but is not valid UTF-16") from None
    try:
        return data.decode("utf-8"), "utf-8", notes
    except UnicodeDecodeError as exc:
        bad = exc.start
    for encoding in ("cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        line = data[:bad].count(b"\n") + 1
        notes.append(
            f"{where} is not valid UTF-8 (first at line {line}); read it as {ENCODING_NAMES[encoding]} — "
            "check that accented names look right, or save it as 'CSV UTF-8'"
        )
        return text, encoding, notes
    raise SheetError(f"{where}: cannot decode the file")  # pragma: no cover - latin-1 decodes every byte


def sniff_delimiter(line: str) -> str:
    """The delimiter of a header line: whichever of ',', ';' and tab occurs most outside quotes (',' on a tie)."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])  # max keeps the first of equal counts: ',' wins ties
    return best if counts[best] else ","


def read_sheet(path: str | Path, what: str = "file") -> Sheet:
    """Read a CSV file: decode it, sniff the delimiter, find the header (the first non-blank row)."""
    where = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise SheetError(f"{where}: no such {what}") from None
    except IsADirectoryError:
        raise SheetError(f"{where}: is a folder, not a {what}") from None
    except OSError as exc:
        raise SheetError(f"{where}: cannot read the {what} ({exc.strerror})") from None
    text, encoding, notes = _decode(data, where)
    text = text.lstrip("\ufeff")
    if "\x00" in text:
        raise SheetError(f"{where}: contains NUL bytes; this is not a CSV text file (save it as 'CSV UTF-8')")
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip().strip(",;\t")), None)
    if first is None:
        raise SheetError(f"{where}: the {what} is empty (no header row)")
    delimiter = sniff_delimiter(lines[first])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    header_row = 0
    try:
        for cells in reader:
            header_row += 1
            if any(c.strip() for c in cells):
                header = tuple(c.strip() for c in cells)
                break
        else:  # pragma: no cover - a non-blank line always yields a non-blank row
            raise SheetError(f"{where}: the {what} is empty (no header row)")
    except csv.Error as exc:
        raise SheetError(f"{where}: row {header_row}: cannot read the CSV ({exc})") from None
    return Sheet(where, header, header_row, delimiter, encoding, text, tuple(notes))


def is_blank(cells: Sequence[str]) -> bool:
    return not "".join(cells).strip()


# --- writing ------------------------------------------------------------------------------------------------


def neutralise(cell: object) -> str:
    """A cell as text, with a leading ' when a spreadsheet would otherwise run it as a formula."""
    text = "" if cell is None else str(cell)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[object]], *, bom: bool = False, delimiter: str = ",") -> Iterator[str]:
    """CSV text in chunks (for :func:`quizgen.output.write_atomic`), every cell neutralised; with ``bom`` a
    UTF-8 byte-order mark first, so Excel opens accented names correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    if bom:
        yield "\ufeff"
    writer.writerow([neutralise(c) for c in header])
    count = 0
    starts = FORMULA_STARTS
    for row in rows:
        writer.writerow([c if type(c) is str and not c.startswith(starts) else neutralise(c) for c in row])
        count += 1
        if count % 512 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def row_text(cells: Sequence[str], delimiter: str = ",") -> str:
    """A row as one line of CSV text (the raw row of a rejected.csv entry)."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="").writerow(cells)
    return buffer.getvalue()
