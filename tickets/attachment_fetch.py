"""Fetching the files customers sent: the provider's media link is resolved and downloaded through
channels_app.media (host allow-list, size limit, outbound address guard) and stored on the attachment row.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from channels_app.adapters.base import AdapterError, get_adapter
from channels_app.kinds import provider_for
from channels_app.media import allowed_hosts, download
from tickets.attachments import safe_content_type, safe_filename
from tickets.models import Attachment, AttachmentStatus

logger = logging.getLogger(__name__)


def do_fetch_attachment(*, attachment_id: int) -> str:
    """Fetch one pending attachment. Permanent failures mark it skipped with the reason."""
    attachment = (
        Attachment.objects.select_related("message__channel")
        .filter(pk=attachment_id, status=AttachmentStatus.PENDING)
        .first()
    )
    if attachment is None:
        return "skipped"
    channel = attachment.message.channel
    adapter = get_adapter(provider_for(channel.kind, channel.config))
    try:
        if adapter is None:
            raise AdapterError(f"no adapter for {channel.kind} media", permanent=True)
        source = adapter.resolve_media(attachment.source_url, channel)
        body, content_type = download(
            source, allowed_hosts(adapter, channel.config), limit=settings.MAX_ATTACHMENT_BYTES
        )
    except AdapterError as exc:
        if not exc.permanent:
            raise
        logger.info("attachment %s not fetched: %s", attachment.pk, exc)
        Attachment.objects.filter(pk=attachment.pk, status=AttachmentStatus.PENDING).update(
            status=AttachmentStatus.SKIPPED, reason=str(exc)[:300]
        )
        return AttachmentStatus.SKIPPED
    with transaction.atomic():
        locked = Attachment.objects.select_for_update().filter(pk=attachment.pk).first()
        if locked is None or locked.status != AttachmentStatus.PENDING:
            return "skipped"
        if not locked.content_type or locked.content_type == "application/octet-stream":
            locked.content_type = safe_content_type(content_type)
        locked.filename = safe_filename(locked.filename, locked.content_type)
        locked.size = len(body)
        locked.file.save(locked.filename, ContentFile(body), save=False)
        locked.status = AttachmentStatus.STORED
        locked.reason = ""
        locked.save()
    return AttachmentStatus.STORED
