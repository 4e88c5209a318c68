"""A course's staff pages: its dashboard, learners, cohorts, CSV export and regrades.

Its settings, members and assignments are ``courses.py``'s.

Every route takes the course from the path through ``CourseStaff`` (its TAs and
instructors); the services read only that course's learners and the work its
assignments place. Links between these pages are built here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from sqlmodel import Session

from grader.config import Settings
from grader.grading.report import Report
from grader.services import audit, courses, quizzes, regrade, stats, submissions, visibility
from grader.services.errors import Overloaded, RateLimited
from grader.services.gradebook import changes, columns, cursor, export, learners, table
from grader.services.lti import overview as lti_overview
from grader.services.scope import CourseScope, course_scope
from grader.services.updates import ANY_SUBMISSION, COURSE, submission_changes
from grader.web import charts, events, times
from grader.web.deps import (
    CourseStaff,
    RowId,
    SessionDep,
    SettingsDep,
    course_staff_grant,
    page_stream_access,
)
from grader.web.security import verify_csrf
from grader.web.templating import render, templates

router = APIRouter(prefix="/courses/{course_id}", dependencies=[Depends(verify_csrf)], include_in_schema=False)

# A live-update cursor or a page number in a query string. Bounded in length before anything
# reads it (a cursor is a number of at most 19 digits; a page from before the sequence sent a time).
Cursor = Annotated[str, Query(max_length=64, description="Where live updates start from.")]
PageText = Annotated[str, Query(max_length=32, description="Page number, from 1.")]
PageNumber = Annotated[int, Query(ge=1, le=cursor.MAX_CURSOR, description="Page number, from 1.")]
AssignmentId = Annotated[int | None, Query(ge=1, le=cursor.MAX_CURSOR, description="One assignment only.")]

# The confirmation pages' forms send this; a POST without it only leads back to the question.
CONFIRMED = "yes"


def course_path(course_id: int, page: str = "dashboard") -> str:
    """The path of one of a course's pages."""
    return f"/courses/{course_id}/{page}"


def with_query(path: str, values: dict[str, Any]) -> str:
    """``path`` with ``values`` as its query string (none when empty)."""
    return f"{path}?{urlencode(values)}" if values else path


@dataclass(frozen=True)
class TableLinks:
    """The links of one course's dashboard table: the same table sorted, paged, or read live."""

    course_id: int
    query: table.TableQuery

    def page(self, number: int) -> str:
        """Another page of the same table."""
        return self.to("dashboard", replace(self.query, page=number))

    def sorted(self, key: str) -> str:
        """The table sorted by ``key`` (the other way when it already is), from page 1."""
        return self.to("dashboard", self.query.sorted_by(key))

    def live(self, part: str) -> str:
        """The dashboard's ``part`` (``changes``, ``events``, ``rows``, ``overview``) for the same table."""
        query = replace(self.query, page=1) if part == "overview" else self.query
        return self.to(f"dashboard/{part}", query)

    def export(self) -> str:
        """The CSV of the course (of the one assignment when the table is filtered to it)."""
        narrowed = {"assignment": self.query.assignment} if self.query.assignment is not None else {}
        return with_query(course_path(self.course_id, "gradebook.csv"), narrowed)

    def to(self, page: str, query: table.TableQuery) -> str:
        """A page of the course with ``query``'s filters."""
        return with_query(course_path(self.course_id, page), query.differences())


def scope_of(course: CourseStaff, session: SessionDep, assignment: AssignmentId = None) -> CourseScope:
    """The scope the page covers: the course in the path, narrowed to the ``assignment`` in the query."""
    return course_scope(session=session, course_id=course.course.id, assignment_id=assignment)


Scope = Annotated[CourseScope, Depends(scope_of)]


def table_params(
    exercise: str = "", q: str = "", show: str = "all", sort: str = "name", order: str = "asc", page: PageText = "1"
) -> dict[str, str]:
    """The learners' table's query-string parameters, as given (the service fills in defaults)."""
    return {"exercise": exercise, "q": q, "show": show, "sort": sort, "order": order, "page": page}


TableParams = Annotated[dict[str, str], Depends(table_params)]


def _query(session: Session, scope: CourseScope, params: dict[str, str]) -> tuple[columns.Columns, Any]:
    cols = columns.columns(session=session, scope=scope)
    return cols, table.table_query(session=session, cols=cols, **params)


# Each statistic's meaning, shown beside it: an instructor should not need a tooltip or a manual.
STATISTIC_MEANINGS = {
    "Facility": "the share of answers that were right (low = hard).",
    "Discrimination": "how much more often learners who did well on the rest of the quiz got this one right "
    "(near 0 = it does not tell them apart; below 0 = check the question).",
}


def overview_charts(figures: stats.Dashboard, links: TableLinks) -> list[charts.Chart]:
    """The dashboard's figures as charts (the quiz one is one chart per question)."""
    exercise_slug = figures.exercise_slug or ""
    drawn = [
        charts.column_chart(
            "chart-days",
            "Submissions per day",
            "How many submissions learners sent on each day (days run midnight to midnight UTC), "
            "over the last 30 days with any.",
            [(times.day_text(day.day), day.count) for day in figures.submissions_per_day],
            value_heading="Submissions",
            drawn_labels=[times.short_day_text(day.day) for day in figures.submissions_per_day],
        ),
        charts.column_chart(
            "chart-scores",
            "Best score per learner",
            "How many learners have their best score in each band, as a share of full marks.",
            [(bucket.label, bucket.count) for bucket in figures.score_distribution],
            value_heading="Learners",
            column_width=40,
        ),
        charts.row_chart(
            "chart-cases",
            "Failure rate per case",
            "Failure rate: the share of learners whose latest graded submission fails each case, the most "
            "failed first. The list under the chart opens the learners who fail each case.",
            [(case.label, round(100 * case.rate, 1)) for case in figures.case_failures],
            maximum=100,
            unit="%",
            value_heading="Failed",
            links=[
                _cohort_link(
                    links.course_id, "cases", {"exercise": exercise_slug, "case": case.name}, links.query.assignment
                )
                for case in figures.case_failures
            ],
        ),
    ]
    for question in figures.question_breakdowns:
        # Options are drawn by letter; their texts are too long for the chart and go in its legend.
        drawn.append(
            charts.row_chart(
                f"chart-question-{question.question_id}",
                f"Quiz question {question.position}: answers per option",
                question.prompt,
                [(_option_label(option), option.count) for option in question.options],
                value_heading="Answers",
                emphasized=[index for index, option in enumerate(question.options) if option.is_correct],
                emphasis_note=f"{question.answers} answer{'s' if question.answers != 1 else ''}; "
                "the right option is drawn in green and labelled “right”.",
                legend=[(option.label, option.text) for option in question.options],
                statistics=_item_statistics(question),
                notes=question.notes,
            )
        )
    return drawn


def _item_statistics(question: stats.QuestionBreakdown) -> list[tuple[str, str]]:
    facility = "no answers yet" if question.facility is None else f"{100 * question.facility:.0f}% right"
    discrimination = "not measurable yet" if question.discrimination is None else f"{question.discrimination:+.2f}"
    return [("Facility", facility), ("Discrimination", discrimination)]


def _option_label(option: stats.OptionCount) -> str:
    return f"{option.label} (right)" if option.is_correct else option.label


def _cohort_link(course_id: int, page: str, values: dict[str, Any], assignment: int | None) -> str:
    if assignment is not None:
        values = {**values, "assignment": assignment}
    return with_query(course_path(course_id, page), values)


def _begin_figures(session: Session, scope: CourseScope, links: TableLinks) -> Callable[[], stats.Dashboard]:
    """The overview figures of the table's exercise, started on connections of their own (see ``stats.begin_dashboard``)."""
    return stats.begin_dashboard(
        session=session, scope=scope, exercise_slug=links.query.exercise or None, concurrent=True
    )


def _overview_context(figures: stats.Dashboard, scope: CourseScope, links: TableLinks) -> dict[str, Any]:
    exercise_slug = links.query.exercise
    return {
        "charts": overview_charts(figures, links),
        "error_kinds": figures.error_kinds,
        "mistakes": figures.common_mistakes,
        "exercise_slug": exercise_slug,
        "statistic_meanings": STATISTIC_MEANINGS,
        "mistake_link": lambda cause: _cohort_link(
            scope.course_id, "mistakes", {"exercise": exercise_slug, "cause": cause}, scope.assignment_id
        ),
    }


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request,
    course: CourseStaff,
    scope: Scope,
    session: SessionDep,
    settings: SettingsDep,
    params: TableParams,
) -> Response:
    """A summary line, common mistakes and the figures, then the learners in a paged table, with live updates."""
    cols, query = _query(session, scope, params)
    links = TableLinks(course_id=scope.course_id, query=query)
    exercise = next((item for item in cols.exercises if item.slug == query.exercise), None)
    # Where the database is a server, the table with the summary line and the slowest figures are
    # started first, each on a connection of its own; this session reads the rest meanwhile.
    table_and_summary = stats.read_aside(
        session,
        lambda own: (
            table.table(session=own, query=query, cols=cols, settings=settings),
            table.summary(session=own, scope=scope, exercise=exercise, quiz=table.shown_quiz(cols)),
        ),
    )
    figures = _begin_figures(session, scope, links)
    context: dict[str, Any] = {
        "shows": table.SHOWS,
        "course": course.course,
        "access": course,
        "links": links,
        "assignments": courses.assignments(session=session, course_id=scope.course_id),
        "join_code": courses.join_code_of(course.course, settings),
        "lms_linked": lti_overview.is_linked(session=session, course_id=scope.course_id),
    }
    context.update(_overview_context(figures(), scope, links))
    context["table"], context["summary"] = table_and_summary()
    return render(request, "dashboard.html", context)


@router.get("/dashboard/overview", response_class=HTMLResponse)
def dashboard_overview(
    request: Request, course: CourseStaff, scope: Scope, session: SessionDep, params: TableParams, since: Cursor = ""
) -> Response:
    """The overview figures alone, for live updates: 204 when nothing changed after ``since``."""
    if since and not cursor.has_changed(session=session, course_id=scope.course_id, since=since):
        return Response(status_code=204)
    _cols, query = _query(session, scope, params)
    latest = cursor.current_cursor(session=session, course_id=scope.course_id)
    links = TableLinks(course_id=scope.course_id, query=query)
    figures = _begin_figures(session, scope, links)()
    return render(
        request, "_overview.html", _overview_context(figures, scope, links), headers={"X-Live-Cursor": latest}
    )


@router.get("/dashboard/rows", response_class=HTMLResponse)
def dashboard_rows(
    request: Request, course: CourseStaff, scope: Scope, session: SessionDep, settings: SettingsDep, params: TableParams
) -> Response:
    """One page of the table's rows alone."""
    cols, query = _query(session, scope, params)
    page = table.table(session=session, query=query, cols=cols, settings=settings)
    return render(request, "_gradebook_rows.html", {"table": page, "course_id": scope.course_id})


def _changes_json(
    session: Session, settings: Settings, scope: CourseScope, params: dict[str, str], since: str
) -> dict[str, Any]:
    if since and not cursor.has_changed(session=session, course_id=scope.course_id, since=since):
        # The common case, and the cheap one: one row read by its key.
        return {"cursor": since, "changed": 0, "rows": []}
    cols, query = _query(session, scope, params)
    found = changes.changes(session=session, since=since, query=query, cols=cols, settings=settings)
    row_template = templates.get_template("_gradebook_row.html")
    context = {
        "exercise_slug": query.exercise,
        "quiz": table.shown_quiz(cols),
        "course_id": scope.course_id,
    }
    return {
        "cursor": found.cursor,
        "changed": found.changed,
        "rows": [{"user_id": row.user_id, "html": row_template.render(row=row, **context)} for row in found.rows],
    }


@router.get("/dashboard/changes")
def dashboard_changes(
    course: CourseStaff,
    scope: Scope,
    session: SessionDep,
    settings: SettingsDep,
    params: TableParams,
    since: Cursor = "",
) -> JSONResponse:
    """The rows of the course's learners whose results changed after ``since`` (the page replaces them in place)."""
    return JSONResponse(_changes_json(session, settings, scope, params, since))


EVENTS_MAX_SECONDS = 300
"""A dashboard's event stream ends after this long; the browser reconnects by itself."""


@router.get("/dashboard/events")
async def dashboard_events(
    request: Request, course_id: RowId, params: TableParams, since: str = "", assignment: AssignmentId = None
) -> Response:
    """The table's changes pushed as Server-Sent Events (``changes``, the same data as ``/changes``)."""
    engine = request.app.state.engine
    settings = request.app.state.settings
    slots = events.slots_of(request.app)
    try:
        access = await page_stream_access(request, course_staff_grant(course_id), slots)
    except (RateLimited, Overloaded) as exc:
        return events.refused(request, exc)
    with Session(engine) as session:
        scope = course_scope(session=session, course_id=course_id, assignment_id=assignment)
    seen = {"since": since}

    def check() -> dict[str, Any]:
        with Session(engine) as session:
            data = _changes_json(session, settings, scope, params, seen["since"])
        seen["since"] = data["cursor"]
        return data

    return events.stream(
        request,
        events.watch(
            check=check,
            render=lambda data: ("changes", data),
            finished=lambda data: False,
            keys=(ANY_SUBMISSION, COURSE),
            access=access,
            slots=slots,
            changes=submission_changes,
            max_seconds=EVENTS_MAX_SECONDS,
        ),
        slots=slots,
        user_id=access.user_id,
    )


@router.get("/gradebook.csv")
def gradebook_csv(course: CourseStaff, scope: Scope, session: SessionDep, settings: SettingsDep) -> Response:
    """The course's gradebook as CSV, one row per learner, sent as it is read."""
    stamp = times.file_stamp(datetime.now(UTC))
    audit.record(
        session=session,
        actor=course.user,
        action="gradebook.export",
        course_id=scope.course_id,
        target=f"gradebook of course {scope.course_id} (CSV)",
    )
    session.commit()
    return StreamingResponse(
        export.iter_csv(session=session, scope=scope, settings=settings),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="gradebook-{scope.course_id}-{stamp}.csv"'},
    )


def _cohort_page(request: Request, cohort: learners.Cohort, scope: CourseScope, link: str) -> Response:
    back = _cohort_link(scope.course_id, "dashboard", {"exercise": cohort.exercise.slug}, scope.assignment_id)
    context = {"cohort": cohort, "page_link": link, "course_id": scope.course_id, "dashboard_link": back}
    return render(request, "cohort.html", context)


@router.get("/cases", response_class=HTMLResponse)
def case_learners(
    request: Request,
    course: CourseStaff,
    scope: Scope,
    session: SessionDep,
    settings: SettingsDep,
    exercise: str,
    case: Annotated[str, Query(max_length=200)],
    page: PageNumber = 1,
) -> Response:
    """The course's learners whose latest graded submission fails one case."""
    found = learners.failing_case(
        session=session, scope=scope, exercise_slug=exercise, case_name=case, page=page, settings=settings
    )
    link = _cohort_link(scope.course_id, "cases", {"exercise": exercise, "case": case}, scope.assignment_id)
    return _cohort_page(request, found, scope, link)


@router.get("/mistakes", response_class=HTMLResponse)
def mistake_learners(
    request: Request,
    course: CourseStaff,
    scope: Scope,
    session: SessionDep,
    settings: SettingsDep,
    exercise: str,
    cause: Annotated[str, Query(max_length=64)],
    page: PageNumber = 1,
) -> Response:
    """The course's learners whose latest graded submission makes one kind of mistake."""
    found = learners.with_mistake(
        session=session, scope=scope, exercise_slug=exercise, cause=cause, page=page, settings=settings
    )
    link = _cohort_link(scope.course_id, "mistakes", {"exercise": exercise, "cause": cause}, scope.assignment_id)
    return _cohort_page(request, found, scope, link)


@router.get("/learners/{user_id}", response_class=HTMLResponse)
def learner_page(
    request: Request,
    user_id: RowId,
    course: CourseStaff,
    scope: Scope,
    session: SessionDep,
    submission: int | None = None,
) -> Response:
    """One learner of the course: their submissions (one shown in full: source, report, output) and quiz attempts."""
    detail = learners.learner_detail(session=session, scope=scope, user_id=user_id, shown_id=submission)
    attempts = [
        quizzes.get_attempt(session=session, attempt_id=attempt_id, user=course.user)
        for attempt_id in detail.attempt_ids
    ]
    shown = (
        visibility.report_for(session, submission=detail.shown, viewer=course.user)
        if detail.shown is not None
        else None
    )
    return render(
        request,
        "learner.html",
        {
            "detail": detail,
            "course_id": scope.course_id,
            "access": course,
            "report": Report.from_dict(shown) if shown else None,
            "checked_report": shown,
            "attempt": submissions.attempt_number(session=session, submission=detail.shown) if detail.shown else None,
            "attempts": attempts,
        },
    )


# --- regrading --------------------------------------------------------------------------


@router.post("/submissions/{submission_id}/regrade")
def regrade_submission(
    request: Request, submission_id: RowId, course: CourseStaff, scope: Scope, session: SessionDep
) -> Response:
    """Grade one submission of the course's again, then follow its progress."""
    batch = regrade.regrade_submission(
        session=session,
        submission_id=submission_id,
        requested_by=course.user,
        enqueue=request.app.state.enqueue_regrade,
        scope=scope,
    )
    return RedirectResponse(f"/instructor/regrades/{batch.id}", status_code=303)


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@router.get("/exercises/{slug}/regrade", response_class=HTMLResponse)
def confirm_regrade_exercise(
    request: Request, slug: str, course: CourseStaff, scope: Scope, session: SessionDep
) -> Response:
    """Ask before grading every submission the course's learners made to an exercise again, with how many."""
    learners.scoped_exercise(session=session, scope=scope, slug=slug)
    plan = regrade.plan_exercise(session=session, exercise_slug=slug, requested_by=course.user, scope=scope)
    dashboard = with_query(course_path(scope.course_id), {"exercise": plan.exercise_slug})
    if not plan.submissions:
        context = {
            "title": "Nothing to regrade: no submissions yet",
            "lines": [
                f"No learner of this course has handed in {plan.exercise_title} yet, so there is nothing to "
                "grade again.",
                "Once submissions arrive, this page offers to regrade them.",
            ],
            "action": "",
            "button": None,
            "cancel": (dashboard, "Back to the dashboard"),
        }
        return render(request, "confirm.html", context)
    count = plural(plan.submissions, "submission")
    context = {
        "title": f"Regrade every submission of {plan.exercise_title} in {course.course.title}?",
        "lines": [
            f"{count} from {plural(plan.learners, 'learner')} of this course go back in the grading queue "
            "and are graded again with the exercise as it is now.",
            "Each keeps its result on show until its new one replaces it; a new score may be higher or lower. "
            "Learners' new uploads are graded before these. You can follow the progress, and at the end "
            "see which scores went up or down.",
        ],
        "action": course_path(scope.course_id, f"exercises/{plan.exercise_slug}/regrade"),
        "button": f"Regrade all {count}",
        "cancel": (dashboard, "Keep the current results and go back to the dashboard"),
    }
    return render(request, "confirm.html", context)


@router.post("/exercises/{slug}/regrade")
def regrade_exercise(
    request: Request,
    slug: str,
    course: CourseStaff,
    scope: Scope,
    session: SessionDep,
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Grade every submission the course's learners made to an exercise again, then follow the progress."""
    learners.scoped_exercise(session=session, scope=scope, slug=slug)
    plan = regrade.plan_exercise(session=session, exercise_slug=slug, requested_by=course.user, scope=scope)
    if confirm != CONFIRMED or not plan.submissions:
        # Unconfirmed, or nothing to regrade: the question page says which.
        return RedirectResponse(
            course_path(scope.course_id, f"exercises/{plan.exercise_slug}/regrade"), status_code=303
        )
    batch = regrade.regrade_exercise(
        session=session,
        exercise_slug=slug,
        requested_by=course.user,
        enqueue=request.app.state.enqueue_regrade,
        scope=scope,
    )
    return RedirectResponse(f"/instructor/regrades/{batch.id}", status_code=303)
