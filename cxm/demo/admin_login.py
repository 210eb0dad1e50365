"""The first admin login of a fresh install, and a way back in when its password is lost."""

from __future__ import annotations

import secrets

from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.roles import Role
from accounts.services import do_create_user


class AdminLoginError(Exception):
    pass


def _chosen_or_generated(username: str, password: str | None) -> str:
    if password:
        # Raises ValidationError listing what is wrong; a chosen password must meet the same rules as any.
        validate_password(password, User(username=username))
        return password
    return secrets.token_urlsafe(15)


@transaction.atomic
def do_ensure_admin(*, username: str = "admin", password: str | None = None) -> tuple[User, str | None]:
    """Create the admin superuser if missing; returns it and the password it got (None if it existed).

    An existing account is left exactly as it is: re-running deploy scripts must never reset a password.
    """
    existing = User.objects.filter(username=username).first()
    if existing is not None:
        return existing, None
    password = _chosen_or_generated(username, password)
    try:
        user = do_create_user(username=username, password=password, role=Role.ADMIN)
    except IntegrityError:
        # Another process created it between our check and insert (two containers starting at once).
        return User.objects.get(username=username), None
    user.is_superuser = True
    user.is_staff = True
    user.save(update_fields=["is_superuser", "is_staff"])
    return user, password


@transaction.atomic
def do_reset_admin_password(*, username: str = "admin", password: str | None = None) -> tuple[User, str]:
    """Give the existing admin a new password (generated unless chosen); nothing else about it changes.

    Only an admin account is reset this way, so the command cannot be used to take over someone else's.
    """
    user = User.objects.select_for_update().filter(username=username).first()
    if user is None:
        raise AdminLoginError(f"There is no user {username!r}; run ensure_admin without --reset-password.")
    if not (user.is_superuser or user.role == Role.ADMIN):
        raise AdminLoginError(f"{username!r} is not an admin; its password is left as it is.")
    password = _chosen_or_generated(username, password)
    user.set_password(password)
    user.save(update_fields=["password"])
    return user, password
