"""Finding where the customer's new text ends and quoted history or their signature begins.

Mail clients introduce the quoted original with a header line in the writer's language; these are the
shapes Gmail, Outlook, Apple Mail, Thunderbird, Yandex and Mail.ru use in English, Polish and Russian.
The full text is always kept beside the visible part, so a wrong cut hides nothing for good.
"""

from __future__ import annotations

import re

_DATEISH = r"(?:\d|mon|tue|wed|thu|fri|sat|sun|пн|вт|ср|чт|пт|сб|вс|pon|wt|śr|czw|pt|sob|niedz)"
# A line that introduces quoted history. Multi-line Gmail headers are joined before matching.
REPLY_HEADERS = [
    # Gmail, Apple Mail, Thunderbird (en): "On Mon, 3 Nov 2026 at 10:00, Anna <a@x> wrote:"
    re.compile(r"^\s*On\b.{0,200}\bwrote:\s*$", re.IGNORECASE),
    # Polish Gmail/Thunderbird: "W dniu 3.11.2026 o 10:00 Anna <a@x> napisał(a):" / "... pisze:"
    re.compile(r"^\s*(?:W dniu|Dnia)\b.{0,200}\b(?:napisał\(a\)|napisała|napisał|pisze):\s*$", re.IGNORECASE),
    # Polish Apple Mail: "Wiadomość napisana przez Anna <a@x> w dniu 3.11.2026, o godz. 10:00:"
    re.compile(r"^\s*Wiadomość napisana przez\b.{0,200}:\s*$", re.IGNORECASE),
    # Russian Gmail/Thunderbird/Apple: "3 нояб. 2026 г., в 10:00, Анна <a@x> написал(а):" / "... пишет:"
    re.compile(r"^.{0,200}\b(?:написал\(а\)|написала|написал|пишет):\s*$", re.IGNORECASE),
    # Yandex: "03.11.2026, 10:00, "Анна" <a@x>:"
    re.compile(r"^\s*\d{1,2}\.\d{1,2}\.\d{2,4},\s*\d{1,2}:\d{2},\s*.{0,120}<[^>]+@[^>]+>:\s*$"),
    # Outlook and many webmails (en/pl/ru).
    re.compile(
        r"^\s*-{2,}\s*(?:Original Message|Oryginalna wiadomość|Wiadomość oryginalna|Исходное сообщение"
        r"|Пересылаемое сообщение|Forwarded message|Przekazana wiadomość)\s*-{2,}\s*$",
        re.IGNORECASE,
    ),
    re.compile(r"^\s*_{10,}\s*$"),
]
# Outlook's header block: "From: …" followed within two lines by "Sent:"/"Date:" (en/pl/ru).
_FROM = re.compile(r"^\s*\*?(?:From|Od|От|Від)\s*:\*?\s+\S", re.IGNORECASE)
_SENT = re.compile(r"^\s*\*?(?:Sent|Date|Wysłano|Wysłane|Data|Отправлено|Дата)\s*:\*?\s+\S", re.IGNORECASE)
# Mail.ru: "Среда, 3 ноября 2026, 10:00 +03:00 от Анна <a@x>:"
_MAILRU = re.compile(r"^.{0,80}\d{1,2}:\d{2}.{0,20}\bот\b.{0,120}:\s*$", re.IGNORECASE)
# Gmail in Russian and others: "пн, 16 нояб. 2026 г. в 08:15, Name <a@x>:" right above the quote.
_ADDRESS_COLON = re.compile(r"^.{0,160}\d{1,2}:\d{2}.{0,160}<[^<>@\s]+@[^<>\s]+>:\s*$")
SIGNATURE = re.compile(r"^(?:-- ?|--\u00a0)$")
# Mobile footers that add nothing for the agent.
MOBILE_FOOTERS = re.compile(
    r"^\s*(?:Sent from my \w+|Wysłane z (?:mojego )?\w+|Отправлено с (?:моего )?\w+|Get Outlook for \w+)",
    re.IGNORECASE,
)


def split_reply(text: str) -> tuple[str, bool]:
    """(the new part of a reply, whether anything was cut)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _first_history_line(lines)
    visible = lines[:cut]
    for index, line in enumerate(visible):
        if SIGNATURE.match(line) or MOBILE_FOOTERS.match(line):
            visible = visible[:index]
            break
    # Trailing "> quoted" lines without a header (bottom-quoting clients).
    while visible and (visible[-1].startswith(">") or not visible[-1].strip()):
        visible.pop()
    result = "\n".join(visible).strip()
    if not result:
        # A mail that is all quote (a bare forward) keeps its text rather than showing nothing.
        return text.strip(), False
    return result, result != text.strip()


def _quote_follows(lines: list[str], index: int) -> bool:
    following = [line for line in lines[index + 1 : index + 3] if line.strip()]
    return bool(following) and following[0].startswith(">")


def _first_history_line(lines: list[str]) -> int:
    for index, line in enumerate(lines):
        if index == 0:
            continue
        # Gmail wraps long "On … wrote:" headers over two lines.
        joined = line if index + 1 >= len(lines) else f"{line} {lines[index + 1]}"
        for pattern in REPLY_HEADERS:
            if pattern.match(line):
                return index
            if pattern is REPLY_HEADERS[0] and pattern.match(joined) and line.lower().startswith("on "):
                return index
        if (_MAILRU.match(line) or _ADDRESS_COLON.match(line)) and _quote_follows(lines, index):
            return index
        if _FROM.match(line) and any(_SENT.match(n) for n in lines[index + 1 : index + 3]):
            return index
        if line.startswith(">") and all(not n.strip() or n.startswith(">") for n in lines[index:]):
            return index
    return len(lines)
