"""Column types that keep money exact and time in UTC on every backend.

``ExactDecimal`` is ``NUMERIC`` without precision or scale on PostgreSQL (any number of digits,
stored as written) and ``TEXT`` holding ``str(Decimal)`` on SQLite, because SQLite's ``NUMERIC``
affinity silently turns values into 8-byte floats. The price of TEXT on SQLite is that SQL
arithmetic, ``SUM`` and ordering on those columns are not numeric there: do money arithmetic in
Python (the kernel does), never in SQL.

``UtcDateTime`` accepts only timezone-aware datetimes and always returns aware UTC ones, so a
naive timestamp can never slip into storage and be misread in another time zone later.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from propdesk.model.numbers import NotExactError, to_decimal


class NaiveDatetimeError(TypeError):
    """A datetime without a time zone offered to a UTC column."""


class ExactDecimal(TypeDecorator[Decimal]):
    """An exact decimal: NUMERIC on PostgreSQL, ``str(Decimal)`` in TEXT on SQLite; floats refused."""

    impl = sa.Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.Text())
        return dialect.type_descriptor(sa.Numeric(asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        # to_decimal refuses float, bool, NaN and infinities: a float is never exact money.
        exact = to_decimal(value, field="column value")
        return str(exact) if dialect.name == "sqlite" else exact

    def process_literal_param(self, value: Decimal | None, dialect: Dialect) -> str:
        if value is None:
            return "NULL"
        exact = to_decimal(value, field="column value")
        return f"'{exact}'" if dialect.name == "sqlite" else str(exact)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, Decimal):
            return value
        if isinstance(value, str | int) and not isinstance(value, bool):
            return Decimal(value)
        # A float here means the value went through REAL storage or SQL arithmetic: not exact.
        raise NotExactError(f"database returned {type(value).__name__} {value!r} for an exact decimal")


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp; naive datetimes are refused on the way in.

    PostgreSQL stores ``timestamptz``. SQLite stores SQLAlchemy's fixed-width
    ``YYYY-MM-DD HH:MM:SS.ffffff`` text of the UTC time, which sorts and compares correctly as
    text, and UTC is re-attached on load.
    """

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.DateTime())
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetimeError(f"naive datetime {value.isoformat()} refused: pass an aware UTC time")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"database returned {type(value).__name__} for a timestamp")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
