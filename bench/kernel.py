"""Kernel hot paths on one core: fills, marks and gate checks per second.

Run: ``.venv/bin/python bench/kernel.py`` (prints one line per figure).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from propdesk.accounting.kernel import ApplyFill, MarkToPrices, Start, handle
from propdesk.accounting.state import AccountState
from propdesk.execution.actions import ProposedAction
from propdesk.execution.policy.action_checks import check_action
from propdesk.model.fills import Fill
from propdesk.model.ids import AccountId
from propdesk.model.instruments import equity
from propdesk.model.market import Quote
from propdesk.model.orders import ActionKind, Side
from propdesk.model.policy import ExecutionPolicy

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
SYMBOLS = [equity(f"S{i:03d}") for i in range(20)]


def rate(label: str, n: int, work: Callable[[], None]) -> None:
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    print(f"{label}: {n / elapsed:,.0f}/s ({n:,} in {elapsed:.2f} s)")


def account() -> AccountState:
    start = Start(at=T0, starting_cash=Decimal(10_000_000), leverage=Decimal(5))
    return handle(AccountState(account_id=AccountId("bench")), start).state


def main() -> None:
    n = 20_000
    fills = [
        Fill(
            fill_id=str(i),
            order_id=None,
            instrument=SYMBOLS[i % len(SYMBOLS)].spec,
            side=Side.BUY if i % 3 else Side.SELL,
            qty=Decimal("1.5"),
            price=Decimal(100) + Decimal(i % 50) / 10,
            fee=Decimal("0.15"),
            time=T0,
        )
        for i in range(n)
    ]
    state = account()

    def apply_fills() -> None:
        nonlocal state
        for fill in fills:
            state = handle(state, ApplyFill(at=T0, fill=fill)).state

    rate(f"fills applied ({len(SYMBOLS)} symbols)", n, apply_fills)

    # Alternate two price sets so that every mark moves every position (an unchanged mark is a no-op).
    price_sets = [{s.symbol: Decimal(p) for s in SYMBOLS} for p in ("101.25", "101.50")]
    marks = 5_000

    def mark() -> None:
        current = state
        for i in range(marks):
            current = handle(current, MarkToPrices(at=T0, prices=price_sets[i % 2])).state

    rate(f"marks ({len(state.positions)} positions each)", marks, mark)

    policy = ExecutionPolicy()
    quote = Quote(symbol="S001", time=T0, bid=Decimal("100.99"), ask=Decimal("101.01"))
    action = ProposedAction(ActionKind.OPEN_LONG, SYMBOLS[1], notional=Decimal(10_000))
    checks = 5_000

    def gates() -> None:
        fresh = account()
        for _ in range(checks):
            check_action(action, state=fresh, policy=policy, quote=quote, now=T0, open_orders=0)

    rate("gate checks (all 18 gates)", checks, gates)


if __name__ == "__main__":
    main()
