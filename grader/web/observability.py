"""The HTTP latency of every request, recorded for ``/metrics`` by route template (never raw paths)."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from grader import metrics


class HttpMetricsMiddleware:
    """Times each HTTP request from the moment the routes get it to the end of its response body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            route = scope.get("route")
            # Unmatched paths are one series, so a scan of random URLs cannot add series.
            template = getattr(route, "path", None) or "unmatched"
            if template.startswith("/static"):
                template = "/static"
            metrics.HTTP_LATENCY.labels(method=scope["method"], route=template, status=str(status)).observe(
                time.perf_counter() - started
            )
