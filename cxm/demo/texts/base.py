from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Script:
    """One support topic in one language."""

    subject: str
    opening: list[str]  # the customer's first message
    reply: list[str]  # the first agent answer
    follow_up: list[str]  # later customer messages
    update: list[str]  # later agent messages


@dataclass(frozen=True)
class Common:
    """Lines that fit any topic."""

    nudge: list[str]  # a customer chasing an unanswered conversation
    follow_up: list[str]
    update: list[str]
    thanks: list[str]  # the customer's last word on a resolved conversation
    close: list[str]  # the agent's last word on a resolved conversation
    chat_closed: str  # prefix when a customer continues a web chat on another channel
