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
# Approximate share of each letter in Russian text. Mojibake from the wrong Cyrillic code page is made
# of rare letters (ъ, ю, щ, ё …) and box-drawing symbols, so real text scores clearly higher.
_RUSSIAN_FREQUENCY = {
    "о": 0.110, "е": 0.085, "а": 0.080, "и": 0.074, "н": 0.067, "т": 0.063, "с": 0.055, "р": 0.047,
    "в": 0.045, "л": 0.044, "к": 0.035, "м": 0.032, "д": 0.030, "п": 0.028, "у": 0.026, "я": 0.020,
    "ы": 0.019, "ь": 0.017, "г": 0.017, "з": 0.016, "б": 0.016, "ч": 0.014, "й": 0.012, "х": 0.010,
    "ж": 0.009, "ш": 0.007, "ю": 0.006, "ц": 0.005, "щ": 0.004, "э": 0.003, "ф": 0.003, "ъ": 0.0004,
    "ё": 0.0004,
}  # fmt: skip
# A Latin letter weighs about as much as an average Russian one, so the two scripts compare fairly.
_LATIN_WEIGHT = 0.05
_NEVER_FIRST = set("ъьы")
_POLISH = set("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ")
_PUNCTUATION = set(" \r\n\t.,;:!?-–—()[]{}\"'«»„”“/\\@#%&*+=<>_|~$№")
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


def _word_score(word: str) -> float:
    if all("\u0410" <= ch <= "\u044f" or ch in "Ёё" for ch in word):
        # Real words are lower case, Capitalised or ALL CAPS; wrong code pages flip case mid-word.
        shaped = word.islower() or word.isupper() or (word[0].isupper() and word[1:].islower())
        if not shaped or word[0].lower() in _NEVER_FIRST:
            return 0.0
        return sum(_RUSSIAN_FREQUENCY.get(ch, 0.0) for ch in word.lower())
    if all(ch.isascii() or ch in _POLISH for ch in word):
        return _LATIN_WEIGHT * len(word)
    return 0.0


def _score(text: str) -> float:
    """How much the text looks like Russian, Polish or English words; symbols and mojibake lower it."""
    if not text:
        return 0.0
    good = sum(_word_score(word) for word in _WORD.findall(text))
    odd = sum(1 for ch in text if not (ch.isalnum() or ch in _PUNCTUATION or ch.isspace()))
    return (good - 0.1 * odd) / len(text)


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
