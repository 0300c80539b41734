"""``propdesk db …``: schema commands."""

from __future__ import annotations

import typer
from rich.console import Console


def register(cli: typer.Typer) -> None:
    db = typer.Typer(help="Database schema commands.", no_args_is_help=True)
    cli.add_typer(db, name="db")

    @db.command("upgrade")
    def db_upgrade(revision: str = "head") -> None:
        """Apply the schema migrations to PROPDESK_DATABASE_URL."""
        from propdesk.settings import load_settings
        from propdesk.store.migrate import upgrade

        upgrade(load_settings().database_url, revision)
        Console().print(f"database upgraded to {revision}")
