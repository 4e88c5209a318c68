"""Security headers, the session cookie, CSRF on every form, and the request size limit."""

from __future__ import annotations

import pytest

from grader.web.security import CONTENT_SECURITY_POLICY

from .conftest import csrf_from


def _assert_security_headers(response) -> None:
    headers = response.headers
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"


def test_csp_allows_only_our_own_files_and_no_inline_code():
    directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "http" not in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize(
    "path",
    [
        "/login",
        "/signup",
        "/",
        "/static/app.css",
        "/static/app.js",
        "/docs",
        "/openapi.json",
        "/nowhere",
        "/api/v1/exercises",
    ],
)
def test_every_response_carries_the_security_headers(anonymous, path):
    _assert_security_headers(anonymous.get(path, follow_redirects=False))


def test_signed_in_pages_carry_the_headers_and_are_not_cached(as_learner, as_instructor):
    for browser, path in [(as_learner, "/exercises/message-echo"), (as_instructor, "/courses/1/dashboard")]:
        response = browser.get(path)
        assert response.status_code == 200
        _assert_security_headers(response)
        assert response.headers["cache-control"] == "no-store"


def test_pages_use_no_inline_script_or_style(as_learner, as_instructor):
    pages = [
        as_learner.get("/exercises/message-echo"),
        as_learner.get("/quizzes/message-cycle"),
        as_instructor.get("/courses/1/dashboard"),
    ]
    for page in pages:
        html = page.text
        assert "<script>" not in html and "<style" not in html and " style=" not in html
        assert "onclick=" not in html and "javascript:" not in html
        assert "//cdn" not in html and "https://" not in html


def test_session_cookie_is_httponly_and_samesite(anonymous, learner):
    token = anonymous.token_for("/login")
    response = anonymous.client.post(
        "/login",
        data={"email": learner.email, "password": "correct horse battery", "csrf_token": token},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("grader_session=")
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_a_forged_session_cookie_is_ignored(app, learner):
    from fastapi.testclient import TestClient

    client = TestClient(app)
    client.cookies.set("grader_session", "eyJ1c2VyX2lkIjogMX0=.forged.signature")
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


# --- CSRF ------------------------------------------------------------------------------------


FORMS = [
    ("learner", "/exercises/message-echo/submissions", {"code": "app = 1\n"}),
    ("learner", "/quizzes/message-cycle/attempts", {"answer-1": "1"}),
    ("learner", "/logout", {}),
    ("instructor", "/instructor/users", {"email": "x@example.org", "display_name": "X", "role": "learner"}),
    ("instructor", "/instructor/users/import", {"csv_text": "email,display_name\ny@example.org,Y\n"}),
    ("instructor", "/courses/1/exercises/message-echo/regrade", {}),
    ("instructor", "/courses/1/submissions/1/regrade", {}),
]


def _row_counts(session) -> dict[str, int]:
    from sqlmodel import func, select

    from grader.models import QuizAttempt, RegradeBatch, Submission, User

    session.expire_all()
    return {
        model.__name__: session.exec(select(func.count()).select_from(model)).one()
        for model in (Submission, QuizAttempt, RegradeBatch, User)
    }


@pytest.mark.parametrize("who, url, data", FORMS)
@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_forms_without_the_sessions_token_are_refused(request, who, url, data, token, synced):
    browser = request.getfixturevalue("as_learner" if who == "learner" else "as_instructor")
    before = _row_counts(synced)
    fields = dict(data)
    if token is not None:
        fields["csrf_token"] = token
    response = browser.client.post(url, data=fields, follow_redirects=False)
    assert response.status_code == 403
    assert "expired" in response.text
    # Nothing happened: still signed in, nothing stored.
    assert browser.get("/", follow_redirects=False).status_code == 200
    assert _row_counts(synced) == before


@pytest.mark.parametrize("url", ["/login", "/signup"])
def test_sign_in_and_sign_up_forms_need_the_token_too(anonymous, learner, url):
    data = {"email": learner.email, "password": "correct horse battery", "join_code": "JOIN-ME", "display_name": "A"}
    response = anonymous.client.post(url, data=data, follow_redirects=False)
    assert response.status_code == 403


def test_a_token_from_another_session_is_refused(app, learner):
    from fastapi.testclient import TestClient

    from .conftest import Browser

    stranger = Browser(TestClient(app))
    stolen = csrf_from(stranger.get("/login").text)
    victim = Browser(TestClient(app)).sign_in(learner)
    response = victim.client.post("/logout", data={"csrf_token": stolen}, follow_redirects=False)
    assert response.status_code == 403


def test_signing_in_gives_a_new_csrf_token(anonymous, learner):
    before = anonymous.token_for("/login")
    anonymous.sign_in(learner)
    after = anonymous.token_for("/exercises/message-echo")
    assert before != after


# --- size limit ------------------------------------------------------------------------------


def test_an_oversized_body_is_refused_before_it_is_read(as_learner, settings, synced):
    from sqlmodel import func, select

    from grader.models import Submission

    huge = b"x" * (settings.max_upload_bytes + 300 * 1024)
    token = as_learner.token_for("/exercises/message-echo")
    response = as_learner.client.post(
        "/exercises/message-echo/submissions",
        data={"csrf_token": token},
        files={"file": ("big.py", huge, "text/x-python")},
        follow_redirects=False,
    )
    assert response.status_code == 413
    _assert_security_headers(response)
    assert synced.exec(select(func.count()).select_from(Submission)).one() == 0


def test_a_streamed_body_without_length_is_cut_off(as_learner, settings):
    def chunks():
        for _ in range(40):
            yield b"y" * 16384

    response = as_learner.client.post(
        "/api/v1/token", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 413
    assert response.json()["detail"].startswith("The request is larger")


@pytest.mark.parametrize("path, kind", [("/boom", "text/html"), ("/api/v1/boom", "application/json")])
def test_an_unexpected_error_is_a_500_with_the_security_headers(app, path, kind):
    from fastapi.testclient import TestClient

    def boom():
        raise RuntimeError("a bug")

    app.add_api_route(path, boom)
    response = TestClient(app, raise_server_exceptions=False).get(path)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith(kind)
    assert "a bug" not in response.text
    _assert_security_headers(response)
    # Whatever page the error replaced, no cache may keep it.
    assert response.headers["cache-control"] == "no-store"


def test_the_plain_error_page_escapes_its_message():
    from grader.web.errors import plain_error_response

    response = plain_error_response("/exercises/x", 413, "Too big: <img src=x onerror=alert(1)> & more")
    body = bytes(response.body).decode()
    assert "<img" not in body
    assert "Too big: &lt;img src=x onerror=alert(1)&gt; &amp; more" in body
