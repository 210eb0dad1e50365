"""Conversation texts per language.

Placeholders filled per conversation: ``{name}`` (customer's first name), ``{agent}`` (assignee's first
name), ``{order}``, ``{invoice}``, ``{amount}``, ``{card}`` (last four digits) and ``{tracking}``.
Agent lines speak as "we" so Polish and Russian need no gendered past tense for the author.
"""

from __future__ import annotations

from cxm.demo.texts import en, pl, ru
from cxm.demo.texts.base import Common, Script

TOPICS: dict[str, dict[str, Script]] = {"en": en.TOPICS, "pl": pl.TOPICS, "ru": ru.TOPICS}
COMMON: dict[str, Common] = {"en": en.COMMON, "pl": pl.COMMON, "ru": ru.COMMON}

# How often each topic comes up; billing topics go to the Billing team.
TOPIC_WEIGHTS = {
    "order_status": 20,
    "delivery_delay": 14,
    "refund": 12,
    "login": 12,
    "invoice": 10,
    "damaged": 8,
    "change_address": 8,
    "payment_failed": 8,
    "cancel_subscription": 8,
}
BILLING_TOPICS = frozenset({"refund", "invoice", "payment_failed", "cancel_subscription"})
URGENT_TOPICS = frozenset({"payment_failed", "login"})

__all__ = ["BILLING_TOPICS", "COMMON", "TOPICS", "TOPIC_WEIGHTS", "URGENT_TOPICS", "Common", "Script"]
