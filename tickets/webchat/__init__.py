"""Web chat as the visitor sees their conversation: the socket that serves it, its history, and linking
a signed visitor to their customer. The transport (widget, frames, identity tokens, limits, storing the
visitor's message as an InboundEvent) is channels_app.webchat."""
