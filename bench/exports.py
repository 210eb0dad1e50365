"""Export benchmark: row-level conversation and answer exports, CSV and XLSX, at 100k and 1M rows.

    .venv/bin/python bench/exports.py --rows 1000000 --small 100000

It migrates a separate database (default postgres://postgres@127.0.0.1:5432/cxm_bench_exports), loads
`--rows` conversations over two years, one survey answer for each, their reporting facts (the rows
the exports join), labels on a third of them and `--rows / 4` customers, all with PostgreSQL COPY
(once: a rerun with the same size reuses them). Then each export (conversations and answers, CSV and
XLSX) runs for a date range holding about `--small` rows and for the whole two years, each in a fresh
process so its peak memory is its own (two at a time, one per core, biggest first): the export view
(filters, drill, visibility, server-side cursor, formatting) is called and its body read to the end.
Reported per run: rows, seconds, rows/s, bytes, the process's RSS before the request and its peak
(ru_maxrss) after.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import setup_django  # noqa: E402

DATABASE = "postgres://postgres@127.0.0.1:5432/cxm_bench_exports"
REDIS = "redis://127.0.0.1:6379/14"
END = datetime(2026, 12, 1, tzinfo=UTC)
SPAN = timedelta(days=730)
MARK = "Bench export"


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def load(rows: int) -> None:
    from django.db import connection

    from accounts.models import Team
    from accounts.roles import Role
    from accounts.services import do_create_user
    from channels_app.models import Channel
    from surveys.models import Survey, SurveyKind
    from tickets.models import Conversation, Label

    if Conversation.objects.filter(subject__startswith=MARK).count() == rows:
        print(f"reusing {rows} bench conversations")
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE analytics_conversationfact, analytics_answerfact, surveys_surveyresponse, "
            "surveys_survey, tickets_conversation_labels, tickets_label, tickets_message, "
            "tickets_conversation, "
            "profiles_customer, channels_app_channel_teams, channels_app_channel, accounts_team_members, "
            "accounts_team, accounts_user RESTART IDENTITY CASCADE"
        )
    channels = [
        Channel.objects.create(kind=kind, name=f"Bench {kind}")
        for kind in ("email", "sms", "whatsapp", "telegram")
    ]
    teams = [Team.objects.create(name=f"Bench team {n}") for n in range(3)]
    agents = []
    for n in range(6):
        agent = do_create_user(
            username=f"bench.agent{n}", password=None, role=Role.AGENT, first_name=f"Agent {n}"
        )
        agent.teams.add(teams[n % 3])
        agents.append(agent)
    do_create_user(username="bench.admin", password=None, role=Role.ADMIN)
    labels = [Label.objects.create(name=name) for name in ("refund", "vip", "delivery")]
    survey = Survey.objects.create(kind=SurveyKind.CSAT, name="Bench CSAT", scale_max=5)
    customers = max(1, rows // 4)
    step = SPAN / rows
    start = END - SPAN
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(
            "COPY profiles_customer (id, name, locale, timezone, company, location, attributes, created_at, "
            "consent) FROM STDIN"
        ) as copy:
            for i in range(1, customers + 1):
                name = f"=Bench {i}" if i % 50 == 0 else f"Bench customer {i}"  # some need neutralising
                copy.write_row((i, name, "en", "", "", "", "{}", start, "{}"))
        with raw.copy(
            "COPY tickets_conversation (id, customer_id, channel_id, subject, status, priority, assignee_id, "
            "team_id, created_at, last_activity_at, first_response_at, resolved_at) FROM STDIN"
        ) as copy:
            for i in range(1, rows + 1):
                created = start + step * i
                resolved = created + timedelta(hours=3) if i % 10 else None
                copy.write_row((
                    i, (i % customers) + 1, channels[i % 4].pk, f"{MARK} {i}: where is my order?",
                    "resolved" if resolved else "open", "normal", agents[i % 6].pk, teams[i % 3].pk, created,
                    created + timedelta(hours=2), created + timedelta(minutes=i % 90 + 1), resolved,
                ))  # fmt: skip
        with raw.copy(
            "COPY analytics_conversationfact (conversation_id, created_at, channel_id, team_id, assignee_id, "
            "customer_id, status, resolved_at, first_response_at, first_response_seconds, "
            "first_response_business_seconds, resolution_seconds, resolution_business_seconds, reopen_count, "
            "reopen_times, inbound_messages, outbound_messages, breaches_first_response, "
            "breaches_next_response, "
            "breaches_resolution, csat_score) FROM STDIN"
        ) as copy:
            for i in range(1, rows + 1):
                created = start + step * i
                first = (i % 90 + 1) * 60.0
                resolved = created + timedelta(hours=3) if i % 10 else None
                copy.write_row((
                    i, created, channels[i % 4].pk, teams[i % 3].pk, agents[i % 6].pk, (i % customers) + 1,
                    "resolved" if resolved else "open", resolved, created + timedelta(seconds=first), first,
                    first / 2, 10800.0 if resolved else None, 5400.0 if resolved else None, 0, "{}", 3, 2,
                    int(i % 40 == 0), 0, 0, 1 + i % 5,
                ))  # fmt: skip
        with raw.copy("COPY tickets_conversation_labels (conversation_id, label_id) FROM STDIN") as copy:
            for i in range(3, rows + 1, 3):
                copy.write_row((i, labels[i % 3].pk))
        with raw.copy(
            "COPY surveys_surveyresponse (id, survey_id, customer_id, conversation_id, channel_id, agent_id, "
            "medium, locale, score, comment, answers, is_complete, created_at) FROM STDIN"
        ) as copy:
            for i in range(1, rows + 1):
                answered = start + step * i + timedelta(hours=4)
                comment = "-2 stars: the courier was late" if i % 5 == 0 else ""
                copy.write_row((
                    i, survey.pk, (i % customers) + 1, i, channels[i % 4].pk, agents[i % 6].pk, "email", "en",
                    1 + i % 5, comment, "{}", True, answered,
                ))  # fmt: skip
        with raw.copy(
            "COPY analytics_answerfact (response_id, created_at, survey_id, channel_id, team_id, agent_id, "
            "conversation_id, customer_id, medium, language, score, has_comment) FROM STDIN"
        ) as copy:
            for i in range(1, rows + 1):
                answered = start + step * i + timedelta(hours=4)
                copy.write_row((
                    i, answered, survey.pk, channels[i % 4].pk, teams[i % 3].pk, agents[i % 6].pk, i,
                    (i % customers) + 1, "email", "en", 1 + i % 5, i % 5 == 0,
                ))  # fmt: skip
        for table in ("profiles_customer", "tickets_conversation", "surveys_surveyresponse"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")  # noqa: S608
        cursor.execute("ANALYZE")
    print(f"loaded {rows} conversations and answers in {time.perf_counter() - started:.1f} s")


def measure(kind: str, fmt: str, first: str, last: str) -> dict:
    """One export in this (fresh) process: the view called, its body read to the end."""
    from django.test import RequestFactory

    from accounts.models import User
    from analytics import exports_views

    view = {"conversations": exports_views.export_conversations, "answers": exports_views.export_answers}[
        kind
    ]
    query = {"from": first, "to": last, "tz": "UTC", "export": fmt}
    request = RequestFactory(HTTP_HOST="localhost").get("/", query)
    request.user = User.objects.get(username="bench.admin")
    rss_before = _rss_kb()
    started = time.perf_counter()
    response = view(request)
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        if fmt == "csv":
            lines += chunk.count(b"\n")
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "seconds": seconds,
        "bytes": size,
        "csv_rows": lines - 1,
        "rss_before_kb": rss_before,
        "peak_kb": peak,
    }


def run_all(jobs: list[tuple[str, str, str, str]], env: dict[str, str]) -> dict[tuple, dict]:
    """Each export (kind, format, from, to) in its own process, two at a time (one per core), biggest
    first; rows/s of each is measured while another export competes for the machine."""
    results: dict[tuple, dict] = {}
    pending = list(jobs)
    running: list[tuple[tuple, subprocess.Popen]] = []
    while pending or running:
        while pending and len(running) < 2:
            job = pending.pop(0)
            command = [sys.executable, __file__, "--measure", *job,
                       "--database-url", env["DATABASE_URL"], "--redis-url", env["REDIS_URL"]]  # fmt: skip
            running.append(
                (job, subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True))
            )
        job, process = running.pop(0)
        output, _ = process.communicate()
        if process.returncode:
            raise SystemExit(f"export {job} failed")
        results[job] = json.loads(output.strip().splitlines()[-1])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--database-url", default=DATABASE)
    parser.add_argument("--redis-url", default=REDIS)
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument(
        "--measure", nargs=4, metavar=("KIND", "FORMAT", "FROM", "TO"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    env = {**os.environ, "DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url, "DEBUG": "0",
           "LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "cxm.settings"}  # fmt: skip
    if args.measure:
        os.environ.update(env)
        import django

        django.setup()
        print(json.dumps(measure(*args.measure)))
        return
    setup_django(args.database_url, args.redis_url)
    load(args.rows)
    from django.db.models import Count

    from analytics.models import AnswerFact, ConversationFact

    last_day = (END - timedelta(days=1)).date()
    days = max(1, round(SPAN.days * args.small / args.rows))
    ranges = [((END - timedelta(days=days)).date(), last_day), ((END - SPAN).date(), last_day)]
    counts = {}
    jobs = []
    for first, last in reversed(ranges):  # the biggest exports first
        lo = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
        for kind, model in (("conversations", ConversationFact), ("answers", AnswerFact)):
            counts[(kind, first)] = model.objects.filter(created_at__gte=lo, created_at__lt=END).aggregate(
                n=Count("pk")
            )["n"]
            jobs += [(kind, fmt, first.isoformat(), last.isoformat()) for fmt in args.formats.split(",")]
    jobs.sort(key=lambda job: (job[2], job[1] != "xlsx", job[0] != "conversations"))  # slowest first
    started = time.perf_counter()
    results = run_all(jobs, env)
    print(f"exports done in {time.perf_counter() - started:.0f} s (two at a time)")
    print(f"{'export':<14} {'format':<5} {'rows':>9} {'seconds':>8} {'rows/s':>8} {'MB':>7} "
          f"{'RSS before':>11} {'peak RSS':>9}")  # fmt: skip
    for job in sorted(results, key=lambda job: (job[2] != ranges[0][0].isoformat(), job[1], job[0])):
        kind, fmt, first_day, _last = job
        result, rows = results[job], counts[(kind, datetime.fromisoformat(first_day).date())]
        if fmt == "csv":
            assert result["csv_rows"] == rows, (result, rows)
        print(
            f"{kind:<14} {fmt:<5} {rows:>9} {result['seconds']:>8.1f} {rows / result['seconds']:>8.0f} "
            f"{result['bytes'] / 1e6:>7.1f} {result['rss_before_kb'] / 1024:>9.0f}MB "
            f"{result['peak_kb'] / 1024:>7.0f}MB"
        )


if __name__ == "__main__":
    main()
