# ruff: noqa: RUF001 (Russian sample texts are meant to be Cyrillic)
"""Inbox search benchmark: message and customer search time at size.

    .venv/bin/python bench/inbox_search.py --messages 1000000

It migrates a separate database (default postgres://postgres@127.0.0.1:5432/cxm_bench_inbox), loads
`--messages` messages in mixed Russian, Polish and English (one customer per 20 messages, one
conversation per 10, on 8 channels of 4 teams) with PostgreSQL COPY, once: a rerun with the same size
reuses them. The search indexes are dropped during the load and built afterwards, which is how a large
install would backfill them, and the build time is printed. Then, with DEBUG off, it measures 50 typical
queries (words in each language, phrases, prefixes as typed, order numbers, e-mails, phones, substrings
that only the trigram index finds, and words that match nothing):

- selector: `search_messages` for an agent who sees one team's channels (a quarter of the data), and for
  an admin who sees everything;
- page: GET /inbox/search/?q=… through Django's full request cycle (test client, session auth, customers
  and messages), as an htmx request.

The last line is one machine-readable line: `BENCH inbox_search key=value …`.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import percentile, setup_django  # noqa: E402

TEAMS = 4
BENCH_PASSWORD = "bench-password-123"
CHANNEL_KINDS = ("email", "telegram", "whatsapp", "email", "telegram", "whatsapp", "email", "telegram")
START = datetime(2024, 1, 1, tzinfo=UTC)

RU = [
    "Здравствуйте, где мой заказ {order}? Прошло уже {n} дней.",
    "Заказ {order} пришёл повреждённым, хочу оформить возврат.",
    "Подскажите, пожалуйста, сроки доставки в {city_ru}.",
    "Не могу оплатить картой, ошибка при оплате заказа.",
    "Спасибо за быструю помощь! Всё получил.",
    "Курьер не приехал, перезвоните мне на {phone}.",
    "Прошу вернуть деньги за товар {sku}, он не подошёл по размеру.",
    "Можно изменить адрес доставки для заказа {order}?",
    "Почему списали деньги дважды? Чек отправил на {email}.",
    "Товар {sku} снова в наличии? Хочу заказать два.",
]
PL = [
    "Dzień dobry, gdzie jest moje zamówienie {order}? Minęło {n} dni.",
    "Zamówienie {order} dotarło uszkodzone, proszę o zwrot pieniędzy.",
    "Jaki jest czas dostawy do miasta {city_pl}?",
    "Nie mogę zapłacić kartą, płatność się nie udaje.",
    "Dziękuję za szybką pomoc, wszystko otrzymałem.",
    "Kurier nie przyjechał, proszę oddzwonić na {phone}.",
    "Proszę o fakturę VAT do zamówienia {order}, dane wysłałem na {email}.",
    "Czy mogę zmienić adres dostawy? Przesyłka jeszcze nie wyszła.",
    "Produkt {sku} jest znowu dostępny? Chciałbym zamówić dwa.",
    "Reklamacja: paczka {order} była otwarta, brakuje jednej rzeczy.",
]
EN = [
    "Hi, where is my order {order}? It has been {n} days.",
    "Order {order} arrived damaged, I would like a refund.",
    "What are the delivery times to {city_en}?",
    "My card payment keeps failing at checkout.",
    "Thanks for the quick help, everything arrived.",
    "The courier never showed up, please call me on {phone}.",
    "Please send an invoice for order {order} to {email}.",
    "Can I change the shipping address? The parcel has not shipped yet.",
    "Is {sku} back in stock? I ordered two last time.",
    "I was charged twice for the same order, tracking number {tracking}.",
]
CITIES_RU = ["Москву", "Казань", "Новосибирск", "Екатеринбург", "Самару"]
CITIES_PL = ["Kraków", "Gdańsk", "Wrocław", "Poznań", "Łódź"]
CITIES_EN = ["London", "Manchester", "Leeds", "Bristol", "Glasgow"]
FIRST = ["Anna", "Jan", "Piotr", "Maria", "Иван", "Ольга", "Дмитрий", "Laura", "James", "Emily", "Katarzyna"]
LAST = [
    "Kowalska",
    "Nowak",
    "Wiśniewski",
    "Иванова",
    "Петров",
    "Смирнова",
    "Chen",
    "Smith",
    "Brown",
    "Wójcik",
]


def order_no(i: int) -> str:
    return f"ZAM-{2024 + i % 3}-{i % 900_000 + 100_000}"


def phone_no(i: int) -> str:
    return ("+48", "+7", "+44")[i % 3] + str(600_000_000 + (i * 7919) % 300_000_000)


QUERIES = [
    # Russian words and morphology
    "заказ", "заказа", "доставка", "возврат", "оплата картой", "курьер", "деньги дважды", "товар в наличии",
    '"вернуть деньги"', "достав", "повреждённым",
    # Polish exact words, prefixes as typed, phrases
    "zamówienie", "zamów", "zwrot pieniędzy", "faktura", "przesyłka", "kurier nie przyjechał", "reklamacja",
    "dostawy", '"dotarło uszkodzone"', "Wrocław",
    # English stemming and phrases
    "order", "ordered", "refund", "delivery times", "invoice", "parcel shipped", "charged twice", "courier",
    '"tracking number"', "checkout -card", "Manchester",
    # Identifiers
    order_no(1234), order_no(777_777), order_no(31_337), "ZAM-2025", "bench.1234@example.com",
    "bench.98765@example.com", phone_no(4321), phone_no(2222), "SKU-4711",
    # Substrings only trigram finds, typos, nothing at all
    "mówienie", "efund", "40123", "Kowalsca", "Петрв", "xyzzyq", "несуществующее слово", "zz", "ab",
]  # fmt: skip
assert len(QUERIES) == 50


def search_index_sql() -> list[tuple[str, str]]:
    """(name, CREATE INDEX) for the search indexes migrations 0004 and 0008 leave on the tables this loads."""
    import importlib

    search = importlib.import_module("tickets.migrations.0004_search")
    stored = importlib.import_module("tickets.migrations.0008_message_search_document")
    statements = [s for s in search.FORWARD if s.startswith("CREATE INDEX") and s != stored.OLD_INDEX]
    statements.append(stored.INDEX)
    return [(s.split("EXISTS ", 1)[1].split(" ", 1)[0], s) for s in statements]


def message_text(rng: random.Random, i: int, customer: int) -> tuple[str, str]:
    lang = i % 3
    template = rng.choice((RU, PL, EN)[lang])
    n = rng.randrange(2_000_000)
    body = template.format(
        order=order_no(n),
        n=rng.randint(2, 30),
        city_ru=rng.choice(CITIES_RU),
        city_pl=rng.choice(CITIES_PL),
        city_en=rng.choice(CITIES_EN),
        phone=phone_no(customer),
        email=f"bench.{customer}@example.com",
        sku=f"SKU-{rng.randint(1000, 9999)}",
        tracking=f"TRK{rng.randrange(10**9):09d}",
    )
    subject = (
        ("Вопрос по заказу", "Pytanie o zamówienie", "Question about my order")[lang] if i % 4 == 0 else ""
    )
    return subject, body


def load(messages: int) -> None:
    from django.db import connection

    from accounts.models import Team
    from channels_app.models import Channel
    from channels_app.services import do_create_channel
    from tickets.models import Message

    have = Message.objects.count()
    if have >= messages:
        print(f"reusing {have} bench messages")
        return
    if have:
        sys.exit(f"{have} messages already in the bench database; drop it or pass --messages {have}")
    teams = [Team.objects.get_or_create(name=f"Bench team {t}")[0] for t in range(TEAMS)]
    channels = []
    for c, kind in enumerate(CHANNEL_KINDS):
        channel = Channel.objects.filter(name=f"Bench {c}").first() or do_create_channel(
            kind=kind, name=f"Bench {c}"
        )
        channel.teams.set([teams[c % TEAMS]])
        channels.append(channel.pk)
    customers = max(1, messages // 20)
    conversations = max(1, messages // 10)
    rng = random.Random(20261130)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for name, _ in search_index_sql():
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
        with cursor.cursor.copy(
            "COPY profiles_customer (id, name, locale, timezone, company, location, attributes, created_at, "
            "consent) FROM STDIN"
        ) as copy:
            for c in range(1, customers + 1):
                name = f"{FIRST[c % len(FIRST)]} {LAST[(c // 7) % len(LAST)]} {c}"
                copy.write_row((c, name, "", "", f"Company {c % 5000}", "", "{}", START, "{}"))
        with cursor.cursor.copy(
            "COPY profiles_identity (customer_id, kind, value, match_key, display, verified, source, "
            "created_at) FROM STDIN"
        ) as copy:
            for c in range(1, customers + 1):
                email = f"bench.{c}@example.com"
                copy.write_row((c, "email", email, email, "", False, "bench", START))
                copy.write_row((c, "phone", phone_no(c), phone_no(c), "", False, "bench", START))
        with cursor.cursor.copy(
            "COPY tickets_conversation (id, customer_id, channel_id, subject, status, priority, created_at, "
            "last_activity_at) FROM STDIN"
        ) as copy:
            for v in range(1, conversations + 1):
                at = START + timedelta(minutes=v * 5)
                status = ("open", "pending", "resolved", "resolved")[v % 4]
                copy.write_row(
                    (v, 1 + v % customers, channels[v % len(channels)], "", status, "normal", at, at)
                )
        with cursor.cursor.copy(
            "COPY tickets_message (id, conversation_id, channel_id, direction, body, subject, html, "
            "full_text, metadata, created_at) FROM STDIN"
        ) as copy:
            for m in range(1, messages + 1):
                v = 1 + (m - 1) % conversations
                customer = 1 + v % customers
                subject, body = message_text(rng, m, customer)
                at = START + timedelta(minutes=v * 5, seconds=m // conversations)
                copy.write_row((m, v, channels[v % len(channels)], "in", body, subject, "", "", "{}", at))
        for table in ("profiles_customer", "tickets_conversation", "tickets_message"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")  # noqa: S608
        loaded = time.perf_counter() - started
        print(f"loaded {messages} messages, {conversations} conversations, {customers} customers", end="")
        print(f" in {loaded:.1f} s")
        built = time.perf_counter()
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for name, sql in search_index_sql():
            one = time.perf_counter()
            cursor.execute(sql)
            print(f"  index {name}: {time.perf_counter() - one:.1f} s")
        cursor.execute("ANALYZE")
    print(f"built search indexes in {time.perf_counter() - built:.1f} s")


def users():
    from accounts.models import Team, User
    from accounts.services import do_create_user

    agent = User.objects.filter(username="bench-search-agent").first() or do_create_user(
        username="bench-search-agent", password=BENCH_PASSWORD, role="agent"
    )
    agent.teams.set([Team.objects.get(name="Bench team 0")])
    admin = User.objects.filter(username="bench-search-admin").first() or do_create_user(
        username="bench-search-admin", password=BENCH_PASSWORD, role="admin"
    )
    return User.objects.get(pk=agent.pk), User.objects.get(pk=admin.pk)


def measure(label: str, call, rounds: int) -> dict[str, float]:
    for query in QUERIES:  # warm caches and plans once; the figures are for a warm server
        call(query)
    timings: list[float] = []
    for _ in range(rounds):
        for query in QUERIES:
            started = time.perf_counter()
            call(query)
            timings.append((time.perf_counter() - started) * 1000)
    figures = {
        "p50": statistics.median(timings),
        "p95": percentile(timings, 95),
        "p99": percentile(timings, 99),
        "max": max(timings),
    }
    print(
        f"{label}: p50 {figures['p50']:.1f} ms, p95 {figures['p95']:.1f} ms, p99 {figures['p99']:.1f} ms, "
        f"max {figures['max']:.1f} ms over {len(timings)} searches"
    )
    return figures


def slowest(user, top: int = 5) -> None:
    from tickets.search import search_messages

    times = []
    for query in QUERIES:
        started = time.perf_counter()
        page = search_messages(user, query)
        times.append(((time.perf_counter() - started) * 1000, query, len(page.hits), page.mode))
    for ms, query, hits, mode in sorted(times, reverse=True)[:top]:
        print(f"  slowest: {ms:7.1f} ms  {query!r}  {hits} hits ({mode})")


def with_search_route() -> None:
    """Serve /inbox/search/ even where tickets/urls.py does not include the search routes yet."""
    import types

    from django.test.utils import override_settings
    from django.urls import NoReverseMatch, include, path, reverse

    try:
        reverse("inbox_search")
        return
    except NoReverseMatch:
        pass
    urlconf = types.ModuleType("bench_urls")
    urlconf.urlpatterns = [  # type: ignore[attr-defined]
        path("inbox/", include("tickets.urls_search")),
        path("", include(os.environ.get("BENCH_ROOT_URLCONF", "cxm.urls"))),
    ]
    override_settings(ROOT_URLCONF=urlconf).enable()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=4, help="passes over the 50 queries per measurement")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/cxm_bench_inbox")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()
    setup_django(args.database_url, args.redis_url)
    load(args.messages)

    from django.test import Client

    from tickets.search import search_messages

    agent, admin = users()
    with_search_route()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(agent)

    def page(query: str) -> None:
        response = client.get("/inbox/search/", {"q": query}, HTTP_HX_REQUEST="true")
        assert response.status_code == 200, (query, response.status_code)

    print(
        f"machine: {os.cpu_count()} cores; {args.messages} messages; {len(QUERIES)} queries x {args.rounds}"
    )
    agent_figures = measure(
        "selector, agent (one team of 4)", lambda q: search_messages(agent, q), args.rounds
    )
    slowest(agent)
    admin_figures = measure("selector, admin (all)", lambda q: search_messages(admin, q), args.rounds)
    page_figures = measure("page, agent (htmx, customers + messages)", page, args.rounds)
    print(
        f"BENCH inbox_search messages={args.messages} queries={len(QUERIES)} rounds={args.rounds} "
        + " ".join(f"agent_{k}_ms={v:.1f}" for k, v in agent_figures.items())
        + " "
        + " ".join(f"admin_{k}_ms={v:.1f}" for k, v in admin_figures.items())
        + " "
        + " ".join(f"page_{k}_ms={v:.1f}" for k, v in page_figures.items())
    )


if __name__ == "__main__":
    main()
