"""Fixed histogram buckets for reported times, so medians and p90 can be read from rollups.

A time of `v` seconds falls in bucket `i` (1-based, as PostgreSQL's `width_bucket(v, edges)` numbers
them) when `EDGES[i-1] <= v < EDGES[i]`; the last bucket is open-ended. The edges are the documented
resolution of medians and percentiles: within a bucket the value is interpolated linearly, so a median
is exact to within the width of the bucket holding it (one minute below ten minutes, then steps of
roughly a third).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

MINUTE = 60
HOUR = 3600
DAY = 86400

EDGES: tuple[int, ...] = (
    0, 30, 60, 120, 180, 240, 300, 420, 600, 900, 1200, 1800, 2700,
    HOUR, 90 * MINUTE, 2 * HOUR, 3 * HOUR, 4 * HOUR, 6 * HOUR, 8 * HOUR, 12 * HOUR, 16 * HOUR,
    DAY, 36 * HOUR, 2 * DAY, 3 * DAY, 4 * DAY, 5 * DAY, 7 * DAY, 10 * DAY, 14 * DAY, 21 * DAY,
    30 * DAY, 45 * DAY, 60 * DAY, 90 * DAY,
)  # fmt: skip
SIZE = len(EDGES)
# For SQL: `width_bucket(v, %(edges)s::double precision[])`.
EDGES_SQL = "ARRAY[" + ",".join(str(e) for e in EDGES) + "]::double precision[]"


def bucket_of(seconds: float) -> int:
    """1-based bucket index, the same as `width_bucket(seconds, EDGES)` in SQL for seconds >= 0."""
    return max(1, bisect_right(EDGES, seconds))


def histogram(values: Sequence[float]) -> list[int]:
    counts = [0] * SIZE
    for value in values:
        counts[bucket_of(value) - 1] += 1
    return counts


def quantile(counts: Sequence[int], q: float) -> float | None:
    """The q-quantile (0 < q < 1) of the values a histogram counts: the value of rank ceil(q * n),
    interpolated linearly inside its bucket (the open last bucket answers its lower edge)."""
    total = sum(counts)
    if not total:
        return None
    rank = max(1, -(-q * total // 1))  # ceil without float surprises on exact products
    seen = 0
    for index, count in enumerate(counts):
        if count and seen + count >= rank:
            low = EDGES[index]
            if index + 1 >= SIZE:
                return float(low)
            high = EDGES[index + 1]
            return low + (high - low) * (rank - seen) / count
        seen += count
    return float(EDGES[-1])  # unreachable: the ranks add up to the total
