from django.contrib import messages
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts import roles
from accounts.decorators import requires
from tickets import saved_views
from tickets import selectors_inbox as inbox_q
from tickets.models import ConversationStatus, Priority, SavedView, SavedViewVisibility
from tickets.selectors import visible_conversations


def _query_string(params: dict[str, str]) -> str:
    path = reverse("inbox")
    return f"{path}?{urlencode(params)}" if params else path


def _requested_query(request) -> inbox_q.InboxQuery:
    """The query string's list, or a saved view's when the link names only the view; someone else's
    private view (or a team view of another team) is a 404, as if it did not exist."""
    if inbox_q.takes_saved_params(request.GET):
        view_id = inbox_q.parse_query(request.GET).saved
        saved_view = inbox_q.saved_view_for(request.user, view_id) if view_id else None
        if saved_view is None:
            raise Http404
        return inbox_q.query_of_saved_view(saved_view)
    return inbox_q.parse_query(request.GET)


@require_GET
@requires(roles.WORK_INBOX)
def inbox(request):
    query = _requested_query(request)
    cursor = inbox_q.decode_cursor(request.GET.get("cursor"))

    # "More" asks only for the next rows: no left column, no filter choices, no option queries.
    if request.htmx and cursor is not None and request.GET.get("fragment") == "rows":
        page = inbox_q.inbox_page(request.user, query, cursor=cursor)
        return render(request, "tickets/inbox/rows.html", _rows_context(query, page))

    options = inbox_q.inbox_options(request.user)
    if query.saved and options.saved_view(query.saved) is None:
        raise Http404
    query = inbox_q.clean_against(query, options)
    page = inbox_q.inbox_page(request.user, query, cursor=cursor, segment=options.segment(query.segment))
    keep = {k: v for k, v in query.params(saved=None).items() if k in ("status", "sort")}
    active_view = options.saved_view(query.saved)
    context = {
        **_rows_context(query, page),
        "query": query,
        "options": options,
        "priorities": Priority.choices,
        "sla_states": [
            (inbox_q.SLA_OK, _("SLA on track")),
            (inbox_q.SLA_AT_RISK, _("SLA at risk")),
            (inbox_q.SLA_BREACHED, _("SLA breached")),
        ],
        "view_links": {
            key: _query_string({**keep, "view": key} if key != inbox_q.VIEW_ALL else keep)
            for key in (inbox_q.VIEW_MINE, inbox_q.VIEW_UNASSIGNED, inbox_q.VIEW_ALL)
        },
        "team_links": [(t, _query_string({**keep, "view": f"team-{t.pk}"})) for t in options.teams],
        "channel_links": [(c, _query_string({**keep, "view": f"channel-{c.pk}"})) for c in options.channels],
        "saved_links": [(v, _query_string({"saved": str(v.pk)})) for v in options.saved_views],
        "active_view": active_view,
        "active_view_changed": active_view is not None
        and inbox_q.query_of_saved_view(active_view).savable_params() != query.savable_params(),
        "savable_query": urlencode(query.savable_params()),
        "can_share": saved_views.can_share(request.user),
        "visibilities": SavedViewVisibility.choices,
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
    query = _requested_query(request)
    conversation = inbox_q.inbox_row(request.user, query, pk)
    if conversation is None:
        if not visible_conversations(request.user).filter(pk=pk).exists():
            raise Http404
        return HttpResponse(status=204)
    return render(request, "tickets/inbox/row.html", {"conversation": conversation})


# ---- Saved views -----------------------------------------------------------------------------------


def _posted_params(request) -> QueryDict:
    # The list's parameters travel as one canonical query string, so the form need not repeat them.
    return QueryDict(request.POST.get("query", ""))


def _own_view(request, pk: int) -> SavedView:
    # Someone else's view, shared or not, is not there to change: 404 rather than 403 gives nothing away.
    return get_object_or_404(SavedView, pk=pk, owner=request.user)


def _back(request, params: dict[str, str]):
    return redirect(_query_string(params))


@require_POST
@requires(roles.WORK_INBOX)
def saved_view_create(request):
    params = _posted_params(request)
    try:
        view = saved_views.do_create_saved_view(
            owner=request.user,
            name=request.POST.get("name"),
            params=params,
            visibility=request.POST.get("visibility"),
            team_id=request.POST.get("team"),
        )
    except saved_views.SavedViewError as error:
        messages.error(request, str(error))
        return _back(request, saved_views.clean_params(params))
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return _back(request, {"saved": str(view.pk)})


@require_POST
@requires(roles.WORK_INBOX)
def saved_view_update(request, pk: int):
    view = _own_view(request, pk)
    action = request.POST.get("action")
    try:
        if action == "filters":
            saved_views.do_update_saved_view(view=view, actor=request.user, params=_posted_params(request))
            messages.success(request, _("View “%(name)s” updated.") % {"name": view.name})
        else:
            saved_views.do_update_saved_view(
                view=view,
                actor=request.user,
                name=request.POST.get("name"),
                visibility=request.POST.get("visibility"),
                team_id=request.POST.get("team"),
            )
            messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    except saved_views.SavedViewError as error:
        messages.error(request, str(error))
    return _back(request, {"saved": str(view.pk)})


@require_POST
@requires(roles.WORK_INBOX)
def saved_view_move(request, pk: int):
    view = _own_view(request, pk)
    saved_views.do_move_saved_view(
        view=view, actor=request.user, offset=-1 if request.POST.get("to") == "up" else 1
    )
    return _back(request, {"saved": str(view.pk)})


@require_POST
@requires(roles.WORK_INBOX)
def saved_view_delete(request, pk: int):
    view = _own_view(request, pk)
    name = view.name
    saved_views.do_delete_saved_view(view=view, actor=request.user)
    messages.success(request, _("View “%(name)s” deleted.") % {"name": name})
    return _back(request, {})
