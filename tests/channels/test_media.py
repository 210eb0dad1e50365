"""Provider media downloads: only from the provider's hosts, never from private addresses, size-limited."""

from __future__ import annotations

import pytest

from channels_app.adapters.base import AdapterError, MediaSource
from channels_app.media import MediaRefused, check_url, download, host_allowed
from channels_app.services import do_create_channel
from tests.pipeline import fixture_bytes, post_api, post_webhook, process_all
from tickets.attachment_fetch import do_fetch_attachment
from tickets.models import Attachment, AttachmentStatus

pytestmark = pytest.mark.django_db
SECRET = "tg-webhook-secret-0123456789"
TOKEN = "7000000001:AAFakeTokenForTests"
PHOTO = b"\xff\xd8\xff\xe0" + b"JPEG-bytes" * 100


@pytest.fixture
def telegram_channel(db):
    return do_create_channel(
        kind="telegram", name="Acme Bot", credentials={"bot_token": TOKEN, "webhook_secret": SECRET}
    )


@pytest.fixture
def pending_photo(client, telegram_channel) -> Attachment:
    post_webhook(
        client,
        "telegram",
        telegram_channel.pk,
        fixture_bytes("telegram", "message__photo_caption.json"),
        content_type="application/json",
        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET,
    )
    process_all()
    return Attachment.objects.get()


def telegram_files(stub, body: bytes = PHOTO, *, file_status: int = 200, extra: dict | None = None):
    stub.route(
        "GET",
        f"/bot{TOKEN}/getFile",
        lambda r: (200, {"ok": True, "result": {"file_id": "x", "file_path": "photos/file_7.jpg"}}),
    )
    stub.route(
        "GET",
        f"/file/bot{TOKEN}/photos/file_7.jpg",
        lambda r: (file_status, body, {"Content-Type": "image/jpeg", **(extra or {})}),
    )


def test_telegram_photo_is_fetched_by_file_id_after_the_message_is_stored(
    pending_photo, provider_stub, settings
):
    stub = provider_stub("telegram")
    telegram_files(stub)
    assert pending_photo.status == AttachmentStatus.PENDING

    assert do_fetch_attachment(attachment_id=pending_photo.pk) == AttachmentStatus.STORED
    pending_photo.refresh_from_db()
    assert pending_photo.status == AttachmentStatus.STORED
    assert pending_photo.size == len(PHOTO)
    assert pending_photo.file.read() == PHOTO
    assert pending_photo.content_type == "image/jpeg"
    assert stub.requests[0].path == f"/bot{TOKEN}/getFile?file_id=AgACAgIAAxkBAAIBZ2LARGE"
    # A second run (a redelivered task) does nothing.
    assert do_fetch_attachment(attachment_id=pending_photo.pk) == "skipped"


def test_loopback_is_refused_even_for_the_providers_own_base_url(pending_photo, provider_stub, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ()
    stub = provider_stub("telegram")
    telegram_files(stub)
    # getFile goes to the configured API (an ordinary outbound call); the download itself is refused.
    assert do_fetch_attachment(attachment_id=pending_photo.pk) == AttachmentStatus.SKIPPED
    pending_photo.refresh_from_db()
    assert "private address (127.0.0.1)" in pending_photo.reason
    assert not any(r.path.startswith("/file/") for r in stub.requests)


def test_oversized_media_is_skipped_with_the_reason(pending_photo, provider_stub, settings):
    settings.MAX_ATTACHMENT_BYTES = 100
    telegram_files(provider_stub("telegram"))
    assert do_fetch_attachment(attachment_id=pending_photo.pk) == AttachmentStatus.SKIPPED
    pending_photo.refresh_from_db()
    assert "over the limit" in pending_photo.reason
    assert not pending_photo.file


def test_temporary_provider_error_keeps_the_attachment_pending_for_a_retry(
    pending_photo, provider_stub, settings
):
    telegram_files(provider_stub("telegram"), file_status=503)
    with pytest.raises(AdapterError) as raised:
        do_fetch_attachment(attachment_id=pending_photo.pk)
    assert not raised.value.permanent
    pending_photo.refresh_from_db()
    assert pending_photo.status == AttachmentStatus.PENDING


def test_redirect_to_a_host_outside_the_allow_list_is_refused(pending_photo, provider_stub, settings):
    telegram_files(
        provider_stub("telegram"), file_status=302, extra={"Location": "http://metadata.internal/creds"}
    )
    assert do_fetch_attachment(attachment_id=pending_photo.pk) == AttachmentStatus.SKIPPED
    pending_photo.refresh_from_db()
    assert "'metadata.internal' is not one of the provider's hosts" in pending_photo.reason


def test_redirect_within_allowed_hosts_is_followed_without_forwarding_credentials(
    pending_photo, provider_stub, settings
):
    stub = provider_stub("telegram")
    # Same stub, reached by another name: an allowed host, but not the one the credentials were for.
    cdn = stub.url.replace("127.0.0.1", "localhost")
    stub.route("GET", "/media/7", lambda r: (302, b"", {"Location": f"{cdn}/cdn/file_7.jpg"}))
    stub.route("GET", "/cdn/file_7.jpg", lambda r: (200, PHOTO, {"Content-Type": "image/jpeg"}))
    source = MediaSource(url=f"{stub.url}/media/7", auth=("AC123", "auth-token"))
    body, content_type = download(source, ("127.0.0.1", "localhost"), limit=10_000)
    assert (body, content_type) == (PHOTO, "image/jpeg")
    first, second = stub.requests
    assert first.headers["Authorization"].startswith("Basic ")
    assert second.path == "/cdn/file_7.jpg"
    assert "Authorization" not in second.headers


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "scheme 'file'"),
        ("gopher://files.example.com/x", "scheme 'gopher'"),
        ("http://user:pw@files.example.com/x", "must not carry credentials"),
        ("http://169.254.169.254/latest/meta-data/", "private address (169.254.169.254)"),
        ("http://[::1]/x", "private address (::1)"),
        ("http://10.0.0.7/x", "private address (10.0.0.7)"),
        ("http://[::ffff:127.0.0.1]/x", "private address"),
        ("http://evil.example.net/x", "not one of the provider's hosts"),
    ],
)
def test_dangerous_urls_are_refused(url, reason, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ()
    allowed = ("files.example.com", "169.254.169.254", "::1", "10.0.0.7", "::ffff:127.0.0.1")
    with pytest.raises(MediaRefused) as refused:
        check_url(url, allowed)
    assert reason in str(refused.value)


def test_host_patterns():
    assert host_allowed("mms.twiliocdn.com", (".twiliocdn.com",))
    assert host_allowed("twiliocdn.com", (".twiliocdn.com",))
    assert not host_allowed("eviltwiliocdn.com", (".twiliocdn.com",))
    assert not host_allowed("api.telegram.org.evil.com", ("api.telegram.org",))


def test_api_channel_media_needs_an_explicit_host_list(client, settings):
    """The generic API channel has no provider hosts: media is fetched only from hosts the admin listed."""

    from tests.channels.test_api import SECRET as API_SECRET

    channel = do_create_channel(kind="api", name="App", credentials={"signing_secret": API_SECRET})
    post_api(client, channel.pk, fixture_bytes("api", "message__attachment.json"), API_SECRET)
    process_all()
    attachment = Attachment.objects.get()
    assert do_fetch_attachment(attachment_id=attachment.pk) == AttachmentStatus.SKIPPED
    attachment.refresh_from_db()
    assert "'files.example.com' is not one of the provider's hosts" in attachment.reason
