"""Serve an ASGI app on 127.0.0.1 with uvicorn: the fake APIs, and our web server for webhooks."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import uvicorn


@contextlib.asynccontextmanager
async def serve(app: Any, name: str = "asgi-server") -> AsyncIterator[str]:
    """Yield the origin (http://127.0.0.1:port, an OS-chosen port) while the app is served;
    stop cleanly afterwards."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_config=None,  # leave the test's logging setup alone
        log_level="warning",
        access_log=False,
        lifespan="off",
        http="h11",
        ws="none",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(), name=name)
    while not server.started:
        if task.done():
            await task
            raise RuntimeError(f"{name} stopped during start-up")
        await asyncio.sleep(0.005)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
