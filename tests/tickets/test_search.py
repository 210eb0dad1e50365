from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, reverse

from accounts.models import Team
from accounts.roles import Role
from channels_app.services import do_create_channel
from profiles.models import Customer, Identity
from tickets import search as search_module
from tickets.models import Conversation, ConversationStatus, Direction, Message
from tickets.search import MESSAGE_DOCUMENT, search_customers, search_messages

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

# tickets/urls.py includes the search routes once it is wired; this keeps the page tests independent of
# that edit.
urlpatterns = [
    path("inbox/", include("tickets.urls_search")),
    path("", include("cxm.urls")),
]


def test_migration_expression_matches_search_module():
    import importlib

    migration = importlib.import_module("tickets.migrations.0004_search")
    stored = importlib.import_module("tickets.migrations.0008_message_search_document")
    assert migration.MESSAGE_DOCUMENT == stored.MESSAGE_DOCUMENT == MESSAGE_DOCUMENT
    assert migration.MESSAGE_TEXT == search_module.MESSAGE_TEXT


def test_the_stored_document_follows_edits_of_the_text(team_agent, channels):
    # The generated column is the only copy of the document search reads: an edit must move it.
    conv = make_conversation(channels[0])
    message = Message.objects.create(
        conversation=conv, channel=conv.channel, direction=Direction.INBOUND, body="kettle", created_at=T0
    )
    assert [h.message.pk for h in search_messages(team_agent, "kettle").hits] == [message.pk]
    Message.objects.filter(pk=message.pk).update(body="Посылка не пришла")
    assert search_messages(team_agent, "kettle").hits == []
    assert [h.message.pk for h in search_messages(team_agent, "посылки").hits] == [message.pk]


@pytest.fixture(autouse=True)
def _fresh_estimates():
    """Each test has its own table sizes: no row estimate carries over from another."""
    search_module._estimates.clear()
    yield
    search_module._estimates.clear()


# --- Builders ------------------------------------------------------------------------------------------
@pytest.fixture
def teams(db):
    return Team.objects.create(name="Support PL"), Team.objects.create(name="Support RU")


@pytest.fixture
def channels(teams):
    pl_team, ru_team = teams
    mine = do_create_channel(kind="email", name="Mailbox PL")
    mine.teams.set([pl_team])
    theirs = do_create_channel(kind="telegram", name="Bot RU")
    theirs.teams.set([ru_team])
    return mine, theirs


@pytest.fixture
def team_agent(make_user, teams):
    return make_user(Role.AGENT, teams=[teams[0]])


def make_conversation(channel, *, name="Anna Kowalska", subject="", status=ConversationStatus.OPEN):
    customer = Customer.objects.create(name=name)
    return Conversation.objects.create(
        customer=customer, channel=channel, subject=subject, status=status, created_at=T0, last_activity_at=T0
    )


def numbered_messages(conv, count: int, body, *, other_every_fifth=None) -> None:
    """`count` inbound messages a second apart, message i saying body(i); every fifth in another
    conversation when one is given."""
    Message.objects.bulk_create(
        [
            Message(
                conversation=other_every_fifth if other_every_fifth and i % 5 == 0 else conv,
                channel=conv.channel,
                direction=Direction.INBOUND,
                body=body(i),
                created_at=T0 + timedelta(seconds=i),
            )
            for i in range(count)
        ]
    )


def say(conversation, text, *, at=T0, subject=""):
    return Message.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        direction=Direction.INBOUND,
        body=text,
        subject=subject,
        created_at=at,
    )


def found(user, query, **kwargs) -> list[int]:
    return [hit.message.pk for hit in search_messages(user, query, **kwargs).hits]


# --- Languages -----------------------------------------------------------------------------------------
def test_russian_morphology(team_agent, channels):
    conv = make_conversation(channels[0])
    genitive = say(conv, "Где статус моего заказа?")
    instrumental = say(conv, "Проблема с заказом 1542", at=T0 + timedelta(minutes=1))
    say(conv, "Спасибо, всё хорошо")

    assert set(found(team_agent, "заказ")) == {genitive.pk, instrumental.pk}
    assert set(found(team_agent, "заказы")) == {genitive.pk, instrumental.pk}


def test_english_stemming(team_agent, channels):
    conv = make_conversation(channels[0])
    ordered = say(conv, "I ordered a blue kettle last week")
    orders = say(conv, "Both orders arrived damaged", at=T0 + timedelta(minutes=1))
    say(conv, "Thanks for the quick reply")

    assert set(found(team_agent, "order")) == {ordered.pk, orders.pk}
    assert found(team_agent, "ordering") == [orders.pk, ordered.pk]  # equal rank: newest first


def test_polish_exact_word_prefix_and_substring(team_agent, channels):
    conv = make_conversation(channels[0])
    hit = say(conv, "Moje zamówienie nie dotarło, proszę o pomoc")
    say(conv, "Dziękuję bardzo")

    assert found(team_agent, "zamówienie") == [hit.pk]
    assert found(team_agent, "Zamówienie") == [hit.pk]
    assert found(team_agent, "zamów") == [hit.pk]  # prefix, as typed
    page = search_messages(team_agent, "mówienie")  # inside a word: only the trigram index has it
    assert [h.message.pk for h in page.hits] == [hit.pk]
    assert page.mode == "substring"
    assert "<mark>mówienie</mark>" in page.hits[0].snippet


def test_phrase_and_exclusion(team_agent, channels):
    conv = make_conversation(channels[0])
    phrase = say(conv, "the parcel was left at the door")
    other = say(conv, "door code for the parcel locker", at=T0 + timedelta(minutes=1))

    say(conv, "the door was left open", at=T0 + timedelta(minutes=2))  # both words, not as a phrase

    assert found(team_agent, '"left at the door"') == [phrase.pk]
    assert found(team_agent, '-"left at the door" parcel') == [other.pk]
    assert found(team_agent, "parcel -locker") == [phrase.pk]
    assert set(found(team_agent, "parcel door")) == {phrase.pk, other.pk}


def test_order_numbers_emails_and_phones_in_messages(team_agent, channels):
    conv = make_conversation(channels[0])
    order = say(conv, "Zamówienie ZAM-2024-10023 nadal w drodze")
    mail = say(conv, "Please write to laura.chen@example.com instead", at=T0 + timedelta(minutes=1))
    phone = say(conv, "Call me back on +48 601 234 567", at=T0 + timedelta(minutes=2))

    assert found(team_agent, "ZAM-2024-10023") == [order.pk]
    assert found(team_agent, "10023") == [order.pk]
    assert found(team_agent, "laura.chen@example.com") == [mail.pk]
    assert found(team_agent, "601 234 567") == [phone.pk]


def test_phrase_operators_become_and_outside_lexemes_only():
    assert search_module._without_phrases("'a' <-> 'b' | 'c''<->' <2> 'd'") == "'a' & 'b' | 'c''<->' & 'd'"
    negated = "!( 'a' <-> 'b' ) & 'c'"
    assert search_module._without_phrases(negated) == negated


# --- Snippets, ranking, pages --------------------------------------------------------------------------
def test_snippet_is_escaped_except_marks(team_agent, channels):
    conv = make_conversation(channels[0])
    say(conv, "<script>alert(1)</script> refund & <b>invoice</b> please")

    hit = search_messages(team_agent, "invoice").hits[0]
    assert "<mark>invoice</mark>" in hit.snippet
    assert "<script>" not in hit.snippet and "<b>" not in hit.snippet
    # The text-search parser drops tag-like runs from the headline; whatever remains is escaped.
    assert "&amp;" in hit.snippet


def test_rank_then_recency_and_keyset_pages(team_agent, channels):
    conv = make_conversation(channels[0])
    strong = say(conv, "refund refund refund please, refund", subject="Refund")
    weak = [say(conv, f"maybe a refund later {i}", at=T0 + timedelta(minutes=i + 1)) for i in range(5)]

    first = search_messages(team_agent, "refund", limit=3)
    assert [h.message.pk for h in first.hits] == [strong.pk, weak[4].pk, weak[3].pk]
    assert first.next_cursor
    second = search_messages(team_agent, "refund", limit=3, before=first.next_cursor)
    assert [h.message.pk for h in second.hits] == [weak[2].pk, weak[1].pk, weak[0].pk]
    assert second.next_cursor is None


@pytest.mark.parametrize(("window", "expected"), [(3, [4, 3, 2]), (4, [4, 3, 2, 1]), (5, [4, 3, 2, 1, 0])])
def test_recent_windows_give_the_most_recent_candidates(team_agent, channels, monkeypatch, window, expected):
    monkeypatch.setattr(search_module, "CANDIDATES", window)
    conv = make_conversation(channels[0])
    newest = T0 + timedelta(days=800)
    ages = [timedelta(days=700), timedelta(days=200), timedelta(days=10), timedelta(days=5), timedelta(0)]
    made = [say(conv, f"invoice copy {i}", at=newest - age) for i, age in enumerate(ages)]
    say(make_conversation(channels[1]), "invoice elsewhere", at=newest)  # newest overall, not visible

    assert found(team_agent, "invoice") == [made[i].pk for i in expected]


def test_filters_by_channel_and_status(team_agent, channels, teams):
    mine, _ = channels
    other_mine = do_create_channel(kind="whatsapp", name="WA PL")
    other_mine.teams.set([teams[0]])
    open_conv = make_conversation(mine)
    closed_conv = make_conversation(other_mine, status=ConversationStatus.RESOLVED)
    a = say(open_conv, "invoice missing")
    b = say(closed_conv, "invoice missing too")

    assert found(team_agent, "invoice", channel=mine) == [a.pk]
    assert found(team_agent, "invoice", status=ConversationStatus.RESOLVED) == [b.pk]


# --- Visibility ----------------------------------------------------------------------------------------
def test_agent_never_sees_other_teams_messages(team_agent, channels, make_user):
    mine, theirs = channels
    visible = say(make_conversation(mine), "refund for order 7781")
    hidden_conv = make_conversation(theirs, name="Secret Customer")
    say(hidden_conv, "refund for order 7781 please")
    say(hidden_conv, "possible refunding of 77819")

    for query in ("refund", "7781", "77819", "refunding", "781"):
        page = search_messages(team_agent, query)
        assert hidden_conv.pk not in {h.conversation.pk for h in page.hits}, query
    assert found(team_agent, "refund") == [visible.pk]

    admin = make_user(Role.ADMIN)
    assert len(found(admin, "refund")) == 3

    client = Client()
    client.force_login(team_agent)
    html = client.get("/inbox/search/", {"q": "refund"}).content.decode()
    assert f"/inbox/{hidden_conv.pk}/" not in html
    assert f'data-conversation-id="{hidden_conv.pk}"' not in html


# --- Customers -----------------------------------------------------------------------------------------
def test_customers_by_name_with_typo_company_and_identities(team_agent):
    anna = Customer.objects.create(name="Anna Kowalska", company="Kowalska Consulting")
    ivan = Customer.objects.create(name="Иван Петров", company="ООО Ромашка")
    laura = Customer.objects.create(name="Laura Chen")
    Identity.objects.create(customer=anna, kind="phone", value="+48601234567")
    Identity.objects.create(customer=laura, kind="email", value="laura.chen@example.com")
    Customer.objects.create(name="Someone Else")

    def ids(query):
        return [c.pk for c in search_customers(team_agent, query)]

    assert ids("Kowalsca")[0] == anna.pk  # one letter wrong
    assert ids("Петрв") == [ivan.pk]
    assert ids("Ромашка") == [ivan.pk]
    assert ids("Laura.Chen@Example.com") == [laura.pk]
    assert ids("chen@exam") == [laura.pk]
    assert ids("+48 601 234 567") == [anna.pk]
    assert ids("601-234-567") == [anna.pk]
    assert search_customers(None, "Kowalska")[0].pk == anna.pk


def test_two_characters_find_customers_only_by_an_exact_identity(team_agent):
    Customer.objects.create(name="Abigail Abbott", company="Abacus")
    short = Customer.objects.create(name="Short Handle")
    Identity.objects.create(customer=short, kind="telegram", value="ab")
    assert [c.pk for c in search_customers(team_agent, "ab")] == [short.pk]


def test_customers_of_unseen_conversations_hidden_without_customer_permission(teams, channels, make_user):
    agent = make_user(Role.AGENT, teams=[teams[0]])
    # A role that works the inbox but may not browse customers (none ships today; the rule is for one).
    agent.has_perm = lambda perm, obj=None: perm == "tickets.work_inbox"
    mine, theirs = channels
    seen = make_conversation(mine, name="Marta Nowak")
    unseen = make_conversation(theirs, name="Marta Nowicka")

    found_ids = {c.pk for c in search_customers(agent, "Marta")}
    assert seen.customer_id in found_ids and unseen.customer_id not in found_ids


# --- Odd input -----------------------------------------------------------------------------------------
ODD = [
    "",
    " ",
    "a",
    '"',
    '"""',
    "'",
    "\\",
    "\\\\'\"",
    "-",
    "--",
    "or",
    "OR OR",
    "&|!():*<->",
    "foo:*",
    "a & b | !c",
    "%_%",
    "😀",
    "😀 заказ 🚚",
    "\x00zamówienie",
    "\ud800broken",
    "\ue000mark\ue001",
    "x" * 1000,
    "заказ " * 200,
    "<script>alert(1)</script>",
    "ZAM-2024-",
    "@",
    "+",
]


@pytest.mark.parametrize("query", ODD)
def test_odd_input_never_fails(team_agent, channels, query):
    say(make_conversation(channels[0]), "Moje zamówienie i заказ, order <b>bold</b>")
    page = search_messages(team_agent, query)
    assert isinstance(page.hits, list)
    search_customers(team_agent, query)
    client = Client()
    client.force_login(team_agent)
    # Raw bytes, so a lone surrogate arrives as the invalid UTF-8 a browser could send.
    url = "/inbox/search/?q=" + quote(query.encode("utf-8", "surrogatepass"))
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = client.get(url, **headers)
        assert response.status_code == 200


@pytest.mark.parametrize("cursor", ["garbage", "Zm9v", "x" * 500, "ZnRzfG5hbnwyMDI2fDE", "😀"])
def test_bad_cursor_reads_as_first_page(team_agent, channels, cursor):
    hit = say(make_conversation(channels[0]), "invoice")
    assert found(team_agent, "invoice", before=cursor) in ([hit.pk], [])


def test_minimum_length(team_agent, channels):
    say(make_conversation(channels[0]), "a b c")
    assert search_messages(team_agent, "a").hits == []
    assert search_customers(team_agent, "a") == []


# --- Page ----------------------------------------------------------------------------------------------
def test_page_groups_customers_and_messages(team_agent, channels):
    conv = make_conversation(channels[0], name="Anna Kowalska", subject="Zwrot")
    say(conv, "Anna prosi o zwrot zamówienia")
    client = Client()
    client.force_login(team_agent)
    url = reverse("inbox_search")
    assert url == "/inbox/search/"

    page = client.get(url, {"q": "Anna"})
    html = page.content.decode()
    assert page.status_code == 200
    assert '<label for="search-q">' in html and "data-shortcut-search" in html
    assert 'data-testid="search-customers"' in html and 'data-testid="message-hits"' in html
    assert f'href="/inbox/{conv.pk}/"' in html
    assert "<mark>Anna</mark>" in html
    assert "<time datetime=" in html

    fragment = client.get(url, {"q": "Anna"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and 'data-testid="message-hits"' in fragment


def test_page_more_fragment_and_permissions(team_agent, channels, make_user):
    conv = make_conversation(channels[0])
    for i in range(25):
        say(conv, f"invoice number {i}", at=T0 + timedelta(minutes=i))
    client = Client()
    client.force_login(team_agent)
    first = client.get("/inbox/search/", {"q": "invoice"}).content.decode()
    cursor = re.search(r"before=([\w-]+)", first).group(1)
    more = client.get("/inbox/search/", {"q": "invoice", "before": cursor}, HTTP_HX_REQUEST="true")
    assert more.content.decode().count('class="search-hit"') == 5
    assert "<section" not in more.content.decode()

    anonymous = Client().get("/inbox/search/", {"q": "invoice"})
    assert anonymous.status_code == 302


def test_query_count_is_bounded(team_agent, channels):
    for i in range(30):
        conv = make_conversation(channels[0], name=f"Customer {i}", subject=f"Invoice {i}")
        Identity.objects.create(customer=conv.customer, kind="email", value=f"invoice{i}@example.com")
        say(conv, f"invoice {i} missing", at=T0 + timedelta(minutes=i))
    client = Client()
    client.force_login(team_agent)
    with CaptureQueriesContext(connection) as few:
        client.get("/inbox/search/", {"q": "invoice"})
    for i in range(30, 60):
        conv = make_conversation(channels[0], name=f"Customer {i}")
        say(conv, f"invoice {i}", at=T0 + timedelta(minutes=i))
    search_module._estimates.clear()  # both requests as the first after a restart
    with CaptureQueriesContext(connection) as many:
        response = client.get("/inbox/search/", {"q": "invoice"})
    assert response.status_code == 200
    assert len(many) == len(few)
    # Session and user, the customer search, and for messages: the planner settings, the table's size
    # estimate, the newest-messages pass, the newest date and the index windows (inside a savepoint
    # here, as tests run in a transaction).
    assert len(many) <= 19, [q["sql"][:120] for q in many.captured_queries]


# --- Index use -----------------------------------------------------------------------------------------
def test_message_search_uses_gin_index(team_agent, channels):
    conv = make_conversation(channels[0])
    words = ["zamówienie", "заказ", "order", "refund", "faktura", "доставка", "parcel", "kettle"]
    numbered_messages(
        conv, 4000, lambda i: f"{words[i % len(words)]} {words[(i * 7) % len(words)]} number {i}"
    )
    with connection.cursor() as cur:
        cur.execute("ANALYZE tickets_message")
        cur.execute("SET LOCAL enable_seqscan = off")
        with CaptureQueriesContext(connection) as queries:
            page = search_messages(team_agent, "1234")
        assert page.hits and page.hits[0].message.body.endswith("number 1234")
        # A rare word is not among the newest messages: the windows ask the index (the widest one here).
        search_sql = [q["sql"] for q in queries.captured_queries if "ts_headline" in q["sql"]][-1]
        cur.execute("EXPLAIN " + search_sql)
        plan = "\n".join(row[0] for row in cur.fetchall())
        cur.execute("SET LOCAL enable_seqscan = on")
    assert "msg_search_document" in plan, plan


def test_a_common_word_is_found_among_the_newest_messages_without_the_index(team_agent, channels):
    conv = make_conversation(channels[0])
    numbered_messages(conv, 1200, lambda i: f"invoice {i}" if i % 3 == 0 else f"hello {i}")
    with CaptureQueriesContext(connection) as queries:
        page = search_messages(team_agent, "invoice", limit=5)
    assert [h.message.body for h in page.hits] == [f"invoice {i}" for i in (1197, 1194, 1191, 1188, 1185)]
    assert not any("max(created_at)" in q["sql"] for q in queries.captured_queries)
    # A rarer word falls through to the index and finds the same kind of answer.
    assert [h.message.body for h in search_messages(team_agent, "hello 1").hits] == ["hello 1"]


@pytest.mark.parametrize("query", ["invoice", "hello", '"hello 7"', "inv"])
def test_the_newest_messages_pass_and_the_index_agree(team_agent, channels, monkeypatch, query):
    conv = make_conversation(channels[0])
    other = make_conversation(channels[1])  # another team's: never in the agent's results
    numbered_messages(
        conv,
        1500,
        lambda i: f"invoice {i}" if i % 3 == 0 else f"hello {i % 50}",
        other_every_fifth=other,
    )

    def pages() -> list[list[int]]:
        found, before = [], None
        for _ in range(4):
            page = search_messages(team_agent, query, limit=20, before=before)
            found.append([h.message.pk for h in page.hits])
            before = page.next_cursor
        return found

    with_pass = pages()
    monkeypatch.setattr(search_module, "RECENT_SCAN_ROWS", 0)
    assert with_pass == pages()
    assert with_pass[0]
    found = [pk for page in with_pass for pk in page]
    assert not Message.objects.filter(pk__in=found, conversation=other).exists()


def test_the_planner_estimate_picks_the_newest_messages_pass_only_for_common_words(
    team_agent, channels, monkeypatch
):
    conv = make_conversation(channels[0])
    numbered_messages(conv, 2000, lambda i: f"invoice {i}" if i % 2 == 0 else f"parcel number {i}")
    with connection.cursor() as cur:
        cur.execute("ANALYZE tickets_message")
    # The table now counts as large: only a word in enough messages is looked for among the newest.
    monkeypatch.setattr(search_module, "RECENT_SCAN_ROWS", 1500)

    def used_the_pass(query: str) -> bool:
        with CaptureQueriesContext(connection) as queries:
            assert search_messages(team_agent, query).hits
        return any("LIMIT 1500" in q["sql"] for q in queries.captured_queries)  # the newest rows read

    assert used_the_pass("invoice")  # in half of the messages
    assert not used_the_pass("1999")  # in one


def test_an_operator_query_without_matches_does_not_fall_back_to_substrings(team_agent, channels):
    conv = make_conversation(channels[0])
    say(conv, "My card payment keeps failing at checkout.")
    with CaptureQueriesContext(connection) as queries:
        page = search_messages(team_agent, "checkout -card")
    assert page.hits == [] and page.mode == "fts"
    assert not any("ILIKE" in q["sql"] for q in queries.captured_queries)
    # Without the operator the same words are still found.
    assert [h.message.body for h in search_messages(team_agent, "checkout card").hits]
