"""/v2 watchlists routes (Alpaca-compatible)."""

from __future__ import annotations

from fastapi import APIRouter

from propdesk.api.alpaca.errors import ERROR_RESPONSES

router = APIRouter(prefix="/v2", tags=["alpaca"], responses=ERROR_RESPONSES)
