"""The inbox list: views, filters, sort orders and keyset pages over the conversations a user may see.

Everything a row shows comes from one query (plus one for the labels of the whole page, and one or two
to read a segment's definition when filtering by segment), so a page costs the same number of queries
whether it holds five rows or fifty. Filters, including segment and SLA state, are WHERE clauses on
that one query, so they compose with the keyset cursor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import (
    Case,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least, Left
from django.utils import timezone

from accounts import roles
from accounts.models import Team, User
from channels_app.models import Channel
from profiles.models import Segment
from profiles.segments import SegmentError, customers_in_segment
from tickets.models import (
    Conversation,
    ConversationRead,
    ConversationStatus,
    Direction,
    Label,
    Message,
    Priority,
    SavedView,
    SavedViewVisibility,
)
from tickets.selectors import visible_conversations
from tickets.sla import AT_RISK_SHARE

PAGE_SIZE = 50
PREVIEW_CHARS = 200

VIEW_MINE = "mine"
VIEW_UNASSIGNED = "unassigned"
VIEW_ALL = "all"
SORT_ACTIVITY = "activity"
SORT_WAITING = "waiting"
SORT_SLA = "sla"
SORTS = (SORT_ACTIVITY, SORT_WAITING, SORT_SLA)
ASSIGNEE_NONE = "none"
SLA_OK = "ok"
SLA_AT_RISK = "at_risk"
SLA_BREACHED = "breached"
SLA_STATES = (SLA_OK, SLA_AT_RISK, SLA_BREACHED)

# Rows without a waiting time or deadline sort after every real one. A real (far-future) timestamp
# rather than NULL keeps the keyset comparison a plain `<`/`>` on one column.
NEVER = datetime(9999, 12, 31, tzinfo=UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _positive_int(value: Any) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    # PostgreSQL integers stop at 2**31 - 1; a larger id in a hand-edited URL must not reach the query.
    return number if 0 < number < 2**31 else None


@dataclass(frozen=True)
class InboxQuery:
    """What the agent asked for, already cleaned: anything invalid was dropped on the way in."""

    view: str = VIEW_ALL
    view_team: int | None = None
    view_channel: int | None = None
    status: str | None = None
    channel: int | None = None
    assignee: str | None = None  # a user id, or ASSIGNEE_NONE
    team: int | None = None
    label: int | None = None
    priority: str | None = None
    segment: int | None = None
    sla_state: str | None = None
    sort: str = SORT_ACTIVITY
    saved: int | None = None  # the saved view this query came from, for the left column only

    @property
    def view_key(self) -> str:
        if self.view_team:
            return f"team-{self.view_team}"
        if self.view_channel:
            return f"channel-{self.view_channel}"
        return self.view

    def params(self, **overrides: Any) -> dict[str, str]:
        """The canonical query string parameters (defaults left out), for links and the live updater."""
        values: dict[str, Any] = {
            "view": self.view_key,
            "status": self.status,
            "channel": self.channel,
            "assignee": self.assignee,
            "team": self.team,
            "label": self.label,
            "priority": self.priority,
            "segment": self.segment,
            "sla_state": self.sla_state,
            "sort": self.sort,
            "saved": self.saved,
        }
        values.update(overrides)
        # With a saved view, `view` always goes along: it tells takes_saved_params that the parameters are
        # the whole query, so a filter cleared back to its default does not come back from the view.
        defaults = {"sort": SORT_ACTIVITY} if values["saved"] else {"view": VIEW_ALL, "sort": SORT_ACTIVITY}
        return {k: str(v) for k, v in values.items() if v not in (None, "") and defaults.get(k) != str(v)}

    @property
    def is_filtered(self) -> bool:
        return any(
            (
                self.status,
                self.channel,
                self.assignee,
                self.team,
                self.label,
                self.priority,
                self.segment,
                self.sla_state,
            )
        )

    def without_filters(self) -> InboxQuery:
        return replace(
            self,
            status=None,
            channel=None,
            assignee=None,
            team=None,
            label=None,
            priority=None,
            segment=None,
            sla_state=None,
        )

    def savable_params(self) -> dict[str, str]:
        """What a saved view keeps: the list's own parameters, not where it came from."""
        return replace(self, saved=None).params()


def parse_query(params: Mapping[str, Any]) -> InboxQuery:
    """Read the query string; a value that makes no sense is ignored, never an error."""
    view, view_team, view_channel = VIEW_ALL, None, None
    raw_view = str(params.get("view") or "")
    if raw_view in (VIEW_MINE, VIEW_UNASSIGNED, VIEW_ALL):
        view = raw_view
    elif raw_view.startswith("team-") and (team_id := _positive_int(raw_view[5:])):
        view, view_team = "team", team_id
    elif raw_view.startswith("channel-") and (channel_id := _positive_int(raw_view[8:])):
        view, view_channel = "channel", channel_id

    status = params.get("status")
    priority = params.get("priority")
    sla_state = params.get("sla_state")
    sort = params.get("sort")
    raw_assignee = params.get("assignee")
    assignee_id = _positive_int(raw_assignee)
    return InboxQuery(
        view=view,
        view_team=view_team,
        view_channel=view_channel,
        status=status if status in ConversationStatus.values else None,
        channel=_positive_int(params.get("channel")),
        assignee=ASSIGNEE_NONE
        if raw_assignee == ASSIGNEE_NONE
        else (str(assignee_id) if assignee_id else None),
        team=_positive_int(params.get("team")),
        label=_positive_int(params.get("label")),
        priority=priority if priority in Priority.values else None,
        segment=_positive_int(params.get("segment")),
        sla_state=sla_state if sla_state in SLA_STATES else None,
        sort=sort if sort in SORTS else SORT_ACTIVITY,
        saved=_positive_int(params.get("saved")),
    )


def takes_saved_params(params: Mapping[str, Any]) -> bool:
    """`?saved=<id>` alone opens the saved view with its stored filters; links made on that page carry
    `view` as well, and then the parameters are the query and `saved` only marks where it came from."""
    return bool(params.get("saved")) and "view" not in params


def query_of_saved_view(saved_view: SavedView) -> InboxQuery:
    stored = saved_view.params if isinstance(saved_view.params, dict) else {}
    return parse_query({**stored, "saved": saved_view.pk})


# ---- Cursors ---------------------------------------------------------------------------------------

Cursor = tuple[datetime, int]


def encode_cursor(key: datetime, pk: int) -> str:
    delta = key - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return f"{micros}_{pk}"


def decode_cursor(value: Any) -> Cursor | None:
    if not value or not isinstance(value, str) or value.count("_") != 1:
        return None
    micros_text, pk_text = value.split("_")
    pk = _positive_int(pk_text)
    try:
        micros = int(micros_text)
        key = _EPOCH + timedelta(microseconds=micros)
    except (ValueError, OverflowError):
        return None
    if pk is None or key > NEVER:
        return None
    return key, pk


# ---- Queries ---------------------------------------------------------------------------------------


def _sort_key(sort: str):
    if sort == SORT_WAITING:
        return Coalesce(F("waiting_since"), Value(NEVER), output_field=DateTimeField())
    if sort == SORT_SLA:
        # Before the first answer the first-response deadline is the one that matters; after it, the
        # next-response deadline (the first one may linger, already met). The resolution deadline
        # competes with either: the soonest one is what is due. LEAST skips NULLs on PostgreSQL.
        response = Case(
            When(first_response_at__isnull=True, then=F("first_response_due_at")),
            default=F("next_response_due_at"),
            output_field=DateTimeField(),
        )
        due = Least(response, F("resolution_due_at"), output_field=DateTimeField())
        return Coalesce(due, Value(NEVER), output_field=DateTimeField())
    return F("last_activity_at")


def _with_sla_deadline(qs: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Alias the deadline the SLA badge (tickets/_sla_badge.html) shows and the time it turns amber.

    Same choice as the badge, in SQL: the pending response deadline (first response before the first
    answer, else the next one while the customer waits) unless the resolution deadline comes sooner.
    At risk means less than AT_RISK_SHARE of the time from the start of the wait (for resolution: the
    conversation's creation) is left, in wall-clock time like the badge, so the filter and the badges
    on the rows it returns agree. No policy, calendar or holiday lookups: one WHERE clause that pages.
    """
    first = Q(first_response_at__isnull=True, first_response_due_at__isnull=False)
    following = Q(waiting_since__isnull=False, next_response_due_at__isnull=False)
    qs = qs.alias(
        sla_response_due=Case(
            When(first, then=F("first_response_due_at")),
            When(following, then=F("next_response_due_at")),
            output_field=DateTimeField(),
        ),
        sla_response_start=Case(
            When(first, then=Coalesce(F("waiting_since"), F("created_at"))),
            When(following, then=F("waiting_since")),
            output_field=DateTimeField(),
        ),
    )
    use_response = Q(sla_response_due__isnull=False) & (
        Q(resolution_due_at__isnull=True) | Q(sla_response_due__lte=F("resolution_due_at"))
    )
    resolved = Q(status=ConversationStatus.RESOLVED)
    qs = qs.alias(
        sla_due=Case(
            When(resolved, then=Value(None)),
            When(use_response, then=F("sla_response_due")),
            default=F("resolution_due_at"),
            output_field=DateTimeField(),
        ),
        sla_start=Case(
            When(resolved, then=Value(None)),
            When(use_response, then=F("sla_response_start")),
            default=F("created_at"),
            output_field=DateTimeField(),
        ),
    )
    warning = ExpressionWrapper(
        (F("sla_due") - F("sla_start")) * Value(AT_RISK_SHARE), output_field=DurationField()
    )
    return qs.alias(sla_warn_at=ExpressionWrapper(F("sla_due") - warning, output_field=DateTimeField()))


def _sla_state_q(state: str, now: datetime) -> Q:
    if state == SLA_BREACHED:
        return Q(sla_due__lte=now)
    if state == SLA_AT_RISK:
        return Q(sla_due__gt=now, sla_warn_at__lt=now)
    return Q(sla_due__gt=now, sla_warn_at__gte=now)


def _descending(sort: str) -> bool:
    return sort == SORT_ACTIVITY


def _segment_customers(query: InboxQuery, segment: Segment | None) -> QuerySet | None:
    """The segment's customer ids as a subquery, or None if the segment is gone or no longer valid
    (an attribute it names was deleted): such a filter matches nothing rather than everyone."""
    if query.segment is None:
        return None
    if segment is None or segment.pk != query.segment:
        segment = Segment.objects.filter(pk=query.segment).only("id", "definition").first()
    if segment is None:
        return None
    try:
        return customers_in_segment(segment).values("pk")
    except SegmentError:
        return None


def _apply_view_and_filters(
    qs: QuerySet[Conversation], user: User, query: InboxQuery, segment: Segment | None = None
) -> QuerySet[Conversation]:
    if query.view == VIEW_MINE:
        qs = qs.filter(assignee=user)
    elif query.view == VIEW_UNASSIGNED:
        qs = qs.filter(assignee__isnull=True)
    elif query.view_team:
        qs = qs.filter(team_id=query.view_team)
    elif query.view_channel:
        qs = qs.filter(channel_id=query.view_channel)
    if query.status:
        qs = qs.filter(status=query.status)
    if query.channel:
        qs = qs.filter(channel_id=query.channel)
    if query.assignee == ASSIGNEE_NONE:
        qs = qs.filter(assignee__isnull=True)
    elif query.assignee:
        qs = qs.filter(assignee_id=int(query.assignee))
    if query.team:
        qs = qs.filter(team_id=query.team)
    if query.label:
        # A subquery, not a join: a join on the labels table would repeat rows and need DISTINCT.
        qs = qs.filter(
            pk__in=Conversation.labels.through.objects.filter(label_id=query.label).values("conversation_id")
        )
    if query.priority:
        qs = qs.filter(priority=query.priority)
    if query.segment:
        customers = _segment_customers(query, segment)
        # A subquery: PostgreSQL joins it as a semi-join however large the segment, no ids in Python.
        qs = qs.filter(customer__in=customers) if customers is not None else qs.none()
    if query.sla_state:
        qs = _with_sla_deadline(qs).filter(_sla_state_q(query.sla_state, timezone.now()))
    return qs


def inbox_rows(user: User, query: InboxQuery, *, segment: Segment | None = None) -> QuerySet[Conversation]:
    """Every row of the view, annotated with what the row shows and ordered by the sort key and id."""
    last_message = Message.objects.filter(conversation=OuterRef("pk")).order_by("-created_at", "-id")
    read_at = ConversationRead.objects.filter(user=user, conversation=OuterRef("conversation")).values(
        "read_at"
    )[:1]
    unread_message = Message.objects.filter(
        conversation=OuterRef("pk"),
        direction=Direction.INBOUND,
        created_at__gt=Coalesce(Subquery(read_at), Value(_EPOCH), output_field=DateTimeField()),
    )
    qs = _apply_view_and_filters(visible_conversations(user), user, query, segment)
    order = ("-sort_key", "-id") if _descending(query.sort) else ("sort_key", "id")
    return (
        qs.select_related("customer", "channel", "assignee", "team")
        .prefetch_related("labels")
        .annotate(
            sort_key=_sort_key(query.sort),
            last_message_body=Subquery(
                last_message.annotate(preview=Left("body", PREVIEW_CHARS)).values("preview")[:1]
            ),
            is_unread=Exists(unread_message),
        )
        .order_by(*order)
    )


@dataclass
class InboxPage:
    rows: list[Conversation]
    next_cursor: str | None


def inbox_page(
    user: User,
    query: InboxQuery,
    *,
    cursor: Cursor | None = None,
    limit: int = PAGE_SIZE,
    segment: Segment | None = None,
) -> InboxPage:
    qs = inbox_rows(user, query, segment=segment)
    if cursor is not None:
        key, pk = cursor
        if _descending(query.sort):
            qs = qs.filter(Q(sort_key__lt=key) | Q(sort_key=key, pk__lt=pk))
        else:
            qs = qs.filter(Q(sort_key__gt=key) | Q(sort_key=key, pk__gt=pk))
    rows = list(qs[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(last.sort_key, last.pk)  # type: ignore[attr-defined]
    return InboxPage(rows=rows, next_cursor=next_cursor)


def inbox_row(user: User, query: InboxQuery, pk: int) -> Conversation | None:
    """One row as the list would show it, or None if it is not part of this view."""
    return inbox_rows(user, query).filter(pk=pk).first()


# ---- What the left column and the filter bar offer -------------------------------------------------


@dataclass
class InboxOptions:
    teams: list[Team]  # the user's own teams: one view each
    channels: list[Channel]  # channels whose conversations the user may see: one view each
    filter_teams: list[Team]
    assignees: list[User]
    labels: list[Label]
    segments: list[Segment]
    saved_views: list[SavedView]

    def segment(self, pk: int | None) -> Segment | None:
        return next((s for s in self.segments if s.pk == pk), None)

    def saved_view(self, pk: int | None) -> SavedView | None:
        return next((v for v in self.saved_views if v.pk == pk), None)


def inbox_options(user: User) -> InboxOptions:
    my_teams = list(Team.objects.filter(members=user).order_by("name"))
    my_team_ids = [team.pk for team in my_teams]
    if user.has_perm(roles.VIEW_ALL_CONVERSATIONS):
        channels = list(Channel.objects.order_by("name"))
        filter_teams = list(Team.objects.order_by("name"))
        assignees = User.objects.filter(is_active=True)
    else:
        channels = list(Channel.objects.filter(teams__in=my_team_ids).distinct().order_by("name"))
        filter_teams = my_teams
        assignees = User.objects.filter(Q(is_active=True, teams__in=my_team_ids) | Q(pk=user.pk)).distinct()
    return InboxOptions(
        teams=my_teams,
        channels=channels,
        filter_teams=filter_teams,
        assignees=list(assignees.order_by("first_name", "last_name", "username")),
        labels=list(Label.objects.order_by("name")),
        segments=list(Segment.objects.only("id", "name", "definition").order_by("name")),
        saved_views=list(visible_saved_views(user)),
    )


def clean_against(query: InboxQuery, options: InboxOptions) -> InboxQuery:
    """Drop ids the user cannot pick (another team's view, a deleted label): the page falls back to
    what it would show without them instead of an empty list that looks like a bug."""
    team_ids = {t.pk for t in options.teams}
    channel_ids = {c.pk for c in options.channels}
    changes: dict[str, Any] = {}
    if query.view_team and query.view_team not in team_ids:
        changes.update(view=VIEW_ALL, view_team=None)
    if query.view_channel and query.view_channel not in channel_ids:
        changes.update(view=VIEW_ALL, view_channel=None)
    if query.channel and query.channel not in channel_ids:
        changes["channel"] = None
    if query.team and query.team not in {t.pk for t in options.filter_teams}:
        changes["team"] = None
    if query.label and query.label not in {label.pk for label in options.labels}:
        changes["label"] = None
    if query.segment and options.segment(query.segment) is None:
        changes["segment"] = None
    if query.saved and options.saved_view(query.saved) is None:
        changes["saved"] = None
    if (
        query.assignee
        and query.assignee != ASSIGNEE_NONE
        and int(query.assignee) not in {u.pk for u in options.assignees}
    ):
        changes["assignee"] = None
    return replace(query, **changes) if changes else query


# ---- Saved views -----------------------------------------------------------------------------------


def visible_saved_views(user: User) -> QuerySet[SavedView]:
    """The user's own views, views shared with everyone, and views shared with one of their teams.
    What a view shows is still limited by visible_conversations: sharing a view shares filters, not
    access."""
    team_ids = Team.objects.filter(members=user).values("id")
    return (
        SavedView.objects.filter(
            Q(owner=user)
            | Q(visibility=SavedViewVisibility.EVERYONE)
            | Q(visibility=SavedViewVisibility.TEAM, team__in=team_ids)
        )
        .select_related("owner", "team")
        .order_by("position", "name", "id")
    )


def saved_view_for(user: User, pk: int) -> SavedView | None:
    return visible_saved_views(user).filter(pk=pk).first()
