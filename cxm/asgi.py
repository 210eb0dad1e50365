"""ASGI entry point: provider webhooks on their own fast path, other HTTP through Django, websockets
through Channels with session auth."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxm.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402 - Django must be set up first
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from channels_app.webchat.script import with_widget_script  # noqa: E402
from channels_app.webhook_asgi import with_fast_webhooks  # noqa: E402
from cxm.routing import (  # noqa: E402
    PUBLIC_WEBSOCKET_PREFIX,
    public_websocket_urlpatterns,
    websocket_urlpatterns,
)
from surveys.answer_asgi import with_fast_answers  # noqa: E402

app_websockets = AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
public_websockets = URLRouter(public_websocket_urlpatterns)


async def websockets(scope, receive, send):
    """The web chat widget connects from other sites; everything else must come from our own pages."""
    if scope.get("path", "").startswith(PUBLIC_WEBSOCKET_PREFIX):
        return await public_websockets(scope, receive, send)
    return await app_websockets(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": with_fast_answers(with_fast_webhooks(with_widget_script(django_asgi_app))),
        "websocket": websockets,
    }
)

# Everything loaded so far lives as long as the process: moved out of the collector's reach, a full
# collection no longer walks Django's whole object graph in the middle of a webhook (tens of ms).
gc.freeze()
