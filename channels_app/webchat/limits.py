"""Limits on what web chat visitors may send: per connection, and across connections (throttle.py)."""

MAX_MESSAGE_CHARS = 5_000
# A raw websocket frame larger than this is refused before it is even decoded as JSON.
MAX_FRAME_CHARS = 20_000
RATE_LIMIT_MESSAGES = 10
RATE_LIMIT_WINDOW_S = 10.0
HISTORY_LIMIT = 50
MAX_CLIENT_ID_LENGTH = 64
MAX_PROFILE_FIELD_LENGTH = 200
# Across every socket and server process (channels_app.webchat.throttle): a script opening many
# sockets from one address gets no further than one busy office behind a shared address would need.
VISITOR_MESSAGES_PER_MINUTE = 20
ADDRESS_MESSAGES_PER_MINUTE = 60
ADDRESS_NEW_VISITORS_PER_HOUR = 10
