"""Segments: every rule kind, all/any, strict validation, one SQL statement, the editor and its rights."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from channels_app.services import do_create_channel
from profiles.models import (
    AttributeDefinition,
    AttributeType,
    Customer,
    CustomerEvent,
    Identity,
    IdentityKind,
    Segment,
)
from profiles.segment_services import do_save_segment, segment_count
from profiles.segments import SegmentError, customers_in_segment, customers_matching, validate
from surveys.models import Survey, SurveyKind, SurveyResponse
from tickets.models import Conversation, ConversationStatus

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def rule(type_: str, /, **fields) -> dict:
    return {"type": type_, **fields}


def names(definition) -> set[str]:
    return set(customers_matching(definition).values_list("name", flat=True))


@pytest.fixture
def people(db):
    """Anna: Telegram + email, ordered recently, open conversation, NPS detractor (latest).
    Jan: email only, ordered 90 days ago, resolved conversation, NPS promoter after a detractor answer.
    Ewa: phone only, nothing else. Olga: merged away (hidden). Piotr: erased (hidden)."""
    for key, label, kind, choices in (
        ("plan", "Plan", AttributeType.CHOICE, ["free", "pro"]),
        ("orders", "Orders", AttributeType.NUMBER, []),
        ("renewal", "Renewal", AttributeType.DATE, []),
        ("vip", "VIP", AttributeType.BOOLEAN, []),
        ("city", "City", AttributeType.TEXT, []),
    ):
        AttributeDefinition.objects.create(key=key, label=label, type=kind, choices=choices)
    anna = Customer.objects.create(
        name="Anna",
        company="Acme Sp. z o.o.",
        locale="pl",
        attributes={"plan": "pro", "orders": 12, "renewal": "2026-03-01", "vip": True, "city": "Kraków"},
    )
    jan = Customer.objects.create(
        name="Jan", company="Nowak", attributes={"plan": "free", "orders": 3, "vip": False, "city": ""}
    )
    ewa = Customer.objects.create(name="Ewa", attributes={"orders": "lots", "renewal": None})
    olga = Customer.objects.create(name="Olga", company="Acme", merged_into=anna)
    Customer.objects.create(name="Piotr", company="Acme", erased_at=NOW)
    Identity.objects.create(customer=anna, kind=IdentityKind.TELEGRAM, value="501")
    Identity.objects.create(customer=anna, kind=IdentityKind.EMAIL, value="anna@example.pl")
    Identity.objects.create(customer=jan, kind=IdentityKind.EMAIL, value="jan@example.pl")
    Identity.objects.create(customer=ewa, kind=IdentityKind.PHONE, value="+48601234567")
    Identity.objects.create(customer=olga, kind=IdentityKind.TELEGRAM, value="502")
    for n, (customer, days) in enumerate(((anna, 2), (jan, 90), (anna, 200))):
        CustomerEvent.objects.create(
            customer=customer,
            name="order_placed",
            client_event_id=f"e{n}",
            occurred_at=NOW - timedelta(days=days),
        )
    channel = do_create_channel(kind="email", name="Support")
    for customer, status in ((anna, ConversationStatus.OPEN), (jan, ConversationStatus.RESOLVED)):
        Conversation.objects.create(
            customer=customer, channel=channel, status=status, created_at=NOW, last_activity_at=NOW
        )
    nps = Survey.objects.create(kind=SurveyKind.NPS, name="NPS")
    csat = Survey.objects.create(kind=SurveyKind.CSAT, name="CSAT")
    for customer, survey, score, days in (
        (anna, nps, 9, 30),
        (anna, nps, 4, 1),
        (jan, nps, 2, 30),
        (jan, nps, 10, 1),
        (ewa, csat, 1, 1),
    ):
        SurveyResponse.objects.create(
            survey=survey, customer=customer, score=score, created_at=NOW - timedelta(days=days)
        )
    return {"anna": anna, "jan": jan, "ewa": ewa}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (rule("attribute", field="company", op="contains", value="acme"), {"Anna"}),
        (rule("attribute", field="company", op="equals", value="NOWAK"), {"Jan"}),
        (rule("attribute", field="company", op="is_set"), {"Anna", "Jan"}),
        (rule("attribute", field="company", op="is_not_set"), {"Ewa"}),
        (rule("attribute", field="created_at", op="greater", value="2000-01-01"), {"Anna", "Jan", "Ewa"}),
        (rule("attribute", field="last_seen_at", op="is_set"), set()),
        (rule("attribute", field="plan", op="equals", value="pro"), {"Anna"}),
        (rule("attribute", field="orders", op="greater", value="5"), {"Anna"}),
        (rule("attribute", field="orders", op="less", value="5,5"), {"Jan"}),  # "lots" is not a number
        (rule("attribute", field="orders", op="equals", value=3), {"Jan"}),
        (rule("attribute", field="renewal", op="greater", value="2026-01-01"), {"Anna"}),
        (rule("attribute", field="renewal", op="is_set"), {"Anna"}),  # Ewa's is null
        (rule("attribute", field="renewal", op="is_not_set"), {"Jan", "Ewa"}),
        (rule("attribute", field="vip", op="equals", value="no"), {"Jan"}),
        (rule("attribute", field="city", op="contains", value="kRAK"), {"Anna"}),
        (rule("attribute", field="city", op="is_set"), {"Anna"}),  # Jan's is blank
        (rule("identity", kind="telegram", op="has"), {"Anna"}),
        (rule("identity", kind="email", op="has_not"), {"Ewa"}),
        (rule("event", name="order_placed", op="did", days=30), {"Anna"}),
        (rule("event", name="order_placed", op="did"), {"Anna", "Jan"}),
        (rule("event", name="order_placed", op="did_not", days=30), {"Jan", "Ewa"}),
        (rule("conversation", status="open", op="has"), {"Anna"}),
        (rule("conversation", status="open", op="has_not"), {"Jan", "Ewa"}),
        (rule("nps", group="detractor"), {"Anna"}),  # her latest answer; Jan's detractor answer is older
        (rule("nps", group="promoter"), {"Jan"}),
        (rule("nps", group="passive"), set()),
        (rule("nps", group="none"), {"Ewa"}),  # a CSAT answer is not an NPS answer
    ],
)
def test_each_rule_kind(people, condition, expected):
    assert names([condition]) == expected


def test_all_any_and_nested_groups(people):
    telegram = rule("identity", kind="telegram", op="has")
    promoter = rule("nps", group="promoter")
    phone = rule("identity", kind="phone", op="has")
    assert names([telegram, promoter]) == set()
    assert names([{"any": [telegram, promoter]}]) == {"Anna", "Jan"}
    assert names(
        [{"any": [telegram, {"all": [promoter, rule("attribute", field="plan", op="is_set")]}]}]
    ) == {
        "Anna",
        "Jan",
    }
    assert names([{"any": [phone, promoter]}, rule("identity", kind="email", op="has")]) == {"Jan"}
    assert names([]) == {"Anna", "Jan", "Ewa"}  # no condition: every visible customer


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"all": []}, "must be a list"),
        ([rule("colour", value="red")], "Condition 1: unknown condition type “colour”"),
        ([rule("identity", kind="email", op="has", extra=1)], "Condition 1: unknown keys: extra"),
        ([rule("identity", kind="pigeon", op="has")], "unknown identity kind “pigeon”"),
        ([rule("identity", kind="email")], "Condition 1: missing: op"),
        ([rule("attribute", field="shoe_size", op="equals", value="42")], "unknown attribute “shoe_size”"),
        (
            [rule("attribute", field="company", op="greater", value="a")],
            "“greater” does not apply to company",
        ),
        ([rule("attribute", field="company", op="like", value="a")], "“like” does not apply"),
        ([rule("attribute", field="orders", op="greater", value="many")], "Orders: many is not a valid"),
        ([rule("attribute", field="plan", op="equals", value="gold")], "Plan: gold is not a valid"),
        ([rule("attribute", field="company", op="is_set", value="x")], "takes no value"),
        ([rule("attribute", field="company", op="equals")], "a value is needed"),
        ([rule("attribute", field="created_at", op="less", value="yesterday")], "must be a date"),
        ([rule("event", name="x", op="did", days=0)], "days must be a whole number from 1 to 3650"),
        ([rule("event", name="x", op="did", days="30")], "days must be a whole number"),
        ([rule("event", name=" ", op="did")], "an event name of 1 to 100 characters"),
        ([rule("conversation", status="lost", op="has")], "unknown conversation status"),
        ([rule("nps", group="fan")], "unknown NPS group “fan”"),
        ([rule("nps", group="none"), {"any": []}], "Condition 2: a group holds one non-empty list"),
        ([{"any": [rule("nps", group="none"), "x"]}], "Condition 1.2: not a condition"),
        ([{"any": [{"all": [{"any": [rule("nps", group="none")]}]}]}], "groups nest at most 3 deep"),
        ([rule("nps", group="none")] * 51, "Condition 51: at most 50 conditions"),
    ],
)
def test_validation_refuses_with_a_clear_message(people, definition, message):
    with pytest.raises(SegmentError) as error:
        validate(definition)
    assert message in str(error.value)


def test_validation_normalizes_values(people):
    cleaned = validate(
        [
            rule("attribute", field="orders", op="greater", value="1 000,5"),
            rule("attribute", field="vip", op="equals", value="tak"),
            rule("event", name=" order_placed ", op="did"),
        ]
    )
    assert [c.get("value", c.get("name")) for c in cleaned] == [1000.5, True, "order_placed"]


def test_count_and_page_are_one_statement_each(people):
    definition = [
        {"any": [rule("identity", kind="telegram", op="has"), rule("nps", group="promoter")]},
        rule("event", name="order_placed", op="did", days=365),
        rule("conversation", status="resolved", op="has_not"),
        rule("attribute", field="orders", op="greater", value=1),
        rule("attribute", field="company", op="is_set"),
    ]
    segment = do_save_segment(name="Active buyers", definition=definition, actor=None)
    customers = customers_in_segment(segment)
    with CaptureQueriesContext(connection) as count_queries:
        assert customers.count() == 1
    with CaptureQueriesContext(connection) as page_queries:
        assert [c.name for c in customers[:20]] == ["Anna"]
    assert len(count_queries) == 1 and len(page_queries) == 1
    sql = count_queries[0]["sql"]
    assert sql.count("EXISTS") >= 3 and "profiles_customer" in sql


def test_segment_count_is_cached_and_survives_a_deleted_attribute(people, django_assert_num_queries):
    segment = do_save_segment(
        name="Pro", definition=[rule("attribute", field="plan", op="equals", value="pro")], actor=None
    )
    assert segment_count(segment) == 1
    with django_assert_num_queries(0):
        assert segment_count(segment) == 1
    AttributeDefinition.objects.filter(key="plan").delete()
    segment.refresh_from_db()
    assert segment_count(segment, max_age=timedelta(0)) is None
    with pytest.raises(SegmentError, match="unknown attribute"):
        customers_in_segment(segment)


def test_names_are_unique_ignoring_case(people):
    do_save_segment(name="VIP", definition=[], actor=None)
    with pytest.raises(SegmentError, match="already exists"):
        do_save_segment(name=" vip ", definition=[], actor=None)
    with pytest.raises(SegmentError, match="needs a name"):
        do_save_segment(name="  ", definition=[], actor=None)


# --- Pages ----------------------------------------------------------------------------------------


def form_data(name: str, *rows: tuple[str, str, str, str], match: str = "all", action: str = "save") -> dict:
    data = {"name": name, "match": match, "action": action}
    for i, (subject, op, value, days) in enumerate(rows):
        data.update({f"c-{i}-subject": subject, f"c-{i}-op": op, f"c-{i}-value": value, f"c-{i}-days": days})
    return data


def test_permissions(client, agent_client, manager_client, people):
    segment = do_save_segment(name="All", definition=[], actor=None)
    urls = [
        reverse("segment_list"),
        reverse("segment_create"),
        reverse("segment_edit", args=[segment.pk]),
        reverse("segment_count", args=[segment.pk]),
        reverse("segment_delete", args=[segment.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url
        assert agent_client.get(url).status_code == 403, url
        assert manager_client.get(url).status_code == 200, url
    assert agent_client.post(reverse("segment_create"), form_data("Sneaky")).status_code == 403
    assert agent_client.post(reverse("segment_delete", args=[segment.pk])).status_code == 403
    assert list(Segment.objects.values_list("name", flat=True)) == ["All"]


def test_create_edit_and_delete_through_the_editor(manager_client, manager, people):
    response = manager_client.post(
        reverse("segment_create"),
        form_data(
            "Telegram or promoters",
            ("identity:telegram", "has", "", ""),
            ("nps", "promoter", "", ""),
            match="any",
        ),
    )
    assert response.status_code == 302 and response.url == reverse("segment_list")
    segment = Segment.objects.get()
    assert segment.created_by == manager
    assert segment.definition == [
        {"any": [rule("identity", kind="telegram", op="has"), rule("nps", group="promoter")]}
    ]

    page = manager_client.get(reverse("segment_list")).content.decode()
    assert "Telegram or promoters" in page and "Latest NPS answer is a promoter (9–10)" in page
    assert manager_client.get(reverse("segment_count", args=[segment.pk])).content.decode().count("2") == 1

    edit = manager_client.get(reverse("segment_edit", args=[segment.pk]))
    assert edit.context["match"] == "any" and len(edit.context["rows"]) == 2
    assert edit.context["preview"]["count"] == 2  # a saved segment opens with its preview

    manager_client.post(
        reverse("segment_edit", args=[segment.pk]),
        form_data("Recent buyers", ("event", "did", "order_placed", "30")),
    )
    segment.refresh_from_db()
    assert segment.name == "Recent buyers"
    assert segment.definition == [rule("event", name="order_placed", op="did", days=30)]

    assert manager_client.post(reverse("segment_delete", args=[segment.pk])).status_code == 302
    assert not Segment.objects.exists()


def test_editor_reports_problems_per_condition(manager_client, people):
    response = manager_client.post(
        reverse("segment_create"),
        form_data(
            "",
            ("attribute:orders", "greater", "many", ""),
            ("event", "did", "order_placed", "soon"),
            ("identity:email", "has", "", ""),
        ),
    )
    assert response.status_code == 400
    rows = response.context["rows"]
    assert "Orders: many is not a valid" in rows[0].error
    assert "days must be a whole number" in rows[1].error
    assert rows[2].error == ""
    assert response.context["name_error"] == "A segment needs a name."
    assert not Segment.objects.exists()
    page = response.content.decode()
    assert 'aria-describedby="c-0-error"' in page and 'id="c-0-error"' in page

    duplicate = do_save_segment(name="Taken", definition=[], actor=None)
    response = manager_client.post(reverse("segment_create"), form_data("taken"))
    assert "already exists" in response.context["name_error"] and Segment.objects.get() == duplicate


def test_htmx_add_refresh_remove_and_preview(manager_client, people):
    url = reverse("segment_create")
    htmx = {"HTTP_HX_REQUEST": "true"}
    added = manager_client.post(
        url, form_data("X", ("identity:telegram", "has", "", ""), action="add"), **htmx
    )
    assert added.status_code == 200
    assert added.templates[0].name == "profiles/segments/_editor.html"
    assert [r.index for r in added.context["rows"]] == [0, 1] and added.context["rows"][1].autofocus

    # Changing what a condition looks at offers that subject's operators, without judging it yet.
    refreshed = manager_client.post(
        url, form_data("X", ("attribute:renewal", "has", "", ""), action="refresh"), **htmx
    )
    row = refreshed.context["rows"][0]
    assert [op for op, _label in row.ops] == ["equals", "greater", "less", "is_set", "is_not_set"]
    assert row.op == "equals" and row.value_kind == "date" and row.error == ""
    assert 'type="date"' in refreshed.content.decode()

    removed = manager_client.post(
        url,
        {
            **form_data("X", ("identity:telegram", "has", "", ""), ("nps", "none", "", "")),
            "action": "remove:0",
        },
        **htmx,
    )
    assert [r.subject for r in removed.context["rows"]] == ["nps"]

    preview = manager_client.post(
        url, form_data("X", ("attribute:company", "contains", "ACME", ""), action="preview"), **htmx
    )
    assert preview.context["preview"]["count"] == 1
    assert [c.name for c in preview.context["preview"]["customers"]] == ["Anna"]
    assert "anna@example.pl" in preview.content.decode()

    saved = manager_client.post(url, form_data("Acme", ("attribute:company", "contains", "ACME", "")), **htmx)
    assert saved.status_code == 200 and saved["HX-Redirect"] == reverse("segment_list")
    assert not Segment.objects.filter(name="X").exists() and Segment.objects.filter(name="Acme").exists()


def test_nested_definitions_are_shown_read_only(manager_client, people):
    definition = [
        {"any": [rule("nps", group="promoter"), {"all": [rule("identity", kind="telegram", op="has")]}]}
    ]
    segment = do_save_segment(name="Nested", definition=definition, actor=None)
    page = manager_client.get(reverse("segment_edit", args=[segment.pk]))
    assert page.context["editable"] is False and page.context["preview"]["count"] == 2
    renamed = manager_client.post(
        reverse("segment_edit", args=[segment.pk]), {"name": "Kept", "action": "save"}
    )
    assert renamed.status_code == 302
    segment.refresh_from_db()
    assert (segment.name, segment.definition) == ("Kept", definition)  # renamed, never flattened
    assert "Nested conditions" in manager_client.get(reverse("segment_list")).content.decode()
