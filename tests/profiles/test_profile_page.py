"""The customer profile page: what it shows, the journey's keyset pages, notes, merge decisions, who may
do what, and a query count that does not grow with the customer's history."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Team, User
from channels_app.services import do_create_channel
from profiles.merge import do_merge
from profiles.models import (
    AttributeDefinition,
    AttributeType,
    AuditAction,
    AuditEntry,
    Customer,
    CustomerEvent,
    CustomerNote,
    Identity,
    IdentityKind,
    MergeLog,
    SuggestionStatus,
    Tag,
    TimelineEntry,
    TimelineKind,
)
from profiles.selectors_profile import TIMELINE_PAGE_SIZE, Cursor, timeline_page, timeline_query
from profiles.services import do_add_note, do_suggest_merge
from profiles.timeline import (
    event_entries,
    record_conversation_resolved,
    record_message,
    record_survey_answer,
)
from surveys.models import Survey, SurveyKind, SurveyResponse
from tests.conftest import PASSWORD
from tickets.models import Conversation, ConversationStatus, Direction, Message
from tickets.visibility import visibility_for

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 30, 0, 123456, tzinfo=UTC)
ENTRY_IDS = re.compile(r'data-entry-id="(\d+)"')
OLDER = re.compile(r'hx-get="[^"]*/timeline/\?before=([^"]+)"')


# --- Builders ------------------------------------------------------------------------------------------
@pytest.fixture
def support(agent) -> Team:
    """The agent's team owns both channels: the agent may see their conversations on the profile."""
    team = Team.objects.create(name="Support")
    team.members.add(agent)
    return team


@pytest.fixture
def telegram(support):
    return do_create_channel(kind="telegram", name="Acme Bot", teams=[support])


@pytest.fixture
def email_channel(support):
    return do_create_channel(kind="email", name="Support mailbox", teams=[support])


@pytest.fixture
def everything(manager):
    return visibility_for(manager)


def conversation(customer, channel, *, subject="", at=T0, status=ConversationStatus.OPEN) -> Conversation:
    return Conversation.objects.create(
        customer=customer,
        channel=channel,
        subject=subject,
        status=status,
        created_at=at,
        last_activity_at=at,
    )


def message(conv: Conversation, text: str, *, at, direction=Direction.INBOUND, new=False) -> Message:
    msg = Message.objects.create(
        conversation=conv, channel=conv.channel, direction=direction, body=text, created_at=at
    )
    record_message(msg, new_conversation=new)
    return msg


def build_anna(telegram, email_channel, agent) -> Customer:
    """A customer who wrote on Telegram and by email, answered a survey and did things in the shop."""
    anna = Customer.objects.create(
        name="Anna Kowalska",
        company="Kowalska Consulting",
        location="Kraków",
        locale="pl",
        timezone="Europe/Warsaw",
        last_seen_at=T0 + timedelta(hours=5),
        attributes={"plan": "pro", "seats": 12, "vip": True, "renewal": "2026-09-30", "legacy_id": "A-7"},
        consent={"email": {"status": "granted", "at": "2026-01-05T10:00:00Z", "source": "signup form"}},
    )
    AttributeDefinition.objects.create(key="plan", label="Plan", type=AttributeType.CHOICE, choices=["pro"])
    AttributeDefinition.objects.create(key="seats", label="Seats", type=AttributeType.NUMBER)
    AttributeDefinition.objects.create(key="vip", label="VIP", type=AttributeType.BOOLEAN)
    AttributeDefinition.objects.create(key="renewal", label="Renewal date", type=AttributeType.DATE)
    anna.tags.add(Tag.objects.create(name="Key account", color="indigo"))
    Identity.objects.create(customer=anna, kind=IdentityKind.TELEGRAM, value="501234567", display="Anna K")
    Identity.objects.create(customer=anna, kind=IdentityKind.EMAIL, value="anna@example.pl", verified=True)
    Identity.objects.create(customer=anna, kind=IdentityKind.EMAIL, value="anna.k@example.com")

    chat = conversation(anna, telegram, subject="Order 1042", at=T0)
    message(chat, "Hello, where is my order 1042?", at=T0, new=True)
    message(chat, "It ships tomorrow.", at=T0 + timedelta(minutes=5), direction=Direction.OUTBOUND)
    chat.status = ConversationStatus.RESOLVED
    chat.save()
    record_conversation_resolved(chat, at=T0 + timedelta(minutes=10))
    mail = conversation(anna, email_channel, subject="Invoice question", at=T0 + timedelta(hours=1))
    message(mail, "Could you resend the March invoice?", at=T0 + timedelta(hours=1), new=True)
    event = CustomerEvent.objects.create(
        customer=anna, name="order_placed", client_event_id="evt-1", occurred_at=T0 + timedelta(hours=2)
    )
    TimelineEntry.objects.bulk_create(event_entries([event]))
    survey = Survey.objects.create(kind=SurveyKind.NPS, name="Quarterly NPS")
    response = SurveyResponse.objects.create(
        survey=survey,
        customer=anna,
        conversation=chat,
        channel=telegram,
        score=9,
        comment="Fast and kind",
        created_at=T0 + timedelta(hours=3),
    )
    record_survey_answer(response)
    do_add_note(customer=anna, author=agent, body="Prefers Telegram in the mornings.")
    return anna


def add_entries(customer: Customer, count: int, *, start=T0, tie_every: int = 1) -> list[TimelineEntry]:
    """`count` events; every `tie_every` consecutive ones share one timestamp, to make ties."""
    rows = [
        TimelineEntry(
            customer=customer,
            occurred_at=start + timedelta(seconds=i // tie_every),
            kind=TimelineKind.EVENT,
            summary=f"event {i}",
        )
        for i in range(count)
    ]
    return TimelineEntry.objects.bulk_create(rows)


def newest_first(customer: Customer) -> list[int]:
    return list(
        TimelineEntry.objects.filter(customer=customer)
        .order_by("-occurred_at", "-id")
        .values_list("pk", flat=True)
    )


def profile_url(customer: Customer | int) -> str:
    return reverse("customer_profile", kwargs={"pk": getattr(customer, "pk", customer)})


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def viewer(db) -> User:
    """May look at profiles but not merge them (no role grants that combination today)."""
    user = User.objects.create_user(username="viewer", password=PASSWORD, role="")
    user.user_permissions.add(Permission.objects.get(codename="view_customers"))
    return user


@pytest.fixture
def outsider(db) -> User:
    return User.objects.create_user(username="outsider", password=PASSWORD, role="")


# --- Rendering ------------------------------------------------------------------------------------------
def test_profile_shows_the_person_across_channels(agent_client, agent, telegram, email_channel):
    anna = build_anna(telegram, email_channel, agent)

    response = agent_client.get(profile_url(anna))

    assert response.status_code == 200
    assert "profiles/profile/profile.html" in [t.name for t in response.templates]
    html = response.content.decode()
    for text in ("Anna Kowalska", "Kowalska Consulting", "Kraków", "Europe/Warsaw", "Key account"):
        assert text in html
    assert 'href="/static/css/profile.css"' in html
    # Identities grouped by kind, the verified one marked.
    assert html.count('data-identity-kind="email"') == 1
    assert 'data-identity="anna@example.pl"' in html
    verified_item = html.split('data-identity="anna@example.pl"')[1].split("</li>")[0]
    assert "verified-mark" in verified_item
    unverified_item = html.split('data-identity="anna.k@example.com"')[1].split("</li>")[0]
    assert "verified-mark" not in unverified_item
    # Typed custom attributes, and one whose definition is gone.
    assert "Renewal date" in html and "Seats" in html and "legacy_id" in html
    assert 'data-attribute-type="boolean">Yes<' in html
    # Consent: recorded for email, nothing recorded for Telegram.
    assert 'data-consent-kind="email" data-consent="granted"' in html
    assert 'data-consent-kind="telegram" data-consent="unknown"' in html
    # Lifetime figures.
    assert 'data-figure="conversations">2<' in html
    assert 'data-figure="open">1<' in html
    assert 'data-figure="messages">3<' in html
    # Survey history with the latest NPS.
    assert 'data-survey-kind="nps"' in html and "Fast and kind" in html
    # Notes, author shown.
    assert "Prefers Telegram in the mornings." in html and agent.display_name in html
    # Both conversations are listed.
    assert "Order 1042" in html and "Invoice question" in html


def test_timeline_is_in_time_order_across_channels(agent_client, agent, telegram, email_channel):
    anna = build_anna(telegram, email_channel, agent)

    html = agent_client.get(profile_url(anna)).content.decode()

    shown = [int(pk) for pk in ENTRY_IDS.findall(html)]
    assert shown == newest_first(anna)
    kinds = re.findall(r'data-entry-id="\d+" data-kind="(\w+)"', html)
    assert kinds[:3] == ["survey_answer", "event", "message"]
    assert kinds[-2:] == ["message", "conversation_opened"]
    assert 'data-channel="telegram"' in html and 'data-channel="email"' in html
    assert "Conversation resolved" in html and "Reply sent" in html and "Message received" in html
    chat = Conversation.objects.get(subject="Order 1042")
    assert f'href="{reverse("conversation_detail", kwargs={"pk": chat.pk})}"' in html
    assert 'data-testid="timeline-end"' in html  # everything fits on the first page


def test_viewing_a_profile_is_audited(agent_client, agent):
    customer = Customer.objects.create(name="Audited")
    agent_client.get(profile_url(customer))
    entry = AuditEntry.objects.get(action=AuditAction.VIEW, customer_id_ref=customer.pk)
    assert entry.actor == agent


def test_customer_list_links_rows_to_profiles(agent_client):
    customer = Customer.objects.create(name="Linked Person", last_seen_at=timezone.now())
    html = agent_client.get(reverse("customer_list")).content.decode()
    assert f'href="{profile_url(customer)}"' in html


def test_empty_profile_renders(agent_client):
    customer = Customer.objects.create()
    response = agent_client.get(profile_url(customer))
    assert response.status_code == 200
    assert 'data-testid="timeline-empty"' in response.content.decode()


# --- The journey's pages --------------------------------------------------------------------------------
def test_cursor_round_trips_to_the_microsecond():
    cursor = Cursor(at=datetime(2026, 3, 2, 9, 30, 0, 999999, tzinfo=UTC), id=42)
    assert Cursor.decode(cursor.encode()) == cursor
    early = Cursor(at=datetime(1965, 1, 1, 0, 0, 0, 1, tzinfo=UTC), id=1)
    assert Cursor.decode(early.encode()) == early
    for bad in ("", "abc", "1_", "_1", "1-2", "1_2_3", "9" * 30 + "_1", "9" * 19 + "_1"):
        assert Cursor.decode(bad) is None


def test_pages_cover_every_entry_once_across_timestamp_ties(everything):
    customer = Customer.objects.create(name="Busy")
    other = Customer.objects.create(name="Someone else")
    add_entries(customer, 137, tie_every=7)  # 50 is no multiple of 7: pages end inside a tie
    add_entries(other, 20, tie_every=7)

    seen: list[int] = []
    cursor = None
    sizes = []
    while True:
        page = timeline_page(customer.pk, viewer=everything, before=cursor)
        sizes.append(len(page.entries))
        seen.extend(e.pk for e in page.entries)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sizes == [50, 50, 37]
    assert seen == newest_first(customer)


def test_older_button_pages_through_htmx_fragments(agent_client):
    customer = Customer.objects.create(name="Busy")
    add_entries(customer, 120, tie_every=4)
    expected = newest_first(customer)

    html = agent_client.get(profile_url(customer)).content.decode()
    seen = [int(pk) for pk in ENTRY_IDS.findall(html)]
    assert len(seen) == TIMELINE_PAGE_SIZE
    while match := OLDER.search(html):
        response = agent_client.get(
            reverse("customer_timeline", kwargs={"pk": customer.pk}),
            {"before": match.group(1)},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert "<html" not in html  # a fragment, appended in place of the button
        seen.extend(int(pk) for pk in ENTRY_IDS.findall(html))
    assert seen == expected
    assert 'data-testid="timeline-end"' in html


def test_older_link_works_without_javascript(agent_client, everything):
    customer = Customer.objects.create(name="Busy")
    add_entries(customer, 60)
    cursor = timeline_page(customer.pk, viewer=everything).next_cursor
    assert cursor is not None

    html = agent_client.get(profile_url(customer), {"before": cursor.encode()}).content.decode()

    assert [int(pk) for pk in ENTRY_IDS.findall(html)] == newest_first(customer)[50:]


def test_bad_cursor(agent_client):
    customer = Customer.objects.create(name="Busy")
    url = reverse("customer_timeline", kwargs={"pk": customer.pk})
    assert agent_client.get(url, {"before": "not-a-cursor"}).status_code == 400
    response = agent_client.get(profile_url(customer), {"before": "x"})
    assert response.status_code == 302 and response["Location"] == profile_url(customer)


def test_a_page_is_one_range_scan_of_the_timeline_index(everything):
    customer = Customer.objects.create(name="Busy")
    for other in range(4):
        add_entries(Customer.objects.create(name=f"other {other}"), 1000)
    add_entries(customer, 3000, tie_every=3)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE profiles_timelineentry")
    cursor_at = timeline_page(customer.pk, viewer=everything).next_cursor
    assert cursor_at is not None

    for before in (None, cursor_at):
        query = timeline_query(customer.pk, viewer=everything, before=before)
        plan = query[: TIMELINE_PAGE_SIZE + 1].explain()
        assert "Index Scan using timeline_by_customer" in plan, plan
        assert "Sort" not in plan, plan
        assert "Seq Scan on profiles_timelineentry" not in plan, plan


# --- Redirects, 404 and permissions -----------------------------------------------------------------------
def test_merged_away_profile_redirects_to_the_survivor(agent_client):
    first, second, third = (Customer.objects.create(name=n) for n in ("First", "Second", "Third"))
    do_merge(survivor=second, merged=first)
    do_merge(survivor=third, merged=second)  # merges of merges are followed to the end

    response = agent_client.get(profile_url(first))
    assert response.status_code == 302
    assert response["Location"] == profile_url(third)

    timeline = agent_client.get(reverse("customer_timeline", kwargs={"pk": first.pk}), {"before": "5_7"})
    assert timeline.status_code == 302
    assert timeline["Location"] == reverse("customer_timeline", kwargs={"pk": third.pk}) + "?before=5_7"


def test_unknown_customer_is_404(agent_client):
    missing = (Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000
    for name in ("customer_profile", "customer_timeline", "customer_notes"):
        assert agent_client.get(reverse(name, kwargs={"pk": missing})).status_code == 404
    assert (
        agent_client.post(reverse("customer_notes", kwargs={"pk": missing}), {"body": "x"}).status_code == 404
    )


def test_anonymous_visitors_are_sent_to_login(client):
    customer = Customer.objects.create(name="Private")
    response = client.get(profile_url(customer))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_without_view_permission_everything_is_forbidden(outsider, agent):
    customer = Customer.objects.create(name="Private")
    other = Customer.objects.create(name="Other")
    suggestion = do_suggest_merge(customer=customer, other=other, evidence={"kind": "email", "value": "x"})
    assert suggestion is not None
    log = do_merge(survivor=customer, merged=Customer.objects.create(name="Gone"), actor=agent)
    client = client_for(outsider)
    pk = customer.pk
    assert client.get(profile_url(customer)).status_code == 403
    assert client.get(reverse("customer_timeline", kwargs={"pk": pk})).status_code == 403
    assert client.get(reverse("customer_notes", kwargs={"pk": pk})).status_code == 403
    assert client.post(reverse("customer_notes", kwargs={"pk": pk}), {"body": "hi"}).status_code == 403
    for name, kwargs in (
        ("customer_suggestion_accept", {"pk": pk, "suggestion_id": suggestion.pk}),
        ("customer_suggestion_dismiss", {"pk": pk, "suggestion_id": suggestion.pk}),
        ("customer_merge_undo", {"pk": pk, "log_id": log.pk}),
    ):
        assert client.post(reverse(name, kwargs=kwargs)).status_code == 403
    assert not CustomerNote.objects.exists()


def test_viewing_without_merge_permission_hides_and_refuses_merge_actions(viewer, agent):
    customer = Customer.objects.create(name="Seen")
    other = Customer.objects.create(name="Maybe same")
    suggestion = do_suggest_merge(customer=customer, other=other, evidence={"kind": "email", "value": "x"})
    assert suggestion is not None
    log = do_merge(survivor=customer, merged=Customer.objects.create(name="Gone"), actor=agent)
    client = client_for(viewer)

    html = client.get(profile_url(customer)).content.decode()
    assert 'data-testid="suggestions"' in html  # the suggestion is visible ...
    assert 'data-testid="suggestion-accept"' not in html  # ... but not actionable
    assert 'data-testid="merge-undo"' not in html
    for name, kwargs in (
        ("customer_suggestion_accept", {"pk": customer.pk, "suggestion_id": suggestion.pk}),
        ("customer_suggestion_dismiss", {"pk": customer.pk, "suggestion_id": suggestion.pk}),
        ("customer_merge_undo", {"pk": customer.pk, "log_id": log.pk}),
    ):
        assert client.post(reverse(name, kwargs=kwargs)).status_code == 403
    suggestion.refresh_from_db()
    log.refresh_from_db()
    assert suggestion.status == SuggestionStatus.OPEN and log.undone_at is None


def test_merge_actions_need_post_and_csrf(agent):
    customer = Customer.objects.create(name="One")
    other = Customer.objects.create(name="Two")
    suggestion = do_suggest_merge(customer=customer, other=other, evidence={"kind": "email", "value": "x"})
    assert suggestion is not None
    url = reverse("customer_suggestion_accept", kwargs={"pk": customer.pk, "suggestion_id": suggestion.pk})
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403  # no CSRF token
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.OPEN


def test_a_suggestion_is_decided_only_through_a_profile_it_is_about(agent_client):
    one, two, stranger = (Customer.objects.create(name=n) for n in ("One", "Two", "Stranger"))
    suggestion = do_suggest_merge(customer=one, other=two, evidence={"kind": "email", "value": "x"})
    assert suggestion is not None
    url = reverse("customer_suggestion_accept", kwargs={"pk": stranger.pk, "suggestion_id": suggestion.pk})
    assert agent_client.post(url).status_code == 404
    assert not MergeLog.objects.exists()


# --- Notes -------------------------------------------------------------------------------------------
def test_adding_a_note_with_htmx_returns_the_notes_newest_first(agent_client, agent):
    customer = Customer.objects.create(name="Noted")
    do_add_note(customer=customer, author=agent, body="Older note")
    url = reverse("customer_notes", kwargs={"pk": customer.pk})

    response = agent_client.post(url, {"body": "  Called back, all good.  "}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<section") and 'id="notes"' in html
    assert html.index("Called back, all good.") < html.index("Older note")
    assert agent.display_name in html
    assert "autofocus" in html  # the emptied field is ready for the next note
    note = CustomerNote.objects.get(body="Called back, all good.")
    assert note.author == agent and note.customer == customer


def test_an_empty_note_is_refused(agent_client):
    customer = Customer.objects.create(name="Noted")
    url = reverse("customer_notes", kwargs={"pk": customer.pk})
    response = agent_client.post(url, {"body": "   "}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'id="note-error"' in response.content.decode()
    assert not CustomerNote.objects.exists()


def test_a_note_without_javascript_redirects_back(agent_client):
    customer = Customer.objects.create(name="Noted")
    response = agent_client.post(reverse("customer_notes", kwargs={"pk": customer.pk}), {"body": "Plain"})
    assert response.status_code == 302
    assert response["Location"] == profile_url(customer) + "#notes"
    assert CustomerNote.objects.filter(customer=customer, body="Plain").exists()


def test_the_page_shows_the_newest_notes_and_all_on_request(agent_client, agent):
    customer = Customer.objects.create(name="Noted")
    for n in range(15):
        note = do_add_note(customer=customer, author=agent, body=f"note number {n:02d}")
        CustomerNote.objects.filter(pk=note.pk).update(created_at=T0 + timedelta(minutes=n))

    html = agent_client.get(profile_url(customer)).content.decode()
    shown = re.findall(r"note number (\d\d)", html)
    assert shown == [f"{n:02d}" for n in range(14, 4, -1)]
    assert 'data-testid="notes-all"' in html

    html = agent_client.get(reverse("customer_notes", kwargs={"pk": customer.pk})).content.decode()
    assert re.findall(r"note number (\d\d)", html) == [f"{n:02d}" for n in range(14, -1, -1)]


def test_a_note_on_a_merged_away_profile_goes_to_the_survivor(agent_client):
    gone, survivor = Customer.objects.create(name="Gone"), Customer.objects.create(name="Kept")
    do_merge(survivor=survivor, merged=gone)
    agent_client.post(reverse("customer_notes", kwargs={"pk": gone.pk}), {"body": "late note"})
    assert CustomerNote.objects.get(body="late note").customer == survivor


# --- Merge decisions -------------------------------------------------------------------------------------
@pytest.fixture
def duplicate_pair(telegram, email_channel):
    """Anna on Telegram (two conversations, so she survives) and an email-only profile of her."""
    anna = Customer.objects.create(name="Anna", last_seen_at=T0)
    Identity.objects.create(customer=anna, kind=IdentityKind.TELEGRAM, value="501234567")
    for n in range(2):
        conv = conversation(anna, telegram, subject=f"Chat {n}", at=T0 + timedelta(hours=n))
        message(conv, f"telegram message {n}", at=T0 + timedelta(hours=n), new=True)
    mail_profile = Customer.objects.create(name="anna@example.pl", last_seen_at=T0)
    Identity.objects.create(customer=mail_profile, kind=IdentityKind.EMAIL, value="anna@example.pl")
    conv = conversation(mail_profile, email_channel, subject="Mail", at=T0 + timedelta(days=1))
    message(conv, "an email from the other profile", at=T0 + timedelta(days=1), new=True)
    suggestion = do_suggest_merge(
        customer=anna,
        other=mail_profile,
        evidence={"kind": "email", "value": "anna@example.pl", "source": "message", "verified": False},
    )
    assert suggestion is not None
    return anna, mail_profile, suggestion


def test_accepting_a_suggestion_merges_and_undo_restores(agent_client, agent, duplicate_pair):
    anna, mail_profile, suggestion = duplicate_pair
    html = agent_client.get(profile_url(anna)).content.decode()
    assert f'data-suggestion-id="{suggestion.pk}"' in html
    assert "anna@example.pl" in html  # the other profile's identity is shown as evidence
    assert "an email from the other profile" not in html

    accept = reverse("customer_suggestion_accept", kwargs={"pk": anna.pk, "suggestion_id": suggestion.pk})
    response = agent_client.post(accept)
    assert response.status_code == 302
    log = MergeLog.objects.get(survivor=anna, merged=mail_profile)
    assert response["Location"] == profile_url(anna) + f"?merged={log.pk}"
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.ACCEPTED

    html = agent_client.get(response["Location"]).content.decode()
    assert 'data-testid="merge-banner"' in html  # the undo is right where the agent clicked
    assert reverse("customer_merge_undo", kwargs={"pk": anna.pk, "log_id": log.pk}) in html
    assert 'data-identity="anna@example.pl"' in html
    assert "an email from the other profile" in html
    assert 'data-testid="suggestions"' not in html
    assert f'data-merge-id="{log.pk}"' in html and 'data-testid="merge-undo"' in html
    assert 'data-testid="merge-banner"' not in agent_client.get(profile_url(anna)).content.decode()
    assert agent_client.get(profile_url(mail_profile))["Location"] == profile_url(anna)

    undo = reverse("customer_merge_undo", kwargs={"pk": anna.pk, "log_id": log.pk})
    response = agent_client.post(undo)
    assert response.status_code == 302
    log.refresh_from_db()
    assert log.undone_at is not None and log.undone_by == agent

    html = agent_client.get(profile_url(anna)).content.decode()
    assert 'data-identity="anna@example.pl"' not in html
    assert "an email from the other profile" not in html
    assert f'data-suggestion-id="{suggestion.pk}"' in html  # the suggestion is open again
    assert 'data-testid="merge-undo"' not in html

    # Undoing twice is refused politely.
    response = agent_client.post(undo, follow=True)
    assert "cannot be undone" in response.content.decode()


def test_accepting_from_the_profile_that_goes_away_lands_on_the_survivor(agent_client, duplicate_pair):
    anna, mail_profile, suggestion = duplicate_pair
    url = reverse(
        "customer_suggestion_accept", kwargs={"pk": mail_profile.pk, "suggestion_id": suggestion.pk}
    )
    response = agent_client.post(url)
    assert response["Location"].startswith(profile_url(anna) + "?merged=")


def test_accepting_a_decided_suggestion_changes_nothing(agent_client, duplicate_pair):
    anna, _, suggestion = duplicate_pair
    url = reverse("customer_suggestion_accept", kwargs={"pk": anna.pk, "suggestion_id": suggestion.pk})
    agent_client.post(url)
    response = agent_client.post(url, follow=True)
    assert response.status_code == 200
    assert "already decided" in response.content.decode()
    assert MergeLog.objects.count() == 1


def test_dismissing_a_suggestion(agent_client, agent, duplicate_pair):
    anna, _mail_profile, suggestion = duplicate_pair
    url = reverse("customer_suggestion_dismiss", kwargs={"pk": anna.pk, "suggestion_id": suggestion.pk})
    response = agent_client.post(url)
    assert response.status_code == 302 and response["Location"] == profile_url(anna)
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.DISMISSED and suggestion.decided_by == agent
    assert not MergeLog.objects.exists()
    assert 'data-testid="suggestions"' not in agent_client.get(profile_url(anna)).content.decode()


def test_undo_only_from_the_surviving_profile(agent_client):
    survivor, merged = Customer.objects.create(name="Kept"), Customer.objects.create(name="Gone")
    log = do_merge(survivor=survivor, merged=merged)
    stranger = Customer.objects.create(name="Stranger")
    url = reverse("customer_merge_undo", kwargs={"pk": stranger.pk, "log_id": log.pk})
    assert agent_client.post(url).status_code == 404
    log.refresh_from_db()
    assert log.undone_at is None


# --- Query counts ---------------------------------------------------------------------------------------
def build_history(size: int, agent, telegram, email_channel) -> Customer:
    """A customer with `size` of everything that is listed: identities, notes, timeline entries,
    conversations, messages, survey answers, tags, attributes, suggestions and merges."""
    customer = Customer.objects.create(
        name=f"Customer {size}",
        attributes={f"attr_{size}_{n}": n for n in range(min(size, 40))},
        consent={"email": {"status": "granted", "at": "2026-01-05T10:00:00Z"}},
    )
    AttributeDefinition.objects.bulk_create(
        AttributeDefinition(key=f"attr_{size}_{n}", label=f"Attribute {n}", type=AttributeType.NUMBER)
        for n in range(min(size, 40))
    )
    customer.tags.add(*Tag.objects.bulk_create(Tag(name=f"tag {size}-{n}") for n in range(min(size, 30))))
    Identity.objects.bulk_create(
        Identity(
            customer=customer, kind=IdentityKind.EMAIL, value=f"{size}-{n}@example.com", verified=n % 2 == 0
        )
        for n in range(size)
    )
    CustomerNote.objects.bulk_create(
        CustomerNote(customer=customer, author=agent, body=f"note {n}") for n in range(size)
    )
    convs = Conversation.objects.bulk_create(
        Conversation(
            customer=customer,
            channel=telegram if n % 2 else email_channel,
            subject=f"conversation {n}",
            created_at=T0,
            last_activity_at=T0 + timedelta(minutes=n),
            assignee=agent,
        )
        for n in range(size)
    )
    Message.objects.bulk_create(
        Message(conversation=c, channel=c.channel, direction=Direction.INBOUND, body="hi", created_at=T0)
        for c in convs
    )
    TimelineEntry.objects.bulk_create(
        TimelineEntry(
            customer=customer,
            occurred_at=T0 + timedelta(seconds=n),
            kind=TimelineKind.MESSAGE,
            channel=c.channel,
            conversation=c,
            summary=f"message {n}",
        )
        for n, c in enumerate(convs)
    )
    survey = Survey.objects.create(kind=SurveyKind.CSAT, name=f"CSAT {size}")
    SurveyResponse.objects.bulk_create(
        SurveyResponse(
            survey=survey, customer=customer, score=1 + n % 5, created_at=T0 + timedelta(minutes=n)
        )
        for n in range(size)
    )
    for n in range(min(size, 12)):
        other = Customer.objects.create(name=f"dup {size}-{n}")
        Identity.objects.create(customer=other, kind=IdentityKind.PHONE, value=f"+4860{size:04d}{n:03d}")
        do_suggest_merge(customer=customer, other=other, evidence={"kind": "phone", "value": "x"})
    for n in range(min(size, 25)):
        do_merge(survivor=customer, merged=Customer.objects.create(name=f"merged {size}-{n}"), actor=agent)
    return customer


def test_profile_page_query_count_does_not_grow_with_history(
    agent_client, agent, telegram, email_channel, everything, django_assert_max_num_queries
):
    small = build_history(3, agent, telegram, email_channel)
    large = build_history(300, agent, telegram, email_channel)
    assert TimelineEntry.objects.filter(customer=large).count() > 300  # plus the merges' own entries

    counts = []
    for customer in (small, large):
        agent_client.get(profile_url(customer))  # warm the session and permission caches alike
        with django_assert_max_num_queries(18), CaptureQueriesContext(connection) as queries:
            response = agent_client.get(profile_url(customer))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts

    cursor = timeline_page(large.pk, viewer=everything).next_cursor
    assert cursor is not None
    url = reverse("customer_timeline", kwargs={"pk": large.pk})
    with django_assert_max_num_queries(6):
        agent_client.get(url, {"before": cursor.encode()}, headers={"HX-Request": "true"})
