"""Where a merge hands the rows of apps above profiles to them, inside the merge's transaction.

Profiles moves its own rows; every app that keeps rows keyed by a customer registers interceptors for
both points, so merge and undo stay one transaction and the merge log stays the one record of what
moved. Each handler records the ids it moved under its own labels in `moved`; the undo gets exactly
those ids back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from core.events import Interception


@dataclass(frozen=True, slots=True)
class CustomersMerging(Interception):
    """Move every row of `merged_id` to `survivor_id`; put the moved ids in `moved[<label>]`."""

    name: ClassVar[str] = "customers.merging"
    survivor_id: int
    merged_id: int
    moved: dict[str, list[int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CustomersUnmerging(Interception):
    """Move the rows a merge moved (`moved`, as the log kept it) back to `merged_id` if they are still
    on `survivor_id`. A handler that returns conversations lists them in `returned_conversation_ids`,
    so rows that happened in them after the merge (journey entries, answers) follow."""

    name: ClassVar[str] = "customers.unmerging"
    survivor_id: int
    merged_id: int
    moved: Mapping[str, list[int]]
    returned_conversation_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class HistoryWeighed(Interception):
    """How much history each profile has (handlers return {customer id: weight}); when a suggestion is
    accepted the heavier profile survives, so fewer rows move and links agents shared stay valid."""

    name: ClassVar[str] = "customers.history_weighed"
    customer_ids: tuple[int, ...]
