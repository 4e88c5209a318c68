"""``autograder course create`` and ``course list``: what an operator needs to open a course."""

from __future__ import annotations

from sqlmodel import Session, select

from grader.models import Course, CourseMember
from tests.factories import make_user

from .test_serve_refusal import _run_cli


def test_a_course_is_created_for_an_instructor_and_listed_with_its_code(tmp_path, database_url, engine):
    env = {"GRADER_STATE_DIR": str(tmp_path / "state"), "GRADER_DATABASE_URL": database_url}
    with Session(engine) as session:
        make_user(session, role="instructor", email="teach@example.org")
        make_user(session, email="kid@example.org")

    refused = _run_cli("course", "create", "Evening", "--instructor", "nobody@example.org", env_extra=env)
    assert refused.returncode == 2 and "no account uses the e-mail 'nobody@example.org'" in refused.stderr
    refused = _run_cli("course", "create", "Evening", "--instructor", "kid@example.org", env_extra=env)
    assert refused.returncode == 2 and "Only instructors can create courses" in refused.stderr
    refused = _run_cli("course", "create", "  ", "--instructor", "teach@example.org", env_extra=env)
    assert refused.returncode == 2 and "Give the course a title" in refused.stderr
    with Session(engine) as session:
        assert [course.title for course in session.exec(select(Course))] == ["Course"]

    done = _run_cli("course", "create", "Evening", "--instructor", "teach@example.org", env_extra=env)
    assert done.returncode == 0, done.stderr
    with Session(engine) as session:
        course = session.exec(select(Course).where(Course.title == "Evening")).one()
        member = session.exec(select(CourseMember).where(CourseMember.course_id == course.id)).one()
        assert member.role == "instructor"
    assert f"join code: {course.join_code}" in done.stdout

    listed = _run_cli("course", "list", env_extra=env)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].startswith("1\tCourse\tjoin code: (none: no self sign-up)\t1 instructor, 1 learner")
    assert lines[1] == f"{course.id}\tEvening\tjoin code: {course.join_code}\t1 instructor"
