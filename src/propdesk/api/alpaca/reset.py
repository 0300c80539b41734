"""/v2 reset routes (Alpaca-compatible)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v2", tags=["alpaca"])
