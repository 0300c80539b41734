"""``propdesk token create``: make a bearer token for the service or admin API."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console


def register(cli: typer.Typer) -> None:
    token = typer.Typer(help="API tokens.", no_args_is_help=True)
    cli.add_typer(token, name="token")

    @token.command("create")
    def create(
        role: Annotated[str, typer.Option(help="service or admin")] = "service",
        name: Annotated[str | None, typer.Option(help="Who uses it (recorded in audit rows).")] = None,
    ) -> None:
        """Print a new token once; only its hash is stored."""
        from propdesk.bootstrap import build_context
        from propdesk.services.tokens import Role, create_token
        from propdesk.settings import load_settings

        try:
            chosen = Role(role)
        except ValueError:
            Console(stderr=True).print("[red]error:[/red] --role must be service or admin")
            raise typer.Exit(2) from None
        ctx = build_context(load_settings())
        principal, secret = create_token(
            ctx.engine, role=chosen, name=name or f"{chosen.value}-token", clock=ctx.clock
        )
        Console(stderr=True).print(f"{principal.role.value} token '{principal.name}' (shown once):")
        print(secret)
