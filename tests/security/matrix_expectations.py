"""Who may reach each route: the expectation for every route of the URL resolver, one row per route.

A row names the outcome for each role, in the order of `world.ROLES`: admin, manager, agent (team EN),
agent of another team (RU), agent granted all-access, anonymous. The parameters of a route always name
an object of the EN side (tests/security/params.py), so the RU agent must get 404 on the EN
conversation and on everything derived from it, exactly as on an id that does not exist.

A new route fails tests/security/test_authorization_matrix.py until it has a row here.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.security.routes import ADMIN_LOGIN, FORBIDDEN, LOGIN, METHOD, NOT_FOUND, OK, UNAUTHENTICATED

Cell = str | frozenset[str]
UNAVAILABLE = "503"


@dataclass(frozen=True)
class Expect:
    method: str  # GET for pages; the method a POST-only route accepts, called with an empty form
    cells: tuple[Cell, ...]
    # Public routes answer strangers by design (a token, a signature or nothing at all is the key);
    # signed-in pages are also checked for leaks of the EN conversation to the RU agent.
    public: bool = False
    # A query string for pages that show more with one: a search that finds both teams' conversations.
    query: str = ""


def row(admin: Cell, manager: Cell, agent: Cell, other_team: Cell, all_access: Cell, anonymous: Cell):
    return (admin, manager, agent, other_team, all_access, anonymous)


SIGNED_IN = row(OK, OK, OK, OK, OK, LOGIN)
# The EN conversation or something derived from it (its messages, attachments, notes, follow-up).
EN_CONVERSATION = row(OK, OK, OK, NOT_FOUND, OK, LOGIN)
MANAGERS = row(OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, LOGIN)
ADMINS = row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, LOGIN)
# The EN agent's private saved view: nobody else learns that it exists.
OWNER = row(NOT_FOUND, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, LOGIN)
EVERYONE = row(OK, OK, OK, OK, OK, OK)
# The REST API takes API keys only (see API_KEY_ROUTES): a browser session is no credential there.
API_KEY_ONLY = row(*[UNAUTHENTICATED] * 6)


def GET(cells, *, public: bool = False, query: str = "") -> Expect:
    return Expect("GET", cells, public, query)


def POST(cells, *, public: bool = False) -> Expect:
    return Expect("POST", cells, public)


ROUTES: dict[str, Expect] = {
    # --- Core, login ---------------------------------------------------------------------------------
    "": GET(SIGNED_IN),
    # Load balancers call it without credentials; 503 while a dependency is down is not a refusal.
    "healthz": GET(row(*[frozenset({OK, UNAVAILABLE})] * 6), public=True),
    "accounts/login/": GET(EVERYONE, public=True),
    "accounts/logout/": POST(EVERYONE, public=True),
    "i18n/setlang/": POST(EVERYONE, public=True),
    # --- Inbox -----------------------------------------------------------------------------------------
    "inbox/": GET(SIGNED_IN, query="q=question"),
    "inbox/rows/<int:pk>/": GET(EN_CONVERSATION),
    "inbox/views/": POST(SIGNED_IN),
    "inbox/views/<int:pk>/": POST(OWNER),
    "inbox/views/<int:pk>/move/": POST(OWNER),
    "inbox/views/<int:pk>/delete/": POST(OWNER),
    "inbox/<int:pk>/": GET(EN_CONVERSATION),
    "inbox/<int:pk>/reply/": POST(EN_CONVERSATION),
    "inbox/<int:pk>/reply/options/": GET(EN_CONVERSATION),
    "inbox/<int:pk>/notes/": POST(EN_CONVERSATION),
    "inbox/<int:pk>/status/": POST(EN_CONVERSATION),
    "inbox/<int:pk>/priority/": POST(EN_CONVERSATION),
    "inbox/<int:pk>/assign/": POST(EN_CONVERSATION),
    "inbox/<int:pk>/labels/add/": POST(EN_CONVERSATION),
    "inbox/<int:pk>/labels/remove/": POST(EN_CONVERSATION),
    # New labels are a manager's call; the RU agent does not learn the conversation exists either way.
    "inbox/<int:pk>/labels/create/": POST(row(OK, OK, FORBIDDEN, NOT_FOUND, FORBIDDEN, LOGIN)),
    "inbox/<int:pk>/snooze/": POST(EN_CONVERSATION),
    "inbox/<int:pk>/messages/<int:message_id>/mail/": GET(EN_CONVERSATION),
    "inbox/<int:pk>/messages/<int:message_id>/retry/": POST(EN_CONVERSATION),
    "inbox/<int:pk>/attachments/<int:attachment_id>/": GET(EN_CONVERSATION),
    "inbox/<int:pk>/canned/": GET(EN_CONVERSATION),
    "inbox/sms-count/": POST(SIGNED_IN),
    "inbox/search/": GET(SIGNED_IN, query="q=question"),
    "inbox/availability/": POST(SIGNED_IN),
    # --- Customers: every agent may open a profile, but not what it says about hidden conversations ------
    "customers/": GET(SIGNED_IN, query="q=Matrix"),
    "customers/<int:pk>/": GET(SIGNED_IN),
    "customers/<int:pk>/timeline/": GET(SIGNED_IN),
    "customers/<int:pk>/notes/": GET(SIGNED_IN),
    "customers/<int:pk>/suggestions/<int:suggestion_id>/accept/": POST(SIGNED_IN),
    "customers/<int:pk>/suggestions/<int:suggestion_id>/dismiss/": POST(SIGNED_IN),
    "customers/<int:pk>/merges/<int:log_id>/undo/": POST(SIGNED_IN),
    "customers/<int:pk>/export/": POST(MANAGERS),
    "customers/<int:pk>/erase/": GET(ADMINS),
    "customers/audit/": GET(ADMINS),
    "customers/privacy/retention/": GET(ADMINS),
    "customers/segments/": GET(MANAGERS),
    "customers/segments/new/": GET(MANAGERS),
    "customers/segments/<int:pk>/": GET(MANAGERS),
    "customers/segments/<int:pk>/count/": GET(MANAGERS),
    "customers/segments/<int:pk>/delete/": GET(MANAGERS),
    "customers/imports/": GET(MANAGERS),
    "customers/imports/<int:pk>/map/": GET(MANAGERS),
    "customers/imports/<int:pk>/": GET(MANAGERS),
    "customers/imports/<int:pk>/status/": GET(MANAGERS),
    "customers/imports/<int:pk>/report.csv": GET(MANAGERS),
    "customers/export.csv": GET(MANAGERS),
    # --- Surveys ------------------------------------------------------------------------------------------
    "surveys/": GET(SIGNED_IN),
    "surveys/new/": GET(MANAGERS),
    "surveys/<int:pk>/": GET(SIGNED_IN),
    "surveys/<int:pk>/edit/": GET(MANAGERS),
    "surveys/<int:pk>/share/": POST(MANAGERS),
    "surveys/follow-ups/<int:pk>/close/": POST(EN_CONVERSATION),
    "s/w/settings/<int:survey_id>/": GET(MANAGERS),
    "s/l/<str:public_key>/qr.svg": GET(MANAGERS),
    # Customers answer by the token in their link, the survey's public key, or nothing (the widget).
    "s/api/answers/": POST(EVERYONE, public=True),
    "s/l/<str:public_key>/": GET(EVERYONE, public=True),
    "s/^(?P<token>[A-Za-z0-9_-]{20,64})/$": GET(EVERYONE, public=True),
    "s/^(?P<token>[A-Za-z0-9_-]{20,64})/opt-out/$": GET(EVERYONE, public=True),
    "s/^(?P<token>[A-Za-z0-9_-]{20,64})/(?P<score>[^/]{1,12})/$": GET(EVERYONE, public=True),
    "s/w/widget.js": GET(EVERYONE, public=True),
    "s/w/answer": POST(EVERYONE, public=True),
    "s/w/<str:public_key>/show": GET(EVERYONE, public=True),
    # --- Dashboards and settings ---------------------------------------------------------------------------
    "dashboards/": GET(MANAGERS),
    "dashboards/operations/": GET(MANAGERS),
    "dashboards/surveys/": GET(MANAGERS),
    "dashboards/closed-loop/": GET(MANAGERS),
    "dashboards/people/": GET(MANAGERS),
    "dashboards/journey/": GET(MANAGERS),
    "dashboards/targets/": GET(ADMINS),
    # Everyone's own numbers, and the lists behind a number: read through the viewer's visibility, so
    # the RU agent's lists must not show the EN conversation.
    "dashboards/me/": GET(SIGNED_IN),
    "dashboards/drill/": GET(SIGNED_IN, query="measure=created&range=year"),
    "dashboards/drill/answers/": GET(SIGNED_IN, query="measure=comments&range=year"),
    "dashboards/drill/follow-ups/": GET(MANAGERS, query="measure=opened&range=year"),
    "dashboards/drill/invitations/": GET(MANAGERS, query="measure=sent&range=year"),
    # Row-level exports need the export permission (managers and admins); the digest is for managers.
    "dashboards/export/conversations/": GET(MANAGERS),
    "dashboards/export/answers/": GET(MANAGERS),
    "dashboards/digest/": GET(MANAGERS),
    "settings/": GET(ADMINS),
    "settings/channels/": GET(ADMINS),
    "settings/channels/new/": GET(ADMINS),
    "settings/channels/<int:channel_id>/": GET(ADMINS),
    "settings/channels/<int:channel_id>/check/": POST(ADMINS),
    "settings/configuration-log/": GET(ADMINS),
    # Everyone manages their own second factor; which roles must have one is the admins' setting.
    "settings/security/": GET(SIGNED_IN),
    "settings/security/setup/": POST(SIGNED_IN),
    "settings/security/confirm/": POST(SIGNED_IN),
    "settings/security/recovery-codes/": POST(SIGNED_IN),
    "settings/security/remove/": POST(SIGNED_IN),
    "settings/security/policy/": POST(ADMINS),
    # --- Public by signature or token ---------------------------------------------------------------
    # A signed, expiring link to one stored file, for providers and customers who cannot sign in.
    "files/<str:token>/<str:filename>": GET(EVERYONE, public=True),
    # Unsigned deliveries are refused whoever sends them.
    "webhooks/<slug:provider>/<int:channel_id>/": POST(row(*[FORBIDDEN] * 6), public=True),
    # --- REST API ------------------------------------------------------------------------------------
    "api/v1/surveys/<int:pk>/invitations/": POST(API_KEY_ONLY, public=True),
    "api/v1/surveys/<int:pk>/responses/": GET(API_KEY_ONLY, public=True),
    "api/v1/surveys/<int:pk>/invitations": POST(API_KEY_ONLY, public=True),
    "api/v1/surveys/<int:pk>/responses": GET(API_KEY_ONLY, public=True),
    "api/v1/events/": POST(API_KEY_ONLY, public=True),
    "api/v1/customers/identify/": POST(API_KEY_ONLY, public=True),
    "api/v1/events": POST(API_KEY_ONLY, public=True),
    "api/v1/customers/identify": POST(API_KEY_ONLY, public=True),
}

# The Django admin: its own login, staff only. Every route under admin/ is called as every role; the
# admin may get a page, a redirect, 403 or 404 (missing rows, autocomplete without its parameters),
# everyone else only the way to a login page.
STAFF_CELL = frozenset({OK, FORBIDDEN, NOT_FOUND, METHOD})
NON_STAFF_CELL = frozenset({ADMIN_LOGIN, LOGIN})
ADMIN_PUBLIC = {
    # The login page itself (a signed-in user without staff status may be told no), and logging out
    # (POST only since Django 5; nobody's business who asks).
    "admin/login/": frozenset({OK, FORBIDDEN}),
    "admin/logout/": frozenset({OK, METHOD}),
}

# REST endpoints: how each one is called with an API key, and the scope a key needs for it. Keys are
# all-or-nothing today (ApiKey has no scopes): None. When keys gain scopes, name the scope of each
# endpoint here; test_api_keys_have_no_scopes_the_matrix_does_not_know then asks for the cells.
API_KEY_ROUTES: dict[str, tuple[str, str | None]] = {
    "api/v1/surveys/<int:pk>/invitations/": ("POST", None),
    "api/v1/surveys/<int:pk>/responses/": ("GET", None),
    "api/v1/surveys/<int:pk>/invitations": ("POST", None),
    "api/v1/surveys/<int:pk>/responses": ("GET", None),
    "api/v1/events/": ("POST", None),
    "api/v1/customers/identify/": ("POST", None),
    "api/v1/events": ("POST", None),
    "api/v1/customers/identify": ("POST", None),
}
