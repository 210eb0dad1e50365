"""How invitations are stored so that answering a blast stays cheap and finding due ones stays fast."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from surveys import delivery
from surveys.invitation_models import Invitation, InvitationStatus, Medium, TriggerKind
from surveys.invitations import do_invite

from . import factories as f

pytestmark = pytest.mark.django_db


def test_no_index_mentions_the_status_an_answer_changes():
    # With one, PostgreSQL must add a row version to every index for each answer instead of updating
    # the invitation in place (HOT).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", ["surveys_invitation"]
        )
        definitions = dict(cursor.fetchall())
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'surveys_invitation'")
        options = cursor.fetchone()[0]
    assert definitions and not [
        name for name, sql in definitions.items() if "status" in sql or "answered" in sql
    ]
    assert "fillfactor=90" in options


def test_only_pending_invitations_keep_a_send_time():
    survey = f.survey(recontact_days=0)
    person = f.customer()
    pending = do_invite(survey=survey, customer=person, medium=Medium.SMS, trigger=TriggerKind.MANUAL)
    throttled = do_invite(survey=survey, customer=person, medium=Medium.SMS, trigger=TriggerKind.MANUAL)
    assert pending.status == InvitationStatus.PENDING and pending.send_at is not None
    assert throttled.status == InvitationStatus.THROTTLED and throttled.send_at is None


def test_due_invitations_are_found_through_the_waiting_index():
    survey = f.survey()
    now = timezone.now()
    Invitation.objects.bulk_create(
        [
            Invitation(
                survey=survey, token=f"token-{n}", medium=Medium.SMS, trigger=TriggerKind.MANUAL,
                status=InvitationStatus.SENT, sent_at=now, expires_at=now + timedelta(days=7),
            )
            for n in range(3000)
        ]
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE surveys_invitation")
        with CaptureQueriesContext(connection) as queries:
            delivery.do_send_due_invitations()
        sql = next(q["sql"] for q in queries.captured_queries if "send_at" in q["sql"])
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "invitation_waiting" in plan, plan
