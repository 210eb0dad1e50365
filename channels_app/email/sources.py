"""Reading mail from files on disk: single .eml files, Maildir folders and mbox files."""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple


class Mail(NamedTuple):
    source: str  # where it came from, for the import summary and the stored event
    raw: bytes
    error: str  # why it could not be read; raw is empty then


def _is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


def count_mails(paths: list[Path]) -> int:
    return sum(1 for _ in iter_mails(paths, bodies=False))


def iter_mails(paths: list[Path], *, bodies: bool = True) -> Iterator[Mail]:
    """Every mail under the given paths. One unreadable file or archive is reported, not raised, so an
    import of thousands of mails does not stop at the first bad one."""
    for path in paths:
        try:
            yield from _mails_in(path, bodies=bodies)
        except (OSError, mailbox.Error) as exc:
            yield Mail(str(path), b"", f"{type(exc).__name__}: {exc}")


def _mails_in(path: Path, *, bodies: bool) -> Iterator[Mail]:
    if _is_maildir(path):
        box = mailbox.Maildir(str(path), factory=None, create=False)
        for key in sorted(box.keys()):
            yield _read(f"{path}:{key}", lambda key=key: box.get_bytes(key), bodies)
    elif path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".eml"):
            yield _read(str(child), child.read_bytes, bodies)
    elif path.suffix.lower() in (".mbox", ".mbx") or _looks_like_mbox(path):
        archive = mailbox.mbox(str(path), create=False)
        for index, key in enumerate(archive.keys()):
            yield _read(f"{path}#{index + 1}", lambda key=key: archive.get_bytes(key), bodies)
    else:
        yield _read(str(path), path.read_bytes, bodies)


def _read(source: str, reader, bodies: bool) -> Mail:
    if not bodies:
        return Mail(source, b"", "")
    try:
        raw = reader()
    except (OSError, mailbox.Error, KeyError) as exc:
        return Mail(source, b"", f"{type(exc).__name__}: {exc}")
    if not raw.strip():
        return Mail(source, b"", "empty file")
    return Mail(source, raw, "")


def _looks_like_mbox(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(5) == b"From "
