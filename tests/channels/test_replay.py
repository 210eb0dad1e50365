"""Failed deliveries stay visible and can be replayed; pending ones are swept back into the queue."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from channels_app.adapters.api import ApiAdapter, sign
from channels_app.adapters.base import AdapterError
from channels_app.ingest import stale_pending_ids
from channels_app.models import InboundEvent, InboundStatus
from channels_app.services import do_create_channel
from tests.pipeline import post_webhook, process_all
from tickets.models import Message

pytestmark = pytest.mark.django_db
SECRET = "replay-signing-secret-0123456789"


@pytest.fixture
def channel():
    return do_create_channel(kind="api", name="Replay", credentials={"signing_secret": SECRET})


def deliver(client, channel, message_id="r-1"):
    body = json.dumps({"type": "message", "id": message_id, "sender": {"id": "c1"}, "text": "hi"}).encode()
    ts = str(int(time.time()))
    return post_webhook(
        client, "api", channel.pk, body, content_type="application/json",
        HTTP_X_CXM_TIMESTAMP=ts, HTTP_X_CXM_SIGNATURE=sign(SECRET, ts, body),
    )  # fmt: skip


def test_failed_event_is_replayed_after_the_fix(client, channel, monkeypatch, capsys):
    original = ApiAdapter.parse

    def buggy(self, event, channel):
        raise AdapterError("parser bug", permanent=True)

    monkeypatch.setattr(ApiAdapter, "parse", buggy)
    deliver(client, channel)
    (event,) = process_all()
    assert (event.status, event.error) == (InboundStatus.FAILED, "parser bug")

    monkeypatch.setattr(ApiAdapter, "parse", original)
    call_command("replay_inbound", "--failed", "--sync")
    assert "1 event(s) queued for replay" in capsys.readouterr().out
    event.refresh_from_db()
    assert (event.status, event.error, event.attempts) == (InboundStatus.DONE, "", 2)
    assert Message.objects.count() == 1


def test_done_events_are_never_replayed(client, channel):
    deliver(client, channel)
    (event,) = process_all()
    call_command("replay_inbound", str(event.pk), "--sync")
    assert Message.objects.count() == 1
    event.refresh_from_db()
    assert event.attempts == 1


def test_replay_needs_a_selection():
    with pytest.raises(CommandError):
        call_command("replay_inbound")


def test_admin_replay_action(client, channel, make_user, monkeypatch):
    monkeypatch.setattr(
        ApiAdapter, "parse", lambda *a: (_ for _ in ()).throw(AdapterError("x", permanent=True))
    )
    deliver(client, channel)
    (event,) = process_all()
    monkeypatch.undo()
    admin = make_user("admin")
    admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    response = client.post(
        "/admin/channels_app/inboundevent/", {"action": "replay", "_selected_action": [event.pk]}, follow=True
    )
    assert response.status_code == 200
    event.refresh_from_db()
    assert event.status == InboundStatus.PENDING
    page = client.get(f"/admin/channels_app/inboundevent/{event.pk}/change/").content.decode()
    assert "&quot;text&quot;: &quot;hi&quot;" in page  # raw body shown escaped, as text


def test_sweeper_finds_only_old_pending_events(client, channel):
    deliver(client, channel, "old")
    deliver(client, channel, "new")
    old, new = InboundEvent.objects.order_by("id")
    InboundEvent.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(minutes=5))
    assert stale_pending_ids(older_than_seconds=60) == [old.pk]
    assert new.pk not in stale_pending_ids(older_than_seconds=60)
