"""Profiles sits below tickets and surveys: it reaches them only through the seams they register
(core.events, merge points, the personal-data providers, segment conditions, profile sections)."""

from __future__ import annotations

import ast
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from core import events
from core.events import CustomerCreated, CustomerErased, CustomerEventRecorded, CustomersMerged
from profiles import personal_data, segment_conditions
from profiles.customer_events import EventInput, do_record_events
from profiles.merge import do_merge, do_undo_merge
from profiles.merge_points import CustomersMerging, CustomersUnmerging, HistoryWeighed
from profiles.models import Customer, CustomerEvent, MergeLog
from profiles.privacy import do_erase_customer
from profiles.profile_sections import HistoryViewerWanted, viewer_for
from profiles.retention import DataKind, cleaners
from profiles.segments import SegmentError, validate
from profiles.services import do_identify, do_resolve_sender
from surveys import profile_handlers
from surveys.invitation_models import Invitation
from tests.surveys import factories as f
from tickets.visibility import Visibility

UPPER = ("tickets", "surveys", "analytics", "cxm")
PROFILES = Path(__file__).resolve().parents[2] / "profiles"


def test_profiles_imports_nothing_above_it():
    """Anywhere in the module: top level, TYPE_CHECKING blocks and function bodies alike."""
    found = []
    for path in sorted(PROFILES.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            found += [f"{path.name}:{node.lineno} {n}" for n in names if n.split(".")[0] in UPPER]
    assert found == []


def test_the_upper_apps_register_at_every_seam():
    assert events.interceptors(CustomersMerging) and events.interceptors(CustomersUnmerging)
    assert events.interceptors(HistoryWeighed)
    assert events.interceptors(HistoryViewerWanted)
    assert profile_handlers.invite_after_events in events.subscribers(CustomerEventRecorded)
    assert {"tickets", "surveys"} <= {provider.app for provider in personal_data.providers()}
    assert {"conversation", "nps"} <= set(segment_conditions.registered())
    assert {DataKind.MESSAGES, DataKind.ATTACHMENTS} <= set(cleaners())


@pytest.mark.django_db
def test_the_viewer_comes_from_the_registered_policy(agent):
    assert isinstance(viewer_for(agent), Visibility)
    handlers = events.interceptors(HistoryViewerWanted)
    for handler in handlers:
        events.remove_interceptor(HistoryViewerWanted, handler)
    try:
        with pytest.raises(LookupError):
            viewer_for(agent)
    finally:
        for handler in handlers:
            events.add_interceptor(HistoryViewerWanted, handler, order=10)


def test_segment_types_of_an_app_that_is_not_installed_are_refused(monkeypatch):
    assert validate([{"type": "nps", "group": "detractor"}])
    monkeypatch.setattr(segment_conditions, "_conditions", {})
    with pytest.raises(SegmentError, match="unknown condition type"):
        validate([{"type": "nps", "group": "detractor"}])


@pytest.mark.django_db
def test_merge_moves_upper_rows_through_the_points_and_announces_after_commit(
    agent, django_capture_on_commit_callbacks
):
    survivor, merged = f.customer("Kept", phone="+48601111111"), f.customer("Gone", phone="+48602222222")
    invitation = f.invitation(f.survey(), merged)
    with announced(CustomersMerged) as seen, django_capture_on_commit_callbacks(execute=True):
        log = do_merge(survivor=survivor, merged=merged, actor=agent)
        assert seen == []  # not before the merge commits
    assert log.snapshot["moved"]["survey_invitation"] == [invitation.pk]
    assert {"conversation", "survey_response", "identity"} <= set(log.snapshot["moved"])
    assert Invitation.objects.get(pk=invitation.pk).customer_id == survivor.pk
    assert seen == [[CustomersMerged(kept_id=survivor.pk, merged_id=merged.pk, actor_id=agent.pk)]]

    do_undo_merge(log=log)
    assert Invitation.objects.get(pk=invitation.pk).customer_id == merged.pk


@pytest.mark.django_db
def test_a_failing_merge_interceptor_rolls_the_whole_merge_back():
    survivor, merged = f.customer("Kept", phone="+48601111111"), f.customer("Gone", phone="+48602222222")
    invitation = f.invitation(f.survey(), merged)

    def broken(call: CustomersMerging) -> None:
        raise RuntimeError("disk full")

    events.add_interceptor(CustomersMerging, broken, order=99)
    try:
        with pytest.raises(RuntimeError):
            do_merge(survivor=survivor, merged=merged)
    finally:
        events.remove_interceptor(CustomersMerging, broken)
    assert not MergeLog.objects.exists()
    assert Invitation.objects.get(pk=invitation.pk).customer_id == merged.pk
    assert Customer.objects.get(pk=merged.pk).merged_into_id is None


@pytest.mark.django_db
def test_customers_created_by_resolution_and_identify_are_announced(django_capture_on_commit_callbacks):
    with announced(CustomerCreated) as seen, django_capture_on_commit_callbacks(execute=True):
        first = do_resolve_sender(kind="telegram", value="900100200")
        again = do_resolve_sender(kind="telegram", value="900100200")
        second = do_identify(identities=[("external_id", "app-42")]).customer
        do_identify(identities=[("external_id", "app-42")])
    assert again.pk == first.pk
    assert seen == [[CustomerCreated(customer_id=first.pk)], [CustomerCreated(customer_id=second.pk)]]


@pytest.mark.django_db
def test_a_batch_of_events_is_announced_in_one_delivery(django_capture_on_commit_callbacks):
    at = timezone.now() - timedelta(minutes=1)
    with announced(CustomerEventRecorded) as seen, django_capture_on_commit_callbacks(execute=True):
        outcomes = do_record_events(
            events=[
                EventInput("b-1", "order_placed", at, (("external_id", "app-7"),), {}),
                EventInput("b-2", "order_paid", at, (("external_id", "app-7"),), {}),
            ]
        )
    rows = {row.pk: row for row in CustomerEvent.objects.all()}
    assert seen == [
        [
            CustomerEventRecorded(
                event_id=o.event_id,
                customer_id=o.customer_id,
                event_name=rows[o.event_id].name,
                occurred_at=rows[o.event_id].occurred_at,
            )
            for o in outcomes
        ]
    ]


@pytest.mark.django_db
def test_erasure_is_announced(admin_user, django_capture_on_commit_callbacks):
    person = f.customer()
    with announced(CustomerErased) as seen, django_capture_on_commit_callbacks(execute=True):
        do_erase_customer(customer=person, actor=admin_user)
    assert seen == [[CustomerErased(customer_id=person.pk)]]


@contextmanager
def announced(event_type):
    """Every delivery of `event_type` while inside, one list per delivery (a batch is one list)."""
    seen: list[list] = []

    def record(batch) -> None:
        seen.append(list(batch))

    events.subscribe_batch(event_type, record)
    try:
        yield seen
    finally:
        events.unsubscribe(event_type, record)
