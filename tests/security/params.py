"""The object each URL parameter names: always one of the EN side, so the RU agent must not reach it."""

from __future__ import annotations

from collections.abc import Callable

from tests.security.world import World

Value = Callable[[World], object]

# By parameter name, for names that mean one kind of object wherever they appear.
BY_NAME: dict[str, Value] = {
    "message_id": lambda w: w.message_in.pk,
    "attachment_id": lambda w: w.attachment.pk,
    "suggestion_id": lambda w: w.suggestion.pk,
    "log_id": lambda w: w.merge_log.pk,
    "survey_id": lambda w: w.survey.pk,
    "public_key": lambda w: w.survey.public_key,
    "channel_id": lambda w: w.channel_en.pk,
    "provider": lambda w: "email",
    "filename": lambda w: w.attachment.filename,
    "score": lambda w: "9",
    # Django admin: a change page of a row that does not exist, and the app index of an installed app.
    "object_id": lambda w: "0",
    "id": lambda w: "0",
    "app_label": lambda w: "accounts",
    "content_type_id": lambda w: "1",
}

# `pk` and `token` name different objects under different prefixes: the longest matching prefix wins.
BY_PREFIX: dict[tuple[str, str], Value] = {
    # Django admin rows that do not exist: the admin's own wrapper decides before the row is looked up.
    ("admin/", "pk"): lambda w: 0,
    ("admin/otp_totp/totpdevice/", "pk"): lambda w: _device_pk(),
    ("inbox/", "pk"): lambda w: w.conversation_en.pk,
    ("inbox/rows/", "pk"): lambda w: w.conversation_en.pk,
    ("inbox/views/", "pk"): lambda w: w.saved_view.pk,
    ("customers/", "pk"): lambda w: w.customer.pk,
    ("customers/segments/", "pk"): lambda w: w.segment.pk,
    ("customers/imports/", "pk"): lambda w: w.customer_import.pk,
    ("surveys/", "pk"): lambda w: w.survey.pk,
    ("surveys/follow-ups/", "pk"): lambda w: w.follow_up.pk,
    ("api/v1/surveys/", "pk"): lambda w: w.survey.pk,
    ("files/", "token"): lambda w: w.attachment_token,
    ("s/", "token"): lambda w: w.invitation.token,
    # A reply that went out: the one a retry names.
    ("inbox/<int:pk>/messages/<int:message_id>/retry/", "message_id"): lambda w: w.message_out.pk,
}


def _device_pk() -> int:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.get(name="matrix").pk


def values_for(route_key: str, params: list[str], world: World) -> dict[str, str]:
    values = {}
    for name in params:
        prefixes = [p for (p, n) in BY_PREFIX if n == name and route_key.startswith(p)]
        if prefixes:
            value = BY_PREFIX[(max(prefixes, key=len), name)](world)
        elif name in BY_NAME:
            value = BY_NAME[name](world)
        else:
            raise AssertionError(
                f"route {route_key!r} takes a parameter {name!r} that tests/security/params.py does not "
                "know: say which object of the EN team it names"
            )
        values[name] = str(value)
    return values
