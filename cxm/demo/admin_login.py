"""The first admin login of a fresh install."""

from __future__ import annotations

import secrets

from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.roles import Role
from accounts.services import do_create_user


@transaction.atomic
def do_ensure_admin(*, username: str = "admin", password: str | None = None) -> tuple[User, str | None]:
    """Create the admin superuser if missing; returns it and the password it got (None if it existed).

    An existing account is left exactly as it is: re-running deploy scripts must never reset a password.
    """
    existing = User.objects.filter(username=username).first()
    if existing is not None:
        return existing, None
    if password:
        # Raises ValidationError listing what is wrong; a chosen password must meet the same rules as any.
        validate_password(password, User(username=username))
    else:
        password = secrets.token_urlsafe(15)
    try:
        user = do_create_user(username=username, password=password, role=Role.ADMIN)
    except IntegrityError:
        # Another process created it between our check and insert (two containers starting at once).
        return User.objects.get(username=username), None
    user.is_superuser = True
    user.is_staff = True
    user.save(update_fields=["is_superuser", "is_staff"])
    return user, password
