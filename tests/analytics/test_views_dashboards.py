"""The dashboard pages on a small hand-made workspace: who may open what, what an agent's numbers
include, filters in the URL, bounded queries, and every number's drill-down list holding exactly that
many rows."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from accounts.services import do_create_user
from analytics.filters import DashboardFilters
from profiles.models import Segment
from surveys.models import Survey, SurveyKind, SurveyResponse
from tests.analytics import reporting_builders as rb
from tickets.models import Label

pytestmark = pytest.mark.django_db

PAGES = (
    "dashboards",
    "dashboards_operations",
    "dashboards_surveys",
    "dashboards_loop",
    "dashboards_people",
    "dashboards_journey",
    "dashboards_me",
)
DRILL_LINK = re.compile(r'<a [^>]*href="([^"]+)"[^>]*data-drill-count="(\d+)"')
DRILL_COUNT = re.compile(r'data-testid="drill-count" data-count="(\d+)"')


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def ws():
    return build_workspace()


def build_workspace():
    """Four conversations of the last days and four answers.

    ann (team red, whose channel is sms) sees c1 and c2 (sms) and c4 (routed to red), not c3 (mail,
    no team, bob's); the widget answer belongs to no conversation, so everyone sees it.
    """
    shop = rb.shop()
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    day = timedelta(days=1)
    c1 = rb.conversation(shop.sms, now - 3 * day, team=shop.red, assignee=shop.ann)
    rb.inbound(c1, now - 3 * day)
    rb.reply(c1, now - 3 * day + timedelta(minutes=10), shop.ann)
    rb.resolve(c1, now - 3 * day + timedelta(hours=1))
    c2 = rb.conversation(shop.sms, now - 2 * day, team=shop.red)
    rb.inbound(c2, now - 2 * day)
    c3 = rb.conversation(shop.mail, now - 1 * day, assignee=shop.bob)
    rb.inbound(c3, now - 1 * day)
    rb.reply(c3, now - 1 * day + timedelta(minutes=30), shop.bob)
    c4 = rb.conversation(shop.mail, now - 1 * day, team=shop.red)
    rb.inbound(c4, now - 1 * day)
    nps = Survey.objects.create(kind=SurveyKind.NPS, name="After chat NPS")
    csat = Survey.objects.create(kind=SurveyKind.CSAT, name="Support CSAT", scale_max=5)

    def answer(survey, score, conv, comment="", agent=None):
        return SurveyResponse.objects.create(
            survey=survey,
            score=score,
            created_at=now - timedelta(hours=20),
            conversation=conv,
            channel=conv.channel if conv else None,
            customer=conv.customer if conv else None,
            agent=agent,
            comment=comment,
            medium="sms",
            locale="en",
        )

    answer(nps, 10, c1, "Ann was great, thank you", agent=shop.ann)
    answer(nps, 3, c3, "Slow answer, SECRETMAIL", agent=shop.bob)
    answer(csat, 5, c4, "")
    answer(nps, 9, None, "Nice shop")
    c2.labels.add(Label.objects.create(name="billing"))
    Segment.objects.create(name="Everyone", definition=[])
    call_command("rebuild_reporting", verbosity=0)
    from analytics.answer_refresh import rebuild_all

    rebuild_all()
    admin = do_create_user(username="boss", password=None, role=Role.ADMIN)
    shop.admin = admin  # type: ignore[attr-defined]
    shop.conversations = (c1, c2, c3, c4)  # type: ignore[attr-defined]
    return shop


def _grant_dashboards(user) -> None:
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="analytics", codename="view_dashboards")
    )


def _headline_count(body: str, key: str) -> int:
    block = body.split(f'data-testid="headline-{key}"', 1)[1].split("</article>", 1)[0]
    return int(re.search(r'data-drill-count="(\d+)"', block).group(1))


def test_every_dashboard_renders_for_manager_and_admin(ws):
    for user in (ws.manager, ws.admin):
        client = _client(user)
        for name in PAGES:
            response = client.get(reverse(name))
            assert response.status_code == 200, (user.role, name)
            body = response.content.decode()
            assert 'data-testid="dashboard-filters"' in body and 'id="dashboard-numbers"' in body, name


def test_dashboards_need_the_permission_but_my_performance_does_not(ws):
    agent = _client(ws.ann)
    for name in PAGES:
        expected = 200 if name == "dashboards_me" else 403
        assert agent.get(reverse(name)).status_code == expected, name
    assert agent.get(reverse("dashboards_targets")).status_code == 403
    assert _client(ws.manager).get(reverse("dashboards_targets")).status_code == 403
    assert Client().get(reverse("dashboards")).status_code == 302


def test_an_agents_numbers_leave_out_what_they_may_not_see(ws):
    manager = _client(ws.manager).get(reverse("dashboards")).content.decode()
    assert _headline_count(manager, "created") == 4
    assert _headline_count(manager, "first_response") == 2
    assert _headline_count(manager, "nps") == 3  # c1, c3 and the widget answer

    _grant_dashboards(ws.ann)
    body = _client(ws.ann).get(reverse("dashboards")).content.decode()
    assert _headline_count(body, "created") == 3  # not c3: mail, no team, bob's
    assert _headline_count(body, "first_response") == 1
    assert _headline_count(body, "nps") == 2  # c3's answer goes with c3
    surveys = _client(ws.ann).get(reverse("dashboards_surveys")).content.decode()
    assert "Ann was great" in surveys and "SECRETMAIL" not in surveys


def test_my_performance_is_the_agents_own_numbers_and_praise(ws):
    body = _client(ws.ann).get(reverse("dashboards_me") + f"?agent={ws.bob.pk}").content.decode()
    assert _headline_count(body, "created") == 1  # c1 only: assigned to ann
    assert "Ann was great, thank you" in body
    assert "SECRETMAIL" not in body
    assert 'id="f-agent"' not in body


def _drill_links(body: str) -> list[tuple[str, int]]:
    return [(html.unescape(href), int(n)) for href, n in DRILL_LINK.findall(body)]


@pytest.mark.parametrize("who", ["manager", "ann"])
def test_every_number_opens_a_list_of_exactly_that_many_rows(ws, who):
    user = getattr(ws, who)
    if who == "ann":
        _grant_dashboards(user)
    client = _client(user)
    checked, nonzero = 0, 0
    for name in PAGES:
        body = client.get(reverse(name)).content.decode()
        for href, number in _drill_links(body):
            response = client.get(href)
            assert response.status_code == 200, href
            shown = DRILL_COUNT.search(response.content.decode())
            assert shown is not None, href
            assert int(shown.group(1)) == number, (name, href)
            rows = response.content.decode().count('data-testid="drill-row"')
            assert rows == min(number, 50), href
            checked += 1
            nonzero += number > 0
    assert checked > 40 and nonzero > 15, (checked, nonzero)


def test_filters_round_trip_through_the_url(ws):
    label = Label.objects.create(name="refund")
    segment = Segment.objects.get(name="Everyone")
    survey = Survey.objects.get(name="Support CSAT")
    query = (
        f"range=7d&tz=Europe/Warsaw&channel={ws.sms.pk}&team={ws.red.pk}&agent={ws.ann.pk}"
        f"&segment={segment.pk}&survey={survey.pk}&label={label.pk}&language=pl"
    )
    body = _client(ws.manager).get(f"{reverse('dashboards_operations')}?{query}").content.decode()
    tab = re.search(r'href="/dashboards/surveys/\?([^"]+)"', body).group(1)
    shared = parse_qs(html.unescape(tab))
    assert shared == parse_qs(query)
    original = DashboardFilters.from_query(parse_qs(query))
    assert DashboardFilters.from_query(shared) == original
    local = timezone.now().astimezone(original.zone).date()
    assert original.end.astimezone(original.zone).date() == local + timedelta(days=1)
    assert (original.end - original.start).days == 7
    # The filter bar shows what the URL says.
    assert f'<option value="{ws.sms.pk}" selected>' in body
    assert '<option value="7d" selected>' in body
    assert 'value="Europe/Warsaw" selected' in body
    # A custom range keeps its days; a range that no longer matches its preset is written as days.
    custom = DashboardFilters.from_query({"from": "2026-01-05", "to": "2026-01-11", "tz": "UTC"})
    assert parse_qs(custom.to_query()) == {"from": ["2026-01-05"], "to": ["2026-01-11"], "tz": ["UTC"]}
    assert "range" not in original.previous().to_query()


def test_htmx_gets_the_dashboard_region_and_the_live_refresh_the_numbers(ws):
    client = _client(ws.manager)
    url = reverse("dashboards") + "?range=today"
    region = client.get(url, headers={"HX-Request": "true", "HX-Target": "dashboard"}).content.decode()
    assert "<html" not in region and 'id="dashboard-filters"' in region and 'id="dashboard-numbers"' in region
    numbers = client.get(
        url, headers={"HX-Request": "true", "HX-Target": "dashboard-numbers"}
    ).content.decode()
    assert "<html" not in numbers and 'id="dashboard-filters"' not in numbers
    assert 'id="dashboard-numbers"' in numbers and "data-live" in numbers
    past = client.get(reverse("dashboards") + "?from=2025-01-01&to=2025-01-31").content.decode()
    assert "data-live" not in past
    restore = client.get(url, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert b"<html" in restore.content


# Measured on this workspace (session, user, the filter bar's six choice lists and the reading API's
# queries); a page whose queries grow with its rows (N+1) fails the second half of the test.
QUERY_BOUNDS = {
    "dashboards": 20,
    "dashboards_operations": 21,
    "dashboards_surveys": 24,
    "dashboards_loop": 17,
    "dashboards_people": 24,
    # Each label and segment (capped at 8 of each) asks the reading API again.
    "dashboards_journey": 36,
    "dashboards_me": 23,
}


@pytest.mark.parametrize("name", PAGES)
def test_queries_per_page_are_bounded(ws, name):
    client = _client(ws.manager)
    client.get(reverse(name))  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse(name)).status_code == 200
    # Twice the conversations and answers: the same number of queries.
    c1 = ws.conversations[0]
    for _ in range(3):
        extra = rb.conversation(ws.sms, c1.created_at, team=ws.red, assignee=ws.ann)
        rb.inbound(extra, c1.created_at)
        rb.reply(extra, c1.created_at + timedelta(minutes=5), ws.ann)
    call_command("rebuild_reporting", verbosity=0)
    with CaptureQueriesContext(connection) as bigger:
        client.get(reverse(name))
    assert len(small) <= QUERY_BOUNDS[name], len(small)
    assert len(bigger) == len(small)


def test_admins_set_targets_and_the_overview_shows_progress(ws):
    admin = _client(ws.admin)
    response = admin.post(reverse("dashboards_targets"), {"nps": "40", "first_response": "15", "csat": "abc"})
    assert response.status_code == 200 and "Enter a number" in response.content.decode()
    response = admin.post(reverse("dashboards_targets"), {"nps": "40", "first_response": "15"})
    assert response.status_code == 302
    body = _client(ws.manager).get(reverse("dashboards")).content.decode()
    nps = body.split('data-testid="target-nps"', 1)[1].split("</li>", 1)[0]
    # NPS of 10, 3 and 9 is (2 - 1) / 3 = 33.3, from three answers: a small sample claims nothing.
    assert nps.startswith(' data-met="unknown"') and "33.3" in nps
    assert 'data-testid="target-first_response"' in body
    assert 'data-testid="target-csat"' not in body
    admin.post(reverse("dashboards_targets"), {"nps": "", "first_response": "15"})
    assert 'data-testid="target-nps"' not in _client(ws.manager).get(reverse("dashboards")).content.decode()


def test_a_hidden_conversation_stays_out_of_drill_lists(ws):
    c3 = ws.conversations[2]
    client = _client(ws.ann)
    body = client.get(reverse("dashboards_drill") + "?measure=created").content.decode()
    assert DRILL_COUNT.search(body).group(1) == "3"
    assert f"/inbox/{c3.pk}/" not in body
    answers = client.get(reverse("dashboards_drill_answers") + "?measure=comments").content.decode()
    assert "SECRETMAIL" not in answers and "Ann was great" in answers
    assert client.get(reverse("dashboards_drill") + "?measure=nonsense").status_code == 404
    assert client.get(reverse("dashboards_drill") + "?measure=created&cell_start=junk").status_code == 200


def test_the_export_buttons_carry_the_filters(ws):
    body = _client(ws.manager).get(reverse("dashboards") + "?range=7d").content.decode()
    hrefs = [html.unescape(h) for h in re.findall(r'href="(/dashboards/export/[^"]+)"', body)]
    assert len(hrefs) == 4, hrefs  # conversations and answers, CSV and XLSX
    for href in hrefs:
        assert parse_qs(urlsplit(href).query)["range"] == ["7d"]


def test_the_people_tables_download_as_csv(ws):
    response = _client(ws.manager).get(reverse("dashboards_people") + "?range=30d&export=csv&table=agents")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = [line for line in text.splitlines() if line]
    assert lines[0].startswith("Agent,New,Resolved")
    by_name = {line.split(",")[0]: line.split(",") for line in lines[1:]}
    assert by_name[ws.ann.display_name][1:3] == ["1", "1"]  # c1: new and resolved
    assert _client(ws.ann).get(reverse("dashboards_people") + "?export=csv&table=agents").status_code == 403
