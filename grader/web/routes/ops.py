"""Operators' endpoints: ``/healthz``, ``/readyz`` and ``/metrics``.

``/metrics`` answers clients in ``GRADER_METRICS_ALLOW`` (loopback by default)
that did not come through a proxy, and anyone with ``GRADER_METRICS_TOKEN`` as a
bearer token. A request carrying ``X-Forwarded-For`` or ``Forwarded`` came
through a proxy: its peer address is the proxy's, so it is not trusted as local.
"""

from __future__ import annotations

import ipaddress
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session, col, func, select

from grader import health, metrics
from grader.models import Submission
from grader.services import storage
from grader.web.errors import error_response

router = APIRouter(include_in_schema=False)

FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers (on the event loop itself: no thread or database is needed to say so)."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """200 when the database and queue answer, the self-test passed and the pool is filled; 503 otherwise."""
    app = request.app
    settings = app.state.settings
    checks = health.readiness(
        engine=app.state.engine,
        queue_depth=app.state.queue_depth,
        grades_here=settings.embedded_worker,
        # Only where the database or the queue lives in the state folder.
        free_space=(lambda: storage.state_free_bytes(settings)) if storage.stores_in_state_folder(settings) else None,
        min_free_bytes=settings.min_free_disk_mb * 1024 * 1024,
    )
    ready = all(check.ok for check in checks)
    body = {"ready": ready, "checks": {check.name: check.to_dict() for check in checks}}
    return JSONResponse(body, status_code=200 if ready else 503, headers={"Cache-Control": "no-store"})


def metrics_allowed(request: Request) -> bool:
    """Whether this request may read the metrics (see the module's docstring)."""
    settings = request.app.state.settings
    token = settings.metrics_token
    authorization = request.headers.get("authorization", "")
    if token and authorization.startswith("Bearer "):
        return secrets.compare_digest(authorization.removeprefix("Bearer ").encode(), token.encode())
    if any(name in request.headers for name in FORWARDING_HEADERS):
        return False
    if request.client is None:
        return False
    try:
        address = ipaddress.ip_address(request.client.host)
    except ValueError:
        return False
    return any(address in network for network in settings.metrics_networks)


@router.get("/metrics")
def metrics_endpoint(request: Request) -> Response:
    """Prometheus text exposition of the ``grader_…`` series."""
    if not metrics_allowed(request):
        return error_response(request, 403, "The metrics are open to this machine only, or with the metrics token.")
    with Session(request.app.state.engine) as session:
        counts = dict(
            session.exec(
                select(Submission.status, func.count())
                .where(col(Submission.status).in_(("queued", "running")))
                .group_by(Submission.status)
            ).all()
        )
    body, content_type = metrics.exposition(
        queued=counts.get("queued", 0),
        running=counts.get("running", 0),
        state_free_bytes=storage.state_free_bytes(request.app.state.settings)
        if storage.stores_in_state_folder(request.app.state.settings)
        else None,
    )
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})
