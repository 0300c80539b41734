"""``propdesk expiry --date YYYY-MM-DD``: settle the options expiring on a date (the job is
:mod:`propdesk.jobs.expiry`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer


def register(cli: typer.Typer) -> None:
    @cli.command()
    def expiry(
        day: Annotated[str, typer.Option("--date", help="The expiry date, YYYY-MM-DD.")],
    ) -> None:
        """Exercise, assign or expire every option position expiring on --date (after its close)."""
        try:
            trading_date = date.fromisoformat(day)
        except ValueError:
            typer.echo(f"error: --date must be YYYY-MM-DD, not {day!r}", err=True)
            raise typer.Exit(2) from None
        from propdesk.bootstrap import build_context
        from propdesk.jobs.expiry import describe, expiry_job
        from propdesk.services.errors import ServiceError
        from propdesk.settings import load_settings

        ctx = build_context(load_settings())
        try:
            report = expiry_job(ctx, trading_date)
        except ServiceError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        finally:
            ctx.engine.dispose()
        typer.echo(describe(report))
        for account_id, problem in sorted(report.failures.items()):
            typer.echo(f"  failed {account_id}: {problem}", err=True)
        if report.failures:
            raise typer.Exit(1)
