"""Saved inbox views: create, change and delete them (reads are in selectors_inbox)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from accounts.models import Team, User
from accounts.roles import Role
from tickets.models import SavedView, SavedViewVisibility
from tickets.selectors_inbox import parse_query

MAX_NAME = 80
MAX_VIEWS_PER_OWNER = 100


class SavedViewError(ValueError):
    """Why a view cannot be saved, in words for the agent."""


def can_share(user: User) -> bool:
    # Shared views show up in other people's inboxes: leads decide what everyone sees there.
    return user.is_superuser or user.role in (Role.MANAGER, Role.ADMIN)


def clean_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Only parameters the inbox understands, with valid values, in canonical form: the stored dict
    is never what the browser sent."""
    return parse_query(params).savable_params()


def check_name(name: Any) -> str:
    cleaned = " ".join(str(name or "").split())
    if not cleaned:
        raise SavedViewError(_("Give the view a name."))
    if len(cleaned) > MAX_NAME:
        raise SavedViewError(_("A view name can have at most %(count)d characters.") % {"count": MAX_NAME})
    return cleaned


def check_sharing(*, user: User, visibility: Any, team_id: Any) -> tuple[str, Team | None]:
    if visibility not in SavedViewVisibility.values:
        visibility = SavedViewVisibility.PRIVATE
    if visibility == SavedViewVisibility.PRIVATE:
        return visibility, None
    if not can_share(user):
        raise SavedViewError(_("Only managers and admins can share views."))
    if visibility == SavedViewVisibility.EVERYONE:
        return visibility, None
    try:
        team = Team.objects.get(pk=int(team_id))
    except (TypeError, ValueError, Team.DoesNotExist):
        raise SavedViewError(_("Pick the team to share the view with.")) from None
    return visibility, team


def _save(view: SavedView) -> SavedView:
    try:
        with transaction.atomic():
            view.save()
    except IntegrityError:
        raise SavedViewError(_("You already have a view with this name.")) from None
    return view


def do_create_saved_view(
    *, owner: User, name: Any, params: Mapping[str, Any], visibility: Any = None, team_id: Any = None
) -> SavedView:
    name = check_name(name)
    visibility, team = check_sharing(user=owner, visibility=visibility, team_id=team_id)
    with transaction.atomic():
        # Lock the owner's row so two quick saves do not take the same position.
        User.objects.select_for_update().filter(pk=owner.pk).first()
        mine = SavedView.objects.filter(owner=owner)
        if mine.count() >= MAX_VIEWS_PER_OWNER:
            raise SavedViewError(_("You have too many saved views; delete one first."))
        last = mine.aggregate(last=Max("position"))["last"]
        view = SavedView(
            owner=owner,
            name=name,
            params=clean_params(params),
            visibility=visibility,
            team=team,
            position=0 if last is None else last + 1,
        )
        return _save(view)


def do_update_saved_view(
    *,
    view: SavedView,
    actor: User,
    name: Any = None,
    params: Mapping[str, Any] | None = None,
    visibility: Any = None,
    team_id: Any = None,
) -> SavedView:
    """Rename, reshare or replace the filters of one's own view; None leaves that part as it is."""
    if view.owner_id != actor.pk:
        raise PermissionError("only the owner changes a saved view")
    if name is not None:
        view.name = check_name(name)
    if visibility is not None:
        view.visibility, view.team = check_sharing(user=actor, visibility=visibility, team_id=team_id)
    if params is not None:
        view.params = clean_params(params)
    return _save(view)


def do_move_saved_view(*, view: SavedView, actor: User, offset: int) -> None:
    """Swap the view with its neighbour among the owner's views (offset -1: up, +1: down)."""
    if view.owner_id != actor.pk:
        raise PermissionError("only the owner moves a saved view")
    with transaction.atomic():
        views = list(
            SavedView.objects.select_for_update().filter(owner=actor).order_by("position", "name", "id")
        )
        index = next(i for i, v in enumerate(views) if v.pk == view.pk)
        target = index + offset
        if not 0 <= target < len(views):
            return
        views[index], views[target] = views[target], views[index]
        # Renumber all: positions of older rows may tie, and a swap of equal numbers changes nothing.
        for position, item in enumerate(views):
            if item.position != position:
                SavedView.objects.filter(pk=item.pk).update(position=position)


def do_delete_saved_view(*, view: SavedView, actor: User) -> None:
    if view.owner_id != actor.pk:
        raise PermissionError("only the owner deletes a saved view")
    view.delete()
