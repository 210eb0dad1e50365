"""Reading mail from files on disk: single .eml files, Maildir folders and mbox files."""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from pathlib import Path


def _is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


def count_mails(paths: list[Path]) -> int:
    return sum(1 for _ in iter_mails(paths, bodies=False))


def iter_mails(paths: list[Path], *, bodies: bool = True) -> Iterator[tuple[str, bytes]]:
    """(where it came from, raw bytes) for every mail under the given paths."""
    for path in paths:
        if _is_maildir(path):
            box = mailbox.Maildir(str(path), factory=None, create=False)
            for key in sorted(box.keys()):
                yield f"{path}:{key}", box.get_bytes(key) if bodies else b""
        elif path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".eml"):
                yield str(child), child.read_bytes() if bodies else b""
        elif path.suffix.lower() in (".mbox", ".mbx") or _looks_like_mbox(path):
            archive = mailbox.mbox(str(path), create=False)
            for index, key in enumerate(archive.keys()):
                yield f"{path}#{index + 1}", archive.get_bytes(key) if bodies else b""
        else:
            yield str(path), path.read_bytes() if bodies else b""


def _looks_like_mbox(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(5) == b"From "
