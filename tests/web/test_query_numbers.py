"""Numbers in query strings: a value no row or page can have is a clear answer, never a server error.

Every cursor and page parameter is tried: the live-update cursors (``since``), the
table's and the drill-downs' page numbers, the learner page's ``submission``, the
gradebook API's ``after`` and ``limit`` and the long poll's ``wait``.
"""

from __future__ import annotations

import pytest

from grader.models import DEFAULT_COURSE_ID
from grader.services.gradebook import cursor, table
from tests.factories import make_submission

from .conftest import api_token

# 5,000 digits is past the 4,300 that int() converts (it raised ValueError); "٣" is a digit int() reads as 3.
LONG = "9" * 5000
HUGE = [str(2**63), str(10**30), "-1", LONG, "٣"]

INSTRUCTOR_PATHS = [
    "/courses/1/dashboard?page={}",
    "/courses/1/dashboard/rows?page={}",
    "/courses/1/learners/{{learner}}?submission={}",
    "/courses/1/cases?exercise=message-echo&case=hello&page={}",
    "/courses/1/mistakes?exercise=message-echo&cause=x&page={}",
    "/courses/1/dashboard/changes?since={}",
    "/courses/1/dashboard/overview?since={}",
]


@pytest.mark.parametrize("huge", HUGE)
@pytest.mark.parametrize("path", INSTRUCTOR_PATHS)
def test_instructor_query_numbers_never_make_a_server_error(as_instructor, synced, learner, path, huge):
    response = as_instructor.get(path.format(huge).replace("{learner}", str(learner.id)))
    assert response.status_code < 500, response.text


@pytest.mark.parametrize("path", INSTRUCTOR_PATHS)
def test_a_number_too_long_to_be_one_is_refused_before_it_is_read(as_instructor, synced, learner, path):
    response = as_instructor.get(path.format(LONG).replace("{learner}", str(learner.id)))
    assert response.status_code == 422, response.text
    assert "Invalid input" in response.text or "detail" in response.text


def test_a_cursor_that_is_not_a_plain_number_starts_again(as_instructor, synced, learner):
    make_submission(synced, user=learner, status="graded", score=1.0)
    start = as_instructor.get("/courses/1/dashboard/changes", params={"since": "0"}).json()
    assert start["changed"] == 1 and start["cursor"] != "0"
    # A made-up cursor counts as the start: every changed row is sent once, with the real cursor.
    for odd in ["٣", "+3", " 3", "3_0", "1" * 20, "2026-12-01T10:00:00+00:00"]:
        assert as_instructor.get("/courses/1/dashboard/changes", params={"since": odd}).json() == start, odd


@pytest.mark.parametrize(
    ("text", "number"),
    [("1", 1), ("7", 7), ("0", 1), ("-3", 1), ("٣", 1), ("+3", 1), (" 3", 1), ("3_0", 1), ("", 1), (LONG, 1)],
)
def test_a_page_number_is_read_only_from_plain_digits(text, number):
    assert table.page_number(text) == number


@pytest.mark.parametrize("huge", HUGE)
def test_gradebook_cursor_out_of_range_is_refused_clearly(client, instructor, synced, huge):
    headers = api_token(client, instructor)
    response = client.get(f"/api/v1/gradebook?after={huge}", headers=headers)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("huge", HUGE)
def test_gradebook_page_size_out_of_range_is_refused_clearly(client, instructor, synced, huge):
    headers = api_token(client, instructor)
    response = client.get(f"/api/v1/gradebook?limit={huge}", headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


@pytest.mark.parametrize("huge", [*HUGE, "1e400", "nan"])
def test_long_poll_wait_out_of_range_is_refused_clearly(client, learner, synced, huge):
    submission = make_submission(synced, user=learner, status="queued")
    response = client.get(f"/api/v1/submissions/{submission.id}?wait={huge}", headers=api_token(client, learner))
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", "wait"]


def test_the_cursor_of_every_live_update_is_measured_before_it_is_read(synced, learner):
    # The dashboard's event stream reads its cursor through the same function as the JSON route:
    # a cursor that is not a plain number counts as the start, so after a change it is behind.
    make_submission(synced, user=learner, status="graded", score=1.0)
    current = cursor.current_cursor(session=synced, course_id=DEFAULT_COURSE_ID)
    assert current != "0" and not cursor.has_changed(session=synced, course_id=DEFAULT_COURSE_ID, since=current)
    for odd in [LONG, "٣", "-1", str(2**63), "0" * 30]:
        assert cursor.has_changed(session=synced, course_id=DEFAULT_COURSE_ID, since=odd), odd
