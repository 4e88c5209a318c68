"""The service's tables, as SQLModel classes.

Families follow one pattern: ``XBase`` holds the fields shared by every shape,
``XCreate`` is what a caller supplies, ``XPublic`` is what may leave the
service, and ``X(table=True)`` is the row. Timestamps are stored in UTC and
always come back timezone-aware, whatever the database. Primary keys are typed
``int`` though a new row has none until the session flushes it: the database
assigns them, and no code reads one before that.

The schema is created by the Alembic migrations in ``alembic/versions``; a test
checks that they agree with these classes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from pydantic import field_validator
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Index,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

Role = Literal["learner", "instructor"]
ROLES: tuple[Role, ...] = get_args(Role)
# A role in one course: a TA sees and regrades the course's work but manages no accounts.
CourseRole = Literal["learner", "ta", "instructor"]
COURSE_ROLES: tuple[CourseRole, ...] = get_args(CourseRole)
STAFF_ROLES: frozenset[CourseRole] = frozenset({"ta", "instructor"})
# The course the first migration's data and every account made outside a course belong to.
DEFAULT_COURSE_ID = 1
# Every id column is a 64-bit signed integer (SQLite's INTEGER, PostgreSQL's BIGINT or
# smaller): a larger number names no row, and SQLite refuses to even compare with it.
MAX_ROW_ID = 2**63 - 1

SubmissionStatus = Literal["queued", "running", "graded"]


def _one_of(column: str, values: tuple[str, ...]) -> str:
    """A CHECK expression: ``column`` holds one of ``values`` (the members of a Literal type)."""
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and read back timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use grader.models.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _timestamp(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


def _json(**kwargs: Any) -> Any:
    return Field(sa_type=JSON, **kwargs)


# --- users ------------------------------------------------------------------------


EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+$"


class UserBase(SQLModel):
    email: str = Field(max_length=254)
    display_name: str = Field(min_length=1, max_length=120)
    role: Role = Field(default="learner", sa_type=Text)


class UserCreate(UserBase):
    """What an instructor (or the sign-up form) supplies for a new account."""

    password: str = Field(min_length=8, max_length=256)

    @field_validator("email")
    @classmethod
    def _looks_like_an_email(cls, value: str) -> str:
        value = value.strip()
        if not re.fullmatch(EMAIL_PATTERN, value):
            raise ValueError("not an e-mail address")
        return value


class User(UserBase, table=True):
    """An account. ``email`` is stored lower-cased so that sign-in ignores case.

    session_generation: a session cookie is honoured only while it carries the current value.
    """

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_one_of("role", ROLES), name="role"),)

    id: int = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    password_hash: str = Field(sa_type=Text)
    session_generation: int = Field(
        default=0, description="Part of every session cookie; raised on sign-out and password change to end them all."
    )
    created_at: datetime = _timestamp(default_factory=utcnow)


AccountImportStatus = Literal["running", "done", "failed"]


class AccountImport(SQLModel, table=True):
    """A CSV import of accounts, whose passwords are hashed in the background; the accounts are stored at the end.

    total: accounts the file lists. hashed: passwords hashed so far.
    emails: the e-mails of those accounts, one a line (another import may not list them while this one runs).
    course_id: the course the accounts join (None for imports made before imports named one, or a removed course).
    status: ``running`` until every account is stored (``done``) or none is (``failed``, with ``message``).
    updated_at: the latest progress; a running import that stops moving was interrupted.
    """

    __tablename__ = "account_imports"
    __table_args__ = (CheckConstraint(_one_of("status", get_args(AccountImportStatus)), name="status"),)

    id: int = Field(default=None, primary_key=True)
    requested_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    course_id: int | None = Field(default=None, foreign_key="courses.id", ondelete="SET NULL")
    total: int
    hashed: int = 0
    emails: str = Field(default="", sa_type=Text)
    status: AccountImportStatus = Field(default="running", sa_type=Text)
    message: str = Field(default="", sa_type=Text)
    created_at: datetime = _timestamp(default_factory=utcnow)
    updated_at: datetime = _timestamp(default_factory=utcnow)


class ApiToken(SQLModel, table=True):
    """A bearer token of the JSON API, checked against this table on every request.

    Only a SHA-256 digest of the secret is kept, so a copy of the database holds no
    usable token. Revoking a token (or signing out everywhere, or changing the
    password) deletes its row, and it stops working at once.
    label: what the owner knows it by in their list: the name they gave it on the account
        page, or, for one asked for through the API, the client that asked for it.
    last_used_at: refreshed at most once a minute.
    """

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    digest: str = Field(max_length=64, unique=True)
    label: str = Field("", max_length=200)
    created_at: datetime = _timestamp(default_factory=utcnow)
    expires_at: datetime = _timestamp()
    last_used_at: datetime | None = _timestamp(default=None)


class Throttle(SQLModel, table=True):
    """Failed attempts counted under one key (an e-mail and address pair's digest, an address), for growing delays.

    Kept in the database so that every web process sees the same counts.
    key: what is counted, e.g. ``sign-in:pair:<digest>`` or ``sign-up:address:<ip>``.
    failures: failures since the count was last forgotten (after a quiet hour, or a success).
    blocked_until: no attempt under this key is looked at before then.
    """

    __tablename__ = "throttles"

    key: str = Field(primary_key=True, max_length=200)
    failures: int = 0
    last_failure_at: datetime = _timestamp(default_factory=utcnow)
    blocked_until: datetime | None = _timestamp(default=None)


class KnownSignIn(SQLModel, table=True):
    """An e-mail that signed in with its right password from a client address (stored as one digest).

    While it is remembered, the address's ceiling on failed sign-ins does not apply to that
    e-mail there: a neighbour's failures do not lock out someone who signs in from that network.
    key: a digest of the e-mail and the address's network.
    last_success_at: the latest sign-in; the pair is forgotten a while after it.
    """

    __tablename__ = "known_sign_ins"

    key: str = Field(primary_key=True, max_length=64)
    last_success_at: datetime = _timestamp(default_factory=utcnow, index=True)


# --- exercises and submissions -------------------------------------------------------


class ExerciseBase(SQLModel):
    slug: str = Field(max_length=100)
    title: str
    summary: str = Field(default="", sa_type=Text)
    max_score: float


class ExercisePublic(ExerciseBase):
    """An exercise as listed to learners."""

    id: int
    instructions: str = Field(description="Markdown text.")


class Exercise(ExerciseBase, table=True):
    """An exercise loaded from ``exercises/<slug>``; ``spec`` is the validated definition."""

    __tablename__ = "exercises"

    id: int = Field(default=None, primary_key=True)
    slug: str = Field(max_length=100, unique=True)
    instructions: str = Field(sa_type=Text)
    spec: dict[str, Any] = _json()
    spec_hash: str = Field(max_length=64)
    active: bool = Field(default=True, description="False once its folder is gone; its submissions stay.")
    updated_at: datetime = _timestamp(default_factory=utcnow)


class SubmissionPublic(SQLModel):
    """A submission as its author (or an instructor) sees it."""

    id: int
    user_id: int
    exercise_id: int
    filename: str
    status: SubmissionStatus
    score: float | None
    max_score: float
    report: dict[str, Any] | None = Field(
        description=(
            "The grading report (cases, diffs, hints, output); null until graded. A diagnosis whose fix is an "
            "edit has `fix_patch` (line, before, after) and `fix_check` (status pending, passed, failed or "
            "not_checked; cases; reason): show the edit as code only when its check passed. Each case has its "
            "`visibility`; to a learner, a case whose data is not released yet reads `hidden-N`, 'A hidden "
            "check', with its status and points and `withheld` saying why, and the output is cut where it was sent."
        )
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class Submission(SQLModel, table=True):
    """One uploaded solution and, once graded, its report.

    status: ``queued`` → ``running`` (a worker holds the lease) → ``graded``.
    seed: drawn at upload; every grading of this submission replays the same random cases.
    lease_token/lease_expires_at: which worker may store the result, and until when.
    enqueued_at: when a grading task was last sent; the sweep resends stale ones.
    infra_retries: gradings lost to the grader's own failures (never the learner's).
    counts_toward_limit: False once an infrastructure failure hit it, so it costs no attempt.
    """

    __tablename__ = "submissions"
    __table_args__ = (
        CheckConstraint(_one_of("status", get_args(SubmissionStatus)), name="status"),
        Index("ix_submissions_user_id_created_at", "user_id", "created_at"),
        Index("ix_submissions_exercise_id_status", "exercise_id", "status"),
        Index("ix_submissions_status_id", "status", "id"),
        # Covers submissions per day of learners: no submission row (with its report) is read.
        Index("ix_submissions_exercise_id_created_at_user_id", "exercise_id", "created_at", "user_id"),
        # Covers the dashboard's count of learners with late work: only late entries are read.
        Index("ix_submissions_exercise_id_late_factor_user_id", "exercise_id", "late_factor", "user_id"),
        # Submissions per day of one course's assignment, read from the index alone (the row holds the report).
        Index(
            "ix_submissions_exercise_id_assignment_id_created_at_user_id",
            "exercise_id",
            "assignment_id",
            "created_at",
            "user_id",
        ),
    )

    id: int = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    exercise_id: int = Field(foreign_key="exercises.id", ondelete="CASCADE")
    filename: str = Field(max_length=255)
    source: str = Field(sa_type=Text)
    status: SubmissionStatus = Field(default="queued", sa_type=String(16))
    score: float | None = None
    max_score: float
    report: dict[str, Any] | None = _json(default=None)
    spec_hash: str | None = Field(default=None, max_length=64)
    seed: int
    created_at: datetime = _timestamp(default_factory=utcnow)
    enqueued_at: datetime | None = _timestamp(default=None)
    started_at: datetime | None = _timestamp(default=None)
    finished_at: datetime | None = _timestamp(default=None)
    lease_token: str | None = Field(default=None, max_length=64)
    lease_expires_at: datetime | None = _timestamp(default=None)
    infra_retries: int = 0
    counts_toward_limit: bool = True
    regrade_batch_id: int | None = Field(
        default=None, foreign_key="regrade_batches.id", ondelete="SET NULL", index=True
    )
    assignment_id: int | None = Field(default=None, foreign_key="assignments.id", ondelete="SET NULL", index=True)
    late_factor: float = Field(
        default=1.0,
        sa_column_kwargs={"server_default": "1.0"},
        description="The share of the graded score that counts: below 1 for late work under a penalty.",
    )

    @property
    def counted_score(self) -> float | None:
        """The score after the late policy, or None until graded."""
        return None if self.score is None else self.score * self.late_factor


FixCheckStatus = Literal["pending", "passed", "failed", "not_checked"]


class FixCheckRow(SQLModel, table=True):
    """Whether the fix a diagnosis proposes was graded on the learner's code, and what that showed.

    One row per diagnosis with a fix, written with the report it belongs to (``pending``, or
    ``not_checked`` when the graders are busy) and updated by the low-priority check job.
    diagnosis: the diagnosis's place in the stored report's list.
    cases: how many of the cases it explains pass with the change.
    reason: why it failed or was not checked, in the learner's words.
    """

    __tablename__ = "fix_checks"
    __table_args__ = (
        CheckConstraint(_one_of("status", get_args(FixCheckStatus)), name="status"),
        UniqueConstraint("submission_id", "diagnosis"),
        # A regrade deletes a submission's rows and writes new ones: an id is never used twice, so a
        # check job of the earlier grading (it writes by row id) can never land on the new rows.
        {"sqlite_autoincrement": True},
    )

    id: int = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submissions.id", ondelete="CASCADE")
    diagnosis: int
    status: FixCheckStatus = Field(default="pending", sa_type=String(16))
    cases: int = 0
    reason: str = Field(default="", max_length=300)
    created_at: datetime = _timestamp(default_factory=utcnow)
    checked_at: datetime | None = _timestamp(default=None)


class RegradeBatch(SQLModel, table=True):
    """An instructor's request to grade submissions again; progress is read from its submissions."""

    __tablename__ = "regrade_batches"

    id: int = Field(default=None, primary_key=True)
    exercise_id: int | None = Field(default=None, foreign_key="exercises.id", ondelete="CASCADE")
    requested_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    total: int
    created_at: datetime = _timestamp(default_factory=utcnow)


RegradeOutcome = Literal["pending", "graded", "not_graded", "superseded"]


class RegradeItem(SQLModel, table=True):
    """One submission of a regrade: its score before, and after once graded again.

    old_score/old_max_score: the stored result when the regrade started (None: it had none yet).
    new_score/new_max_score: the result the regrade stored.
    outcome: ``pending`` until the new result is stored; ``graded``; ``not_graded`` when the grader
    itself failed (its score says nothing of the learner); ``superseded`` when a later regrade took
    the submission over before this one stored a result.
    """

    __tablename__ = "regrade_items"
    __table_args__ = (CheckConstraint(_one_of("outcome", get_args(RegradeOutcome)), name="outcome"),)

    batch_id: int = Field(foreign_key="regrade_batches.id", ondelete="CASCADE", primary_key=True)
    submission_id: int = Field(foreign_key="submissions.id", ondelete="CASCADE", primary_key=True, index=True)
    old_score: float | None = None
    old_max_score: float
    new_score: float | None = None
    new_max_score: float | None = None
    outcome: RegradeOutcome = Field(default="pending", sa_type=String(16))


# --- courses and assignments ----------------------------------------------------------


class Course(SQLModel, table=True):
    """A course: its members, and the assignments that place exercises and quizzes in it.

    join_code: what lets someone sign up into it ("" = no self sign-up). The default course's
    empty code falls back to the ``join_code`` setting.
    """

    __tablename__ = "courses"

    id: int = Field(default=None, primary_key=True)
    title: str = Field(min_length=1, max_length=200)
    join_code: str = Field(default="", max_length=64, index=True)
    created_at: datetime = _timestamp(default_factory=utcnow)


class CourseMember(SQLModel, table=True):
    """An account's place in a course, with its role there."""

    __tablename__ = "course_members"
    __table_args__ = (
        CheckConstraint(_one_of("role", COURSE_ROLES), name="role"),
        # The course's learners, read by every course view.
        Index("ix_course_members_course_id_role_user_id", "course_id", "role", "user_id"),
    )

    course_id: int = Field(foreign_key="courses.id", ondelete="CASCADE", primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", primary_key=True, index=True)
    role: CourseRole = Field(default="learner", sa_type=String(16))
    created_at: datetime = _timestamp(default_factory=utcnow)


LatePolicy = Literal["none", "penalty"]
PenaltyUnit = Literal["hour", "day"]
RevealAnswers = Literal["after_last_attempt", "after_due"]


def _placed_once(column: str) -> Index:
    """A unique index on (course_id, ``column``) over the rows where ``column`` is set."""
    where = text(f"{column} IS NOT NULL")
    return Index(
        f"uq_assignments_course_id_{column}",
        "course_id",
        column,
        unique=True,
        sqlite_where=where,
        postgresql_where=where,
    )


class Assignment(SQLModel, table=True):
    """An exercise and/or a quiz placed in a course, with its dates and late policy.

    opens_at / due_at: UTC; None = always open / no due date.
    late_policy: ``none`` refuses work after the due date; ``penalty`` takes ``penalty_percent``
    of the score per started ``penalty_unit`` late, never below ``penalty_floor_percent``.
    reveal_answers: when a quiz's right answers are shown to a learner.
    published: grades published (releases ``after_published`` cases).
    """

    __tablename__ = "assignments"
    __table_args__ = (
        CheckConstraint("exercise_id IS NOT NULL OR quiz_id IS NOT NULL", name="has_work"),
        CheckConstraint(_one_of("late_policy", get_args(LatePolicy)), name="late_policy"),
        CheckConstraint(_one_of("penalty_unit", get_args(PenaltyUnit)), name="penalty_unit"),
        CheckConstraint(_one_of("reveal_answers", get_args(RevealAnswers)), name="reveal_answers"),
        CheckConstraint("penalty_percent >= 0 AND penalty_percent <= 100", name="penalty_percent"),
        CheckConstraint("penalty_floor_percent >= 0 AND penalty_floor_percent <= 100", name="penalty_floor"),
        Index("ix_assignments_course_id_position", "course_id", "position"),
        # A course places each exercise and each quiz once (services/courses.py ``place``): the
        # gradebook has one column for each. The index decides between two simultaneous placements.
        *(_placed_once(column) for column in ("exercise_id", "quiz_id")),
    )

    id: int = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="courses.id", ondelete="CASCADE")
    title: str = Field(min_length=1, max_length=200)
    exercise_id: int | None = Field(default=None, foreign_key="exercises.id", ondelete="CASCADE", index=True)
    quiz_id: int | None = Field(default=None, foreign_key="quizzes.id", ondelete="CASCADE", index=True)
    opens_at: datetime | None = _timestamp(default=None)
    due_at: datetime | None = _timestamp(default=None)
    late_policy: LatePolicy = Field(default="none", sa_type=String(16))
    penalty_percent: float = 0.0
    penalty_unit: PenaltyUnit = Field(default="day", sa_type=String(8))
    penalty_floor_percent: float = 0.0
    reveal_answers: RevealAnswers = Field(default="after_last_attempt", sa_type=String(32))
    published: bool = False
    position: int = 0
    created_at: datetime = _timestamp(default_factory=utcnow)


class Extension(SQLModel, table=True):
    """A later due date for one learner on one assignment."""

    __tablename__ = "extensions"

    assignment_id: int = Field(foreign_key="assignments.id", ondelete="CASCADE", primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", primary_key=True)
    due_at: datetime = _timestamp()
    granted_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = _timestamp(default_factory=utcnow)


# --- quizzes -------------------------------------------------------------------------


class Quiz(SQLModel, table=True):
    """A quiz loaded from ``quizzes/<slug>``; ``visuals`` holds what its questions refer to."""

    __tablename__ = "quizzes"

    id: int = Field(default=None, primary_key=True)
    slug: str = Field(max_length=100, unique=True)
    title: str
    intro: str = Field(default="", sa_type=Text)
    visuals: dict[str, Any] = _json()
    content_hash: str = Field(max_length=64)
    active: bool = True
    updated_at: datetime = _timestamp(default_factory=utcnow)


class Question(SQLModel, table=True):
    """A question of a quiz; ``key`` is its stable name in the quiz file.

    hint: where to look, shown after any answer; explanation: why the right answer is right,
    shown after a wrong one; evidence: the cell of the lesson's trace that shows it
    (``{"table", "row", "column"}``, see ``content.Evidence``).
    active: False when the file no longer has it but earlier answers still refer to it.
    """

    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("quiz_id", "key"),)

    id: int = Field(default=None, primary_key=True)
    quiz_id: int = Field(foreign_key="quizzes.id", ondelete="CASCADE", index=True)
    key: str = Field(max_length=100)
    position: int
    prompt: str = Field(sa_type=Text)
    hint: str = Field(default="", sa_type=Text)
    explanation: str = Field(default="", sa_type=Text, sa_column_kwargs={"server_default": ""})
    evidence: dict[str, Any] | None = _json(default=None)
    active: bool = True


class Choice(SQLModel, table=True):
    """One option of a question; its label (A–D) is its stable key."""

    __tablename__ = "choices"
    __table_args__ = (UniqueConstraint("question_id", "label"),)

    id: int = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="questions.id", ondelete="CASCADE", index=True)
    position: int
    label: str = Field(max_length=4)
    text: str = Field(sa_type=Text)
    is_correct: bool = False
    active: bool = True


class QuizStart(SQLModel, table=True):
    """A quiz opened by a learner: the seed the order of its options is drawn from.

    The learner's latest start stays open until an attempt is made from it, so a
    reload or a second tab shows the same order; the next opening draws a new seed.
    The seed is drawn by the server, never taken from the learner.
    """

    __tablename__ = "quiz_starts"
    __table_args__ = (Index("ix_quiz_starts_user_id_quiz_id", "user_id", "quiz_id"),)

    id: int = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    quiz_id: int = Field(foreign_key="quizzes.id", ondelete="CASCADE", index=True)
    seed: int = Field(sa_type=BigInteger)
    started_at: datetime = _timestamp(default_factory=utcnow)


class QuizAttempt(SQLModel, table=True):
    """One submitted attempt at a quiz.

    change: its number in the course's sequence of changes (see ``ChangeSequence``).
    start_id: the opening it was answered on (None for attempts stored before options were
    shuffled); choice_order: per question id (as a string), the choice ids in the order
    the learner saw them (None: the file's order).
    """

    __tablename__ = "quiz_attempts"
    __table_args__ = (
        Index("ix_quiz_attempts_user_id_quiz_id", "user_id", "quiz_id"),
        Index("ix_quiz_attempts_created_at", "created_at"),
        Index("ix_quiz_attempts_change", "change"),
    )

    id: int = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    quiz_id: int = Field(foreign_key="quizzes.id", ondelete="CASCADE", index=True)
    score: int
    max_score: int
    created_at: datetime = _timestamp(default_factory=utcnow)
    change: int = Field(default=0, sa_type=BigInteger)
    start_id: int | None = Field(default=None, foreign_key="quiz_starts.id", ondelete="SET NULL", index=True)
    choice_order: dict[str, list[int]] | None = _json(default=None)
    assignment_id: int | None = Field(default=None, foreign_key="assignments.id", ondelete="SET NULL", index=True)
    late_factor: float = Field(
        default=1.0,
        sa_column_kwargs={"server_default": "1.0"},
        description="The share of the score that counts: below 1 for a late attempt under a penalty.",
    )

    @property
    def counted_score(self) -> float:
        """The score after the late policy."""
        return self.score * self.late_factor


class AttemptAnswer(SQLModel, table=True):
    """The choice made for one question in an attempt, judged when the attempt was made."""

    __tablename__ = "attempt_answers"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: int = Field(default=None, primary_key=True)
    attempt_id: int = Field(foreign_key="quiz_attempts.id", ondelete="CASCADE")
    question_id: int = Field(foreign_key="questions.id", ondelete="RESTRICT", index=True)
    choice_id: int = Field(foreign_key="choices.id", ondelete="RESTRICT", index=True)
    correct: bool


# --- what the instructor's views derive from results -----------------------------------
#
# Written in the same transaction that stores a result (services/standings.py
# ``record_result``), so the views read small indexed rows and never a report.


class SubmissionResult(SQLModel, table=True):
    """What a stored grading came to, without its report.

    error_kind: the report's error kind (``syntax``, ``infra``, ...) or None when the cases ran.
    cases_passed/cases_total: how many of the cases it ran passed.
    """

    __tablename__ = "submission_results"

    submission_id: int = Field(foreign_key="submissions.id", ondelete="CASCADE", primary_key=True)
    error_kind: str | None = Field(None, max_length=32)
    cases_passed: int = 0
    cases_total: int = 0
    graded_at: datetime = _timestamp(default_factory=utcnow)


class CaseOutcome(SQLModel, table=True):
    """One case of one graded submission: passed or not."""

    __tablename__ = "case_outcomes"
    # Covers the failure rate per case: no outcome row is read.
    __table_args__ = (Index("ix_case_outcomes_submission_id_name_passed", "submission_id", "name", "passed"),)

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submissions.id", ondelete="CASCADE")
    name: str = Field(max_length=200)
    passed: bool


class DiagnosisRow(SQLModel, table=True):
    """One diagnosis of a graded report (the report's ``diagnoses``), most important first.

    cases: names of the cases it explains; line: the learner's source line, when known.
    cause: the report's stable code for the kind of mistake; the dashboard groups by it.
    """

    __tablename__ = "diagnoses"
    __table_args__ = (Index("ix_diagnoses_submission_id_position", "submission_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submissions.id", ondelete="CASCADE")
    position: int
    title: str = Field(sa_type=Text)
    explanation: str = Field("", sa_type=Text)
    fix: str = Field("", sa_type=Text)
    cases: list[str] = _json(default_factory=list)
    line: int | None = None
    cause: str = Field("other", max_length=64)


class ExerciseStanding(SQLModel, table=True):
    """A learner on one exercise in one course, kept up to date whenever a submission is made or graded.

    It counts only the submissions made for an assignment of that course: a learner who takes
    the same exercise in two courses (a repeated term) has one standing in each, and a
    submission made for no assignment has none.
    submissions: every submission, graded or not; last_activity: when the latest was made.
    best_*: the highest score (the earliest of equals); latest_*: the most recent scored one.
    A submission being regraded keeps its old score until the new one replaces it.
    latest_error_kind: why the latest could not be graded case by case, or None.
    updated_at: when this row last changed.
    change: the number of its last change in the course's sequence (see ``ChangeSequence``);
    the dashboard's live updates follow it.
    """

    __tablename__ = "exercise_standings"
    __table_args__ = (
        Index("ix_exercise_standings_course_id_exercise_id_best_score", "course_id", "exercise_id", "best_score"),
        Index("ix_exercise_standings_updated_at", "updated_at"),
        Index("ix_exercise_standings_change", "change"),
    )

    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", primary_key=True)
    course_id: int = Field(foreign_key="courses.id", ondelete="CASCADE", primary_key=True)
    exercise_id: int = Field(foreign_key="exercises.id", ondelete="CASCADE", primary_key=True)
    submissions: int = 0
    last_activity: datetime | None = _timestamp(default=None)
    best_score: float | None = None
    best_submission_id: int | None = Field(default=None, foreign_key="submissions.id", ondelete="SET NULL")
    latest_score: float | None = None
    latest_submission_id: int | None = Field(default=None, foreign_key="submissions.id", ondelete="SET NULL")
    latest_error_kind: str | None = Field(None, max_length=32)
    updated_at: datetime = _timestamp(default_factory=utcnow)
    change: int = Field(default=0, sa_type=BigInteger)


class ChangeSequence(SQLModel, table=True):
    """One course's changes, numbered: the row whose ``id`` is the course's, ``value`` the number of its latest change.

    A transaction that changes what a course's live views show takes the course's next
    number as its last step (``standings.next_change``). Taking it locks the row until the
    commit, so numbers become visible in order: once a reader sees number N, every change
    of the course numbered below N is committed or gone. No clock is involved. A change in
    one course leaves every other course's number alone, so their pages read nothing.

    Row 1 was once the one sequence of every course (it is the default course's now): a
    course's row starts at the highest number any row has reached, so a cursor a page of
    the course holds is never ahead of the course's sequence.
    """

    __tablename__ = "change_sequence"

    id: int = Field(default=1, primary_key=True, description="The course's id.")
    value: int = Field(default=0, sa_type=BigInteger)


# --- the audit log -------------------------------------------------------------------


class AuditEvent(SQLModel, table=True):
    """One instructor action kept for the record (see ``services/audit.py``).

    actor_email: the actor's e-mail at the time, kept when the account is deleted.
    course_id: the course the action was taken in (its instructors read the entry); None for an
        action that belongs to no course (a regrade across courses from the command line).
    target: what the action was about, in words (``submission 12``, ``exercise message-echo``).
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_created_at", "created_at"),
        Index("ix_audit_events_course_id_created_at", "course_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = _timestamp(default_factory=utcnow)
    actor_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    course_id: int | None = Field(default=None, foreign_key="courses.id", ondelete="SET NULL")
    actor_email: str = Field("", max_length=254)
    action: str = Field(max_length=64)
    target: str = Field("", max_length=200)
    details: dict[str, Any] | None = _json(default=None)


# --- LTI 1.3: platforms (LMSs) that launch the grader as a tool --------------------------------
#
# See grader/services/lti/ and docs/lti.md. The course and assignment ids link LTI's contexts
# and resource links to the grader's own courses and assignments.


class LtiPlatform(SQLModel, table=True):
    """A registration of the grader with one LMS: what the LMS told us when the tool was added.

    issuer: the LMS's ``iss`` (e.g. ``https://canvas.instructure.com``); client_id: the id it gave the tool.
    auth_login_url: where the OIDC login redirects (the LMS's authorization endpoint).
    auth_token_url: where the tool gets service access tokens (AGS, NRPS).
    keyset_url: the LMS's public keys (JWKS), which verify its launches.
    auth_audience: the ``aud`` of the tool's token requests when the LMS wants other than the token URL.
    """

    __tablename__ = "lti_platforms"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: int = Field(default=None, primary_key=True)
    title: str = Field(default="", max_length=200)
    issuer: str = Field(max_length=500)
    client_id: str = Field(max_length=255)
    auth_login_url: str = Field(max_length=1000)
    auth_token_url: str = Field(max_length=1000)
    keyset_url: str = Field(max_length=1000)
    auth_audience: str = Field(default="", max_length=1000)
    created_at: datetime = _timestamp(default_factory=utcnow)


class LtiDeployment(SQLModel, table=True):
    """A deployment of the tool inside a registered LMS; launches from any other deployment are refused."""

    __tablename__ = "lti_deployments"

    platform_id: int = Field(foreign_key="lti_platforms.id", ondelete="CASCADE", primary_key=True)
    deployment_id: str = Field(max_length=255, primary_key=True)


class LtiKey(SQLModel, table=True):
    """One of the tool's RSA signing keys; its public half is published at ``/lti/jwks``.

    private_key: the PEM, encrypted with a key derived from the service's secret (``services/lti/keys.py``),
        so a copy of the database alone signs nothing.
    retired_at: None while the key signs; a retired key stays published for a while so that
        platforms holding a message it signed can still check it.
    """

    __tablename__ = "lti_keys"

    id: int = Field(default=None, primary_key=True)
    kid: str = Field(max_length=64, unique=True)
    private_key: str = Field(sa_type=Text)
    public_jwk: dict[str, Any] = _json()
    created_at: datetime = _timestamp(default_factory=utcnow)
    retired_at: datetime | None = _timestamp(default=None)


class LtiIdentity(SQLModel, table=True):
    """An LMS user (issuer + subject) and the grader account they launch as."""

    __tablename__ = "lti_identities"

    issuer: str = Field(max_length=500, primary_key=True)
    subject: str = Field(max_length=255, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    created_at: datetime = _timestamp(default_factory=utcnow)


class LtiContext(SQLModel, table=True):
    """An LMS course (issuer + deployment + context id) and the grader course it maps to.

    platform_id: the registration its latest launch came through (its token URL serves the services).
    memberships_url: the Names and Role Provisioning Service's roster URL, from the latest launch.
    lineitems_url: the Assignment and Grade Services' line items URL, from the latest launch.
    ags_scopes: the AGS scopes the LMS granted in that launch (the tool asks for no others).
    """

    __tablename__ = "lti_contexts"
    __table_args__ = (UniqueConstraint("issuer", "deployment_id", "context_id"),)

    id: int = Field(default=None, primary_key=True)
    platform_id: int = Field(foreign_key="lti_platforms.id", ondelete="CASCADE", index=True)
    issuer: str = Field(max_length=500)
    deployment_id: str = Field(max_length=255)
    context_id: str = Field(max_length=255)
    course_id: int = Field(foreign_key="courses.id", ondelete="CASCADE", index=True)
    title: str = Field(default="", max_length=500)
    memberships_url: str = Field(default="", max_length=1000)
    lineitems_url: str = Field(default="", max_length=1000)
    ags_scopes: list[str] = _json(default_factory=list)
    created_at: datetime = _timestamp(default_factory=utcnow)


class LtiResourceLink(SQLModel, table=True):
    """A link placed in an LMS course and the grader assignment it opens.

    lineitem_url: the one line item the LMS gave this link, when it gave one (AGS ``lineitem``).
    """

    __tablename__ = "lti_resource_links"
    __table_args__ = (UniqueConstraint("context_id", "resource_link_id"),)

    id: int = Field(default=None, primary_key=True)
    context_id: int = Field(foreign_key="lti_contexts.id", ondelete="CASCADE")
    resource_link_id: str = Field(max_length=255)
    assignment_id: int = Field(foreign_key="assignments.id", ondelete="CASCADE", index=True)
    lineitem_url: str = Field(default="", max_length=1000)


class LtiLineItem(SQLModel, table=True):
    """The LMS gradebook column an assignment's scores go to, in one LMS course."""

    __tablename__ = "lti_line_items"

    context_id: int = Field(foreign_key="lti_contexts.id", ondelete="CASCADE", primary_key=True)
    assignment_id: int = Field(foreign_key="assignments.id", ondelete="CASCADE", primary_key=True)
    url: str = Field(max_length=1000)


class LtiLaunchData(SQLModel, table=True):
    """What an LTI launch keeps on the server between its requests, until ``expires_at``.

    key: ``state-…`` (issued at the OIDC login, with its nonce), ``launch-…`` (a validated launch,
    read again by deep linking) or ``code-…`` (the one-time code of a launch continued in a new window).
    """

    __tablename__ = "lti_launch_data"

    key: str = Field(max_length=200, primary_key=True)
    value: dict[str, Any] = _json()
    expires_at: datetime = _timestamp(index=True)


class LtiUsedNonce(SQLModel, table=True):
    """A launch's nonce, kept until its token would have expired anyway: a second launch with it is a replay."""

    __tablename__ = "lti_used_nonces"

    issuer: str = Field(max_length=500, primary_key=True)
    nonce: str = Field(max_length=255, primary_key=True)
    expires_at: datetime = _timestamp(index=True)


LtiScoreStatus = Literal["pending", "sent", "failed"]


class LtiScoreSend(SQLModel, table=True):
    """A learner's counted score on an LTI-linked assignment, to be posted to the LMS (AGS).

    One row per assignment and learner: a newer result replaces ``score`` and makes it pending again.
    status: ``pending`` until the LMS accepted it (``sent``) or every try failed (``failed``, with ``last_error``).
    attempts: posts tried for the current score; next_try_at: when the next one may run.
    """

    __tablename__ = "lti_score_sends"
    __table_args__ = (CheckConstraint(_one_of("status", get_args(LtiScoreStatus)), name="status"),)

    assignment_id: int = Field(foreign_key="assignments.id", ondelete="CASCADE", primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", primary_key=True)
    score: float
    max_score: float
    status: LtiScoreStatus = Field(default="pending", sa_type=String(16))
    attempts: int = 0
    next_try_at: datetime | None = _timestamp(default=None)
    last_error: str = Field(default="", max_length=500)
    updated_at: datetime = _timestamp(default_factory=utcnow)
