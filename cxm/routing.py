"""Websocket routes. Apps add their consumers here as they grow."""

from django.urls import path

from cxm.consumers import AppConsumer
from tickets.webchat.consumer import VisitorConsumer

websocket_urlpatterns = [
    path("ws/app/", AppConsumer.as_asgi()),
]

# Opened from customers' own websites, so these routes live outside the session and same-host checks
# that guard /ws/app/; the consumer checks the channel's own list of allowed origins instead.
public_websocket_urlpatterns = [
    path("ws/webchat/<int:channel_id>/", VisitorConsumer.as_asgi()),
]
PUBLIC_WEBSOCKET_PREFIX = "/ws/webchat/"
