"""VPIN by bulk volume classification and the time-decay exit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from propdesk.risk.quant.timedecay import evaluate_time_decay, exponential_target
from propdesk.risk.quant.vpin import (
    bucket_volume_for,
    bulk_classify,
    normal_cdf,
    vpin,
    vpin_cdf,
    vpin_from_bars,
)
from propdesk.risk.rules.pack_enums import ExitAction
from propdesk.risk.rules.pack_sections import DecayPoint, TimeDecayExit

D = Decimal
T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


def test_bvc_splits_a_bar_by_the_normal_cdf() -> None:
    """ΔP = +0.5 with σ = 0.5: Φ(1) = 0.8413, so 841 of a 1,000-lot bar are buys."""
    buy, sell, sigma = bulk_classify(np.array([0.5]), np.array([1000.0]), sigma=0.5)
    assert round(float(buy[0])) == 841
    assert float(buy[0] + sell[0]) == 1000.0
    assert sigma == 0.5
    assert normal_cdf(np.array([0.0, -1.0]))[0] == 0.5
    assert float(normal_cdf(np.array([-1.0]))[0]) == pytest.approx(0.158655, abs=1e-6)


def test_volume_buckets_split_a_bar_across_the_boundary() -> None:
    # Three bars with an almost deterministic direction (tiny σ): up 30, down 30, up 40; buckets of 50.
    series = vpin(
        np.array([1.0, -1.0, 1.0]), np.array([30.0, 30.0, 40.0]), bucket_volume=50, window=1, sigma=1e-9
    )
    assert series.buy_volume.tolist() == [30.0, 40.0]  # bucket 1: 30 up + 20 of the down bar
    assert series.sell_volume.tolist() == [20.0, 10.0]
    assert series.imbalance.tolist() == [10.0, 30.0]
    assert series.vpin.tolist() == pytest.approx([0.2, 0.6])
    assert series.bucket_end_bar.tolist() == [1, 2]


def test_vpin_is_a_rolling_share_in_zero_one_and_needs_a_full_window() -> None:
    rng = np.random.default_rng(1)
    changes = rng.normal(0, 1, 3_000)
    volumes = rng.integers(50, 150, 3_000).astype(float)
    series = vpin(
        changes, volumes, bucket_volume=bucket_volume_for(volumes, days=3, buckets_per_day=50), window=50
    )
    assert np.isnan(series.vpin[:49]).all()
    valid = series.vpin[49:]
    assert ((valid >= 0) & (valid <= 1)).all()
    expected_last = series.imbalance[-50:].sum() / (50 * series.bucket_volume)
    assert valid[-1] == pytest.approx(expected_last)
    assert series.latest == pytest.approx(expected_last)
    # One-sided flow is maximally toxic.
    one_way = vpin(np.full(500, 1.0), np.full(500, 100.0), bucket_volume=100, window=10, sigma=1e-9)
    assert one_way.latest == pytest.approx(1.0)


def test_vpin_from_bars_and_its_percentile() -> None:
    closes = np.array([100.0, 100.5, 100.0, 101.0, 101.5])
    volumes = np.array([999.0, 10.0, 10.0, 10.0, 10.0])
    series = vpin_from_bars(closes, volumes, bucket_volume=10, window=2)
    assert series.buy_volume.size == 4  # the first bar has no change and is skipped
    history = np.array([0.1, 0.2, 0.3, 0.4, np.nan])
    assert vpin_cdf(history, 0.3) == 0.75
    assert vpin_cdf(history, 0.05) == 0.0
    with pytest.raises(ValueError, match="no VPIN history"):
        vpin_cdf(np.array([np.nan]), 0.2)


RULE = TimeDecayExit(max_bars=5, min_progress_r=D("0.3"), action=ExitAction.FLATTEN)


@pytest.mark.parametrize(
    ("bars", "progress", "triggered"),
    [(4, "0", False), (5, "0.2", True), (5, "0.3", False), (9, "-0.5", True), (9, "1.2", False)],
)
def test_time_stop_after_five_bars_without_three_tenths_of_r(
    bars: int, progress: str, triggered: bool
) -> None:
    decision = evaluate_time_decay(
        RULE, entry_time=T0, now=T0 + timedelta(minutes=bars), bars_elapsed=bars, progress_r=D(progress)
    )
    assert decision.triggered is triggered
    assert decision.action is (ExitAction.FLATTEN if triggered else None)
    if triggered:
        assert decision.reason == "time_stop"


def test_decaying_target_takes_smaller_profits_as_time_passes() -> None:
    """freqtrade's minimal_roi: {0: 0.05, 10: 0.025, 20: 0.015, 30: 0.01}, read in R."""
    schedule = tuple(
        DecayPoint(after_minutes=m, target_r=D(r)) for m, r in ((0, "5"), (10, "2.5"), (20, "1.5"), (30, "1"))
    )
    rule = TimeDecayExit(max_minutes=720, min_progress_r=D(0), target_schedule=schedule)
    early = evaluate_time_decay(
        rule, entry_time=T0, now=T0 + timedelta(minutes=5), bars_elapsed=5, progress_r=D(2)
    )
    late = evaluate_time_decay(
        rule, entry_time=T0, now=T0 + timedelta(minutes=25), bars_elapsed=25, progress_r=D(2)
    )
    assert not early.triggered
    assert (late.triggered, late.reason, late.required_r) == (True, "decayed_target", D("1.5"))
    assert exponential_target(0.10, 0.015, 0) == 0.10
    assert exponential_target(0.10, 0.015, 60) == pytest.approx(0.10 * np.exp(-0.9))
