from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts import roles
from accounts.decorators import requires
from channels_app.forms import ChannelForm
from channels_app.kinds import ChannelKind
from channels_app.models import Channel
from channels_app.selectors import channels_for_settings
from channels_app.services import ChannelError, do_create_channel, do_update_channel


@requires(roles.MANAGE_CHANNELS)
def channel_list(request):
    return render(
        request,
        "channels_app/channel_list.html",
        {"channels": channels_for_settings(), "section": "channels"},
    )


@requires(roles.MANAGE_CHANNELS)
def channel_create(request):
    kind = request.GET.get("kind", "")
    if kind not in ChannelKind.values:
        return render(
            request,
            "channels_app/channel_kind_picker.html",
            {"kinds": ChannelKind.choices, "section": "channels"},
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
            messages.success(request, _("Channel “%(name)s” connected.") % {"name": channel.name})
            return redirect("channel_edit", channel_id=channel.pk)
    return render(
        request, "channels_app/channel_form.html", {"form": form, "channel": None, "section": "channels"}
    )


@requires(roles.MANAGE_CHANNELS)
def channel_edit(request, channel_id: int):
    channel = get_object_or_404(Channel, pk=channel_id)
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
        try:
            do_update_channel(
                channel=channel,
                name=form.cleaned_data["name"],
                address=form.cleaned_data["address"],
                is_active=form.cleaned_data["is_active"],
                config_updates=form.config_values,
                credential_updates=form.credential_values(),
                teams=form.cleaned_data["teams"],
            )
        except ChannelError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Channel saved."))
            return redirect("channel_edit", channel_id=channel.pk)
    return render(
        request,
        "channels_app/channel_form.html",
        {"form": form, "channel": channel, "masked": masked, "section": "channels"},
    )
