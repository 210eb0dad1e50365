"""Raw MIME bytes → NormalizedMessage: headers, bodies in any charset, attachments, threading hints."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import parsedate_to_datetime

from channels_app.adapters.base import AdapterError
from channels_app.email.automated import REPORT_PARTS, classify, read_bounce
from channels_app.email.charsets import decode_text
from channels_app.email.headers import address_header, decode_header, raw_header
from channels_app.email.html import html_to_text, sanitize_html
from channels_app.email.quotes import split_reply
from channels_app.identity_kinds import IdentityKind
from channels_app.normalized import Attachment, NormalizedMessage, Sender

MAX_DEPTH = 30
MAX_PARTS = 500
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_DAEMON = re.compile(r"\b(?:mailer-daemon|postmaster|mail-daemon)\b", re.IGNORECASE)


def parse_mail(raw: bytes) -> NormalizedMessage:
    if not raw.strip():
        raise AdapterError("empty mail", permanent=True)
    _check_structure(raw)
    try:
        message = message_from_bytes(raw, policy=policy.default)
    except (RecursionError, ValueError, TypeError) as exc:
        reason = f"unreadable MIME structure: {type(exc).__name__}: {exc}"
        raise AdapterError(reason, permanent=True) from exc
    assert isinstance(message, EmailMessage)
    if message.get("From") is None or not (
        message.get("Date") or message.get("Subject") or message.get("To")
    ):
        raise AdapterError("not an email: no From header, or no Date/Subject/To at all", permanent=True)

    sender_address, sender_name = _sender(message)
    subject = header_text(message, "Subject")
    automated = classify(message, sender_address, subject)
    bounce = automated == "bounce"
    texts, htmls, attachments = _walk(message, skip=_report_parts(message, returned=bounce))
    inline_ids = {a.content_id for a in attachments if a.content_id}
    html = sanitize_html("\n".join(h for h, _ in htmls), inline_ids=inline_ids) if htmls else ""
    full_text = "\n\n".join(t for t, _ in texts).strip() or html_to_text(html)
    visible, cut = split_reply(full_text)

    in_reply_to = message_ids(header_text(message, "In-Reply-To")) + list(
        reversed(message_ids(header_text(message, "References")))
    )
    metadata: dict = {}
    if bounce:
        report = read_bounce(message, full_text)
        in_reply_to = report.message_ids + in_reply_to
        metadata["bounce"] = report.as_metadata()
        # The report's own text is what an agent reads; its logo, HTML layout and quoted original are
        # noise there (the raw event keeps all of it).
        html, attachments, visible, cut = "", [], full_text, False
    return NormalizedMessage(
        sender=Sender(kind=IdentityKind.EMAIL, value=sender_address, display=sender_name),
        provider_message_id=message_id(message, raw),
        text=visible,
        subject=subject,
        html=html,
        sent_at=_date(message),
        attachments=attachments,
        in_reply_to=_unique(in_reply_to),
        automated=automated,
        metadata={
            "full_text": full_text if cut else "",
            "charsets": sorted({charset for _, charset in texts + htmls}),
            "to": [address for _, address in address_header(message, "To")][:20],
            "cc": [address for _, address in address_header(message, "Cc")][:20],
            **metadata,
        },
    )


def _check_structure(raw: bytes) -> None:
    """Refuse absurd nesting before the recursive stdlib parser meets it."""
    boundaries = re.findall(rb'boundary="?([^";\r\n]+)', raw[:2_000_000], re.IGNORECASE)
    if len(set(boundaries)) > MAX_DEPTH:
        raise AdapterError(f"MIME nesting deeper than {MAX_DEPTH} levels", permanent=True)


def header_text(message: Message, name: str) -> str:
    """A header decoded for reading: RFC 2047 words and raw 8-bit bytes in whatever charset they use."""
    raw = raw_header(message, name)
    return decode_header(raw) if raw is not None else ""


def message_ids(value: str) -> list[str]:
    return _MESSAGE_ID.findall(value or "")


def message_id(message: Message, raw: bytes) -> str:
    found = message_ids(header_text(message, "Message-ID"))
    if found:
        return found[0][:255]
    # Stable for the same bytes, so a redelivered mail without an id is still recognised.
    return f"<{hashlib.sha256(raw).hexdigest()[:40]}@generated.cxm>"


def _sender(message: Message) -> tuple[str, str]:
    pairs = address_header(message, "From")
    if not pairs:
        pairs = _local_daemon(message)
    if not pairs:
        raise AdapterError(
            f"no usable sender address in From: {header_text(message, 'From')[:200]!r}", permanent=True
        )
    address, name = pairs[0][1], pairs[0][0]
    return address[:254], name[:200]


def _local_daemon(message: Message) -> list[tuple[str, str]]:
    """Sendmail and some appliances bounce "From: Mail Delivery Subsystem <MAILER-DAEMON>" with no domain.
    The bounce must still be stored (it threads onto the failed reply), so the host in its Message-ID
    supplies the domain."""
    from_header = header_text(message, "From")
    local = _DAEMON.search(from_header)
    if not local:
        return []
    ids = message_ids(header_text(message, "Message-ID"))
    domain = ids[0].strip("<>").rpartition("@")[2] if ids else ""
    name = from_header[: local.start()].strip(' "<')
    return [(name, f"{local.group(0).lower()}@{domain or 'localhost'}")]


def _date(message: Message) -> datetime | None:
    value = header_text(message, "Date")
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _report_parts(message: EmailMessage, *, returned: bool) -> set[int]:
    """Parts (by id) that belong to a delivery report rather than to anyone's message: the status fields
    and returned headers always, the returned original itself only in a bounce (elsewhere a message/rfc822
    part is a forwarded mail, read like the rest)."""
    kinds = REPORT_PARTS if returned else REPORT_PARTS - {"message/rfc822", "message/global"}
    skip: set[int] = set()
    for count, part in enumerate(message.walk()):
        if count > MAX_PARTS:
            break  # _walk refuses the mail with the reason
        if part.get_content_type() in kinds and id(part) not in skip:
            skip.update(id(inner) for inner in part.walk())
    return skip


def _walk(
    message: EmailMessage, *, skip: set[int]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[Attachment]]:
    """(text parts, HTML parts) each as (text, charset used), and every other leaf as an attachment."""
    texts: list[tuple[str, str]] = []
    htmls: list[tuple[str, str]] = []
    attachments: list[Attachment] = []
    for count, part in enumerate(message.walk()):
        if count > MAX_PARTS:
            raise AdapterError(f"more than {MAX_PARTS} MIME parts", permanent=True)
        content_type = part.get_content_type()
        if part.is_multipart() or id(part) in skip:
            continue
        disposition = (part.get_content_disposition() or "").lower()
        filename = _filename(part)
        if content_type == "message/rfc822" or content_type.startswith("message/"):
            continue  # forwarded originals and bounce reports are read through walk() as well
        is_body = content_type in ("text/plain", "text/html") and disposition != "attachment" and not filename
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if is_body:
            text, charset = decode_text(data, part.get_content_charset())
            if content_type == "text/plain":
                texts.append((text.replace("\r\n", "\n"), charset))
            else:
                htmls.append((text, charset))
            continue
        content_id = (part.get("Content-ID") or "").strip().strip("<>") or None
        attachments.append(
            Attachment(
                filename=filename or _default_name(content_type),
                content_type=content_type,
                size=len(data),
                content=data,
                content_id=content_id,
            )
        )
    return texts, htmls, attachments


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except (ValueError, TypeError, LookupError):
        name = ""
    if any("\udc80" <= ch <= "\udcff" for ch in name):
        name = decode_text(name.encode("utf-8", "surrogateescape"), None)[0]
    return name.strip()


def _default_name(content_type: str) -> str:
    import mimetypes

    return "attachment" + (mimetypes.guess_extension(content_type) or ".bin")


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))
