"""CSV imports of accounts whose passwords are hashed in the background, off the request threads.

argon2id costs about 0.14 s of a core per password, so hashing 500 of them on a
request would hold that request (and a hashing slot) for over a minute. An import
therefore goes in two steps:

1. On the request, ``check`` checks every line (no hashing) and reports every wrong
   one at once, an e-mail that another import under way is creating included;
   nothing is stored unless all are right. ``ImportRunner.start``
   then stores an ``AccountImport`` row (``running``) and hands the checked lines to
   the runner's thread; the request answers at once, showing the generated passwords.
2. The runner's thread (one per web process, one import after another; a few more may
   wait) hashes each password, taking its turn at the process's hashing slots like any
   sign-in, so sign-ins go on meanwhile. It writes its progress to the row, and at the
   end stores every account and the ``done`` status in one transaction, or none and
   ``failed`` with the reason (an e-mail taken since the check, say).

Generated passwords live only in the response that started the import and in the
runner's memory until hashed: they are never stored. A web process that stops mid-way
stores nothing; its row stops moving, and after ``INTERRUPTED_AFTER`` it reads as
failed. Every web process can show any import's progress: it is read from the database.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from grader.models import AccountImport, AccountImportStatus, Course, User, utcnow
from grader.services import audit, courses, passwords, storage, users
from grader.services.errors import InvalidInput, NotFound, Overloaded, ServiceError

log = logging.getLogger(__name__)

INTERRUPTED_AFTER = timedelta(minutes=15)
"""A running import whose progress has not moved for this long was stopped with its web process."""
PROGRESS_EVERY_SECONDS = 0.5
"""How often the hashing thread writes its progress."""
MAX_WAITING = 3
"""Imports that may wait behind the one being hashed, per web process; more are refused for now."""

INTERRUPTED = "The import was interrupted (the service restarted) before any account was stored. Import the file again."
CRASHED = "Something went wrong on our side while importing; nothing was imported. Import the file again."


class Interrupted(ServiceError):
    """The web process is stopping: the import ends before any account is stored."""


@dataclass(frozen=True)
class Progress:
    """How far an import is, as its page shows it.

    status: ``running``, ``done`` or ``failed`` (an interrupted import reads as failed).
    hashed: passwords hashed so far, of ``total``. message: what to tell the instructor.
    """

    import_id: int
    total: int
    hashed: int
    status: str
    message: str

    @property
    def finished(self) -> bool:
        """Whether the import has ended, one way or the other."""
        return self.status != "running"


def check(*, session: Session, text: str, max_rows: int) -> list[users.ImportLine]:
    """``users.check_import``, where an e-mail another import under way is creating is a wrong line too."""
    running = session.exec(
        select(AccountImport.emails).where(
            col(AccountImport.status) == "running", col(AccountImport.updated_at) >= utcnow() - INTERRUPTED_AFTER
        )
    )
    busy = {email for emails in running for email in emails.splitlines()}
    return users.check_import(session=session, text=text, max_rows=max_rows, busy=busy)


def check_follower(*, session: Session, import_id: int, user: User) -> None:
    """``NotFound`` unless the import exists and ``user`` started it or instructs the course it imports into."""
    row = session.get(AccountImport, import_id)
    if row is None or not _may_follow(session, row, user):
        raise NotFound("No such import.")


def progress(*, session: Session, import_id: int) -> Progress:
    """The progress of import ``import_id``, or ``NotFound`` (who may see it: ``check_follower``)."""
    row = session.get(AccountImport, import_id)
    if row is None:
        raise NotFound("No such import.")
    status, message = row.status, row.message
    if status == "running" and utcnow() - row.updated_at > INTERRUPTED_AFTER:
        status, message = "failed", INTERRUPTED
    if status == "running":
        message = f"{row.hashed} of {row.total} passwords set; the accounts are stored when all are."
    elif status == "done":
        message = f"Done: {row.total} account{'s' if row.total != 1 else ''} created."
    return Progress(import_id=row.id, total=row.total, hashed=row.hashed, status=status, message=message)


def _may_follow(session: Session, row: AccountImport, viewer: User) -> bool:
    if row.requested_by == viewer.id:
        return True
    if row.course_id is None:
        return False
    return courses.role_in(session=session, user=viewer, course_id=row.course_id) == "instructor"


class ImportRunner:
    """The thread of one web process that hashes imports' passwords, one import after another."""

    def __init__(self, engine: Engine, *, max_waiting: int = MAX_WAITING) -> None:
        self.engine = engine
        self.max_waiting = max_waiting
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="account-import")
        self._lock = threading.Lock()
        self._unfinished = 0
        self._stopping = threading.Event()

    def start(
        self, *, session: Session, lines: list[users.ImportLine], requested_by: User, course_id: int | None = None
    ) -> AccountImport:
        """Store a running import of ``lines`` (checked by ``check``) into ``course_id`` and start hashing them.

        The course must be one ``requested_by`` instructs (the oldest they do when None; see
        ``users.managing_course``); only an instructor account may import instructor accounts.
        """
        course = users.managing_course(session=session, by=requested_by, course_id=course_id)
        if requested_by.role != "instructor":
            staff = [item for item in lines if item.role == "instructor"]
            if staff:
                raise InvalidInput(
                    f"Line {staff[0].line}: only an instructor account can create instructor accounts; "
                    "nothing was imported.",
                    field="file",
                )
        if self._stopping.is_set():
            raise _restarting()
        with self._lock:
            if self._unfinished > self.max_waiting:
                raise Overloaded("Other imports are still being set up; try again when they are done.", retry_after=30)
            self._unfinished += 1
        try:
            emails = "\n".join(item.email for item in lines)
            row = AccountImport(requested_by=requested_by.id, course_id=course.id, total=len(lines), emails=emails)
            session.add(row)
            session.commit()
            session.refresh(row)
        except BaseException:
            self._finished()
            raise
        try:
            self._executor.submit(self._run, row.id, lines)
        except RuntimeError as exc:  # the runner was shut down in between
            self._finished()
            _end(session, row.id, "failed", INTERRUPTED)
            raise _restarting() from exc
        return row

    def shutdown(self) -> None:
        """End every import under way or waiting as interrupted (nothing of theirs is stored), then stop the thread."""
        self._stopping.set()
        self._executor.shutdown(wait=True)

    def _finished(self) -> None:
        with self._lock:
            self._unfinished -= 1

    def _run(self, import_id: int, lines: list[users.ImportLine]) -> None:
        try:
            with Session(self.engine) as session:
                try:
                    self._hash_and_store(session, import_id, lines)
                except ServiceError as exc:
                    session.rollback()
                    _end(session, import_id, "failed", INTERRUPTED if self._stopping.is_set() else exc.message)
                except Exception as exc:
                    # A full disk or a busy database is said in words; anything else is a bug, logged.
                    found = storage.trouble(exc)
                    if found is None:
                        log.exception("account import %s failed", import_id)
                    session.rollback()
                    _end(session, import_id, "failed", found.message if found else CRASHED)
        except Exception:
            # Not even the failure could be written: the row reads as interrupted later.
            log.exception("account import %s could not record its end", import_id)
        finally:
            self._finished()

    def _hash_and_store(self, session: Session, import_id: int, lines: list[users.ImportLine]) -> None:
        hashes: list[str] = []
        written = time.monotonic()
        for item in lines:
            hashes.append(passwords.hash_password(item.password, patient=self._stopping))
            if self._stopping.is_set():
                raise Interrupted(INTERRUPTED)
            if time.monotonic() - written >= PROGRESS_EVERY_SECONDS:
                _write_progress(session, import_id, len(hashes))
                written = time.monotonic()
        row = session.get(AccountImport, import_id)
        if row is None:
            raise NotFound("The import was removed before it ended.")
        course = session.get(Course, row.course_id) if row.course_id is not None else None
        if course is None:
            raise NotFound("The course was removed before the import ended; nothing was imported.")
        accounts = users.add_imported(session=session, lines=lines, hashes=hashes, course_id=course.id)
        requester = session.get(User, row.requested_by) if row.requested_by is not None else None
        audit.record(
            session=session,
            actor=requester,
            action="account.import",
            course_id=course.id,
            target=f"{len(accounts)} account(s)",
            details={
                "emails": ", ".join(account.email for account in accounts)[:1000],
                "course": courses.course_target(course),
            },
        )
        row.hashed, row.status, row.updated_at = len(hashes), "done", utcnow()
        session.add(row)
        session.commit()


def _restarting() -> Overloaded:
    return Overloaded("The service is restarting; import the file again in a minute.", retry_after=60)


def _write_progress(session: Session, import_id: int, hashed: int) -> None:
    row = session.get(AccountImport, import_id)
    if row is not None:
        row.hashed, row.updated_at = hashed, utcnow()
        session.add(row)
        session.commit()


def _end(session: Session, import_id: int, status: AccountImportStatus, message: str) -> None:
    row = session.get(AccountImport, import_id)
    if row is not None:
        row.status, row.message, row.updated_at = status, message, utcnow()
        session.add(row)
        session.commit()
