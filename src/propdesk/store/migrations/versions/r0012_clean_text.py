"""Clean stored text of control characters and lone surrogates (issue 14, hole 3).

Before revision 0012 a client could store NUL and other control characters in ids and names on
SQLite (PostgreSQL refused NUL with a 500 but kept the other control characters); every later
response that showed one could fail. The API now refuses them; this revision replaces each such
character already stored by U+FFFD, deterministically, in the text a client chose: ids (client
order ids, decision run and action ids, idempotency keys, clone ids), names (users, tokens,
watchlists), e-mails, audit actors and reasons. Tab, line feed and carriage return stay in free
text (names, reasons). Where a column is unique (in its scope, e.g. a client order id per account)
and the cleaned text is taken, ``~2``, ``~3``, … is appended (the text cut to fit the column).
JSON documents (decision payloads, audit snapshots) and primary keys are left as they are.
The downgrade keeps the cleaned text: the old bytes are not worth restoring.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REPLACEMENT = "\ufffd"
_CONTROLS = [chr(c) for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))]
_WHITESPACE = ("\t", "\n", "\r")
_STRICT = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_FREE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


class Column(NamedTuple):  # not a dataclass: alembic loads this module outside sys.modules
    table: str
    column: str
    length: int | None  # the column's length, to cut a suffixed value
    free_text: bool = False  # tab, line feed and carriage return allowed
    unique_in: tuple[str, ...] | None = None  # () unique in the table, (cols…) unique per scope


# In dependency order: a decision run id is cleaned before the action ids unique per run.
COLUMNS = (
    Column("users", "name", 200, free_text=True),
    Column("users", "email", 320, unique_in=()),
    Column("accounts", "idempotency_key", 200, unique_in=()),
    Column("accounts", "clone_id", 64),
    Column("accounts", "mode", 32),
    Column("orders", "client_order_id", 128, unique_in=("account_id",)),
    Column("orders", "reason", None, free_text=True),
    Column("decision_actions", "decision_run_id", 128, unique_in=("account_id",)),
    Column("decision_actions", "decision_action_id", 128, unique_in=("account_id", "decision_run_id")),
    Column("admin_audit_log", "actor", 200),
    Column("admin_audit_log", "reason", None, free_text=True),
    Column("api_tokens", "name", 200, free_text=True),
    Column("alpaca_watchlists", "name", 64, free_text=True, unique_in=("account_id",)),
)


def cleaned(text: str, *, free_text: bool) -> str:
    return (_FREE if free_text else _STRICT).sub(REPLACEMENT, text)


def _suffixed(text: str, taken: set[str], length: int | None) -> str:
    if text not in taken:
        return text
    n = 2
    while True:
        suffix = f"~{n}"
        base = text if length is None else text[: length - len(suffix)]
        if base + suffix not in taken:
            return base + suffix
        n += 1


def _dirty(conn: sa.Connection, col: sa.ColumnElement[str], free_text: bool) -> sa.ColumnElement[bool]:
    """A filter for values that may hold a bad character (the exact check is done in Python)."""
    chars = [c for c in _CONTROLS if c != "\x00" and not (free_text and c in _WHITESPACE)]
    if conn.dialect.name == "sqlite":
        return sa.or_(sa.func.instr(col, sa.func.char(0)) > 0, col.op("GLOB")("*[" + "".join(chars) + "]*"))
    if conn.dialect.name == "postgresql":  # PostgreSQL text cannot hold NUL or a lone surrogate
        return col.op("~")("[" + "".join(chars) + "]")
    return sa.true()


def _clean(conn: sa.Connection, spec: Column) -> None:
    scope_names = spec.unique_in or ()
    table = sa.table(spec.table, sa.column(spec.column), *(sa.column(n) for n in scope_names))
    col = table.c[spec.column]
    scope = [table.c[n] for n in scope_names]
    rows = conn.execute(
        sa.select(*scope, col).distinct().where(col.is_not(None), _dirty(conn, col, spec.free_text))
    ).all()
    for row in rows:
        *key, old = row
        new = cleaned(old, free_text=spec.free_text)
        if new == old:
            continue
        match = [c == v for c, v in zip(scope, key, strict=True)]
        if spec.unique_in is not None:
            taken = set(conn.execute(sa.select(col).where(col.is_not(None), *match)).scalars())
            new = _suffixed(new, taken, spec.length)
        conn.execute(sa.update(table).where(col == old, *match).values({spec.column: new}))


def upgrade() -> None:
    conn = op.get_bind()
    for spec in COLUMNS:
        _clean(conn, spec)


def downgrade() -> None:
    pass  # the cleaned text stays
