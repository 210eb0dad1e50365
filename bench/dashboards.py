"""Dashboard benchmark: every dashboard view at two years of history, server time per request.

    .venv/bin/python bench/dashboards.py --conversations 1000000 --messages 10000000 --answers 2000000

It migrates a separate database (default postgres://postgres@127.0.0.1:5432/cxm_bench_dashboards) and
loads, with PostgreSQL COPY, two years of history ending today: conversations on 8 channels of 5 teams
handled by 40 agents (busier on weekdays and office hours, most resolved, first replies and resolutions
spread over minutes to days), their messages (customer and agent turns), survey invitations and answers
(NPS, CSAT 1-5, CSAT 1-3, CES; a fifth with a comment) tied to those conversations and agents. A rerun
with the same sizes reuses the data. The message search indexes are dropped for the load and not
rebuilt: no dashboard reads them, and building them for ten million rows takes longer than the rest.

Then it rebuilds the reporting store as an upgrade would (`rebuild_reporting`, timed) and, with DEBUG
off, requests every dashboard view through Django's whole request cycle as a manager and as an agent
who sees one team, for the whole two years and for the narrowest filters (one agent, one channel, one
week), and prints p50/p95/p99 and the number of queries of each.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import percentile, setup_django  # noqa: E402

TEAMS = 5
AGENTS = 40
CHANNEL_KINDS = ("email", "telegram", "whatsapp", "webchat", "email", "sms", "messenger", "api")
SURVEYS = (("nps", None), ("csat", 5), ("csat", 3), ("ces", None))
PASSWORD = "bench-password-123"
COMMENTS = (
    "Delivery took two weeks, nobody answered.",
    "Quick and friendly, thank you!",
    "Доставка опоздала, курьер не позвонил.",
    "Спасибо, всё быстро решили.",
    "Zwrot pieniędzy trwa za długo.",
    "Bardzo miła obsługa, polecam.",
)


def hour_weight(at: datetime) -> float:
    """Fewer conversations at night and on weekends, so the heat map has a shape."""
    night = 0.2 if at.hour < 7 or at.hour >= 21 else 1.0
    return night * (0.4 if at.weekday() >= 5 else 1.0)


def creation_times(count: int, start: datetime, days: int, rng: random.Random) -> list[datetime]:
    """`count` times over `days` days, shaped by hour and weekday, slowly growing, sorted."""
    times: list[datetime] = []
    span = days * 86400
    while len(times) < count:
        # Growth: later days are up to 50% busier (inverse of a linear density).
        u = rng.random()
        offset = span * (math.sqrt(1 + 3 * u) - 1)
        at = start + timedelta(seconds=min(span - 1, offset))
        if rng.random() <= hour_weight(at):
            times.append(at)
    times.sort()
    return times


def load(args) -> None:
    from django.db import connection

    from accounts.models import Team, User
    from accounts.services import do_create_user
    from channels_app.services import do_create_channel
    from surveys.models import Survey
    from tickets.models import Conversation

    have = Conversation.objects.count()
    if have >= args.conversations:
        print(f"reusing {have} bench conversations")
        return
    if have:
        sys.exit(f"{have} conversations already in the bench database; drop it or pass the same sizes")
    rng = random.Random(20261208)
    teams = [Team.objects.get_or_create(name=f"Bench team {t}")[0] for t in range(TEAMS)]
    channels = []
    for c, kind in enumerate(CHANNEL_KINDS):
        channel = do_create_channel(kind=kind, name=f"Bench {c}")
        channel.teams.set([teams[c % TEAMS]])
        channels.append((channel.pk, c % TEAMS))
    agents_by_team: dict[int, list[int]] = {t: [] for t in range(TEAMS)}
    for a in range(AGENTS):
        user = do_create_user(username=f"bench-agent-{a}", password=PASSWORD, role="agent")
        user.teams.set([teams[a % TEAMS]])
        agents_by_team[a % TEAMS].append(user.pk)
    if not User.objects.filter(username="bench-manager").exists():
        do_create_user(username="bench-manager", password=PASSWORD, role="manager")
    surveys = [
        Survey.objects.create(kind=kind, name=f"Bench {kind} {scale or ''}", scale_max=scale)
        for kind, scale in SURVEYS
    ]
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(days=730)
    customers = max(1, args.conversations // 3)
    per_conversation = max(2, args.messages // args.conversations)
    started = time.perf_counter()
    times = creation_times(args.conversations, start, 730, rng)
    # Agent 7 answers slowly; channel 2 has a bad week five weeks ago.
    slow_agent = agents_by_team[7 % TEAMS][1]
    bad_week = (now - timedelta(weeks=5), now - timedelta(weeks=4))
    conversation_rows = []
    with connection.cursor() as cursor:
        from bench.inbox_search import search_index_sql

        for name, _ in search_index_sql():
            if name.startswith("msg_"):
                cursor.execute(f"DROP INDEX IF EXISTS {name}")
        with cursor.cursor.copy(
            "COPY profiles_customer (id, name, locale, timezone, company, location, attributes, created_at, "
            "consent) FROM STDIN"
        ) as copy:
            for c in range(1, customers + 1):
                copy.write_row((c, f"Customer {c}", "", "", "", "", "{}", start, "{}"))
        with cursor.cursor.copy(
            "COPY tickets_conversation (id, customer_id, channel_id, team_id, assignee_id, subject, status, "
            "priority, created_at, last_activity_at, first_response_at, resolved_at) FROM STDIN"
        ) as copy:
            for v, created in enumerate(times, start=1):
                channel_id, team = channels[rng.randrange(len(channels))]
                agent = rng.choice(agents_by_team[team])
                first = rng.lognormvariate(math.log(1800), 1.2)
                if agent == slow_agent:
                    first *= 4
                if channel_id == channels[2][0] and bad_week[0] <= created < bad_week[1]:
                    first *= 6
                resolution = first + rng.lognormvariate(math.log(6 * 3600), 1.0)
                first_at = created + timedelta(seconds=first)
                resolved_at = created + timedelta(seconds=resolution)
                resolved = resolved_at < now and rng.random() < 0.97
                status = "resolved" if resolved else "open"
                last = min(resolved_at if resolved else first_at, now)
                copy.write_row((
                    v, 1 + rng.randrange(customers), channel_id, teams[team].pk, agent, "", status, "normal",
                    created, last, first_at if first_at < now else None, resolved_at if resolved else None,
                ))  # fmt: skip
                conversation_rows.append((v, channel_id, agent, created, first, resolution))
        message_id = 0
        with cursor.cursor.copy(
            "COPY tickets_message (id, conversation_id, channel_id, direction, author_id, body, subject, "
            "html, full_text, metadata, created_at) FROM STDIN"
        ) as copy:
            for v, channel_id, agent, created, first, resolution in conversation_rows:
                step = (resolution - first) / max(1, per_conversation - 2)
                for m in range(per_conversation):
                    if m == 0:
                        at, direction, author = created, "in", None
                    elif m == 1:
                        at, direction, author = created + timedelta(seconds=first), "out", agent
                    else:
                        outbound = m % 2 == 1
                        at = created + timedelta(seconds=first + step * (m - 1))
                        direction, author = ("out", agent) if outbound else ("in", None)
                    if at > now:
                        break
                    message_id += 1
                    body = "Where is my order?" if direction == "in" else "It is on its way."
                    copy.write_row((message_id, v, channel_id, direction, author, body, "", "", "", "{}", at))
        answer_id = 0
        with (
            cursor.cursor.copy(
                "COPY surveys_invitation (id, survey_id, customer_id, conversation_id, channel_id, agent_id, "
                "token, medium, trigger, status, reason, recipient, locale, created_at, sent_at, expires_at, "
                "answered_at) FROM STDIN"
            ) as invitations,
        ):
            per = args.answers / len(conversation_rows)
            invitation_rows = []
            for v, channel_id, agent, created, _first, resolution in conversation_rows:
                asked = created + timedelta(seconds=resolution + 600)
                if asked > now:
                    continue
                # About 1.3 invitations per answer: a quarter of invitations go unanswered.
                for k in range(int(per * 1.3) + (rng.random() < (per * 1.3) % 1)):
                    survey = surveys[(v + k) % len(surveys)]
                    answered = rng.random() < 0.77
                    answer_at = asked + timedelta(minutes=rng.randint(1, 600))
                    iid = len(invitation_rows) + 1
                    invitations.write_row((
                        iid, survey.pk, 1 + v % customers, v, channel_id, agent, f"bench-{iid}", "email",
                        "resolved", "answered" if answered else "sent", "", "", "en", asked, asked,
                        asked + timedelta(days=14), answer_at if answered else None,
                    ))  # fmt: skip
                    if answered:
                        invitation_rows.append((iid, survey, v, channel_id, agent, answer_at))
                    else:
                        invitation_rows.append(None)
        with cursor.cursor.copy(
            "COPY surveys_surveyresponse (id, survey_id, invitation_id, customer_id, conversation_id, "
            "channel_id, agent_id, medium, locale, score, comment, answers, is_complete, created_at) "
            "FROM STDIN"
        ) as answers:
            for row in invitation_rows:
                if row is None:
                    continue
                iid, survey, v, channel_id, agent, answer_at = row
                low, high = survey.scale
                score = min(high, max(low, round(rng.triangular(low, high, high - (high - low) / 4))))
                if agent == slow_agent and rng.random() < 0.3:
                    score = low
                answer_id += 1
                comment = rng.choice(COMMENTS) if rng.random() < 0.2 else ""
                answers.write_row((
                    answer_id, survey.pk, iid, 1 + v % customers, v, channel_id, agent, "email",
                    rng.choice(("en", "ru", "pl")), score, comment, "{}", True, answer_at,
                ))  # fmt: skip
        for table in (
            "profiles_customer", "tickets_conversation", "tickets_message", "surveys_invitation",
            "surveys_surveyresponse",
        ):  # fmt: skip
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")  # noqa: S608
        cursor.execute("ANALYZE")
    print(
        f"loaded {len(conversation_rows)} conversations, {message_id} messages, {answer_id} answers, "
        f"{customers} customers in {time.perf_counter() - started:.0f} s"
    )


def rebuild() -> None:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("rebuild_reporting", verbosity=0)
    print(f"rebuild_reporting: {time.perf_counter() - started:.0f} s")


def timed(client, url: str, requests: int) -> str:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # templates compiled, plans cached: a serving process is warm
    timings = []
    for _ in range(requests):
        began = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return (
        f"p50 {statistics.median(timings):6.1f} ms, p95 {percentile(timings, 95):6.1f} ms, "
        f"p99 {percentile(timings, 99):6.1f} ms, {len(captured.captured_queries)} queries"
    )


VIEWS = (
    "dashboards", "dashboards_operations", "dashboards_surveys", "dashboards_people", "dashboards_journey",
    "dashboards_loop",
)  # fmt: skip


def measure(requests: int) -> None:
    from django.contrib.auth.models import Permission
    from django.test import Client
    from django.urls import reverse

    from accounts.models import User
    from accounts.roles import VIEW_DASHBOARDS
    from channels_app.models import Channel

    now = datetime.now(UTC)
    whole = f"from={(now - timedelta(days=729)).date()}&to={now.date()}"
    week = f"from={(now - timedelta(days=6)).date()}&to={now.date()}"
    agent = User.objects.get(username="bench-agent-1")
    # Agents see dashboards only when granted; this one is, so its numbers go through the visibility rules.
    app_label, codename = VIEW_DASHBOARDS.split(".")
    agent.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    agent = User.objects.get(pk=agent.pk)
    channel = Channel.objects.filter(teams__members=agent).order_by("pk").first()
    narrow = f"{week}&agent={agent.pk}&channel={channel.pk if channel else ''}"
    manager = User.objects.get(username="bench-manager")
    for label, user in (("manager", manager), ("agent, one team", agent)):
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        for name in VIEWS:
            for scope, query in (("two years", whole), ("one agent, one channel, one week", narrow)):
                url = f"{reverse(name)}?{query}"
                print(f"{name:24} {label:16} {scope:34} {timed(client, url, requests)}")
        if user == agent:
            url = f"{reverse('dashboards_me')}?{whole}"
            print(f"{'dashboards_me':24} {label:16} {'two years':34} {timed(client, url, requests)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=10_000_000)
    parser.add_argument("--answers", type=int, default=2_000_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--skip-rebuild", action="store_true", help="reuse the reporting store as it is")
    parser.add_argument("--load-only", action="store_true", help="load and rebuild, measure nothing")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/cxm_bench_dashboards")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args()
    setup_django(args.database_url, args.redis_url)
    load(args)
    if not args.skip_rebuild:
        rebuild()
    if not args.load_only:
        measure(args.requests)


if __name__ == "__main__":
    main()
