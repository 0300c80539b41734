"""Latest quotes as services use them: fresh, stale or missing, measured on the service clock."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from propdesk.marketdata.prices import is_stale
from propdesk.model.market import Quote
from propdesk.store.uow import UnitOfWork


@dataclass(frozen=True)
class QuoteSet:
    fresh: dict[str, Quote] = field(default_factory=dict)
    stale: dict[str, Quote] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    @property
    def unusable(self) -> list[str]:
        """Symbols without a fresh quote: missing or stale."""
        return sorted([*self.missing, *self.stale])


def latest_quotes(
    uow: UnitOfWork, symbols: Iterable[str], *, now: datetime, max_age_seconds: int
) -> QuoteSet:
    """Each symbol's latest quote at or before ``now`` (one statement), split by the policy's maximum
    age with the same rule as the ``price_stale`` gate."""
    wanted = sorted(set(symbols))
    found = uow.prices.latest_quotes(wanted, at_or_before=now) if wanted else {}
    max_age = timedelta(seconds=max_age_seconds)
    result = QuoteSet(missing=[s for s in wanted if s not in found])
    for symbol, quote in found.items():
        (result.stale if is_stale(quote, max_age=max_age, now=now) else result.fresh)[symbol] = quote
    return result
