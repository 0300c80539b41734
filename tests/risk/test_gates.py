"""Pre-trade rule gates: contracts, locked days, flat-by windows, VPIN; reducing is never blocked."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from propdesk.model.instruments import AssetClass
from propdesk.model.orders import Side
from propdesk.risk.gates import OrderIntent, check_rule_gates
from propdesk.risk.rules.levels import Severity
from propdesk.risk.rules.pack_sections import VpinGate
from propdesk.risk.rules.packs import load_pack
from propdesk.risk.rules.state import RuleCode
from propdesk.risk.rules.status import RequiredAction
from tests.risk.rules.desk import MES, Desk

D = Decimal
MON = date(2026, 3, 2)


def order(symbol: str, side: Side, qty: int, asset_class: AssetClass = AssetClass.FUTURE) -> OrderIntent:
    return OrderIntent(symbol, asset_class, side, D(qty))


def test_max_contracts_gate_counts_micros_by_the_packs_ratio_and_never_blocks_reducing() -> None:
    topstep = Desk.open("topstep-50k-combine", MON)  # micro = 1 lot, 5 lots
    topstep.buy(topstep.at(MON, "09:00"), 4, 5000, instrument=MES)
    at = topstep.at(MON, "09:05")
    ok = check_rule_gates(
        topstep.pack, topstep.rules, account=topstep.account, order=order("MES", Side.BUY, 1), now=at
    )
    too_many = check_rule_gates(
        topstep.pack, topstep.rules, account=topstep.account, order=order("ES", Side.BUY, 2), now=at
    )
    assert ok.passed
    assert not too_many.passed
    failure = too_many.failures[0]
    assert (failure.gate, failure.value, failure.limit) == (RuleCode.MAX_CONTRACTS, D(6), 5)
    reduce = check_rule_gates(
        topstep.pack, topstep.rules, account=topstep.account, order=order("MES", Side.SELL, 3), now=at
    )
    assert reduce.passed
    assert not reduce.adds_exposure

    apex = Desk.open("apex-intraday-50k", MON)  # 10 micros = 1 contract, 10 contracts
    apex.buy(apex.at(MON, "09:00"), 90, 5000, instrument=MES)
    fits = check_rule_gates(
        apex.pack, apex.rules, account=apex.account, order=order("ES", Side.BUY, 1), now=at
    )
    assert fits.passed
    apex.buy(apex.at(MON, "09:01"), 5, 5000, instrument=MES)
    over = check_rule_gates(
        apex.pack, apex.rules, account=apex.account, order=order("ES", Side.BUY, 1), now=at
    )
    assert [(f.gate, f.value) for f in over.failures] == [(RuleCode.MAX_CONTRACTS, D("10.5"))]


def test_locked_failed_and_flat_by_windows_block_new_exposure_only() -> None:
    desk = Desk.open("topstep-50k-combine", MON)
    desk.buy(desk.at(MON, "09:00"), 1, 5000).mark(desk.at(MON, "09:10"), 4980)  # −1,000: day locked
    at = desk.at(MON, "09:15")
    add = check_rule_gates(
        desk.pack, desk.rules, account=desk.account, order=order("ES", Side.BUY, 1), now=at
    )
    assert [f.gate for f in add.failures] == [RuleCode.DAY_LOCKED]
    close = check_rule_gates(
        desk.pack, desk.rules, account=desk.account, order=order("ES", Side.SELL, 1), now=at
    )
    assert close.passed

    late = Desk.open("topstep-50k-combine", MON)
    in_window = late.at(MON, "15:30")
    gate = check_rule_gates(
        late.pack, late.rules, account=late.account, order=order("ES", Side.BUY, 1), now=in_window
    )
    assert [f.gate for f in gate.failures] == [RuleCode.FLAT_BY]
    after_boundary = late.at(MON, "17:30")  # Tuesday's session has begun
    gate = check_rule_gates(
        late.pack, late.rules, account=late.account, order=order("ES", Side.BUY, 1), now=after_boundary
    )
    assert gate.passed

    holding = Desk.open("topstep-50k-combine", MON)
    holding.buy(holding.at(MON, "15:00"), 1, 5000)
    status = holding.status(holding.at(MON, "15:11"))
    assert status.required_action is RequiredAction.FLATTEN
    assert status.check(RuleCode.FLAT_BY).severity is Severity.CRITICAL


def test_vpin_gate_blocks_at_or_above_its_percentile_and_skips_without_a_reading() -> None:
    pack = load_pack("topstep-50k-combine").model_copy(
        update={"vpin_gate": VpinGate(cdf_threshold=D("0.9")), "version": "vpin"}
    )
    desk = Desk(pack, Desk.open(pack, MON).start)
    at = desk.at(MON, "10:00")
    buy = order("ES", Side.BUY, 1)
    calm = check_rule_gates(pack, desk.rules, account=desk.account, order=buy, now=at, vpin_cdf=D("0.5"))
    toxic = check_rule_gates(pack, desk.rules, account=desk.account, order=buy, now=at, vpin_cdf=D("0.9"))
    unknown = check_rule_gates(pack, desk.rules, account=desk.account, order=buy, now=at)
    assert calm.passed
    assert [f.gate for f in toxic.failures] == [RuleCode.VPIN]
    vpin_result = next(r for r in unknown.results if r.gate is RuleCode.VPIN)
    assert unknown.passed
    assert not vpin_result.applicable
