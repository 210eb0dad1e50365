"""What each channel can send as a file, per the provider's documentation, checked before anything is queued.

Sources (limits as documented when this was written):
- WhatsApp Cloud API, "Supported media types": images JPEG/PNG 5 MB, audio 16 MB, video MP4/3GPP 16 MB,
  documents 100 MB; one media object per message.
- Twilio: MMS 5 MB in total and up to 10 media per message (JPEG, PNG and GIF are the types every carrier
  takes); WhatsApp through Twilio 16 MB, one media per message.
- Telegram Bot API, "Sending files" by URL: 5 MB for photos, 20 MB for other files, and sendDocument by URL
  only works for GIF, PDF and ZIP.
- Messenger Send API: 25 MB per attachment. Instagram messaging: images PNG/JPEG/GIF 8 MB, audio and video
  25 MB, PDF files 25 MB. One attachment per message on both.
- Email: a configurable total (EMAIL_ATTACHMENTS_MAX_BYTES); web chat and API get links.
Our own storage ceiling (MAX_ATTACHMENT_BYTES) applies on top of every limit.

The rules below are attached to the kinds (and providers) in ``channels_app/builtin_kinds.py``; a kind
without one sends any file up to the storage ceiling, as a link.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from channels_app.kinds import find_kind

MB = 1024 * 1024

IMAGES = ("image/jpeg", "image/png")
WA_AUDIO = ("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg")
WA_VIDEO = ("video/mp4", "video/3gpp")
OFFICE = (
    "text/plain",
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
)


@dataclass(frozen=True)
class MediaRule:
    # content type -> largest size for that type; None means any type the storage accepts.
    types: dict[str, int] | None
    max_count: int
    max_each: int = 0  # for rules without a type table
    max_total: int = 0  # 0: no limit beyond each file's own


@dataclass(frozen=True)
class OutgoingFile:
    filename: str
    content_type: str
    size: int


class MediaRefusal(ValueError):
    """The channel cannot send these files; the message is translated and meant for the agent."""


def _types(limit: int, *groups: tuple[str, ...]) -> dict[str, int]:
    return {content_type: limit for group in groups for content_type in group}


WHATSAPP_CLOUD = MediaRule(
    types=_types(5 * MB, IMAGES) | _types(16 * MB, WA_AUDIO, WA_VIDEO) | _types(100 * MB, OFFICE),
    max_count=1,
)
WHATSAPP_TWILIO = MediaRule(
    types=_types(5 * MB, IMAGES) | _types(16 * MB, WA_AUDIO, WA_VIDEO, ("application/pdf",)),
    max_count=1,
)
MMS = MediaRule(types=_types(5 * MB, IMAGES, ("image/gif",)), max_count=10, max_total=5 * MB)
TELEGRAM = MediaRule(
    types=_types(5 * MB, IMAGES) | _types(20 * MB, ("image/gif", "application/pdf", "application/zip")),
    max_count=1,
)
MESSENGER = MediaRule(types=None, max_count=1, max_each=25 * MB)
INSTAGRAM = MediaRule(
    types=_types(8 * MB, IMAGES, ("image/gif",))
    | _types(25 * MB, ("audio/aac", "audio/mp4", "audio/wav", "video/mp4", "video/quicktime"))
    | _types(25 * MB, ("application/pdf",)),
    max_count=1,
)


def email_rule() -> MediaRule:
    # A function: the total is a setting, read when a reply is checked rather than at import.
    total = settings.EMAIL_ATTACHMENTS_MAX_BYTES
    return MediaRule(types=None, max_count=20, max_each=total, max_total=total)


def links_rule() -> MediaRule:
    """Kinds that get links (web chat, API) and kinds that declare no rule: the storage ceiling only."""
    return MediaRule(types=None, max_count=10, max_each=settings.MAX_ATTACHMENT_BYTES)


def rule_for(kind: str, config: dict | None = None) -> MediaRule:
    """The rule of the channel's provider when it has its own, else its kind's."""
    spec = find_kind(kind)
    if spec is None:
        return links_rule()
    media = spec.provider(config).media or spec.media
    if media is None:
        return links_rule()
    return media() if callable(media) else media


def effective_type(filename: str, declared: str) -> str:
    """The browser's type, or the extension's when the browser sent none (or a generic one)."""
    declared = (declared or "").split(";")[0].strip().lower()
    if declared and declared != "application/octet-stream":
        return declared
    guessed, _encoding = mimetypes.guess_type(filename)
    return (guessed or "application/octet-stream").lower()


def _ceiling(limit: int) -> int:
    return min(limit, settings.MAX_ATTACHMENT_BYTES)


def check_outgoing_files(*, kind: str, config: dict | None, files: list[OutgoingFile]) -> None:
    """Raise MediaRefusal, translated, when the channel cannot send these files."""
    if not files:
        return
    rule = rule_for(kind, config)
    if len(files) > rule.max_count:
        raise MediaRefusal(
            _("This channel sends at most %(count)s file(s) per reply; you attached %(given)s.")
            % {"count": rule.max_count, "given": len(files)}
        )
    for item in files:
        if rule.types is None:
            limit = rule.max_each
        elif item.content_type in rule.types:
            limit = rule.types[item.content_type]
        else:
            raise MediaRefusal(
                _("%(name)s: this channel cannot send %(type)s files. It accepts: %(allowed)s.")
                % {"name": item.filename, "type": item.content_type, "allowed": ", ".join(sorted(rule.types))}
            )
        if item.size > _ceiling(limit):
            raise MediaRefusal(
                _("%(name)s is %(size)s; this channel sends files up to %(limit)s.")
                % {
                    "name": item.filename,
                    "size": filesizeformat(item.size),
                    "limit": filesizeformat(_ceiling(limit)),
                }
            )
    if rule.max_total and sum(item.size for item in files) > _ceiling(rule.max_total):
        raise MediaRefusal(
            _("The attached files add up to more than %(limit)s, the most this channel sends in one reply.")
            % {"limit": filesizeformat(_ceiling(rule.max_total))}
        )


def describe_limits(kind: str, config: dict | None = None) -> str:
    """One line for the reply box: how many files, how large, which types."""
    rule = rule_for(kind, config)
    if rule.types is None:
        text = _("Up to %(count)s file(s), %(limit)s each") % {
            "count": rule.max_count,
            "limit": filesizeformat(_ceiling(rule.max_each)),
        }
    else:
        by_limit: dict[int, list[str]] = {}
        for content_type, limit in rule.types.items():
            extension = mimetypes.guess_extension(content_type) or "." + content_type.split("/")[-1]
            by_limit.setdefault(_ceiling(limit), []).append(extension.lstrip("."))
        parts = [
            f"{', '.join(sorted(set(names)))} ≤ {filesizeformat(limit)}"
            for limit, names in sorted(by_limit.items())
        ]
        text = _("Up to %(count)s file(s): %(types)s") % {"count": rule.max_count, "types": "; ".join(parts)}
    if rule.max_total:
        text += " · " + _("%(limit)s in total") % {"limit": filesizeformat(_ceiling(rule.max_total))}
    return text


def media_kind(content_type: str) -> str:
    """image / video / audio / file: the vocabulary Meta's and Telegram's APIs share."""
    major = content_type.split("/")[0]
    return major if major in ("image", "video", "audio") else "file"
