"""Row-level downloads started from a dashboard view: its filters travel in the query string.

``/dashboards/export/conversations/?export=xlsx&from=…&to=…&channel=…`` exports the conversations the
view counts (new in the range), ``…/answers/`` the answers. Both read through the viewer's visibility,
need the export permission, and leave an entry in the privacy audit log (the files carry customers'
names and comments).
"""

from __future__ import annotations

from django.http import HttpRequest, StreamingHttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts import roles
from accounts.decorators import requires
from analytics import exports_answers, exports_conversations
from analytics.answer_reporting import drill_answers
from analytics.exports_format import download
from analytics.exports_tables import file_name, requested_format
from analytics.filters import DashboardFilters
from analytics.reporting import drill
from core.public_url import public_base_url
from profiles.audit import record
from profiles.models import AuditAction
from tickets.visibility import visibility_for


@require_GET
@requires(roles.EXPORT_DATA)
def export_conversations(request) -> StreamingHttpResponse:
    filters = DashboardFilters.from_query(request.GET, request.user)
    conversations = drill(filters, visibility_for(request.user), "created").filter(
        # The same range again on the conversation itself (a fact's created_at is its conversation's):
        # PostgreSQL then reads a narrow range through the index instead of joining whole tables.
        created_at__gte=filters.start,
        created_at__lt=filters.end,
    )
    fmt = requested_format(request) or "csv"
    _audit(request, "conversations", fmt, filters)
    return download(
        request,
        fmt=fmt,
        headers=exports_conversations.headers(),
        rows=exports_conversations.rows(conversations, base_url=public_base_url(request)),
        zone=filters.zone,
        filename=file_name("conversations", filters),
        sheet=_("Conversations"),
    )


@require_GET
@requires(roles.EXPORT_DATA)
def export_answers(request) -> StreamingHttpResponse:
    filters = DashboardFilters.from_query(request.GET, request.user)
    answers = drill_answers(filters, visibility_for(request.user), "answers").filter(
        created_at__gte=filters.start,
        created_at__lt=filters.end,  # as above: an answer fact's own moment
    )
    fmt = requested_format(request) or "csv"
    _audit(request, "answers", fmt, filters)
    return download(
        request,
        fmt=fmt,
        headers=exports_answers.headers(),
        rows=exports_answers.rows(answers, base_url=public_base_url(request)),
        zone=filters.zone,
        filename=file_name("answers", filters),
        sheet=_("Answers"),
    )


def _audit(request: HttpRequest, scope: str, fmt: str, filters: DashboardFilters) -> None:
    record(
        actor=request.user,
        action=AuditAction.EXPORT,
        customer_id=None,
        scope=scope,
        format=fmt,
        filters=filters.to_query(),
    )
