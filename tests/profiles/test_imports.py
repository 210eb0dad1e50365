"""CSV import and export: Excel's encodings and separators, column mapping, the per-row report,
updating known customers, the progress endpoint, a real worker, formula-safe exports and rights."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from profiles import imports
from profiles.import_tasks import run_import
from profiles.models import (
    AttributeDefinition,
    AttributeType,
    AuditAction,
    AuditEntry,
    Customer,
    CustomerImport,
    Identity,
    IdentityKind,
    ImportStatus,
)
from profiles.segment_services import do_save_segment
from profiles.services import do_identify

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def plan(db) -> AttributeDefinition:
    AttributeDefinition.objects.create(key="orders", label="Orders", type=AttributeType.NUMBER)
    return AttributeDefinition.objects.create(
        key="plan", label="Plan", type=AttributeType.CHOICE, choices=["free", "pro"]
    )


def upload(client, name: str, **options):
    data = (FIXTURES / name).read_bytes()
    return client.post(reverse("import_list"), {"file": SimpleUploadedFile(name, data), **options})


def start(client, job: CustomerImport, columns: dict[int, str], region: str = ""):
    data = {f"col_{i}": "" for i in range(len(job.mapping["header"]))}
    data.update({f"col_{i}": target for i, target in columns.items()})
    return client.post(reverse("import_map", args=[job.pk]), {**data, "region": region})


def report_rows(client, job: CustomerImport) -> list[list[str]]:
    response = client.get(reverse("import_report", args=[job.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter", "header", "first"),
    [
        (
            "excel_ru_cp1251_semicolon.csv",
            "cp1251",
            ";",
            ["ФИО", "Эл. почта", "Телефон", "Компания", "Тариф"],
            ["Иван Петров", "Ivan.Petrov@Example.ru", "8 (912) 345-67-89", "ООО «Ромашка»", "pro"],
        ),
        (
            "excel_pl_cp1250_semicolon.csv",
            "cp1250",
            ";",
            ["Imię i nazwisko", "E-mail", "Telefon", "Firma", "Plan"],
            ["Zażółć Gęślą Jaźń", "zazolc@example.pl", "601 234 567", "Łódź Sp. z o.o.", "pro"],
        ),
        (
            "utf8_bom_comma.csv",
            "utf-8",
            ",",
            ["name", "email", "phone", "external_id", "company", "locale", "plan"],
            None,
        ),
        (
            "utf8_comma.csv",
            "utf-8",
            ",",
            ["name", "email", "phone", "external_id", "company", "locale", "plan"],
            None,
        ),
        ("excel_unicode_text_utf16_tab.txt", "utf-16", "\t", ["name", "email"], ["Anna", "anna@example.pl"]),
    ],
)
def test_reads_what_excel_saves(name, encoding, delimiter, header, first):
    table = imports.read_table((FIXTURES / name).read_bytes())
    assert (table.encoding, table.delimiter, table.header) == (encoding, delimiter, header)
    rows = list(table.rows())
    if first is None:
        first = ["Anna Kowalska", "anna@example.pl", "+48 601 234 567", "crm-1", "Acme, Inc.", "pl", "pro"]
    assert rows[0] == (2, first)
    assert imports.count_rows(table) == len(rows)


def test_blank_rows_are_skipped_and_numbering_follows_the_sheet():
    table = imports.read_table((FIXTURES / "excel_ru_cp1251_semicolon.csv").read_bytes())
    assert [number for number, _cells in table.rows()] == [2, 3, 5]


def test_encoding_and_separator_can_be_chosen(db):
    raw = (FIXTURES / "excel_pl_cp1250_semicolon.csv").read_bytes()
    assert imports.read_table(raw, encoding="cp1250", delimiter=";").header[0] == "Imię i nazwisko"
    assert imports.read_table(raw, encoding="cp1250", delimiter=",").header == [
        "Imię i nazwisko;E-mail;Telefon;Firma;Plan"
    ]
    with pytest.raises(imports.ImportFileError, match="not valid UTF-8"):
        imports.read_table(raw, encoding="utf-8")


def test_size_row_and_shape_limits(manager_client, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 2)
    response = upload(manager_client, "excel_ru_cp1251_semicolon.csv")
    assert response.status_code == 400
    assert "more than 200,000 rows" in response.content.decode()
    monkeypatch.setattr(imports, "MAX_BYTES", 100)
    response = upload(manager_client, "excel_ru_cp1251_semicolon.csv")
    assert "larger than 20 MB" in response.content.decode()
    huge = manager_client.post(reverse("import_list"), {}, CONTENT_LENGTH=str(21 * 1024 * 1024))
    assert huge.status_code == 302  # answered from the declared length, without reading the body
    header_only = SimpleUploadedFile("h.csv", b"name,email\r\n")
    response = manager_client.post(reverse("import_list"), {"file": header_only})
    assert "no data rows" in response.content.decode()
    assert not CustomerImport.objects.exists()


def test_mapping_guesses_validates_and_queues_once(
    manager_client, manager, plan, django_capture_on_commit_callbacks
):
    response = upload(manager_client, "excel_ru_cp1251_semicolon.csv")
    job = CustomerImport.objects.get()
    assert response.status_code == 302 and response.url == reverse("import_map", args=[job.pk])
    assert job.total_rows == 3 and job.created_by == manager
    assert job.mapping["filename"] == "excel_ru_cp1251_semicolon.csv" and "excel" not in job.file.name

    page = manager_client.get(reverse("import_map", args=[job.pk]))
    assert page.context["form"].initial == {
        "col_0": "name",
        "col_1": "email",
        "col_2": "phone",
        "col_3": "company",
        "region": "",
    }
    content = page.content.decode()
    assert "Иван Петров" in content and "ООО «Ромашка»" in content  # the preview of the first rows
    assert '<label for="id_col_1">Эл. почта</label>' in content

    nothing = start(manager_client, job, {0: "name", 3: "company"})
    assert (
        nothing.status_code == 400
        and "Choose a column with email, phone or external id" in nothing.content.decode()
    )
    twice = start(manager_client, job, {1: "email", 2: "email"})
    assert "Only one column can be imported as Email." in twice.content.decode()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = start(
            manager_client, job, {0: "name", 1: "email", 2: "phone", 3: "company", 4: "attr:plan"}, "RU"
        )
        again = start(manager_client, job, {0: "name", 1: "email"})
    assert response.url == again.url == reverse("import_detail", args=[job.pk])
    assert len(callbacks) == 1  # a double submit queues the import once
    job.refresh_from_db()
    assert job.mapping["columns"] == {
        "0": "name",
        "1": "email",
        "2": "phone",
        "3": "company",
        "4": "attr:plan",
    }
    assert job.mapping["region"] == "RU" and job.status == ImportStatus.PENDING


def test_import_creates_updates_and_reports(
    manager_client, manager, plan, media, django_capture_on_commit_callbacks
):
    known = do_identify(
        identities=[(IdentityKind.EMAIL, "ivan.petrov@example.ru")], attributes={"name": "Иван"}
    ).customer
    upload(manager_client, "excel_ru_cp1251_semicolon.csv")
    job = CustomerImport.objects.get()
    stored = Path(job.file.path)
    with django_capture_on_commit_callbacks(execute=False):
        start(manager_client, job, {0: "name", 1: "email", 2: "phone", 3: "company", 4: "attr:plan"}, "RU")

    assert run_import(job.pk) == {"processed": 3, "created": 1, "updated": 1}
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and (job.processed_rows, job.total_rows) == (3, 3)
    assert not stored.exists() and not job.file  # the uploaded personal data is not kept

    known.refresh_from_db()
    assert Customer.objects.count() == 2  # Ivan was updated, not duplicated
    assert (known.name, known.company, known.attributes) == ("Иван Петров", "ООО «Ромашка»", {"plan": "pro"})
    assert set(known.identities.values_list("kind", "value")) == {
        ("email", "ivan.petrov@example.ru"),
        ("phone", "+79123456789"),  # "8 (912) ..." read with the Russian region
    }
    maria = Customer.objects.exclude(pk=known.pk).get()
    assert maria.name == "Мария Сидорова" and maria.attributes == {"plan": "free"}
    assert list(maria.identities.values_list("value", flat=True)) == ["+79120000001"]

    assert report_rows(manager_client, job) == [
        ["Row", "Column", "Problem"],
        ["3", "Эл. почта", "not a valid email address"],
        ["5", "Тариф", "not a valid value for this attribute"],
        ["5", "", "no email, phone or external id in this row"],
    ]
    entry = AuditEntry.objects.get(action=AuditAction.IMPORT)
    assert entry.actor == manager and entry.details == {
        "import_id": job.pk,
        "rows": 3,
        "created": 1,
        "updated": 1,
        "problems": 3,
    }
    assert run_import(job.pk) == {}  # a finished import is never run twice


def test_report_is_formula_safe_and_names_each_problem(
    manager_client, plan, django_capture_on_commit_callbacks
):
    upload(manager_client, "problems_semicolon.csv")
    job = CustomerImport.objects.get()
    with django_capture_on_commit_callbacks(execute=False):
        start(
            manager_client, job, {0: "name", 1: "email", 2: "phone", 3: "attr:plan", 4: "attr:orders"}, "PL"
        )
    run_import(job.pk)
    rows = report_rows(manager_client, job)
    assert rows[1:] == [
        ["2", "'=cmd", "not a valid value for this attribute"],
        ["3", "email", "not a valid email address"],
        ["3", "'=cmd", "not a valid value for this attribute"],
        ["3", "", "no email, phone or external id in this row"],
        ["4", "phone", "not a valid phone number (for numbers without +country code, choose a region)"],
        ["4", "'=cmd", "not a valid value for this attribute"],
        ["4", "", "no email, phone or external id in this row"],
        ["5", "'=cmd", "not a valid value for this attribute"],
        ["5", "", "no email, phone or external id in this row"],
        ["6", "plan", "not a valid value for this attribute"],
        ["6", "'=cmd", "not a valid value for this attribute"],
    ]
    assert set(Customer.objects.values_list("name", flat=True)) == {"Good Row", "Bad Plan"}
    status = manager_client.get(reverse("import_status", args=[job.pk])).content.decode()
    assert 'data-testid="import-problems">5<' in status


def test_report_is_translated_when_read(manager_client, plan, django_capture_on_commit_callbacks):
    job = CustomerImport.objects.create(
        mapping={"header": ["email"]},
        status=ImportStatus.DONE,
        errors=[{"row": 2, "column": "email", "code": "invalid_email"}],
    )
    response = manager_client.get(reverse("import_report", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert b"not a valid email address" in b"".join(response.streaming_content)


def test_status_endpoint_polls_until_finished(manager_client):
    job = CustomerImport.objects.create(
        mapping={"header": ["email"], "filename": "a.csv", "queued_at": "x"},
        status=ImportStatus.RUNNING,
        total_rows=200,
        processed_rows=50,
        created_rows=30,
        updated_rows=15,
        errors=[{"row": 3, "column": "email", "code": "invalid_email"}] * 2
        + [{"row": 9, "column": "", "code": "no_identity"}],
    )
    url = reverse("import_status", args=[job.pk])
    running = manager_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in running and f'hx-get="{url}"' in running
    assert "50 of 200 rows processed" in running and 'value="25"' in running
    assert 'data-testid="import-created">30<' in running and 'data-testid="import-problems">2<' in running
    assert "import-report" not in running

    job.status, job.processed_rows = ImportStatus.DONE, 200
    job.save()
    done = manager_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in done and 'value="100"' in done
    assert reverse("import_report", args=[job.pk]) in done and 'hx-swap-oob="true"' in done
    page = manager_client.get(reverse("import_detail", args=[job.pk])).content.decode()
    assert "200 of 200 rows processed" in page and "segments.css" in page


def test_permissions(client, agent_client, manager_client):
    job = CustomerImport.objects.create(mapping={"header": ["email"], "encoding": "utf-8", "delimiter": ","})
    urls = [
        reverse("import_list"),
        reverse("import_map", args=[job.pk]),
        reverse("import_detail", args=[job.pk]),
        reverse("import_status", args=[job.pk]),
        reverse("import_report", args=[job.pk]),
        reverse("customer_export_csv"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url
        assert agent_client.get(url).status_code == 403, url
        assert manager_client.get(url).status_code == 200, url
    assert upload(agent_client, "utf8_comma.csv").status_code == 403
    assert CustomerImport.objects.count() == 1


def read_export(response) -> list[dict[str, str]]:
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="')
    body = b"".join(response.streaming_content)
    assert body.startswith(codecs.BOM_UTF8)
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_export_neutralises_formulas_and_carries_identities_and_attributes(manager_client, manager, plan):
    evil = Customer.objects.create(
        name='=HYPERLINK("http://evil.example","click")',
        company="+1-555",
        location="@SUM(A1)",
        timezone="\t=1+1",
        locale="-2",
        attributes={"plan": "pro", "orders": -3},
    )
    Identity.objects.create(customer=evil, kind=IdentityKind.PHONE, value="+48601234567")
    Identity.objects.create(customer=evil, kind=IdentityKind.EMAIL, value="a@example.pl")
    Identity.objects.create(customer=evil, kind=IdentityKind.EMAIL, value="b@example.pl")
    plain = Customer.objects.create(name="Ewa\rZ", company="Plain Co")
    Customer.objects.create(name="Merged", merged_into=plain)
    Customer.objects.create(name="Erased", erased_at="2025-01-01T00:00:00Z")

    rows = read_export(manager_client.get(reverse("customer_export_csv")))
    assert [r["id"] for r in rows] == [str(evil.pk), str(plain.pk)]
    first = rows[0]
    assert first["name"] == '\'=HYPERLINK("http://evil.example","click")'
    assert (first["company"], first["location"], first["timezone"], first["locale"]) == (
        "'+1-555",
        "'@SUM(A1)",
        "'\t=1+1",
        "'-2",
    )
    assert first["phone"] == "'+48601234567" and first["email"] == "a@example.pl; b@example.pl"
    assert (first["plan"], first["orders"], first["telegram"]) == ("pro", "'-3", "")
    assert rows[1]["name"] == "Ewa\rZ" and rows[1]["company"] == "Plain Co"
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.actor == manager and entry.details == {"scope": "all", "segment_id": None}


def test_export_of_a_segment(manager_client):
    for n in range(3):
        Customer.objects.create(name=f"C{n}", company="Acme" if n else "")
    segment = do_save_segment(
        name="Acme", definition=[{"type": "attribute", "field": "company", "op": "is_set"}], actor=None
    )
    response = manager_client.get(reverse("customer_export_csv"), {"segment": segment.pk})
    assert f'filename="segment-{segment.pk}-' in response["Content-Disposition"]
    assert [r["name"] for r in read_export(response)] == ["C1", "C2"]
    assert manager_client.get(reverse("customer_export_csv"), {"segment": "nope"}).status_code == 404
    assert AuditEntry.objects.get().details == {"scope": "segment", "segment_id": segment.pk}


def test_export_pages_through_many_customers(manager_client, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from profiles import exports

    monkeypatch.setattr(exports, "CHUNK", 2)
    Customer.objects.bulk_create([Customer(name=f"P{n}") for n in range(5)])
    with CaptureQueriesContext(connection) as queries:
        rows = read_export(manager_client.get(reverse("customer_export_csv")))
    assert [r["name"] for r in rows] == [f"P{n}" for n in range(5)]
    pages = [q["sql"] for q in queries if 'FROM "profiles_customer"' in q["sql"] and "LIMIT 2" in q["sql"]]
    assert len(pages) == 3  # by id, a page at a time: no cursor is held open across the download


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_import_on_the_bulk_queue(settings, tmp_path, manager_client):
    from cxm.config import BASE_DIR
    from tests.workers import celery_worker, wait_until

    # The worker is another process with its own settings: the upload must land where it looks.
    settings.MEDIA_ROOT = BASE_DIR / "var" / "media"
    AttributeDefinition.objects.create(
        key="plan", label="Plan", type=AttributeType.CHOICE, choices=["free", "pro"]
    )
    known = do_identify(identities=[(IdentityKind.EXTERNAL_ID, "crm-2")], attributes={"name": "Jan"}).customer
    log = tmp_path / "worker.log"
    upload(manager_client, "utf8_bom_comma.csv")
    job = CustomerImport.objects.get()
    stored = Path(job.file.path)
    columns = {0: "name", 1: "email", 2: "phone", 3: "external_id", 4: "company", 5: "locale", 6: "attr:plan"}
    try:
        with celery_worker(redis_url=settings.REDIS_URL, log=log) as process:
            assert start(manager_client, job, columns).status_code == 302

            def finished() -> bool:
                job.refresh_from_db()
                return job.status == ImportStatus.DONE

            wait_until(finished, 60, log.read_text)
            assert process.poll() is None
        assert not stored.exists()  # the worker removed the uploaded personal data
    finally:
        stored.unlink(missing_ok=True)
    assert (job.processed_rows, job.created_rows, job.updated_rows, job.errors) == (2, 1, 1, [])
    known.refresh_from_db()
    assert (known.name, known.locale, known.attributes) == ("Ян Новак", "ru", {"plan": "free"})
    anna = Identity.objects.get(kind=IdentityKind.EMAIL, value="anna@example.pl").customer
    assert (anna.name, anna.company) == ("Anna Kowalska", "Acme, Inc.")
    assert set(anna.identities.values_list("value", flat=True)) == {
        "anna@example.pl",
        "+48601234567",
        "crm-1",
    }
    status = manager_client.get(reverse("import_status", args=[job.pk])).content.decode()
    assert "2 of 2 rows processed" in status and "hx-trigger" not in status


def test_large_imports_run_in_slices_that_resume(
    manager_client, plan, monkeypatch, django_capture_on_commit_callbacks
):
    from profiles import import_tasks

    upload(manager_client, "problems_semicolon.csv")
    job = CustomerImport.objects.get()
    with django_capture_on_commit_callbacks(execute=False):
        start(manager_client, job, {0: "name", 1: "email", 3: "attr:plan"})
    queued: list[int] = []
    monkeypatch.setattr(import_tasks, "SLICE_SECONDS", 0)
    monkeypatch.setattr(import_tasks, "enqueue_import", queued.append)
    for expected in range(1, 5):
        assert run_import(job.pk) == {"processed": expected, "more": 1}
        job.refresh_from_db()
        assert job.status == ImportStatus.RUNNING and job.processed_rows == expected
    assert run_import(job.pk) == {"processed": 5, "created": 2, "updated": 0}
    assert queued == [job.pk] * 4
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and Customer.objects.count() == 2
    assert [(e["row"], e["code"]) for e in job.errors] == [
        (3, "invalid_email"),
        (3, "no_identity"),
        (4, "no_identity"),
        (5, "no_identity"),
        (6, "invalid_value"),
    ]


def test_a_second_delivery_leaves_a_running_import_alone(plan):
    from core.redis import get_redis

    job = CustomerImport.objects.create(mapping={"header": []}, status=ImportStatus.RUNNING, total_rows=9)
    get_redis().set(f"cxm:import:{job.pk}", "another-worker", ex=30)
    try:
        assert run_import(job.pk) == {}
    finally:
        get_redis().delete(f"cxm:import:{job.pk}")
    job.refresh_from_db()
    assert job.status == ImportStatus.RUNNING and job.processed_rows == 0


def test_export_streams_chunk_by_chunk_under_asgi(manager, monkeypatch):
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    from profiles import exports

    monkeypatch.setattr(exports, "CHUNK", 2)
    Customer.objects.bulk_create([Customer(name=f"=P{n}") for n in range(5)])
    client = AsyncClient()
    client.force_login(manager)

    async def download():
        response = await client.get(reverse("customer_export_csv"))
        assert response.is_async  # served as it is read, not gathered first
        return [chunk async for chunk in response.streaming_content]

    chunks = async_to_sync(download)()
    assert len(chunks) > 2
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
    assert [r["name"] for r in rows] == [f"'=P{n}" for n in range(5)]
