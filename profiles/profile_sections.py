"""What the profile page shows of the apps above profiles, and who may see it.

Two hooks, both registered in the upper apps' `ready()`:

- the viewer policy: `HistoryViewerWanted` asks the app that owns visibility (tickets.visibility)
  for the viewer of one user. Profiles never filters by team itself; it reads the journey through
  `viewer.timeline()` and hands the viewer to the section providers.
- section providers: `register(name, provider)`; a provider gets the customer id and the viewer and
  returns what the page shows under that name, in one query (the page's cost must not grow with the
  history). A section nobody provides is empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from django.db.models import QuerySet

from core.events import Interception, require_interceptor
from profiles.models import TimelineEntry

FIGURES = "figures"  # a LifetimeFigures of the person's conversations
CONVERSATIONS = "conversations"  # the latest conversations
SURVEYS = "surveys"  # the latest survey answers
LATEST_SCORES = "latest_scores"  # the newest answer of each survey kind


class HistoryViewer(Protocol):
    """What profiles needs of a viewer; providers use the rest of the object the policy returned."""

    def timeline(self) -> QuerySet[TimelineEntry]: ...


@dataclass(frozen=True, slots=True)
class HistoryViewerWanted(Interception):
    name: ClassVar[str] = "profiles.history_viewer_wanted"
    user: Any


def viewer_for(user: Any) -> HistoryViewer:
    """The registered policy's viewer for `user`; LookupError if no app registered one."""
    return require_interceptor(HistoryViewerWanted(user=user))


Provider = Callable[[int, Any], Any]
_providers: dict[str, Provider] = {}


def register(name: str, provider: Provider) -> None:
    _providers[name] = provider


def section(name: str, customer_id: int, viewer: HistoryViewer, *, empty: Any = None) -> Any:
    provider = _providers.get(name)
    if provider is None:
        return [] if empty is None else empty
    return provider(customer_id, viewer)
