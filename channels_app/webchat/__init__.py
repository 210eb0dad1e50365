"""Web chat: the embeddable widget, the visitor websocket and how visitors are identified."""
