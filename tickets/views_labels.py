"""Creating a label from the conversation that needs it; it is added to that conversation at once."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import roles
from accounts.decorators import requires
from tickets import conversation_services as services
from tickets import selectors_conversation as sel
from tickets.labels import LabelError, do_create_label, may_manage_labels
from tickets.views_conversation import _regions, _user


@requires(roles.WORK_INBOX)
@require_POST
def create_label(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = sel.conversation_for(_user(request), pk)
    actor = _user(request)
    if not may_manage_labels(actor):
        return _regions(
            request, conversation, ["controls"], status=403,
            controls_error=_("Only managers and admins create labels."),
        )  # fmt: skip
    name = request.POST.get("name", "")
    try:
        label = do_create_label(actor=actor, name=name, color=request.POST.get("color", ""))
    except LabelError as exc:
        return _regions(
            request, conversation, ["controls"], status=400, controls_error=str(exc), new_label_name=name
        )
    services.do_add_label(conversation=conversation, actor=actor, label=label)
    return _regions(
        request, conversation, ["controls"], notices=[_("Label “%(name)s” added.") % {"name": label.name}]
    )
