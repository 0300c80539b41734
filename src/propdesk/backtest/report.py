"""The ``propdesk backtest`` report: shipped daily bars through a seed-default audition account with
the built-in SMA crossover strategy, in memory, printed with rich."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from propdesk.accounting.kernel import replay
from propdesk.accounting.state import AccountState
from propdesk.backtest.daily_replay import ReplayResult, replay_daily
from propdesk.backtest.strategies import SmaCrossover
from propdesk.marketdata.files import read_daily_bars, shipped_daily_files
from propdesk.model.instruments import Instrument, equity
from propdesk.model.market import Bar
from propdesk.model.policy import preset

SPARKS = "▁▂▃▄▅▆▇█"


def load_bars(symbols: Sequence[str], start: date, end: date) -> dict[str, list[Bar]]:
    files = shipped_daily_files(symbols)
    if end < start:
        raise ValueError("end is before start")
    return {
        s: [b for b in read_daily_bars(path, s) if start <= b.start.date() <= end]
        for s, path in files.items()
    }


def run_report(console: Console, *, symbols: Sequence[str], start: date, end: date) -> ReplayResult:
    """Replay, then print the policy, the equity path, the final account and a ledger check."""
    policy = preset("audition")
    bars = load_bars(symbols, start, end)
    instruments: dict[str, Instrument] = {s: equity(s) for s in symbols}
    strategy = SmaCrossover()
    result = replay_daily(bars, instruments=instruments, policy=policy, strategy=strategy, account_id="demo")
    _print(console, result, symbols, start, end, strategy)
    return result


def account_figures(state: AccountState) -> list[tuple[str, Decimal]]:
    """The figures the backtest report and the service demo print for an account, in order."""
    return [
        ("cash", state.cash),
        ("equity", state.equity),
        ("realized PnL", state.realized_pnl),
        ("unrealized PnL", state.unrealized_pnl),
        ("fees", state.fees),
        ("high watermark", state.high_watermark),
    ]


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):,}"


def sparkline(values: Sequence[Decimal], width: int = 60) -> str:
    if not values:
        return ""
    step = max(1, len(values) // width)
    sampled = list(values[::step])
    low, high = min(sampled), max(sampled)
    span = high - low or Decimal(1)
    return "".join(SPARKS[int((v - low) / span * (len(SPARKS) - 1))] for v in sampled)


def _print(
    console: Console,
    result: ReplayResult,
    symbols: Sequence[str],
    start: date,
    end: date,
    strategy: SmaCrossover,
) -> None:
    state = result.state
    console.print(
        Panel.fit(
            f"audition account: {_money(state.starting_cash)} {state.currency}, leverage {state.leverage}x, "
            f"mid fills, 10 bps fees, liquidation at 50% drawdown\n"
            f"strategy: SMA {strategy.fast}/{strategy.slow} crossover, "
            f"{_money(strategy.notional)} per entry, long and short\n"
            f"data: {', '.join(symbols)} daily bars {start} .. {end} "
            "(shipped files, quotes ±1 tick around the close)",
            title="propdesk demo",
        )
    )
    path = result.equity_path
    table = Table(title="Equity path (end of each quarter)")
    for column in ("date", "equity", "drawdown from peak"):
        table.add_column(column, justify="right")
    peak = Decimal(0)
    for index, (day, value) in enumerate(path):
        peak = max(peak, value)
        last_of_quarter = (
            index + 1 == len(path) or (path[index + 1][0].month - 1) // 3 != (day.month - 1) // 3
        )
        if last_of_quarter:
            table.add_row(str(day), _money(value), f"{(peak - value) / peak:.2%}")
    console.print(table)
    console.print(f"[bold]equity[/bold] {sparkline([v for _, v in path])}")

    summary = Table(title=f"Final account ({state.status.value})", show_header=False)
    summary.add_column(justify="left")
    summary.add_column(justify="right")
    for label, value in account_figures(state):
        summary.add_row(label, _money(value))
    summary.add_row("return", f"{(state.equity / state.starting_cash - 1):.2%}")
    console.print(summary)

    if state.positions:
        positions = Table(title="Open positions")
        for column in ("symbol", "qty", "avg price", "mark", "unrealized"):
            positions.add_column(column, justify="right")
        for symbol, p in sorted(state.positions.items()):
            positions.add_row(
                symbol, f"{p.qty:f}", _money(p.avg_price), _money(p.mark), _money(p.unrealized_pnl)
            )
        console.print(positions)

    rejected = ", ".join(f"{gate} ×{n}" for gate, n in result.rejections.most_common()) or "none"
    console.print(f"fills: {len(result.fills)}; actions refused by gates: {rejected}")
    if result.liquidated_on:
        console.print(f"[red]liquidated on {result.liquidated_on}[/red]")
    rebuilt = replay(state.account_id, result.events)
    verdict = "[green]reproduces the account exactly[/green]" if rebuilt == state else "[red]DRIFT[/red]"
    console.print(f"ledger check: folding {len(result.events)} events from zero {verdict}")
