"""Fixed demo configuration: labels, canned responses, office hours and service levels."""
# ruff: noqa: RUF001  (Russian text is Cyrillic on purpose; look-alike letters are not a spoof here)

from __future__ import annotations

from dataclasses import dataclass

from cxm.demo.data import TEAM_BILLING, TEAM_EN, TEAM_PL, TEAM_RU

# Which label a conversation about each topic carries; "vip" goes on Business-plan customers.
TOPIC_LABELS: dict[str, str] = {
    "order_status": "orders",
    "delivery_delay": "delivery",
    "change_address": "delivery",
    "refund": "refund",
    "damaged": "damaged item",
    "invoice": "invoice",
    "payment_failed": "payments",
    "login": "account",
    "cancel_subscription": "churn risk",
}
VIP_LABEL = "vip"
LABELS: dict[str, str] = {
    "orders": "blue",
    "delivery": "amber",
    "refund": "violet",
    "damaged item": "red",
    "invoice": "slate",
    "payments": "orange",
    "account": "teal",
    "churn risk": "pink",
    VIP_LABEL: "green",
}


@dataclass(frozen=True)
class Canned:
    team: str
    shortcut: str
    title: str
    body: str


# Placeholders are the ones tickets.canned fills: customer.first_name, customer.name, agent.first_name…
CANNED: list[Canned] = [
    Canned(
        TEAM_EN,
        "hello",
        "Greeting",
        "Hi {{ customer.first_name }}, thanks for getting in touch! I'm {{ agent.first_name }} and I'll "
        "be looking after this for you.",
    ),
    Canned(
        TEAM_EN,
        "tracking",
        "Where is my parcel",
        "Hi {{ customer.first_name }}, your parcel is on its way. You can follow it with the tracking "
        "link in your shipping email; couriers usually deliver within 2-3 business days.",
    ),
    Canned(
        TEAM_EN,
        "bye",
        "Closing",
        "Glad we could sort this out, {{ customer.first_name }}! If anything else comes up, just reply "
        "here.\n\nBest wishes,\n{{ agent.first_name }}",
    ),
    Canned(
        TEAM_PL,
        "witaj",
        "Powitanie",
        "Dzień dobry, {{ customer.first_name }}! Dziękujemy za wiadomość. Nazywam się "
        "{{ agent.first_name }} i zajmę się Twoją sprawą.",
    ),
    Canned(
        TEAM_PL,
        "przesylka",
        "Gdzie jest paczka",
        "{{ customer.first_name }}, paczka jest już w drodze. Link do śledzenia przesyłki znajdziesz "
        "w mailu o wysyłce; kurier dostarcza zwykle w 2-3 dni robocze.",
    ),
    Canned(
        TEAM_PL,
        "do-uslyszenia",
        "Zakończenie",
        "Cieszymy się, że udało się pomóc, {{ customer.first_name }}! W razie pytań wystarczy "
        "odpisać na tę wiadomość.\n\nPozdrawiam,\n{{ agent.first_name }}",
    ),
    Canned(
        TEAM_RU,
        "privet",
        "Приветствие",
        "Здравствуйте, {{ customer.first_name }}! Спасибо, что написали. Меня зовут "
        "{{ agent.first_name }}, я займусь вашим вопросом.",
    ),
    Canned(
        TEAM_RU,
        "posylka",
        "Где посылка",
        "{{ customer.first_name }}, ваша посылка уже в пути. Ссылку для отслеживания вы найдёте "
        "в письме об отправке; обычно доставка занимает 2–3 рабочих дня.",
    ),
    Canned(
        TEAM_RU,
        "do-svidaniya",
        "Завершение",
        "Рады, что смогли помочь, {{ customer.first_name }}! Если появятся вопросы, просто ответьте "
        "на это сообщение.\n\nС уважением,\n{{ agent.first_name }}",
    ),
    Canned(
        TEAM_BILLING,
        "refund-timeline",
        "Refund timeline",
        "Hi {{ customer.first_name }}, we've issued your refund today. Banks usually take 3-5 business "
        "days to show it on your statement.",
    ),
    Canned(
        TEAM_BILLING,
        "invoice-copy",
        "Invoice copy",
        "Hi {{ customer.first_name }}, I've attached a copy of the invoice for {{ customer.company }}. "
        "Let me know if any details need changing.",
    ),
]


@dataclass(frozen=True)
class Office:
    key: str
    name: str
    timezone: str
    intervals: dict[str, list[list[str]]]
    # (month, day, name): the fixed-date public holidays of the office's country.
    holidays: tuple[tuple[int, int, str], ...]


_WEEKDAYS = {str(day): [["08:00", "20:00"]] for day in range(1, 6)}
OFFICES: list[Office] = [
    Office(
        "europe",
        "Acme Europe office hours",
        "Europe/Warsaw",
        {**_WEEKDAYS, "6": [["10:00", "16:00"]]},
        (
            (1, 1, "Nowy Rok"),
            (1, 6, "Trzech Króli"),
            (5, 1, "Święto Pracy"),
            (5, 3, "Święto Konstytucji 3 Maja"),
            (8, 15, "Wniebowzięcie NMP"),
            (11, 1, "Wszystkich Świętych"),
            (11, 11, "Święto Niepodległości"),
            (12, 25, "Boże Narodzenie"),
            (12, 26, "Drugi dzień Bożego Narodzenia"),
        ),
    ),
    Office(
        "atlantic",
        "Acme London office hours",
        "Europe/London",
        dict(_WEEKDAYS),
        ((1, 1, "New Year's Day"), (12, 25, "Christmas Day"), (12, 26, "Boxing Day")),
    ),
]
# Which office answers each channel (by channel key of cxm.demo.data.CHANNELS).
CHANNEL_OFFICE: dict[str, str] = {
    "email_en": "atlantic",
    "sms": "atlantic",
    "messenger": "atlantic",
    "api": "atlantic",
    "email_pl": "europe",
    "whatsapp": "europe",
    "telegram": "europe",
    "instagram": "europe",
    "webchat": "europe",
}


@dataclass(frozen=True)
class Targets:
    """Minutes to first response, next response and resolution."""

    first: int
    following: int
    resolution: int


# Working-time targets by kind of channel: chat is expected to be live, mail may take a while.
STANDARD: dict[str, Targets] = {
    "email": Targets(240, 480, 4800),
    "messaging": Targets(60, 240, 2880),
    "webchat": Targets(10, 30, 960),
}
# Urgent conversations run on the wall clock, nights and weekends included.
URGENT = Targets(30, 60, 1440)
