"""Demo customers and the identities that reach them (built in memory, saved by the service)."""
# ruff: noqa: RUF001  (Russian text is Cyrillic on purpose; look-alike letters are not a spoof here)

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cxm.demo import data, names
from profiles.models import Customer, Identity, IdentityKind

# Which channel an identity writes through; email depends on the customer's language.
IDENTITY_CHANNEL: dict[str, str] = {
    IdentityKind.PHONE: "sms",
    IdentityKind.WHATSAPP: "whatsapp",
    IdentityKind.TELEGRAM: "telegram",
    IdentityKind.MESSENGER: "messenger",
    IdentityKind.INSTAGRAM: "instagram",
    IdentityKind.WEBCHAT: "webchat",
    IdentityKind.EXTERNAL_ID: "api",
}

# How customers of each language tend to reach a shop (Telegram is big in Russia, WhatsApp in Poland).
CONTACT_WEIGHTS: dict[str, dict[str, int]] = {
    "en": {"email": 34, "webchat": 20, "phone": 12, "messenger": 10, "instagram": 8, "whatsapp": 8,
           "external_id": 6, "telegram": 2},
    "pl": {"email": 32, "webchat": 20, "whatsapp": 18, "messenger": 12, "instagram": 8, "external_id": 6,
           "phone": 4, "telegram": 4},
    "ru": {"telegram": 34, "email": 24, "whatsapp": 14, "webchat": 14, "phone": 6, "external_id": 6,
           "instagram": 2},
}  # fmt: skip

# The first customers cover every channel so even a small demo shows each of them.
FORCED_CONTACTS: list[tuple[str, str]] = [
    (IdentityKind.EMAIL, "en"),
    (IdentityKind.EMAIL, "pl"),
    (IdentityKind.PHONE, "en"),
    (IdentityKind.WHATSAPP, "pl"),
    (IdentityKind.TELEGRAM, "ru"),
    (IdentityKind.MESSENGER, "en"),
    (IdentityKind.INSTAGRAM, "pl"),
    (IdentityKind.WEBCHAT, "en"),
    (IdentityKind.EXTERNAL_ID, "ru"),
]
# This one started in web chat and moved to email: the cross-channel story every demo should have.
CROSS_CHANNEL_CUSTOMER = 7
_PL_MOBILE_PREFIXES = ["50", "51", "53", "57", "60", "66", "69", "72", "78", "79", "88"]


@dataclass
class CustomerDraft:
    index: int
    customer: Customer
    first_name: str
    identities: list[Identity]
    channel_keys: list[str]  # the channels this customer writes through, primary first
    phone_plan: str
    created_at: datetime | None = None  # decided once the conversations are planned


def channel_key(kind: str, locale: str) -> str:
    if kind == IdentityKind.EMAIL:
        return "email_pl" if locale == "pl" else "email_en"
    return IDENTITY_CHANNEL[kind]


def plan_customers(rng: random.Random, *, count: int) -> list[CustomerDraft]:
    used: set[tuple[str, str]] = set()
    drafts = []
    for index in range(count):
        if index < len(FORCED_CONTACTS):
            primary, locale = FORCED_CONTACTS[index]
        else:
            locale = _weighted(rng, names.LOCALE_WEIGHTS)
            primary = _weighted(rng, CONTACT_WEIGHTS[locale])
        drafts.append(_plan_customer(rng, index=index, locale=locale, primary=primary, used=used))
    return drafts


def _plan_customer(
    rng: random.Random, *, index: int, locale: str, primary: str, used: set[tuple[str, str]]
) -> CustomerDraft:
    female = rng.random() < 0.5
    first = rng.choice(names.FIRST_NAMES[locale][0 if female else 1])
    last = rng.choice(names.SURNAMES[locale])
    if female:
        last = _feminine(locale, last)
    name = f"{first} {last}"
    location, tz, phone_plan = rng.choice(data.PLACES[locale])
    company, company_slug = rng.choice(data.COMPANIES[locale]) if rng.random() < 0.3 else ("", "")

    kinds = [primary]
    extra_count = rng.choices([0, 1, 2], weights=[45, 35, 20])[0]
    if index == CROSS_CHANNEL_CUSTOMER:
        kinds.append(IdentityKind.EMAIL)
    while len(kinds) < 1 + extra_count:
        candidate = _weighted(rng, CONTACT_WEIGHTS[locale])
        if candidate not in kinds:
            kinds.append(candidate)

    phone = ""
    if IdentityKind.PHONE in kinds or IdentityKind.WHATSAPP in kinds:
        phone = _unique(
            used,
            IdentityKind.PHONE,
            lambda: _phone(rng, phone_plan),
            lambda: _phone(rng, phone_plan, wide=True),
        )
    slug_first, slug_last = names.ascii_slug(first), names.ascii_slug(last)
    identities = []
    for kind in kinds:
        value, display = _identity(rng, kind, name, phone, slug_first, slug_last, company_slug, locale, used)
        identities.append(Identity(kind=kind, value=value, display=display, verified=rng.random() < 0.6))

    attributes: dict[str, object] = {
        "demo": True,
        "plan": "Business" if company else rng.choice(data.PLANS[:3]),
        "orders": rng.randint(1, 40),
    }
    customer = Customer(
        name=name, locale=locale, timezone=tz, company=company, location=location, attributes=attributes
    )
    keys = list(dict.fromkeys(channel_key(kind, locale) for kind in kinds))
    return CustomerDraft(index, customer, first, identities, keys, phone_plan)


def _identity(
    rng: random.Random,
    kind: str,
    name: str,
    phone: str,
    first: str,
    last: str,
    company_slug: str,
    locale: str,
    used: set[tuple[str, str]],
) -> tuple[str, str]:
    handle = rng.choice([f"{first}_{last}", f"{first}.{last}", f"{first}{last[:3]}{rng.randint(1, 999)}"])
    if kind == IdentityKind.EMAIL:
        domain = (
            f"{company_slug}.example"
            if company_slug and rng.random() < 0.7
            else rng.choice(data.EMAIL_DOMAINS[locale])
        )
        local = rng.choice([f"{first}.{last}", f"{first[0]}.{last}", f"{first}{last}", f"{last}.{first}"])
        value = _unique(
            used, kind, lambda: f"{local}@{domain}", lambda: f"{local}{rng.randint(2, 99)}@{domain}"
        )
        return value.lower(), name
    if kind == IdentityKind.PHONE:
        return phone, name
    if kind == IdentityKind.WHATSAPP:
        used.add((kind, phone.lstrip("+")))
        return phone.lstrip("+"), name
    if kind == IdentityKind.TELEGRAM:
        value = _unique(used, kind, lambda: str(rng.randint(100_000_000, 7_999_999_999)))
        return value, f"@{handle}" if rng.random() < 0.5 else name
    if kind == IdentityKind.MESSENGER:  # page-scoped ids are 16 digits
        return _unique(used, kind, lambda: str(rng.randint(10**15, 10**16 - 1))), name
    if kind == IdentityKind.INSTAGRAM:
        return _unique(used, kind, lambda: str(rng.randint(10**16, 10**17 - 1))), f"@{handle}"
    if kind == IdentityKind.WEBCHAT:
        return _unique(used, kind, lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4))), name
    return _unique(used, kind, lambda: f"crm-{rng.randint(10_000, 99_999)}"), name


def _phone(rng: random.Random, plan: str, *, wide: bool = False) -> str:
    """A mobile number; UK and North American ones come from ranges reserved for fiction."""
    if plan == "uk":  # Ofcom's drama ranges: 07700 900xxx, then 020 7946 0xxx
        return f"+442079460{rng.randint(0, 999):03d}" if wide else f"+447700900{rng.randint(0, 999):03d}"
    if plan.startswith("nanp:"):  # 555-0100..0199 is fictional in every area code
        area = f"{rng.randint(2, 9)}{rng.randint(0, 8)}{rng.randint(2, 9)}" if wide else plan[5:]
        return f"+1{area}55501{rng.randint(0, 99):02d}"
    if plan == "pl":
        return f"+48{rng.choice(_PL_MOBILE_PREFIXES)}{rng.randint(0, 9_999_999):07d}"
    return f"+79{rng.randint(0, 999_999_999):09d}"


def _unique(
    used: set[tuple[str, str]], kind: str, make: Callable[[], str], fallback: Callable[[], str] | None = None
) -> str:
    """A value not handed out yet in this run; the fallback widens the space once the first is crowded."""
    for attempt in range(200):
        value = (make if fallback is None or attempt < 3 else fallback)()
        if (kind, value.lower()) not in used:
            used.add((kind, value.lower()))
            return value
    raise RuntimeError(f"ran out of demo {kind} values; use fewer customers")


def _feminine(locale: str, surname: str) -> str:
    if locale == "pl" and surname.endswith(("ski", "cki", "dzki")):
        return surname[:-1] + "a"
    if locale == "ru":
        if surname.endswith(("ов", "ев", "ёв", "ин", "ын")):
            return surname + "а"
        if surname.endswith(("ий", "ой")):
            return surname[:-2] + "ая"
    return surname


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]
