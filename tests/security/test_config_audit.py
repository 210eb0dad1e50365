"""The configuration audit log: every service that changes configuration writes one entry with the
changed fields, secrets never reach it, and only admins can read it."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.api_keys import do_create_api_key, do_revoke_api_key
from accounts.models import Team, User
from accounts.roles import Role
from accounts.services import do_change_role, do_create_team, do_create_user
from channels_app.models import Channel
from channels_app.services import do_create_channel, do_update_channel
from core.config_audit import acting_as, do_record_change, snapshot
from core.models import ConfigAction, ConfigChange, ConfigObjectType
from profiles.models import RetentionPolicy, Segment
from profiles.retention import do_save_policies
from surveys.invitation_models import Trigger
from surveys.models import Survey
from surveys.widget_services import do_update_widget_rules
from tickets.sla_models import SlaPolicy

pytestmark = pytest.mark.django_db

AUTH_TOKEN = "twilio-auth-token-0123456789abcdef"
NEW_AUTH_TOKEN = "twilio-auth-token-fedcba9876543210"


def only_entry(**filters) -> ConfigChange:
    entries = list(ConfigChange.objects.filter(**filters))
    assert len(entries) == 1, [(e.action, e.object_type, e.changes) for e in entries]
    return entries[0]


def stored_text() -> str:
    """Everything the log holds, as the database would dump it."""
    return json.dumps(
        list(ConfigChange.objects.values("actor_label", "object_repr", "object_id", "changes")),
        ensure_ascii=False,
        default=str,
    )


# --- every service records, with the right fields --------------------------------------------------


def test_channel_creation_masks_every_credential(admin_user):
    team = Team.objects.create(name="Support RU")
    with acting_as(admin_user):
        channel = do_create_channel(
            kind="sms",
            name="Twilio RU",
            address="+48123456789",
            credentials={"account_sid": "AC0123456789", "auth_token": AUTH_TOKEN},
            teams=[team],
        )
    entry = only_entry(object_type=ConfigObjectType.CHANNEL)
    assert entry.action == ConfigAction.CREATED and entry.actor == admin_user
    assert entry.actor_label == admin_user.username
    assert entry.object_id == str(channel.pk) and entry.object_repr == "Twilio RU"
    assert entry.changes["name"] == {"from": None, "to": "Twilio RU"}
    assert entry.changes["teams"] == {"from": None, "to": ["Support RU"]}
    assert entry.changes["credentials.auth_token"] == {"secret": True}
    assert entry.changes["credentials.account_sid"] == {"secret": True}
    assert AUTH_TOKEN not in stored_text() and "AC0123456789" not in stored_text()


def test_channel_update_records_before_and_after_and_masks_a_new_secret(admin_user):
    channel = do_create_channel(kind="sms", name="SMS", credentials={"auth_token": AUTH_TOKEN})
    ConfigChange.objects.all().delete()
    team = Team.objects.create(name="Care")
    with acting_as(admin_user):
        do_update_channel(
            channel=channel,
            name="SMS PL",
            address="",
            is_active=False,
            credential_updates={"auth_token": NEW_AUTH_TOKEN},
            teams=[team],
        )
    entry = only_entry()
    assert entry.action == ConfigAction.UPDATED and entry.actor == admin_user
    assert entry.changes == {
        "name": {"from": "SMS", "to": "SMS PL"},
        "is_active": {"from": True, "to": False},
        "teams": {"from": [], "to": ["Care"]},
        "credentials.auth_token": {"secret": True},
    }
    assert AUTH_TOKEN not in stored_text() and NEW_AUTH_TOKEN not in stored_text()


def test_an_update_that_changes_nothing_writes_nothing():
    channel = do_create_channel(kind="sms", name="SMS", credentials={"auth_token": AUTH_TOKEN})
    ConfigChange.objects.all().delete()
    do_update_channel(
        channel=channel,
        name="SMS",
        address="",
        is_active=True,
        credential_updates={"auth_token": ""},
        teams=[],
    )
    assert not ConfigChange.objects.exists()


def test_user_creation_never_stores_the_password_hash():
    user = do_create_user(
        username="olga", password="a-long-password-123", role=Role.MANAGER, email="o@x.test"
    )
    entry = only_entry(object_type=ConfigObjectType.USER)
    assert entry.action == ConfigAction.CREATED and entry.actor is None and entry.actor_label == ""
    assert entry.changes["password"] == {"secret": True}
    assert entry.changes["role"] == {"from": None, "to": "manager"}
    assert user.password not in stored_text() and "pbkdf2" not in stored_text()


def test_role_change_is_recorded_with_the_acting_admin(admin_user, make_user):
    agent = make_user(Role.AGENT)
    ConfigChange.objects.all().delete()
    with acting_as(admin_user):
        do_change_role(user=agent, role=Role.ADMIN)
    entry = only_entry()
    assert (entry.object_type, entry.action, entry.actor) == (
        ConfigObjectType.USER,
        ConfigAction.UPDATED,
        admin_user,
    )
    assert entry.changes == {
        "role": {"from": "agent", "to": "admin"},
        "is_staff": {"from": False, "to": True},
    }


def test_team_creation_lists_the_members(make_user):
    member = make_user(Role.AGENT, username="ivan")
    do_create_team(name="Night shift", description="After 22:00", members=[member])
    entry = only_entry(object_type=ConfigObjectType.TEAM)
    assert entry.changes["members"] == {"from": None, "to": ["ivan"]}
    assert entry.changes["name"] == {"from": None, "to": "Night shift"}


def test_api_key_creation_and_revocation_never_store_the_key(admin_user):
    key, plaintext = do_create_api_key(name="Shop backend", created_by=admin_user)
    created = only_entry(object_type=ConfigObjectType.API_KEY, action=ConfigAction.CREATED)
    assert created.changes["key_hash"] == {"secret": True}
    assert created.changes["prefix"] == {"from": None, "to": key.prefix}
    do_revoke_api_key(key=key)
    revoked = only_entry(object_type=ConfigObjectType.API_KEY, action=ConfigAction.UPDATED)
    assert set(revoked.changes) == {"revoked_at"} and revoked.changes["revoked_at"]["from"] is None
    secret = plaintext.split(".", 1)[1]
    assert secret not in stored_text() and key.key_hash.split("$")[1] not in stored_text()


def test_retention_periods_record_creation_change_and_removal(admin_client_, admin_user):
    RetentionPolicy.objects.create(data_kind="messages", days=365)
    RetentionPolicy.objects.create(data_kind="attachments", days=90)
    response = admin_client_.post(
        reverse("retention_settings"), {"raw_inbound_events": "30", "messages": "400", "attachments": ""}
    )
    assert response.status_code == 302
    by_action = {
        e.action: e for e in ConfigChange.objects.filter(object_type=ConfigObjectType.RETENTION_POLICY)
    }
    assert set(by_action) == {ConfigAction.CREATED, ConfigAction.UPDATED, ConfigAction.DELETED}
    assert by_action[ConfigAction.CREATED].object_repr == "raw_inbound_events"
    assert by_action[ConfigAction.UPDATED].changes == {"days": {"from": 365, "to": 400}}
    assert by_action[ConfigAction.DELETED].changes == {
        "data_kind": {"from": "attachments", "to": None},
        "days": {"from": 90, "to": None},
    }
    assert all(e.actor == admin_user for e in by_action.values())
    do_save_policies({"raw_inbound_events": 30, "messages": 400})  # the same again: nothing to record
    assert ConfigChange.objects.filter(object_type=ConfigObjectType.RETENTION_POLICY).count() == 3


def _survey_form(**overrides) -> dict[str, str]:
    data = {
        "name": "Delivery CSAT",
        "kind": "csat",
        "scale_max": "3",
        "scale_style": "numbers",
        "is_active": "on",
        "starts_at": "",
        "ends_at": "",
        "owner": "",
        "recontact_days": "60",
        "sampling_percent": "100",
        "expiry_days": "7",
        "detractor_threshold": "",
        "followup_team": "",
        "question_en": "How was your delivery?",
        "question_ru": "Как прошла доставка?",
        "question_pl": "Jak oceniasz dostawę?",
        "followup_en": "",
        "followup_ru": "",
        "followup_pl": "",
        "questions-TOTAL_FORMS": "0",
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "10",
        "triggers-TOTAL_FORMS": "1",
        "triggers-INITIAL_FORMS": "0",
        "triggers-MIN_NUM_FORMS": "0",
        "triggers-MAX_NUM_FORMS": "20",
        "triggers-0-kind": "event",
        "triggers-0-is_active": "on",
        "triggers-0-delay_minutes": "60",
        "triggers-0-event_name": "order_delivered",
        "triggers-0-segment": "",
        "triggers-0-every_days": "",
        "triggers-0-medium": "email",
        "action": "save",
    }
    data.update(overrides)
    return data


def test_survey_and_trigger_pages_record_create_update_and_delete(manager_client, manager):
    response = manager_client.post(reverse("survey_create"), _survey_form())
    assert response.status_code == 302, response.content.decode()[:2000]
    survey = Survey.objects.get()
    trigger = Trigger.objects.get()
    created = only_entry(object_type=ConfigObjectType.SURVEY)
    assert created.action == ConfigAction.CREATED and created.actor == manager
    assert created.changes["question.ru"] == {"from": None, "to": "Как прошла доставка?"}
    assert only_entry(object_type=ConfigObjectType.TRIGGER).changes["event_name"]["to"] == "order_delivered"

    ConfigChange.objects.all().delete()
    response = manager_client.post(
        reverse("survey_edit", args=[survey.pk]),
        _survey_form(
            question_pl="Jak oceniasz naszą dostawę?",
            **{
                "triggers-INITIAL_FORMS": "1",
                "triggers-0-id": str(trigger.pk),
                "triggers-0-survey": str(survey.pk),
                "triggers-0-DELETE": "on",
            },
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert only_entry(object_type=ConfigObjectType.SURVEY).changes == {
        "question.pl": {"from": "Jak oceniasz dostawę?", "to": "Jak oceniasz naszą dostawę?"}
    }
    deleted = only_entry(object_type=ConfigObjectType.TRIGGER)
    assert deleted.action == ConfigAction.DELETED and deleted.object_id == str(trigger.pk)
    assert deleted.actor == manager


def test_widget_rules_change_is_a_survey_change():
    survey = Survey.objects.create(kind="nps", name="NPS", question={"en": "Recommend us?"})
    do_update_widget_rules(
        survey=survey, delay_seconds=5, paths=["/shop/*"], signed_in_only=True, allowed_origins=[]
    )
    entry = only_entry(object_type=ConfigObjectType.SURVEY)
    assert entry.action == ConfigAction.UPDATED
    assert entry.changes["widget_rules.signed_in_only"] == {"from": None, "to": True}


def test_changes_in_the_django_admin_are_recorded(make_user):
    from django.test import Client

    superuser = make_user(Role.ADMIN)
    User.objects.filter(pk=superuser.pk).update(is_superuser=True)
    ConfigChange.objects.all().delete()
    client = Client()
    client.force_login(superuser)

    add = client.post(
        reverse("admin:tickets_slapolicy_add"),
        {"name": "VIP", "is_active": "on", "priority": "", "first_response_minutes": "30"},
    )
    assert add.status_code == 302, add.content.decode()[:3000]
    policy = SlaPolicy.objects.get()
    assert only_entry(action=ConfigAction.CREATED).changes["first_response_minutes"] == {
        "from": None,
        "to": 30,
    }

    client.post(
        reverse("admin:tickets_slapolicy_change", args=[policy.pk]),
        {"name": "VIP", "is_active": "on", "priority": "", "first_response_minutes": "15"},
    )
    changed = only_entry(action=ConfigAction.UPDATED)
    assert changed.changes == {"first_response_minutes": {"from": 30, "to": 15}}
    assert changed.actor == superuser

    client.post(reverse("admin:tickets_slapolicy_delete", args=[policy.pk]), {"post": "yes"})
    deleted = only_entry(action=ConfigAction.DELETED)
    assert deleted.object_type == ConfigObjectType.SLA_POLICY and deleted.object_repr == "VIP"

    target = make_user(Role.AGENT, username="piotr")
    ConfigChange.objects.all().delete()
    response = client.post(
        reverse("admin:auth_user_password_change", args=[target.pk]),
        {
            "password1": "another-long-pass-987",
            "password2": "another-long-pass-987",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = only_entry()
    assert entry.changes == {"password": {"secret": True}} and entry.object_repr == "piotr"
    target.refresh_from_db()
    assert target.password not in stored_text()


def test_an_entry_is_rolled_back_with_its_change():
    with pytest.raises(RuntimeError), transaction.atomic():
        do_create_team(name="Short-lived")
        raise RuntimeError("the use case failed after the write")
    assert not ConfigChange.objects.exists() and not Team.objects.exists()


def test_recording_an_unregistered_model_is_a_programming_error():
    with pytest.raises(ValueError, match="not in the configuration audit registry"):
        do_record_change(instance=Segment(name="Everyone"))


def test_snapshot_of_an_unsaved_object_is_empty():
    assert snapshot(Channel(kind="sms", name="x")).values is None


# --- who may read it ---------------------------------------------------------------------------------


def test_only_admins_open_the_log(client, agent_client, manager_client, admin_client_):
    url = reverse("config_audit")
    assert agent_client.get(url).status_code == 403
    assert manager_client.get(url).status_code == 403
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and reverse("login") in anonymous.url
    page = admin_client_.get(url)
    assert page.status_code == 200
    assert 'data-settings-nav="config-audit"' in page.content.decode()
    assert 'data-settings-nav="config-audit"' not in manager_client.get(reverse("home")).content.decode()


def test_the_page_shows_changes_with_secrets_as_changed(admin_client_, admin_user):
    with acting_as(admin_user):
        channel = do_create_channel(kind="sms", name="SMS", credentials={"auth_token": AUTH_TOKEN})
        do_update_channel(
            channel=channel,
            name="SMS RU",
            address="",
            is_active=True,
            credential_updates={"auth_token": NEW_AUTH_TOKEN},
            teams=[],
        )
    html = admin_client_.get(reverse("config_audit")).content.decode()
    assert "SMS RU" in html and "changed" in html and "data-secret" in html
    assert AUTH_TOKEN not in html and NEW_AUTH_TOKEN not in html
    assert html.index("Changed") < html.index("Created")  # newest first


def test_every_string_of_the_page_has_russian_and_polish():
    root = Path(__file__).resolve().parents[2]
    template = (root / "templates/settings/config_audit.html").read_text(encoding="utf-8")
    wanted = set(re.findall(r'{% translate "([^"]+)" %}', template))
    wanted |= set(re.findall(r"{% translate '([^']+)' %}", template))
    wanted |= {
        "Configuration log",
        "Object type",
        "Changed by",
        "All objects",
        "Everyone",
        "yes",
        "no",
    }
    wanted |= {str(label) for _value, label in ConfigObjectType.choices}
    wanted |= {str(label) for _value, label in ConfigAction.choices}
    from django.utils.translation import trans_real

    contexts = [("date range", "From"), ("date range", "Until"), ("value change", "to")]
    for language in ("ru", "pl"):
        # The compiled catalogue the page itself uses ("System" is "System" in Polish too: present
        # in the catalogue is what counts, not different from English).
        catalog = trans_real.translation(language)._catalog
        missing = sorted(text for text in wanted if not catalog.get(text))
        missing += [text for context, text in contexts if not catalog.get(f"{context}\x04{text}")]
        assert not missing, (language, missing)


# --- filters, order, pages, queries ------------------------------------------------------------------


def test_filters_by_type_actor_system_and_dates(admin_client_, admin_user, make_user):
    other_admin = make_user(Role.ADMIN, username="second.admin")
    ConfigChange.objects.all().delete()
    with acting_as(admin_user):
        do_create_team(name="Alpha")
    with acting_as(other_admin):
        do_create_channel(kind="sms", name="Beta SMS")
    do_create_team(name="Gamma")  # no one signed in: the system
    old = ConfigChange.objects.get(object_repr="Alpha")
    ConfigChange.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=10))

    def shown(**params) -> set[str]:
        response = admin_client_.get(reverse("config_audit"), params)
        assert response.status_code == 200
        return {e.object_repr for e in response.context["entries"]}

    assert shown() == {"Alpha", "Beta SMS", "Gamma"}
    assert shown(object_type="team") == {"Alpha", "Gamma"}
    assert shown(actor=str(other_admin.pk)) == {"Beta SMS"}
    assert shown(actor="system") == {"Gamma"}
    today = timezone.localdate()
    assert shown(since=str(today)) == {"Beta SMS", "Gamma"}
    assert shown(until=str(today - timedelta(days=5))) == {"Alpha"}
    assert shown(object_type="team", since=str(today)) == {"Gamma"}
    # A reversed range is refused with a message rather than silently showing everything or nothing.
    response = admin_client_.get(
        reverse("config_audit"), {"since": str(today), "until": str(today - timedelta(1))}
    )
    assert "The end date is before the start date." in response.content.decode()


def test_pages_are_newest_first_and_cost_the_same_queries_at_any_length(admin_client_, make_user):
    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client_.get(reverse("config_audit")).status_code == 200
        return len(captured)

    actors = [make_user(Role.ADMIN) for _ in range(3)]
    ConfigChange.objects.all().delete()
    for n in range(3):
        with acting_as(actors[n % 3]):
            do_create_team(name=f"Team {n}")
    few = queries_for_page()
    for n in range(3, 60):
        with acting_as(actors[n % 3]):
            do_create_team(name=f"Team {n}")
    many = queries_for_page()
    assert many == few

    first = admin_client_.get(reverse("config_audit"))
    names = [e.object_repr for e in first.context["entries"]]
    assert len(names) == 50 and names[0] == "Team 59" and names[-1] == "Team 10"
    second = admin_client_.get(reverse("config_audit"), {"object_type": "team", "page": "2"})
    assert [e.object_repr for e in second.context["entries"]][-1] == "Team 0"
    assert "object_type=team&amp;page=1" in second.content.decode()
