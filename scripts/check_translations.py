"""Fails when a UI string lacks a Russian or Polish translation, or a compiled catalogue is stale.

It re-extracts messages from a scratch copy of the sources (so the checked-in catalogues are not
touched), then requires every extracted msgid to be translated, not fuzzy, in both languages, and the
committed .mo files to match their .po files.
"""

from __future__ import annotations

import gettext
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("ru", "pl")
SKIP_DIRS = {".venv", "var", ".git", ".ci-state", "node_modules", "__pycache__", ".pytest_cache"}


def parse_po(path: Path) -> dict[str, tuple[list[str], bool]]:
    """msgid -> (msgstr forms, fuzzy). Enough of the PO grammar for Django's catalogues."""
    entries: dict[str, tuple[list[str], bool]] = {}
    msgctxt = msgid = None
    forms: dict[int, str] = {}
    fuzzy = False
    current: tuple[str, int] | None = None

    def flush() -> None:
        nonlocal msgctxt, msgid, forms, fuzzy
        if msgid:  # the header has an empty msgid
            key = f"{msgctxt}\x04{msgid}" if msgctxt else msgid
            entries[key] = ([forms[i] for i in sorted(forms)], fuzzy)
        msgctxt = msgid = None
        forms = {}
        fuzzy = False

    def unquote(text: str) -> str:
        return text.strip()[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#,") and "fuzzy" in line:
            if msgid is not None and forms:
                flush()
            fuzzy = True
        elif line.startswith("#") or not line:
            if forms:
                flush()
        elif line.startswith("msgctxt "):
            if forms:
                flush()
            msgctxt, current = unquote(line[8:]), ("ctxt", 0)
        elif line.startswith("msgid "):
            if forms:
                fz = fuzzy
                flush()
                fuzzy = fz
            msgid, current = unquote(line[6:]), ("id", 0)
        elif line.startswith("msgid_plural "):
            current = ("plural", 0)
        elif line.startswith("msgstr["):
            index = int(line[7 : line.index("]")])
            forms[index] = unquote(line[line.index("]") + 1 :])
            current = ("str", index)
        elif line.startswith("msgstr "):
            forms[0] = unquote(line[7:])
            current = ("str", 0)
        elif line.startswith('"') and current:
            kind, index = current
            if kind == "id":
                msgid = (msgid or "") + unquote(line)
            elif kind == "ctxt":
                msgctxt = (msgctxt or "") + unquote(line)
            elif kind == "str":
                forms[index] += unquote(line)
    flush()
    return entries


def extract(tmp: Path) -> None:
    def ignore(directory: str, names: list[str]) -> set[str]:
        return {n for n in names if n in SKIP_DIRS or n.endswith((".mo", ".png"))}

    shutil.copytree(ROOT, tmp, ignore=ignore, dirs_exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "--no-obsolete",
            "--ignore=var",
            *[f"-l{x}" for x in LANGUAGES],
        ],
        cwd=tmp,
        check=True,
        capture_output=True,
        env={**os.environ, "DATABASE_URL": "", "REDIS_URL": ""},
    )


def main() -> int:
    problems: list[str] = []
    if shutil.which("xgettext") is None:
        print(
            "gettext is required to check translations (Debian/Ubuntu: apt-get install gettext)",
            file=sys.stderr,
        )
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch) / "src"
        extract(tmp)
        for lang in LANGUAGES:
            po = ROOT / "locale" / lang / "LC_MESSAGES" / "django.po"
            mo = po.with_suffix(".mo")
            fresh = parse_po(tmp / "locale" / lang / "LC_MESSAGES" / "django.po")
            for key, (forms, fuzzy) in fresh.items():
                label = key.replace("\x04", " | ")
                if fuzzy:
                    problems.append(f"{lang}: fuzzy translation for {label!r}")
                elif not forms or any(not f for f in forms):
                    problems.append(f"{lang}: missing translation for {label!r}")
            if not mo.exists():
                problems.append(f"{lang}: {mo.relative_to(ROOT)} is missing; run `make messages`")
                continue
            with mo.open("rb") as handle:
                catalog = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
            for key, (forms, fuzzy) in parse_po(po).items():
                if fuzzy or not forms or not forms[0]:
                    continue
                compiled = catalog.get(key, catalog.get((key, 0)))
                if compiled != forms[0]:
                    problems.append(f"{lang}: {mo.name} is out of date for {key!r}; run compilemessages")
                    break
    for problem in problems[:50]:
        print(problem, file=sys.stderr)
    if len(problems) > 50:
        print(f"... and {len(problems) - 50} more", file=sys.stderr)
    if problems:
        return 1
    print(f"translations complete for {', '.join(LANGUAGES)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
