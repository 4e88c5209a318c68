"""Sign in, sign up with the join code, sign out."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from sqlmodel import select

from grader.models import User
from tests.factories import DEFAULT_PASSWORD


def _sign_in(browser, email: str, password: str, next_url: str = "/"):
    token = browser.token_for("/login")
    return browser.client.post(
        "/login",
        data={"email": email, "password": password, "next": next_url, "csrf_token": token},
        follow_redirects=False,
    )


class _Inputs(HTMLParser):
    """Each named input's attributes, by name."""

    def __init__(self) -> None:
        super().__init__()
        self.by_name: dict[str, dict[str, str | None]] = {}

    def handle_starttag(self, tag, attrs):
        fields = dict(attrs)
        if tag == "input" and fields.get("name"):
            self.by_name[fields["name"]] = fields


def _autocomplete(html: str) -> dict[str, str | None]:
    parser = _Inputs()
    parser.feed(html)
    return {
        name: fields.get("autocomplete") for name, fields in parser.by_name.items() if fields.get("type") != "hidden"
    }


def test_sign_in_and_sign_up_fields_say_what_to_fill_in(anonymous):
    # Password managers and browsers rely on these to offer the saved
    # sign-in, and to suggest a new password only when creating an account.
    assert _autocomplete(anonymous.get("/login").text) == {"email": "username", "password": "current-password"}
    assert _autocomplete(anonymous.get("/signup").text) == {
        "email": "username",
        "display_name": "name",
        "password": "new-password",
        "join_code": "off",
    }


def test_sign_in_and_out(anonymous, learner):
    response = _sign_in(anonymous, learner.email.upper(), DEFAULT_PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert "Signed in as ada@example.org" in anonymous.get("/").text
    response = anonymous.post_form("/logout", page="/")
    assert response.status_code == 303
    assert anonymous.get("/", follow_redirects=False).status_code == 303


def test_a_cookie_copied_before_sign_out_is_refused_after_it(as_learner, anonymous):
    stolen = as_learner.client.cookies.get("grader_session")
    assert stolen
    anonymous.client.cookies.set("grader_session", stolen)
    assert "Signed in as ada@example.org" in anonymous.get("/").text
    assert as_learner.post_form("/logout", page="/").status_code == 303
    response = anonymous.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_signing_in_again_after_sign_out_works(as_learner, learner):
    as_learner.post_form("/logout", page="/")
    as_learner.sign_in(learner)
    assert as_learner.get("/", follow_redirects=False).status_code == 200


def test_wrong_password_keeps_the_email_and_says_why(anonymous, learner):
    response = _sign_in(anonymous, learner.email, "not the password")
    assert response.status_code == 401
    assert "Wrong e-mail or password." in response.text
    assert 'value="ada@example.org"' in response.text


def test_sign_in_returns_to_the_page_asked_for(anonymous, learner):
    first = anonymous.get("/quizzes/message-cycle", follow_redirects=False)
    assert first.headers["location"] == "/login?next=%2Fquizzes%2Fmessage-cycle"
    response = _sign_in(anonymous, learner.email, DEFAULT_PASSWORD, next_url="/quizzes/message-cycle")
    assert response.headers["location"] == "/quizzes/message-cycle"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_sign_in_never_redirects_off_site(anonymous, learner, target):
    response = _sign_in(anonymous, learner.email, DEFAULT_PASSWORD, next_url=target)
    assert response.headers["location"] == "/"


def _sign_up(browser, **fields):
    data = {
        "email": "new@example.org",
        "display_name": "New Person",
        "password": "long enough pw",
        "join_code": "JOIN-ME",
    }
    data.update(fields)
    return browser.post_form("/signup", data, page="/signup")


def test_sign_up_with_the_join_code_makes_a_learner(anonymous, synced):
    response = _sign_up(anonymous)
    assert response.status_code == 303
    user = synced.exec(select(User).where(User.email == "new@example.org")).one()
    assert user.role == "learner"
    assert "Hello, New Person" in anonymous.get("/").text


@pytest.mark.parametrize(
    "fields, status, message",
    [
        ({"join_code": "guess"}, 422, "join code"),
        ({"password": "short"}, 422, "at least 8 characters"),
        ({"email": "not-an-email"}, 422, "valid e-mail"),
        ({"email": "ada@example.org"}, 409, "already exists"),
    ],
)
def test_sign_up_refusals_keep_the_form(anonymous, learner, synced, fields, status, message):
    before = len(synced.exec(select(User)).all())
    response = _sign_up(anonymous, **fields)
    assert response.status_code == status
    assert message in response.text
    assert 'name="join_code"' in response.text
    synced.expire_all()
    assert len(synced.exec(select(User)).all()) == before


def test_sign_up_is_closed_without_a_join_code(settings, engine, synced):
    from fastapi.testclient import TestClient

    from grader.web.app import create_app

    from .conftest import Browser

    closed = create_app(settings.model_copy(update={"join_code": ""}), engine=engine, enqueue=lambda _id: None)
    browser = Browser(TestClient(closed))
    assert "Sign-up is closed" in browser.get("/signup").text
    token = browser.token_for("/login")
    response = browser.client.post(
        "/signup",
        data={
            "email": "x@example.org",
            "display_name": "X",
            "password": "long enough pw",
            "join_code": "",
            "csrf_token": token,
        },
    )
    assert response.status_code == 403
    assert synced.exec(select(User).where(User.email == "x@example.org")).first() is None


def test_changing_the_password_ends_existing_sessions(as_learner, synced, learner):
    from grader.services import users

    assert as_learner.get("/", follow_redirects=False).status_code == 200
    users.set_password(session=synced, user=learner, password="a brand new password")
    response = as_learner.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
