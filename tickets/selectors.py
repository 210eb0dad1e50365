from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from tickets.models import Conversation
from tickets.visibility import visibility_for


def visible_conversations(user: User) -> QuerySet[Conversation]:
    """Conversations a user may see; the rule itself lives in tickets.visibility."""
    return visibility_for(user).conversations()
