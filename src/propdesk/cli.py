"""The ``propdesk`` command line: thin commands that call services and print with rich."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console


def build_cli() -> typer.Typer:
    """The command tree; built on call so that importing this module creates nothing."""
    cli = typer.Typer(help="propdesk: paper-trading and prop-firm account engine.", no_args_is_help=True)
    db = typer.Typer(help="Database schema commands.", no_args_is_help=True)
    cli.add_typer(db, name="db")

    @cli.command()
    def demo(
        symbols: Annotated[
            str, typer.Option(help="Comma-separated shipped symbols to trade.")
        ] = "NVDA,ORCL,YHOO",
        start: Annotated[str, typer.Option(help="First day of the replay (YYYY-MM-DD).")] = "2010-01-01",
        end: Annotated[str, typer.Option(help="Last day of the replay (YYYY-MM-DD).")] = "2014-12-31",
    ) -> None:
        """Replay real daily bars through the account kernel for a seed-default audition account."""
        from propdesk.backtest.demo import run_demo

        console = Console()
        try:
            run_demo(
                console,
                symbols=[s.strip().upper() for s in symbols.split(",") if s.strip()],
                start=date.fromisoformat(start),
                end=date.fromisoformat(end),
            )
        except ValueError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc

    @db.command("upgrade")
    def db_upgrade(revision: str = "head") -> None:
        """Apply the schema migrations to PROPDESK_DATABASE_URL."""
        from propdesk.settings import load_settings
        from propdesk.store.migrate import upgrade

        settings = load_settings()
        upgrade(settings.database_url, revision)
        Console().print(f"database upgraded to {revision}")

    return cli


def main() -> None:
    build_cli()()
