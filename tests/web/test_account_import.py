"""The CSV import of accounts on the accounts page: checked at once, created in the background, followed live."""

from __future__ import annotations

import re

from sqlmodel import col, func, select

from grader.models import AccountImport, User
from tests.factories import make_user

from .conftest import Browser, wait_until_finished

PAGE = "/instructor/users"


def _import(browser: Browser, text: str, *, as_file: bool = True):
    if as_file:
        return browser.post_form(f"{PAGE}/import", page=PAGE, files={"file": ("people.csv", text.encode(), "text/csv")})
    return browser.post_form(f"{PAGE}/import", {"csv_text": text}, page=PAGE)


def _follow(browser: Browser, import_id: str) -> dict:
    return wait_until_finished(browser, f"{PAGE}/imports/{import_id}/status")


def _users(session, pattern: str) -> list[str]:
    session.expire_all()
    return list(session.exec(select(User.email).where(col(User.email).like(pattern)).order_by(User.email)))


def test_a_csv_is_checked_then_created_in_the_background_and_followed(as_instructor, anonymous, synced):
    text = "email,display_name,role\neve@example.org,Eve,learner\nfay@example.org,<b>Fay</b>,instructor\n"
    response = _import(as_instructor, text)
    assert response.status_code == 202, response.text
    html = response.text
    assert "Every line is right" in html and "&lt;b&gt;Fay&lt;/b&gt;" in html
    # The generated passwords are on this answer, and nowhere else.
    shown = dict(re.findall(r"<td>([a-z]+@example\.org)</td>.*?<code>([^<]+)</code>", html))
    assert set(shown) == {"eve@example.org", "fay@example.org"}
    import_id = re.search(r'data-progress-url="/instructor/users/imports/(\d+)/status"', html).group(1)
    assert f'href="/instructor/users/imports/{import_id}"' in html

    status = _follow(as_instructor, import_id)
    assert status == {
        "import_id": int(import_id),
        "total": 2,
        "done": 2,
        "status": "done",
        "finished": True,
        "message": "Done: 2 accounts created.",
    }
    page = as_instructor.get(f"{PAGE}/imports/{import_id}").text
    assert "Done: 2 accounts created." in page and "<code>" not in page
    assert _users(synced, "%@example.org") == ["eve@example.org", "fay@example.org", "teacher@example.org"]
    # A generated password, as shown, signs in.
    assert anonymous.sign_in(
        synced.exec(select(User).where(User.email == "eve@example.org")).one(), shown["eve@example.org"]
    )


def test_every_bad_line_is_listed_and_nothing_is_stored(as_instructor, synced):
    make_user(synced, email="taken@example.org")
    text = (
        "email,display_name\ngus@example.org,Gus\nnot-an-email,Hal\ntaken@example.org,Ivy\ngus@example.org,Gus Again\n"
    )
    response = _import(as_instructor, text, as_file=False)
    assert response.status_code == 422
    assert "Nothing was imported: 3 lines of the CSV need fixing." in response.text
    assert "<li>Line 3: Enter a valid e-mail address.</li>" in response.text
    assert "<li>Line 4: an account with taken@example.org already exists.</li>" in response.text
    assert "<li>Line 5: gus@example.org is also on line 2.</li>" in response.text
    assert _users(synced, "gus@%") == []
    assert synced.exec(select(func.count()).select_from(AccountImport)).one() == 0


def test_a_csv_over_the_row_limit_is_refused_whole(app, as_instructor, synced):
    app.state.settings = app.state.settings.model_copy(update={"account_import_max_rows": 3})
    rows = "".join(f"bulk{number}@example.org,Bulk {number}\n" for number in range(4))
    response = _import(as_instructor, "email,display_name\n" + rows)
    assert response.status_code == 422
    assert "The CSV lists 4 accounts; at most 3 are imported at once." in response.text
    assert "then up to 3 accounts" in response.text
    assert _users(synced, "bulk%") == []


def test_learners_cannot_follow_an_import(as_instructor, as_learner, synced):
    response = _import(as_instructor, "email,display_name\njo@example.org,Jo\n")
    import_id = re.search(r"/instructor/users/imports/(\d+)", response.text).group(1)
    assert as_learner.get(f"{PAGE}/imports/{import_id}").status_code == 403
    assert as_learner.get(f"{PAGE}/imports/{import_id}/status").status_code == 403
    _follow(as_instructor, import_id)


def test_the_request_answers_without_hashing_a_single_password(as_instructor, synced):
    from grader.services import passwords

    gate = passwords.gate()
    rows = "".join(f"many{number}@example.org,Many {number}\n" for number in range(50))
    # Every hashing slot is held: a request that hashed would wait, then be refused with 503.
    for _ in range(gate.slots):
        gate._slots.acquire()
    try:
        response = _import(as_instructor, "email,display_name\n" + rows)
        import_id = re.search(r"/instructor/users/imports/(\d+)/status", response.text).group(1)
        status = as_instructor.get(f"{PAGE}/imports/{import_id}/status").json()
    finally:
        for _ in range(gate.slots):
            gate._slots.release()
    assert response.status_code == 202, response.text
    assert status["status"] == "running" and status["done"] == 0 and status["total"] == 50
    assert _follow(as_instructor, import_id)["status"] == "done"
    assert len(_users(synced, "many%")) == 50


def test_sending_the_same_file_again_while_it_is_imported_is_refused(as_instructor, synced):
    from grader.services import passwords

    text = "email,display_name\nkim@example.org,Kim\n"
    gate = passwords.gate()
    for _ in range(gate.slots):
        gate._slots.acquire()
    try:
        first = _import(as_instructor, text)
        # A reload of the answer sends the form again: its passwords would never work.
        again = _import(as_instructor, text)
    finally:
        for _ in range(gate.slots):
            gate._slots.release()
    assert first.status_code == 202
    assert again.status_code == 422
    assert "<li>Line 2: kim@example.org is being created by another import under way.</li>" in again.text
    assert "Generated password" not in again.text
    import_id = re.search(r"/instructor/users/imports/(\d+)/status", first.text).group(1)
    assert _follow(as_instructor, import_id)["status"] == "done"
    assert _users(synced, "kim@%") == ["kim@example.org"]
