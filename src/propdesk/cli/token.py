"""``propdesk token create | list | revoke``: bearer tokens for the service and admin APIs.

A revoked token is refused by every running server process within a second.
"""

from __future__ import annotations

import json
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
        from propdesk.services.access.tokens import Role, create_token
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

    @token.command("list")
    def list_(
        as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
    ) -> None:
        """Every token: id, name, role, when created and revoked (never the secret)."""
        from propdesk.bootstrap import build_context
        from propdesk.services.access.tokens import list_tokens
        from propdesk.settings import load_settings

        ctx = build_context(load_settings())
        try:
            found = list_tokens(ctx.engine)
        finally:
            ctx.engine.dispose()
        if as_json:
            rows = [
                {
                    "id": t.token_id,
                    "name": t.name,
                    "role": t.role.value,
                    "created_at": t.created_at.isoformat(),
                    "revoked_at": None if t.revoked_at is None else t.revoked_at.isoformat(),
                }
                for t in found
            ]
            typer.echo(json.dumps(rows))
            return
        for t in found:
            state = "active" if t.revoked_at is None else f"revoked {t.revoked_at.isoformat()}"
            typer.echo(
                f"{t.token_id}  {t.role.value:<7}  {t.name}  created {t.created_at.isoformat()}  {state}"
            )
        if not found:
            typer.echo("no tokens", err=True)

    @token.command("revoke")
    def revoke(
        token_id: Annotated[
            str, typer.Argument(help="The token id (the part after pd_, before the secret).")
        ],
    ) -> None:
        """Revoke a token for good; running servers refuse it within a second."""
        from propdesk.bootstrap import build_context
        from propdesk.cli.accounts import fail
        from propdesk.services.access.tokens import revoke_token
        from propdesk.services.errors import NotFound
        from propdesk.settings import load_settings

        ctx = build_context(load_settings())
        try:
            revoke_token(ctx.engine, token_id, clock=ctx.clock)
        except NotFound as exc:
            fail(exc.message)
        finally:
            ctx.engine.dispose()
        typer.echo(f"revoked {token_id}")
