"""Erasure leaves nothing behind anywhere in the database, and every old key of the person stops working.

The person is seeded through the apps' own services into every table that can hold personal data:
messages over Telegram and web chat, an agent reply with a file, internal notes, a profile note, an
event, a survey invitation answered with a comment and extra answers (a detractor, so a follow-up
conversation is opened and its loop closed with a note), and a profile merged into hers.
"""

from __future__ import annotations

import io
import json
import zipfile
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from channels_app.services import do_create_channel
from channels_app.webchat.identity import VISITOR_SALT, Visitor, issue_token, new_anonymous_id
from channels_app.webchat.services import VisitorProfile, do_store_visitor_message
from profiles.merge import do_merge
from profiles.models import Customer, CustomerEvent, Identity, IdentityKind, TimelineEntry
from profiles.privacy import do_erase_customer
from profiles.services import do_add_note, do_attach_identity
from surveys.answers import do_complete_answer, do_record_answer
from surveys.closed_loop import do_close_loop
from surveys.invitation_models import FollowUp, Invitation, Medium, TriggerKind
from surveys.invitations import do_invite
from surveys.models import Survey, SurveyResponse
from tests.conftest import run_async
from tests.pipeline import post_telegram_text, process_all
from tickets.attachment_links import signed_url
from tickets.conversation_services import do_add_internal_note
from tickets.models import Attachment, Message
from tickets.replies import do_send_reply

NAME = "Halina Przybylska"
SURNAME = "Przybylska"
EMAIL = "halina.przybylska@example.pl"
OLD_EMAIL = "h.przybylska.2019@example.pl"
PHONE = "+48605111222"
TELEGRAM_ID = "604111222"
EXTERNAL_ID = "crm-person-88213"
COMMENT = "Kurier zgubił paczkę, dzwoniłam trzy razy"
ANSWER = "Nie polecę sklepu znajomym z Gdyni"
NOTE = "Klientka prosi o zwrot na konto"
LOOP_NOTE = "Oddzwoniono, zwrot przyznany"
TG_SECRET = "tg-webhook-secret-erasure-0123456789"
FILE_BYTES = b"%PDF-1.4 faktura korygujaca"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def telegram(db):
    return do_create_channel(
        kind="telegram",
        name="Shop bot",
        credentials={"bot_token": "7000000002:AAFakeTokenForErasure", "webhook_secret": TG_SECRET},
    )


@pytest.fixture
def webchat(db):
    return do_create_channel(kind="webchat", name="Shop chat", config={"allowed_origins": []})


def seed_person(client, telegram, webchat, agent) -> dict:
    """Halina as the platform holds her after a few weeks; returns her keys and needles."""
    user = {"id": int(TELEGRAM_ID), "first_name": "Halina", "last_name": SURNAME}
    for update_id, text in ((700001, f"Dzień dobry, tu {NAME}"), (700002, f"Mój e-mail: {EMAIL}")):
        response = post_telegram_text(
            client, telegram.pk, secret=TG_SECRET, update_id=update_id, user=user, text=text
        )
        assert response.status_code == 200
    visitor_id = new_anonymous_id()
    do_store_visitor_message(
        channel=webchat,
        visitor=Visitor(visitor_id=visitor_id),
        client_id="c1",
        text=f"Czy paczka dla {SURNAME} już wyszła?",
        profile=VisitorProfile(name=NAME, email=EMAIL, locale="pl"),
    )
    process_all()
    person = Identity.objects.get(kind=IdentityKind.TELEGRAM, value=TELEGRAM_ID).customer
    chat_person = Identity.objects.get(kind=IdentityKind.WEBCHAT, value=visitor_id).customer
    if chat_person.pk != person.pk:
        do_merge(survivor=person, merged=chat_person, actor=agent, reason=f"same person: {EMAIL}")
    do_attach_identity(customer=person, kind=IdentityKind.PHONE, value=PHONE, verified=True, source="agent")
    do_attach_identity(
        customer=person, kind=IdentityKind.EXTERNAL_ID, value=EXTERNAL_ID, verified=True, source="api"
    )
    old = Customer.objects.create(name=NAME, company="Przybylska Sp. z o.o.")
    Identity.objects.create(customer=old, kind=IdentityKind.EMAIL, value=OLD_EMAIL)
    do_merge(survivor=person, merged=old, actor=agent, reason=f"old profile {OLD_EMAIL}")

    conversation = (
        Message.objects.filter(conversation__customer=person, channel=telegram).first().conversation
    )
    reply = do_send_reply(
        conversation=conversation,
        author=agent,
        channel=telegram,
        text=f"Pani {SURNAME}, korekta w załączniku.",
        attachments=[SimpleUploadedFile(f"korekta-{SURNAME}.pdf", FILE_BYTES, "application/pdf")],
    )
    attachment = Attachment.objects.get(message=reply)
    do_add_internal_note(conversation=conversation, author=agent, body=f"{NOTE}: {NAME}, {PHONE}")
    do_add_note(customer=person, author=agent, body=f"VIP: {NAME}")
    CustomerEvent.objects.create(
        customer=person,
        name="order_placed",
        client_event_id=f"order:{EMAIL}",
        occurred_at=timezone.now(),
        properties={"email": EMAIL, "shipping_name": NAME},
    )

    survey = Survey.objects.create(
        kind="nps",
        name="NPS after support",
        question={"pl": "Czy polecisz nas?"},
        followup_question={"pl": "Dlaczego?"},
        extra_questions=[{"id": "why", "text": {"pl": "Co poprawić?"}}],
    )
    invitation = do_invite(
        survey=survey,
        customer=person,
        medium=Medium.TELEGRAM,
        trigger=TriggerKind.MANUAL,
        channel=telegram,
        conversation=conversation,
        recipient=TELEGRAM_ID,
        enforce_fatigue=False,
    )
    Invitation.objects.filter(pk=invitation.pk).update(status="sent", sent_at=timezone.now())
    # The detractor's follow-up opens once the answer commits (SurveyAnswered).
    with TestCase.captureOnCommitCallbacks(execute=True):
        do_record_answer(token=invitation.token, score=2, medium=Medium.TELEGRAM)
        do_complete_answer(token=invitation.token, comment=COMMENT, answers={"why": ANSWER})
    follow_up = FollowUp.objects.get(response__invitation=invitation)
    do_close_loop(follow_up=follow_up, actor=agent, outcome="resolved", note=f"{LOOP_NOTE} ({NAME})")
    second = do_invite(
        survey=survey,
        customer=person,
        medium=Medium.EMAIL,
        trigger=TriggerKind.MANUAL,
        recipient=EMAIL,
        enforce_fatigue=False,
    )
    Invitation.objects.filter(pk=second.pk).update(status="sent", sent_at=timezone.now())
    return {
        "customer": Customer.objects.get(pk=person.pk),
        "visitor_id": visitor_id,
        "visitor_token": issue_token(webchat.pk, visitor_id),
        "answered_token": invitation.token,
        "open_token": second.token,
        "attachment_url": urlsplit(signed_url(attachment)).path,
        "needles": [
            EMAIL,
            OLD_EMAIL,
            PHONE,
            PHONE.lstrip("+"),
            TELEGRAM_ID,
            EXTERNAL_ID,
            visitor_id,
            SURNAME,
            COMMENT,
            ANSWER,
            NOTE,
            LOOP_NOTE,
        ],
    }


def columns() -> list[tuple[str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c "
            "JOIN information_schema.tables t USING (table_schema, table_name) "
            "WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' "
            "AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea')"
        )
        return cursor.fetchall()


def places_holding(needle: str) -> list[str]:
    """Every table.column of the whole database with a row whose text contains the needle."""
    found = []
    with connection.cursor() as cursor:
        for table, column, data_type in columns():
            value = f"encode(\"{column}\", 'escape')" if data_type == "bytea" else f'"{column}"::text'
            cursor.execute(f'SELECT count(*) FROM "{table}" WHERE {value} ILIKE %s', [f"%{needle}%"])  # noqa: S608
            if cursor.fetchone()[0]:
                found.append(f"{table}.{column}")
    return found


@pytest.mark.django_db
def test_erasure_leaves_no_personal_value_in_any_column(
    client, telegram, webchat, agent, admin_user, django_capture_on_commit_callbacks
):
    seeded = seed_person(client, telegram, webchat, agent)
    assert any(t == "surveys_surveyresponse" for t, _c, _d in columns())
    for needle in seeded["needles"]:  # the dump finds each of them before erasure
        assert places_holding(needle), needle
    responses = SurveyResponse.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        do_erase_customer(customer=seeded["customer"], actor=admin_user, reason=f"request from {NAME}")

    left = {needle: places_holding(needle) for needle in seeded["needles"]}
    assert {needle: where for needle, where in left.items() if where} == {}
    # Scores stay for the statistics; the words are gone.
    assert SurveyResponse.objects.count() == responses
    assert sorted(SurveyResponse.objects.values_list("score", "comment", "answers")) == [(2, "", {})]


@pytest.mark.django_db
def test_old_survey_tokens_and_file_links_are_refused_after_erasure(
    client, telegram, webchat, agent, admin_user, django_capture_on_commit_callbacks
):
    seeded = seed_person(client, telegram, webchat, agent)
    assert client.get(seeded["attachment_url"]).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        do_erase_customer(customer=seeded["customer"], actor=admin_user)
    counts = (SurveyResponse.objects.count(), TimelineEntry.objects.count(), Invitation.objects.count())

    for token in (seeded["open_token"], seeded["answered_token"]):
        one_click = reverse("survey_public:one_click", kwargs={"token": token, "score": "10"})
        page = reverse("survey_public:answer", kwargs={"token": token})
        opt_out = reverse("survey_public:opt_out", kwargs={"token": token})
        assert client.get(one_click).status_code in (404, 410)
        assert client.get(page).status_code in (404, 410)
        assert client.post(page, {"score": "10", "comment": "again"}).status_code in (404, 410)
        assert client.post(opt_out).status_code in (404, 410)
        api = client.post(
            reverse("survey_answer_api"), json.dumps({"token": token, "score": 10}), "application/json"
        )
        assert api.status_code >= 400
    assert (
        SurveyResponse.objects.count(),
        TimelineEntry.objects.count(),
        Invitation.objects.count(),
    ) == counts

    gone = client.get(seeded["attachment_url"])
    assert gone.status_code == 410


@pytest.mark.django_db(transaction=True)
def test_web_chat_visitor_token_is_revoked_by_erasure(client, telegram, webchat, agent, admin_user):
    from tests.channels.test_webchat import open_chat

    seeded = seed_person(client, telegram, webchat, agent)
    old_id = seeded["visitor_id"]

    async def resume():
        chat = await open_chat(webchat.pk, token=seeded["visitor_token"])
        ack = await chat.send("c2", "Wracam do rozmowy")
        await chat.close()
        return chat.ready, ack

    before, _ack = run_async(resume)
    assert [m["text"] for m in before["history"]][:1] == [f"Czy paczka dla {SURNAME} już wyszła?"]

    do_erase_customer(customer=seeded["customer"], actor=admin_user)
    ready, ack = run_async(resume)
    assert ready["history"] == []
    new_id = signing.loads(ready["visitor_token"], salt=VISITOR_SALT)["v"]
    assert new_id != old_id  # the widget continues as a new visitor, never as the erased one
    assert ack["type"] == "ack"
    assert places_holding(old_id) == []


@pytest.mark.django_db
def test_export_has_answers_invitations_and_internal_notes(client, telegram, webchat, agent, manager_client):
    seeded = seed_person(client, telegram, webchat, agent)
    response = manager_client.post(reverse("customer_export", args=[seeded["customer"].pk]))
    assert response.status_code == 200
    data = json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("customer.json"))

    answered = [r for r in data["survey_responses"] if r["comment"]]
    assert [(r["comment"], r["answers"]) for r in answered] == [(COMMENT, {"why": ANSWER})]
    assert sorted(i["recipient"] for i in data["survey_invitations"]) == sorted([TELEGRAM_ID, EMAIL])
    assert all("token" not in i for i in data["survey_invitations"])  # a live capability is not data
    assert any(NOTE in n["body"] for n in data["internal_notes"])
    assert [f["note"] for f in data["survey_follow_ups"]] == [f"{LOOP_NOTE} ({NAME})"]
    assert data["profile"]["consent"] == seeded["customer"].consent
    assert "attributes" in data["profile"]


@pytest.mark.django_db(transaction=True)
def test_open_web_chat_socket_of_the_erased_visitor_is_closed(client, telegram, webchat, agent, admin_user):
    from channels.db import database_sync_to_async

    from channels_app.webchat.protocol import CLOSE_REVOKED
    from tests.channels.test_webchat import open_chat

    seeded = seed_person(client, telegram, webchat, agent)

    async def scenario():
        chat = await open_chat(webchat.pk, token=seeded["visitor_token"])
        await database_sync_to_async(do_erase_customer)(customer=seeded["customer"], actor=admin_user)
        return await chat.communicator.receive_output(timeout=5)

    closed = run_async(scenario)
    assert (closed["type"], closed.get("code")) == ("websocket.close", CLOSE_REVOKED)
