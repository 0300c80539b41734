"""``propdesk data …``: import bar files, write manual quotes, replay, poll sources, calendars.

Commands are thin: they parse options, call the market-data services and jobs, and print with
rich. Heavy imports happen inside the commands so ``propdesk --help`` stays fast.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec

import typer
from rich.console import Console

from propdesk.model.ids import AccountId

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

P = ParamSpec("P")


def _engine() -> Engine:
    from propdesk.settings import load_settings
    from propdesk.store.engine import create_engine_for

    settings = load_settings()
    return create_engine_for(settings.database_url, settings.database_echo)


def _when(text: str | None) -> datetime | None:
    """An ISO 8601 time; without an offset it is read as UTC."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not an ISO 8601 time") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _fail(console: Console, message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(2)


def _database_errors(command: Callable[P, None]) -> Callable[P, None]:
    """Turn "no such table" and connection failures into one line with the likely fix."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        from sqlalchemy.exc import OperationalError, ProgrammingError

        try:
            command(*args, **kwargs)
        except (OperationalError, ProgrammingError) as exc:
            reason = str(exc.orig or exc).strip().splitlines()[0]
            Console().print(
                f"[red]error:[/red] database not ready ({reason}); "
                "check PROPDESK_DATABASE_URL and run `propdesk db upgrade`"
            )
            raise typer.Exit(2) from exc

    return run


def register(cli: typer.Typer) -> None:
    data = typer.Typer(
        help="Market data: import, manual quotes, replay, ingestion, calendars.", no_args_is_help=True
    )
    cli.add_typer(data, name="data")
    from propdesk.cli import corporate_actions

    corporate_actions.register(data)

    @data.command("import")
    @_database_errors
    def import_file(
        file: Annotated[
            Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="Bar file to load.")
        ],
        symbol: Annotated[str, typer.Option("--symbol", "-s", help="Symbol the bars belong to.")],
        format: Annotated[
            str | None,
            typer.Option("--format", "-f", help="yahoo | intraday | csv (default: from the header)."),
        ] = None,
        tz: Annotated[
            str | None,
            typer.Option(
                "--tz",
                help="IANA zone of the file's times (yahoo: America/New_York, intraday: Europe/Berlin).",
            ),
        ] = None,
        timeframe: Annotated[
            str | None, typer.Option("--timeframe", help="e.g. 1Min, 5Min, 1Day (default: inferred).")
        ] = None,
    ) -> None:
        """Load a bar file into the price store: all rows or none; re-importing changes nothing."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from propdesk.marketdata.files import BarFileError
        from propdesk.services.market.prices import import_bar_file

        console = Console()
        engine = _engine()
        try:
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            ) as progress:
                reading = progress.add_task(f"reading {file.name}", total=None)
                writing = progress.add_task("storing", total=None, visible=False)

                def on_read(done: int, total: int) -> None:
                    progress.update(reading, completed=done, total=total)

                def on_write(done: int, total: int) -> None:
                    progress.update(writing, completed=done, total=total, visible=True)

                report = import_bar_file(
                    engine,
                    file,
                    symbol.strip().upper(),
                    format=format,
                    zone=tz,
                    timeframe=timeframe,
                    read_progress=on_read,
                    write_progress=on_write,
                )
        except BarFileError as exc:
            console.print(f"[red]refused, nothing stored:[/red] {len(exc.bad_rows)} bad row(s) in {exc.path}")
            for bad in exc.bad_rows[:50]:
                console.print(f"  line {bad.line}: {bad.message}")
            if len(exc.bad_rows) > 50:
                console.print(f"  … and {len(exc.bad_rows) - 50} more")
            raise typer.Exit(1) from exc
        except ValueError as exc:
            raise _fail(console, str(exc)) from exc
        finally:
            engine.dispose()
        console.print(
            f"{report.symbol} {report.timeframe} ({report.format}, {report.zone}): {report.rows} rows, "
            f"{report.inserted} new, {report.unchanged} already stored"
            + (
                f", [yellow]{report.conflicting} differ from stored bars (kept)[/yellow]"
                if report.conflicting
                else ""
            )
            + (
                f"; {report.first.isoformat()} .. {report.last.isoformat()}"
                if report.first and report.last
                else ""
            )
        )

    @data.command("quote")
    @_database_errors
    def quote(
        symbol: Annotated[str, typer.Argument(help="Symbol, e.g. AAPL, BTC/USD, ESZ26.")],
        bid: Annotated[str, typer.Option(help="Bid price.")],
        ask: Annotated[str, typer.Option(help="Ask price.")],
        last: Annotated[str | None, typer.Option(help="Last trade price.")] = None,
        bid_size: Annotated[str, typer.Option(help="Bid size.")] = "0",
        ask_size: Annotated[str, typer.Option(help="Ask size.")] = "0",
        time: Annotated[
            str | None, typer.Option("--time", help="Quote time, ISO 8601 (UTC without offset); default now.")
        ] = None,
        actor: Annotated[str, typer.Option(help="Who is writing the price (audit).")] = "cli",
        reason: Annotated[str, typer.Option(help="Why (audit).")] = "manual price",
    ) -> None:
        """Write a manual quote into the price store (audited)."""
        from propdesk.marketdata.clock import SystemClock
        from propdesk.model.market import Quote
        from propdesk.model.numbers import NotExactError, parse_decimal
        from propdesk.services.market.prices import QuoteConflict, write_manual_quote

        console = Console()
        clock = SystemClock()
        try:
            new = Quote(
                symbol=symbol.strip().upper(),
                time=_when(time) or clock.now(),
                bid=parse_decimal(bid, field="--bid", signed=True),
                ask=parse_decimal(ask, field="--ask", signed=True),
                last=None if last is None else parse_decimal(last, field="--last", signed=True),
                bid_size=parse_decimal(bid_size, field="--bid-size"),
                ask_size=parse_decimal(ask_size, field="--ask-size"),
            )
        except (ValueError, NotExactError) as exc:
            raise _fail(console, str(exc)) from exc
        engine = _engine()
        try:
            result = write_manual_quote(engine, new, actor=actor, reason=reason, clock=clock)
        except (QuoteConflict, ValueError) as exc:
            raise _fail(console, str(exc)) from exc
        finally:
            engine.dispose()
        verb = "stored" if result.written else "already stored (unchanged)"
        console.print(f"{new.symbol} {new.time.isoformat()} bid {new.bid} ask {new.ask}: {verb}")

    @data.command("latest")
    @_database_errors
    def latest(
        symbols: Annotated[str, typer.Argument(help="Comma-separated symbols.")],
        max_age: Annotated[
            int | None, typer.Option(help="Mark quotes older than this many seconds as stale.")
        ] = None,
    ) -> None:
        """Show the latest stored quote of each symbol."""
        from datetime import timedelta

        from rich.table import Table

        from propdesk.marketdata.clock import SystemClock
        from propdesk.marketdata.prices import StorePriceReader, is_stale

        wanted = [s.strip().upper() for s in symbols.split(",") if s.strip()]
        engine = _engine()
        try:
            quotes = StorePriceReader(engine).latest_quotes(wanted)
        finally:
            engine.dispose()
        now = SystemClock().now()
        table = Table()
        for column in ("symbol", "time", "bid", "ask", "last", "state"):
            table.add_column(column)
        for symbol in wanted:
            q = quotes.get(symbol)
            if q is None:
                table.add_row(symbol, "-", "-", "-", "-", "[red]missing[/red]")
                continue
            stale = max_age is not None and is_stale(q, max_age=timedelta(seconds=max_age), now=now)
            state = "[yellow]stale[/yellow]" if stale else "ok"
            table.add_row(symbol, q.time.isoformat(), str(q.bid), str(q.ask), str(q.last or "-"), state)
        Console().print(table)

    @data.command("replay")
    @_database_errors
    def replay(
        symbols: Annotated[str, typer.Option(help="Comma-separated symbols with stored bars.")],
        start: Annotated[str, typer.Option("--from", help="Replay start, ISO 8601 (UTC without offset).")],
        until: Annotated[str | None, typer.Option(help="Replay end (default: the last bar).")] = None,
        timeframe: Annotated[str, typer.Option(help="Bars to play, e.g. 1Day, 1Min.")] = "1Day",
        speed: Annotated[
            float, typer.Option(help="Simulated seconds per real second; 0 = as fast as possible.")
        ] = 0.0,
        calendar: Annotated[
            str, typer.Option(help="Calendar dating daily closes (NYSE, CME, none).")
        ] = "NYSE",
    ) -> None:
        """Play stored bars forward on a replay clock, writing the quotes derived from them."""
        from propdesk.marketdata.clock import ReplayClock
        from propdesk.marketdata.replay_feed import ReplayFeed

        console = Console()
        begin = _when(start)
        assert begin is not None
        clock = ReplayClock(begin, speed=speed)
        engine = _engine()
        try:
            feed = ReplayFeed(
                engine,
                clock,
                [s.strip().upper() for s in symbols.split(",") if s.strip()],
                timeframe,
                calendar=None if calendar.lower() == "none" else calendar,
            )
            report = feed.play(until=_when(until))
        except ValueError as exc:
            raise _fail(console, str(exc)) from exc
        finally:
            engine.dispose()
        console.print(
            f"replayed {report.steps} instants, {report.quotes} quotes"
            + (
                f" ({report.first.isoformat()} .. {report.last.isoformat()})"
                if report.first and report.last
                else ""
            )
        )

    @data.command("ingest")
    @_database_errors
    def ingest(
        source: Annotated[str, typer.Option(help="alpaca | synthetic")] = "alpaca",
        symbols: Annotated[str, typer.Option(help="Extra comma-separated symbols to poll.")] = "",
        seed: Annotated[int, typer.Option(help="Seed of the synthetic feed.")] = 1,
    ) -> None:
        """Poll the latest quotes of symbols held or watched by active accounts, once."""
        from propdesk.jobs.ingestion import poll_latest_quotes
        from propdesk.marketdata.alpaca import AlpacaDataClient
        from propdesk.marketdata.alpaca_http import AlpacaDataError
        from propdesk.marketdata.clock import SystemClock
        from propdesk.marketdata.sources import QuoteSource
        from propdesk.marketdata.synthetic import SyntheticFeed
        from propdesk.settings import load_settings

        console = Console()
        clock = SystemClock()
        extra = [s.strip().upper() for s in symbols.split(",") if s.strip()]
        engine = _engine()
        client: AlpacaDataClient | None = None
        try:
            feed: QuoteSource
            if source == "alpaca":
                client = AlpacaDataClient.from_settings(load_settings(), clock=clock)
                feed = client
            elif source == "synthetic":
                feed = SyntheticFeed(clock, seed=seed)
            else:
                raise _fail(console, f"unknown source {source!r}: alpaca or synthetic")
            report = poll_latest_quotes(engine, feed, clock, extra_symbols=extra)
        except AlpacaDataError as exc:
            raise _fail(console, str(exc)) from exc
        finally:
            if client is not None:
                client.close()
            engine.dispose()
        console.print(
            f"{report.source}: {len(report.symbols)} symbols, {report.received} quotes, {report.written} new"
            + (f"; no quote for {', '.join(report.missing)}" if report.missing else "")
        )

    @data.command("fetch")
    @_database_errors
    def fetch(
        symbols: Annotated[str, typer.Argument(help="Comma-separated symbols.")],
        user: Annotated[str, typer.Option(help="The user the data is fetched for (access log).")],
    ) -> None:
        """Fetch latest quotes from Alpaca for a user (logged in the access log) and store them."""
        from propdesk.marketdata.alpaca import AlpacaDataClient
        from propdesk.marketdata.alpaca_http import AlpacaDataError
        from propdesk.marketdata.clock import SystemClock
        from propdesk.marketdata.sources import DbAccessLog
        from propdesk.services.market.prices import fetch_quotes
        from propdesk.settings import load_settings

        console = Console()
        engine = _engine()
        try:
            with AlpacaDataClient.from_settings(
                load_settings(), clock=SystemClock(), access_log=DbAccessLog(engine)
            ) as client:
                quotes = fetch_quotes(
                    engine, client, [s.strip() for s in symbols.split(",") if s.strip()], user=user
                )
        except AlpacaDataError as exc:
            raise _fail(console, str(exc)) from exc
        finally:
            engine.dispose()
        for symbol, q in sorted(quotes.items()):
            console.print(f"{symbol} {q.time.isoformat()} bid {q.bid} ask {q.ask}")

    @data.command("purge-access-log")
    @_database_errors
    def purge_access_log(
        months: Annotated[int, typer.Option(help="Keep this many months.")] = 13,
    ) -> None:
        """Delete market-data access-log rows older than the retention period."""
        from propdesk.jobs.retention import purge_market_data_access_log
        from propdesk.marketdata.clock import SystemClock

        engine = _engine()
        try:
            deleted = purge_market_data_access_log(engine, SystemClock(), months=months)
        finally:
            engine.dispose()
        Console().print(f"deleted {deleted} access-log rows older than {months} months")

    @data.command("watch")
    @_database_errors
    def watch_symbol(
        account: Annotated[str, typer.Argument(help="Account id.")],
        symbol: Annotated[str, typer.Argument(help="Symbol to keep quoted.")],
        remove: Annotated[bool, typer.Option("--remove", help="Stop watching instead.")] = False,
    ) -> None:
        """Add a symbol to (or remove it from) an account's watchlist."""
        from propdesk.marketdata.clock import SystemClock
        from propdesk.services.market.prices import unwatch, watch
        from propdesk.store.errors import AccountNotFound

        console = Console()
        engine = _engine()
        try:
            if remove:
                console.print(
                    "removed" if unwatch(engine, AccountId(account), symbol.upper()) else "was not watched"
                )
            else:
                watch(engine, AccountId(account), symbol.upper(), clock=SystemClock())
                console.print(f"{account} watches {symbol.upper()}")
        except AccountNotFound as exc:
            raise _fail(console, f"no account {account}") from exc
        finally:
            engine.dispose()

    @data.command("calendar")
    def calendar_info(
        day: Annotated[str | None, typer.Argument(help="A date (YYYY-MM-DD); default today.")] = None,
        name: Annotated[str, typer.Option(help="NYSE, CME or a pandas_market_calendars name.")] = "NYSE",
    ) -> None:
        """Show a calendar's session on a day, and the next open and close."""
        from propdesk.marketdata.calendars import get_calendar
        from propdesk.marketdata.clock import SystemClock

        console = Console()
        try:
            cal = get_calendar(name)
            when = date.fromisoformat(day) if day else SystemClock().now().astimezone(cal.zone).date()
            session = cal.session(when)
        except ValueError as exc:
            raise _fail(console, str(exc)) from exc
        zone = cal.zone
        if session is None:
            console.print(f"{cal.name}: no session on {when}")
        else:
            early = " (early close)" if session.early_close else ""
            console.print(
                f"{cal.name} {when}: open {session.open.astimezone(zone):%Y-%m-%d %H:%M %Z}, "
                f"close {session.close.astimezone(zone):%H:%M %Z}{early}"
            )
        moment = datetime.combine(when, datetime.min.time(), zone)
        console.print(f"next open {cal.next_open(moment).astimezone(zone).isoformat()}")
        console.print(f"last business day of {when.year}: {cal.last_business_day(when.year)}")
