"""Recognising mail that no person wrote: auto-replies and delivery failures (bounces)."""

from __future__ import annotations

import re
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
    r"|nie dostarczono|niedostarczona|не доставлено|недоставленное)",
    re.IGNORECASE,
)


def classify(message: EmailMessage, sender: str, subject: str) -> str:
    """'bounce', 'auto_reply' or '' for mail a person wrote."""
    content_type = message.get_content_type()
    report_type = str(message.get_param("report-type") or "").lower()
    if (content_type == "multipart/report" and report_type == "delivery-status") or (
        BOUNCE_SENDERS.match(sender)
        and (BOUNCE_SUBJECT.search(subject) or content_type == "multipart/report")
    ):
        return "bounce"
    auto_submitted = (message.get("Auto-Submitted") or "").strip().lower()
    if auto_submitted and auto_submitted != "no":
        return "auto_reply"
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return "auto_reply"
    precedence = (message.get("Precedence") or "").strip().lower()
    if precedence in ("auto_reply", "bulk", "junk"):
        return "auto_reply"
    if AUTO_SUBJECT.search(subject):
        return "auto_reply"
    return ""


def bounced_message_ids(message: EmailMessage) -> list[str]:
    """The Message-ID of the mail that bounced, from the attached original or its headers."""
    found: list[str] = []
    for part in message.walk():
        if part.get_content_type() in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            value = inner.get("Message-ID") if isinstance(inner, Message) else None
            if value is None:
                decoded = part.get_payload(decode=True)
                text = decoded if isinstance(decoded, bytes) else str(payload).encode("utf-8", "replace")
                match = re.search(rb"^Message-ID:\s*(<[^>]+>)", text, re.IGNORECASE | re.MULTILINE)
                value = match.group(1).decode("ascii", "replace") if match else None
            if value:
                found.append(str(value).strip())
    return found
