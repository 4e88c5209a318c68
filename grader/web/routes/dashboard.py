"""Instructor pages: the results dashboard, a learner's detail, CSV export, regrading, accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from grader.services import gradebook, quizzes, regrade, stats, users
from grader.services.errors import InvalidInput
from grader.services.gradebook import Gradebook, GradebookRow
from grader.web import charts
from grader.web.deps import Instructor, RowId, SessionDep, SettingsDep
from grader.web.routes.exercises import stored_report
from grader.web.security import verify_csrf
from grader.web.templating import render

# A CSV of accounts may be this many times the size of a solution file.
CSV_SIZE_FACTOR = 4

router = APIRouter(prefix="/instructor", dependencies=[Depends(verify_csrf)], include_in_schema=False)

SHOWS = {
    "all": "Every learner",
    "submitted": "Has submitted",
    "not-submitted": "Has not submitted",
    "full": "Full marks on this exercise",
    "not-full": "Not yet full marks on this exercise",
}


@dataclass(frozen=True)
class TableQuery:
    """How the learners' table is filtered and sorted, read from the query string."""

    exercise: str
    q: str = ""
    show: str = "all"
    sort: str = "name"
    order: str = "asc"

    def with_sort(self, key: str) -> str:
        """Query string that sorts by ``key`` (flipping the order when already sorted by it)."""
        order = "desc" if self.sort == key and self.order == "asc" else "asc"
        return self.query_string(sort=key, order=order)

    def query_string(self, **changes: str) -> str:
        from urllib.parse import urlencode

        values = {"exercise": self.exercise, "q": self.q, "show": self.show, "sort": self.sort, "order": self.order}
        values.update(changes)
        return urlencode({key: value for key, value in values.items() if value})


def _sort_value(row: GradebookRow, query: TableQuery) -> tuple[Any, str, int]:
    standing = row.exercises.get(query.exercise)
    quiz = next(iter(row.quizzes.values()), None)
    missing_last = float("-inf") if query.order == "desc" else float("inf")
    values: dict[str, Any] = {
        "name": row.display_name.lower(),
        "email": row.email,
        "best": standing.best if standing and standing.best is not None else missing_last,
        "latest": standing.latest if standing and standing.latest is not None else missing_last,
        "submissions": row.submission_count,
        "activity": row.last_activity.timestamp() if row.last_activity else missing_last,
        "quiz": quiz.score if quiz and quiz.score is not None else missing_last,
    }
    return (values.get(query.sort, values["name"]), row.display_name.lower(), row.user_id)


def _keep(row: GradebookRow, query: TableQuery) -> bool:
    needle = query.q.strip().lower()
    if needle and needle not in row.display_name.lower() and needle not in row.email.lower():
        return False
    standing = row.exercises.get(query.exercise)
    full = bool(standing and standing.best is not None and standing.best >= standing.max_score)
    return {
        "submitted": row.submission_count > 0,
        "not-submitted": row.submission_count == 0,
        "full": full,
        "not-full": not full,
    }.get(query.show, True)


def table_rows(book: Gradebook, query: TableQuery) -> list[GradebookRow]:
    """The gradebook's rows kept by the filter, in the requested order."""
    rows = [row for row in book.rows if _keep(row, query)]
    return sorted(rows, key=lambda row: _sort_value(row, query), reverse=query.order == "desc")


def table_query(
    book: Gradebook,
    exercise: str = "",
    q: str = "",
    show: str = "all",
    sort: str = "name",
    order: str = "asc",
) -> TableQuery:
    """The query, with unknown values replaced by defaults (a bad link still shows the table)."""
    slugs = [item.slug for item in book.exercises]
    if exercise not in slugs:
        # The exercise most learners worked on, so the default view is the busy one.
        counts = {slug: sum(row.exercises[slug].submissions for row in book.rows) for slug in slugs}
        exercise = max(slugs, key=lambda slug: (counts[slug], slug == "message-echo"), default="")
    return TableQuery(
        exercise=exercise,
        q=q[:200],
        show=show if show in SHOWS else "all",
        sort=sort if sort in ("name", "email", "best", "latest", "submissions", "activity", "quiz") else "name",
        order=order if order in ("asc", "desc") else "asc",
    )


def table_params(
    exercise: str = "", q: str = "", show: str = "all", sort: str = "name", order: str = "asc"
) -> dict[str, str]:
    """The table's query-string parameters, as given."""
    return {"exercise": exercise, "q": q, "show": show, "sort": sort, "order": order}


TableParams = Annotated[dict[str, str], Depends(table_params)]


def _table_context(book: Gradebook, params: dict[str, str]) -> dict[str, Any]:
    query = table_query(book, **params)
    return {
        "book": book,
        "query": query,
        "rows": table_rows(book, query),
        "shows": SHOWS,
        "exercise_row": next((item for item in book.exercises if item.slug == query.exercise), None),
        "quiz_row": book.quizzes[0] if book.quizzes else None,
    }


def overview_charts(figures: stats.Dashboard) -> list[charts.Chart]:
    """The dashboard's four figures as charts (the quiz one is one chart per question)."""
    drawn = [
        charts.column_chart(
            "chart-days",
            "Submissions per day",
            "How many submissions learners sent on each day (UTC).",
            [(day.day.strftime("%b %d"), day.count) for day in figures.submissions_per_day[-30:]],
            value_heading="Submissions",
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
            "Share of graded submissions that failed each case, the most failed first.",
            [(case.name, round(100 * case.rate, 1)) for case in figures.case_failures],
            maximum=100,
            unit="%",
            value_heading="Failed",
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
            )
        )
    return drawn


def _option_label(option: stats.OptionCount) -> str:
    return f"{option.label} (right)" if option.is_correct else option.label


def _overview_context(session: Session, exercise_slug: str) -> dict[str, Any]:
    figures = stats.dashboard(session=session, exercise_slug=exercise_slug or None)
    return {"charts": overview_charts(figures), "error_kinds": figures.error_kinds}


@router.get("", response_class=HTMLResponse)
def dashboard(
    request: Request, user: Instructor, session: SessionDep, settings: SettingsDep, params: TableParams
) -> Response:
    """Every learner in one table, the overview figures, and live updates."""
    book = gradebook.build(session=session, settings=settings)
    context = _table_context(book, params)
    context.update(_overview_context(session, context["query"].exercise))
    return render(request, "dashboard.html", context)


@router.get("/overview", response_class=HTMLResponse)
def dashboard_overview(
    request: Request, user: Instructor, session: SessionDep, settings: SettingsDep, params: TableParams
) -> Response:
    """The overview charts alone, polled by the dashboard's script for live updates."""
    book = gradebook.build(session=session, settings=settings)
    exercise = table_query(book, **params).exercise
    return render(request, "_overview.html", _overview_context(session, exercise))


@router.get("/rows", response_class=HTMLResponse)
def dashboard_rows(
    request: Request, user: Instructor, session: SessionDep, settings: SettingsDep, params: TableParams
) -> Response:
    """The table's rows alone, polled by the dashboard's script for live updates."""
    book = gradebook.build(session=session, settings=settings)
    return render(request, "_gradebook_rows.html", _table_context(book, params))


@router.get("/gradebook.csv")
def gradebook_csv(user: Instructor, session: SessionDep, settings: SettingsDep) -> Response:
    """The gradebook as CSV, one row per learner."""
    text = gradebook.to_csv(gradebook.build(session=session, settings=settings))
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="gradebook-{stamp}.csv"'},
    )


@router.get("/learners/{user_id}", response_class=HTMLResponse)
def learner_page(request: Request, user_id: RowId, user: Instructor, session: SessionDep) -> Response:
    """One learner: every submission (source, report, output) and every quiz attempt."""
    detail = gradebook.learner_detail(session=session, user_id=user_id)
    attempts = [quizzes.get_attempt(session=session, attempt_id=attempt.id, user=user) for attempt in detail.attempts]
    return render(
        request,
        "learner.html",
        {
            "detail": detail,
            "reports": {submission.id: stored_report(submission) for submission in detail.submissions},
            "attempts": attempts,
        },
    )


# --- accounts ---------------------------------------------------------------------------


def _users_page(
    request: Request,
    session: Session,
    *,
    created: list[users.ImportedUser] | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "users.html",
        {
            "accounts": users.list_users(session=session),
            "created": created or [],
            "error": error,
            "form": form or {"email": "", "display_name": "", "role": "learner"},
            "csv_columns": users.CSV_COLUMNS,
        },
        status_code=status_code,
    )


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, user: Instructor, session: SessionDep) -> Response:
    """Accounts, with forms to create one or import many from CSV."""
    return _users_page(request, session)


@router.post("/users", response_class=HTMLResponse)
def create_user(
    request: Request,
    user: Instructor,
    session: SessionDep,
    email: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "learner",
    password: Annotated[str, Form()] = "",
) -> Response:
    """Create one account; a password is generated (and shown once) when none is given."""
    generated = None if password else users.generate_password()
    data = {"email": email, "display_name": display_name, "role": role, "password": password or generated}
    try:
        account = users.create(session=session, data=data)
    except InvalidInput as exc:
        form = {"email": email, "display_name": display_name, "role": role}
        return _users_page(request, session, error=exc.message, form=form, status_code=422)
    return _users_page(request, session, created=[users.ImportedUser(user=account, password=generated)])


@router.post("/users/import", response_class=HTMLResponse)
def import_users(
    request: Request,
    user: Instructor,
    session: SessionDep,
    settings: SettingsDep,
    file: Annotated[UploadFile | None, File()] = None,
    csv_text: Annotated[str, Form()] = "",
) -> Response:
    """Create every account of a CSV file (all or none)."""
    if file is not None and file.filename:
        limit = settings.max_upload_bytes * CSV_SIZE_FACTOR
        data = file.file.read(limit + 1)
        if len(data) > limit:
            message = f"The CSV file is larger than the {limit:,}-byte limit; nothing was imported. Import it in parts."
            return _users_page(request, session, error=message, status_code=413)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return _users_page(request, session, error="The CSV file is not UTF-8 text.", status_code=422)
    else:
        text = csv_text
    if not text.strip():
        return _users_page(request, session, error="Choose a CSV file or paste its text.", status_code=422)
    try:
        created = users.import_csv(session=session, text=text)
    except InvalidInput as exc:
        return _users_page(request, session, error=exc.message, status_code=422)
    return _users_page(request, session, created=created)


# --- regrading ---------------------------------------------------------------------------


@router.post("/submissions/{submission_id}/regrade")
def regrade_submission(request: Request, submission_id: RowId, user: Instructor, session: SessionDep) -> Response:
    """Grade one submission again, then follow its progress."""
    batch = regrade.regrade_submission(
        session=session, submission_id=submission_id, requested_by=user, enqueue=request.app.state.enqueue
    )
    return RedirectResponse(f"/instructor/regrades/{batch.id}", status_code=303)


@router.post("/exercises/{slug}/regrade")
def regrade_exercise(request: Request, slug: str, user: Instructor, session: SessionDep) -> Response:
    """Grade every submission of an exercise again, then follow the progress."""
    batch = regrade.regrade_exercise(
        session=session, exercise_slug=slug, requested_by=user, enqueue=request.app.state.enqueue
    )
    return RedirectResponse(f"/instructor/regrades/{batch.id}", status_code=303)


def _progress_message(progress: regrade.RegradeProgress) -> str:
    if progress.finished:
        return f"Done: all {progress.total} submission{'s' if progress.total != 1 else ''} graded again."
    return f"{progress.done} of {progress.total} graded again; {progress.pending} waiting or running."


@router.get("/regrades/{batch_id}", response_class=HTMLResponse)
def regrade_page(request: Request, batch_id: RowId, user: Instructor, session: SessionDep) -> Response:
    """A regrade's progress, updated live."""
    progress = regrade.progress(session=session, batch_id=batch_id)
    return render(request, "regrade.html", {"progress": progress, "message": _progress_message(progress)})


@router.get("/regrades/{batch_id}/status")
def regrade_status(batch_id: RowId, user: Instructor, session: SessionDep) -> dict[str, Any]:
    """A regrade's progress as JSON, polled by the page's script."""
    progress = regrade.progress(session=session, batch_id=batch_id)
    return {
        "batch_id": progress.batch_id,
        "total": progress.total,
        "done": progress.done,
        "finished": progress.finished,
        "message": _progress_message(progress),
    }
