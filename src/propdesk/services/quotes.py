"""Latest quotes as services use them: fresh, stale or missing, measured on the service clock."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from propdesk.model.market import Quote
from propdesk.store.uow import UnitOfWork


@dataclass(frozen=True)
class QuoteSet:
    fresh: dict[str, Quote] = field(default_factory=dict)
    stale: dict[str, Quote] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


def latest_quotes(
    uow: UnitOfWork, symbols: Iterable[str], *, now: datetime, max_age_seconds: int
) -> QuoteSet:
    """Each symbol's latest quote at or before ``now``, split by the policy's maximum age."""
    result = QuoteSet()
    limit = timedelta(seconds=max_age_seconds)
    for symbol in sorted(set(symbols)):
        quote = uow.prices.latest_quote(symbol, at_or_before=now)
        if quote is None:
            result.missing.append(symbol)
        elif now - quote.time > limit:
            result.stale[symbol] = quote
        else:
            result.fresh[symbol] = quote
    return result
