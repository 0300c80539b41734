"""``propdesk users export | erase | tier``: a user's data, as GDPR asks (access and erasure),
and how long the retention job keeps it.

``export`` writes everything propdesk holds about a user as one JSON document (decimals as
strings, never a secret); ``erase`` deletes all of it, their ledger rows included, in one
transaction and leaves one audit row naming them only by the SHA-256 of their id.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from propdesk.cli.accounts import fail
from propdesk.model.ids import UserId


def register(cli: typer.Typer) -> None:
    users = typer.Typer(
        help="A user's data: export it or erase it (GDPR), or set how long it is kept.", no_args_is_help=True
    )
    cli.add_typer(users, name="users")

    @users.command("export")
    def export(
        user: Annotated[str, typer.Argument(help="The user id.")],
        out: Annotated[
            Path | None, typer.Option("--out", help="Write the JSON to this file instead of stdout.")
        ] = None,
    ) -> None:
        """Everything held about USER as JSON: the user row and every row keyed to them or their accounts."""
        from propdesk.bootstrap import build_context
        from propdesk.services.access.users import export_user
        from propdesk.services.errors import NotFound
        from propdesk.settings import load_settings

        ctx = build_context(load_settings())
        try:
            exported = export_user(ctx, UserId(user))
        except NotFound as error:
            fail(str(error))
        finally:
            ctx.engine.dispose()
        text = json.dumps(exported, indent=2, sort_keys=True)
        if out is None:
            typer.echo(text)
            return
        out.write_text(text + "\n", encoding="utf-8")
        out.chmod(0o600)  # personal data: readable by its writer only
        typer.echo(f"wrote {out}", err=True)

    @users.command("erase")
    def erase(
        user: Annotated[str, typer.Argument(help="The user id.")],
        reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit row).")],
        actor: Annotated[str, typer.Option(help="Who is erasing (audit).")] = "cli",
    ) -> None:
        """Delete every row of USER (accounts, keys, orders, fills, ledger, snapshots, ...) in one transaction."""
        from propdesk.bootstrap import build_context
        from propdesk.services.access.users import erase_user
        from propdesk.services.errors import Conflict, NotFound
        from propdesk.settings import load_settings

        ctx = build_context(load_settings())
        try:
            erasure = erase_user(ctx, UserId(user), actor=actor, reason=reason)
        except (NotFound, Conflict) as error:
            fail(str(error))
        finally:
            ctx.engine.dispose()
        rows = sum(erasure.rows.values())
        typer.echo(f"erased user sha256:{erasure.user_sha256}: {erasure.accounts} accounts, {rows} rows")

    @users.command("tier")
    def tier(
        user: Annotated[str, typer.Argument(help="The user id.")],
        tier: Annotated[
            str, typer.Argument(help="free (90 days), pro (3 years) or pro_plus (kept forever).")
        ],
        actor: Annotated[str, typer.Option(help="Who is changing it (audit).")] = "cli",
    ) -> None:
        """Set USER's retention TIER: how long the retention job keeps their closed history."""
        from propdesk.bootstrap import build_context
        from propdesk.services.access.users import set_retention_tier
        from propdesk.services.errors import Invalid, NotFound
        from propdesk.settings import load_settings

        ctx = build_context(load_settings())
        try:
            previous = set_retention_tier(ctx, UserId(user), tier, actor=actor)
        except (NotFound, Invalid) as error:
            fail(str(error))
        finally:
            ctx.engine.dispose()
        typer.echo(f"user {user}: retention tier {previous} -> {tier}")
