"""The public JSON answer endpoint's contract, shared by its ASGI fast path and its Django view.

POST /s/api/answers/ {"token": "...", "score": 9, "comment": "...", "complete": true}
→ 200 {"ok": true, "id": <response id>} or an error {"ok": false, "error": <code>} with the status below.
The token is the only credential: no cookies are sent or read, so any origin may call it (CORS *).
"""

from __future__ import annotations

import json
from typing import Any

from surveys.answer_writer import Answer
from surveys.answers import MAX_COMMENT, AnswerError

PATH = "/s/api/answers/"
MAX_BODY = 16 * 1024
STATUS = {
    AnswerError.INVALID: 400,
    AnswerError.UNKNOWN: 404,
    AnswerError.ANSWERED: 409,
    AnswerError.EXPIRED: 410,
    AnswerError.NOT_SENT: 403,
    "rate_limited": 429,
    "unavailable": 503,
    "method": 405,
    "too_large": 413,
}
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "86400",
}
# Failed answers (unknown or refused tokens) per client address and minute before it is refused
# outright: tokens cannot be guessed, but nobody should be able to keep trying.
FAILURES_PER_MINUTE = 30


def parse(body: bytes) -> Answer | str:
    """An Answer, or the error code for a malformed request (checked before any database work)."""
    try:
        data: Any = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        return AnswerError.INVALID
    if not isinstance(data, dict):
        return AnswerError.INVALID
    token, score, comment = data.get("token"), data.get("score"), data.get("comment", "")
    if not isinstance(token, str) or not 20 <= len(token) <= 64:
        return AnswerError.UNKNOWN
    if isinstance(score, bool) or not isinstance(score, int | str):
        return AnswerError.INVALID
    try:
        value = int(score)
    except ValueError:
        return AnswerError.INVALID
    if not -1000 < value < 1000 or not isinstance(comment, str):
        return AnswerError.INVALID
    return Answer(
        token=token,
        score=value,
        comment=comment.strip()[:MAX_COMMENT],
        complete=bool(data.get("complete", False)),
        medium=str(data.get("medium", ""))[:16] if data.get("medium") in ("widget", "link", "email") else "",
    )


def body(ok: bool, **fields: Any) -> bytes:
    return json.dumps({"ok": ok, **fields}).encode()
