"""The survey page leads to the website widget and to the survey's public link and QR code."""

from __future__ import annotations

import pytest
from django.urls import reverse

from surveys.models import Survey

from . import factories as f

pytestmark = pytest.mark.django_db


def test_detail_offers_the_widget_and_to_create_the_link(manager_client):
    survey = f.survey()
    page = manager_client.get(reverse("survey_detail", args=[survey.pk])).content.decode()
    assert f'href="{reverse("survey_widget_settings", args=[survey.pk])}"' in page
    assert f'action="{reverse("survey_share", args=[survey.pk])}"' in page
    assert 'data-testid="survey-share-url"' not in page


def test_creating_the_link_shows_it_with_its_qr_code(manager_client):
    survey = f.survey()
    response = manager_client.post(reverse("survey_share", args=[survey.pk]))
    assert response.status_code == 302
    assert response.url == reverse("survey_detail", args=[survey.pk]) + "#share"
    key = Survey.objects.get(pk=survey.pk).public_key
    assert key

    page = manager_client.get(reverse("survey_detail", args=[survey.pk])).content.decode()
    share = reverse("survey_public:share", args=[key])
    qr = reverse("survey_public:share_qr", args=[key])
    assert f"{share}</code>" in page
    assert f'src="{qr}"' in page and f'href="{qr}" download=' in page
    # Asking again keeps the key: codes already printed go on working.
    manager_client.post(reverse("survey_share", args=[survey.pk]))
    assert Survey.objects.get(pk=survey.pk).public_key == key


def test_agents_see_the_link_but_cannot_create_one(agent_client, manager_client):
    survey = f.survey()
    assert agent_client.post(reverse("survey_share", args=[survey.pk])).status_code == 403
    assert Survey.objects.get(pk=survey.pk).public_key is None
    page = agent_client.get(reverse("survey_detail", args=[survey.pk])).content.decode()
    assert 'data-testid="survey-share-enable"' not in page

    manager_client.post(reverse("survey_share", args=[survey.pk]))
    page = agent_client.get(reverse("survey_detail", args=[survey.pk])).content.decode()
    assert 'data-testid="survey-share-url"' in page
    assert 'data-testid="survey-qr"' not in page  # the QR code endpoint is for managers


def test_share_link_is_post_only(manager_client):
    assert manager_client.get(reverse("survey_share", args=[f.survey().pk])).status_code == 405


def test_list_rows_lead_to_widget_link_and_editor(manager_client, agent_client):
    survey = f.survey()
    page = manager_client.get(reverse("survey_list")).content.decode()
    row = page[page.index(f'data-survey-id="{survey.pk}"') :]
    row = row[: row.index("</tr>")]
    for url in (
        reverse("survey_widget_settings", args=[survey.pk]),
        reverse("survey_detail", args=[survey.pk]) + "#share",
        reverse("survey_edit", args=[survey.pk]),
    ):
        assert f'href="{url}"' in row
    assert 'data-testid="survey-row-actions"' not in agent_client.get(reverse("survey_list")).content.decode()
