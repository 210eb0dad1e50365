"""Identities a customer reveals in what they write: an e-mail typed in a chat, a phone number in an
e-mail signature. They are unverified, so the resolution rules attach them or suggest a merge; they
never merge two people on their own."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Protocol

import phonenumbers

from profiles.models import Customer, IdentityKind
from profiles.services import AttachOutcome, do_attach_identity

if TYPE_CHECKING:
    from channels_app.models import Channel


class Message(Protocol):
    """The stored message identities are read from (tickets' Message); profiles does not import it."""

    pk: int
    body: str
    conversation_id: int


_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+(?![\w-])", re.UNICODE)
# International or national numbers with the usual separators; at least 9 digits to skip order numbers.
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\d[\d\s().-]{7,18}\d(?!\w)")
_PHONE_LABEL = re.compile(
    r"\b(?:tel|phone|mobile|mob|cell|telefon|komórka|kom|тел|телефон|моб|мобильный|сот)\b",
    re.IGNORECASE,
)
_NOT_PHONE = re.compile(r"\b(?:NIP|REGON|KRS|PESEL|IBAN|ИНН|ОГРН|КПП|БИК|СНИЛС|VAT)\b", re.IGNORECASE)
SIGNATURE_LINES = 8
MAX_REVEALED = 5


def emails_in(text: str) -> list[str]:
    return list(dict.fromkeys(match.group(0).rstrip(".") for match in _EMAIL.finditer(text)))


def phones_in(text: str, region: str = "") -> list[str]:
    """Numbers written as phone numbers: international (+48 …, 00 7 …) anywhere, national ones only on
    a line that says it is a phone. Tax and registry numbers (NIP, ИНН …) look the same and are not."""
    found = []
    for line in text.splitlines():
        if _NOT_PHONE.search(line):
            continue
        labelled = bool(_PHONE_LABEL.search(line))
        for match in _PHONE.finditer(line):
            candidate = match.group(0).strip()
            international = candidate.startswith(("+", "00"))
            if (international or labelled) and _valid_phone(candidate, region):
                found.append(candidate)
    return list(dict.fromkeys(found))


def _valid_phone(candidate: str, region: str) -> bool:
    try:
        number = phonenumbers.parse(candidate, (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number)


def revealed_in(text: str, *, channel_kind: str, region: str = "") -> list[tuple[str, str]]:
    """(identity kind, raw value) pairs. In mail only the signature (the last lines of the new text)
    counts: addresses and numbers elsewhere in a mail are too often someone else's."""
    from channels_app.kinds import ChannelKind

    if channel_kind == ChannelKind.EMAIL:
        tail = "\n".join(text.strip().splitlines()[-SIGNATURE_LINES:])
        return [(str(IdentityKind.PHONE), value) for value in phones_in(tail, region)][:MAX_REVEALED]
    pairs = [(str(IdentityKind.EMAIL), value) for value in emails_in(text)]
    pairs += [(str(IdentityKind.PHONE), value) for value in phones_in(text, region)]
    return pairs[:MAX_REVEALED]


def do_attach_revealed(
    *, customer: Customer, message: Message, channel: Channel, region: str = ""
) -> list[AttachOutcome]:
    outcomes = []
    for kind, value in revealed_in(message.body, channel_kind=channel.kind, region=region):
        outcomes.append(
            do_attach_identity(
                customer=customer,
                kind=kind,
                value=value,
                verified=False,
                source="message",
                evidence={"message_id": message.pk, "conversation_id": message.conversation_id},
                region=region,
            )
        )
    return outcomes
