"""Storing message attachments safely."""

from __future__ import annotations

import logging
import mimetypes
import os
import re
from functools import partial

from celery import current_app
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from channels_app.normalized import Attachment as IncomingAttachment
from channels_app.outbound_media import OutgoingFile, effective_type
from tickets.models import Attachment, AttachmentStatus, Message

# Content types a browser would run or render as a page if served inline; stored as opaque bytes.
ACTIVE_CONTENT_TYPES = {
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "application/javascript",
    "text/javascript",
    "application/x-msdownload",
    "application/x-sh",
    "application/java-archive",
}
_UNSAFE_FILENAME = re.compile(r"[^\w.\- ()\[\]]+", re.UNICODE)


logger = logging.getLogger(__name__)


def safe_filename(name: str, content_type: str) -> str:
    base = os.path.basename(name.replace("\\", "/")).strip().strip(".")
    base = _UNSAFE_FILENAME.sub("_", base)[:200]
    if not base:
        base = "attachment" + (mimetypes.guess_extension(content_type) or ".bin")
    return base


def safe_content_type(content_type: str) -> str:
    lowered = (content_type or "").split(";")[0].strip().lower()
    if not lowered or "/" not in lowered or lowered in ACTIVE_CONTENT_TYPES:
        return "application/octet-stream"
    return lowered


def do_store_attachments(*, message: Message, attachments: list[IncomingAttachment]) -> list[Attachment]:
    stored = []
    for incoming in attachments:
        filename = safe_filename(incoming.filename, incoming.content_type)
        row = Attachment(
            message=message,
            filename=filename,
            content_type=safe_content_type(incoming.content_type),
            size=incoming.size,
            content_id=(incoming.content_id or "")[:255],
        )
        if incoming.content is not None:
            row.size = len(incoming.content)
            if row.size > settings.MAX_ATTACHMENT_BYTES:
                row.status = AttachmentStatus.SKIPPED
                row.reason = f"larger than {settings.MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB"
            else:
                row.file.save(filename, ContentFile(incoming.content), save=False)
        elif incoming.url:
            row.source_url = incoming.url[:2000]
            row.status = AttachmentStatus.PENDING
        else:
            row.status = AttachmentStatus.SKIPPED
            row.reason = "no content"
        row.save()
        if row.status == AttachmentStatus.PENDING:
            # Downloaded by a worker after this transaction commits, never inside the webhook request.
            transaction.on_commit(partial(enqueue_fetch, row.pk))
        stored.append(row)
    return stored


def outgoing_files(uploads: list[UploadedFile]) -> list[OutgoingFile]:
    """What the channel's rules judge: safe names, the effective type, the real size."""
    return [
        OutgoingFile(
            filename=safe_filename(upload.name or "", upload.content_type or ""),
            content_type=safe_content_type(effective_type(upload.name or "", upload.content_type or "")),
            size=upload.size or 0,
        )
        for upload in uploads
    ]


def do_store_outbound_attachments(*, message: Message, uploads: list[UploadedFile]) -> list[Attachment]:
    """Files an agent attached, kept in the same storage as inbound ones (streamed, not read whole)."""
    stored = []
    for upload, described in zip(uploads, outgoing_files(uploads), strict=True):
        row = Attachment(
            message=message,
            filename=described.filename,
            content_type=described.content_type,
            size=described.size,
        )
        row.file.save(described.filename, upload, save=False)
        row.save()
        stored.append(row)
    return stored


# By name: the task's module imports this one (through attachment_fetch), and the name is the wire
# identifier queued messages carry, older than the task's move into tickets.
FETCH_TASK = "channels_app.tasks.fetch_attachment"


def enqueue_fetch(attachment_id: int) -> None:
    """Queue the download; the pending row stays visible (and retryable) if the broker is down."""
    try:
        current_app.send_task(FETCH_TASK, args=[attachment_id], queue="bulk")
    except Exception:
        logger.warning("could not queue the fetch of attachment %s", attachment_id, exc_info=True)
