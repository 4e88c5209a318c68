"""Numbers in query strings: a value no row or page can have is a clear answer, never a server error."""

from __future__ import annotations

import pytest

from .conftest import api_token

HUGE = [str(2**63), str(10**30), "-1"]


@pytest.mark.parametrize("huge", HUGE)
@pytest.mark.parametrize(
    "path",
    [
        "/instructor?page={}",
        "/instructor/learners/{{learner}}?submission={}",
        "/instructor/cases?exercise=message-echo&case=hello&page={}",
        "/instructor/mistakes?exercise=message-echo&cause=x&page={}",
        "/instructor/changes?since={}",
        "/instructor/overview?since={}",
    ],
)
def test_instructor_query_numbers_never_make_a_server_error(as_instructor, synced, learner, path, huge):
    response = as_instructor.get(path.format(huge).replace("{learner}", str(learner.id)))
    assert response.status_code < 500, response.text


@pytest.mark.parametrize("huge", HUGE)
def test_gradebook_cursor_out_of_range_is_refused_clearly(client, instructor, synced, huge):
    headers = api_token(client, instructor)
    response = client.get(f"/api/v1/gradebook?after={huge}", headers=headers)
    assert response.status_code == 422, response.text
