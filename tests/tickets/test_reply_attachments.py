"""Files in agent replies: checked per channel before anything is queued, stored like inbound ones,
shown in the thread, and handed to the provider as expiring signed links."""

# Fixtures shared with test_conversation_page are imported, then named as test parameters.
# ruff: noqa: F811
from __future__ import annotations

from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from channels_app.models import OutboundMessage
from tickets.attachment_links import signed_url
from tickets.models import Attachment, Message

from .test_conversation_page import (  # noqa: F401 (fixtures)
    agent,
    channels,
    client_for,
    conversation,
    customer,
    outsider,
    say,
    team,
    url,
)

pytestmark = pytest.mark.django_db
# htmx answers errors with 200 and the reply box showing them (htmx does not swap 4xx by default).
HTMX = {"HTTP_HX_REQUEST": "true"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PUBLIC = "https://cx.example.com"


@pytest.fixture(autouse=True)
def _storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.PUBLIC_BASE_URL = PUBLIC


def last_seen(conv) -> int:
    return Message.objects.filter(conversation=conv).order_by("-id").values_list("id", flat=True)[0]


def send(user, conv, channel, files, text="Here you go"):
    return client_for(user).post(
        url("conversation_reply", conv),
        {"channel": channel.pk, "text": text, "last_seen_message_id": last_seen(conv), "attachments": files},
        **HTMX,
    )


def test_attachment_is_stored_shown_and_queued_with_a_signed_link(agent, conversation, channels):
    upload = SimpleUploadedFile("../../etc/receipt.png", PNG, content_type="image/png")
    response = send(agent, conversation, channels["telegram"], [upload])
    assert 'data-testid="reply-sent"' in response.content.decode()
    (row,) = Attachment.objects.all()
    assert row.message.direction == "out"
    assert (row.filename, row.content_type, row.size) == ("receipt.png", "image/png", len(PNG))
    assert row.file.read() == PNG
    # The thread swapped in by the same response lists the file.
    assert "receipt.png" in response.content.decode()
    (item,) = OutboundMessage.objects.get().payload["attachments"]
    assert item["id"] == row.pk and item["size"] == len(PNG) and item["content_type"] == "image/png"
    assert item["url"].startswith(f"{PUBLIC}/files/") and item["url"].endswith("/receipt.png")


def test_file_too_large_for_the_channel_is_refused_and_the_text_kept(agent, conversation, channels, settings):
    big = SimpleUploadedFile("photo.png", b"\x00" * (5 * 1024 * 1024 + 1), content_type="image/png")
    response = send(agent, conversation, channels["telegram"], [big], text="Photo attached")
    body = response.content.decode()
    assert 'data-testid="reply-error"' in body and "5.0\xa0MB" in body
    assert "Photo attached</textarea>" in body
    assert not OutboundMessage.objects.exists() and not Attachment.objects.exists()
    assert not Message.objects.filter(direction="out").exists()


def test_email_total_is_configurable(agent, conversation, channels, settings):
    settings.EMAIL_ATTACHMENTS_MAX_BYTES = 100
    files = [SimpleUploadedFile(f"a{n}.txt", b"x" * 60, content_type="text/plain") for n in range(2)]
    response = send(agent, conversation, channels["email"], files)
    assert 'data-testid="reply-error"' in response.content.decode()
    assert "add up to more than" in response.content.decode()
    settings.EMAIL_ATTACHMENTS_MAX_BYTES = 1000
    assert send(agent, conversation, channels["email"], files).status_code == 200
    assert len(OutboundMessage.objects.get().payload["attachments"]) == 2


def test_type_the_channel_cannot_send_is_refused(agent, conversation, channels):
    # SMS goes as MMS: only the images every carrier takes.
    doc = SimpleUploadedFile("contract.pdf", b"%PDF-1.4", content_type="application/pdf")
    response = send(agent, conversation, channels["sms"], [doc])
    assert 'data-testid="reply-error"' in response.content.decode()
    assert "cannot send application/pdf" in response.content.decode()
    assert not OutboundMessage.objects.exists()


def test_too_many_files_for_a_one_media_channel(agent, conversation, channels):
    files = [SimpleUploadedFile(f"p{n}.png", PNG, content_type="image/png") for n in range(2)]
    response = send(agent, conversation, channels["telegram"], files)
    assert 'data-testid="reply-error"' in response.content.decode()
    assert "at most 1 file" in response.content.decode()


def test_file_without_text_is_a_reply(agent, conversation, channels):
    upload = SimpleUploadedFile("receipt.png", PNG, content_type="image/png")
    assert send(agent, conversation, channels["telegram"], [upload], text="").status_code == 200
    assert OutboundMessage.objects.get().payload["text"] == ""


def test_agent_who_cannot_see_the_conversation_gets_404(outsider, conversation, channels):
    upload = SimpleUploadedFile("receipt.png", PNG, content_type="image/png")
    assert send(outsider, conversation, channels["telegram"], [upload]).status_code == 404
    assert not Attachment.objects.exists()


def test_reply_options_show_the_channels_limits(agent, conversation, channels):
    response = client_for(agent).get(
        url("conversation_reply_options", conversation), {"channel": channels["sms"].pk}, **HTMX
    )
    body = response.content.decode()
    assert (
        'data-testid="reply-file-limits"' in body
        and "Up to 10 file(s)" in body
        and "5.0\xa0MB in total" in body
    )
    outsider_response = client_for(agent).get(url("conversation_reply_options", conversation), {"channel": 0})
    assert outsider_response.content == b""


def test_reply_options_are_404_for_an_agent_who_cannot_see(outsider, conversation, channels):
    response = client_for(outsider).get(
        url("conversation_reply_options", conversation), {"channel": channels["sms"].pk}
    )
    assert response.status_code == 404


# --- The public signed link ------------------------------------------------------------------------


@pytest.fixture
def stored(agent, conversation, channels):
    send(
        agent,
        conversation,
        channels["telegram"],
        [SimpleUploadedFile("r.png", PNG, content_type="image/png")],
    )
    return Attachment.objects.get()


def path_of(link: str) -> str:
    return link.removeprefix(PUBLIC)


def test_signed_link_serves_the_file_without_signing_in(stored):
    response = Client().get(path_of(signed_url(stored)))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_signed_link_expires(stored, settings):
    link = path_of(signed_url(stored))
    import time

    later = time.time() + settings.ATTACHMENT_LINK_MAX_AGE + 10
    with mock.patch("django.core.signing.time.time", return_value=later):
        assert Client().get(link).status_code == 410


def test_tampered_or_guessed_links_are_404(stored):
    link = path_of(signed_url(stored))
    prefix, token, name = link.rsplit("/", 2)
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert Client().get(f"{prefix}/{forged}/{name}").status_code == 404
    # Another attachment's id under this signature does not verify either.
    value, _, rest = token.partition(":")
    assert Client().get(f"{prefix}/{value}x:{rest}/{name}").status_code == 404
    assert Client().get(f"/files/{stored.pk}/r.png").status_code == 404


# --- Agents download thread files by visibility -----------------------------------------------------


def test_thread_links_files_for_whoever_may_see_the_conversation(agent, outsider, conversation, stored):
    link = url("conversation_attachment", conversation, attachment_id=stored.pk)
    page = client_for(agent).get(url("conversation_detail", conversation)).content.decode()
    assert f'href="{link}"' in page
    response = client_for(agent).get(link)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert client_for(outsider).get(link).status_code == 404
    assert Client().get(link).status_code == 302  # to the sign-in page


def test_an_attachment_id_of_another_conversation_is_404(agent, conversation, channels, customer, stored):
    from django.utils import timezone

    from tickets.models import Conversation

    now = timezone.now()
    other = Conversation.objects.create(
        customer=customer, channel=channels["sms"], subject="Other", created_at=now, last_activity_at=now
    )
    assert (
        client_for(agent).get(url("conversation_attachment", other, attachment_id=stored.pk)).status_code
        == 404
    )
