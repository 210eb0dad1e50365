"""Inbox filters added on top of the basic list: customer segment and SLA state, how every filter and
sort composes with keyset pages, and a query count that does not depend on page size or filters."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from profiles.models import AttributeDefinition, Customer, Segment
from tests.tickets import test_inbox_list as base
from tests.tickets.test_inbox_list import client_for, ids, make_conversation, row_ids
from tickets import selectors_inbox as inbox_q
from tickets.models import Conversation, Label, SavedView

world = base.world  # the same teams, channels and people as the basic list tests
ROW_ID_RE = re.compile(r'data-conversation-id="(\d+)"')
BADGE_RE = re.compile(r'data-sla-state="(\w+)"')


def badges(html: str) -> dict[int, str]:
    """The SLA state each row's badge shows, by conversation id (rows without a badge left out)."""
    shown = {}
    for chunk in html.split('data-testid="inbox-row"')[1:]:
        state = BADGE_RE.search(chunk)
        if state:
            shown[int(ROW_ID_RE.search(chunk).group(1))] = state.group(1)
    return shown


def in_segment(conversation: Conversation, company: str = "Acme") -> Conversation:
    Customer.objects.filter(pk=conversation.customer_id).update(company=company)
    return conversation


@pytest.fixture
def acme(db) -> Segment:
    return Segment.objects.create(
        name="Acme people",
        definition=[{"type": "attribute", "field": "company", "op": "equals", "value": "Acme"}],
    )


# ---- Segment ---------------------------------------------------------------------------------------


def test_segment_filter(world, acme):
    inside = in_segment(make_conversation(world["channel_a"], minutes=1))
    in_segment(make_conversation(world["channel_a"], minutes=2), company="Other")
    inside_too = in_segment(make_conversation(world["channel_a"], minutes=3, status="pending"))
    foreign = in_segment(make_conversation(world["channel_b"], minutes=4))
    client = client_for(world["agent_a"])

    assert row_ids(client.get("/inbox/", {"segment": acme.pk})) == ids(inside_too, inside)
    assert row_ids(client.get("/inbox/", {"segment": acme.pk, "status": "open"})) == ids(inside)
    assert foreign.pk in row_ids(client_for(world["manager"]).get("/inbox/", {"segment": acme.pk}))
    html = client.get("/inbox/", {"segment": acme.pk}).content.decode()
    assert f'<option value="{acme.pk}" selected>Acme people</option>' in html


def test_segment_filter_is_a_subquery_not_a_list_of_ids(world, acme):
    in_segment(make_conversation(world["channel_a"]))
    query = inbox_q.parse_query({"segment": str(acme.pk)})
    sql = str(inbox_q.inbox_rows(world["agent_a"], query).query).lower()
    assert "customer_id in (select" in sql.replace('"', "").replace("profiles_customer.", "")


def test_unknown_or_broken_segment(world, acme):
    conversation = in_segment(make_conversation(world["channel_a"]))
    client = client_for(world["agent_a"])
    # An id that is not a segment is dropped like any foreign id: the whole list, not an empty one.
    assert row_ids(client.get("/inbox/", {"segment": 99999})) == ids(conversation)
    # A segment that no longer validates (its attribute was deleted) matches nothing, never everyone.
    AttributeDefinition.objects.create(key="plan", label="Plan", type="text")
    broken = Segment.objects.create(
        name="Pro", definition=[{"type": "attribute", "field": "plan", "op": "equals", "value": "pro"}]
    )
    AttributeDefinition.objects.filter(key="plan").delete()
    assert row_ids(client.get("/inbox/", {"segment": broken.pk})) == []


# ---- SLA state -------------------------------------------------------------------------------------


def _sla_world(channel):
    """Conversations at known points of their deadlines, relative to the real clock (the badge reads
    the clock too)."""
    now = timezone.now()
    hour = timedelta(hours=1)
    made = {}

    def make(key, **fields):
        fields.setdefault("waiting_since", now - hour)
        made[key] = conversation = make_conversation(channel, minutes=len(made), **fields)
        # Created two hours ago: the resolution deadline's share is measured from creation.
        Conversation.objects.filter(pk=conversation.pk).update(created_at=now - 2 * hour)

    # First response due in 3h after waiting 1h: 75% left.
    make("ok_first", first_response_due_at=now + 3 * hour)
    # Due in 10 minutes after waiting 1h50: under 10% left.
    make(
        "risk_first",
        waiting_since=now - 110 * timedelta(minutes=1),
        first_response_due_at=now + timedelta(minutes=10),
    )
    make("breached_first", first_response_due_at=now - timedelta(minutes=5))
    # Answered once; the customer wrote again: the next-response deadline counts, not the met first one.
    make(
        "risk_next",
        first_response_at=now - 5 * hour,
        first_response_due_at=now - 6 * hour,
        next_response_due_at=now + timedelta(minutes=5),
    )
    # The agent has the last word: the lingering next deadline does not count, resolution does (ok).
    make(
        "ok_resolution",
        first_response_at=now - 2 * hour,
        waiting_since=None,
        next_response_due_at=now - hour,
        resolution_due_at=now + 20 * hour,
    )
    # Resolution comes sooner than the response deadline and is nearly due.
    make(
        "risk_resolution",
        first_response_due_at=now + 10 * hour,
        resolution_due_at=now + timedelta(minutes=2),
    )
    make("breached_resolution", resolution_due_at=now - hour, first_response_due_at=now + 5 * hour)
    make("no_sla")
    make("resolved", status="resolved", first_response_due_at=now - hour)
    return made


@pytest.mark.parametrize("sort", ["activity", "waiting", "sla"])
def test_sla_state_filter_matches_the_badges(world, sort):
    made = _sla_world(world["channel_a"])
    client = client_for(world["agent_a"])
    expected = {
        "ok": {"ok_first", "ok_resolution"},
        "at_risk": {"risk_first", "risk_next", "risk_resolution"},
        "breached": {"breached_first", "breached_resolution"},
    }
    badge_names = {"ok": "on_track", "at_risk": "at_risk", "breached": "breached"}
    for state, keys in expected.items():
        response = client.get("/inbox/", {"sla_state": state, "sort": sort})
        assert set(row_ids(response)) == {made[k].pk for k in keys}, state
        # Every row the filter returns wears the badge of that state: list and filter agree.
        shown = badges(response.content.decode())
        assert set(shown.values()) == {badge_names[state]}, (state, shown)
        assert len(shown) == len(keys)


def test_sla_state_agrees_with_the_badge_on_every_row(world):
    made = _sla_world(world["channel_a"])
    html = client_for(world["agent_a"]).get("/inbox/").content.decode()
    shown = badges(html)
    for state, badge in (("ok", "on_track"), ("at_risk", "at_risk"), ("breached", "breached")):
        query = inbox_q.parse_query({"sla_state": state})
        filtered = {c.pk for c in inbox_q.inbox_rows(world["agent_a"], query)}
        assert filtered == {pk for pk, on_badge in shown.items() if on_badge == badge}, state
    assert made["no_sla"].pk not in shown and made["resolved"].pk not in shown


def test_sort_by_sla_due_takes_the_soonest_deadline(world):
    made = _sla_world(world["channel_a"])
    query = inbox_q.parse_query({"sort": "sla"})
    order = [c.pk for c in inbox_q.inbox_rows(world["agent_a"], query)]
    position = {pk: n for n, pk in enumerate(order)}
    assert position[made["breached_resolution"].pk] < position[made["risk_resolution"].pk]
    assert position[made["risk_resolution"].pk] < position[made["ok_first"].pk]
    assert order[-1] in {made["no_sla"].pk, made["resolved"].pk}


# ---- Every filter and sort pages through the cursor --------------------------------------------------

ALL_FILTERS = ("status", "channel", "assignee", "team", "label", "priority", "segment", "sla_state")


def _busy_world(world, acme, count: int):
    """`count` conversations that match every filter at once, plus decoys that each miss one."""
    now = timezone.now()
    vip = Label.objects.create(name="vip", color="purple")
    agent, team, channel = world["agent_a"], world["team_a"], world["channel_a"]
    match = {
        "status": "open",
        "assignee": agent,
        "team": team,
        "priority": "high",
    }

    def make(n, company="Acme", label=True, **overrides):
        fields = {
            **match,
            # Ties every third row on purpose: the id must break them without gaps or repeats.
            "waiting_since": now - timedelta(minutes=30 + n // 3),
            "first_response_due_at": now - timedelta(minutes=n // 3 + 1),
            **overrides,
        }
        conversation = in_segment(make_conversation(channel, minutes=n // 3, **fields), company=company)
        if label:
            conversation.labels.set([vip])
        return conversation

    matching = [make(n) for n in range(count)]
    make(0, status="pending")
    make(0, assignee=world["agent_a2"])
    make(0, team=None)
    make(0, priority="low")
    make(0, label=False)
    make(0, company="Other")
    make(0, first_response_due_at=now + timedelta(hours=5))
    params = {
        "status": "open",
        "channel": channel.pk,
        "assignee": agent.pk,
        "team": team.pk,
        "label": vip.pk,
        "priority": "high",
        "segment": acme.pk,
        "sla_state": "breached",
    }
    return matching, params


@pytest.mark.parametrize("sort", ["activity", "waiting", "sla"])
def test_all_filters_and_sorts_page_with_the_cursor(world, acme, sort):
    matching, params = _busy_world(world, acme, 13)
    user = world["agent_a"]
    query = inbox_q.parse_query({**params, "sort": sort})
    assert all(getattr(query, name) for name in ALL_FILTERS)
    expected = [c.pk for c in inbox_q.inbox_rows(user, query)]
    assert sorted(expected) == sorted(c.pk for c in matching)
    seen: list[int] = []
    cursor = None
    while True:
        page = inbox_q.inbox_page(user, query, cursor=cursor, limit=4)
        seen += [c.pk for c in page.rows]
        if page.next_cursor is None:
            break
        cursor = inbox_q.decode_cursor(page.next_cursor)
    assert seen == expected


def test_more_link_keeps_segment_and_sla_state(world, acme):
    matching, params = _busy_world(world, acme, inbox_q.PAGE_SIZE + 3)
    client = client_for(world["agent_a"])
    html = client.get("/inbox/", params).content.decode()
    more = re.search(r'hx-get="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert f"segment={acme.pk}" in more and "sla_state=breached" in more
    rest = row_ids(client.get(more, headers={"HX-Request": "true"}))
    assert len(rest) == 3 and set(rest) <= {c.pk for c in matching}


@pytest.mark.parametrize("sort", ["activity", "waiting", "sla"])
def test_query_count_is_the_same_for_5_and_50_rows_with_every_filter(world, acme, sort):
    counts = {}
    for rows in (5, 50):
        Conversation.objects.all().delete()
        Label.objects.all().delete()
        _matching, params = _busy_world(world, acme, rows)
        # A saved view in the left column as well: its list is one query however many there are.
        SavedView.objects.create(owner=world["agent_a"], name=f"v{rows}", params={"status": "open"})
        client = client_for(world["agent_a"])
        client.get("/inbox/", {**params, "sort": sort})  # warm the session and caches
        with CaptureQueriesContext(connection) as captured:
            shown = row_ids(client.get("/inbox/", {**params, "sort": sort}))
        assert len(shown) == rows
        counts[rows] = len(captured)
    assert counts[5] == counts[50], counts


def test_filter_bar_offers_segments_and_sla_states(world, acme):
    html = client_for(world["agent_a"]).get("/inbox/").content.decode()
    assert 'name="segment"' in html and "Acme people" in html
    assert 'name="sla_state"' in html
    for value in inbox_q.SLA_STATES:
        assert f'<option value="{value}"' in html


def test_parse_query_round_trips_new_params():
    query = inbox_q.parse_query({"segment": "5", "sla_state": "at_risk", "sort": "sla"})
    assert (query.segment, query.sla_state) == (5, "at_risk")
    assert inbox_q.parse_query(query.params()) == query
    assert inbox_q.parse_query({"segment": "x", "sla_state": "late"}) == inbox_q.InboxQuery()
