"""Recognising mail that no person wrote: auto-replies and delivery failures (bounces).

Auto-replies are told by the headers RFC 3834 and common responders set. A subject such as
"Automatic reply:" is only supporting evidence: a customer may well write "Nieobecność" (absence) or
"Out of office until Monday?" themselves, and such mail must reach an agent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage, Message

AUTO_SUBJECT = re.compile(
    r"^\s*(?:out of (?:the )?office|automatic reply|auto[- ]?reply|autoreply|abwesenheitsnotiz"
    r"|autoodpowiedź|automatyczna odpowiedź|poza biurem|nieobecność"
    r"|автоответ|автоматический ответ|вне офиса|нет на месте)\b",
    re.IGNORECASE,
)
BOUNCE_SENDERS = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon)@", re.IGNORECASE)
BOUNCE_SUBJECT = re.compile(
    r"(?:undeliver|delivery status notification|mail delivery (?:failed|failure)|returned mail"
    r"|failure notice|nie dostarczono|niedostarczon|не доставлено|недоставленное|не удалось доставить)",
    re.IGNORECASE,
)
# Parts of a delivery report that describe the failure or carry back the original: never attachments,
# never the bounce's own text.
REPORT_PARTS = frozenset({"message/delivery-status", "message/rfc822", "text/rfc822-headers",
                          "message/rfc822-headers", "message/global", "message/global-headers",
                          "message/global-delivery-status"})  # fmt: skip
_PRECEDENCE = frozenset({"auto_reply", "bulk", "junk"})
_MESSAGE_ID = re.compile(r"^(?:Message-ID|X-Original-Message-ID|Original-Message-ID)\s*:\s*(<[^<>\s]+>)",
                         re.IGNORECASE | re.MULTILINE)  # fmt: skip
# Enhanced status codes (RFC 3463) as they appear in free-text bounces: "550 5.1.1 User unknown".
_STATUS_CODE = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_SMTP_REPLY = re.compile(r"^\s*(?:\(reason:\s*)?([45]\d\d[ -].{3,300})$", re.MULTILINE)


def classify(message: EmailMessage, sender: str, subject: str) -> str:
    """'bounce', 'auto_reply' or '' for mail a person wrote."""
    if is_bounce(message, sender, subject):
        return "bounce"
    auto_submitted = _header(message, "Auto-Submitted").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return "auto_reply"
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return "auto_reply"
    precedence = _header(message, "Precedence") or _header(message, "X-Precedence")
    if precedence.strip().lower() in _PRECEDENCE:
        return "auto_reply"
    if AUTO_SUBJECT.search(subject) and _supporting_evidence(message):
        return "auto_reply"
    return ""


def is_bounce(message: Message, sender: str, subject: str) -> bool:
    content_type = message.get_content_type()
    report_type = str(message.get_param("report-type") or "").lower()
    if content_type == "multipart/report" and report_type == "delivery-status":
        return True
    if not BOUNCE_SENDERS.match(sender):
        return False
    return bool(BOUNCE_SUBJECT.search(subject) or content_type == "multipart/report")


def _supporting_evidence(message: Message) -> bool:
    """Headers that alone prove nothing, but make an out-of-office subject believable.

    X-Auto-Response-Suppress asks others not to auto-reply to this mail: Exchange puts it on its own
    out-of-office replies (which carry no RFC 3834 header), but plenty of ordinary mail carries it too.
    An empty Return-Path is how responders avoid replies to their replies.
    """
    if message.get("X-Auto-Response-Suppress") is not None:
        return True
    if message.get("X-MS-Exchange-Inbox-Rules-Loop") is not None:
        return True
    return _header(message, "Return-Path").strip() in ("<>", "<<>>")


def _header(message: Message, name: str) -> str:
    try:
        return str(message.get(name) or "")
    except (ValueError, TypeError, IndexError):
        return ""


@dataclass(frozen=True)
class Bounce:
    """What a delivery report says about the mail that bounced."""

    message_ids: list[str]  # the Message-ID(s) of the mail that bounced
    status: str = ""  # RFC 3463 code, "5.1.1"
    action: str = ""  # RFC 3464 Action: failed, delayed, delivered, relayed, expanded
    diagnostic: str = ""  # the remote server's words, "550 5.1.1 User unknown"
    recipient: str = ""

    @property
    def failed(self) -> bool:
        """Permanent: the reply will never arrive. A "delayed" warning is not a failure yet."""
        if self.action:
            return self.action == "failed"
        return not self.status.startswith(("2.", "4."))

    @property
    def reason(self) -> str:
        """The code once, then the server's words: "bounced: 550 5.1.1 User unknown (jan@x)"."""
        status, diagnostic = self.status, self.diagnostic
        text = (
            diagnostic if status and status in diagnostic else " ".join(p for p in (status, diagnostic) if p)
        )
        text = f"bounced: {text or 'undeliverable'}"
        return f"{text} ({self.recipient})" if self.recipient else text

    def as_metadata(self) -> dict[str, str | bool]:
        return {"status": self.status, "action": self.action, "diagnostic": self.diagnostic,
                "recipient": self.recipient, "failed": self.failed, "reason": self.reason}  # fmt: skip


def read_bounce(message: EmailMessage, body_text: str) -> Bounce:
    """The report's fields (RFC 3464) when it has them; otherwise what a free-text bounce says."""
    status = action = diagnostic = recipient = ""
    for fields in _recipient_fields(message):
        if status and fields.get("action", "").lower() != "failed":
            continue  # the first failed recipient names the reason; warnings only when nothing failed
        status = fields.get("status", "")
        action = fields.get("action", "").lower()
        diagnostic = _without_type(fields.get("diagnostic-code", ""))
        recipient = _without_type(fields.get("final-recipient") or fields.get("original-recipient", ""))
        if action == "failed":
            break
    if not status:
        found = _STATUS_CODE.search(body_text)
        status = found.group(1) if found else ""
    if not diagnostic:
        reply = _SMTP_REPLY.search(body_text)
        diagnostic = reply.group(1).rstrip(")").strip() if reply else ""
    if not recipient:  # Exim and Gmail name the failed address in a header as well
        recipient = _header(message, "X-Failed-Recipients").split(",")[0].strip()
    return Bounce(
        message_ids=_returned_message_ids(message, body_text),
        status=status[:20],
        action=action[:20],
        diagnostic=" ".join(diagnostic.split())[:500],
        recipient=recipient[:254],
    )


def _recipient_fields(message: Message) -> list[dict[str, str]]:
    """Each per-recipient block of every message/delivery-status part, as lower-cased field names."""
    blocks: list[dict[str, str]] = []
    for part in message.walk():
        if part.get_content_type() not in ("message/delivery-status", "message/global-delivery-status"):
            continue
        payload = part.get_payload()
        groups = payload if isinstance(payload, list) else []
        for group in groups:
            if not isinstance(group, Message):
                continue
            fields = {name.lower(): _header(group, name).strip() for name in group}
            if "action" in fields or "status" in fields:
                blocks.append(fields)
    return blocks


def _without_type(value: str) -> str:
    """'smtp; 550 5.1.1 …' → '550 5.1.1 …', 'rfc822; jan@x' → 'jan@x' (RFC 3464 typed fields)."""
    kind, sep, rest = value.partition(";")
    return rest.strip() if sep and re.fullmatch(r"[A-Za-z0-9-]{2,20}", kind.strip()) else value.strip()


def _returned_message_ids(message: EmailMessage, body_text: str) -> list[str]:
    """The Message-ID of the mail that bounced: from the returned original or its headers, then from the
    free text of bounces that quote it inline (Exim, qmail). Never the bounce's own Message-ID."""
    found: list[str] = []
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            value = _header(inner, "Message-ID") if isinstance(inner, Message) else ""
            found += _MESSAGE_ID_ONLY.findall(value)
        elif content_type in ("text/rfc822-headers", "message/rfc822-headers", "message/global-headers"):
            found += _ids_in(_part_text(part))
        elif content_type in ("message/delivery-status", "message/global-delivery-status"):
            for group in part.get_payload() if isinstance(part.get_payload(), list) else []:
                if isinstance(group, Message):
                    for name in ("Original-Message-ID", "X-Original-Message-ID"):
                        found += _MESSAGE_ID_ONLY.findall(_header(group, name))
    if not found:
        own = _MESSAGE_ID_ONLY.findall(_header(message, "Message-ID"))
        found = [value for value in _ids_in(body_text) if value not in own]
    return list(dict.fromkeys(value.strip() for value in found))


_MESSAGE_ID_ONLY = re.compile(r"<[^<>\s]+>")


def _ids_in(text: str) -> list[str]:
    return [match.group(1) for match in _MESSAGE_ID.finditer(text)]


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload.decode("utf-8", "replace")
    raw = part.get_payload()
    return raw if isinstance(raw, str) else ""
