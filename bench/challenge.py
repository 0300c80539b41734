"""Rule engine throughput on one core: Monte Carlo trader-days and exact pack evaluations per second.

Run: ``.venv/bin/python bench/challenge.py`` (``--paths N`` to change the Monte Carlo size).

* Trader-days per second: live simulated paths × days, with each pack's exact semantics per
  trade and per day (:mod:`propdesk.risk.quant.challenge`). Rates use process CPU time, i.e. one core
  (NumPy element-wise work is single-threaded), so other load on the machine does not skew them;
  wall time is printed too.
* Pack evaluations per second in the kernel: a fill or a mark through the account kernel, folded
  into the Decimal rule state, then a full :func:`~propdesk.risk.rules.evaluate.evaluate` report; and
  the pre-trade rule gates alone.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from propdesk.accounting.events import FillApplied
from propdesk.accounting.kernel import ApplyFill, MarkToPrices, Start, handle
from propdesk.accounting.state import AccountState
from propdesk.model.fills import Fill
from propdesk.model.instruments import AssetClass, future
from propdesk.model.orders import Side
from propdesk.risk.gates import OrderIntent, check_rule_gates
from propdesk.risk.quant.challenge import simulate_paths
from propdesk.risk.quant.trade_models import ParametricTrades
from propdesk.risk.rules.evaluate import evaluate
from propdesk.risk.rules.fold import observe, start_rules
from propdesk.risk.rules.observations import observation_from_account
from propdesk.risk.rules.packs import load_pack

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def timed(work: Callable[[], int]) -> tuple[int, float, float]:
    """Run ``work`` (which returns its unit count); (units, CPU seconds, wall seconds)."""
    cpu, wall = time.process_time(), time.perf_counter()
    units = work()
    return units, time.process_time() - cpu, time.perf_counter() - wall


def monte_carlo(paths: int) -> None:
    cases = [
        (
            "topstep-50k-combine",
            ParametricTrades(win_rate=0.5, payoff=1.5, risk=Decimal(250), trades_per_day=3),
        ),
        ("ftmo-2step-100k", ParametricTrades(win_rate=0.5, payoff=1.5, risk=Decimal(500), trades_per_day=3)),
        (
            "mffu-rapid-50k",
            ParametricTrades(win_rate=0.5, payoff=1.5, risk=Decimal(250), trades_per_day=3, loser_mfe_r=0.5),
        ),
        ("apex-eod-50k", ParametricTrades(win_rate=0.45, payoff=2.0, risk_fraction=0.004, trades_per_day=5)),
    ]
    total_days, total_cpu = 0, 0.0
    for name, trader in cases:
        pack = load_pack(name)
        simulate_paths(pack, trader, paths=2_000, max_days=10)  # warm-up
        best: tuple[int, float, float] | None = None
        for _ in range(3):
            run = timed(
                lambda pack=pack, trader=trader: (
                    simulate_paths(  # type: ignore[misc]
                        pack, trader, paths=paths, max_days=60, seed=1
                    ).trader_days
                )
            )
            if best is None or run[1] < best[1]:
                best = run
        assert best is not None
        days, cpu, wall = best
        total_days += days
        total_cpu += cpu
        print(
            f"monte carlo {name:<22} {trader.trades_per_day} trades/day: {days / cpu / 1e6:6.2f} M trader-days/s "
            f"on one core ({days:,} trader-days, {cpu:.2f} s CPU, {wall:.2f} s wall)"
        )
    print(f"monte carlo overall: {total_days / total_cpu / 1e6:.2f} M trader-days/s on one core")


def kernel_evaluations(n: int = 4_000) -> None:
    pack = load_pack("topstep-50k-combine")
    es = future("ES")
    account = handle(AccountState(account_id="bench"), Start(at=T0, starting_cash=Decimal(50_000))).state
    rules = start_rules(pack, T0)

    def fold() -> int:
        nonlocal account, rules
        for i in range(n):
            at = T0 + timedelta(seconds=30 * i)
            if i % 4 in (0, 2):
                side = Side.BUY if i % 4 == 0 else Side.SELL
                fill = Fill(
                    f"f{i}", None, es.spec, side, Decimal(1), Decimal(5000) + i % 7, Decimal("2.5"), at
                )
                decision = handle(account, ApplyFill(at=at, fill=fill))
                account = decision.state
                event = next(e for e in decision.events if isinstance(e, FillApplied))
                rules = observe(pack, rules, observation_from_account(pack, account, at, fill_event=event))
            else:
                account = handle(account, MarkToPrices(at=at, prices={"ES": Decimal(5000) + i % 5})).state
                rules = observe(pack, rules, observation_from_account(pack, account, at))
        return n

    count, cpu, wall = timed(fold)
    print(
        f"kernel fill/mark + rule-state fold: {count / cpu:,.0f}/s "
        f"({count:,} in {cpu:.2f} s CPU, {wall:.2f} s wall; {len(rules.days)} day boundaries rolled)"
    )

    def status() -> int:
        at = rules.last_at
        for _ in range(n):
            evaluate(pack, rules, at)
        return n

    count, cpu, wall = timed(status)
    print(f"full rule status (evaluate): {count / cpu:,.0f}/s ({count:,} in {cpu:.2f} s CPU)")

    def gates() -> int:
        intent = OrderIntent("ES", AssetClass.FUTURE, Side.BUY, Decimal(1))
        at = rules.last_at
        for _ in range(n):
            check_rule_gates(pack, rules, account=account, order=intent, now=at)
        return n

    count, cpu, wall = timed(gates)
    print(f"pre-trade rule gates: {count / cpu:,.0f}/s ({count:,} in {cpu:.2f} s CPU)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--paths", type=int, default=200_000, help="Monte Carlo paths per pack")
    args = parser.parse_args()
    monte_carlo(args.paths)
    kernel_evaluations()


if __name__ == "__main__":
    main()
