from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import roles
from accounts.decorators import requires
from channels_app.addresses import webchat_script_url, webhook_url
from channels_app.connect_checks import (
    Connection,
    do_check_connection,
    is_checkable,
    should_check_after_update,
)
from channels_app.forms import ChannelForm
from channels_app.kinds import ChannelKind, find_kind, kind_choices
from channels_app.models import Channel
from channels_app.selectors import channel_for_settings, channels_for_settings
from channels_app.services import ChannelError, do_create_channel, do_update_channel
from core.public_url import public_base_url


@requires(roles.MANAGE_CHANNELS)
def channel_list(request):
    return render(
        request,
        "channels_app/channel_list.html",
        {"channels": channels_for_settings(), "section": "channels"},
    )


def _report(request, connection: Connection | None, *, saved: str) -> None:
    if connection is None or connection.connected:
        messages.success(request, saved)
    else:
        messages.error(
            request,
            _("Saved, but the channel is not connected: %(reason)s") % {"reason": connection.error},
        )


@requires(roles.MANAGE_CHANNELS)
def channel_create(request):
    kind = request.GET.get("kind", "")
    if find_kind(kind) is None:
        return render(
            request,
            "channels_app/channel_kind_picker.html",
            {"kinds": kind_choices(), "section": "channels"},
        )
    form = ChannelForm(request.POST or None, kind=kind)
    if request.method == "POST" and form.is_valid():
        try:
            channel = do_create_channel(
                kind=form.cleaned_data["kind"],
                name=form.cleaned_data["name"],
                address=form.cleaned_data["address"],
                config=form.config_values,
                credentials=form.credential_values(),
                teams=form.cleaned_data["teams"],
            )
        except ChannelError as exc:
            form.add_error(None, str(exc))
        else:
            connection = (
                do_check_connection(channel=channel, base_url=public_base_url(request))
                if is_checkable(channel)
                else None
            )
            _report(request, connection, saved=_("Channel “%(name)s” connected.") % {"name": channel.name})
            return redirect("channel_edit", channel_id=channel.pk)
    return render(
        request, "channels_app/channel_form.html", {"form": form, "channel": None, "section": "channels"}
    )


@requires(roles.MANAGE_CHANNELS)
def channel_edit(request, channel_id: int):
    found = channel_for_settings(channel_id)
    if found is None:
        raise Http404
    channel, health = found
    masked = channel.masked_credentials()
    initial = {
        "kind": channel.kind,
        "name": channel.name,
        "address": channel.address,
        "is_active": channel.is_active,
        "teams": list(channel.teams.all()),
    }
    form = ChannelForm(
        request.POST or None, kind=channel.kind, masked=masked, config=channel.config, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        was_active, old_config = channel.is_active, dict(channel.config)
        credentials = form.credential_values()
        try:
            do_update_channel(
                channel=channel,
                name=form.cleaned_data["name"],
                address=form.cleaned_data["address"],
                is_active=form.cleaned_data["is_active"],
                config_updates=form.config_values,
                credential_updates=credentials,
                teams=form.cleaned_data["teams"],
            )
        except ChannelError as exc:
            form.add_error(None, str(exc))
        else:
            check = should_check_after_update(
                channel=channel,
                was_active=was_active,
                old_config=old_config,
                credentials_changed=any(credentials.values()),
            )
            connection = (
                do_check_connection(channel=channel, base_url=public_base_url(request)) if check else None
            )
            _report(request, connection, saved=_("Channel saved."))
            return redirect("channel_edit", channel_id=channel.pk)
    base = public_base_url(request)
    hook = webhook_url(channel, base=base)
    return render(
        request,
        "channels_app/channel_form.html",
        {
            "form": form,
            "channel": channel,
            "masked": masked,
            "section": "channels",
            "health": health,
            "checkable": is_checkable(channel),
            "webhook_url": hook,
            # Telegram delivers only to public https addresses (ports 443, 80, 88 or 8443).
            "needs_https": channel.kind == ChannelKind.TELEGRAM and not (hook or "").startswith("https://"),
            "widget_script_url": webchat_script_url(base=base),
        },
    )


@requires(roles.MANAGE_CHANNELS)
@require_POST
def channel_check(request, channel_id: int):
    channel = get_object_or_404(Channel, pk=channel_id)
    connection = do_check_connection(channel=channel, base_url=public_base_url(request))
    if connection.connected:
        messages.success(request, _("The channel is connected."))
    elif connection.failed:
        messages.error(request, _("The channel is not connected: %(reason)s") % {"reason": connection.error})
    return redirect("channel_edit", channel_id=channel.pk)
