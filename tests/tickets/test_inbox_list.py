"""The inbox list: views, filters, sorting, keyset pages, unread markers, visibility and query counts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from accounts.models import Team
from accounts.roles import Role
from channels_app.services import do_create_channel
from profiles.models import Customer
from tickets import selectors_inbox as inbox_q
from tickets.models import Conversation, ConversationRead, Direction, Label, Message

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
ROW_RE = re.compile(r'data-testid="inbox-row" data-conversation-id="(\d+)"')


@pytest.fixture
def world(db, make_user):
    """Two teams, each with its own channel and agent, and a manager who sees everything."""
    team_a = Team.objects.create(name="Alpha")
    team_b = Team.objects.create(name="Bravo")
    channel_a = do_create_channel(kind="api", name="App A", credentials={"signing_secret": "s" * 32})
    channel_a.teams.set([team_a])
    channel_b = do_create_channel(kind="api", name="App B", credentials={"signing_secret": "s" * 32})
    channel_b.teams.set([team_b])
    agent_a = make_user(Role.AGENT, teams=[team_a], username="anna")
    agent_a2 = make_user(Role.AGENT, teams=[team_a], username="adam")
    agent_b = make_user(Role.AGENT, teams=[team_b], username="bob")
    manager = make_user(Role.MANAGER, username="maria")
    return {
        "team_a": team_a,
        "team_b": team_b,
        "channel_a": channel_a,
        "channel_b": channel_b,
        "agent_a": agent_a,
        "agent_a2": agent_a2,
        "agent_b": agent_b,
        "manager": manager,
    }


def make_conversation(channel, *, minutes: int = 0, name: str = "Customer", **fields) -> Conversation:
    at = T0 + timedelta(minutes=minutes)
    customer = Customer.objects.create(name=name)
    return Conversation.objects.create(
        customer=customer, channel=channel, created_at=at, last_activity_at=at, **fields
    )


def add_message(conversation, *, minutes: int, direction=Direction.INBOUND, body: str = "Hello") -> Message:
    return Message.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        direction=direction,
        body=body,
        created_at=T0 + timedelta(minutes=minutes),
    )


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def row_ids(response) -> list[int]:
    assert response.status_code == 200
    return [int(pk) for pk in ROW_RE.findall(response.content.decode())]


def ids(*conversations) -> list[int]:
    return [c.pk for c in conversations]


# ---- Visibility ------------------------------------------------------------------------------------


def test_agent_never_sees_another_teams_conversations(world):
    mine = make_conversation(world["channel_a"], minutes=1)
    theirs = make_conversation(world["channel_b"], minutes=2)
    theirs_team = make_conversation(world["channel_b"], minutes=3, team=world["team_b"])
    client = client_for(world["agent_a"])

    for params in (
        {},
        {"view": "mine"},
        {"view": "unassigned"},
        {"view": f"channel-{world['channel_b'].pk}"},
        {"view": f"team-{world['team_b'].pk}"},
        {"channel": world["channel_b"].pk},
        {"team": world["team_b"].pk},
        {"sort": "waiting"},
        {"sort": "sla"},
    ):
        shown = row_ids(client.get("/inbox/", params))
        assert theirs.pk not in shown and theirs_team.pk not in shown, params
    assert row_ids(client.get("/inbox/")) == [mine.pk]
    page = client.get("/inbox/").content.decode()
    assert "App B" not in page and "Bravo" not in page  # no view or filter offers what they cannot see

    assert row_ids(client_for(world["manager"]).get("/inbox/")) == ids(theirs_team, theirs, mine)


def test_agent_sees_own_and_own_teams_conversations_on_other_channels(world):
    assigned = make_conversation(world["channel_b"], minutes=1, assignee=world["agent_a"])
    team_owned = make_conversation(world["channel_b"], minutes=2, team=world["team_a"])
    make_conversation(world["channel_b"], minutes=3)
    assert row_ids(client_for(world["agent_a"]).get("/inbox/")) == ids(team_owned, assigned)


def test_row_endpoint_checks_visibility(world):
    mine = make_conversation(world["channel_a"], minutes=1)
    theirs = make_conversation(world["channel_b"], minutes=2)
    client = client_for(world["agent_a"])

    response = client.get(f"/inbox/rows/{mine.pk}/")
    assert row_ids(response) == [mine.pk]
    assert client.get(f"/inbox/rows/{theirs.pk}/").status_code == 404
    assert client.get("/inbox/rows/999999/").status_code == 404
    # Visible, but not part of the view asked about: the updater drops it from the list.
    assert client.get(f"/inbox/rows/{mine.pk}/", {"view": "mine"}).status_code == 204
    assert client_for(world["agent_b"]).get(f"/inbox/rows/{mine.pk}/").status_code == 404


def test_inbox_requires_login_and_permission(world, client):
    conversation = make_conversation(world["channel_a"])
    assert client.get("/inbox/").status_code == 302
    assert client.get(f"/inbox/rows/{conversation.pk}/").status_code == 302


# ---- Views and filters ---------------------------------------------------------------------------


def test_views(world):
    agent = world["agent_a"]
    mine = make_conversation(world["channel_a"], minutes=1, assignee=agent)
    colleague = make_conversation(world["channel_a"], minutes=2, assignee=world["agent_a2"])
    unassigned = make_conversation(world["channel_a"], minutes=3)
    team = make_conversation(world["channel_a"], minutes=4, team=world["team_a"])
    client = client_for(agent)

    assert row_ids(client.get("/inbox/", {"view": "mine"})) == ids(mine)
    assert row_ids(client.get("/inbox/", {"view": "unassigned"})) == ids(team, unassigned)
    assert row_ids(client.get("/inbox/", {"view": "all"})) == ids(team, unassigned, colleague, mine)
    assert row_ids(client.get("/inbox/", {"view": f"team-{world['team_a'].pk}"})) == ids(team)
    assert row_ids(client.get("/inbox/", {"view": f"channel-{world['channel_a'].pk}"})) == ids(
        team, unassigned, colleague, mine
    )
    page = client.get("/inbox/", {"view": "mine"}).content.decode()
    assert 'data-view="mine" aria-current="page"' in page
    assert f'data-view="team-{world["team_a"].pk}"' in page
    assert f'data-view="channel-{world["channel_a"].pk}"' in page


def test_filters(world):
    agent = world["agent_a"]
    urgent = Label.objects.create(name="urgent-bug", color="red")
    vip = Label.objects.create(name="vip", color="purple")
    open_one = make_conversation(world["channel_a"], minutes=1, priority="high", team=world["team_a"])
    open_one.labels.set([urgent, vip])
    pending = make_conversation(world["channel_a"], minutes=2, status="pending", assignee=agent)
    pending.labels.set([vip])
    snoozed = make_conversation(world["channel_a"], minutes=3, status="snoozed", assignee=world["agent_a2"])
    resolved = make_conversation(world["channel_a"], minutes=4, status="resolved", priority="urgent")
    client = client_for(agent)

    def shown(**params):
        return row_ids(client.get("/inbox/", params))

    assert shown(status="open") == ids(open_one)
    assert shown(status="pending") == ids(pending)
    assert shown(status="snoozed") == ids(snoozed)
    assert shown(status="resolved") == ids(resolved)
    assert shown(channel=world["channel_a"].pk) == ids(resolved, snoozed, pending, open_one)
    assert shown(assignee=agent.pk) == ids(pending)
    assert shown(assignee=world["agent_a2"].pk) == ids(snoozed)
    assert shown(assignee="none") == ids(resolved, open_one)
    assert shown(team=world["team_a"].pk) == ids(open_one)
    assert shown(label=vip.pk) == ids(pending, open_one)  # no duplicate for two labels
    assert shown(label=urgent.pk) == ids(open_one)
    assert shown(priority="urgent") == ids(resolved)
    assert shown(priority="high", label=vip.pk) == ids(open_one)
    assert shown(status="open", priority="urgent") == []
    assert shown(view="mine", label=vip.pk) == ids(pending)


@pytest.mark.parametrize(
    "params",
    [
        {"status": "bogus"},
        {"view": "team-abc"},
        {"view": "channel-"},
        {"view": "nonsense"},
        {"channel": "x"},
        {"channel": "99999999999999999999"},
        {"assignee": "-1"},
        {"team": "0"},
        {"label": "1e9"},
        {"priority": "meh"},
        {"sort": "random"},
        {"cursor": "garbage"},
        {"cursor": "1_2_3"},
        {"cursor": "999999999999999999999999_1"},
        {"cursor": "-99999999999999999999_1"},
        {"cursor": "100_abc"},
    ],
)
def test_invalid_values_are_ignored(world, params):
    conversation = make_conversation(world["channel_a"])
    client = client_for(world["agent_a"])
    assert row_ids(client.get("/inbox/", params)) == [conversation.pk]
    assert client.get(f"/inbox/rows/{conversation.pk}/", params).status_code == 200


def test_unknown_or_foreign_ids_are_ignored_not_an_empty_list(world):
    conversation = make_conversation(world["channel_a"])
    client = client_for(world["agent_a"])
    for params in (
        {"view": f"team-{world['team_b'].pk}"},
        {"view": "team-99999"},
        {"view": f"channel-{world['channel_b'].pk}"},
        {"channel": world["channel_b"].pk},
        {"team": world["team_b"].pk},
        {"assignee": world["agent_b"].pk},
        {"assignee": "99999"},
        {"label": "99999"},
    ):
        assert row_ids(client.get("/inbox/", params)) == [conversation.pk], params


# ---- Sorting -------------------------------------------------------------------------------------


def test_sort_by_last_activity_waiting_and_sla(world):
    channel = world["channel_a"]
    a = make_conversation(channel, minutes=1, waiting_since=T0 + timedelta(minutes=30))
    b = make_conversation(channel, minutes=2, waiting_since=T0 - timedelta(hours=2))
    c = make_conversation(channel, minutes=3)  # not waiting: last
    d = make_conversation(channel, minutes=4, first_response_due_at=T0 + timedelta(hours=1))
    # Answered already: the lingering first-response deadline no longer counts, the next one does.
    e = make_conversation(
        channel,
        minutes=5,
        first_response_at=T0,
        first_response_due_at=T0 - timedelta(hours=5),
        next_response_due_at=T0 + timedelta(minutes=10),
    )
    a.first_response_due_at = T0 + timedelta(hours=3)
    a.save()
    client = client_for(world["agent_a"])

    assert row_ids(client.get("/inbox/")) == ids(e, d, c, b, a)
    assert row_ids(client.get("/inbox/", {"sort": "waiting"})) == ids(b, a, c, d, e)
    assert row_ids(client.get("/inbox/", {"sort": "sla"})) == ids(e, d, a, b, c)


# ---- Keyset pages --------------------------------------------------------------------------------


@pytest.mark.parametrize("sort", ["activity", "waiting", "sla"])
def test_cursor_pages_have_no_gaps_or_duplicates(world, sort):
    channel = world["channel_a"]
    created = []
    for n in range(23):
        # Ties on purpose: the id breaks them, and pages must still not overlap.
        created.append(
            make_conversation(
                channel,
                minutes=n // 3,
                waiting_since=None if n % 5 == 0 else T0 + timedelta(minutes=n % 4),
                first_response_due_at=None if n % 4 == 0 else T0 + timedelta(minutes=n % 3),
            )
        )
    user = world["agent_a"]
    query = inbox_q.parse_query({"sort": sort})
    expected = [c.pk for c in inbox_q.inbox_rows(user, query)]
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        page = inbox_q.inbox_page(user, query, cursor=cursor, limit=5)
        seen += [c.pk for c in page.rows]
        pages += 1
        if page.next_cursor is None:
            break
        cursor = inbox_q.decode_cursor(page.next_cursor)
    assert seen == expected
    assert sorted(seen) == sorted(c.pk for c in created)
    assert pages == 5


def test_more_rows_through_htmx(world):
    channel = world["channel_a"]
    conversations = [make_conversation(channel, minutes=n) for n in range(inbox_q.PAGE_SIZE + 7)]
    client = client_for(world["agent_a"])
    first = client.get("/inbox/")
    first_ids = row_ids(first)
    assert len(first_ids) == inbox_q.PAGE_SIZE
    html = first.content.decode()
    more = re.search(r'hx-get="([^"]+)"', html)
    assert more and 'data-testid="inbox-more"' in html
    rest = client.get(more.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"})
    rest_ids = row_ids(rest)
    assert "<nav" not in rest.content.decode()  # only the rows, for htmx to swap in
    assert 'data-testid="inbox-more"' not in rest.content.decode()
    assert first_ids + rest_ids == [c.pk for c in reversed(conversations)]

    # Without JavaScript the same link is a full page that starts after the cursor.
    plain = re.search(r'<a class="btn btn--sm" href="([^"]+)"', html)
    assert plain
    assert row_ids(client.get(plain.group(1).replace("&amp;", "&"))) == rest_ids


def test_more_link_keeps_the_view_filters_and_sort(world):
    for n in range(inbox_q.PAGE_SIZE + 1):
        make_conversation(world["channel_a"], minutes=n, status="pending", waiting_since=T0)
    html = (
        client_for(world["agent_a"])
        .get("/inbox/", {"status": "pending", "sort": "waiting", "view": "unassigned"})
        .content.decode()
    )
    link = re.search(r'hx-get="([^"]+)"', html).group(1)
    assert "status=pending" in link and "sort=waiting" in link and "view=unassigned" in link


# ---- Rows and unread markers ---------------------------------------------------------------------


def test_row_shows_customer_channel_preview_assignee_status_priority_labels(world):
    agent = world["agent_a"]
    agent.first_name, agent.last_name = "Anna", "Kowalska"
    agent.save()
    conversation = make_conversation(
        world["channel_a"], name="Ola Nowak", subject="Refund", assignee=agent, priority="urgent"
    )
    conversation.labels.set([Label.objects.create(name="billing", color="green")])
    add_message(conversation, minutes=1, body="First question")
    add_message(conversation, minutes=2, direction=Direction.OUTBOUND, body="Our latest answer")
    html = client_for(agent).get("/inbox/").content.decode()
    for text in (
        "Ola Nowak",
        "Refund",
        "Our latest answer",
        "Anna Kowalska",
        'data-status="open"',
        'data-priority="urgent"',
        "billing",
        'data-channel-kind="api"',
        f'href="/inbox/{conversation.pk}/"',
        "<time datetime=",
    ):
        assert text in html, text
    assert "First question" not in html


def test_unread_marker(world):
    agent, other = world["agent_a"], world["agent_a2"]
    channel = world["channel_a"]
    never_read = make_conversation(channel, minutes=1)
    add_message(never_read, minutes=1)
    read_before_last = make_conversation(channel, minutes=2)
    add_message(read_before_last, minutes=2)
    ConversationRead.objects.create(
        user=agent, conversation=read_before_last, read_at=T0 + timedelta(minutes=1)
    )
    read_after_last = make_conversation(channel, minutes=3)
    add_message(read_after_last, minutes=3)
    ConversationRead.objects.create(
        user=agent, conversation=read_after_last, read_at=T0 + timedelta(minutes=4)
    )
    # Our own reply after the customer's message is not something to read.
    answered = make_conversation(channel, minutes=4)
    add_message(answered, minutes=4)
    ConversationRead.objects.create(user=agent, conversation=answered, read_at=T0 + timedelta(minutes=5))
    add_message(answered, minutes=6, direction=Direction.OUTBOUND)
    no_messages = make_conversation(channel, minutes=5)
    # Someone else's read marker does not count for this agent.
    ConversationRead.objects.create(user=other, conversation=never_read, read_at=T0 + timedelta(hours=1))

    rows = inbox_q.inbox_page(agent, inbox_q.InboxQuery()).rows
    unread = {c.pk: c.is_unread for c in rows}  # type: ignore[attr-defined]
    assert unread == {
        never_read.pk: True,
        read_before_last.pk: True,
        read_after_last.pk: False,
        answered.pk: False,
        no_messages.pk: False,
    }
    html = client_for(agent).get("/inbox/").content.decode()
    assert html.count('data-unread="1"') == 2
    assert f'data-conversation-id="{never_read.pk}" data-status="open" data-unread="1"' in html


# ---- Query counts --------------------------------------------------------------------------------


def _fill(world, count: int) -> None:
    labels = [Label.objects.create(name=f"l{n}") for n in range(3)]
    for n in range(count):
        conversation = make_conversation(
            world["channel_a"],
            minutes=n,
            assignee=world["agent_a"] if n % 2 else None,
            team=world["team_a"] if n % 3 else None,
        )
        conversation.labels.set(labels[: n % 4])
        add_message(conversation, minutes=n)
        add_message(conversation, minutes=n, direction=Direction.OUTBOUND)
        ConversationRead.objects.create(user=world["agent_a"], conversation=conversation, read_at=T0)


@pytest.mark.parametrize("rows", [5, 50])
def test_query_count_does_not_grow_with_rows(world, django_assert_max_num_queries, rows):
    _fill(world, rows)
    client = client_for(world["agent_a"])
    client.get("/inbox/")  # warm the session and caches
    # Session, user, the permission backend's two, the page (+1 for the labels of all rows), and one
    # query each for the filter choices and the left column: teams, channels, assignees, labels,
    # segments, saved views.
    with django_assert_max_num_queries(12):
        assert len(row_ids(client.get("/inbox/"))) == rows
    label = Label.objects.order_by("name").last()
    with django_assert_max_num_queries(12):
        assert len(row_ids(client.get("/inbox/", {"label": label.pk, "sort": "sla"}))) > 0


def test_query_count_of_more_and_row_endpoint(world, django_assert_max_num_queries):
    _fill(world, 60)
    client = client_for(world["agent_a"])
    html = client.get("/inbox/").content.decode()
    more = re.search(r'hx-get="([^"]+)"', html).group(1).replace("&amp;", "&")
    # Session, user, permissions (2), the rows, their labels: no filter choices for a page of rows.
    with django_assert_max_num_queries(6):
        assert len(row_ids(client.get(more, headers={"HX-Request": "true"}))) == 10
    pk = Conversation.objects.order_by("id").first().pk
    with django_assert_max_num_queries(6):
        assert row_ids(client.get(f"/inbox/rows/{pk}/")) == [pk]


# ---- Query parameters ----------------------------------------------------------------------------


def test_parse_query_round_trips_canonical_params():
    query = inbox_q.parse_query(
        {
            "view": "team-3",
            "status": "open",
            "assignee": "none",
            "label": "4",
            "priority": "high",
            "sort": "sla",
        }
    )
    assert inbox_q.parse_query(query.params()) == query
    assert inbox_q.InboxQuery().params() == {}


def test_cursor_round_trip():
    key = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    assert inbox_q.decode_cursor(inbox_q.encode_cursor(key, 42)) == (key, 42)
    assert inbox_q.decode_cursor(inbox_q.encode_cursor(inbox_q.NEVER, 7)) == (inbox_q.NEVER, 7)


def test_empty_states(world):
    client = client_for(world["agent_a"])
    html = client.get("/inbox/").content.decode()
    assert 'data-testid="inbox-empty">' in html and "Your inbox is empty" in html
    make_conversation(world["channel_a"])
    html = client.get("/inbox/", {"status": "resolved"}).content.decode()
    assert "Nothing here" in html and 'data-testid="clear-filters"' in html
    html = client.get("/inbox/").content.decode()
    assert 'data-testid="inbox-empty" hidden' in html  # kept for the live updater to hide and show
