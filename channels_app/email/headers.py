"""Header values as people meant them: RFC 2047 encoded words and raw 8-bit bytes, in any charset.

The stdlib decodes well-formed headers, but turns a mislabelled encoded word (windows-1251 bytes labelled
"win-1251" or "x-unknown") or raw 8-bit KOI8-R into replacement characters. Real mailers send all of
these, so headers are decoded here from the raw value with the same charset guessing as bodies.
"""

from __future__ import annotations

import base64
import binascii
import re
from email.message import Message
from email.utils import getaddresses

from channels_app.email.charsets import codec_for, decode_text

# Lenient on purpose: spaces inside a word (some webmails) and a word cut off at the end of the header
# (no "?=") still decode. "?" never occurs inside encoded text, so a word cannot run into the next one.
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?(?:([^?]*)\?=|([^?\s]*)$)")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_ADDR_SPEC = re.compile(r"[^\s<>()\[\],;:\"@]+@[^\s<>()\[\],;:\"@]+\.[^\s<>()\[\],;:\"@]+")


def raw_header(message: Message, name: str) -> str | None:
    """The first header of that name exactly as received (unfolded); 8-bit bytes kept as surrogates."""
    wanted = name.lower()
    for key, value in message.raw_items():
        if key.lower() == wanted:
            return _FOLD.sub("", str(value))
    return None


def decode_header(value: str) -> str:
    """Readable text for a raw header value. Never raises."""
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        # Raw 8-bit header: decode the bytes the way an undeclared body is decoded.
        value = decode_text(value.encode("ascii", "surrogateescape"), None)[0]
    if "=?" in value:
        value = decode_words(value)
    return " ".join(value.split())


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words. Adjacent words in one charset are joined before decoding, because
    mailers split multi-byte characters across them; whitespace between encoded words is dropped."""
    pieces: list[str] = []
    pending: list[tuple[str, bytes]] = []  # consecutive encoded words: (charset label, bytes)
    position = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        if between and not (pending and not between.strip()):
            pieces.append(_flush(pending))
            pieces.append(between)
        label, encoding, data, cut_off = match.groups()
        pending.append((label.split("*", 1)[0], _word_bytes(encoding, data or cut_off or "")))
        position = match.end()
    pieces.append(_flush(pending))
    pieces.append(value[position:])
    return "".join(pieces)


def _word_bytes(encoding: str, data: str) -> bytes:
    if encoding in "bB":
        try:
            data = "".join(data.split())
            return base64.b64decode(data + "=" * (-len(data) % 4))
        except (binascii.Error, ValueError):
            return data.encode("ascii", "replace")
    return re.sub(
        rb"=([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), data.replace("_", " ").encode()
    )


def _flush(pending: list[tuple[str, bytes]]) -> str:
    text = ""
    while pending:
        label = pending[0][0]
        run = b""
        while pending and codec_for(pending[0][0]) == codec_for(label):
            run += pending.pop(0)[1]
        text += decode_text(run, label)[0]
    return text


def address_header(message: Message, name: str) -> list[tuple[str, str]]:
    """(display name, address) pairs of an address header; names decoded, addresses lower-cased.

    Addresses are split before the names are decoded, so a decoded name containing a comma or "<" cannot
    change where one address ends. A header too broken to parse still yields any address-like token.
    """
    raw = raw_header(message, name)
    if raw is None:
        return []
    if any("\udc80" <= ch <= "\udcff" for ch in raw):
        raw = decode_text(raw.encode("ascii", "surrogateescape"), None)[0]
    pairs = [
        (decode_header(display).strip().strip('"').strip(), address.strip().lower())
        for display, address in getaddresses([raw])
        if "@" in address
    ]
    if not pairs:
        pairs = [("", found.lower()) for found in _ADDR_SPEC.findall(raw)]
    return pairs
