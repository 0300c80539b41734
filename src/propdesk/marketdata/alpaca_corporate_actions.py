"""Alpaca's corporate-actions wire shapes (``GET /v1/corporate-actions`` of the Market Data API)
and their conversion to stored :class:`~propdesk.store.corporate_actions.CorporateAction` values.

A page is ``{"corporate_actions": {"cash_dividends": [...], "forward_splits": [...],
"reverse_splits": [...], "name_changes": [...], ...}, "next_page_token": ...}``; the other buckets
(mergers, spin-offs, stock dividends, …) are ignored. Rates are validated as exact decimals.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from propdesk.store.corporate_actions import ActionType, CorporateAction, action_id

# The action types asked for, in Alpaca's spelling.
ALPACA_TYPES = ("cash_dividend", "forward_split", "reverse_split", "name_change")
SOURCE = "alpaca"


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class WireCashDividend(_Wire):
    symbol: str
    rate: Decimal
    ex_date: date
    payable_date: date | None = None


class WireSplit(_Wire):
    symbol: str
    old_rate: Decimal
    new_rate: Decimal
    ex_date: date


class WireNameChange(_Wire):
    old_symbol: str
    new_symbol: str
    process_date: date


class WireCorporateActions(_Wire):
    cash_dividends: list[WireCashDividend] = []
    forward_splits: list[WireSplit] = []
    reverse_splits: list[WireSplit] = []
    name_changes: list[WireNameChange] = []


class CorporateActionsPage(_Wire):
    corporate_actions: WireCorporateActions
    next_page_token: str | None = None


def to_actions(page: CorporateActionsPage) -> list[CorporateAction]:
    """The page's dividends, splits and name changes as stored actions (ids stable per action)."""
    body = page.corporate_actions
    actions = [
        CorporateAction(
            id=action_id(ActionType.DIVIDEND, d.symbol, d.ex_date),
            type=ActionType.DIVIDEND,
            symbol=d.symbol,
            ex_date=d.ex_date,
            payable_date=d.payable_date,
            cash=d.rate,
            source=SOURCE,
        )
        for d in body.cash_dividends
    ]
    actions += [
        CorporateAction(
            id=action_id(ActionType.SPLIT, s.symbol, s.ex_date),
            type=ActionType.SPLIT,
            symbol=s.symbol,
            ex_date=s.ex_date,
            old_rate=s.old_rate,
            new_rate=s.new_rate,
            source=SOURCE,
        )
        for s in (*body.forward_splits, *body.reverse_splits)
    ]
    actions += [
        CorporateAction(
            id=action_id(ActionType.NAME_CHANGE, n.old_symbol, n.process_date),
            type=ActionType.NAME_CHANGE,
            symbol=n.old_symbol,
            ex_date=n.process_date,
            new_symbol=n.new_symbol,
            source=SOURCE,
        )
        for n in body.name_changes
    ]
    return actions
