"""Fixed demo content: staff, teams, channels, surveys and the pools customers are drawn from.

Every email domain is reserved for documentation (RFC 2606: ``example.com/.org/.net`` and the
``.example`` TLD), and US/UK phone numbers come from the ranges regulators keep for fiction, so demo
identities cannot reach a real person even if a demo channel were wired to a real provider.
"""
# ruff: noqa: RUF001  (Russian text is Cyrillic on purpose; look-alike letters are not a spoof here)

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accounts.roles import Role
from channels_app.kinds import ChannelKind
from surveys.models import SurveyKind

USERNAME_PREFIX = "demo."
STAFF_EMAIL_DOMAIN = "acme.example"
# Public on purpose (printed by seed_demo, written in the README): it opens the demo users only, and
# production installs never hand it out (cxm.demo.services.demo_password_allowed).
DEMO_PASSWORD = "cxm-demo"  # noqa: S105

TEAM_EN, TEAM_PL, TEAM_RU, TEAM_BILLING = "Support EN", "Obsługa PL", "Поддержка RU", "Billing"
TEAMS: list[tuple[str, str]] = [
    (TEAM_EN, "English-speaking customers on every channel"),
    (TEAM_PL, "Klienci polskojęzyczni, wszystkie kanały"),
    (TEAM_RU, "Русскоязычные клиенты, все каналы"),
    (TEAM_BILLING, "Invoices, refunds, payments and subscriptions in all three languages"),
]
TEAM_NAMES = [name for name, _ in TEAMS]
LOCALE_TEAM = {"en": TEAM_EN, "pl": TEAM_PL, "ru": TEAM_RU}


@dataclass(frozen=True)
class StaffSpec:
    username: str  # without USERNAME_PREFIX
    first_name: str
    last_name: str
    role: str
    language: str
    teams: tuple[str, ...] = ()


STAFF: list[StaffSpec] = [
    StaffSpec("olga.ivanova", "Ольга", "Иванова", Role.ADMIN, "ru"),
    StaffSpec("sarah.mitchell", "Sarah", "Mitchell", Role.MANAGER, "en", (TEAM_EN, TEAM_BILLING)),
    StaffSpec("tomasz.wisniewski", "Tomasz", "Wiśniewski", Role.MANAGER, "pl", (TEAM_PL, TEAM_RU)),
    StaffSpec("emily.carter", "Emily", "Carter", Role.AGENT, "en", (TEAM_EN,)),
    StaffSpec("james.oconnor", "James", "O'Connor", Role.AGENT, "en", (TEAM_EN, TEAM_BILLING)),
    StaffSpec("priya.shah", "Priya", "Shah", Role.AGENT, "en", (TEAM_EN,)),
    StaffSpec("katarzyna.nowak", "Katarzyna", "Nowak", Role.AGENT, "pl", (TEAM_PL,)),
    StaffSpec("piotr.zielinski", "Piotr", "Zieliński", Role.AGENT, "pl", (TEAM_PL,)),
    StaffSpec("agnieszka.wojcik", "Agnieszka", "Wójcik", Role.AGENT, "pl", (TEAM_PL, TEAM_BILLING)),
    StaffSpec("dmitry.sokolov", "Дмитрий", "Соколов", Role.AGENT, "ru", (TEAM_RU,)),
    StaffSpec("anna.kuznetsova", "Анна", "Кузнецова", Role.AGENT, "ru", (TEAM_RU, TEAM_BILLING)),
]


@dataclass(frozen=True)
class ChannelSpec:
    key: str
    kind: str
    name: str
    address: str
    teams: tuple[str, ...]
    config: dict[str, Any] = field(default_factory=dict)


CHANNELS: list[ChannelSpec] = [
    ChannelSpec(
        "email_en", ChannelKind.EMAIL, "Support", "support@acme.example", (TEAM_EN, TEAM_RU, TEAM_BILLING)
    ),
    ChannelSpec("email_pl", ChannelKind.EMAIL, "Pomoc", "pomoc@acme.example", (TEAM_PL, TEAM_BILLING)),
    ChannelSpec("sms", ChannelKind.SMS, "SMS (US)", "+14155550100", (TEAM_EN,), {"default_region": "US"}),
    ChannelSpec(
        "whatsapp",
        ChannelKind.WHATSAPP,
        "WhatsApp Business",
        "+48223900100",
        (TEAM_EN, TEAM_PL, TEAM_RU),
        {"default_region": "PL"},
    ),
    ChannelSpec(
        "telegram", ChannelKind.TELEGRAM, "Acme Support Bot", "@acme_support_bot", (TEAM_RU, TEAM_PL)
    ),
    ChannelSpec(
        "messenger", ChannelKind.MESSENGER, "Acme on Facebook", "104512345678901", (TEAM_EN, TEAM_PL)
    ),
    ChannelSpec("instagram", ChannelKind.INSTAGRAM, "@acme.store", "acme.store", (TEAM_EN, TEAM_PL)),
    ChannelSpec("webchat", ChannelKind.WEBCHAT, "Website chat", "acme.example", (TEAM_EN, TEAM_PL, TEAM_RU)),
    ChannelSpec("api", ChannelKind.API, "Mobile app", "", (TEAM_EN, TEAM_BILLING)),
]

SURVEYS: list[tuple[str, str, dict[str, str]]] = [
    (
        SurveyKind.NPS,
        "Relationship NPS",
        {
            "en": "How likely are you to recommend Acme to a friend or colleague?",
            "pl": "Jak bardzo prawdopodobne jest, że polecisz Acme znajomemu lub współpracownikowi?",
            "ru": "Насколько вероятно, что вы порекомендуете Acme другу или коллеге?",
        },
    ),
    (
        SurveyKind.CSAT,
        "Support satisfaction (CSAT)",
        {
            "en": "How satisfied are you with the help you received?",
            "pl": "Jak oceniasz otrzymaną pomoc?",
            "ru": "Насколько вы довольны полученной помощью?",
        },
    ),
    (
        SurveyKind.CES,
        "Customer effort (CES)",
        {
            "en": "How easy was it to get your issue resolved?",
            "pl": "Jak łatwo było załatwić Twoją sprawę?",
            "ru": "Насколько легко было решить ваш вопрос?",
        },
    ),
]

SURVEY_COMMENTS: dict[str, dict[str, list[str]]] = {
    "en": {
        "positive": [
            "Super fast and friendly, thank you!",
            "Problem solved in minutes. Great service.",
            "The person who helped me really knew what they were doing.",
            "Best support I've had from an online shop.",
        ],
        "neutral": [
            "Fine, but it took a while to get a first answer.",
            "OK overall. The app could be easier to use.",
            "Solved in the end, but I had to explain everything twice.",
        ],
        "negative": [
            "Waited three days for a reply. Not acceptable.",
            "My refund still hasn't arrived.",
            "Had to repeat my order number to three different people.",
            "The courier is terrible and nobody takes responsibility.",
            "I was charged twice for one order and it took a week to get the money back.",
            "The app logged me out at checkout three times and my discount code was gone.",
            "The parcel arrived damaged and I had to send photos twice before anyone replied.",
        ],
    },
    "pl": {
        "positive": [
            "Błyskawiczna i miła obsługa, dziękuję!",
            "Problem rozwiązany w kilka minut. Super.",
            "Konsultant naprawdę znał się na rzeczy.",
            "Najlepsza obsługa klienta w sklepie internetowym, jaką znam.",
        ],
        "neutral": [
            "W porządku, ale na pierwszą odpowiedź trzeba było długo czekać.",
            "Ogólnie OK. Aplikacja mogłaby być prostsza.",
            "W końcu się udało, ale wszystko trzeba było tłumaczyć dwa razy.",
        ],
        "negative": [
            "Trzy dni czekania na odpowiedź. Tak nie może być.",
            "Zwrot pieniędzy nadal nie dotarł.",
            "Numer zamówienia trzeba było podawać trzem różnym osobom.",
            "Kurier to porażka, a nikt nie poczuwa się do odpowiedzialności.",
            "Pobrano mi opłatę dwa razy za jedno zamówienie, a zwrot trwał tydzień.",
            "Aplikacja wylogowywała mnie przy płatności i kod rabatowy przepadł.",
            "Paczka przyszła uszkodzona, a zdjęcia musiałam wysyłać dwa razy.",
        ],
    },
    "ru": {
        "positive": [
            "Очень быстро и вежливо, спасибо!",
            "Проблему решили за пару минут. Отличный сервис.",
            "Оператор действительно разбирается в вопросе.",
            "Лучшая поддержка среди интернет-магазинов.",
        ],
        "neutral": [
            "Нормально, но первого ответа пришлось ждать долго.",
            "В целом неплохо. Приложение могло бы быть удобнее.",
            "В итоге решили, но всё пришлось объяснять дважды.",
        ],
        "negative": [
            "Ответа пришлось ждать три дня. Это недопустимо.",
            "Деньги за возврат до сих пор не пришли.",
            "Номер заказа пришлось называть трём разным сотрудникам.",
            "Курьерская служба ужасная, а ответственности никто не несёт.",
            "С карты списали деньги дважды за один заказ, возврат шёл неделю.",
            "Приложение выкидывало меня на оплате, и промокод пропал.",
            "Посылка пришла повреждённой, фото пришлось отправлять два раза.",
        ],
    },
}

# What customers wrote after the bad week on WhatsApp (cxm.demo.archive): late orders, no answers.
INCIDENT_COMMENTS: dict[str, list[str]] = {
    "en": [
        "Nobody answered on WhatsApp for two days while my order was late.",
        "I wrote on WhatsApp four times about my delayed parcel before anyone replied.",
        "Your WhatsApp support went silent right when the deliveries stopped.",
    ],
    "pl": [
        "Na WhatsAppie nikt nie odpowiadał przez dwa dni, a zamówienie się spóźniało.",
        "Pisałam na WhatsAppie cztery razy w sprawie opóźnionej paczki, zanim ktoś odpisał.",
        "Wasz WhatsApp zamilkł akurat wtedy, gdy przestały przychodzić dostawy.",
    ],
    "ru": [
        "В WhatsApp два дня никто не отвечал, а заказ всё задерживался.",
        "Писал в WhatsApp четыре раза про задержанную посылку, пока кто-то ответил.",
        "Ваш WhatsApp замолчал как раз тогда, когда перестали приходить доставки.",
    ],
}

# (location, time zone, phone plan): "nanp:<area>" and "uk" use fictional number ranges.
PLACES: dict[str, list[tuple[str, str, str]]] = {
    "en": [
        ("London, United Kingdom", "Europe/London", "uk"),
        ("Manchester, United Kingdom", "Europe/London", "uk"),
        ("Edinburgh, United Kingdom", "Europe/London", "uk"),
        ("New York, USA", "America/New_York", "nanp:212"),
        ("Boston, USA", "America/New_York", "nanp:617"),
        ("Chicago, USA", "America/Chicago", "nanp:312"),
        ("San Francisco, USA", "America/Los_Angeles", "nanp:415"),
        ("Seattle, USA", "America/Los_Angeles", "nanp:206"),
        ("Toronto, Canada", "America/Toronto", "nanp:416"),
    ],
    "pl": [
        ("Warszawa, Polska", "Europe/Warsaw", "pl"),
        ("Kraków, Polska", "Europe/Warsaw", "pl"),
        ("Gdańsk, Polska", "Europe/Warsaw", "pl"),
        ("Wrocław, Polska", "Europe/Warsaw", "pl"),
        ("Poznań, Polska", "Europe/Warsaw", "pl"),
        ("Łódź, Polska", "Europe/Warsaw", "pl"),
    ],
    "ru": [
        ("Москва, Россия", "Europe/Moscow", "ru"),
        ("Санкт-Петербург, Россия", "Europe/Moscow", "ru"),
        ("Казань, Россия", "Europe/Moscow", "ru"),
        ("Калининград, Россия", "Europe/Kaliningrad", "ru"),
        ("Екатеринбург, Россия", "Asia/Yekaterinburg", "ru"),
        ("Новосибирск, Россия", "Asia/Novosibirsk", "ru"),
    ],
}

# (display name, slug for the company's email domain under .example)
COMPANIES: dict[str, list[tuple[str, str]]] = {
    "en": [
        ("Northwind Traders", "northwind"),
        ("Bluebird Logistics", "bluebird-logistics"),
        ("Harbor & Pine", "harborpine"),
        ("Brightline Media", "brightline"),
        ("Oakridge Dental", "oakridge-dental"),
        ("Summit Outdoor Co.", "summit-outdoor"),
    ],
    "pl": [
        ("Piekarnia Złoty Kłos", "zlotyklos"),
        ("Kowalczyk i Synowie sp. z o.o.", "kowalczyk-synowie"),
        ("Zielony Ogród", "zielony-ogrod"),
        ("TransBud S.A.", "transbud"),
        ("Studio Graficzne Piksel", "studio-piksel"),
    ],
    "ru": [
        ("ООО «Северный ветер»", "severveter"),
        ("АО «ТехноСфера»", "tekhnosfera"),
        ("Кофейня «Зерно»", "zerno-coffee"),
        ("ООО «Логистик Плюс»", "logistik-plus"),
        ("Студия «Лён»", "studio-lyon"),
    ],
}
EMAIL_DOMAINS: dict[str, list[str]] = {
    "en": ["example.com", "example.org", "mail.example"],
    "pl": ["poczta.example", "example.com", "skrzynka.example"],
    "ru": ["pochta.example", "example.net", "mail.example"],
}
PLANS = ["Free", "Basic", "Pro", "Business"]
