"""The second factor of a user: a TOTP authenticator plus single-use recovery codes (django-otp devices).

Writes take keyword-only arguments; every change to whether a user has a second factor raises the
user's security stamp, which ends all their other sessions (see accounts.models.User).
"""

from __future__ import annotations

import re
from base64 import b32encode

from django.db import transaction
from django.db.models import F
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import SecondFactorPolicy, User
from accounts.roles import Role

RECOVERY_CODE_COUNT = 10
TOTP_NAME = "authenticator"
RECOVERY_NAME = "recovery codes"
_TOTP_TOKEN = re.compile(r"^\d{6}$")


# --- reads -----------------------------------------------------------------------------------------


def has_second_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_totp_device(user: User) -> TOTPDevice | None:
    """The authenticator being set up (created, not yet confirmed with a code)."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def totp_secret(device: TOTPDevice) -> str:
    """The key as authenticator apps take it typed in: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def required_roles() -> set[str]:
    return set(SecondFactorPolicy.objects.filter(required=True).values_list("role", flat=True))


def second_factor_required(user: User) -> bool:
    role = Role.ADMIN if user.is_superuser else user.role
    return SecondFactorPolicy.objects.filter(role=role, required=True).exists()


def normalize_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def verify_second_factor(*, user: User, code: str) -> Device | None:
    """The device that accepts `code`: six digits are an authenticator code, anything else a recovery
    code (used up by a match). Each device throttles its own failures (django-otp)."""
    code = normalize_code(code)
    if not code:
        return None
    model = TOTPDevice if _TOTP_TOKEN.match(code) else StaticDevice
    with transaction.atomic():
        for device in model.objects.filter(user=user, confirmed=True).select_for_update():
            if device.verify_token(code):
                return device
    return None


# --- writes ----------------------------------------------------------------------------------------


def do_start_totp_setup(*, user: User) -> TOTPDevice:
    """A fresh, unconfirmed authenticator; an earlier unfinished setup is replaced."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)


def do_confirm_totp(*, user: User, device: TOTPDevice, code: str) -> list[str] | None:
    """Turns the second factor on when `code` is right; returns the new recovery codes (shown once)."""
    if device.user_id != user.pk or device.confirmed or not device.verify_token(normalize_code(code)):
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _replace_recovery_codes(user)
        _raise_security_stamp(user)
    return codes


def do_regenerate_recovery_codes(*, user: User) -> list[str]:
    with transaction.atomic():
        return _replace_recovery_codes(user)


def do_remove_second_factor(*, user: User) -> None:
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        _raise_security_stamp(user)


def do_set_required_roles(*, roles: set[str]) -> None:
    unknown = set(roles) - set(Role.values)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)!r}")
    with transaction.atomic():
        for role in Role.values:
            SecondFactorPolicy.objects.update_or_create(role=role, defaults={"required": role in roles})


def format_recovery_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def _replace_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return [format_recovery_code(code) for code in codes]


def _raise_security_stamp(user: User) -> None:
    # Saved through the model, not update(): saving security_stamp is what closes the user's open
    # sockets (accounts.revocation), as the changed session hash ends their other pages.
    user.security_stamp = F("security_stamp") + 1
    user.save(update_fields=["security_stamp"])
    user.refresh_from_db(fields=["security_stamp"])
