"""The customer profile page: who the person is, their journey across channels, notes and merges."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from accounts import roles
from accounts.decorators import requires
from accounts.models import User
from profiles.audit import record
from profiles.merge import MergeError, do_accept_suggestion, do_undo_merge
from profiles.models import AuditAction, Customer, MergeLog, MergeSuggestion, SuggestionStatus
from profiles.profile_sections import HistoryViewer, viewer_for
from profiles.selectors_profile import (
    NOTES_MAX,
    NOTES_ON_PAGE,
    Cursor,
    find_customer,
    profile_page,
    recent_notes,
    survivor_id,
    timeline_page,
)
from profiles.services import do_add_note, do_dismiss_suggestion

NOTE_MAX_LENGTH = 10_000


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _viewer(request: HttpRequest) -> HistoryViewer:
    """What of the person's history this user may see, as the registered visibility policy says."""
    return viewer_for(cast(User, request.user))


def _live(pk: int) -> tuple[Customer | None, int | None]:
    """(the profile, None) if it is live, or (None, survivor id) if it was merged into another."""
    customer = find_customer(pk)
    if customer is None:
        raise Http404("no such customer")
    target = survivor_id(customer)
    return (None, target) if target is not None else (customer, None)


def _before(request: HttpRequest) -> tuple[Cursor | None, bool]:
    """The cursor asked for, and whether the request carried a cursor that does not parse."""
    raw = request.GET.get("before")
    if raw is None:
        return None, False
    cursor = Cursor.decode(raw)
    return cursor, cursor is None


@requires(roles.VIEW_CUSTOMERS)
@require_GET
def customer_profile(request: HttpRequest, pk: int) -> HttpResponse:
    customer, target = _live(pk)
    if customer is None:
        return redirect("customer_profile", pk=target)
    before, invalid = _before(request)
    if invalid:
        return redirect("customer_profile", pk=customer.pk)
    page = profile_page(customer, viewer=_viewer(request), before=before)
    record(actor=request.user, action=AuditAction.VIEW, customer_id=customer.pk)
    just_merged = None
    merged = request.GET.get("merged", "")
    if merged.isdigit():
        # Right after a merge the undo sits at the top, where the agent clicked, not in the history.
        just_merged = (
            MergeLog.objects.filter(pk=int(merged), survivor_id=customer.pk, undone_at__isnull=True)
            .select_related("merged")
            .first()
        )
    return render(
        request,
        "profiles/profile/profile.html",
        {
            "customer": customer,
            "page": page,
            "timeline": page.timeline,
            "notes": page.notes,
            "more_notes": page.more_notes,
            "note_max_length": NOTE_MAX_LENGTH,
            "older_page": before is not None,
            "just_merged": just_merged,
        },
    )


@requires(roles.VIEW_CUSTOMERS)
@require_GET
def customer_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """The next page of the journey, as list items to append where the "Older" button was."""
    customer, target = _live(pk)
    if customer is None:
        url = reverse("customer_timeline", kwargs={"pk": target})
        query = request.GET.urlencode()
        return redirect(f"{url}?{query}" if query else url)
    before, invalid = _before(request)
    if invalid:
        return HttpResponseBadRequest(_("This link to older entries is not valid."))
    return render(
        request,
        "profiles/profile/timeline_entries.html",
        {
            "customer": customer,
            "timeline": timeline_page(customer.pk, viewer=_viewer(request), before=before),
            "focus_first": True,
        },
    )


@requires(roles.VIEW_CUSTOMERS)
@require_http_methods(["GET", "POST"])
def customer_notes(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """GET: every note (the page shows the newest few). POST: add one; htmx gets the notes back."""
    customer, target = _live(pk)
    if customer is None:
        # A note typed on a profile that was merged meanwhile belongs to the person, now the survivor.
        customer = get_object_or_404(Customer, pk=target)
    error = body = ""
    if request.method == "POST":
        body = request.POST.get("body", "")
        try:
            do_add_note(customer=customer, author=request.user, body=body[:NOTE_MAX_LENGTH])
        except ValueError:
            error = _("Write a note first.")
        if not request.htmx:
            if error:
                messages.error(request, error)
            else:
                messages.success(request, _("Note added."))
            return redirect(reverse("customer_profile", kwargs={"pk": customer.pk}) + "#notes")
        notes = recent_notes(customer.pk, limit=NOTES_ON_PAGE + 1)
        more = len(notes) > NOTES_ON_PAGE
        notes = notes[:NOTES_ON_PAGE]
    else:
        notes = recent_notes(customer.pk, limit=NOTES_MAX)
        more = False
    return render(
        request,
        "profiles/profile/notes.html",
        {
            "customer": customer,
            "notes": notes,
            "more_notes": more,
            "note_error": error,
            "note_body": body if error else "",
            "note_max_length": NOTE_MAX_LENGTH,
            "refocus": request.method == "POST",
        },
    )


def _suggestion_of(pk: int, suggestion_id: int) -> MergeSuggestion:
    # Only through a profile it is about, so a forged URL cannot decide someone else's suggestion.
    return get_object_or_404(MergeSuggestion, Q(customer_id=pk) | Q(other_id=pk), pk=suggestion_id)


@requires(roles.VIEW_CUSTOMERS)
@requires(roles.MERGE_CUSTOMERS)
@require_POST
def suggestion_accept(request: HttpRequest, pk: int, suggestion_id: int) -> HttpResponse:
    suggestion = _suggestion_of(pk, suggestion_id)
    if suggestion.status != SuggestionStatus.OPEN:
        messages.info(request, _("This suggestion was already decided."))
        return redirect("customer_profile", pk=pk)
    try:
        log = do_accept_suggestion(suggestion=suggestion, actor=request.user)
    except MergeError:
        messages.error(request, _("These profiles cannot be merged now. Reload the page and try again."))
        return redirect("customer_profile", pk=pk)
    return redirect(reverse("customer_profile", kwargs={"pk": log.survivor_id}) + f"?merged={log.pk}")


@requires(roles.VIEW_CUSTOMERS)
@requires(roles.MERGE_CUSTOMERS)
@require_POST
def suggestion_dismiss(request: HttpRequest, pk: int, suggestion_id: int) -> HttpResponse:
    suggestion = _suggestion_of(pk, suggestion_id)
    if suggestion.status != SuggestionStatus.OPEN:
        messages.info(request, _("This suggestion was already decided."))
    else:
        do_dismiss_suggestion(suggestion=suggestion, actor=request.user)
        messages.success(request, _("Suggestion dismissed."))
    return redirect("customer_profile", pk=pk)


@requires(roles.VIEW_CUSTOMERS)
@requires(roles.MERGE_CUSTOMERS)
@require_POST
def merge_undo(request: HttpRequest, pk: int, log_id: int) -> HttpResponse:
    # Undone from the profile the other one was merged into: that is where the button is.
    log = get_object_or_404(MergeLog, pk=log_id, survivor_id=pk)
    try:
        do_undo_merge(log=log, actor=request.user)
    except MergeError:
        messages.error(
            request,
            _("This merge cannot be undone: it was undone already, or the profile was merged again."),
        )
    else:
        messages.success(request, _("Merge undone."))
    return redirect("customer_profile", pk=pk)
