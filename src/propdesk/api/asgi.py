"""ASGI entry for multi-worker uvicorn (``propdesk.api.asgi:app``): builds the app on first use.

uvicorn imports this in each worker process; the app is created lazily inside the worker, so
importing the module still creates nothing until a server asks for ``app``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI


def __getattr__(name: str) -> Any:
    if name != "app":
        raise AttributeError(name)
    from propdesk.api.app import create_app
    from propdesk.bootstrap import build_context
    from propdesk.settings import load_settings

    application: FastAPI = create_app(build_context(load_settings(), upgrade=False))
    globals()["app"] = application
    return application
