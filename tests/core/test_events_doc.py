"""docs/events.md names every event and every interception point the code defines, and each point has a
handler once the apps are loaded (an unhandled point would silently do nothing, or fail in production)."""

from __future__ import annotations

import sys
from pathlib import Path

from core import events

DOC = (Path(__file__).resolve().parents[2] / "docs" / "events.md").read_text()


def all_points() -> list[type[events.Interception]]:
    found, queue = [], list(events.Interception.__subclasses__())
    while queue:
        point = queue.pop()
        found.append(point)
        queue += point.__subclasses__()
    # A dataclass with slots=True is a new class; the one it replaced lingers in __subclasses__.
    return [
        point
        for point in found
        if point.__module__.split(".")[0] != "tests"
        and getattr(sys.modules[point.__module__], point.__name__, None) is point
    ]


def test_every_event_is_documented():
    missing = [
        e.name
        for e in events.catalogue()
        if f"`{e.name}`" not in DOC or f"`{e.event_type.__name__}`" not in DOC
    ]
    assert not missing


def test_every_interception_point_is_documented_and_handled():
    points = all_points()
    assert len(points) >= 8
    assert not [p.__name__ for p in points if f"`{p.__name__}`" not in DOC]
    assert not [p.__name__ for p in points if not events.interceptors(p)]
