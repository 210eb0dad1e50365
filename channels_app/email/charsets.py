"""Decoding mail text whatever charset it claims (or fails to claim).

Russian and Polish mail still arrives in windows-1251, KOI8-R and ISO-8859-2, sometimes mislabelled or
not labelled at all. Declared charsets are tried first; when they fail or are absent, the candidates
below are scored by how much of the result looks like real words, and the best one wins.
"""

from __future__ import annotations

import codecs
import re

# Common mislabels seen in the wild, mapped to the codec that actually decodes them.
ALIASES = {
    "win-1251": "cp1251",
    "windows1251": "cp1251",
    "cp-1251": "cp1251",
    "x-cp1251": "cp1251",
    "koi8r": "koi8_r",
    "iso8859-2": "iso8859_2",
    "latin2": "iso8859_2",
    "unknown-8bit": "",
    "x-unknown": "",
    "default": "",
}
FALLBACKS = ("utf-8", "cp1251", "koi8_r", "iso8859_2", "cp1250")
_CYRILLIC_VOWELS = set("аеёиоуыэюяАЕЁИОУЫЭЮЯ")
_POLISH = set("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def codec_for(label: str | None) -> str:
    """The Python codec name for a MIME charset label, or '' when unknown or unusable."""
    if not label:
        return ""
    label = label.strip().strip('"').lower()
    label = ALIASES.get(label, label)
    if not label:
        return ""
    try:
        return codecs.lookup(label).name
    except LookupError:
        return ""


def _score(text: str) -> float:
    """Higher for text made of plausible words in one script; mojibake mixes scripts and symbols."""
    if not text:
        return 0.0
    words = _WORD.findall(text)
    if not words:
        return 0.0
    good = 0
    for word in words:
        cyrillic = sum("\u0400" <= ch <= "\u04ff" for ch in word)
        latin = sum(ch.isascii() or ch in _POLISH for ch in word)
        if cyrillic == len(word):
            # Real Russian words have vowels and mostly lower-case letters after the first one.
            if any(ch in _CYRILLIC_VOWELS for ch in word) and sum(ch.isupper() for ch in word[1:]) <= 1:
                good += len(word)
        elif latin == len(word):
            good += len(word)
    odd = sum(1 for ch in text if not (ch.isprintable() or ch in "\r\n\t"))
    return good / max(len(text), 1) - odd / max(len(text), 1)


def decode_text(raw: bytes, declared: str | None) -> tuple[str, str]:
    """(text, codec used). Never raises: the last resort replaces undecodable bytes."""
    codec = codec_for(declared)
    if codec:
        try:
            return raw.decode(codec), codec
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("ascii"), codec or "ascii"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best: tuple[float, str, str] | None = None
    for candidate in FALLBACKS[1:]:
        try:
            text = raw.decode(candidate)
        except UnicodeDecodeError:
            continue
        score = _score(text)
        if best is None or score > best[0]:
            best = (score, text, candidate)
    if best is not None:
        return best[1], best[2]
    return raw.decode("utf-8", errors="replace"), "utf-8 (with replacements)"
