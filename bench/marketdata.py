"""Price store throughput: quotes ingested per second and latest-quote lookups for 1,000 symbols.

Run: ``.venv/bin/python bench/marketdata.py`` (prints one line per figure). PostgreSQL is the
production database: a throwaway database ``propdesk_bench_<pid>`` is created on the server at
``PROPDESK_TEST_PG_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``),
migrated, measured and dropped. The same figures for a SQLite file follow for comparison.

* ingest: 200,000 quotes (200 per symbol) written through ``PriceRepository.write_quotes`` (the
  ingestion job's path: idempotent ``INSERT … ON CONFLICT DO NOTHING``), 5,000 per transaction.
* lookups: ``latest_quotes`` of all 1,000 symbols in one statement (what a mark-to-market sweep
  asks), reported as symbols looked up per second, and single-symbol ``latest_quote`` calls per
  second (what one decision action asks).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from harness import scratch_database
from sqlalchemy.engine import Engine

from propdesk.model.market import Quote
from propdesk.store import migrate
from propdesk.store.engine import create_engine_for
from propdesk.store.prices import PriceRepository
from propdesk.store.uow import UnitOfWork

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
SYMBOLS = [f"S{i:04d}" for i in range(1_000)]
PER_SYMBOL = 200
BATCH = 5_000


def rate(label: str, n: int, work: Callable[[], None]) -> None:
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    print(f"{label}: {n / elapsed:,.0f}/s ({n:,} in {elapsed:.2f} s)")


def quotes() -> list[Quote]:
    out = []
    for k in range(PER_SYMBOL):
        at = T0 + timedelta(seconds=k)
        for i, symbol in enumerate(SYMBOLS):
            bid = Decimal(100 + i) + Decimal(k) / 100
            out.append(
                Quote(
                    symbol, at, bid, bid + Decimal("0.02"), bid + Decimal("0.01"), Decimal(100), Decimal(200)
                )
            )
    return out


def measure(name: str, engine: Engine) -> None:
    data = quotes()

    def ingest() -> None:
        for start in range(0, len(data), BATCH):
            with UnitOfWork(engine) as uow:
                PriceRepository(uow.connection).write_quotes(data[start : start + BATCH], source="bench")
                uow.commit()

    rate(f"{name} quotes ingested", len(data), ingest)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE quotes")

    rounds = 50
    found: dict[str, Quote] = {}

    def batch_lookups() -> None:
        nonlocal found
        for _ in range(rounds):
            with UnitOfWork(engine, read_only=True) as uow:
                found = PriceRepository(uow.connection).latest_quotes(SYMBOLS)

    rate(
        f"{name} latest quotes, 1,000 symbols per statement (symbols/s)", rounds * len(SYMBOLS), batch_lookups
    )
    newest = T0 + timedelta(seconds=PER_SYMBOL - 1)
    assert len(found) == len(SYMBOLS)
    assert all(q.time == newest for q in found.values())

    singles = 5_000

    def single_lookups() -> None:
        with UnitOfWork(engine, read_only=True) as uow:
            prices = PriceRepository(uow.connection)
            for n in range(singles):
                prices.latest_quote(SYMBOLS[n % len(SYMBOLS)])

    rate(f"{name} latest quote, one symbol per call", singles, single_lookups)


def postgres() -> None:
    with scratch_database(f"propdesk_bench_{os.getpid()}") as url:
        migrate.upgrade(url)
        engine = create_engine_for(url)
        try:
            measure("postgresql", engine)
        finally:
            engine.dispose()


def sqlite() -> None:
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'bench.db'}"
        migrate.upgrade(url)
        engine = create_engine_for(url)
        try:
            measure("sqlite", engine)
        finally:
            engine.dispose()


def main() -> None:
    postgres()
    sqlite()


if __name__ == "__main__":
    main()
