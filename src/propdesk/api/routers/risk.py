"""``/api/v1/risk/*``: sizing, Kelly, risk of ruin, pass probability and the shipped rule packs.

Thin routes over :mod:`propdesk.risk.quant.requests` (service or admin token). Results are the pure
functions' dataclasses, sent with camelCase keys, decimals as strings and non-finite floats as null.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from propdesk.api import risk_schemas as s
from propdesk.api.auth import service_or_admin
from propdesk.api.presenters import result_json
from propdesk.api.routing import api_router
from propdesk.risk.rules.pack import PackError
from propdesk.services.access.tokens import Principal
from propdesk.services.errors import Invalid

router = api_router(prefix="/api/v1/risk", tags=["risk"])
Caller = Annotated[Principal, Depends(service_or_admin)]
Result = dict[str, Any]


@router.post("/size", response_model=Result)
def size(body: s.SizeIn, _: Caller) -> Result:
    """Contracts from effective capital, risk fraction, stop distance and point value."""
    return result_json(body.run())


@router.post("/kelly", response_model=Result)
def kelly(body: s.KellyIn, _: Caller) -> Result:
    """Kelly f*, fractional Kelly and over-betting warnings."""
    return result_json(body.run())


@router.post("/ruin", response_model=Result)
def ruin(body: s.RuinIn, _: Caller) -> Result:
    """Risk of ruin: classic, two-barrier, Vince/Kaufman and (with ``trades``) Monte Carlo."""
    return result_json(body.run())


@router.post("/challenge", response_model=Result)
def challenge(body: s.ChallengeIn, _: Caller) -> Result:
    """Probability of passing a pack's challenge by seeded Monte Carlo, with a Wilson interval."""
    field = "pack" if body.pack is not None else "customPack"
    try:
        pack = body.resolve_pack()
    except PackError as exc:
        raise Invalid("invalid_request", f"{field}: {exc}", {"field": field}) from None
    return result_json(body.run(pack))


@router.get("/packs", response_model=s.RulePackListOut)
def packs(_: Caller) -> s.RulePackListOut:
    """The shipped rule packs (an account names one as ``id`` or ``id@version``)."""
    from propdesk.risk.rules.packs import load_all

    return s.RulePackListOut(
        items=[
            s.RulePackOut(
                id=p.id,
                version=p.version,
                key=p.key,
                name=p.name,
                firm=p.firm,
                plan=p.plan,
                phase=p.phase.value,
                effective_date=p.effective_date.isoformat(),
                starting_balance=p.starting_balance,
                currency=p.currency,
                sources=list(p.sources),
                fingerprint=p.fingerprint,
            )
            for p in load_all().values()
        ]
    )
