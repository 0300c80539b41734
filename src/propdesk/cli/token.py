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
        account: Annotated[
            list[str] | None,
            typer.Option(
                "--account",
                help="Grant this existing account to the token (repeatable); "
                "a service token sees the accounts it creates plus these.",
            ),
        ] = None,
    ) -> None:
        """Print a new token once; only its hash is stored."""
        from propdesk.bootstrap import build_context
        from propdesk.services.tokens import Role, create_token
        from propdesk.settings import load_settings
        from propdesk.store.errors import AccountNotFound

        try:
            chosen = Role(role)
        except ValueError:
            Console(stderr=True).print("[red]error:[/red] --role must be service or admin")
            raise typer.Exit(2) from None
        ctx = build_context(load_settings())
        try:
            principal, secret = create_token(
                ctx.engine,
                role=chosen,
                name=name or f"{chosen.value}-token",
                clock=ctx.clock,
                accounts=account or [],
            )
        except AccountNotFound as exc:
            Console(stderr=True).print(
                f"[red]error:[/red] --account: no account {exc.account_id!r}; no token made"
            )
            raise typer.Exit(2) from None
        Console(stderr=True).print(f"{principal.role.value} token '{principal.name}' (shown once):")
        print(secret)
