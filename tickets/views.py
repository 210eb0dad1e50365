from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from accounts import roles
from accounts.decorators import requires
from tickets import selectors_inbox as inbox_q
from tickets.models import ConversationStatus, Priority
from tickets.selectors import visible_conversations


def _query_string(params: dict[str, str]) -> str:
    path = reverse("inbox")
    return f"{path}?{urlencode(params)}" if params else path


@require_GET
@requires(roles.WORK_INBOX)
def inbox(request):
    query = inbox_q.parse_query(request.GET)
    cursor = inbox_q.decode_cursor(request.GET.get("cursor"))

    # "More" asks only for the next rows: no left column, no filter choices, no option queries.
    if request.htmx and cursor is not None and request.GET.get("fragment") == "rows":
        page = inbox_q.inbox_page(request.user, query, cursor=cursor)
        return render(request, "tickets/inbox/rows.html", _rows_context(query, page))

    options = inbox_q.inbox_options(request.user)
    query = inbox_q.clean_against(query, options)
    page = inbox_q.inbox_page(request.user, query, cursor=cursor)
    keep = {k: v for k, v in query.params().items() if k in ("status", "sort")}
    context = {
        **_rows_context(query, page),
        "query": query,
        "options": options,
        "priorities": Priority.choices,
        "view_links": {
            key: _query_string({**keep, "view": key} if key != inbox_q.VIEW_ALL else keep)
            for key in (inbox_q.VIEW_MINE, inbox_q.VIEW_UNASSIGNED, inbox_q.VIEW_ALL)
        },
        "team_links": [(t, _query_string({**keep, "view": f"team-{t.pk}"})) for t in options.teams],
        "channel_links": [(c, _query_string({**keep, "view": f"channel-{c.pk}"})) for c in options.channels],
        "status_links": [
            (value, label, _query_string(query.params(status=value)))
            for value, label in [(None, None), *ConversationStatus.choices]
        ],
        "clear_link": _query_string(query.without_filters().params()),
        "is_first_page": cursor is None,
    }
    return render(request, "tickets/inbox.html", context)


def _rows_context(query: inbox_q.InboxQuery, page: inbox_q.InboxPage) -> dict:
    more = None
    if page.next_cursor:
        more = _query_string({**query.params(), "cursor": page.next_cursor})
    return {
        "conversations": page.rows,
        "more_link": more,
        "more_rows_link": f"{more}&fragment=rows" if more else None,
        "canonical_query": urlencode(query.params()),
    }


@require_GET
@requires(roles.WORK_INBOX)
def inbox_row(request, pk: int):
    """One row of the list, for the live updater: 404 if the user may not see the conversation, 204 if
    they may but it does not belong in the view described by the query string."""
    query = inbox_q.parse_query(request.GET)
    conversation = inbox_q.inbox_row(request.user, query, pk)
    if conversation is None:
        if not visible_conversations(request.user).filter(pk=pk).exists():
            raise Http404
        return HttpResponse(status=204)
    return render(request, "tickets/inbox/row.html", {"conversation": conversation})
