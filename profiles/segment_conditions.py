"""Segment conditions about data of the apps above profiles (conversations, survey answers).

Such an app registers a `Condition` in its `ready()`: the keys a rule of its type takes, how to check
and normalize one, and how to compile it to a condition on the customer table (EXISTS or a subquery
against `OuterRef("pk")`), so a segment stays one SQL statement whatever its conditions. The segment
compiler consults this registry for every type it does not know itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q


@dataclass(frozen=True)
class Condition:
    type: str
    required: frozenset[str]
    optional: frozenset[str]
    # The rule normalized (keys already checked); raises profiles.segments.SegmentError on a bad value.
    clean: Callable[[dict[str, Any]], dict[str, Any]]
    compile: Callable[[dict[str, Any]], Q]
    # The operators (or groups) the segment editor offers for this type.
    ops: tuple[str, ...] = ()


_conditions: dict[str, Condition] = {}


def register(condition: Condition) -> None:
    _conditions[condition.type] = condition


def registered() -> dict[str, Condition]:
    """Registered conditions by type, in registration order (the order error messages list them in)."""
    return dict(_conditions)
