"""Writes for users and teams."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from accounts.models import Team, User
from accounts.roles import Role
from core.config_audit import do_record_change, snapshot


@transaction.atomic
def do_create_user(
    *,
    username: str,
    password: str | None,
    role: str = Role.AGENT,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    language: str = "",
) -> User:
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}")
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=role,
        language=language,
        # Only admins reach the Django admin; everyone else works in the product UI.
        is_staff=role == Role.ADMIN,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    do_record_change(instance=user)
    return user


@transaction.atomic
def do_change_role(*, user: User, role: str) -> User:
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}")
    before = snapshot(user)
    user.role = role
    user.is_staff = role == Role.ADMIN or user.is_superuser
    user.save(update_fields=["role", "is_staff"])
    do_record_change(instance=user, before=before)
    return user


# Saving `is_active` or `password` through the model is what ends the user's open sockets
# (accounts.revocation): a queryset update() would skip that, so these go through save().
@transaction.atomic
def do_deactivate_user(*, user: User) -> User:
    before = snapshot(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    do_record_change(instance=user, before=before)
    return user


@transaction.atomic
def do_set_password(*, user: User, password: str) -> User:
    """A new password: every session signed in with the old one ends, and with it its sockets."""
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


def do_set_language(*, user: User, language: str) -> None:
    User.objects.filter(pk=user.pk).update(language=language)


@transaction.atomic
def do_create_team(*, name: str, description: str = "", members: Iterable[User] = ()) -> Team:
    team = Team.objects.create(name=name, description=description)
    team.members.set(list(members))
    do_record_change(instance=team)
    return team
