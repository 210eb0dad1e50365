"""Row-level exports (conversations, answers) and table exports: what each row holds, formula
injection in CSV and XLSX, visibility, permission, filters, localized headers, streaming in pages."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from accounts.roles import Role
from accounts.services import do_create_user
from analytics import exports_conversations, exports_cursor, exports_format
from analytics.answer_refresh import refresh_answers
from analytics.exports_tables import ExportTable, table_download
from analytics.refresh import do_refresh
from profiles.models import AuditAction, AuditEntry, Customer
from surveys.models import Survey, SurveyKind, SurveyResponse
from tests.analytics.reporting_builders import conversation, inbound, reply, resolve, shop, utc
from tickets.models import Label

pytestmark = pytest.mark.django_db

RANGE = {"from": "2026-03-01", "to": "2026-03-07", "tz": "UTC"}
_NS = {"x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def read_xlsx(content: bytes, sheet: int = 1) -> tuple[list[list[object]], str]:
    """Rows of one sheet (inline strings as text, numbers as floats) and the sheet's raw XML."""
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        xml = book.read(f"xl/worksheets/sheet{sheet}.xml").decode()
    rows = []
    sheet_data = ElementTree.fromstring(xml)  # noqa: S314 (the file the export just wrote)
    for row in sheet_data.iterfind(".//x:sheetData/x:row", _NS):
        cells: list[object] = []
        for cell in row.iterfind("x:c", _NS):
            column = ord(re.match(r"[A-Z]+", cell.get("r")).group()[-1]) - ord("A")  # single-letter columns
            while len(cells) < column:
                cells.append(None)
            text = cell.find("x:is/x:t", _NS)
            value = cell.find("x:v", _NS)
            cells.append(text.text if text is not None else float(value.text) if value is not None else None)
        rows.append(cells)
    return rows, xml


@pytest.fixture
def world():
    s = shop()
    refund = Label.objects.create(name="refund")
    vip = Label.objects.create(name="vip")
    evil = Customer.objects.create(name='=HYPERLINK("http://evil.example","x")')
    c1 = conversation(s.sms, utc("2026-03-02 09:00"), customer=evil, team=s.red, assignee=s.ann,
                      subject="+cmd|' /C calc'!A0")  # fmt: skip
    c1.labels.add(vip, refund)
    inbound(c1, utc("2026-03-02 09:00"))
    reply(c1, utc("2026-03-02 09:10"), s.ann)
    resolve(c1, utc("2026-03-02 10:00"))
    c2 = conversation(s.mail, utc("2026-03-03 12:00"), subject="Where is my parcel?")
    inbound(c2, utc("2026-03-03 12:00"))
    early = conversation(s.sms, utc("2026-02-20 12:00"), team=s.red)
    csat = Survey.objects.create(kind=SurveyKind.CSAT, name="CSAT", scale_max=5)
    SurveyResponse.objects.create(survey=csat, score=4, conversation=c1, customer=evil,
                                  created_at=utc("2026-03-02 11:00"))  # fmt: skip
    do_refresh([c1.pk, c2.pk, early.pk])
    s.c1, s.c2, s.early, s.csat = c1, c2, early, csat  # type: ignore[attr-defined]
    return s


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_conversation_rows_hold_the_hand_computed_values(world):
    response = client_for(world.manager).get(reverse("export_conversations"), {**RANGE, "export": "csv"})

    assert response["Content-Disposition"] == 'attachment; filename="conversations_2026-03-01_2026-03-07.csv"'
    header, *rows = read_csv(response)
    assert header == exports_conversations.headers()
    assert [int(row[0]) for row in rows] == [world.c1.pk, world.c2.pk]  # created in range, oldest first
    first = dict(zip(header, rows[0], strict=True))
    assert first["Link"] == f"http://testserver/inbox/{world.c1.pk}/"
    assert first["Customer"] == "'" + world.c1.customer.name  # neutralised
    assert first["Subject"] == "'+cmd|' /C calc'!A0"
    assert (first["Channel"], first["Team"], first["Agent"]) == (
        world.sms.name,
        world.red.name,
        world.ann.username,
    )
    assert (first["Status"], first["Labels"], first["Created"]) == (
        "Resolved",
        "refund; vip",
        "2026-03-02 09:00:00",
    )
    # No SLA policy: business time equals wall-clock time.
    assert first["First response (s)"] == first["First response, business hours (s)"] == "600"
    assert first["Resolution (s)"] == first["Resolution, business hours (s)"] == "3600"
    assert (first["Reopened (times)"], first["CSAT"], first["NPS"], first["CES"]) == ("0", "4", "", "")
    second = dict(zip(header, rows[1], strict=True))
    assert (second["Team"], second["Agent"], second["Status"], second["First response (s)"]) == (
        "",
        "",
        "Open",
        "",
    )
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.actor == world.manager and entry.details["scope"] == "conversations"


def test_xlsx_holds_the_same_rows_as_text_never_as_formulas(world):
    params = {**RANGE, "export": "xlsx"}
    response = client_for(world.manager).get(reverse("export_conversations"), params)
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Content-Disposition"].endswith('conversations_2026-03-01_2026-03-07.xlsx"')
    rows, xml = read_xlsx(b"".join(response.streaming_content))
    assert "<f>" not in xml  # no cell is a formula
    header, first = rows[0], rows[1]
    assert header == exports_conversations.headers()
    values = dict(zip(header, first, strict=False))
    assert values["Customer"] == "'" + world.c1.customer.name
    assert values["Subject"].startswith("'+cmd")
    assert values["First response (s)"] == 600.0 and values["CSAT"] == 4.0
    # A real date (days since 1899-12-30): 2026-03-02 09:00.
    assert values["Created"] == pytest.approx(46083 + 9 / 24)
    assert len(rows) == 3


def test_filters_and_visibility_decide_the_rows(world):
    manager = client_for(world.manager)
    only_mail = read_csv(manager.get(reverse("export_conversations"), {**RANGE, "channel": world.mail.pk}))
    assert [int(r[0]) for r in only_mail[1:]] == [world.c2.pk]
    wider = read_csv(manager.get(reverse("export_conversations"), {**RANGE, "from": "2026-02-01"}))
    assert [int(r[0]) for r in wider[1:]] == [world.early.pk, world.c1.pk, world.c2.pk]

    # An agent allowed to export still sees only their team's channel: the mail conversation is hidden.
    world.ann.user_permissions.add(Permission.objects.get(codename="export_data"))
    rows = read_csv(client_for(world.ann).get(reverse("export_conversations"), RANGE))
    assert [int(r[0]) for r in rows[1:]] == [world.c1.pk]


def test_exports_need_the_export_permission(world, client):
    for name in ("export_conversations", "export_answers"):
        assert client_for(world.bob).get(reverse(name), RANGE).status_code == 403
        assert client.get(reverse(name), RANGE).status_code == 302  # to the login page
    assert not AuditEntry.objects.exists()


def test_answer_rows_with_groups_fallbacks_and_neutralised_comments(world):
    nps = Survey.objects.create(kind=SurveyKind.NPS, name="Relationship NPS")
    csat3 = Survey.objects.create(kind=SurveyKind.CSAT, name="CSAT 3", scale_max=3)
    ces = Survey.objects.create(kind=SurveyKind.CES, name="CES")
    made = [
        SurveyResponse.objects.create(survey=nps, score=9, conversation=world.c1, customer=world.c1.customer,
                                      comment="-1+1", medium="email", locale="pl",
                                      created_at=utc("2026-03-04 08:00")),
        SurveyResponse.objects.create(survey=csat3, score=3, channel=world.mail, agent=world.bob,
                                      medium="sms",
                                      created_at=utc("2026-03-05 08:00")),
        SurveyResponse.objects.create(survey=ces, score=6, created_at=utc("2026-03-06 08:00")),
        SurveyResponse.objects.create(survey=ces, score=2, created_at=utc("2026-03-09 08:00")),  # after
    ]  # fmt: skip
    refresh_answers([r.pk for r in made] + list(SurveyResponse.objects.values_list("pk", flat=True)))

    response = client_for(world.manager).get(reverse("export_answers"), {**RANGE, "export": "csv"})

    assert response["Content-Disposition"] == 'attachment; filename="answers_2026-03-01_2026-03-07.csv"'
    header, *rows = read_csv(response)
    by_survey = {row[1]: dict(zip(header, row, strict=True)) for row in rows}
    assert [row[1] for row in rows] == ["CSAT", "Relationship NPS", "CSAT 3", "CES"]  # oldest first
    assert by_survey["CSAT"]["Group"] == "Satisfied"  # 4 of 5
    promoter = by_survey["Relationship NPS"]
    assert (promoter["Score"], promoter["Group"], promoter["Comment"]) == ("9", "Promoter", "'-1+1")
    # No agent on the answer: the conversation's assignee; team and channel are the conversation's.
    assert (promoter["Agent"], promoter["Team"], promoter["Channel"]) == (
        world.ann.username,
        world.red.name,
        world.sms.name,
    )
    assert promoter["Conversation"] == f"http://testserver/inbox/{world.c1.pk}/"
    assert (promoter["Answered through"], promoter["Language"]) == ("Email", "pl")
    assert promoter["Answered at"] == "2026-03-04 08:00:00"
    top_of_three = by_survey["CSAT 3"]
    assert (top_of_three["Group"], top_of_three["Agent"], top_of_three["Channel"]) == (
        "Satisfied", world.bob.username, world.mail.name,
    )  # fmt: skip
    assert (by_survey["CES"]["Group"], by_survey["CES"]["Conversation"]) == ("Low effort", "")


def test_headers_are_in_the_viewers_language(world):
    client = client_for(world.manager)
    client.cookies["cxm_language"] = "ru"
    header = read_csv(client.get(reverse("export_conversations"), RANGE))[0]
    with translation.override("ru"):
        assert header == exports_conversations.headers()
    assert "Клиент" in header and "Канал" in header and "Статус" in header


def test_rows_are_read_a_page_at_a_time(world, monkeypatch):
    monkeypatch.setattr(exports_cursor, "PAGE", 2)
    more = [
        conversation(world.sms, utc("2026-03-04 10:00") + timedelta(minutes=n), team=world.red)
        for n in range(3)
    ]
    do_refresh([c.pk for c in more])
    with CaptureQueriesContext(connection) as queries:
        rows = read_csv(client_for(world.manager).get(reverse("export_conversations"), RANGE))
    assert len(rows) == 1 + 5
    labels = [q for q in queries if 'FROM "tickets_conversation_labels"' in q["sql"]]
    assert len(labels) == 3  # one per page of two
    # The conversations themselves are one query, read through a server-side cursor.
    reads = [q["sql"] for q in queries if q["sql"].startswith("DECLARE")]
    assert len(reads) == 1 and 'FROM "tickets_conversation"' in reads[0]


def test_xlsx_continues_on_a_new_sheet_past_the_row_limit(monkeypatch):
    monkeypatch.setattr(exports_format, "XLSX_MAX_ROWS", 3)  # header + 2 rows per sheet
    rows = [[n, f"=row {n}"] for n in range(5)]
    content = b"".join(exports_format.xlsx_chunks(["n", "text"], rows, zone=utc("2026-03-01").tzinfo))
    sheets = [read_xlsx(content, sheet)[0] for sheet in (1, 2, 3)]
    assert [len(s) for s in sheets] == [3, 3, 2]
    assert all(s[0] == ["n", "text"] for s in sheets)
    assert sheets[2][1] == [4.0, "'=row 4"]


def _table() -> ExportTable:
    return ExportTable(
        key="agents",
        title="Agents: [all] / teams",
        headers=["Agent", "Conversations", "CSAT"],
        rows=[["@ann", 12, 0.5], ["Bob", 3, None]],
    )


def test_a_dashboard_table_downloads_as_csv_and_xlsx(world):
    from analytics.filters import DashboardFilters

    filters = DashboardFilters(start=utc("2026-03-01 00:00"), end=utc("2026-03-08 00:00"))
    factory = RequestFactory()
    request = factory.get("/dashboards/people/", {"export": "csv", "table": "agents"})
    request.user = world.manager
    response = table_download(request, filters, [_table()])
    assert response["Content-Disposition"] == 'attachment; filename="agents_2026-03-01_2026-03-07.csv"'
    assert read_csv(response) == [
        ["Agent", "Conversations", "CSAT"],
        ["'@ann", "12", "0.5"],
        ["Bob", "3", ""],
    ]

    request = factory.get("/dashboards/people/", {"export": "xlsx", "table": "agents"})
    request.user = world.manager
    content = b"".join(table_download(request, filters, [_table()]).streaming_content)
    rows, _xml = read_xlsx(content)
    assert rows == [["Agent", "Conversations", "CSAT"], ["'@ann", 12.0, 0.5], ["Bob", 3.0]]
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        assert 'name="Agents   all    teams"' in book.read("xl/workbook.xml").decode()

    plain = factory.get("/dashboards/people/")
    plain.user = world.manager
    assert table_download(plain, filters, [_table()]) is None  # the page renders as usual
    unknown = factory.get("/dashboards/people/", {"export": "csv", "table": "nope"})
    unknown.user = world.manager
    with pytest.raises(Http404):
        table_download(unknown, filters, [_table()])
    agent = do_create_user(username="agent.x", password=None, role=Role.AGENT)
    refused = factory.get("/dashboards/people/", {"export": "csv", "table": "agents"})
    refused.user = agent
    with pytest.raises(PermissionDenied):
        table_download(refused, filters, [_table()])
