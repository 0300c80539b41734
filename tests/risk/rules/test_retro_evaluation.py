"""Retroactive evaluation of a trades file through a pack."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from propdesk.risk.rules.packs import load_pack
from propdesk.risk.rules.retro_evaluation import TradesCsvError, parse_trades_csv, replay_trades
from propdesk.risk.rules.state import Outcome

D = Decimal

TOPSTEP_DAYS = """time,symbol,side,qty,price,fee,account
2026-03-02T09:00:00-06:00,ES,buy,1,5000,0,abc
2026-03-02T09:30:00-06:00,ES,sell,1,5010,0,abc
2026-03-03T09:00:00-06:00,ESM26,buy,1,5000,,abc
2026-03-03T09:30:00-06:00,ESM26,sell,1,4990,,abc
2026-03-04T09:00:00-06:00,/ES,buy,1,5000,0,abc
2026-03-04T09:30:00-06:00,/ES,sell,1,5050,0,abc
"""


def test_replay_reports_the_end_of_day_floor_path() -> None:
    report = replay_trades(load_pack("topstep-50k-combine"), parse_trades_csv(TOPSTEP_DAYS))
    assert report.fills_applied == 6
    assert [(d.end_balance, d.max_loss_floor) for d in report.days] == [
        (D(50_500), D(48_500)),
        (D(50_000), D(48_500)),
        (D(52_500), D(50_000)),
    ]
    assert report.outcome is Outcome.ACTIVE  # 2,500 is short of the 3,000 target
    assert report.ignored_columns == ("account",)
    assert report.closed_trades == (D(500), D(-500), D(2500))
    assert report.final.floors[0].locked


def test_replay_stops_at_a_ghost_drawdown_breach_and_counts_what_was_not_applied() -> None:
    text = """time,symbol,side,qty,price,kind
2026-03-02T15:00:00Z,MES,buy,4,5000,fill
2026-03-02T15:10:00Z,MES,,,5080,mark
2026-03-02T15:20:00Z,MES,sell,4,5000,fill
2026-03-02T15:30:00Z,MES,buy,4,5000,fill
2026-03-02T15:40:00Z,MES,sell,4,4979,fill
2026-03-02T15:50:00Z,MES,buy,1,4979,fill
"""
    # +1,600 open (4 × 80 points × $5) lifts an intraday floor from 48,000 to 49,600: a −420 trade
    # later breaks it with 49,580 of equity, though the account never closed a trade below 50,000.
    report = replay_trades(load_pack("mffu-rapid-50k"), parse_trades_csv(text))
    assert report.outcome is Outcome.FAILED
    assert report.outcome_rule == "max_loss"
    assert (report.breaches[-1].value, report.breaches[-1].limit) == (D(49_580), D(49_600))
    assert report.not_applied == 1
    assert report.points[1].max_loss_floor == D(49_600)
    assert report.marks_applied == 1


def test_replay_lists_fills_a_platform_would_have_refused() -> None:
    text = """time,symbol,side,qty,price
2026-03-02T09:00:00-06:00,MES,buy,6,5000
2026-03-02T09:10:00-06:00,MES,sell,6,5000
2026-03-02T15:20:00-06:00,ES,buy,1,5000
2026-03-02T15:25:00-06:00,ES,sell,1,5000
"""
    report = replay_trades(load_pack("topstep-50k-combine"), parse_trades_csv(text))
    assert [(b.line, "contracts" in b.reasons[0]) for b in report.blocked_fills] == [(2, True), (4, False)]
    assert "no new positions" in report.blocked_fills[1].reasons[0]


def test_replay_passes_at_the_end_of_the_day_the_target_is_met() -> None:
    rows = ["time,symbol,side,qty,price"]
    for day in (2, 3, 4):
        rows.append(f"2026-03-0{day}T09:00:00-06:00,ES,buy,1,5000")
        rows.append(f"2026-03-0{day}T09:30:00-06:00,ES,sell,1,5021")  # +1,050 a day
    report = replay_trades(load_pack("topstep-50k-combine"), parse_trades_csv("\n".join(rows)))
    assert report.outcome is Outcome.PASSED
    assert report.final.profit == D(3_150)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "header row is required"),
        ("time,symbol,side,price\n", "missing column(s): qty"),
        ("time,symbol,side,qty,price\n2026-03-02T09:00:00Z,ES,hold,1,5000\n", "line 2: side 'hold'"),
        (
            "time,symbol,side,qty,price\n2026-03-02T09:00:00,ES,buy,1,5000\n",
            "line 2: time '2026-03-02T09:00:00' has no UTC offset",
        ),
        ("time,symbol,side,qty,price\nyesterday,ES,buy,1,5000\n", "not ISO 8601"),
        ("time,symbol,side,qty,price\n2026-03-02T09:00:00Z,ES,buy,-1,5000\n", "qty must be positive"),
        ("time,symbol,side,qty,price\n2026-03-02T09:00:00Z,ES,buy,1,abc\n", "price: 'abc' is not a decimal"),
        ("time,symbol,side,qty,price,kind\n2026-03-02T09:00:00Z,ES,buy,1,1,cancel\n", "kind 'cancel'"),
    ],
)
def test_csv_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(TradesCsvError) as caught:
        parse_trades_csv(text)
    assert message in str(caught.value)


def test_naive_times_take_a_zone_and_rows_are_put_in_time_order() -> None:
    text = "time,symbol,side,qty,price\n2026-03-02 09:30,ES,sell,1,5001\n2026-03-02 09:00,ES,buy,1,5000\n"
    trades = parse_trades_csv(text, default_zone=ZoneInfo("America/Chicago"))
    assert trades.reordered
    assert [r.line for r in trades.rows] == [3, 2]
    assert trades.rows[0].at.utcoffset() is not None
