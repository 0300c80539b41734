"""Fixtures for market-data tests: the fake Alpaca server (one per test process) and fake time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import SecretStr

from propdesk.marketdata.alpaca import AlpacaDataClient
from propdesk.marketdata.alpaca_http import AlpacaCredentials, RetryPolicy
from propdesk.marketdata.sources import AccessLog
from tests.marketdata.fake_alpaca import FakeAlpaca, FakeTime, ServerThread

KEY_ID = "PKTESTKEYID0000000001"
SECRET = "s3cr3t-never-logged-0123456789abcdef"
START = datetime(2024, 3, 8, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def fake_alpaca_server() -> Iterator[tuple[FakeAlpaca, str]]:
    fake = FakeAlpaca()
    server = ServerThread(fake.app).start()
    yield fake, server.url
    server.stop()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime(START)


@pytest.fixture
def fake_alpaca(fake_alpaca_server: tuple[FakeAlpaca, str], fake_time: FakeTime) -> FakeAlpaca:
    fake, _ = fake_alpaca_server
    fake.reset(fake_time)
    return fake


class ClientFactory:
    """Builds clients against the fake server with the test's clock and sleep."""

    def __init__(self, url: str, time: FakeTime) -> None:
        self.url = url
        self.time = time
        self.https: list[httpx.Client] = []

    def __call__(
        self, *, access_log: AccessLog | None = None, retry: RetryPolicy | None = None
    ) -> AlpacaDataClient:
        # trust_env=False: a proxy configured in the environment must not intercept 127.0.0.1.
        http = httpx.Client(timeout=10, trust_env=False)
        self.https.append(http)
        return AlpacaDataClient(
            AlpacaCredentials(SecretStr(KEY_ID), SecretStr(SECRET)),
            base_url=self.url,
            http=http,
            clock=self.time,
            sleep=self.time.sleep,
            access_log=access_log,
            retry=retry or RetryPolicy(),
        )


@pytest.fixture
def make_client(
    fake_alpaca: FakeAlpaca, fake_alpaca_server: tuple[FakeAlpaca, str], fake_time: FakeTime
) -> Iterator[ClientFactory]:
    factory = ClientFactory(fake_alpaca_server[1], fake_time)
    yield factory
    for http in factory.https:
        http.close()
