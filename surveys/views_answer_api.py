"""The public JSON answer endpoint through Django: WSGI and the test client.

Same contract as surveys.answer_asgi (see surveys.answer_http); under uvicorn with PostgreSQL the fast
path answers first and this view is not reached.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from surveys import answer_http as contract
from surveys.answers import AnswerError, do_record_answer
from surveys.public_rate import check_public_rate


def _json(status: int, content: bytes) -> HttpResponse:
    response = HttpResponse(content, status=status, content_type="application/json")
    for name, value in contract.CORS.items():
        response[name] = value
    response["Cache-Control"] = "no-store"
    return response


# The token in the body is the only credential and no cookie is read: cross-site forgery has nothing
# to borrow, and the widget posts from other origins.
@csrf_exempt
def answer(request: HttpRequest) -> HttpResponse:
    if request.method == "OPTIONS":
        return _json(204, b"")
    if request.method != "POST":
        return _json(405, contract.body(False, error="method"))
    if not check_public_rate(request, "answer"):
        return _json(429, contract.body(False, error="rate_limited"))
    if len(request.body) > contract.MAX_BODY:
        return _json(413, contract.body(False, error="too_large"))
    parsed = contract.parse(request.body)
    if isinstance(parsed, str):
        return _json(contract.STATUS[parsed], contract.body(False, error=parsed))
    try:
        response = do_record_answer(
            token=parsed.token,
            score=parsed.score,
            comment=parsed.comment,
            complete=parsed.complete,
            medium=parsed.medium,
        )
    except AnswerError as exc:
        return _json(contract.STATUS[exc.code], contract.body(False, error=exc.code))
    return _json(200, contract.body(True, id=response.pk))
