"""Instructor pages: the results dashboard, a learner's detail, CSV export, regrading, accounts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from sqlmodel import Session

from grader.config import Settings
from grader.grading.report import Report
from grader.services import (
    account_imports,
    audit,
    gradebook,
    quizzes,
    regrade,
    regrade_scores,
    stats,
    submissions,
    users,
    visibility,
)
from grader.services.errors import BadLines, InvalidInput, Overloaded, RateLimited
from grader.services.updates import ANY_SUBMISSION, COURSE, submission_changes
from grader.web import charts, events, times
from grader.web.deps import Instructor, RowId, SessionDep, SettingsDep, page_stream_access, require_instructor
from grader.web.security import verify_csrf
from grader.web.templating import render, templates

# A CSV of accounts may be this many times the size of a solution file.
CSV_SIZE_FACTOR = 4

router = APIRouter(prefix="/instructor", dependencies=[Depends(verify_csrf)], include_in_schema=False)


# A live-update cursor or a page number in a query string. Bounded in length before anything
# reads it (a cursor is a number of at most 19 digits; a page from before the sequence sent a time).
Cursor = Annotated[str, Query(max_length=64, description="Where live updates start from.")]
PageText = Annotated[str, Query(max_length=32, description="Page number, from 1.")]
PageNumber = Annotated[int, Query(ge=1, le=gradebook.MAX_CURSOR, description="Page number, from 1.")]


def table_params(
    exercise: str = "", q: str = "", show: str = "all", sort: str = "name", order: str = "asc", page: PageText = "1"
) -> dict[str, str]:
    """The learners' table's query-string parameters, as given (the service fills in defaults)."""
    return {"exercise": exercise, "q": q, "show": show, "sort": sort, "order": order, "page": page}


TableParams = Annotated[dict[str, str], Depends(table_params)]


def _table(session: Session, settings: Settings, params: dict[str, str]) -> gradebook.TablePage:
    cols = gradebook.columns(session=session)
    query = gradebook.table_query(session=session, cols=cols, **params)
    return gradebook.table(session=session, query=query, settings=settings, cols=cols)


def overview_charts(figures: stats.Dashboard, exercise_slug: str) -> list[charts.Chart]:
    """The dashboard's figures as charts (the quiz one is one chart per question)."""
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
            "Share of learners whose latest graded submission fails each case, the most failed first. "
            "The list under the chart opens the learners who fail each case.",
            [(case.label, round(100 * case.rate, 1)) for case in figures.case_failures],
            maximum=100,
            unit="%",
            value_heading="Failed",
            links=[
                "/instructor/cases?" + urlencode({"exercise": exercise_slug, "case": case.name})
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
    facility = "—" if question.facility is None else f"{100 * question.facility:.0f}% right"
    discrimination = "—" if question.discrimination is None else f"{question.discrimination:+.2f}"
    return [("Facility", facility), ("Discrimination", discrimination)]


def _option_label(option: stats.OptionCount) -> str:
    return f"{option.label} (right)" if option.is_correct else option.label


def _overview_context(session: Session, exercise_slug: str) -> dict[str, Any]:
    figures = stats.dashboard(session=session, exercise_slug=exercise_slug or None, concurrent=True)
    return {
        "charts": overview_charts(figures, exercise_slug),
        "error_kinds": figures.error_kinds,
        "mistakes": figures.common_mistakes,
        "exercise_slug": exercise_slug,
        "mistake_link": lambda cause: "/instructor/mistakes?" + urlencode({"exercise": exercise_slug, "cause": cause}),
    }


@router.get("", response_class=HTMLResponse)
def dashboard(
    request: Request, user: Instructor, session: SessionDep, settings: SettingsDep, params: TableParams
) -> Response:
    """Learners in a paged table, the overview figures and common mistakes, and live updates."""
    cols = gradebook.columns(session=session)
    query = gradebook.table_query(session=session, cols=cols, **params)
    # Where the database is a server, the table is read beside the figures.
    table = stats.read_aside(session, lambda own: gradebook.table(session=own, query=query, settings=settings))
    context: dict[str, Any] = {"shows": gradebook.SHOWS}
    context.update(_overview_context(session, query.exercise))
    context["table"] = table()
    return render(request, "dashboard.html", context)


@router.get("/overview", response_class=HTMLResponse)
def dashboard_overview(
    request: Request, user: Instructor, session: SessionDep, params: TableParams, since: Cursor = ""
) -> Response:
    """The overview figures alone, for live updates: 204 when nothing changed after ``since``."""
    if since and not gradebook.has_changed(session=session, since=since):
        return Response(status_code=204)
    cols = gradebook.columns(session=session)
    query = gradebook.table_query(session=session, cols=cols, **params)
    cursor = gradebook.current_cursor(session=session)
    return render(
        request, "_overview.html", _overview_context(session, query.exercise), headers={"X-Live-Cursor": cursor}
    )


@router.get("/rows", response_class=HTMLResponse)
def dashboard_rows(
    request: Request, user: Instructor, session: SessionDep, settings: SettingsDep, params: TableParams
) -> Response:
    """One page of the table's rows alone."""
    return render(request, "_gradebook_rows.html", {"table": _table(session, settings, params)})


def _changes_json(session: Session, settings: Settings, params: dict[str, str], since: str) -> dict[str, Any]:
    if since and not gradebook.has_changed(session=session, since=since):
        # The common case, and the cheap one: two indexed max() lookups.
        return {"cursor": since, "changed": 0, "rows": []}
    cols = gradebook.columns(session=session)
    query = gradebook.table_query(session=session, cols=cols, **params)
    found = gradebook.changes(session=session, since=since, query=query, settings=settings, cols=cols)
    row_template = templates.get_template("_gradebook_row.html")
    context = {"exercise_slug": query.exercise, "quiz": cols.quizzes[0] if cols.quizzes else None}
    return {
        "cursor": found.cursor,
        "changed": found.changed,
        "rows": [{"user_id": row.user_id, "html": row_template.render(row=row, **context)} for row in found.rows],
    }


@router.get("/changes")
def dashboard_changes(
    user: Instructor, session: SessionDep, settings: SettingsDep, params: TableParams, since: Cursor = ""
) -> JSONResponse:
    """The rows of learners whose results changed after ``since`` (the page replaces them in place)."""
    return JSONResponse(_changes_json(session, settings, params, since))


EVENTS_MAX_SECONDS = 300
"""A dashboard's event stream ends after this long; the browser reconnects by itself."""


@router.get("/events")
async def dashboard_events(request: Request, params: TableParams, since: str = "") -> Response:
    """The table's changes pushed as Server-Sent Events (``changes``, the same data as ``/changes``)."""
    engine = request.app.state.engine
    settings = request.app.state.settings
    slots = events.slots_of(request.app)
    try:
        access = await page_stream_access(request, lambda _session, user: require_instructor(user), slots)
    except (RateLimited, Overloaded) as exc:
        return events.refused(request, exc)
    cursor = {"since": since}

    def check() -> dict[str, Any]:
        with Session(engine) as session:
            data = _changes_json(session, settings, params, cursor["since"])
        cursor["since"] = data["cursor"]
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
def gradebook_csv(user: Instructor, session: SessionDep, settings: SettingsDep) -> Response:
    """The gradebook as CSV, one row per learner, sent as it is read."""
    stamp = times.file_stamp(datetime.now(UTC))
    audit.record(session=session, actor=user, action="gradebook.export", target="gradebook (CSV)")
    session.commit()
    return StreamingResponse(
        gradebook.iter_csv(session=session, settings=settings),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="gradebook-{stamp}.csv"'},
    )


def _cohort_page(request: Request, cohort: gradebook.Cohort, link: str) -> Response:
    return render(request, "cohort.html", {"cohort": cohort, "page_link": link})


@router.get("/cases", response_class=HTMLResponse)
def case_learners(
    request: Request,
    user: Instructor,
    session: SessionDep,
    settings: SettingsDep,
    exercise: str,
    case: Annotated[str, Query(max_length=200)],
    page: PageNumber = 1,
) -> Response:
    """The learners whose latest graded submission fails one case."""
    found = gradebook.failing_case(
        session=session,
        exercise=submissions.get_exercise(session=session, slug=exercise),
        case_name=case,
        page=page,
        settings=settings,
    )
    return _cohort_page(request, found, "/instructor/cases?" + urlencode({"exercise": exercise, "case": case}))


@router.get("/mistakes", response_class=HTMLResponse)
def mistake_learners(
    request: Request,
    user: Instructor,
    session: SessionDep,
    settings: SettingsDep,
    exercise: str,
    cause: Annotated[str, Query(max_length=64)],
    page: PageNumber = 1,
) -> Response:
    """The learners whose latest graded submission makes one kind of mistake."""
    found = gradebook.with_mistake(
        session=session,
        exercise=submissions.get_exercise(session=session, slug=exercise),
        cause=cause,
        page=page,
        settings=settings,
    )
    return _cohort_page(request, found, "/instructor/mistakes?" + urlencode({"exercise": exercise, "cause": cause}))


@router.get("/learners/{user_id}", response_class=HTMLResponse)
def learner_page(
    request: Request, user_id: RowId, user: Instructor, session: SessionDep, submission: int | None = None
) -> Response:
    """One learner: their submissions (one shown in full: source, report, output) and quiz attempts."""
    detail = gradebook.learner_detail(session=session, user_id=user_id, shown_id=submission)
    attempts = [
        quizzes.get_attempt(session=session, attempt_id=attempt_id, user=user) for attempt_id in detail.attempt_ids
    ]
    shown = visibility.report_for(session, submission=detail.shown, viewer=user) if detail.shown is not None else None
    return render(
        request,
        "learner.html",
        {
            "detail": detail,
            "report": Report.from_dict(shown) if shown else None,
            "checked_report": shown,
            "attempt": submissions.attempt_number(session=session, submission=detail.shown) if detail.shown else None,
            "attempts": attempts,
        },
    )


# --- accounts ---------------------------------------------------------------------------


# The confirmation pages' forms send this; a POST without it only leads back to the question.
CONFIRMED = "yes"
Confirmation = Annotated[str, Form()]


def _confirm_page(
    request: Request, *, title: str, lines: list[str], action: str, button: str | None, cancel: tuple[str, str]
) -> Response:
    """A question before an action that cannot be undone: what will happen, then one button to do it.

    Without a ``button`` the page only explains why there is nothing to do, and leads back.
    """
    context = {"title": title, "lines": lines, "action": action, "button": button, "cancel": cancel}
    return render(request, "confirm.html", context)


@router.get("/learners/{user_id}/password", response_class=HTMLResponse)
def confirm_reset_password(request: Request, user_id: RowId, user: Instructor, session: SessionDep) -> Response:
    """Ask before giving a learner a new password."""
    learner = users.resettable(session=session, user_id=user_id, by=user)
    page = f"/instructor/learners/{learner.id}"
    return _confirm_page(
        request,
        title=f"Reset the password of {learner.display_name}?",
        lines=[
            f"A new password is generated for {learner.display_name} ({learner.email}) and shown to you once, "
            "to pass on to them.",
            "Their current password stops working at once, and they are signed out of every browser "
            "and every API token.",
        ],
        action=f"{page}/password",
        button=f"Reset the password of {learner.display_name}",
        cancel=(page, f"Keep the current password and go back to {learner.display_name}"),
    )


@router.post("/learners/{user_id}/password", response_class=HTMLResponse)
def reset_password(
    request: Request, user_id: RowId, user: Instructor, session: SessionDep, confirm: Confirmation = ""
) -> Response:
    """Give a learner a new generated password, shown once; their sessions and API tokens end."""
    if confirm != CONFIRMED:
        users.resettable(session=session, user_id=user_id, by=user)
        return RedirectResponse(f"/instructor/learners/{user_id}/password", status_code=303)
    learner, password = users.reset_password(session=session, user_id=user_id, by=user)
    audit.record(
        session=session,
        actor=user,
        action="account.change",
        target=learner.email,
        details={"change": "password reset; signed out everywhere"},
    )
    session.commit()
    return render(request, "password_reset.html", {"learner": learner, "password": password})


def _users_page(
    request: Request,
    session: Session,
    *,
    created: list[users.NewAccount] | None = None,
    started: account_imports.Progress | None = None,
    error: str | None = None,
    problems: list[str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "users.html",
        {
            "accounts": users.list_users(session=session),
            "created": created or [],
            "started": started,
            "error": error,
            "problems": problems or [],
            "form": form or {"email": "", "display_name": "", "role": "learner"},
            "csv_columns": users.CSV_COLUMNS,
            "max_rows": request.app.state.settings.account_import_max_rows,
        },
        status_code=status_code,
        headers=headers,
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
    audit.record(
        session=session, actor=user, action="account.create", target=account.email, details={"role": account.role}
    )
    session.commit()
    shown = users.NewAccount(account.email, account.display_name, account.role, generated)
    return _users_page(request, session, created=[shown])


@router.post("/users/import", response_class=HTMLResponse)
def import_users(
    request: Request,
    user: Instructor,
    session: SessionDep,
    settings: SettingsDep,
    file: Annotated[UploadFile | None, File()] = None,
    csv_text: Annotated[str, Form()] = "",
) -> Response:
    """Check every line of a CSV of accounts, then create them all in the background (or none)."""
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
        lines = account_imports.check(session=session, text=text, max_rows=settings.account_import_max_rows)
        row = request.app.state.account_imports.start(session=session, lines=lines, requested_by=user)
    except BadLines as exc:
        return _users_page(request, session, error=exc.message, problems=exc.problems, status_code=422)
    except InvalidInput as exc:
        return _users_page(request, session, error=exc.message, status_code=422)
    except Overloaded as exc:
        return _users_page(
            request, session, error=exc.message, status_code=503, headers={"Retry-After": str(exc.retry_after)}
        )
    started = account_imports.progress(session=session, import_id=row.id)
    return _users_page(request, session, created=[item.shown() for item in lines], started=started, status_code=202)


@router.get("/users/imports/{import_id}", response_class=HTMLResponse)
def import_page(request: Request, import_id: RowId, user: Instructor, session: SessionDep) -> Response:
    """An import's progress, updated live (the generated passwords were shown only when it started)."""
    found = account_imports.progress(session=session, import_id=import_id)
    return render(request, "account_import.html", {"progress": found})


@router.get("/users/imports/{import_id}/status")
def import_status(import_id: RowId, user: Instructor, session: SessionDep) -> dict[str, Any]:
    """An import's progress as JSON, polled by the page's script."""
    found = account_imports.progress(session=session, import_id=import_id)
    return {
        "import_id": found.import_id,
        "total": found.total,
        "done": found.hashed,
        "status": found.status,
        "finished": found.finished,
        "message": found.message,
    }


# --- the audit log -------------------------------------------------------------------------

AUDIT_PAGE_SIZE = 200


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, user: Instructor, session: SessionDep) -> Response:
    """Instructor actions (regrades, accounts, exports), newest first."""
    events = audit.recent(session=session, limit=AUDIT_PAGE_SIZE)
    return render(request, "audit.html", {"events": events, "actions": audit.ACTIONS, "limit": AUDIT_PAGE_SIZE})


# --- regrading ---------------------------------------------------------------------------


@router.post("/submissions/{submission_id}/regrade")
def regrade_submission(request: Request, submission_id: RowId, user: Instructor, session: SessionDep) -> Response:
    """Grade one submission again, then follow its progress."""
    batch = regrade.regrade_submission(
        session=session, submission_id=submission_id, requested_by=user, enqueue=request.app.state.enqueue_regrade
    )
    return RedirectResponse(f"/instructor/regrades/{batch.id}", status_code=303)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@router.get("/exercises/{slug}/regrade", response_class=HTMLResponse)
def confirm_regrade_exercise(request: Request, slug: str, user: Instructor, session: SessionDep) -> Response:
    """Ask before grading every submission of an exercise again, with how many there are."""
    plan = regrade.plan_exercise(session=session, exercise_slug=slug, requested_by=user)
    dashboard = "/instructor?" + urlencode({"exercise": plan.exercise_slug})
    if not plan.submissions:
        return _confirm_page(
            request,
            title="Nothing to regrade: no submissions yet",
            lines=[
                f"No learner has handed in {plan.exercise_title} yet, so there is nothing to grade again.",
                "Once submissions arrive, this page offers to regrade them.",
            ],
            action="",
            button=None,
            cancel=(dashboard, "Back to the dashboard"),
        )
    count = _plural(plan.submissions, "submission")
    return _confirm_page(
        request,
        title=f"Regrade every submission of {plan.exercise_title}?",
        lines=[
            f"{count} from {_plural(plan.learners, 'learner')} go back in the grading queue "
            "and are graded again with the exercise as it is now.",
            "Each keeps its result on show until its new one replaces it; a new score may be higher or lower. "
            "Learners' new uploads are graded before these. You can follow the progress, and at the end "
            "see which scores went up or down.",
        ],
        action=f"/instructor/exercises/{plan.exercise_slug}/regrade",
        button=f"Regrade all {count}",
        cancel=(dashboard, "Keep the current results and go back to the dashboard"),
    )


@router.post("/exercises/{slug}/regrade")
def regrade_exercise(
    request: Request, slug: str, user: Instructor, session: SessionDep, confirm: Confirmation = ""
) -> Response:
    """Grade every submission of an exercise again, then follow the progress."""
    plan = regrade.plan_exercise(session=session, exercise_slug=slug, requested_by=user)
    if confirm != CONFIRMED or not plan.submissions:
        # Unconfirmed, or nothing to regrade: the question page says which.
        return RedirectResponse(f"/instructor/exercises/{plan.exercise_slug}/regrade", status_code=303)
    batch = regrade.regrade_exercise(
        session=session, exercise_slug=slug, requested_by=user, enqueue=request.app.state.enqueue_regrade
    )
    return RedirectResponse(f"/instructor/regrades/{batch.id}", status_code=303)


def _progress_message(progress: regrade.RegradeProgress) -> str:
    if progress.finished:
        return f"Done: all {_plural(progress.total, 'submission')} graded again."
    return (
        f"{progress.done} of {progress.total} graded again; {progress.pending} waiting or running. "
        "Learners' new uploads are graded first."
    )


@router.get("/regrades/{batch_id}", response_class=HTMLResponse)
def regrade_page(request: Request, batch_id: RowId, user: Instructor, session: SessionDep) -> Response:
    """A regrade's progress, updated live, and once done what it changed."""
    progress = regrade.progress(session=session, batch_id=batch_id)
    summary = regrade_scores.summary(session=session, batch_id=batch_id) if progress.finished else None
    context = {"progress": progress, "message": _progress_message(progress), "summary": summary}
    return render(request, "regrade.html", context)


@router.get("/regrades/{batch_id}/summary", response_class=HTMLResponse)
def regrade_summary(request: Request, batch_id: RowId, user: Instructor, session: SessionDep) -> Response:
    """What a regrade changed (scores up, down, unchanged, not graded), as a fragment for the live page."""
    summary = regrade_scores.summary(session=session, batch_id=batch_id)
    return render(request, "_regrade_summary.html", {"summary": summary})


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
