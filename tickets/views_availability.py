"""The signed-in agent says whether automatic assignment may give them conversations."""

from __future__ import annotations

import json
from typing import cast

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import roles
from accounts.decorators import requires
from accounts.models import User

AVAILABILITIES = ("online", "busy", "offline")


@requires(roles.WORK_INBOX)
@require_POST
def set_availability(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    value = request.POST.get("availability", "")
    if value not in AVAILABILITIES:
        return HttpResponseBadRequest(_("Choose online, busy or offline."))
    user.availability = value
    user.save(update_fields=["availability"])
    labels = dict(User._meta.get_field("availability").choices or [])
    text = _("You are now %(availability)s.") % {"availability": str(labels.get(value, value)).lower()}
    if request.htmx:  # type: ignore[attr-defined]
        response = HttpResponse(status=204)
        response["HX-Trigger"] = json.dumps({"availability-changed": {"availability": value, "text": text}})
        return response
    flash.success(request, text)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = "inbox"
    return redirect(target)
