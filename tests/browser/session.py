"""Signing a browser in against the live test server, without going through the login form."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client


def serve_static(route) -> None:
    # Production serves /static/ through WhiteNoise from collected files; here the browser gets them
    # straight from the source tree, so the page is styled without a collectstatic step.
    path = urlsplit(route.request.url).path.removeprefix("/static/")
    found = finders.find(path)
    if isinstance(found, str):
        route.fulfill(path=found)
    else:
        route.fulfill(status=404, body="")


def sign_in(page, base: str, user) -> None:
    """Give the page the session cookie of `user` and the static files of the source tree."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base}])
    page.route(re.compile(r"/static/"), serve_static)
