"""ExactDecimal and UtcDateTime: exact round trips and refusals, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from propdesk.model.numbers import NotExactError
from propdesk.store.types import ExactDecimal, NaiveDatetimeError, UtcDateTime

probe_metadata = sa.MetaData()
probe = sa.Table(
    "type_probe",
    probe_metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("value", ExactDecimal(), nullable=True),
    sa.Column("at", UtcDateTime(), nullable=True),
)

EXACT_VALUES = [
    "0.000000001",
    "123456789.123456",
    "-0.5",
    "-123456789.000000001",
    "0",
    "0.1",
    "1.10",
    "100000",
    "99999999999999999999.99999999999999999999",
    "0.000000000000000000000000000001",
]


@pytest.fixture
def probe_table(engine: Engine) -> Iterator[sa.Table]:
    with engine.begin() as conn:
        probe_metadata.create_all(conn)
    yield probe
    with engine.begin() as conn:
        probe_metadata.drop_all(conn)


@pytest.mark.parametrize("text", EXACT_VALUES)
def test_exact_decimal_round_trips_digit_for_digit(engine: Engine, probe_table: sa.Table, text: str) -> None:
    value = Decimal(text)
    with engine.begin() as conn:
        conn.execute(sa.insert(probe_table).values(id=1, value=value))
    with engine.connect() as conn:
        loaded = conn.execute(sa.select(probe_table.c.value)).scalar_one()
    assert isinstance(loaded, Decimal)
    assert loaded == value
    # Same digits and exponent, not merely an equal value: nothing was rounded or rescaled.
    assert loaded.as_tuple() == value.as_tuple()


def test_exact_decimal_is_not_stored_as_a_float(engine: Engine, probe_table: sa.Table) -> None:
    value = Decimal("0.1000000000000000055511151231257827")  # what float 0.1 really is, plus
    with engine.begin() as conn:
        conn.execute(sa.insert(probe_table).values(id=1, value=value))
        raw_type = conn.execute(
            sa.text("SELECT typeof(value) FROM type_probe")
            if conn.dialect.name == "sqlite"
            else sa.text("SELECT pg_typeof(value)::text FROM type_probe")
        ).scalar_one()
        loaded = conn.execute(sa.select(probe_table.c.value)).scalar_one()
    assert raw_type in ("text", "numeric")
    assert loaded == value


@pytest.mark.parametrize("bad", [0.1, True, Decimal("NaN"), Decimal("Infinity"), "abc"])
def test_exact_decimal_refuses_inexact_values(engine: Engine, probe_table: sa.Table, bad: object) -> None:
    with pytest.raises(sa.exc.StatementError) as info, engine.begin() as conn:
        conn.execute(sa.insert(probe_table).values(id=1, value=bad))
    assert isinstance(info.value.orig, NotExactError)


def test_exact_decimal_accepts_int(engine: Engine, probe_table: sa.Table) -> None:
    with engine.begin() as conn:
        conn.execute(sa.insert(probe_table).values(id=1, value=42))
        assert conn.execute(sa.select(probe_table.c.value)).scalar_one() == Decimal(42)


def test_utc_datetime_stores_the_instant_and_returns_aware_utc(engine: Engine, probe_table: sa.Table) -> None:
    new_york = timezone(timedelta(hours=-5))
    written = datetime(2026, 1, 5, 10, 0, 0, 123456, tzinfo=new_york)
    with engine.begin() as conn:
        conn.execute(sa.insert(probe_table).values(id=1, at=written))
    with engine.connect() as conn:
        loaded = conn.execute(sa.select(probe_table.c.at)).scalar_one()
    assert loaded == written
    assert loaded.utcoffset() == timedelta(0)
    assert loaded == datetime(2026, 1, 5, 15, 0, 0, 123456, tzinfo=UTC)


def test_utc_datetime_refuses_naive(engine: Engine, probe_table: sa.Table) -> None:
    with pytest.raises(sa.exc.StatementError) as info, engine.begin() as conn:
        conn.execute(sa.insert(probe_table).values(id=1, at=datetime(2026, 1, 5, 15, 0)))
    assert isinstance(info.value.orig, NaiveDatetimeError)


def test_utc_datetime_compares_in_sql_by_instant(engine: Engine, probe_table: sa.Table) -> None:
    times = [datetime(2026, 1, 5, 15, 0, s, tzinfo=UTC) for s in (0, 1, 2)]
    with engine.begin() as conn:
        conn.execute(sa.insert(probe_table), [{"id": i, "at": t} for i, t in enumerate(times)])
    plus_one = timezone(timedelta(hours=1))
    with engine.connect() as conn:
        later = conn.execute(
            sa.select(probe_table.c.id).where(probe_table.c.at > times[0].astimezone(plus_one))
        ).scalars()
        assert sorted(later) == [1, 2]
