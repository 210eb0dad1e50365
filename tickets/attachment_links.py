"""Unguessable, expiring links to stored attachments, for providers and customers who cannot sign in.

The token is the attachment id signed with SECRET_KEY (django.core.signing) and a timestamp; the file name
in the path is cosmetic (some providers take the name from the URL) and is not trusted.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from tickets.models import Attachment, AttachmentStatus

SALT = "tickets.attachment-link"


class LinkExpired(Exception):
    pass


class LinkInvalid(Exception):
    pass


class LinkRevoked(LinkExpired):
    """A link we signed to a file that is gone (erased, or cleaned by retention): 410 like an
    expired one, since the link was real and will never work again."""


def signed_url(attachment: Attachment) -> str:
    token = signing.dumps(attachment.pk, salt=SALT, compress=False)
    path = reverse("attachment_link", kwargs={"token": token, "filename": attachment.filename})
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{path}"


def attachment_for_token(token: str) -> Attachment:
    try:
        pk = signing.loads(token, salt=SALT, max_age=settings.ATTACHMENT_LINK_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise LinkExpired from exc
    except signing.BadSignature as exc:
        raise LinkInvalid from exc
    if not isinstance(pk, int):
        raise LinkInvalid
    attachment = Attachment.objects.filter(pk=pk).first()
    if attachment is None:
        raise LinkRevoked
    if attachment.status != AttachmentStatus.STORED or not attachment.file:
        raise LinkInvalid
    return attachment


def link_item(attachment: Attachment, *, with_storage_name: bool = False) -> dict[str, object]:
    """How an attachment travels in an outbound payload. `with_storage_name` adds where the file is in
    our storage, for adapters that send the bytes (mail); never for payloads a customer's server or
    browser sees."""
    item: dict[str, object] = {
        "id": attachment.pk,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "url": signed_url(attachment),
    }
    if with_storage_name:
        item["storage_name"] = attachment.file.name
    return item
