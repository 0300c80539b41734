"""The real alpaca-py ``TradingClient`` against a live propdesk: the clock parses with the SDK's model."""

from __future__ import annotations

from alpaca.trading.client import TradingClient
from alpaca.trading.models import Clock

from tests.api.alpaca.conftest import Paper


def sdk(paper: Paper) -> TradingClient:
    return TradingClient(paper.keys.key_id, paper.keys.secret_key, paper=True, url_override=paper.url)


def test_get_clock_parses_with_the_sdk_model(paper: Paper) -> None:
    clock = sdk(paper).get_clock()
    assert isinstance(clock, Clock)
    assert clock.is_open is True
    assert clock.next_close.isoformat() == "2026-01-07T16:00:00-05:00"
    assert clock.next_open.isoformat() == "2026-01-08T09:30:00-05:00"
