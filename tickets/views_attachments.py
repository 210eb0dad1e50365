"""Downloads of attachments: by signed link for providers and customers, by visibility for agents."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe

from accounts import roles
from accounts.decorators import requires
from tickets.attachment_links import LinkExpired, LinkInvalid, attachment_for_token
from tickets.models import Attachment
from tickets.selectors_conversation import conversation_for

# Served inline only where a browser cannot run it; everything else downloads.
INLINE_PREFIXES = ("image/", "audio/", "video/")
INLINE_TYPES = {"application/pdf", "text/plain"}


@require_safe
def attachment_link(request: HttpRequest, token: str, filename: str) -> HttpResponseBase:
    try:
        attachment = attachment_for_token(token)
    except LinkExpired:
        return HttpResponse("This link has expired.", status=410, content_type="text/plain")
    except LinkInvalid as exc:
        raise Http404 from exc
    return _file_response(attachment)


@requires(roles.WORK_INBOX)
@require_safe
def conversation_attachment(request: HttpRequest, pk: int, attachment_id: int) -> FileResponse:
    """A file in the thread, for whoever may see the conversation (404 for anyone else)."""
    conversation = conversation_for(request.user, pk)  # type: ignore[arg-type]
    attachment = get_object_or_404(
        Attachment.objects.exclude(file=""), pk=attachment_id, message__conversation=conversation
    )
    return _file_response(attachment)


def _file_response(attachment: Attachment) -> FileResponse:
    # Customer files are untrusted: never rendered as HTML in our origin, only shown where harmless.
    inline = attachment.content_type.startswith(INLINE_PREFIXES) or attachment.content_type in INLINE_TYPES
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=not inline,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, max-age=3600"
    return response
