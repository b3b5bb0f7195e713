"""The indicators, from the sums of the daily roll-ups.

A factor's satisfaction index is the share of 4 and 5 marks among those who answered it (SIPAS
style), shown with its sample; the overall index is the share of 4 and 5 among every factor
answer, so each factor weighs by how many answered it (the feedback factor may be skipped, and a
plain mean of the five would give its smaller sample the weight of the others). These are
reference figures, not the official SIPAS index.

The headline index is that of administrative procedures alone (`HEADLINE_SECTOR`), as SIPAS
measures them; health, education and other public services are asked other questions, so each
of their indices stands apart beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from storage.models import FACTORS

HEADLINE_SECTOR = "administrative"
"""The sector whose ratings make a summary's headline index, its factors and its facts."""


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True, slots=True)
class Indicators:
    ratings: int
    samples: dict[str, int]
    """How many answered each factor."""
    satisfaction: dict[str, float | None]
    mean: dict[str, float | None]
    overall: float | None
    overall_mean: float | None
    on_time: float | None
    early: float | None
    apology_when_late: float | None
    extra_papers: float | None
    three_trips: float | None
    remote: float | None
    unofficial_payment: float | None

    @classmethod
    def from_sums(cls, sums: Mapping[str, int]) -> Indicators:
        n = sums.get("ratings", 0)
        samples = {f: sums.get(f"{f}_n", 0) for f in FACTORS}
        high = {f: sums.get(f"{f}_high", 0) for f in FACTORS}
        marks = {f: sums.get(f"{f}_sum", 0) for f in FACTORS}
        answers = sum(samples.values())
        return cls(
            ratings=n,
            samples=samples,
            satisfaction={f: _share(high[f], samples[f]) for f in FACTORS},
            mean={f: _share(marks[f], samples[f]) for f in FACTORS},
            overall=_share(sum(high.values()), answers),
            overall_mean=_share(sum(marks.values()), answers),
            on_time=_share(sums.get("on_time_or_early", 0), sums.get("timely_n", 0)),
            early=_share(sums.get("early", 0), sums.get("timely_n", 0)),
            apology_when_late=_share(sums.get("late_with_apology", 0), sums.get("late", 0)),
            extra_papers=_share(sums.get("extra_papers", 0), n),
            three_trips=_share(sums.get("three_trips", 0), n),
            remote=_share(sums.get("remote", 0), n),
            unofficial_payment=_share(sums.get("unofficial_payment", 0), n),
        )

    def strongest_and_weakest(self) -> tuple[str | None, str | None]:
        known = {f: v for f, v in self.satisfaction.items() if v is not None}
        if not known:
            return None, None
        return max(known, key=lambda f: known[f]), min(known, key=lambda f: known[f])


@dataclass(frozen=True, slots=True)
class Ranked:
    key: int
    indicators: Indicators
    rank: int | None
    """None when the group has fewer ratings than the minimum sample: shown, marked, not ranked."""


def listed(ranked: list[Ranked], limit: int) -> list[Ranked]:
    """The rows a summary shows, in the text and the chart alike: the first `limit` ranked."""
    return [row for row in ranked if row.rank is not None][:limit]


def rank(groups: Mapping[int, Indicators], min_sample: int) -> list[Ranked]:
    """Rank by the overall index, best first; small samples follow, unranked."""
    eligible = sorted(
        (k for k, v in groups.items() if v.ratings >= min_sample and v.overall is not None),
        key=lambda k: (-(groups[k].overall or 0.0), k),
    )
    small = sorted(k for k in groups if k not in eligible)
    ranked = [Ranked(k, groups[k], position) for position, k in enumerate(eligible, start=1)]
    return ranked + [Ranked(k, groups[k], None) for k in small]
