"""Serve the sandbox over HTTP with uvicorn (`alm-bot sandbox`)."""

from __future__ import annotations


def run(host: str, port: int) -> int:
    raise NotImplementedError("the sandbox server is not built yet")
