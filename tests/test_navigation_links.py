"""Where people look for a page, a link to it; from every page, a way back."""

from __future__ import annotations

import pytest
from django.urls import reverse

from surveys.models import Survey, SurveyKind

pytestmark = pytest.mark.django_db


def test_settings_sections_lead_to_the_audit_log_and_retention(admin_client_):
    page = admin_client_.get(reverse("settings")).content.decode()
    assert f'href="{reverse("audit_log")}"' in page
    assert f'href="{reverse("retention_settings")}"' in page


@pytest.mark.parametrize(("name", "section"), [("audit_log", "audit"), ("retention_settings", "retention")])
def test_privacy_pages_sit_among_the_settings_sections(admin_client_, name, section):
    page = admin_client_.get(reverse(name)).content.decode()
    assert 'data-testid="settings-nav"' in page
    assert f'aria-current="page" data-settings-nav="{section}"' in page
    # The sidebar marks Settings, not Customers (the pages live under /customers/).
    assert 'data-nav="settings" aria-current="page"' in page
    assert 'data-nav="customers" aria-current="page"' not in page


def test_inbox_header_has_a_search_box_that_opens_the_search(agent_client):
    page = agent_client.get(reverse("inbox")).content.decode()
    assert f'action="{reverse("inbox_search")}"' in page
    assert 'name="q"' in page and "data-shortcut-search" in page


def test_inbox_search_box_keeps_the_status_tab(agent_client):
    page = agent_client.get(reverse("inbox"), {"status": "open"}).content.decode()
    form = page[page.index('data-testid="inbox-search"') :]
    form = form[: form.index("</form>")]
    assert '<input type="hidden" name="status" value="open">' in form


def test_sidebar_marks_the_section_of_inner_pages(manager_client):
    survey = Survey.objects.create(kind=SurveyKind.NPS, name="NPS")
    for url, nav in [
        (reverse("inbox_search"), "inbox"),
        (reverse("survey_detail", args=[survey.pk]), "surveys"),
        (reverse("survey_edit", args=[survey.pk]), "surveys"),
        (reverse("survey_widget_settings", args=[survey.pk]), "surveys"),
    ]:
        assert f'data-nav="{nav}" aria-current="page"' in manager_client.get(url).content.decode(), url


def test_widget_page_leads_back_to_its_survey(manager_client):
    survey = Survey.objects.create(kind=SurveyKind.NPS, name="NPS")
    page = manager_client.get(reverse("survey_widget_settings", args=[survey.pk])).content.decode()
    assert f'href="{reverse("survey_detail", args=[survey.pk])}#share"' in page
