"""The web application: ``create_app()`` builds it (uvicorn runs it with ``factory=True``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.middleware.trustedhost import TrustedHostMiddleware

from grader.config import Settings, get_settings
from grader.db import get_engine
from grader.jobs import enqueue_grading, enqueue_regrade, get_queue
from grader.services import passwords
from grader.services.account_imports import ImportRunner
from grader.services.submissions import Enqueue
from grader.services.updates import DatabaseWatch, Relay, broadcast_for, publishing
from grader.web.assets import STATIC_DIR
from grader.web.errors import install_error_handlers, too_large_response
from grader.web.events import StreamGate
from grader.web.observability import HttpMetricsMiddleware
from grader.web.routes import account, api, auth, course_views, courses, dashboard, docs, exercises, lti, ops, quiz
from grader.web.security import BodySizeLimitMiddleware, PublicUrlMiddleware, SecurityHeadersMiddleware, SessionCookies

SESSION_COOKIE = "grader_session"
# Room for the form fields around an upload (and for a CSV of users) on top of the file limit.
FORM_OVERHEAD_BYTES = 256 * 1024

API_DESCRIPTION = """
Submit solutions and take quizzes from scripts or the terminal.

Get a token with `POST /api/v1/token` (form fields `username` = your e-mail and
`password`), then send it as `Authorization: Bearer <token>`.
"""


def wakeups_arrive(app: FastAPI) -> bool:
    """Whether every change reaches this process's waiters as a wake-up.

    With a relay, while its subscription is up; without one, when the gradings run in this
    process (the embedded worker; SQLite has no way to carry wake-ups between processes).
    """
    relay = app.state.relay
    if relay is not None:
        return bool(relay.listening)
    return bool(app.state.settings.embedded_worker)


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    enqueue: Enqueue | None = None,
    regrade_enqueue: Enqueue | None = None,
) -> FastAPI:
    """A new application for ``settings`` (the process settings when omitted).

    ``engine`` defaults to the process-wide one for the settings' database;
    ``enqueue`` sends a submission id to the graders and ``regrade_enqueue``
    sends one to be graded again, behind learners' uploads (tests pass a
    recorder instead of the Huey queue; regrades go to ``enqueue`` unless
    given their own).
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Gradings stored by other processes wake this one's waiters (see grader.services.updates),
        # and this one's account and course changes wake theirs.
        broadcast = broadcast_for(settings)
        relay = Relay(broadcast) if broadcast is not None else None
        if relay is not None:
            relay.start()
        app.state.relay = relay
        # Where those wake-ups may not arrive, one reader stands in for them.
        watch = DatabaseWatch(app.state.engine, covered=lambda: wakeups_arrive(app))
        app.state.database_watch = watch
        try:
            with publishing(broadcast):
                async with anyio.create_task_group() as group:
                    group.start_soon(watch.run)
                    try:
                        yield
                    finally:
                        group.cancel_scope.cancel()
        finally:
            app.state.relay = None
            if relay is not None:
                await anyio.to_thread.run_sync(relay.stop)
            await anyio.to_thread.run_sync(app.state.account_imports.shutdown)

    app = FastAPI(
        lifespan=lifespan,
        title="Grader",
        summary="Autograder for HTTP endpoint exercises and quizzes.",
        description=API_DESCRIPTION,
        version="1",
        # FastAPI's own /docs and /redoc pull Swagger UI and ReDoc from a CDN, which
        # neither works offline nor passes our Content-Security-Policy; routes/docs.py
        # serves /docs as a page of our own built from the same OpenAPI schema.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.relay = None
    passwords.configure(slots=settings.password_hash_slots, wait_seconds=settings.password_hash_wait_seconds)
    app.state.engine = engine or get_engine(settings)
    app.state.enqueue = enqueue or partial(enqueue_grading, settings=settings)
    app.state.enqueue_regrade = regrade_enqueue or enqueue or partial(enqueue_regrade, settings=settings)
    app.state.queue_depth = lambda: get_queue(settings).depth()
    # An LMS course's roster is read by a job (grader/jobs.py); tests put a recorder here.
    app.state.enqueue_roster_sync = lambda context_id: get_queue(settings).sync_roster(context_id)
    # A quiz attempt's counted score goes to the LMS by a job too (a graded submission's is sent by the worker).
    app.state.enqueue_score_send = lambda assignment_id, user_id: get_queue(settings).send_score(assignment_id, user_id)
    app.state.account_imports = ImportRunner(app.state.engine)

    # Added innermost first: the security headers wrap everything, even a refused body.
    # The latency timer is innermost: the router names the matched route in the scope
    # it is given, and the middlewares above it pass copies of the scope down.
    app.add_middleware(HttpMetricsMiddleware)
    app.add_middleware(
        SessionCookies,
        secret_key=settings.secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_max_age_seconds,
        https_only=settings.environment == "production",
    )
    app.add_middleware(
        BodySizeLimitMiddleware, max_bytes=settings.max_upload_bytes + FORM_OVERHEAD_BYTES, refusal=too_large_response
    )
    # Absolute URLs come from the settings, never from the Host header; the host check
    # must see the header as sent, so it wraps the rewrite.
    app.add_middleware(PublicUrlMiddleware, public_url=settings.effective_public_url)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.effective_allowed_hosts, www_redirect=False)
    # Streams an account or token cannot have are refused before any other work (see events.StreamGate).
    app.add_middleware(
        StreamGate,
        secret_key=settings.secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_max_age_seconds,
    )
    app.add_middleware(SecurityHeadersMiddleware)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in (
        auth.router,
        account.router,
        exercises.router,
        quiz.router,
        courses.router,
        dashboard.router,
        course_views.router,
        docs.router,
        lti.router,
        api.router,
        ops.router,
    ):
        app.include_router(router)
    install_error_handlers(app)
    return app
