"""Operators' endpoints: /healthz, /readyz and /metrics (who may read it, and what it says)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from grader import health
from grader.grading.sandbox import pool as pool_module
from grader.web.app import create_app
from tests.factories import make_submission, make_user


@pytest.fixture(autouse=True)
def fresh_health_state(monkeypatch):
    # Readiness reads every pool of this process; pools that earlier tests of the
    # session keep open (the worker's shared pool, the pooled grading fixtures) are
    # hidden so that each test starts as a fresh process would, with none.
    monkeypatch.setattr(pool_module, "_open_pools", set())
    yield
    health.record_selftest("not-run")
    health.register_pool(None)


def _local(app) -> TestClient:
    return TestClient(app, client=("127.0.0.1", 40000))


def test_healthz_answers(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_needs_the_self_test_where_this_process_grades(app):
    waiting = _local(app).get("/readyz")
    assert waiting.status_code == 503
    assert waiting.json()["checks"]["sandbox_selftest"] == {"ok": False, "detail": "not run in this process"}

    health.selftest_passed()
    ready = _local(app).get("/readyz")
    assert ready.status_code == 200, ready.text
    checks = ready.json()["checks"]
    assert checks["database"]["ok"] and checks["queue"]["ok"] and checks["sandbox_pool"]["ok"]
    assert ready.headers["cache-control"] == "no-store"


def test_readyz_without_an_embedded_worker_skips_the_self_test(settings, engine, synced):
    app = create_app(settings.model_copy(update={"embedded_worker": False}), engine=engine, enqueue=lambda _: None)
    response = _local(app).get("/readyz")
    assert response.status_code == 200, response.text
    assert "does not grade" in response.json()["checks"]["sandbox_selftest"]["detail"]


def test_readyz_fails_when_the_database_or_the_pool_is_not_there(settings, synced):
    health.selftest_passed()
    unreachable = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")
    app = create_app(settings, engine=unreachable, enqueue=lambda _: None)
    response = _local(app).get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False, "detail": "unreachable: OperationalError"}
    unreachable.dispose()


def test_readyz_reports_a_pool_still_filling(app):
    health.selftest_passed()
    health.register_pool(lambda: health.PoolStatus(size=3, ready=1))
    response = _local(app).get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["sandbox_pool"] == {"ok": False, "detail": "1 of 3 sandboxes ready"}
    health.register_pool(lambda: health.PoolStatus(size=3, ready=3))
    assert _local(app).get("/readyz").status_code == 200


def test_metrics_are_open_to_loopback_in_prometheus_text(app, synced):
    learner = make_user(synced)
    make_submission(synced, user=learner, status="queued")
    make_submission(synced, user=learner, status="running")
    client = _local(app)
    client.get("/exercises/message-echo")  # a page (redirects to sign-in): an HTTP latency sample

    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    text = response.text
    assert "grader_queue_depth 1.0" in text
    assert 'grader_submissions{status="running"} 1.0' in text
    assert 'grader_http_request_duration_seconds_count{method="GET",route="/exercises/{slug}",status="303"}' in text
    for family in ("grader_gradings_total", "grader_grading_duration_seconds", "grader_sandbox_failures_total"):
        assert f"# HELP {family.removesuffix('_total')}" in text


def test_metrics_are_closed_to_other_addresses_and_to_proxied_requests(app):
    assert TestClient(app, client=("203.0.113.9", 40000)).get("/metrics").status_code == 403
    # Through a proxy on this machine the peer is loopback, but the client is not.
    proxied = _local(app).get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status_code == 403


def test_a_setting_opens_metrics_to_a_network_or_a_token(settings, engine, synced):
    wider = settings.model_copy(update={"metrics_allow": "10.0.0.0/8", "metrics_token": "s3cret-metrics-token"})
    app = create_app(wider, engine=engine, enqueue=lambda _: None)
    assert TestClient(app, client=("10.1.2.3", 40000)).get("/metrics").status_code == 200
    remote = TestClient(app, client=("203.0.113.9", 40000))
    assert remote.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"}).status_code == 200
    assert remote.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert _local(app).get("/metrics").status_code == 403  # loopback is no longer in the list


@pytest.mark.sandbox
def test_readyz_reads_this_processs_sandbox_pool(app, settings):
    from grader.grading.sandbox.pool import SandboxPool
    from grader.grading.spec import Limits

    health.selftest_passed()
    assert _local(app).get("/readyz").json()["checks"]["sandbox_pool"]["detail"] == "no pool in this process"
    with SandboxPool(settings.sandbox_config(), size=1, max_kinds=1) as pool:
        assert pool.wait_ready(Limits(), "app", timeout=60)
        response = _local(app).get("/readyz")
        assert response.status_code == 200, response.text
        assert response.json()["checks"]["sandbox_pool"] == {"ok": True, "detail": "1 of 1 sandboxes ready"}
    assert _local(app).get("/readyz").json()["checks"]["sandbox_pool"]["ok"]
