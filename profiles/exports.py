"""CSV files for spreadsheets: customer exports and import reports.

Cells and lines come from core.spreadsheets (formula-injection neutralising, the UTF-8 BOM, chunks that
stream under ASGI), shared with the dashboards' exports; this module knows what a customer row holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import Prefetch, QuerySet

from core import spreadsheets
from core.spreadsheets import BOM, FORMULA_STARTS, as_async, csv_lines, neutralise
from profiles.models import AttributeDefinition, Customer, Identity, IdentityKind

__all__ = ["BOM", "FORMULA_STARTS", "as_async", "csv_lines", "customer_table", "in_chunks", "neutralise"]

CHUNK = 1000
PROFILE_COLUMNS = ("id", "name", "company", "locale", "timezone", "location", "created_at", "last_seen_at")


def in_chunks(lines: Iterable[str], size: int = 0) -> Iterator[str]:
    # CHUNK is read at call time so a test can shrink the pages and the chunks of one download together.
    return spreadsheets.in_chunks(lines, size or CHUNK)


def customer_table(customers: QuerySet[Customer]) -> tuple[list[str], Iterator[list[Any]]]:
    """The export's header and rows: profile fields, one column per identity kind (several values
    joined with "; "), one per custom attribute. Pages by id rather than holding a cursor open, so a
    slow download never pins a database connection between chunks."""
    keys = list(AttributeDefinition.objects.order_by("key").values_list("key", flat=True))
    kinds = list(IdentityKind.values)
    header = [*PROFILE_COLUMNS, *kinds, *keys]
    identities = Prefetch("identities", queryset=Identity.objects.order_by("kind", "value"))

    def rows() -> Iterator[list[Any]]:
        last = 0
        while True:
            page = list(customers.filter(pk__gt=last).order_by("pk").prefetch_related(identities)[:CHUNK])
            for customer in page:
                values: dict[str, list[str]] = {}
                for identity in customer.identities.all():
                    values.setdefault(identity.kind, []).append(identity.value)
                yield [
                    *(getattr(customer, name) for name in PROFILE_COLUMNS),
                    *("; ".join(values.get(kind, [])) for kind in kinds),
                    *(customer.attributes.get(key) for key in keys),
                ]
            if len(page) < CHUNK:
                return
            last = page[-1].pk

    return header, rows()
