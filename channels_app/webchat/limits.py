"""Limits on what one visitor connection may send."""

MAX_MESSAGE_CHARS = 5_000
# A raw websocket frame larger than this is refused before it is even decoded as JSON.
MAX_FRAME_CHARS = 20_000
RATE_LIMIT_MESSAGES = 10
RATE_LIMIT_WINDOW_S = 10.0
HISTORY_LIMIT = 50
MAX_CLIENT_ID_LENGTH = 64
MAX_PROFILE_FIELD_LENGTH = 200
