"""LTI services without an LMS: role mapping, the tool's keys, registrations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, func, select

from grader.models import LtiKey, LtiPlatform, utcnow
from grader.services.errors import AlreadyExists, InvalidInput
from grader.services.lti import keys, platforms
from grader.services.lti.launches import LIS, course_role

SECRET = "a-secret-key-for-the-lti-tests"


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        ([LIS + "membership#Learner"], "learner"),
        ([LIS + "membership#Instructor"], "instructor"),
        ([LIS + "membership#Instructor", LIS + "membership/Instructor#TeachingAssistant"], "ta"),
        ([LIS + "membership#Administrator", LIS + "membership#Learner"], "instructor"),
        ([LIS + "institution/person#Administrator", LIS + "membership#Learner"], "learner"),
        ([LIS + "institution/person#Administrator"], "instructor"),
        (["Instructor"], "instructor"),
        (["TeachingAssistant"], "ta"),
        ([LIS + "membership#Mentor"], "learner"),
        ([], "learner"),
    ],
)
def test_lis_roles_map_to_course_roles(roles: list[str], expected: str):
    assert course_role(roles) == expected


def test_a_retired_key_stays_published_a_week_then_goes(session: Session):
    first = keys.signing_key(session=session, secret=SECRET)
    rotated = keys.rotate(session=session, secret=SECRET)
    assert keys.signing_key(session=session, secret=SECRET).kid == rotated.kid != first.kid
    assert [key["kid"] for key in keys.published(session=session)["keys"]] == [first.kid, rotated.kid]

    later = utcnow() + keys.RETIRED_KEY_PUBLISHED_FOR + timedelta(minutes=1)
    assert [key["kid"] for key in keys.published(session=session, now=later)["keys"]] == [rotated.kid]
    keys.rotate(session=session, secret=SECRET, now=later)
    assert session.exec(select(func.count()).select_from(LtiKey)).one() == 2  # the first one is deleted


def test_a_key_stored_under_another_secret_is_refused_in_words(session: Session):
    keys.signing_key(session=session, secret=SECRET)
    with pytest.raises(InvalidInput, match="autograder lti keys rotate"):
        keys.signing_key(session=session, secret="another-secret-altogether")


def test_a_registration_needs_urls_and_a_deployment_and_is_unique(session: Session):
    good = {
        "issuer": "https://lms.example.edu",
        "client_id": "c-1",
        "auth_login_url": "https://lms.example.edu/auth",
        "auth_token_url": "https://lms.example.edu/token",
        "keyset_url": "https://lms.example.edu/jwks",
        "deployment_ids": ["d-1"],
    }
    with pytest.raises(InvalidInput, match="keyset_url must be an http"):
        platforms.register(session=session, **{**good, "keyset_url": "ftp://x"})
    with pytest.raises(InvalidInput, match="at least one deployment"):
        platforms.register(session=session, **{**good, "deployment_ids": [" "]})
    assert session.exec(select(func.count()).select_from(LtiPlatform)).one() == 0
    platforms.register(session=session, **good)
    with pytest.raises(AlreadyExists):
        platforms.register(session=session, **good)
    assert platforms.origins(session=session) == ["https://lms.example.edu"]
