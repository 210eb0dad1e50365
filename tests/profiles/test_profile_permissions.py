"""Who may open customer pages, export a person's data and erase it; unknown ids are not found."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.roles import Role
from profiles.models import AuditEntry, Customer, Identity, IdentityKind

pytestmark = pytest.mark.django_db

MISSING = 10**9


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def marta(db) -> Customer:
    customer = Customer.objects.create(name="Marta Nowak", company="Nowak sp. z o.o.")
    Identity.objects.create(customer=customer, kind=IdentityKind.EMAIL, value="marta@example.pl")
    return customer


def urls(pk: int) -> dict[str, str]:
    return {
        "list": reverse("customer_list"),
        "profile": reverse("customer_profile", args=[pk]),
        "export": reverse("customer_export", args=[pk]),
        "erase": reverse("customer_erase", args=[pk]),
        "audit": reverse("audit_log"),
        "retention": reverse("retention_settings"),
    }


def call(client, name: str, url: str, data: dict | None = None):
    # Export is a POST (an audited download); the rest open with GET.
    return client.post(url, data or {}) if name == "export" else client.get(url)


def test_anonymous_visitors_are_sent_to_login_for_every_page(client, marta):
    for pk in (marta.pk, MISSING):
        for name, url in urls(pk).items():
            response = call(client, name, url)
            assert response.status_code == 302, name
            assert response.url == f"{reverse('login')}?next={url}", name
        response = client.post(reverse("customer_erase", args=[pk]), {"confirmation": f"ERASE-{pk}"})
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
    marta.refresh_from_db()
    assert marta.erased_at is None and not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.AGENT, {"list", "profile"}),
        (Role.MANAGER, {"list", "profile", "export"}),
        (Role.ADMIN, {"list", "profile", "export", "erase", "audit", "retention"}),
    ],
)
def test_each_role_opens_exactly_its_customer_pages(make_user, client, marta, role, allowed):
    client.force_login(make_user(role))
    for name, url in urls(marta.pk).items():
        status = call(client, name, url).status_code
        assert status == (200 if name in allowed else 403), (role, name, status)


def test_agents_see_and_search_customers(agent_client, marta):
    Customer.objects.create(name="Jan Kowalski")
    page = agent_client.get(reverse("customer_list"))
    assert page.status_code == 200
    assert {c.pk for c in page.context["customers"]} >= {marta.pk}
    found = agent_client.get(reverse("customer_list"), {"q": "MARTA@example"})
    assert [c.pk for c in found.context["customers"]] == [marta.pk]
    assert "Marta Nowak" in found.content.decode()


@pytest.mark.parametrize("role", [Role.AGENT, Role.MANAGER])
def test_only_admins_erase(make_user, client, marta, role):
    client.force_login(make_user(role))
    url = reverse("customer_erase", args=[marta.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"confirmation": f"ERASE-{marta.pk}"}).status_code == 403
    marta.refresh_from_db()
    assert marta.erased_at is None and marta.name == "Marta Nowak"
    assert not AuditEntry.objects.exists()


def test_an_admin_erases_after_confirming(admin_client_, marta):
    url = reverse("customer_erase", args=[marta.pk])
    assert admin_client_.post(url, {"confirmation": "ERASE-1"}).status_code == 400
    response = admin_client_.post(url, {"confirmation": f"ERASE-{marta.pk}", "reason": "request #5"})
    assert response.status_code == 302 and response.url == reverse("customer_list")
    marta.refresh_from_db()
    assert marta.erased_at is not None and not marta.identities.exists()


def test_managers_and_admins_export(manager_client, admin_client_, agent_client, marta):
    url = reverse("customer_export", args=[marta.pk])
    for client in (manager_client, admin_client_):
        response = client.post(url)
        assert response.status_code == 200 and response["Content-Type"] == "application/zip"
        assert client.get(url).status_code == 405  # never a plain link that a crawler could follow
    assert agent_client.post(url).status_code == 403
    assert AuditEntry.objects.filter(action="export").count() == 2


def test_a_customer_that_does_not_exist_is_not_found(agent_client, manager_client, admin_client_):
    assert agent_client.get(reverse("customer_profile", args=[MISSING])).status_code == 404
    assert manager_client.post(reverse("customer_export", args=[MISSING])).status_code == 404
    erase = reverse("customer_erase", args=[MISSING])
    assert admin_client_.get(erase).status_code == 404
    assert admin_client_.post(erase, {"confirmation": f"ERASE-{MISSING}"}).status_code == 404
    assert not AuditEntry.objects.exists()


def test_forbidden_comes_before_not_found(agent_client, manager_client):
    """Without the right, the answer is the same whether the customer exists or not."""
    assert agent_client.post(reverse("customer_export", args=[MISSING])).status_code == 403
    assert manager_client.get(reverse("customer_erase", args=[MISSING])).status_code == 403


def test_customer_urls_take_only_numeric_ids(admin_client_):
    assert admin_client_.get("/customers/abc/erase/").status_code == 404
    assert admin_client_.get("/customers/-1/erase/").status_code == 404
