"""Websocket routes. Apps add their consumers here as they grow."""

from django.urls import path

from cxm.consumers import AppConsumer

websocket_urlpatterns = [
    path("ws/app/", AppConsumer.as_asgi()),
]
