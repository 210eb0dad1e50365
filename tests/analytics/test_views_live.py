"""Survey answers tell open dashboards that their numbers may have moved (no numbers in the event)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from accounts.roles import Role
from analytics.views_live import DASHBOARDS_CHANGED, announce_answers
from core import events, realtime
from tests.analytics import reporting_builders as rb
from tests.conftest import run_async

pytestmark = pytest.mark.django_db(transaction=True)


async def _drain(layer, name: str) -> list[dict]:
    got = []
    while True:
        try:
            got.append(await asyncio.wait_for(layer.receive(name), 0.5))
        except TimeoutError:
            return got


def test_an_answer_reaches_managers_and_the_conversations_team_but_not_other_agents():
    shop = rb.shop()
    conv = rb.conversation(shop.sms, rb.utc("2026-03-02T10:00:00"), team=shop.red)
    answered = events.SurveyAnswered(
        response_id=1, survey_id=1, customer_id=None, conversation_id=conv.pk, score=3, detractor=True
    )
    groups = {
        "manager": realtime.role_group(Role.MANAGER),
        "red": realtime.team_group(shop.red.pk),
        "blue": realtime.team_group(shop.blue.pk),
    }

    async def scenario() -> dict[str, list[dict]]:
        layer = get_channel_layer()
        names = {key: f"dash-test-{key}-{uuid.uuid4().hex}" for key in groups}
        for key, group in groups.items():
            await layer.group_add(group, names[key])
        await sync_to_async(announce_answers)([answered, answered])
        return {key: await _drain(layer, name) for key, name in names.items()}

    got = run_async(scenario)
    for key in ("manager", "red"):
        assert [m["event"] for m in got[key]] == [DASHBOARDS_CHANGED], key
        assert got[key][0]["payload"] == {"kind": "answers", "count": 2}
    assert got["blue"] == []


def test_the_handler_is_subscribed():
    assert announce_answers in events.subscribers(events.SurveyAnswered)
