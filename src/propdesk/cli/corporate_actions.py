"""``propdesk data corporate-actions …``: import a corporate-actions CSV, list them, apply a date."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from propdesk.services.context import ServiceContext


def _context() -> ServiceContext:
    from propdesk.services.context import ServiceContext
    from propdesk.settings import load_settings
    from propdesk.store.engine import create_engine_for

    settings = load_settings()
    return ServiceContext(
        engine=create_engine_for(settings.database_url, settings.database_echo), settings=settings
    )


def register(data: typer.Typer) -> None:
    group = typer.Typer(help="Dividends, splits and name changes: import, list, apply.", no_args_is_help=True)
    data.add_typer(group, name="corporate-actions")

    @group.command("import")
    def import_file(
        file: Annotated[
            Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV of corporate actions.")
        ],
    ) -> None:
        """Validate the whole file, then store it (nothing on any error); re-importing adds nothing.

        Columns: type,symbol,ex_date,payable_date,cash,old_rate,new_rate,new_symbol; type is
        dividend|split|name_change; a 3-for-1 split is old_rate=1,new_rate=3. Lines starting
        with # are comments.
        """
        from propdesk.services.daily.corporate_actions import (
            CorporateActionFileError,
            import_corporate_actions,
        )
        from propdesk.store.corporate_actions import CorporateActionConflict

        console = Console()
        ctx = _context()
        try:
            result = import_corporate_actions(
                ctx, file.read_text(encoding="utf-8"), source=f"csv:{file.name}"
            )
        except (CorporateActionFileError, CorporateActionConflict) as exc:
            console.print(f"[red]refused, nothing stored:[/red] {file}: {exc}")
            raise typer.Exit(1) from exc
        finally:
            ctx.engine.dispose()
        console.print(f"{result.read} action(s) read, {result.stored} new")

    @group.command("fetch")
    def fetch(
        symbols: Annotated[str, typer.Option("--symbols", help="Comma-separated symbols, e.g. NVDA,ORCL.")],
        start: Annotated[str, typer.Option("--start", help="First ex-date, YYYY-MM-DD.")],
        end: Annotated[str, typer.Option("--end", help="Last ex-date, YYYY-MM-DD.")],
    ) -> None:
        """Fetch dividends, splits and name changes from Alpaca (needs the Alpaca keys) and store them."""
        from propdesk.marketdata.alpaca import AlpacaDataClient
        from propdesk.marketdata.alpaca_http import AlpacaDataError
        from propdesk.services.daily.corporate_actions import fetch_corporate_actions
        from propdesk.store.corporate_actions import CorporateActionConflict

        console = Console()
        try:
            first, last = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError as exc:
            raise typer.BadParameter(f"dates are YYYY-MM-DD: {exc}") from exc
        ctx = _context()
        try:
            with AlpacaDataClient.from_settings(ctx.settings) as client:
                wanted = [s.strip().upper() for s in symbols.split(",") if s.strip()]
                result = fetch_corporate_actions(ctx, client, wanted, start=first, end=last)
        except (AlpacaDataError, CorporateActionConflict) as exc:
            console.print(f"[red]error, nothing stored:[/red] {exc}")
            raise typer.Exit(1) from exc
        finally:
            ctx.engine.dispose()
        console.print(f"{result.read} action(s) fetched, {result.stored} new")

    @group.command("list")
    def list_actions() -> None:
        """Every stored corporate action by ex-date."""
        from propdesk.services.daily.corporate_actions import list_corporate_actions

        console = Console()
        ctx = _context()
        try:
            for a in list_corporate_actions(ctx):
                terms = {
                    "dividend": f"cash {a.cash}",
                    "split": f"{a.new_rate}-for-{a.old_rate}",
                    "name_change": f"-> {a.new_symbol}",
                }[a.type.value]
                console.print(f"{a.ex_date} {a.type.value:<11} {a.symbol:<6} {terms}  ({a.source})")
        finally:
            ctx.engine.dispose()

    @group.command("run")
    def run(
        day: Annotated[str, typer.Option("--date", help="The trading date (ex-date) to apply, YYYY-MM-DD.")],
    ) -> None:
        """Apply the actions of one ex-date to every account they touch (a rerun changes nothing)."""
        from propdesk.jobs.corporate_actions import corporate_actions_job

        console = Console()
        try:
            when = date.fromisoformat(day)
        except ValueError as exc:
            raise typer.BadParameter(f"{day!r} is not a date (YYYY-MM-DD)") from exc
        ctx = _context()
        try:
            applied = corporate_actions_job(ctx, when)
        finally:
            ctx.engine.dispose()
        for item in applied:
            console.print(
                f"{item.type.value} {item.symbol} -> {item.account_id}: "
                f"{len(item.events)} ledger event(s), {len(item.orders)} order(s) adjusted"
            )
        console.print(f"{len(applied)} application(s) on {when}")
