"""Labels: the names agents sort conversations by. Managers and admins create them, from the
conversation they are looking at when the need comes up."""

from __future__ import annotations

from typing import cast

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import roles
from accounts.models import User
from tickets.models import Label

# The colours the label chips are styled in (static/css/inbox.css), the first the default.
LABEL_COLOR_CHOICES = (
    ("slate", gettext_lazy("Grey")),
    ("red", gettext_lazy("Red")),
    ("orange", gettext_lazy("Orange")),
    ("amber", gettext_lazy("Yellow")),
    ("green", gettext_lazy("Green")),
    ("teal", gettext_lazy("Teal")),
    ("blue", gettext_lazy("Blue")),
    ("indigo", gettext_lazy("Indigo")),
    ("violet", gettext_lazy("Violet")),
    ("pink", gettext_lazy("Pink")),
)
LABEL_COLORS = tuple(value for value, _name in LABEL_COLOR_CHOICES)
# The cast: get_field() is typed as returning any field, whose max_length may be None; a CharField's is set.
NAME_MAX = cast(int, Label._meta.get_field("name").max_length)


class LabelError(ValueError):
    pass


def may_manage_labels(user: User) -> bool:
    return user.has_perm(roles.MANAGE_LABELS)


@transaction.atomic
def do_create_label(*, actor: User, name: str, color: str = "") -> Label:
    """A new label, or the existing one of that name in any letter case: "VIP" typed again is "VIP",
    not a second label that splits the conversations between two."""
    if not may_manage_labels(actor):
        raise PermissionDenied
    name = " ".join(name.split())
    if not name:
        raise LabelError(_("Give the label a name."))
    if len(name) > NAME_MAX:
        raise LabelError(_("A label name has at most %(max)d characters.") % {"max": NAME_MAX})
    existing = Label.objects.filter(name__iexact=name).first()
    if existing is not None:
        return existing
    label, _created = Label.objects.get_or_create(
        name=name, defaults={"color": color if color in LABEL_COLORS else LABEL_COLORS[0]}
    )
    return label
