"""Settings of the process that serves provider webhooks only (`cxm.wsgi_webhooks`).

Webhooks are the hottest path of the product and carry no session, cookie, CSRF token or language:
every middleware of the browser-facing stack would be pure cost there. The process also routes
nothing but webhooks and the health check, so a mistake in it cannot expose a page.
"""

from cxm.settings import *  # noqa: F403

MIDDLEWARE = ["django.middleware.security.SecurityMiddleware"]
ROOT_URLCONF = "cxm.urls_webhooks"
