"""WSGI entry point for a process that serves provider webhooks only (see `cxm.settings_webhooks`).

gunicorn cxm.wsgi_webhooks:application --worker-class gthread --threads 4   # DB_CONN_MAX_AGE=60
"""

import os

from django.core.wsgi import get_wsgi_application

# Forced, not defaulted: an inherited DJANGO_SETTINGS_MODULE would bring the whole browser stack back.
os.environ["DJANGO_SETTINGS_MODULE"] = "cxm.settings_webhooks"

application = get_wsgi_application()
