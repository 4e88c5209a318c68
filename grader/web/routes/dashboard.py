"""Instructor pages across courses: accounts, the audit log, regrade progress; and the dashboard's former paths.

A course's own pages (dashboard, learners, CSV, regrades) are in ``courses.py``; the paths they had
here before courses send the user to the oldest course they teach.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from grader.models import MAX_ROW_ID, User
from grader.services import account_imports, audit, authority, courses, regrade, regrade_scores, users
from grader.services.errors import BadLines, InvalidInput, Overloaded
from grader.web.deps import (
    AccountManager,
    CurrentUser,
    Instructor,
    RowId,
    SessionDep,
    SettingsDep,
    ValidExercise,
    taught_course_id,
)
from grader.web.routes.course_views import plural
from grader.web.security import verify_csrf
from grader.web.templating import render

# A CSV of accounts may be this many times the size of a solution file.
CSV_SIZE_FACTOR = 4

router = APIRouter(prefix="/instructor", dependencies=[Depends(verify_csrf)], include_in_schema=False)


def _to_course(request: Request, course_id: int, page: str, *, status_code: int = 307) -> Response:
    """The same request, sent to the course's page (query string kept)."""
    query = request.url.query
    return RedirectResponse(f"/courses/{course_id}/{page}" + (f"?{query}" if query else ""), status_code=status_code)


# The course-wide pages moved under /courses/{id}/; these paths keep earlier links and bookmarks working
# by sending them to the oldest course the user teaches.
COURSE_PAGES = {
    "": "dashboard",
    "/overview": "dashboard/overview",
    "/rows": "dashboard/rows",
    "/changes": "dashboard/changes",
    "/events": "dashboard/events",
    "/gradebook.csv": "gradebook.csv",
    "/cases": "cases",
    "/mistakes": "mistakes",
}


def _course_page_redirect(page: str) -> Any:
    def redirect(request: Request, user: CurrentUser, session: SessionDep) -> Response:
        return _to_course(request, taught_course_id(session, user), page)

    redirect.__doc__ = f"The oldest course's {page.replace('/', ' ')} (the page moved there)."
    return redirect


for _old, _new in COURSE_PAGES.items():
    router.add_api_route(_old, _course_page_redirect(_new), methods=["GET"], response_class=RedirectResponse)


@router.get("/learners/{user_id}")
def learner_page(request: Request, user_id: RowId, user: CurrentUser, session: SessionDep) -> Response:
    """The learner's page in the oldest course the user teaches them in."""
    course_id = courses.course_teaching(session=session, staff=user, learner_id=user_id).id
    return _to_course(request, course_id, f"learners/{user_id}")


# --- accounts ---------------------------------------------------------------------------


# The users page's course chooser: the course new accounts join (the oldest the user instructs when left out).
CourseField = Annotated[int | None, Form(ge=1, le=MAX_ROW_ID)]

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
def confirm_reset_password(request: Request, user_id: RowId, user: CurrentUser, session: SessionDep) -> Response:
    """Ask before giving a learner of a course the user instructs a new password."""
    learner, _course = users.resettable(session=session, user_id=user_id, by=user)
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
    request: Request, user_id: RowId, user: CurrentUser, session: SessionDep, confirm: Confirmation = ""
) -> Response:
    """Give a learner of a course the user instructs a new generated password, shown once; their sessions end."""
    if confirm != CONFIRMED:
        users.resettable(session=session, user_id=user_id, by=user)
        return RedirectResponse(f"/instructor/learners/{user_id}/password", status_code=303)
    learner, password = users.reset_password(session=session, user_id=user_id, by=user)
    return render(request, "password_reset.html", {"learner": learner, "password": password})


def _users_page(
    request: Request,
    session: Session,
    user: User,
    *,
    created: list[users.NewAccount] | None = None,
    started: account_imports.Progress | None = None,
    error: str | None = None,
    problems: list[str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    taught = courses.instructed(session=session, user=user)
    fields = {"email": "", "display_name": "", "role": "learner", "course_id": str(taught[0].id) if taught else ""}
    return render(
        request,
        "users.html",
        {
            "accounts": users.list_managed(session=session, by=user),
            "courses": taught,
            "may_make_instructors": user.role == "instructor",
            "created": created or [],
            "started": started,
            "error": error,
            "problems": problems or [],
            "form": fields | (form or {}),
            "csv_columns": users.CSV_COLUMNS,
            "max_rows": request.app.state.settings.account_import_max_rows,
        },
        status_code=status_code,
        headers=headers,
    )


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, user: AccountManager, session: SessionDep) -> Response:
    """The accounts of the courses the user instructs, with forms to create one or import many from CSV."""
    return _users_page(request, session, user)


@router.post("/users", response_class=HTMLResponse)
def create_user(
    request: Request,
    user: AccountManager,
    session: SessionDep,
    email: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "learner",
    password: Annotated[str, Form()] = "",
    course_id: CourseField = None,
) -> Response:
    """Create one account in a course the user instructs; a password is generated (and shown once) when none is given."""
    generated = None if password else users.generate_password()
    data = {"email": email, "display_name": display_name, "role": role, "password": password or generated}
    try:
        account = users.create_in_course(session=session, data=data, course_id=course_id, by=user)
    except InvalidInput as exc:
        form = {"email": email, "display_name": display_name, "role": role, "course_id": str(course_id or "")}
        return _users_page(request, session, user, error=exc.message, form=form, status_code=422)
    shown = users.NewAccount(account.email, account.display_name, account.role, generated)
    chosen = {"course_id": str(course_id)} if course_id is not None else None
    return _users_page(request, session, user, created=[shown], form=chosen)


@router.post("/users/import", response_class=HTMLResponse)
def import_users(
    request: Request,
    user: AccountManager,
    session: SessionDep,
    settings: SettingsDep,
    file: Annotated[UploadFile | None, File()] = None,
    csv_text: Annotated[str, Form()] = "",
    course_id: CourseField = None,
) -> Response:
    """Check every line of a CSV of accounts, then create them all in a course the user instructs (or none)."""
    form = {"course_id": str(course_id)} if course_id is not None else None
    if file is not None and file.filename:
        limit = settings.max_upload_bytes * CSV_SIZE_FACTOR
        data = file.file.read(limit + 1)
        if len(data) > limit:
            message = f"The CSV file is larger than the {limit:,}-byte limit; nothing was imported. Import it in parts."
            return _users_page(request, session, user, error=message, form=form, status_code=413)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return _users_page(
                request, session, user, error="The CSV file is not UTF-8 text.", form=form, status_code=422
            )
    else:
        text = csv_text
    if not text.strip():
        return _users_page(
            request, session, user, error="Choose a CSV file or paste its text.", form=form, status_code=422
        )
    try:
        # The course first: someone who may not import there learns it before the file is read through.
        users.managing_course(session=session, by=user, course_id=course_id)
        lines = account_imports.check(session=session, text=text, max_rows=settings.account_import_max_rows)
        row = request.app.state.account_imports.start(
            session=session, lines=lines, requested_by=user, course_id=course_id
        )
    except BadLines as exc:
        return _users_page(request, session, user, error=exc.message, problems=exc.problems, form=form, status_code=422)
    except InvalidInput as exc:
        return _users_page(request, session, user, error=exc.message, form=form, status_code=422)
    except Overloaded as exc:
        return _users_page(
            request,
            session,
            user,
            error=exc.message,
            form=form,
            status_code=503,
            headers={"Retry-After": str(exc.retry_after)},
        )
    started = account_imports.progress(session=session, import_id=row.id)
    return _users_page(
        request,
        session,
        user,
        created=[item.shown() for item in lines],
        started=started,
        form={"course_id": str(row.course_id)},
        status_code=202,
    )


def import_follower(import_id: RowId, user: AccountManager, session: SessionDep) -> User:
    """The signed-in user if they started the import in the path or instruct its course (404 for other managers)."""
    account_imports.check_follower(session=session, import_id=import_id, user=user)
    return user


ImportFollower = Annotated[User, Depends(import_follower)]


@router.get("/users/imports/{import_id}", response_class=HTMLResponse)
def import_page(request: Request, import_id: RowId, user: ImportFollower, session: SessionDep) -> Response:
    """An import's progress, updated live (the generated passwords were shown only when it started)."""
    found = account_imports.progress(session=session, import_id=import_id)
    return render(request, "account_import.html", {"progress": found})


@router.get("/users/imports/{import_id}/status")
def import_status(import_id: RowId, user: ImportFollower, session: SessionDep) -> dict[str, Any]:
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
    """Instructor actions in the courses the user instructs, and their own, newest first."""
    events = audit.recent(session=session, viewer=user, limit=AUDIT_PAGE_SIZE)
    return render(request, "audit.html", {"events": events, "actions": audit.ACTIONS, "limit": AUDIT_PAGE_SIZE})


# --- regrading ---------------------------------------------------------------------------


@router.post("/submissions/{submission_id}/regrade")
def regrade_submission(request: Request, submission_id: RowId, user: CurrentUser, session: SessionDep) -> Response:
    """Regrade one submission in the oldest course the user teaches that it belongs to (the form moved there)."""
    course_id = authority.regrading_course(session=session, submission_id=submission_id, user=user)
    return _to_course(request, course_id, f"submissions/{submission_id}/regrade")


@router.api_route("/exercises/{slug}/regrade", methods=["GET", "POST"])
def regrade_exercise(request: Request, exercise: ValidExercise, user: CurrentUser, session: SessionDep) -> Response:
    """Regrade an exercise in the oldest course the user teaches (the question moved there)."""
    return _to_course(request, taught_course_id(session, user), f"exercises/{exercise.slug}/regrade")


def regrade_follower(batch_id: RowId, user: CurrentUser, session: SessionDep) -> User:
    """The signed-in user if they may follow the regrade in the path (403 otherwise)."""
    regrade.check_follower(session=session, batch_id=batch_id, user=user)
    return user


RegradeFollower = Annotated[User, Depends(regrade_follower)]


def _progress_message(progress: regrade.RegradeProgress) -> str:
    if progress.finished:
        return f"Done: all {plural(progress.total, 'submission')} graded again."
    return (
        f"{progress.done} of {progress.total} graded again; {progress.pending} waiting or running. "
        "Learners' new uploads are graded first."
    )


@router.get("/regrades/{batch_id}", response_class=HTMLResponse)
def regrade_page(request: Request, batch_id: RowId, user: RegradeFollower, session: SessionDep) -> Response:
    """A regrade's progress, updated live, and once done what it changed."""
    progress = regrade.progress(session=session, batch_id=batch_id)
    summary = regrade_scores.summary(session=session, batch_id=batch_id) if progress.finished else None
    context = {"progress": progress, "message": _progress_message(progress), "summary": summary}
    return render(request, "regrade.html", context)


@router.get("/regrades/{batch_id}/summary", response_class=HTMLResponse)
def regrade_summary(request: Request, batch_id: RowId, user: RegradeFollower, session: SessionDep) -> Response:
    """What a regrade changed (scores up, down, unchanged, not graded), as a fragment for the live page."""
    summary = regrade_scores.summary(session=session, batch_id=batch_id)
    return render(request, "_regrade_summary.html", {"summary": summary})


@router.get("/regrades/{batch_id}/status")
def regrade_status(batch_id: RowId, user: RegradeFollower, session: SessionDep) -> dict[str, Any]:
    """A regrade's progress as JSON, polled by the page's script."""
    progress = regrade.progress(session=session, batch_id=batch_id)
    return {
        "batch_id": progress.batch_id,
        "total": progress.total,
        "done": progress.done,
        "finished": progress.finished,
        "message": _progress_message(progress),
    }
