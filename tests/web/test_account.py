"""A person manages their account: password, API tokens, sign-out everywhere; an instructor resets a learner's password."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from grader.models import ApiToken, User, utcnow
from tests.factories import DEFAULT_PASSWORD

from .conftest import CONFIRM, Browser, api_token

NEW_PASSWORD = "violet stapler harbour"


def _signed_in(browser: Browser) -> bool:
    return browser.get("/", follow_redirects=False).status_code == 200


def _token_works(client: TestClient, headers: dict[str, str]) -> bool:
    return client.get("/api/v1/exercises", headers=headers).status_code == 200


def _change(browser: Browser, current: str, new: str):
    return browser.post_form("/account/password", {"current_password": current, "new_password": new}, page="/account")


def test_the_account_page_offers_every_action_and_states_the_policy(as_learner, client, learner):
    api_token(client, learner)
    html = as_learner.get("/account").text
    assert 'action="/account/password"' in html and 'autocomplete="current-password"' in html
    assert "not a common password" in html
    assert html.count('action="/account/tokens/') == 1  # one revoke button for the one token
    assert "POST /api/v1/token" in html
    assert 'action="/account/sign-out-everywhere"' in html
    assert '<a href="/account">Account</a>' in as_learner.get("/").text


def test_changing_the_password_ends_other_sessions_and_tokens_but_not_this_one(app, as_learner, client, learner):
    elsewhere = Browser(TestClient(app)).sign_in(learner)
    headers = api_token(client, learner)

    response = _change(as_learner, DEFAULT_PASSWORD, NEW_PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/account?done=password"
    assert "Your password was changed" in as_learner.get(response.headers["location"]).text
    assert _signed_in(as_learner)
    assert not _signed_in(elsewhere)
    assert not _token_works(client, headers)
    assert (
        client.post("/api/v1/token", data={"username": learner.email, "password": DEFAULT_PASSWORD}).status_code == 401
    )
    assert _token_works(client, api_token(client, learner, password=NEW_PASSWORD))


@pytest.mark.parametrize(
    "current, new, message",
    [
        ("not my password", NEW_PASSWORD, "That is not your current password."),
        (DEFAULT_PASSWORD, "12345678", "This is a top-10 common password."),
        (DEFAULT_PASSWORD, "password", "This is a top-10 common password."),
        (DEFAULT_PASSWORD, " " * 8, "Repeats like"),
        (DEFAULT_PASSWORD, "short", "at least 8 characters"),
    ],
)
def test_a_refused_change_says_why_and_changes_nothing(as_learner, client, learner, current, new, message):
    headers = api_token(client, learner)
    response = _change(as_learner, current, new)
    assert response.status_code == 422
    assert message in response.text and 'role="alert"' in response.text
    assert _signed_in(as_learner) and _token_works(client, headers)


def test_guessing_the_current_password_is_throttled_like_a_sign_in(as_learner):
    statuses = [_change(as_learner, f"guess {n}", NEW_PASSWORD).status_code for n in range(7)]
    assert statuses[:6] == [422] * 6 and statuses[6] == 429


def test_tokens_are_listed_and_revoked_from_the_page(as_learner, client, learner, synced):
    first, second = api_token(client, learner), api_token(client, learner)
    html = as_learner.get("/account").text
    ids = [int(found) for found in re.findall(r'action="/account/tokens/(\d+)/revoke"', html)]
    assert len(ids) == 2
    response = as_learner.post_form(f"/account/tokens/{max(ids)}/revoke", {}, page="/account")
    assert response.status_code == 303
    assert "The token was revoked" in as_learner.get(response.headers["location"]).text
    assert not _token_works(client, second) and _token_works(client, first)


def _token_rows(session, user) -> list[ApiToken]:
    session.expire_all()
    return list(session.exec(select(ApiToken).where(ApiToken.user_id == user.id)))


def test_a_named_token_is_made_once_and_its_secret_shown_once(as_learner, client, learner, synced):
    created = as_learner.post_form("/account/tokens", {"name": "  laptop   terminal "}, page="/account")
    # Post-redirect-get: the secret travels in the session, never in the address.
    assert created.status_code == 303
    assert created.headers["location"] == "/account#new-token-heading"
    [row] = _token_rows(synced, learner)
    assert row.label == "laptop terminal"

    shown = as_learner.get(created.headers["location"])
    assert shown.headers["cache-control"] == "no-store"
    secret = re.search(r'<code id="new-token" class="secret">([^<]+)</code>', shown.text).group(1)
    assert secret not in created.headers["location"]
    assert "Your new token “laptop terminal”" in shown.text and "shown only this once" in shown.text
    assert '<button type="button" class="secondary" data-copy="new-token"' in shown.text
    assert _token_works(client, {"Authorization": f"Bearer {secret}"})
    assert '<th scope="row">laptop terminal</th>' in shown.text

    # Reloading the page neither shows the secret again nor makes another token.
    again = as_learner.get("/account")
    assert secret not in again.text and "Your new token" not in again.text
    assert len(_token_rows(synced, learner)) == 1


@pytest.mark.parametrize(
    ("name", "words"), [("", "Give the token a name"), ("   ", "Give the token a name"), ("x" * 81, "80 characters")]
)
def test_a_token_needs_a_short_name(as_learner, learner, synced, name, words):
    response = as_learner.post_form("/account/tokens", {"name": name}, page="/account")
    assert response.status_code == 422
    assert words in response.text and 'aria-describedby="token-name-note form-error"' in response.text
    assert _token_rows(synced, learner) == []


def test_someone_elses_token_cannot_be_revoked(as_other, client, learner):
    headers = api_token(client, learner)
    token_id = client.get("/api/v1/tokens", headers=headers).json()[0]["id"]
    assert as_other.post_form(f"/account/tokens/{token_id}/revoke", {}, page="/account").status_code == 404
    assert _token_works(client, headers)


def test_the_api_lists_and_revokes_tokens(client, learner, other_learner):
    first, second = api_token(client, learner), api_token(client, learner)
    listed = client.get("/api/v1/tokens", headers=second).json()
    assert len(listed) == 2 and [item["current"] for item in listed] == [True, False]
    assert all("digest" not in item and "secret" not in item for item in listed)

    other = api_token(client, other_learner)
    assert client.delete(f"/api/v1/tokens/{listed[1]['id']}", headers=other).status_code == 404
    assert client.delete(f"/api/v1/tokens/{listed[1]['id']}", headers=second).status_code == 204
    assert not _token_works(client, first) and _token_works(client, second)
    # Revoking the token in use signs this program out.
    assert client.delete(f"/api/v1/tokens/{listed[0]['id']}", headers=second).status_code == 204
    response = client.get("/api/v1/tokens", headers=second)
    assert response.status_code == 401 and "revoked" in response.json()["detail"]


def test_an_expired_token_says_so(client, learner, synced):
    headers = api_token(client, learner)
    synced.expire_all()
    row = synced.exec(select(ApiToken)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    synced.add(row)
    synced.commit()
    response = client.get("/api/v1/exercises", headers=headers)
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_plain_sign_out_keeps_tokens_but_sign_out_everywhere_ends_them(app, as_learner, client, learner):
    headers = api_token(client, learner)
    as_learner.post_form("/logout", {}, page="/")
    assert _token_works(client, headers)

    browser = Browser(TestClient(app)).sign_in(learner)
    elsewhere = Browser(TestClient(app)).sign_in(learner)
    response = browser.post_form("/account/sign-out-everywhere", {}, page="/account")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert not _signed_in(browser) and not _signed_in(elsewhere)
    assert not _token_works(client, headers)


def test_sign_out_everywhere_through_the_api_ends_every_session_and_token(app, client, learner, instructor):
    browser = Browser(TestClient(app)).sign_in(learner)
    elsewhere = Browser(TestClient(app)).sign_in(learner)
    headers, other_program = api_token(client, learner), api_token(client, learner)
    teacher = api_token(client, instructor)

    response = client.post("/api/v1/account/sign-out-everywhere", headers=headers)
    assert response.status_code == 204 and response.content == b""
    assert not _signed_in(browser) and not _signed_in(elsewhere)
    # Every token ends, the one that asked included.
    assert not _token_works(client, headers) and not _token_works(client, other_program)
    # Someone else's are untouched, and the password still gets a new token.
    assert _token_works(client, teacher)
    assert _token_works(client, api_token(client, learner))


def test_sign_out_everywhere_through_the_api_needs_a_token(app, client, learner):
    browser = Browser(TestClient(app)).sign_in(learner)
    # A browser's cookie is not enough (the API takes bearer tokens only), and nothing ends.
    assert browser.client.post("/api/v1/account/sign-out-everywhere").status_code == 401
    assert client.post("/api/v1/account/sign-out-everywhere", headers={"Authorization": "Bearer x"}).status_code == 401
    assert _signed_in(browser)
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/account/sign-out-everywhere"]["post"]
    assert "204" in operation["responses"] and "revoke" in operation["description"]


def test_an_instructor_resets_a_learners_password_shown_once(app, as_instructor, client, learner, synced):
    learner_browser = Browser(TestClient(app)).sign_in(learner)
    headers = api_token(client, learner)
    page = f"/courses/1/learners/{learner.id}"
    question = f"/instructor/learners/{learner.id}/password"
    assert f'href="{question}"' in as_instructor.get(page).text

    response = as_instructor.post_form(question, CONFIRM, page=question)
    assert response.status_code == 200
    password = re.search(r'<code id="new-password">([^<]+)</code>', response.text).group(1)
    assert "shown only now" in response.text
    assert not _signed_in(learner_browser) and not _token_works(client, headers)
    assert (
        client.post("/api/v1/token", data={"username": learner.email, "password": DEFAULT_PASSWORD}).status_code == 401
    )
    assert _token_works(client, api_token(client, learner, password=password))
    assert password not in as_instructor.get(page).text
    audit = as_instructor.get("/instructor/audit").text
    assert "Changed an account" in audit and learner.email in audit and "password reset" in audit
    assert password not in audit


def test_a_password_reset_asks_first_and_changes_nothing_until_confirmed(app, as_instructor, client, learner):
    learner_browser = Browser(TestClient(app)).sign_in(learner)
    page = f"/courses/1/learners/{learner.id}"
    assert f'href="/instructor/learners/{learner.id}/password"' in as_instructor.get(page).text

    question = as_instructor.get(f"/instructor/learners/{learner.id}/password")
    assert question.status_code == 200
    assert learner.display_name in question.text and learner.email in question.text
    assert "signed out of every browser" in question.text and "shown to you once" in question.text
    assert f'action="/instructor/learners/{learner.id}/password"' in question.text
    assert (
        'name="confirm" value="yes"' in question.text and f'href="/instructor/learners/{learner.id}"' in question.text
    )

    unconfirmed = as_instructor.post_form(f"/instructor/learners/{learner.id}/password", {}, page=page)
    assert unconfirmed.status_code == 303
    assert unconfirmed.headers["location"] == f"/instructor/learners/{learner.id}/password"
    assert _signed_in(learner_browser)
    assert (
        client.post("/api/v1/token", data={"username": learner.email, "password": DEFAULT_PASSWORD}).status_code == 200
    )


def test_the_reset_question_is_only_for_a_learner_and_only_asked_by_an_instructor(
    as_learner, as_instructor, instructor, learner
):
    assert as_learner.get(f"/instructor/learners/{learner.id}/password").status_code == 403
    assert as_instructor.get(f"/instructor/learners/{instructor.id}/password").status_code == 403
    assert as_instructor.get("/instructor/learners/99999/password").status_code == 404


def test_learners_cannot_reset_passwords_and_instructors_are_not_reset_here(
    as_learner, as_instructor, instructor, learner
):
    assert as_learner.post_form(f"/instructor/learners/{learner.id}/password", {}, page="/").status_code == 403
    response = as_instructor.post_form(f"/instructor/learners/{instructor.id}/password", {}, page="/instructor/users")
    assert response.status_code == 403


@pytest.mark.parametrize("weak", ["12345678", "password", " " * 8])
def test_sign_up_refuses_common_and_trivial_passwords_and_says_so(anonymous, synced, weak):
    page = anonymous.get("/signup").text
    assert "not a common password or an easy pattern" in page
    response = anonymous.post_form(
        "/signup",
        {"email": "new@example.org", "display_name": "New", "password": weak, "join_code": "JOIN-ME"},
        page="/signup",
    )
    assert response.status_code == 422
    assert "Choose a password that is harder to guess." in response.text
    synced.expire_all()
    assert synced.exec(select(User).where(User.email == "new@example.org")).first() is None


def test_an_instructor_cannot_give_an_account_a_trivial_password(as_instructor, synced):
    response = as_instructor.post_form(
        "/instructor/users",
        {"email": "w@example.org", "display_name": "W", "role": "learner", "password": "password"},
        page="/instructor/users",
    )
    assert response.status_code == 422 and "harder to guess" in response.text
    csv = "email,display_name,password\nw@example.org,W,12345678\n"
    response = as_instructor.post_form("/instructor/users/import", {"csv_text": csv}, page="/instructor/users")
    assert response.status_code == 422 and "Line 2" in response.text
    synced.expire_all()
    assert synced.exec(select(User).where(User.email == "w@example.org")).first() is None
