"""A bounded, least-recently-used store of rendered HTML fragments, per process.

For fragments whose key holds every value they show (tickets/inbox_row_cache.py,
tickets/thread_item_cache.py): nothing is ever invalidated, a change makes a new key, and old keys
age out.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable

from django.utils.safestring import SafeString, mark_safe


class RenderedCache:
    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self._html: OrderedDict[Hashable, str] = OrderedDict()

    def get_or_render(self, key: Hashable, render: Callable[[], str]) -> SafeString:
        html = self._html.get(key)
        if html is None:
            html = render()
            self._html[key] = html
            if len(self._html) > self.max_items:
                self._html.popitem(last=False)
        else:
            self._html.move_to_end(key)
        return mark_safe(html)  # noqa: S308 (only our own templates' output is stored)

    def clear(self) -> None:
        self._html.clear()

    def __len__(self) -> int:
        return len(self._html)
