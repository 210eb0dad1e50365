"""What apps above tickets add to the conversation page (the survey follow-up a conversation is about).

The page asks each registered provider for one template variable; a provider gets the conversation's id
and returns what its part of the template shows, or None. Registered in the providing app's `ready()`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_providers: dict[str, Callable[[int], Any]] = {}


def add_conversation_context(name: str, provider: Callable[[int], Any]) -> None:
    _providers[name] = provider


def conversation_context(conversation_id: int) -> dict[str, Any]:
    return {name: provider(conversation_id) for name, provider in _providers.items()}
