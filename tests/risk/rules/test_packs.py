"""Shipped packs load and say where they come from; custom packs fail with clear messages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from propdesk.risk.rules.pack import PackError, parse_pack
from propdesk.risk.rules.pack_enums import (
    ConsistencyDenominator,
    DailyAnchor,
    LockLevel,
    MaxLossReference,
    RuleOutcome,
)
from propdesk.risk.rules.packs import available_packs, load_all, load_pack

EXPECTED = {
    "topstep-50k-combine",
    "topstep-100k-combine",
    "topstep-150k-combine",
    "topstep-50k-xfa",
    "topstep-100k-xfa",
    "topstep-150k-xfa",
    "ftmo-2step-100k",
    "ftmo-2step-100k-verification",
    "ftmo-1step-100k",
    "mffu-core-50k",
    "mffu-rapid-50k",
    "apex-intraday-50k",
    "apex-eod-50k",
    "the5ers-high-stakes-100k",
    "fundednext-stellar-2step-100k",
    "audition-default",
}

MINIMAL = """
id: custom-test
version: "1"
name: Custom
firm: Me
plan: Test
phase: personal
effective_date: 2026-01-01
sources: ["https://example.com/rules"]
starting_balance: 50000
day_boundary: {timezone: America/Chicago, time: "17:00"}
max_loss: {reference: static, amount: 2000}
"""


def test_every_pack_in_the_issue_is_shipped_with_provenance() -> None:
    assert set(available_packs()) == EXPECTED
    for name, pack in load_all().items():
        assert pack.id == name
        assert pack.sources, name
        assert pack.effective_date >= date(2024, 1, 1), name
        assert pack.max_loss is not None, name  # every plan has an account-level floor


@pytest.mark.parametrize(
    ("name", "target", "max_loss", "daily", "contracts"),
    [
        ("topstep-50k-combine", "3000", "2000", "1000", 5),
        ("topstep-100k-combine", "6000", "3000", "2000", 10),
        ("topstep-150k-combine", "9000", "4500", "3000", 15),
    ],
)
def test_topstep_combine_values_match_the_reference_table(
    name: str, target: str, max_loss: str, daily: str, contracts: int
) -> None:
    pack = load_pack(name)
    assert pack.target_amount == Decimal(target)
    assert pack.max_loss is not None
    assert pack.max_loss.reference is MaxLossReference.EOD_BALANCE_TRAILING
    assert pack.max_loss.lock is LockLevel.START
    assert pack.max_loss_amount == Decimal(max_loss)
    assert pack.daily_loss is not None
    assert pack.daily_loss.outcome is RuleOutcome.LOCK_DAY
    assert pack.daily_size(Decimal(0)) == Decimal(daily)
    assert pack.position_limits is not None
    assert pack.position_limits.max_contracts == contracts
    assert pack.day_boundary.timezone == "America/Chicago"


def test_semantics_differ_where_the_firms_differ() -> None:
    refs = {name: p.max_loss.reference for name, p in load_all().items() if p.max_loss is not None}
    assert refs["ftmo-2step-100k"] is MaxLossReference.STATIC
    assert refs["ftmo-1step-100k"] is MaxLossReference.EOD_BALANCE_TRAILING
    assert refs["mffu-core-50k"] is MaxLossReference.EOD_BALANCE_TRAILING
    assert refs["mffu-rapid-50k"] is MaxLossReference.INTRADAY_EQUITY_TRAILING
    assert refs["apex-intraday-50k"] is MaxLossReference.INTRADAY_EQUITY_TRAILING
    assert refs["apex-eod-50k"] is MaxLossReference.EOD_BALANCE_TRAILING
    the5ers = load_pack("the5ers-high-stakes-100k")
    assert the5ers.daily_loss is not None
    assert the5ers.daily_loss.anchor is DailyAnchor.DAY_START_MAX_EQUITY_BALANCE
    assert the5ers.daily_size(Decimal(102_000)) == Decimal(5100)  # 5% of the anchor
    assert load_pack("ftmo-2step-100k").daily_size(Decimal(104_000)) == Decimal(5000)  # 5% of initial
    xfa = load_pack("topstep-50k-xfa")
    assert xfa.max_loss is not None
    assert xfa.max_loss.floor_on_first_payout
    audition = load_pack("audition-default")
    assert audition.max_loss_amount == Decimal(50_000)


def test_a_pack_is_named_by_id_and_version_and_fingerprinted() -> None:
    pack = load_pack("topstep-50k-combine@1")
    assert pack.key == "topstep-50k-combine@1"
    assert pack.fingerprint == load_pack("topstep-50k-combine").fingerprint
    changed = pack.model_copy(update={"version": "2"})
    assert changed.fingerprint != pack.fingerprint
    with pytest.raises(PackError, match="shipped at version 1, not 7"):
        load_pack("topstep-50k-combine@7")
    with pytest.raises(PackError, match="unknown rule pack 'nope'"):
        load_pack("nope")


def test_a_minimal_custom_pack_parses_with_exact_numbers() -> None:
    pack = parse_pack(MINIMAL + 'profit_target: {percent: "6.5"}\n')
    assert pack.starting_balance == Decimal(50000)
    assert pack.target_amount == Decimal("3250.0")
    assert pack.day_boundary.time.hour == 17


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("profit_target: {amount: 3000.5}", "profit_target.amount: 3000.5 is a binary float"),
        ("max_consecutive_losses: {max: 0}", "max_consecutive_losses.max"),
        ("profit_target: {amount: 1, percent: 2}", "exactly one of 'amount' or 'percent'"),
        ("profit_target: {}", "exactly one of 'amount' or 'percent'"),
        ("flat_by: {time: 15:10}", "quote times"),
        ("flat_by: {time: '25:10'}", "not a valid time of day"),
        ("targett: {amount: 1}", "targett: Extra inputs are not permitted"),
        ("daily_loss: {anchor: noon, amount: 1, outcome: fail}", "daily_loss.anchor"),
        ("daily_loss: {anchor: day_start_balance, amount: 1, outcome: extend_target}", "daily_loss.outcome"),
        (
            "consistency: {percent: 50, comparison: le, outcome: lock_day}",
            "use denominator 'target_or_total'",
        ),
        ("consistency: {percent: 150, comparison: le, outcome: extend_target}", "between 0 and 100"),
        ("scaling: {tiers: [{min_profit: 100, max_contracts: 2}]}", "first scaling tier"),
        (
            "scaling: {tiers: [{min_profit: 0, max_contracts: 2}, {min_profit: 0, max_contracts: 3}]}",
            "strictly increasing",
        ),
        ("vpin_gate: {cdf_threshold: '1.5'}", "cdf_threshold must be in (0, 1]"),
        ("time_decay_exit: {min_progress_r: '0.3'}", "exactly one of 'max_bars' or 'max_minutes'"),
    ],
)
def test_custom_pack_errors_name_the_field_and_the_fix(extra: str, message: str) -> None:
    with pytest.raises(PackError) as caught:
        parse_pack(MINIMAL + extra + "\n", source="my.yaml")
    text = str(caught.value)
    assert text.startswith("my.yaml: ")
    assert message in text


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (("America/Chicago", "America/Chicagoo"), "not a known IANA time zone"),
        (('"17:00"', "17:00"), "quote times"),
        (("https://example.com/rules", "example.com"), "sources.0"),
        (("reference: static, amount: 2000", "reference: static, amount: 2000, lock: start"), "cannot lock"),
        (("starting_balance: 50000", "starting_balance: -5"), "starting_balance must be positive"),
    ],
)
def test_structural_errors_are_reported(replace: tuple[str, str], message: str) -> None:
    with pytest.raises(PackError, match=message):
        parse_pack(MINIMAL.replace(*replace))


def test_target_or_total_needs_a_target_and_garbage_is_refused() -> None:
    with pytest.raises(PackError, match="needs a profit_target"):
        parse_pack(
            MINIMAL + "consistency: {percent: 50, comparison: le, outcome: extend_target, "
            "denominator: target_or_total}\n"
        )
    with pytest.raises(PackError, match="a pack is a mapping"):
        parse_pack("- just\n- a list\n")
    with pytest.raises(PackError, match="not valid YAML"):
        parse_pack("id: [unclosed\n")
    pack = parse_pack(
        MINIMAL + "profit_target: {amount: 3000}\nconsistency: {percent: 50, comparison: le, "
        "outcome: lock_day, denominator: target_or_total}\n"
    )
    assert pack.consistency is not None
    assert pack.consistency.denominator is ConsistencyDenominator.TARGET_OR_TOTAL
