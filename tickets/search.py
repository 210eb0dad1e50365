"""Search over messages and customers for the inbox.

Messages: a stored document over three text-search configurations of subject + body, GIN-indexed
(migrations 0004 and 0008):
`simple` keeps every word as written (Polish, which PostgreSQL cannot stem, order numbers, emails),
`russian` and `english` stem. The query is parsed with websearch_to_tsquery under each configuration and
the three are OR-ed, so «заказ» finds «заказом» and "order" finds "ordered". When the full-text search
finds nothing, a trigram index answers substring queries (part of a word, part of an order number).

Ranking every match of a common word on millions of rows is what makes search slow, so hits are ranked
among the CANDIDATES most recent matches the user may see; pagination is keyset over (rank, time, id)
inside that window, stable while no new matching message arrives.
"""

from __future__ import annotations

import base64
import contextlib
import re
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils.dateparse import parse_datetime
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from accounts import roles
from profiles.models import Customer, Identity
from tickets.models import Conversation, Message
from tickets.selectors import visible_conversations

MIN_QUERY_LENGTH = 2
# Longer queries add nothing to relevance but cost parse and match time.
MAX_QUERY_LENGTH = 200
# Substring search below three characters has no trigram to use the index with.
MIN_SUBSTRING_LENGTH = 3
# Ranking re-parses each candidate (three configurations): 300 rows cost a few milliseconds.
CANDIDATES = 300
RECENT_WINDOWS = (timedelta(days=30), timedelta(days=365))
# The newest visible messages checked one by one (a stored-document lookup each) instead of asking the
# index, for words the planner's statistics say are in one message of a hundred or more: their posting
# lists are what is slow to read (80 ms for a word in 3% of ten million messages), and they fill the
# candidates from the newest few thousand rows. Rarer words go to the index, which is fast for them.
RECENT_SCAN_ROWS = 30000
# Phrase queries are checked row by row on at most this many of the most recent word matches.
PHRASE_CANDIDATES = 3000
MAX_LIMIT = 100

# Private-use characters mark highlights so the text can be escaped before <mark> tags go in.
_START, _STOP = "\ue000", "\ue001"

# Identical to the generated column of tickets/migrations/0008_message_search_document.py.
MESSAGE_DOCUMENT = (
    "(to_tsvector('simple'::regconfig, left(subject || ' ' || body, 100000))"
    " || to_tsvector('russian'::regconfig, left(subject || ' ' || body, 100000))"
    " || to_tsvector('english'::regconfig, left(subject || ' ' || body, 100000)))"
)
MESSAGE_TEXT = "(subject || ' ' || body)"
_HEADLINE_OPTIONS = (
    f'StartSel="{_START}", StopSel="{_STOP}", '
    'MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "'
)

_WORD = re.compile(r"\w+")
_TSQUERY_LEXEME = re.compile(r"'(?:[^']|'')*'")
# A lexeme with its prefix or weight marks ('zamów':*), as one estimate must see it.
_TSQUERY_TERM = re.compile(r"'(?:[^']|'')*'(?::[*A-D]+)?")
_PHRASE_OPERATOR = re.compile(r"<(?:\d+|-)>")
_OPERATOR_CHARS = re.compile(r'["]|(^|\s)-|\bor\b', re.IGNORECASE)
_PHONE_LIKE = re.compile(r"^[+()\d\s.\-]{5,}$")


@dataclass(frozen=True)
class MessageHit:
    message: Message
    conversation: Conversation
    snippet: SafeString
    rank: float
    # Set on the last hit of a page that has a next page: pass it back as `before`.
    cursor: str = ""


@dataclass(frozen=True)
class MessagePage:
    hits: list[MessageHit]
    next_cursor: str | None
    # "fts" when the full-text index answered, "substring" for the trigram fallback.
    mode: str


def clean_query(query: Any) -> str:
    """A query PostgreSQL accepts: text only, no NUL or control characters, no lone surrogates, capped."""
    if not isinstance(query, str):
        return ""
    text = query.encode("utf-8", "ignore").decode("utf-8")
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = text.replace(_START, " ").replace(_STOP, " ")
    return " ".join(text.split())[:MAX_QUERY_LENGTH].strip()


def _prefix_query(text: str) -> str:
    """`w1 & w2 & last:*` for to_tsquery('simple', …), so results follow what is being typed.

    Only \\w runs go in, which cannot form tsquery syntax. Queries with websearch operators (quotes, -,
    or) keep their exact meaning and get no prefix part.
    """
    if _OPERATOR_CHARS.search(text):
        return ""
    words = _WORD.findall(text.lower())[:8]
    if not words or len(words[-1]) < MIN_QUERY_LENGTH:
        return ""
    return " & ".join([*words[:-1], words[-1] + ":*"])


def _parse_query(text: str) -> tuple[str, list[tuple[str, str]]]:
    """The OR of the query under each configuration, and each (configuration, tsquery) that is not empty.

    A query that is only stop words under one configuration is empty there, not an error.
    """
    prefix = _prefix_query(text)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT websearch_to_tsquery('simple'::regconfig, %s)::text,"
            " websearch_to_tsquery('russian'::regconfig, %s)::text,"
            " websearch_to_tsquery('english'::regconfig, %s)::text,"
            " to_tsquery('simple'::regconfig, %s)::text",
            [text, text, text, prefix],
        )
        simple, russian, english, prefixed = cur.fetchone()
    parts = [("simple", simple), ("russian", russian), ("english", english)]
    if prefix:
        parts.append(("simple", prefixed))
    parts = [(config, query) for config, query in parts if query]
    # The same lexeme under two configurations ('manchest' in russian and english) is one posting list
    # to read, not two.
    distinct = dict.fromkeys(query for _, query in parts)
    return " | ".join(f"( {query} )" for query in distinct), parts


def _encode_cursor(*parts: object) -> str:
    raw = "|".join(str(p) for p in parts)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None, mode: str) -> tuple[float, datetime, int] | None:
    """(rank, created_at, id) from a cursor of this mode; anything else reads as the first page."""
    if not cursor or len(cursor) > 200:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, rank, created, pk = raw.split("|")
        when = parse_datetime(created)
        if kind != mode or when is None:
            return None
        return float(rank), when, int(pk)
    except (ValueError, UnicodeDecodeError):
        return None


def _cursor_mode(cursor: str | None) -> str | None:
    if not cursor:
        return None
    with contextlib.suppress(ValueError, UnicodeDecodeError):
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return raw.split("|", 1)[0]
    return None


def _visible_ids_sql(user, channel, status) -> tuple[str, tuple]:
    qs = visible_conversations(user)
    if status:
        qs = qs.filter(status=status)
    if channel is not None:
        qs = qs.filter(channel=channel)
    sql, params = qs.order_by().values("id").query.sql_with_params()
    return sql, tuple(params)


def _snippet(text: str) -> SafeString:
    escaped = escape(text)
    return mark_safe(escaped.replace(_START, "<mark>").replace(_STOP, "</mark>"))  # noqa: S308


def _highlight_substring(text: str, needle: str, width: int = 160) -> SafeString:
    found = text.lower().find(needle.lower())
    if found < 0:
        return _snippet(text[:width])
    start = max(0, found - width // 3)
    end = min(len(text), found + len(needle) + width)
    piece = text[start:found] + _START + text[found : found + len(needle)] + _STOP
    piece += text[found + len(needle) : end]
    return _snippet(("…" if start else "") + piece + ("…" if end < len(text) else ""))


def search_messages(
    user,
    query: Any,
    *,
    channel=None,
    status: str | None = None,
    limit: int = 20,
    before: str | None = None,
) -> MessagePage:
    """Messages in conversations the user may see, best match first, then most recent."""
    text = clean_query(query)
    limit = max(1, min(int(limit), MAX_LIMIT))
    if len(text) < MIN_QUERY_LENGTH:
        return MessagePage([], None, "fts")
    if connection.vendor != "postgresql":
        return _substring_messages(user, text, channel, status, limit, before)
    if _cursor_mode(before) != "substring":
        page = _fts_messages(user, text, channel, status, limit, before)
        if page.hits or before:
            return page
    # A query with search operators (a quoted phrase, -word, or) asked for exactly that; as a substring
    # it would match next to nothing, after reading the whole trigram index (seconds at ten million).
    if len(text) < MIN_SUBSTRING_LENGTH or _OPERATOR_CHARS.search(text):
        return MessagePage([], None, "fts")
    return _substring_messages(user, text, channel, status, limit, before)


def _without_phrases(tsquery_text: str) -> str:
    """The tsquery with each phrase operator (<->, <N>) outside quoted lexemes turned into AND."""
    parts = _TSQUERY_LEXEME.split(tsquery_text)
    lexemes = _TSQUERY_LEXEME.findall(tsquery_text)
    if any("!" in part for part in parts):
        # NOT (a AND b) matches fewer rows than NOT (a <-> b): only a superset may be fetched early.
        return tsquery_text
    out = [_PHRASE_OPERATOR.sub("&", parts[0])]
    for lexeme, rest in zip(lexemes, parts[1:], strict=True):
        out += [lexeme, _PHRASE_OPERATOR.sub("&", rest)]
    return "".join(out)


def _fts_messages(user, text, channel, status, limit, before) -> MessagePage:
    strict, per_config = _parse_query(text)
    if not strict:  # nothing searchable: only operators, or only stop words
        return MessagePage([], None, "fts")
    loose = _without_phrases(strict)
    # In the one indexed vector the configurations' positions follow each other, so a phrase could
    # match across their seam: phrases are confirmed on each configuration's own vector.
    exact = " OR ".join(
        f"to_tsvector('{config}'::regconfig, left(m.subject || ' ' || m.body, 100000)) @@ %s::tsquery"
        for config, _ in per_config
    )
    visible_sql, visible_params = _visible_ids_sql(user, channel, status)
    after = _decode_cursor(before, "fts")
    keyset, keyset_params = "", []
    if after:
        keyset = "WHERE (rank, created_at, id) < (%s::float8, %s, %s)"
        keyset_params = list(after)

    # Matches come from the stored document (the newest rows in order, or the GIN index) with a query
    # free of phrase operators (which would make PostgreSQL recheck every row). Phrases are then
    # checked on recent matches only, in order, until the candidate window is full; only the window is
    # ranked, and only the page gets a headline.
    # Only constants (config names are ours) and %s placeholders are formatted in; the visibility
    # subquery is Django-compiled.
    def by_index(since: datetime | None) -> tuple[str, list[Any]]:
        # The widest window has no date to narrow by: nothing to tempt the planner off the index.
        window = "" if since is None else "AND m.created_at >= %s"
        sql = f"""
            SELECT m.id, m.conversation_id, m.created_at
            FROM tickets_message m
            WHERE m.search_document @@ %s::tsquery {window}
        """  # noqa: S608 (a constant)
        return sql, [loose] if since is None else [loose, since]

    # The newest visible messages, matched one by one (the phrase check included), stopping as soon as
    # the window is full: a word in one message of a hundred fills it from there, without reading its
    # posting list (hundreds of thousands of entries in a large install). Pulling stops at the LIMIT,
    # so a common word reads a few hundred rows, a rarer one at most RECENT_SCAN_ROWS.
    newest_first = f"""
            SELECT m.id, m.created_at, m.subject, m.body, m.search_document FROM (
                SELECT id, created_at, subject, body, search_document
                FROM tickets_message WHERE conversation_id IN ({visible_sql})
                ORDER BY created_at DESC, id DESC LIMIT {RECENT_SCAN_ROWS}
            ) m
            WHERE m.search_document @@ %s::tsquery AND (%s OR {exact})
            LIMIT {CANDIDATES}
    """  # noqa: S608

    # Through the index: every match (of a recent window), the most recent visible ones in order, then
    # the phrase check on those until the window is full.
    def by_index_candidates(matches: str, visible: str) -> str:
        return f"""
        matches AS MATERIALIZED ({matches}),
        recent AS MATERIALIZED (
            SELECT id, created_at FROM matches
            WHERE {visible}
            ORDER BY created_at DESC, id DESC
            LIMIT {PHRASE_CANDIDATES}
        ),
        cand AS (
            SELECT m.id, m.created_at, m.subject, m.body, m.search_document
            FROM recent CROSS JOIN LATERAL (
                -- OFFSET 0 keeps this a primary-key lookup per recent row, in recency order, so the
                -- phrase check stops with the window full instead of rechecking every match.
                SELECT id, created_at, subject, body, search_document
                FROM tickets_message WHERE id = recent.id OFFSET 0
            ) m
            WHERE %s OR {exact}
            LIMIT {CANDIDATES}
        )"""  # noqa: S608

    def statement(candidates: str) -> str:
        return f"""
        WITH {candidates},
        ranked AS (
            SELECT id, created_at, subject, body,
                   ts_rank(search_document, %s::tsquery)::float8 AS rank
            FROM cand
        ),
        page AS (
            SELECT * FROM ranked {keyset} ORDER BY rank DESC, created_at DESC, id DESC LIMIT %s
        )
        SELECT id, rank, created_at, (SELECT count(*) FROM cand),
               ts_headline('russian'::regconfig,
                           translate(left(subject || E'\\n' || body, 20000), %s, ''),
                           %s::tsquery,
                           %s)
        FROM page ORDER BY rank DESC, created_at DESC, id DESC
    """  # noqa: S608

    phrase_check: list[Any] = [loose == strict, *[query for _, query in per_config]]
    rest: list[Any] = [
        strict,
        *keyset_params,
        limit + 1,
        _START + _STOP,
        strict,
        _HEADLINE_OPTIONS,
    ]
    # A common word matches a large share of all messages, and fetching every match is what grows with
    # the table. The candidates are the most recent matches, so look at the newest messages first,
    # then in recent weeks through the index, widening only while the window holds fewer than
    # CANDIDATES: the result is the same, the work much smaller.
    rows: list = []
    with transaction.atomic(), connection.cursor() as cur:
        # Planner settings for this transaction only, in one round trip:
        # - parallel workers take longer to start than these statements take to stop at their LIMIT;
        # - each statement checks visibility on at most a few thousand matches, one primary-key lookup
        #   each; hashing or merging every visible conversation instead (a quarter million for one team
        #   at a million conversations), which the planner picks when it overestimates the matches,
        #   costs 200-300 ms;
        # - a memoized lookup sizes its cache for every conversation the planner expects: allocating it
        #   took longer (10 ms) than the lookups it saves.
        cur.execute(
            "SELECT set_config('max_parallel_workers_per_gather', '0', true),"
            " set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true),"
            " set_config('enable_memoize', 'off', true)"
        )
        if _common_enough(cur, [query for _, query in per_config]):
            cur.execute(
                statement(f"cand AS ({newest_first})"), [*visible_params, loose, *phrase_check, *rest]
            )
            rows = cur.fetchall()
            if rows and rows[0][3] >= CANDIDATES:
                return _page([(pk, rank, created, h) for pk, rank, created, _, h in rows], limit, "fts")
        cur.execute("SELECT max(created_at) FROM tickets_message")
        newest = cur.fetchone()[0]
        windows = [newest - span for span in RECENT_WINDOWS] if newest else []
        visible = f"conversation_id IN ({visible_sql})"
        for since in [*windows, None]:
            matches, window = by_index(since)
            params = [*window, *visible_params, *phrase_check, *rest]
            cur.execute(statement(by_index_candidates(matches, visible)), params)
            rows = cur.fetchall()
            if rows and rows[0][3] >= CANDIDATES:
                break
    return _page([(pk, rank, created, headline) for pk, rank, created, _, headline in rows], limit, "fts")


def _common_enough(cur, alternatives: list[str]) -> bool:
    """Whether the newest RECENT_SCAN_ROWS messages should hold twice CANDIDATES matches (a pass that
    comes up short costs its scan and then the index's time too), by the planner's statistics.

    Each alternative is the query under one configuration, mostly the same words, so the most common
    one counts. Within one, words that are asked for together usually occur together (a phrase, an
    order number's parts), so it is as common as its rarest word: PostgreSQL's own estimate multiplies
    their shares, and at ten million messages it sent two common words to the index (200 ms) instead
    of the newest messages (20 ms). A table that small is read whole by the pass anyway (also before
    its first ANALYZE, when PostgreSQL counts -1 rows).
    """
    total = _estimated_rows(cur, "")
    if total <= RECENT_SCAN_ROWS:
        return True
    best = 0.0
    for tsquery in dict.fromkeys(alternatives):
        terms = _TSQUERY_TERM.findall(tsquery)
        compact = tsquery.replace(" ", "")
        words = [term for term in terms if f"!{term}" not in compact] or terms  # not-words narrow nothing
        best = max(best, min((_estimated_rows(cur, word) for word in words), default=0.0))
    return best * RECENT_SCAN_ROWS >= total * CANDIDATES * 2


# Row estimates change with ANALYZE, not with each query: kept a few minutes per process.
_ESTIMATE_SECONDS = 300.0
_estimates: dict[str, tuple[float, float]] = {}


def _estimated_rows(cur, lexeme: str) -> float:
    """The planner's estimate of messages matching one quoted tsquery lexeme ("" for all messages)."""
    now = time.monotonic()
    known = _estimates.get(lexeme)
    if known is not None and now - known[1] < _ESTIMATE_SECONDS:
        return known[0]
    if not lexeme:
        cur.execute("SELECT reltuples FROM pg_class WHERE oid = 'tickets_message'::regclass")
        rows = float(cur.fetchone()[0])
    else:
        # A prefix (:*) stays on the lexeme it belongs to: it is part of what is matched.
        explain = "EXPLAIN (FORMAT JSON) SELECT 1 FROM tickets_message WHERE search_document @@ %s::tsquery"
        cur.execute(explain, [lexeme])
        rows = float(cur.fetchone()[0][0]["Plan"]["Plan Rows"])
    if len(_estimates) > 10_000:
        _estimates.clear()
    _estimates[lexeme] = (rows, now)
    return rows


def _substring_messages(user, text, channel, status, limit, before) -> MessagePage:
    visible = visible_conversations(user)
    if status:
        visible = visible.filter(status=status)
    if channel is not None:
        visible = visible.filter(channel=channel)
    qs = Message.objects.filter(conversation__in=visible.order_by().values("id"))
    if connection.vendor == "postgresql":
        qs = qs.extra(where=[f"{MESSAGE_TEXT} ILIKE %s"], params=[_like_pattern(text)])  # noqa: S610
    else:
        qs = qs.filter(Q(body__icontains=text) | Q(subject__icontains=text))
    after = _decode_cursor(before, "substring")
    if after:
        _, created, pk = after
        qs = qs.filter(Q(created_at__lt=created) | Q(created_at=created, id__lt=pk))
    found = list(
        qs.order_by("-created_at", "-id").values_list("id", "created_at", "subject", "body")[: limit + 1]
    )
    rows = [
        (pk, 0.0, created, _highlight_substring(f"{subject}\n{body}".strip(), text))
        for pk, created, subject, body in found
    ]
    return _page(rows, limit, "substring", highlighted=True)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _page(rows: list, limit: int, mode: str, *, highlighted: bool = False) -> MessagePage:
    has_more = len(rows) > limit
    rows = rows[:limit]
    messages = Message.objects.select_related(
        "conversation__customer", "conversation__channel", "channel"
    ).in_bulk([row[0] for row in rows])
    hits: list[MessageHit] = []
    for pk, rank, created, headline in rows:
        message = messages.get(pk)
        if message is None:
            continue
        snippet = headline if highlighted else _snippet(headline or "")
        cursor = _encode_cursor(mode, repr(float(rank)), created.isoformat(), pk)
        hits.append(MessageHit(message, message.conversation, snippet, float(rank), cursor))
    next_cursor = hits[-1].cursor if has_more and hits else None
    return MessagePage(hits, next_cursor, mode)


def _customers_visible_to(user) -> Any:
    qs = Customer.objects.filter(merged_into__isnull=True, erased_at__isnull=True)
    if user is None or user.has_perm(roles.VIEW_CUSTOMERS) or user.has_perm(roles.VIEW_ALL_CONVERSATIONS):
        return qs
    return qs.filter(id__in=visible_conversations(user).order_by().values("customer_id"))


def _identity_candidates(text: str) -> list[str]:
    """Exact identity values the query could be: as typed, as an e-mail, as an E.164 phone."""
    from profiles.normalize import NormalizationError, normalize_email, normalize_phone

    values = {text, text.lower()}
    with contextlib.suppress(NormalizationError):
        values.add(normalize_email(text))
    if _PHONE_LIKE.match(text):
        for region in ("", "RU", "PL", "GB", "US"):
            with contextlib.suppress(NormalizationError):
                values.add(normalize_phone(text, region))
    return sorted(values)


def search_customers(user_or_none, query: Any, limit: int = 20) -> list[Customer]:
    """Customers by name or company (typo-tolerant), or by identity value (exact, or a substring)."""
    text = clean_query(query)
    limit = max(1, min(int(limit), MAX_LIMIT))
    if len(text) < MIN_QUERY_LENGTH:
        return []
    base = _customers_visible_to(user_or_none)
    exact_ids = list(
        Identity.objects.filter(value__in=_identity_candidates(text)).values_list("customer_id", flat=True)[
            :limit
        ]
    )
    digits = re.sub(r"\D", "", text)
    if len(text) < MIN_SUBSTRING_LENGTH:
        # No trigram in it, so a substring or typo match would read every name and identity (0.4 s at
        # half a million customers) for a query that is mostly still being typed: exact identities only.
        found = base.filter(id__in=exact_ids)
        return sorted(found.prefetch_related("identities"), key=lambda c: (c.name.lower(), c.pk))[:limit]
    if connection.vendor != "postgresql":
        match = Q(name__icontains=text) | Q(company__icontains=text) | Q(identities__value__icontains=text)
        found = list(base.filter(match | Q(id__in=exact_ids)).distinct().order_by("name", "id")[:limit])
        return found
    substring_values = [_like_pattern(text)]
    if _PHONE_LIKE.match(text) and len(digits) >= 5:
        substring_values.append(_like_pattern(digits))
    identity_sql = " OR ".join(["i.value ILIKE %s"] * len(substring_values))
    # word_similarity (<%) forgives a typo in one word of a longer name: "Kowalsca" finds "Anna Kowalska".
    # One branch per condition: with them OR-ed the planner prices a scan of a mid-sized table below the
    # index, not knowing that similarity costs microseconds a row.
    sql = f"""
        SELECT id, word_similarity(%s, name) AS score FROM profiles_customer WHERE %s <%% name
        UNION ALL
        SELECT id, word_similarity(%s, company) FROM profiles_customer WHERE %s <%% company
        UNION ALL
        SELECT id, 0.8 FROM profiles_customer WHERE name ILIKE %s
        UNION ALL
        SELECT id, 0.7 FROM profiles_customer WHERE company ILIKE %s
        UNION ALL
        SELECT i.customer_id, 0.9 FROM profiles_identity i WHERE {identity_sql}
        UNION ALL
        SELECT unnest(%s::bigint[]), 2.0
    """  # noqa: S608 (placeholders only)
    like = _like_pattern(text)
    params: list[Any] = [text, text, text, text, like, like, *substring_values, exact_ids]
    scores: dict[int, float] = {}
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT id, max(score) AS s FROM ({sql}) t GROUP BY id ORDER BY s DESC, id DESC LIMIT 500",  # noqa: S608
            params,
        )
        for pk, score in cur.fetchall():
            scores[pk] = float(score)
    customers = base.filter(id__in=list(scores)).prefetch_related("identities")
    ranked = sorted(customers, key=lambda c: (-scores[c.pk], c.name.lower(), c.pk))
    return ranked[:limit]
