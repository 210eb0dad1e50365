"""Identity values in one canonical form, so the same address or number always finds the same person.

E-mail addresses are case-folded and kept otherwise as written, because replies go to them. A few
providers ignore more than case, and we follow them only where they document it, listed explicitly
below (Gmail ignores dots in the local part; many providers deliver `name+anything@` to `name@`): those
rules make the identity's *match key*, so `Laura.Chen+shop@gmail.com` finds the person who wrote from
`laurachen@gmail.com` while each address stays deliverable as it was written.

Phone numbers become E.164 using the channel's default region, so
`8 (912) 345-67-89` on a Russian channel and `601 234 567` on a Polish one both normalize.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata

import phonenumbers

from profiles.models import IdentityKind


class NormalizationError(ValueError):
    """The value cannot be an identity of that kind (an e-mail without a domain, a phone without digits)."""


# Domains that are one mailbox namespace: mail to either reaches the same account.
EMAIL_DOMAIN_ALIASES = {
    "googlemail.com": "gmail.com",
    "ya.ru": "yandex.ru",
    "yandex.com": "yandex.ru",
    "yandex.by": "yandex.ru",
    "yandex.kz": "yandex.ru",
    "yandex.ua": "yandex.ru",
}
# Providers that deliver local+tag@domain to local@domain.
EMAIL_PLUS_TAG_DOMAINS = frozenset(
    {
        "gmail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "icloud.com",
        "me.com",
        "fastmail.com",
        "proton.me",
        "protonmail.com",
        "yandex.ru",
    }
)
# Providers that ignore dots in the local part.
EMAIL_DOTLESS_DOMAINS = frozenset({"gmail.com"})
# Yandex treats '.' and '-' in a login as the same character.
EMAIL_DOT_IS_HYPHEN_DOMAINS = frozenset({"yandex.ru"})

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Alphanumeric SMS sender ids ("MYSHOP") and short codes are kept as they are.
_SHORT_SENDER = re.compile(r"^[A-Za-z0-9 ]{2,11}$")


def normalize_email(value: str) -> str:
    text = unicodedata.normalize("NFC", value).strip().strip("<>").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    if not _EMAIL.match(text):
        raise NormalizationError(f"not an e-mail address: {value[:80]!r}")
    local, _, domain = text.rpartition("@")
    domain = domain.rstrip(".").casefold()
    # A domain the IDNA codec refuses keeps its Unicode form; it still compares equal to itself.
    with contextlib.suppress(UnicodeError):
        domain = domain.encode("idna").decode("ascii")
    # lower(), not casefold(): casefold turns "ß" into "ss", which is another mailbox to reply to.
    local = local.lower()
    if not local:
        raise NormalizationError(f"not an e-mail address: {value[:80]!r}")
    return f"{local}@{domain}"


def email_match_key(address: str) -> str:
    """The mailbox an already normalized address delivers to, under the providers' documented rules."""
    written, _, domain = address.rpartition("@")
    domain = EMAIL_DOMAIN_ALIASES.get(domain, domain)
    local = written
    if domain in EMAIL_PLUS_TAG_DOMAINS and "+" in local:
        local = local.split("+", 1)[0]
    if domain in EMAIL_DOTLESS_DOMAINS:
        local = local.replace(".", "")
    if domain in EMAIL_DOT_IS_HYPHEN_DOMAINS:
        local = local.replace(".", "-")
    # A local part the rules would empty ("+tag@", "...@") names no other mailbox: keep it as written.
    return f"{local or written}@{domain}"


def match_key(kind: str, value: str) -> str:
    """What two identities must share to be the same address: the value itself except for e-mail."""
    return email_match_key(value) if kind == IdentityKind.EMAIL and "@" in value else value


def normalize_phone(value: str, region: str = "") -> str:
    """E.164 (`+79123456789`). Numbers without a country code need the channel's region."""
    text = value.strip()
    if text.lower().startswith(("tel:", "whatsapp:")):
        text = text.split(":", 1)[1]
    if text.startswith("00"):
        text = "+" + text[2:]
    digits = re.sub(r"\D", "", text)
    if not digits:
        raise NormalizationError(f"not a phone number: {value[:40]!r}")
    try:
        number = phonenumbers.parse(text, (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        if not text.startswith("+") and not region:
            return _without_plus(digits, value)
        raise NormalizationError(f"not a phone number: {value[:40]!r}") from None
    if not phonenumbers.is_possible_number(number):
        raise NormalizationError(f"not a possible phone number: {value[:40]!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _without_plus(digits: str, value: str) -> str:
    """Providers that send E.164 without the plus (WhatsApp's wa_id) still mean the full number. A
    national number on a channel without a region looks the same ("601 234 567" would become a
    Malaysian +60 number), so only a number valid as international is taken as one."""
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise NormalizationError(f"not a phone number without its country: {value[:40]!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_handle(value: str) -> str:
    """Provider user ids (Telegram, Messenger PSID, Instagram IGSID), visitor ids and external ids are
    opaque and case-sensitive: only surrounding space goes."""
    text = value.strip()
    if not text:
        raise NormalizationError("empty identity value")
    return text


def normalize_identity(kind: str, value: str, region: str = "") -> str:
    if kind == IdentityKind.EMAIL:
        return normalize_email(value)
    if kind == IdentityKind.PHONE:
        if _SHORT_SENDER.match(value.strip()) and not any(ch.isdigit() for ch in value):
            return value.strip()
        return normalize_phone(value, region)
    if kind == IdentityKind.WHATSAPP:
        return normalize_phone(value, region)
    return normalize_handle(value)


def normalize_or_keep(kind: str, value: str, region: str = "") -> str:
    """For inbound messages: a value we cannot normalize is still the sender's address, and the
    message must not be lost over it, so it is kept as given (trimmed)."""
    try:
        return normalize_identity(kind, value, region)
    except NormalizationError:
        return value.strip()[:320]
