"""Histograms of durations in minutes, with bins fine enough for p50 and p90 within one bin.

Bins are integer minute ranges: one minute wide up to ten minutes, then each about 10% wider
than the one before (a bin's width is at most a tenth of its lower bound), up to about twenty
years. A percentile read from a histogram names the bin that holds the exact value, so it is
never off by more than that bin's width. Stored as sparse ``(bin, count)`` pairs of unsigned
32-bit little-endian integers.
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


def _bounds() -> tuple[int, ...]:
    bounds = list(range(11))
    while bounds[-1] < 11_000_000:
        bounds.append(max(bounds[-1] + 1, int(bounds[-1] * 1.1)))
    return tuple(bounds)


BOUNDS: tuple[int, ...] = _bounds()
"""Lower bound (minutes) of each bin; the last bin is open-ended."""
BINS = len(BOUNDS)

Histogram = dict[int, int]
"""Counts by bin index (only bins with a count)."""


def bin_of(minutes: int) -> int:
    """The bin a duration of ``minutes`` falls in (negative durations count as zero)."""
    if minutes < 11:
        return max(minutes, 0)
    return bisect_right(BOUNDS, minutes) - 1


def bin_range(index: int) -> tuple[int, int | None]:
    """``[low, high)`` minutes of a bin (``high`` is None for the last, open bin)."""
    return BOUNDS[index], BOUNDS[index + 1] if index + 1 < BINS else None


def encode(histogram: Mapping[int, int]) -> bytes:
    """Sparse little-endian ``(bin, count)`` pairs, by bin."""
    pairs = array("I")
    for index in sorted(histogram):
        count = histogram[index]
        if count:
            pairs.append(index)
            pairs.append(count)
    if sys.byteorder == "big":  # pragma: no cover - every supported platform is little-endian
        pairs.byteswap()
    return pairs.tobytes()


def decode(blob: bytes | None) -> Histogram:
    """The histogram stored by :func:`encode`."""
    if not blob:
        return {}
    pairs = array("I")
    pairs.frombytes(blob)
    if sys.byteorder == "big":  # pragma: no cover
        pairs.byteswap()
    return dict(zip(pairs[::2], pairs[1::2], strict=True))


def add_into(target: list[int], blob: bytes | None) -> None:
    """Add a stored histogram into a dense list of ``BINS`` counts."""
    if not blob:
        return
    pairs = array("I")
    pairs.frombytes(blob)
    if sys.byteorder == "big":  # pragma: no cover
        pairs.byteswap()
    for i in range(0, len(pairs), 2):
        target[pairs[i]] += pairs[i + 1]


def merge(target: Histogram, other: Mapping[int, int]) -> None:
    """Add ``other`` into ``target``."""
    for index, count in other.items():
        target[index] = target.get(index, 0) + count


@dataclass(frozen=True, slots=True)
class Percentile:
    """A percentile read from a histogram: the bin that holds the exact value."""

    low: int
    high: int | None

    @property
    def minutes(self) -> float:
        """A single figure for display: the middle of the bin."""
        if self.high is None:
            return float(self.low)
        return (self.low + self.high - 1) / 2


def percentile(
    dense: Iterable[int], fraction: float, total: int | None = None
) -> Percentile | None:
    """The nearest-rank percentile (the smallest value with at least ``fraction`` of the
    counts at or below it) of a dense histogram; None if it is empty."""
    counts = list(dense)
    n = sum(counts) if total is None else total
    if n <= 0:
        return None
    rank = max(1, -(-round(fraction * n * 1_000_000) // 1_000_000))
    seen = 0
    for index, count in enumerate(counts):
        seen += count
        if seen >= rank:
            low, high = bin_range(index)
            return Percentile(low, high)
    low, high = bin_range(len(counts) - 1)
    return Percentile(low, high)


def exact_rank(n: int, fraction: float) -> int:
    """The 1-based nearest rank :func:`percentile` uses (for checks over raw values)."""
    return max(1, -(-round(fraction * n * 1_000_000) // 1_000_000))
