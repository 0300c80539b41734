"""Execution: fill models, fee models, action resolution and pre-trade safety gates. Pure.

Nothing here reads a clock, a database or the network: quotes, time and account state come in as
arguments, so the live service, replay and tests price and gate an action identically.
"""

from propdesk.execution.actions import (
    ActionRejected,
    Problem,
    ProposedAction,
    Resolution,
    ResolvedOrder,
    resolve_action,
    resolve_order,
    resolve_side,
)
from propdesk.execution.codes import GATE_ORDER, GateCode, GateValue
from propdesk.execution.fees import BpsOfNotional, FeeModel, PerContract, fee_model_for
from propdesk.execution.fill_models import (
    BpsSlippageFillModel,
    FillModel,
    MidFillModel,
    NbboFillModel,
    PricedFill,
    bps_slippage,
    build_fill,
    fill_model_for,
    mid,
    nbbo,
)
from propdesk.execution.gates import GateReport, GateResult, check_action, evaluate_gates, failed_gates

__all__ = [
    "GATE_ORDER",
    "ActionRejected",
    "BpsOfNotional",
    "BpsSlippageFillModel",
    "FeeModel",
    "FillModel",
    "GateCode",
    "GateReport",
    "GateResult",
    "GateValue",
    "MidFillModel",
    "NbboFillModel",
    "PerContract",
    "PricedFill",
    "Problem",
    "ProposedAction",
    "Resolution",
    "ResolvedOrder",
    "bps_slippage",
    "build_fill",
    "check_action",
    "evaluate_gates",
    "failed_gates",
    "fee_model_for",
    "fill_model_for",
    "mid",
    "nbbo",
    "resolve_action",
    "resolve_order",
    "resolve_side",
]
