"""``propdesk evaluate`` and ``propdesk risk packs|validate|size|kelly|ruin|challenge``.

Thin commands over :mod:`propdesk.risk`: parse options (numbers as exact decimals), call the pure
functions, print with rich (or JSON with ``--json``). Input errors exit with status 2 and say
what was wrong. The risk modules are imported inside the commands so ``propdesk --help`` stays
fast.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from propdesk.risk.rules.pack import RulePack

R = TypeVar("R")
PACK_HELP = "A shipped pack id (see `propdesk risk packs`)."
PACK_FILE_HELP = "A custom pack YAML file (instead of --pack)."


def _console() -> Console:
    """A console; piped output gets a fixed wide layout so tables are not truncated."""
    console = Console()
    return console if console.is_terminal else Console(width=140)


def _fail(console: Console, message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(2)


def _decimal(console: Console, text: str | None, name: str) -> Decimal | None:
    if text is None:
        return None
    from propdesk.model.numbers import NotExactError, parse_decimal

    try:
        return parse_decimal(text, field=name, signed=True)
    except NotExactError as exc:
        raise _fail(console, str(exc)) from None


def _required(console: Console, text: str | None, name: str) -> Decimal:
    value = _decimal(console, text, name)
    if value is None:
        raise _fail(console, f"--{name.replace('_', '-')} is required")
    return value


def _pack(console: Console, name: str | None, path: Path | None) -> RulePack:
    from propdesk.risk.rules.pack import PackError, parse_pack
    from propdesk.risk.rules.packs import load_pack

    if (name is None) == (path is None):
        raise _fail(console, "give exactly one of --pack or --pack-file")
    try:
        if path is not None:
            return parse_pack(path.read_text(encoding="utf-8"), source=str(path))
        assert name is not None
        return load_pack(name)
    except (PackError, OSError) as exc:
        raise _fail(console, str(exc)) from None


def _answer(console: Console, request: Callable[[], R], *, as_json: bool) -> R | None:
    """Build and run a risk request: bad input exits 2 with its message; with ``--json`` the result
    is printed as JSON and None returned (nothing more to print)."""
    from pydantic import ValidationError

    try:
        result = request()
    except (ValidationError, ValueError) as exc:
        raise _fail(console, str(exc)) from None
    if as_json:
        typer.echo(_json(result))
        return None
    return result


def _json(result: Any) -> str:
    from pydantic import TypeAdapter

    return json.dumps(TypeAdapter(type(result)).dump_python(result, mode="json"), indent=2)


def _money(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return f"{value.quantize(Decimal('0.01')):,}"


def _pct(value: float) -> str:
    return f"{value:.2%}"


def register(cli: typer.Typer) -> None:
    risk = typer.Typer(
        help="Rule packs, sizing, Kelly, risk of ruin and pass probability.", no_args_is_help=True
    )
    cli.add_typer(risk, name="risk")

    @cli.command()
    def evaluate(
        trades: Annotated[Path, typer.Argument(help="Trades CSV: time,symbol,side,qty,price[,fee][,kind].")],
        pack: Annotated[str | None, typer.Option(help=PACK_HELP)] = None,
        pack_file: Annotated[Path | None, typer.Option(help=PACK_FILE_HELP)] = None,
        tz: Annotated[str | None, typer.Option(help="IANA zone for times without an offset.")] = None,
        asset_class: Annotated[
            str | None, typer.Option(help="Force every symbol to one asset class (e.g. future).")
        ] = None,
        starting_balance: Annotated[
            str | None, typer.Option(help="Override the pack's starting balance.")
        ] = None,
        points: Annotated[bool, typer.Option(help="Print the floor after every row.")] = False,
    ) -> None:
        """Replay your own fills through a rule pack: when it would have breached or passed."""
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        from propdesk.model.instruments import AssetClass
        from propdesk.risk.rules.retro_evaluation import TradesCsvError, parse_trades_csv, replay_trades

        console = _console()
        resolved = _pack(console, pack, pack_file)
        try:
            zone = ZoneInfo(tz) if tz else None
            klass = AssetClass(asset_class) if asset_class else None
            text = trades.read_text(encoding="utf-8")
            report = replay_trades(
                resolved,
                parse_trades_csv(text, default_zone=zone),
                asset_class=klass,
                starting_balance=_decimal(console, starting_balance, "starting_balance"),
            )
        except (TradesCsvError, OSError, ZoneInfoNotFoundError, ValueError) as exc:
            raise _fail(console, str(exc)) from None
        console.print(f"[bold]{resolved.name}[/bold] ({resolved.key}) — {report.rows} rows", highlight=False)
        if report.reordered:
            console.print("rows were not in time order; replayed in time order")
        if report.ignored_columns:
            console.print(f"ignored columns: {', '.join(report.ignored_columns)}")
        table = Table(title="Trading days")
        for column in ("day", "start", "end", "PnL", "max-loss floor (EOD)", "lowest equity", "locked by"):
            table.add_column(column, justify="right" if column not in ("day", "locked by") else "left")
        for day in report.days:
            table.add_row(
                day.day.isoformat(),
                _money(day.start_balance),
                _money(day.end_balance),
                _money(day.pnl),
                _money(day.max_loss_floor),
                _money(day.min_equity),
                day.locked_by or "",
            )
        console.print(table)
        if points:
            detail = Table(title="Floor path")
            for column in (
                "line",
                "time",
                "kind",
                "equity",
                "balance",
                "max-loss floor",
                "daily floor",
                "room",
            ):
                detail.add_column(column)
            for p in report.points:
                detail.add_row(
                    str(p.line),
                    p.at.isoformat(),
                    p.kind,
                    _money(p.equity),
                    _money(p.balance),
                    _money(p.max_loss_floor),
                    _money(p.daily_floor),
                    _money(p.effective_capital),
                )
            console.print(detail)
        for breach in report.breaches:
            console.print(f"{breach.at.isoformat()} {breach.rule}: {breach.message} → {breach.outcome.value}")
        for late_day in report.held_past_flat_by:
            console.print(f"{late_day.isoformat()}: a position was still open after the flat-by time")
        for blocked in report.blocked_fills:
            console.print(
                f"line {blocked.line}: a platform would have refused this fill: {'; '.join(blocked.reasons)}"
            )
        final = report.final
        verdict = {"failed": "[red]FAILED[/red]", "passed": "[green]PASSED[/green]", "active": "still active"}
        when = f" at {report.outcome_at.isoformat()} ({report.outcome_rule})" if report.outcome_at else ""
        console.print(f"Outcome: {verdict[report.outcome.value]}{when}", highlight=False)
        if report.not_applied:
            console.print(f"{report.not_applied} later row(s) not applied: the evaluation was over")
        console.print(
            f"Equity {_money(final.equity)}, profit {_money(final.profit)}, effective capital "
            f"{_money(final.effective_capital)} ({final.breach_level.value})",
            highlight=False,
        )
        if final.target is not None:
            console.print(
                f"Target {_money(final.target.effective_target)}: {_money(final.target.remaining)} to go, "
                f"{final.target.trading_days} trading day(s)",
                highlight=False,
            )

    @risk.command("packs")
    def packs(show: Annotated[str | None, typer.Option(help="Print one pack as JSON.")] = None) -> None:
        """List the shipped rule packs."""
        from propdesk.risk.rules.pack import PackError
        from propdesk.risk.rules.packs import load_all, load_pack

        console = _console()
        if show is not None:
            try:
                console.print_json(load_pack(show).model_dump_json())
            except PackError as exc:
                raise _fail(console, str(exc)) from None
            return
        table = Table(title="Rule packs")
        for column in ("id", "plan", "start", "max loss", "daily", "target", "effective"):
            table.add_column(column)
        for pack in load_all().values():
            ml = pack.max_loss
            daily = pack.daily_loss
            table.add_row(
                pack.key,
                pack.name,
                _money(pack.starting_balance),
                f"{_money(pack.max_loss_amount)} {ml.reference.value}" if ml else "—",
                f"{daily.anchor.value} → {daily.outcome.value}" if daily else "—",
                _money(pack.target_amount),
                pack.effective_date.isoformat(),
            )
        console.print(table)

    @risk.command("validate")
    def validate(path: Annotated[Path, typer.Argument(help="A custom pack YAML file.")]) -> None:
        """Validate a custom rule pack and print its key and fingerprint."""
        console = _console()
        pack = _pack(console, None, path)
        console.print(f"{pack.key} is valid (fingerprint {pack.fingerprint[:16]})", highlight=False)
        for caveat in pack.caveats:
            console.print(f"caveat: {caveat}")

    @risk.command("size")
    def size(
        capital: Annotated[str, typer.Option(help="Effective capital: equity minus the binding floor.")],
        risk_fraction: Annotated[str, typer.Option("--risk", help="Fraction of it to risk, e.g. 0.01.")],
        stop: Annotated[str, typer.Option(help="Stop distance in points.")],
        point_value: Annotated[str, typer.Option(help="Money per point per contract.")],
        max_contracts: Annotated[int | None, typer.Option(help="Contracts the session allows.")] = None,
        cap: Annotated[str | None, typer.Option(help="Most money to risk on one trade.")] = None,
        fee: Annotated[str | None, typer.Option(help="Round-trip fee per contract.")] = None,
        win_rate: Annotated[str | None, typer.Option(help="Win probability, for Kelly and ruin.")] = None,
        payoff: Annotated[str | None, typer.Option(help="Average win / average loss.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Contracts to trade from effective capital, with Kelly, ruin and a risk level."""
        from propdesk.risk.quant.requests import SizeRequest

        console = _console()
        result = _answer(
            console,
            lambda: SizeRequest(
                effective_capital=_required(console, capital, "capital"),
                risk_fraction=_required(console, risk_fraction, "risk"),
                stop_distance=_required(console, stop, "stop"),
                point_value=_required(console, point_value, "point_value"),
                max_contracts=max_contracts,
                per_trade_cap=_decimal(console, cap, "cap"),
                fee_per_contract=_decimal(console, fee, "fee") or Decimal(0),
                win_rate=_decimal(console, win_rate, "win_rate"),
                payoff=_decimal(console, payoff, "payoff"),
            ).run(),
            as_json=as_json,
        )
        if result is None:
            return
        console.print(
            f"{result.contracts} contract(s): risk {_money(result.risk_amount)} of a {_money(result.risk_budget)} "
            f"budget ({_money(result.risk_per_contract)} each)",
            highlight=False,
        )
        if result.kelly is not None:
            console.print(
                f"Kelly f* {result.kelly.f_star.normalize()}, half {result.kelly.half_kelly.normalize()}"
            )
        if result.risk_of_ruin is not None:
            console.print(f"Risk of ruin (Vince, whole effective capital): {_pct(result.risk_of_ruin)}")
        console.print(f"Level: {result.level.value.upper()}{' — BLOCKED' if result.blocked else ''}")
        for warning in result.warnings:
            console.print(f"warning: {warning}")

    @risk.command("kelly")
    def kelly_command(
        win_rate: Annotated[str, typer.Option(help="Win probability.")],
        payoff: Annotated[str, typer.Option(help="Average win / average loss.")],
        fraction: Annotated[str, typer.Option(help="Kelly fraction c (0.5 = half Kelly).")] = "1",
        risk_fraction: Annotated[str | None, typer.Option("--risk", help="Your risk per trade.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Kelly's optimal fraction and whether a risk level over-bets it."""
        from propdesk.risk.quant.requests import KellyRequest

        console = _console()
        result = _answer(
            console,
            lambda: KellyRequest(
                win_rate=_required(console, win_rate, "win_rate"),
                payoff=_required(console, payoff, "payoff"),
                fraction=_required(console, fraction, "fraction"),
                risk_fraction=_decimal(console, risk_fraction, "risk"),
            ).run(),
            as_json=as_json,
        )
        if result is None:
            return
        console.print(
            f"f* = {result.f_star.normalize()} (half {result.half_kelly.normalize()}, quarter "
            f"{result.quarter_kelly.normalize()}); edge {result.edge_per_r.normalize()} R per trade; "
            f"c·f* = {result.fractional_kelly.normalize()} keeps {_pct(float(result.growth_retention))} of growth",
            highlight=False,
        )
        console.print(f"Level: {result.level.value.upper()}")
        for warning in result.warnings:
            console.print(f"warning: {warning}")

    @risk.command("ruin")
    def ruin_command(
        win_rate: Annotated[str, typer.Option(help="Win probability.")],
        risk_fraction: Annotated[str, typer.Option("--risk", help="Fraction of capital risked per trade.")],
        payoff: Annotated[str, typer.Option(help="Average win / average loss.")] = "1",
        ruin_level: Annotated[str, typer.Option(help="Loss that counts as ruin, as a fraction.")] = "1",
        target: Annotated[str | None, typer.Option(help="Profit target as a fraction (two-barrier).")] = None,
        trades: Annotated[int | None, typer.Option(help="Monte Carlo horizon in trades.")] = None,
        paths: Annotated[int, typer.Option(help="Monte Carlo paths.")] = 20_000,
        seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Risk of ruin: classic, two-barrier, Vince/Kaufman and Monte Carlo."""
        from propdesk.risk.quant.requests import RuinRequest

        console = _console()
        result = _answer(
            console,
            lambda: RuinRequest(
                win_rate=_required(console, win_rate, "win_rate"),
                payoff=_required(console, payoff, "payoff"),
                risk_fraction=_required(console, risk_fraction, "risk"),
                ruin_level=_required(console, ruin_level, "ruin_level"),
                target_fraction=_decimal(console, target, "target"),
                trades=trades,
                paths=paths,
                seed=seed,
            ).run(),
            as_json=as_json,
        )
        if result is None:
            return
        console.print(f"Capital: {result.capital_units:f} units of risk", highlight=False)
        console.print(f"Classic (q/p)^C: {_pct(result.classic)}")
        if result.two_barrier is not None:
            console.print(f"Two-barrier (ruin before target): {_pct(result.two_barrier)}")
        console.print(f"Vince/Kaufman: {_pct(result.vince)}")
        for label, mc in (("fixed", result.monte_carlo_fixed), ("fractional", result.monte_carlo_fractional)):
            if mc is not None:
                console.print(
                    f"Monte Carlo ({label}, {trades} trades): {_pct(mc.estimate)} ± {_pct(mc.standard_error)} "
                    f"[{_pct(mc.wilson_low)}, {_pct(mc.wilson_high)}]"
                )
        console.print(f"Level: {result.level.value.upper()}{' — BLOCKED' if result.blocked else ''}")
        for note in result.notes:
            console.print(f"note: {note}")

    @risk.command("challenge")
    def challenge(
        pack: Annotated[str | None, typer.Option(help=PACK_HELP)] = None,
        pack_file: Annotated[Path | None, typer.Option(help=PACK_FILE_HELP)] = None,
        win_rate: Annotated[str | None, typer.Option(help="Win probability.")] = None,
        payoff: Annotated[str | None, typer.Option(help="Average win / average loss.")] = None,
        risk_amount: Annotated[str | None, typer.Option("--risk", help="Money risked per trade.")] = None,
        risk_fraction: Annotated[
            str | None, typer.Option(help="Or a fraction of the balance per trade.")
        ] = None,
        trades_per_day: Annotated[int, typer.Option(help="Trades per day.")] = 3,
        commission: Annotated[str, typer.Option(help="Commission per trade.")] = "0",
        bootstrap: Annotated[
            Path | None, typer.Option(help="Bootstrap from the closed trades of a trades CSV instead.")
        ] = None,
        paths: Annotated[int, typer.Option(help="Simulated attempts.")] = 10_000,
        max_days: Annotated[int, typer.Option(help="Trading days an attempt may take.")] = 60,
        seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Probability of passing a pack's evaluation (Monte Carlo with the pack's exact rules)."""
        from propdesk.risk.quant.requests import ChallengeRequest
        from propdesk.risk.rules.retro_evaluation import TradesCsvError, parse_trades_csv, replay_trades

        console = _console()
        resolved = _pack(console, pack, pack_file)
        pnls = None
        if bootstrap is not None:
            try:
                replayed = replay_trades(resolved, parse_trades_csv(bootstrap.read_text(encoding="utf-8")))
            except (TradesCsvError, OSError, ValueError) as exc:
                raise _fail(console, str(exc)) from None
            pnls = replayed.closed_trades
            console.print(f"bootstrapping {len(pnls)} closed trades from {bootstrap}")
        result = _answer(
            console,
            lambda: ChallengeRequest(
                pack=resolved.id,
                win_rate=_decimal(console, win_rate, "win_rate"),
                payoff=_decimal(console, payoff, "payoff"),
                risk=_decimal(console, risk_amount, "risk"),
                risk_fraction=_decimal(console, risk_fraction, "risk_fraction"),
                trades_per_day=trades_per_day,
                commission=_required(console, commission, "commission"),
                bootstrap_pnls=pnls,
                paths=paths,
                max_days=max_days,
                seed=seed,
            ).run(resolved),
            as_json=as_json,
        )
        if result is None:
            return
        if result.has_target:
            console.print(
                f"{resolved.name}: P(pass) {_pct(result.p_pass)} [{_pct(result.wilson_low)}, "
                f"{_pct(result.wilson_high)}] over {result.paths:,} attempts (seed {result.seed})",
                highlight=False,
            )
        else:
            console.print(
                f"{resolved.name} has no target: P(survive {result.max_days} days) "
                f"{_pct(result.timed_out / result.paths)} over {result.paths:,} paths (seed {result.seed})",
                highlight=False,
            )
        for rule, count in result.failures.items():
            if count:
                console.print(f"  failed by {rule}: {_pct(count / result.paths)}")
        if result.timed_out and result.has_target:
            console.print(f"  not decided in {result.max_days} days: {_pct(result.timed_out / result.paths)}")
        if result.days_to_pass_median is not None:
            console.print(
                f"Days to pass: median {result.days_to_pass_median:g}, mean {result.days_to_pass_mean:.1f}, "
                f"90th percentile {result.days_to_pass_p90:g}"
            )
        for note in (*result.assumptions, *(f"not simulated: {x}" for x in result.not_simulated)):
            console.print(f"note: {note}")
