"""Tags for the small fragments every page repeats: icons, channel badges, timestamps.

They render the same partial templates an `{% include %}` would, but an icon or a channel badge is
rendered once per process (and language) and reused: a profile page shows a hundred of them, and an
include that walks the icon file's long if-chain costs a quarter of a millisecond each time.
Available in every template (TEMPLATES builtins).
"""

from __future__ import annotations

from collections import OrderedDict

from django import template
from django.template.loader import get_template
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import get_current_timezone_name, is_aware, localtime
from django.utils.translation import get_language

register = template.Library()
_rendered: dict[tuple, SafeString] = {}


def _once(template_name: str, **context) -> SafeString:
    key = (template_name, get_language(), *sorted(context.items()))
    if key not in _rendered:
        _rendered[key] = mark_safe(get_template(template_name).render(context))  # noqa: S308 (our template)
    return _rendered[key]


@register.simple_tag
def icon(name: str, small: bool = False) -> SafeString:
    return _once("partials/icon.html", name=str(name), small=bool(small))


@register.simple_tag
def profile_icon(name: str, small: bool = False) -> SafeString:
    return _once("profiles/profile/icon.html", name=str(name), small=bool(small))


@register.simple_tag
def channel_icon(kind: str, hide_label: bool = False, large: bool = False) -> SafeString:
    return _once("partials/channel_icon.html", kind=str(kind), hide_label=bool(hide_label), large=bool(large))


_timestamps: OrderedDict[tuple, SafeString] = OrderedDict()
_MAX_TIMESTAMPS = 50_000


@register.simple_tag
def timestamp(value, empty: str = "—") -> SafeString:
    """What partials/time.html renders: an absolute date that app.js turns into a relative one.

    Formatting a date costs tens of microseconds and a thread or a list shows hundreds, mostly the same
    ones again on every visit: the output is kept per value, language and time zone.
    """
    if not value:
        return format_html('<span class="muted">{}</span>', empty or "—")
    key = (value, get_language(), get_current_timezone_name())
    html = _timestamps.get(key)
    if html is None:
        shown = localtime(value) if is_aware(value) else value
        html = format_html(
            '<time datetime="{}" title="{}" data-relative>{}</time>',
            shown.isoformat(),
            date_format(shown, "DATETIME_FORMAT"),
            date_format(shown, "j M Y, H:i"),
        )
        _timestamps[key] = html
        if len(_timestamps) > _MAX_TIMESTAMPS:
            _timestamps.popitem(last=False)
    return html


@register.simple_tag(takes_context=True)
def sla_badge(context, conversation) -> SafeString:
    """The conversation's SLA badge (tickets.sla_badge), computed in Python: cheaper per row than the
    same arithmetic in template language."""
    from tickets.sla_badge import sla_badge as badge_for

    badge = badge_for(conversation)
    if badge is None:
        return mark_safe("")
    return mark_safe(  # noqa: S308 (our template, escaped inside)
        get_template("tickets/_sla_badge.html").render({"badge": badge}, context.get("request"))
    )


@register.simple_tag
def inbox_row(conversation) -> SafeString:
    """One inbox row, from the row cache when nothing it shows has changed (tickets.inbox_row_cache)."""
    from tickets.inbox_row_cache import render_row

    return render_row(conversation)


@register.simple_tag(takes_context=True)
def thread_item(context, item) -> SafeString:
    """One message or note of a conversation, from the item cache when nothing it shows has changed
    (tickets.thread_item_cache)."""
    from tickets.thread_item_cache import render_item

    return render_item(item, context.get("conversation"), context.get("customer"), context.get("request"))
