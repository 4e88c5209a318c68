"""The site menu offers each person the pages they may open, and only those.

"Dashboard" follows the person's roles in courses, not their account's role: a TA has it, an
instructor account that teaches no course has not. One course taught leads straight to its
dashboard; several lead to the list of courses, which links each one's dashboard. Every link
the menu shows is followed and must answer 200.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import Session

from grader.models import DEFAULT_COURSE_ID, CourseMember, User
from grader.services import courses
from tests.factories import make_user

from .conftest import Browser

# The links everyone signed in has, by their words.
ALWAYS = ["Exercises &amp; quizzes", "Courses", "API", "Account"]


def menu_links(html: str) -> list[tuple[str, str]]:
    """The (words, address) of every link of the wide menu, in order."""
    menu = html.split('<ul class="menu-wide">', 1)[1].split("</ul>", 1)[0]
    return [(words.strip(), href) for href, words in re.findall(r'<a href="([^"]+)">([^<]+)</a>', menu)]


def _member(session: Session, user: User, course_id: int, role: str) -> None:
    courses.add_member(session=session, course_id=course_id, user_id=user.id, role=role)  # type: ignore[arg-type]
    session.commit()


def _second_course(session: Session, teacher: User) -> int:
    made = courses.create(session=session, title="Evening class", created_by=teacher)
    session.commit()
    return made.id


def _people(synced: Session) -> dict[str, tuple[User | None, list[tuple[str, str]]]]:
    """Each kind of person, and the links the menu must show them beyond ``ALWAYS`` (in menu order)."""
    learner = make_user(synced, email="learner@example.org")
    ta = make_user(synced, email="ta@example.org")
    _member(synced, ta, DEFAULT_COURSE_ID, "ta")
    one = make_user(synced, role="instructor", email="one@example.org")
    two = make_user(synced, role="instructor", email="two@example.org")
    _second_course(synced, two)
    # An instructor of a course whose account may not create courses: accounts, but no audit log.
    course_only = make_user(synced, email="course-only@example.org")
    _member(synced, course_only, DEFAULT_COURSE_ID, "instructor")
    # A TA of one course who is a learner in another: the dashboard of the course taught only.
    mixed = make_user(synced, email="mixed@example.org")
    taught = _second_course(synced, make_user(synced, role="instructor", email="owner@example.org"))
    _member(synced, mixed, taught, "ta")
    # An instructor account in no course yet: nothing to show results of; the users page says to create one.
    newcomer = make_user(synced, role="instructor", email="new@example.org")
    synced.delete(synced.get(CourseMember, (DEFAULT_COURSE_ID, newcomer.id)))
    synced.commit()
    users = ("Users", "/instructor/users")
    audit = ("Audit log", "/instructor/audit")
    return {
        "anonymous": (None, []),
        "learner": (learner, []),
        "ta": (ta, [("Dashboard", f"/courses/{DEFAULT_COURSE_ID}/dashboard")]),
        "instructor of one course": (one, [("Dashboard", f"/courses/{DEFAULT_COURSE_ID}/dashboard"), users, audit]),
        "instructor of two courses": (two, [("Dashboards", "/courses"), users, audit]),
        "instructor of a course only": (course_only, [("Dashboard", f"/courses/{DEFAULT_COURSE_ID}/dashboard"), users]),
        "ta of one course, learner of another": (mixed, [("Dashboard", f"/courses/{taught}/dashboard")]),
        "instructor account in no course": (newcomer, [users, audit]),
    }


PEOPLE = [
    "anonymous",
    "learner",
    "ta",
    "instructor of one course",
    "instructor of two courses",
    "instructor of a course only",
    "ta of one course, learner of another",
    "instructor account in no course",
]


@pytest.mark.parametrize("who", PEOPLE)
def test_the_menu_shows_what_the_person_may_open_and_every_link_answers(app, synced, who):
    user, extra = _people(synced)[who]
    browser = Browser(TestClient(app))
    if user is None:
        links = menu_links(browser.get("/login").text)
        assert [href for _, href in links] == ["/login", "/signup"]
        return
    browser.sign_in(user)
    links = menu_links(browser.get("/account").text)
    assert [words for words, _ in links if words in ALWAYS] == ALWAYS
    assert [(words, href) for words, href in links if words not in ALWAYS] == extra
    for words, href in links:
        response = browser.get(href)
        assert response.status_code == 200, f"{who}: {words} ({href}) answered {response.status_code}"


def test_several_courses_taught_each_have_their_dashboard_on_the_courses_page(app, synced):
    teacher = make_user(synced, role="instructor", email="two@example.org")
    second = _second_course(synced, teacher)
    ta = make_user(synced, email="ta@example.org")
    _member(synced, ta, second, "ta")
    for person, dashboards in ((teacher, [DEFAULT_COURSE_ID, second]), (ta, [second])):
        page = Browser(TestClient(app)).sign_in(person).get("/courses").text.split('<main id="main"', 1)[1]
        found = [int(number) for number in re.findall(r'href="/courses/(\d+)/dashboard"', page)]
        assert found == dashboards
    # The learner of the default course gets no dashboard link there.
    page = Browser(TestClient(app)).sign_in(ta).get("/courses").text
    assert f'href="/courses/{DEFAULT_COURSE_ID}/dashboard"' not in page


def test_a_role_change_shows_in_the_menu_on_the_next_page(app, synced):
    person = make_user(synced, email="promoted@example.org")
    browser = Browser(TestClient(app)).sign_in(person)
    assert "Dashboard" not in dict(menu_links(browser.get("/account").text))
    _member(synced, person, DEFAULT_COURSE_ID, "ta")
    assert dict(menu_links(browser.get("/account").text))["Dashboard"] == f"/courses/{DEFAULT_COURSE_ID}/dashboard"


def _menu_reads(statements: list[str]) -> list[str]:
    """The reads of one person's staff roles in every course (``courses.staff_roles``)."""
    return [
        s
        for s in statements
        if "FROM course_members" in s and "course_members.user_id = " in s and "course_members.role IN" in s
    ]


def test_the_menu_reads_the_memberships_once_per_page_and_not_for_json(app, synced, engine):
    person = make_user(synced, email="ta@example.org")
    _member(synced, person, DEFAULT_COURSE_ID, "ta")
    browser = Browser(TestClient(app)).sign_in(person)
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        page = browser.get("/account")
        page_statements = list(statements)
        statements.clear()
        changes = browser.get("/courses/1/dashboard/changes?since=")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert page.status_code == 200 and changes.status_code == 200
    # Both menus of the page (wide and narrow) come from one read; a JSON answer draws no menu.
    assert len(_menu_reads(page_statements)) == 1, page_statements
    assert _menu_reads(statements) == []
