"""CSV imports: reading what spreadsheets really export, mapping columns, checking each row.

Excel saves "CSV" in the machine's ANSI code page with the locale's list separator: windows-1250 and
';' on a Polish PC, windows-1251 and ';' on a Russian one; "CSV UTF-8" adds a BOM; "Unicode text" is
UTF-16 with tabs. All of these are read; the person uploading can override what is detected.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from profiles.attributes import AttributeValueError, coerce
from profiles.models import AttributeDefinition, IdentityKind
from profiles.normalize import NormalizationError, normalize_email, normalize_handle, normalize_phone

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
PREVIEW_ROWS = 5
ENCODINGS = {"utf-8": "UTF-8", "utf-16": "UTF-16", "cp1250": "Windows-1250", "cp1251": "Windows-1251"}
DELIMITERS = {",": _("Comma"), ";": _("Semicolon"), "\t": _("Tab")}
IDENTITY_TARGETS = {
    "email": IdentityKind.EMAIL,
    "phone": IdentityKind.PHONE,
    "external_id": IdentityKind.EXTERNAL_ID,
}
FIELD_TARGETS = {
    "name": _("Name"),
    "email": _("Email"),
    "phone": _("Phone"),
    "external_id": _("External id"),
    "company": _("Company"),
    "locale": _("Language"),
    "timezone": _("Time zone"),
    "location": _("Location"),
}
# Header spellings recognised without asking, in the three interface languages (compared case-folded).
_HEADER_GUESSES = {
    "name": {"name", "full name", "imię i nazwisko", "nazwa", "imię", "имя", "фио", "клиент"},
    "email": {"email", "e-mail", "mail", "adres e-mail", "почта", "эл. почта", "электронная почта"},
    "phone": {"phone", "telephone", "mobile", "telefon", "numer telefonu", "телефон", "мобильный"},
    "external_id": {"external_id", "external id", "id", "customer id", "crm id", "identyfikator"},
    "company": {"company", "organization", "firma", "компания", "организация"},
    "locale": {"locale", "language", "język", "язык"},
}
# Why a row (or a cell) was not imported; the report is translated when it is read, not when written.
REASONS = {
    "no_identity": _("no email, phone or external id in this row"),
    "invalid_email": _("not a valid email address"),
    "invalid_phone": _("not a valid phone number (for numbers without +country code, choose a region)"),
    "invalid_id": _("not a valid external id"),
    "invalid_value": _("not a valid value for this attribute"),
    "too_long": _("longer than this field allows"),
    "blocked": _("this identity is on the blocked list and was not linked"),
    "limit": _("this customer already has as many identities of this kind as allowed"),
    "suggested": _("belongs to another customer: a merge was suggested instead"),
    "ignored": _("belongs to another customer and was left there"),
    "failed": _("could not be saved; try this row again"),
    "unreadable": _("the file could not be read any more; upload it again"),
    "more": _("more problems were found but not listed; fix the ones above and import again"),
}


class ImportFileError(ValueError):
    """The file as a whole cannot be imported; the message is for the person who uploaded it."""


@dataclass
class Table:
    encoding: str
    delimiter: str
    header: list[str]
    text: str

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(spreadsheet row number, cells) for every non-blank data row; the header is row 1."""
        reader = csv.reader(io.StringIO(self.text, newline=""), delimiter=self.delimiter)
        try:
            for number, cells in enumerate(reader, 1):
                if number > 1 and any(cell.strip() for cell in cells):
                    yield number, cells
        except csv.Error as exc:
            raise ImportFileError(
                _("Row %(row)s cannot be read as CSV (%(detail)s).") % {"row": reader.line_num, "detail": exc}
            ) from None


def decode(raw: bytes, encoding: str = "") -> tuple[str, str]:
    """The text and the encoding used: a BOM decides, then UTF-8 if it fits, else the better-fitting
    Central European or Cyrillic code page."""
    if encoding:
        try:
            return raw.decode("utf-8-sig" if encoding == "utf-8" else encoding), encoding
        except UnicodeDecodeError:
            raise ImportFileError(
                _("The file is not valid %(encoding)s.") % {"encoding": ENCODINGS[encoding]}
            ) from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return decode(raw, "utf-16")
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    polish, russian = raw.decode("cp1250", "replace"), raw.decode("cp1251", "replace")
    best = (
        "cp1250"
        if _letters(polish, "ąćęłńóśźż") > _letters(russian, "абвгдеёжзийклмнопрстуфхцчшщъыьэюя")
        else "cp1251"
    )
    return decode(raw, best)


def _letters(text: str, alphabet: str) -> float:
    """The share of non-ASCII characters that are letters of the given language."""
    wide = [ch for ch in text.lower() if ord(ch) > 127]
    return sum(ch in alphabet for ch in wide) / len(wide) if wide else 0.0


def detect_delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_table(raw: bytes, *, encoding: str = "", delimiter: str = "") -> Table:
    if len(raw) > MAX_BYTES:
        raise ImportFileError(_("The file is larger than 20 MB. Split it into smaller files."))
    text, encoding = decode(raw, encoding)
    text = text.replace("\x00", "")
    delimiter = delimiter or detect_delimiter(text)
    header = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), None)
    if not header or not any(h.strip() for h in header):
        raise ImportFileError(_("The file is empty or has no header row."))
    names = [h.strip()[:80] or str(_("Column %(number)s") % {"number": i}) for i, h in enumerate(header, 1)]
    return Table(encoding=encoding, delimiter=delimiter, header=names, text=text)


def count_rows(table: Table) -> int:
    total = 0
    for total, _row in enumerate(table.rows(), 1):
        if total > MAX_ROWS:
            raise ImportFileError(_("The file has more than 200,000 rows. Split it into smaller files."))
    return total


def preview(table: Table) -> list[list[str]]:
    rows = []
    for _number, cells in table.rows():
        rows.append([(cells[i] if i < len(cells) else "")[:80] for i in range(len(table.header))])
        if len(rows) == PREVIEW_ROWS:
            break
    return rows


def target_choices(definitions: list[AttributeDefinition]) -> list[tuple[str, Any]]:
    return [
        ("", _("Do not import")),
        *FIELD_TARGETS.items(),
        *((f"attr:{d.key}", d.label) for d in definitions),
    ]


def guess_mapping(header: list[str], definitions: list[AttributeDefinition]) -> dict[str, str]:
    guesses = {spelling: target for target, spellings in _HEADER_GUESSES.items() for spelling in spellings}
    for d in definitions:
        guesses.setdefault(d.key.casefold(), f"attr:{d.key}")
        guesses.setdefault(d.label.casefold(), f"attr:{d.key}")
    mapping: dict[str, str] = {}
    for index, name in enumerate(header):
        target = guesses.get(name.strip().casefold(), "")
        if target and target not in mapping.values():
            mapping[str(index)] = target
    return mapping


@dataclass
class ParsedRow:
    identities: list[tuple[str, str]]
    attributes: dict[str, Any]
    problems: list[tuple[str, str]]  # (column header, reason code)
    columns: dict[tuple[str, str], str]  # (kind, value) -> the column it came from, for the report


def parse_row(
    cells: list[str],
    mapping: dict[str, str],
    header: list[str],
    definitions: dict[str, AttributeDefinition],
    region: str,
) -> ParsedRow:
    """Normalize one row's identities and attributes. A bad cell is reported and left out; blank
    cells are left out too, so an import never erases what a profile already holds."""
    row = ParsedRow([], {}, [], {})
    for index, target in mapping.items():
        i = int(index)
        value = cells[i].strip() if i < len(cells) else ""
        if not value:
            continue
        column = header[i]
        if target in IDENTITY_TARGETS:
            try:
                if target == "email":
                    normalized = normalize_email(value)
                elif target == "phone":
                    normalized = normalize_phone(value, region)
                else:
                    normalized = normalize_handle(value)
            except NormalizationError:
                row.problems.append((column, f"invalid_{'id' if target == 'external_id' else target}"))
                continue
            if len(normalized) > 320:
                row.problems.append((column, "too_long"))
                continue
            row.identities.append((IDENTITY_TARGETS[target], normalized))
            row.columns[(IDENTITY_TARGETS[target], normalized)] = column
        elif target.startswith("attr:"):
            try:
                row.attributes[target[5:]] = coerce(definitions[target[5:]], value)
            except (AttributeValueError, KeyError):
                row.problems.append((column, "invalid_value"))
        else:
            row.attributes[target] = value
    if not row.identities:
        row.problems.append(("", "no_identity"))
    return row
