"""The audit log: instructor actions are recorded and shown to instructors only."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.factories import make_submission

from .conftest import CONFIRM, wait_until_finished


def _entries(page: str) -> list[str]:
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    return body.split("<tr>")[1:]


def test_regrades_accounts_and_exports_are_recorded_and_shown(as_instructor, synced, learner, instructor):
    submission = make_submission(synced, user=learner, status="graded", score=1)
    assert (
        as_instructor.post_form(
            f"/courses/1/submissions/{submission.id}/regrade", page="/courses/1/dashboard"
        ).status_code
        == 303
    )
    assert (
        as_instructor.post_form(
            "/courses/1/exercises/message-echo/regrade", CONFIRM, page="/courses/1/dashboard"
        ).status_code
        == 303
    )
    created = as_instructor.post_form(
        "/instructor/users",
        {"email": "dan@example.org", "display_name": "Dan", "role": "learner"},
        page="/instructor/users",
    )
    assert created.status_code == 200
    imported = as_instructor.post_form(
        "/instructor/users/import",
        {"csv_text": "email,display_name\neve@example.org,Eve\n"},
        page="/instructor/users",
    )
    assert imported.status_code == 202
    # The import is recorded when its accounts are stored, in the background.
    status_url = re.search(r'data-progress-url="([^"]+)"', imported.text).group(1)
    assert wait_until_finished(as_instructor, status_url)["status"] == "done"
    assert as_instructor.get("/courses/1/gradebook.csv").status_code == 200

    page = as_instructor.get("/instructor/audit")
    assert page.status_code == 200
    rows = _entries(page.text)
    assert len(rows) == 5
    # Newest first, each naming who did it.
    assert "Exported the gradebook" in rows[0] and "gradebook of course 1 (CSV)" in rows[0]
    assert "Imported accounts" in rows[1] and "eve@example.org" in rows[1]
    assert "Created an account" in rows[2] and "dan@example.org" in rows[2]
    assert "Regraded" in rows[3] and "exercise message-echo" in rows[3]
    assert "Regraded" in rows[4] and f"submission {submission.id}" in rows[4]
    assert all(instructor.email in row for row in rows)
    assert 'href="/instructor/audit"' in page.text


def test_learners_cannot_read_the_audit_log(as_learner):
    assert as_learner.get("/instructor/audit").status_code == 403


def test_an_api_export_is_recorded_once_however_many_pages(client, instructor, synced, as_instructor):
    from tests.web.conftest import api_token

    headers = api_token(client, instructor)
    first = client.get("/api/v1/gradebook?limit=1", headers=headers)
    assert first.status_code == 200
    if first.json()["next"]:
        assert client.get(first.json()["next"], headers=headers).status_code == 200
    rows = _entries(as_instructor.get("/instructor/audit").text)
    assert len(rows) == 1 and "gradebook of course 1 (API)" in rows[0]


def test_a_password_reset_is_recorded_without_the_password(as_instructor, learner, instructor):
    page = f"/courses/1/learners/{learner.id}"
    response = as_instructor.post_form(f"/instructor/learners/{learner.id}/password", CONFIRM, page=page)
    assert response.status_code == 200
    rows = _entries(as_instructor.get("/instructor/audit").text)
    assert len(rows) == 1
    assert "Changed an account" in rows[0] and learner.email in rows[0] and "password reset" in rows[0]
    shown = response.text.split('<code id="new-password">')[1].split("</code>")[0]
    assert shown and shown not in rows[0]


def test_an_instructor_of_another_course_reads_none_of_this_courses_entries(
    app, as_instructor, synced, learner, instructor
):
    from grader.models import CourseMember
    from tests.factories import make_user
    from tests.web.conftest import Browser

    response = as_instructor.post_form(f"/instructor/learners/{learner.id}/password", CONFIRM, page="/instructor")
    assert response.status_code == 200
    assert as_instructor.get("/courses/1/gradebook.csv").status_code == 200
    own = _entries(as_instructor.get("/instructor/audit").text)
    assert len(own) == 2 and all("<td>Course</td>" in row for row in own)  # the course each was taken in

    # Another instructor account makes a course of its own: its log shows that, and nothing of course 1.
    other = make_user(synced, role="instructor", email="otto@example.org", name="Other")
    synced.delete(synced.get_one(CourseMember, (1, other.id)))  # made in no course but its own
    synced.commit()
    as_other = Browser(TestClient(app)).sign_in(other)
    assert as_other.post_form("/courses", {"title": "Other class"}, page="/courses").status_code == 303
    page = as_other.get("/instructor/audit").text
    rows = _entries(page)
    assert len(rows) == 1 and "Created a course" in rows[0] and "Other class" in rows[0]
    assert learner.email not in page and instructor.email not in page and "gradebook of course 1" not in page
