"""Sending a reply over SMTP with the headers that make the customer's mail client thread it."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from html import escape
from typing import cast

from django.conf import settings

from channels_app.adapters.base import AdapterError
from core import outbound_guard


class _GuardedSocket(smtplib.SMTP):
    # smtplib opens its socket here; TLS (SMTP_SSL and STARTTLS) still verifies the configured name.
    def _get_socket(self, host, port, timeout):
        # smtplib types source_address as any socket address; for its TCP connection it is (host, port).
        source_address = cast("tuple[str, int] | None", self.source_address)
        return outbound_guard.connect(host, port, timeout=timeout, source_address=source_address)


class GuardedSMTP(_GuardedSocket):
    """SMTP that connects only where the outbound guard allows, to the address it checked."""


class GuardedSMTPSSL(smtplib.SMTP_SSL, _GuardedSocket):
    """SMTP over TLS, connected the same way (SMTP_SSL wraps the socket _GuardedSocket opens)."""


def build_reply(
    *,
    from_address: str,
    from_name: str,
    to: str,
    subject: str,
    text: str,
    in_reply_to: str = "",
    references: list[str] | None = None,
) -> EmailMessage:
    message = EmailMessage()
    domain = from_address.rsplit("@", 1)[-1] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Date"] = formatdate(localtime=False)
    # The policy encodes non-ASCII names and subjects as RFC 2047 words.
    message["From"] = formataddr((from_name, from_address)) if from_name else from_address
    message["To"] = to
    message["Subject"] = subject
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = " ".join(references)
    message["Auto-Submitted"] = "no"
    message.set_content(text)
    paragraphs = "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in text.split("\n\n"))
    message.add_alternative(f"<!doctype html><html><body>{paragraphs}</body></html>", subtype="html")
    return message


def send(message: EmailMessage, *, config: dict, password: str) -> None:
    host = config.get("smtp_host") or ""
    if not host:
        raise AdapterError("the channel has no SMTP server configured", permanent=True)
    port = int(config.get("smtp_port") or 587)
    security = config.get("smtp_security") or ("ssl" if port == 465 else "starttls")
    timeout = settings.PROVIDER_HTTP_TIMEOUT
    try:
        if security == "ssl":
            client: smtplib.SMTP = GuardedSMTPSSL(
                host, port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            client = GuardedSMTP(host, port, timeout=timeout)
        with client:
            if security == "starttls":
                client.starttls(context=ssl.create_default_context())
            user = config.get("smtp_user") or ""
            if user:
                client.login(user, password)
            client.send_message(message)
    except outbound_guard.OutboundRefused as exc:
        raise AdapterError(f"SMTP server refused: {exc}", permanent=True) from exc
    except smtplib.SMTPResponseException as exc:
        # 4xx is "try again later", 5xx is final (RFC 5321).
        permanent = 500 <= exc.smtp_code < 600
        detail = (
            exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        )
        raise AdapterError(f"SMTP server answered {exc.smtp_code}: {detail}", permanent=permanent) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        permanent = all(code >= 500 for code in codes)
        raise AdapterError(f"recipient refused: {exc.recipients}", permanent=permanent) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise AdapterError(f"SMTP server unreachable: {exc}", permanent=False) from exc
