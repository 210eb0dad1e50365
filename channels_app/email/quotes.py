"""Finding where the customer's new text ends and quoted history or their signature begins.

Mail clients introduce the quoted original with a header line in the writer's language; these are the
shapes Gmail, Outlook, Apple Mail, Thunderbird, Yandex and Mail.ru use in English, Polish and Russian.
The full text is always kept beside the visible part, so a wrong cut hides nothing for good.
"""

from __future__ import annotations

import re

_PL_DAY = r"(?:pon|wt|śr|czw|pt|sob|niedz|nie)"
_RU_DAY = r"(?:пн|вт|ср|чт|пт|сб|вс)"
# A line that introduces quoted history. Multi-line Gmail headers are joined before matching.
REPLY_HEADERS = [
    # Gmail, Apple Mail, Thunderbird (en): "On Mon, 3 Nov 2026 at 10:00, Anna <a@x> wrote:"
    re.compile(r"^\s*On\b.{0,200}\bwrote:\s*$", re.IGNORECASE),
    # Polish Gmail/Thunderbird: "W dniu 3.11.2026 o 10:00 Anna <a@x> napisał(a):" / "... pisze:"
    re.compile(
        r"^\s*(?:W dniu|Dnia)\b.{0,200}\b(?:napisał\(a\)|napisała|napisał|pisze)\s*:\s*$", re.IGNORECASE
    ),
    # Polish Gmail today: "pt., 20 lis 2026 o 12:00 Jan Kowalski <jan@x> napisał(a):" (a date, then the name).
    re.compile(
        rf"^\s*(?:{_PL_DAY}\.?,?\s+)?\d{{1,2}}[ .]\s*\S+[ .]\s*\d{{2,4}},?\s+"
        r"(?:o|r\.? o|godz\.)\s*\d{1,2}:\d{2}.{0,200}\b(?:napisał\(a\)|napisała|napisał|pisze)\s*:\s*$",
        re.IGNORECASE,
    ),
    # Polish Apple Mail: "Wiadomość napisana przez Anna <a@x> w dniu 3.11.2026, o godz. 10:00:"
    re.compile(r"^\s*Wiadomość napisana przez\b.{0,200}:\s*$", re.IGNORECASE),
    # Russian Gmail/Thunderbird/Apple: "3 нояб. 2026 г., в 10:00, Анна <a@x> написал(а):" / "... пишет:"
    re.compile(r"^.{0,200}\b(?:написал\(а\)|написала|написал|пишет):\s*$", re.IGNORECASE),
    # Russian Gmail: "пт, 20 нояб. 2026 г. в 12:00, Иван <i@x>:" (no verb at all, so the shape is exact).
    re.compile(
        rf"^\s*(?:{_RU_DAY},\s+)?\d{{1,2}}\s+\S+\s+\d{{4}}\s*г\.,?\s+в\s+\d{{1,2}}:\d{{2}},\s+"
        r".{0,200}<[^<>\s]+@[^<>\s]+>:\s*$",
        re.IGNORECASE,
    ),
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
# Outlook's header block: "From: …" followed within three lines by "Sent:"/"Date:" (en/pl/ru).
_FROM = re.compile(r"^\s*\*?(?:From|Od|От|Від)\s*:\*?\s+\S", re.IGNORECASE)
_SENT = re.compile(r"^\s*\*?(?:Sent|Date|Wysłano|Wysłane|Data|Отправлено|Дата)\s*:\*?\s+\S", re.IGNORECASE)
# Mail.ru: "Среда, 3 ноября 2026, 10:00 +03:00 от Анна <a@x>:"
_MAILRU = re.compile(r"^.{0,80}\d{1,2}:\d{2}.{0,20}\bот\b.{0,120}:\s*$", re.IGNORECASE)
# Gmail in Russian and others: "пн, 16 нояб. 2026 г. в 08:15, Name <a@x>:" right above the quote.
_ADDRESS_COLON = re.compile(r"^.{0,160}\d{1,2}:\d{2}.{0,160}<[^<>@\s]+@[^<>\s]+>:\s*$")
_TO = re.compile(r"^\s*\*?(?:To|Do|Кому)\s*:\*?\s+\S", re.IGNORECASE)
_SUBJECT = re.compile(r"^\s*\*?(?:Subject|Temat|Тема)\s*:\*?\s*", re.IGNORECASE)
# A header wrapped right after "<" reads "< jan@x>" once joined.
_WRAP_GAP = re.compile(r"<\s+")
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
        # Gmail wraps a long header over two lines, after "<" or before "wrote:"/"napisał(a):".
        if _is_reply_header(line) or _wrapped_header(line, lines[index + 1 : index + 2]):
            return index
        if (_MAILRU.match(line) or _ADDRESS_COLON.match(line)) and _quote_follows(lines, index):
            return index
        if _FROM.match(line) and _outlook_block(lines[index + 1 : index + 4]):
            return index
        if line.startswith(">") and all(not n.strip() or n.startswith(">") for n in lines[index:]):
            return index
    return len(lines)


def _is_reply_header(text: str) -> bool:
    return any(pattern.match(text) for pattern in REPLY_HEADERS)


def _wrapped_header(line: str, following: list[str]) -> bool:
    """The first half of a header wrapped onto the next line. A next line that is a whole header by itself
    is found on its own turn: joining the customer's last sentence to it would cut that sentence too."""
    if not following or not following[0].strip() or following[0].startswith(">"):
        return False
    if _is_reply_header(following[0]):
        return False
    return _is_reply_header(_WRAP_GAP.sub("<", f"{line.rstrip()} {following[0].strip()}"))


def _outlook_block(following: list[str]) -> bool:
    """After "From:", a "Sent:"/"Date:" line, or both "To:" and "Subject:" (Outlook for Mac, webmails)."""
    if any(_SENT.match(line) for line in following):
        return True
    return any(_TO.match(line) for line in following) and any(_SUBJECT.match(line) for line in following)
