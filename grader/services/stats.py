"""Figures for the instructor's dashboard, from SQL aggregates over small indexed rows.

Nothing here reads a report: the per-case outcomes, diagnoses and standings
that ``standings.record_result`` stores with every result are enough. Case
failures, error kinds and common mistakes describe each learner's latest
graded submission (where the class stands now); submissions per day count
every submission. Every figure covers one course (a ``CourseScope``): its
learners only, never its staff trying things out, on the work made for its
assignments (the standings of that course; never a repeated term's work).

Quiz item statistics follow classical test theory, as Moodle's quiz report
does, over every learner attempt at the quiz:

* facility: the share of answers that were right;
* discrimination: the correlation between getting this question right and
  the score on the rest of the attempt (the attempt's score minus this
  question). Near 0 the question does not separate stronger from weaker
  learners; below 0 the stronger ones get it wrong more often, which usually
  means the question or its key is broken.

The sums behind both are SQL aggregates; only the final formula runs here.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Engine, Integer, Select, and_, case, cast, func, true
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from grader.grading.cases import case_descriptions
from grader.grading.spec import ExerciseSpec
from grader.models import (
    AttemptAnswer,
    CaseOutcome,
    Choice,
    DiagnosisRow,
    Exercise,
    ExerciseStanding,
    Question,
    Quiz,
    QuizAttempt,
    Submission,
)
from grader.services.scope import CourseScope

SCORE_BUCKETS = 10
DAYS_SHOWN = 30
COMMON_MISTAKES_SHOWN = 10
MIN_ANSWERS_FOR_NOTES = 10
FIGURE_READERS = 4
"""Connections a process's dashboards read their table and figures on, beside the request's own."""

T = TypeVar("T")
"""Below this many answers a question's statistics are noise: no notes are written."""


@dataclass(frozen=True)
class DayCount:
    """Submissions made on one day (UTC)."""

    day: date
    count: int


@dataclass(frozen=True)
class ScoreBucket:
    """Learners whose best score falls in [low, high) percent (the last bucket includes 100)."""

    low: int
    high: int
    count: int

    @property
    def label(self) -> str:
        """The range as text, e.g. '90–100%'."""
        return f"{self.low}–{self.high}%"


@dataclass(frozen=True)
class CaseFailure:
    """How many learners' latest graded submission fails one case, of those whose latest ran it."""

    name: str
    failed: int
    total: int
    description: str = ""

    @property
    def label(self) -> str:
        """What the case checks, in the exercise's words; its name when the exercise no longer has it."""
        return self.description or self.name

    @property
    def rate(self) -> float:
        """Failed share, 0 to 1."""
        return self.failed / self.total if self.total else 0.0


@dataclass(frozen=True)
class CommonMistake:
    """A kind of mistake (a diagnosis's cause) and how many learners' latest graded submission makes it.

    title, fix: the wording most of those learners got (one mistake is worded after the
    learner's own key, line or value, so titles of one cause differ).
    """

    cause: str
    title: str
    fix: str
    learners: int


@dataclass(frozen=True)
class OptionCount:
    """How many answers picked one option of a question."""

    choice_id: int
    label: str
    text: str
    is_correct: bool
    count: int


@dataclass(frozen=True)
class QuestionBreakdown:
    """A question's options with their counts, and its item statistics.

    facility: share of answers that were right (None without answers).
    discrimination: correlation of this question with the rest of the attempt (None when undefined).
    notes: what looks wrong with the question, in words (empty when nothing does).
    """

    quiz_slug: str
    question_id: int
    position: int
    prompt: str
    options: list[OptionCount]
    facility: float | None = None
    discrimination: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def answers(self) -> int:
        """Answers given to this question."""
        return sum(option.count for option in self.options)


@dataclass(frozen=True)
class Dashboard:
    """The overview figures for one exercise and every quiz."""

    exercise_slug: str | None
    submissions_per_day: list[DayCount]
    score_distribution: list[ScoreBucket]
    case_failures: list[CaseFailure]
    error_kinds: dict[str, int]
    common_mistakes: list[CommonMistake]
    question_breakdowns: list[QuestionBreakdown]


def dashboard(
    *, session: Session, scope: CourseScope, exercise_slug: str | None = None, concurrent: bool = False
) -> Dashboard:
    """Overview figures for one exercise of the scope (its first active one by title when none is named).

    ``concurrent``: on a database server, each figure is read on a connection of
    its own at the same time (the server works on them side by side; on
    PostgreSQL with 5,000 learners that halves the time). Only for a session
    that has written nothing: the other connections see committed rows only,
    each as of its own moment. SQLite reads them one after the other.
    """
    return begin_dashboard(session=session, scope=scope, exercise_slug=exercise_slug, concurrent=concurrent)()


def begin_dashboard(
    *, session: Session, scope: CourseScope, exercise_slug: str | None = None, concurrent: bool = False
) -> Callable[[], Dashboard]:
    """``dashboard``'s figures, started: the slow ones are read aside at once; call the result for the rest.

    Until it is called, ``session`` is free for the caller's own reads, which then
    run beside the slow figures instead of before them.
    """
    query = select(Exercise).where(col(Exercise.id).in_(scope.exercise_ids()))
    if exercise_slug is not None:
        query = query.where(col(Exercise.slug) == exercise_slug)
    else:
        query = query.where(col(Exercise.active)).order_by(col(Exercise.title), col(Exercise.id))
    exercise = session.exec(query).first()
    if exercise is None:
        return lambda: Dashboard(
            exercise_slug, [], score_distribution_empty(), [], {}, [], question_breakdowns(session=session, scope=scope)
        )

    def aside(read: Callable[[Session], T]) -> Callable[[], T]:
        if concurrent:
            return read_aside(session, read)
        result = read(session)
        return lambda: result

    # The slowest, elsewhere; the quick ones on this session when the result is called.
    failures = aside(lambda s: case_failures(session=s, exercise=exercise, scope=scope))
    per_day = aside(lambda s: submissions_per_day(session=s, exercise=exercise, scope=scope))
    mistakes = aside(lambda s: common_mistakes(session=s, exercise=exercise, scope=scope))

    def collect() -> Dashboard:
        questions = question_breakdowns(session=session, scope=scope)
        distribution = score_distribution(session=session, exercise=exercise, scope=scope)
        kinds = error_kinds(session=session, exercise=exercise, scope=scope)
        return Dashboard(
            exercise_slug=exercise.slug,
            submissions_per_day=per_day(),
            score_distribution=distribution,
            case_failures=failures(),
            error_kinds=kinds,
            common_mistakes=mistakes(),
            question_breakdowns=questions,
        )

    return collect


def read_aside(session: Session, read: Callable[[Session], T]) -> Callable[[], T]:
    """Start ``read`` on a connection of its own where the database is a server; call the result for its value.

    On SQLite (or a session bound to one connection) ``read`` runs at once on
    ``session``. Only for what a session that has written nothing would read:
    the other connection sees committed rows only.
    """
    bind = session.get_bind()
    if bind.dialect.name == "sqlite" or not isinstance(bind, Engine):
        result = read(session)
        return lambda: result

    def on_own_connection() -> T:
        with Session(bind) as own:
            return read(own)

    return _figure_readers().submit(on_own_connection).result


_readers: ThreadPoolExecutor | None = None
_readers_lock = threading.Lock()


def _figure_readers() -> ThreadPoolExecutor:
    """Threads shared by every dashboard of the process: at most this many extra connections at once."""
    global _readers
    with _readers_lock:
        if _readers is None:
            _readers = ThreadPoolExecutor(max_workers=FIGURE_READERS, thread_name_prefix="dashboard-figures")
        return _readers


def _learners_standings(exercise: Exercise, scope: CourseScope, *columns: Any) -> Select[Any]:
    """``columns`` over the exercise's standings in the scope's course, of its learners (not its staff)."""
    return (
        sa_select(*columns)
        .select_from(ExerciseStanding)
        .where(
            col(ExerciseStanding.course_id) == scope.course_id,
            col(ExerciseStanding.exercise_id) == exercise.id,
            col(ExerciseStanding.user_id).in_(scope.learner_ids()),
        )
    )


def submissions_per_day(*, session: Session, exercise: Exercise, scope: CourseScope) -> list[DayCount]:
    """Submissions per UTC day over the last ``DAYS_SHOWN`` days with any, empty days included.

    Only submissions made for the scope's assignments count, the last day with any included.
    """
    made_for_scope = col(Submission.assignment_id).in_(scope.assignment_ids())
    newest = session.exec(
        select(func.max(col(Submission.created_at))).where(col(Submission.exercise_id) == exercise.id, made_for_scope)
    ).one()
    if newest is None:
        return []
    newest_day = _as_date(newest)
    since = newest_day - timedelta(days=DAYS_SHOWN - 1)
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        day = func.date(col(Submission.created_at))
    else:
        day = func.date(func.timezone("UTC", col(Submission.created_at)))
    counts = {
        _as_date(moment): count
        for moment, count in session.exec(
            select(day, func.count())
            .where(
                col(Submission.exercise_id) == exercise.id,
                col(Submission.created_at) >= _day_start(since),
                made_for_scope,
                col(Submission.user_id).in_(scope.learner_ids()),
            )
            .group_by(day)
        )
    }
    if not counts:
        return []
    first = min(counts)
    return [
        DayCount(day=first + timedelta(days=offset), count=counts.get(first + timedelta(days=offset), 0))
        for offset in range((newest_day - first).days + 1)
    ]


def _as_date(value: str | date | datetime) -> date:
    # SQLite's date() gives text; PostgreSQL's date() a date; a timestamp may come as either database's datetime.
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        return value.date()
    return value


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def score_distribution_empty() -> list[ScoreBucket]:
    """Ten empty score bands."""
    width = 100 // SCORE_BUCKETS
    return [ScoreBucket(low=i * width, high=(i + 1) * width, count=0) for i in range(SCORE_BUCKETS)]


def score_distribution(*, session: Session, exercise: Exercise, scope: CourseScope) -> list[ScoreBucket]:
    """Learners by best score on the exercise, as a share of its full marks, in ten bands."""
    best = col(ExerciseStanding.best_score)
    # Band k holds scores with k/10 <= score/max < (k+1)/10; full marks go in the top band.
    band = case(
        *[(best * SCORE_BUCKETS >= k * exercise.max_score, k) for k in range(SCORE_BUCKETS - 1, 0, -1)],
        else_=0,
    )
    rows = session.execute(
        _learners_standings(exercise, scope, band.label("band"), func.count())
        .where(col(best).is_not(None))
        .group_by(band)
    ).all()
    counts = {int(band_number): count for band_number, count in rows}
    width = 100 // SCORE_BUCKETS
    return [ScoreBucket(low=i * width, high=(i + 1) * width, count=counts.get(i, 0)) for i in range(SCORE_BUCKETS)]


def case_failures(*, session: Session, exercise: Exercise, scope: CourseScope) -> list[CaseFailure]:
    """Per case, how many learners' latest graded submission fails it; the most failed first."""
    on_latest = col(CaseOutcome.submission_id) == col(ExerciseStanding.latest_submission_id)
    case_name: Any = col(CaseOutcome.name)
    case_passed: Any = col(CaseOutcome.passed)
    joined: Any = CaseOutcome
    joined_on: ColumnElement[bool] = on_latest
    if session.get_bind().dialect.name != "sqlite":
        # Each learner's latest outcomes through the index on (submission, name, passed): from a plain
        # join PostgreSQL hashes every outcome of every submission ever stored, where only the latest
        # count (OFFSET 0 keeps the planner from turning the lateral subquery back into that join).
        joined = sa_select(case_name, case_passed).where(on_latest).offset(0).lateral("latest_outcomes")
        case_name, case_passed, joined_on = joined.c.name, joined.c.passed, true()
    failed = func.sum(case((case_passed, 0), else_=1))
    rows = session.execute(
        _learners_standings(exercise, scope, case_name, failed, func.count())
        .join(joined, joined_on)
        .group_by(case_name)
    ).all()
    described = case_descriptions(ExerciseSpec.model_validate(exercise.spec))
    failures = [
        CaseFailure(name=name, failed=int(lost or 0), total=total, description=described.get(name, ""))
        for name, lost, total in rows
    ]
    return sorted(failures, key=lambda row: (-row.rate, -row.failed, row.name))


def error_kinds(*, session: Session, exercise: Exercise, scope: CourseScope) -> dict[str, int]:
    """How many learners' latest graded submission could not be graded case by case, per error kind."""
    kind = col(ExerciseStanding.latest_error_kind)
    rows = session.execute(
        _learners_standings(exercise, scope, kind, func.count()).where(col(kind).is_not(None)).group_by(kind)
    ).all()
    return dict(sorted(rows, key=lambda row: (-row[1], row[0])))


def common_mistakes(
    *,
    session: Session,
    exercise: Exercise,
    scope: CourseScope,
    limit: int = COMMON_MISTAKES_SHOWN,
    cause: str | None = None,
) -> list[CommonMistake]:
    """The causes of the diagnoses most learners' latest graded submission carries, most learners first.

    ``cause``: only that one (an empty list when no learner's latest submission makes it).
    """
    # Counted in SQL, so a few rows per cause come back however many learners make it: learners
    # per cause and per wording, distinct (a learner whose latest result words one cause twice
    # counts once for the cause, and once for each wording).
    found = _learners_standings(
        exercise,
        scope,
        col(DiagnosisRow.cause).label("cause"),
        col(DiagnosisRow.title).label("title"),
        col(DiagnosisRow.fix).label("fix"),
        col(ExerciseStanding.user_id).label("user_id"),
    ).join(DiagnosisRow, col(DiagnosisRow.submission_id) == col(ExerciseStanding.latest_submission_id))
    if cause is not None:
        found = found.where(col(DiagnosisRow.cause) == cause)
    rows = found.cte("found")
    per_cause = (
        sa_select(rows.c.cause, func.count(func.distinct(rows.c.user_id)).label("learners"))
        .group_by(rows.c.cause)
        .subquery("per_cause")
    )
    statement = (
        sa_select(
            rows.c.cause,
            rows.c.title,
            func.min(rows.c.fix),
            func.count(func.distinct(rows.c.user_id)),
            func.min(per_cause.c.learners),
        )
        .join(per_cause, per_cause.c.cause == rows.c.cause)
        .group_by(rows.c.cause, rows.c.title)
    )
    learners: dict[str, int] = {}
    label: dict[str, tuple[str, str, int]] = {}  # cause -> (title, fix, learners with that title)
    for code, title, fix, count, of_cause in session.execute(statement):
        learners[code] = of_cause
        kept = label.get(code)
        if kept is None or (count, kept[0]) > (kept[2], title):  # most learners, then the first title
            label[code] = (title, fix, count)
    ranked = sorted(learners, key=lambda code: (-learners[code], code))[:limit]
    return [
        CommonMistake(cause=code, title=label[code][0], fix=label[code][1], learners=learners[code]) for code in ranked
    ]


# --- quizzes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ItemSums:
    answers: int
    right: int
    rest: int
    right_rest: int
    rest_squared: int


def _answer_sums(session: Session, scope: CourseScope) -> tuple[dict[int, int], dict[int, _ItemSums]]:
    """Answers per choice, and per question the sums the item statistics need, over the scope's learners' attempts.

    One pass over the answers, grouped by question and choice: every sum adds up across a question's choices.
    """
    right = cast(case((col(AttemptAnswer.correct), 1), else_=0), Integer)
    rest = col(QuizAttempt.score) - right
    rows = session.execute(
        sa_select(
            col(AttemptAnswer.question_id),
            col(AttemptAnswer.choice_id),
            func.count(),
            func.sum(right),
            func.sum(rest),
            func.sum(right * rest),
            func.sum(rest * rest),
        )
        .join(QuizAttempt, col(QuizAttempt.id) == col(AttemptAnswer.attempt_id))
        .where(_learners_attempts(scope))
        .group_by(col(AttemptAnswer.question_id), col(AttemptAnswer.choice_id))
    ).all()
    counts: dict[int, int] = {}
    totals: dict[int, list[int]] = {}
    for question_id, choice_id, n, sx, sy, sxy, syy in rows:
        counts[choice_id] = int(n)
        added = totals.setdefault(question_id, [0, 0, 0, 0, 0])
        for index, value in enumerate((n, sx, sy, sxy, syy)):
            added[index] += int(value or 0)
    return counts, {question_id: _ItemSums(*values) for question_id, values in totals.items()}


def facility(sums: _ItemSums) -> float | None:
    """Share of answers that were right."""
    return sums.right / sums.answers if sums.answers else None


def discrimination(sums: _ItemSums) -> float | None:
    """Pearson correlation of the item (0/1) with the rest score; None when either never varies."""
    n = sums.answers
    # x is 0/1, so the sum of x squared is the sum of x.
    spread_x = n * sums.right - sums.right**2
    spread_y = n * sums.rest_squared - sums.rest**2
    if n < 2 or spread_x <= 0 or spread_y <= 0:
        return None
    return (n * sums.right_rest - sums.right * sums.rest) / math.sqrt(spread_x * spread_y)


def _notes(
    options: list[OptionCount], answers: int, item_facility: float | None, item_discrimination: float | None
) -> list[str]:
    if answers < MIN_ANSWERS_FOR_NOTES:
        return []
    notes = []
    if item_discrimination is not None and item_discrimination < 0:
        notes.append(
            "Learners who did well on the rest of the quiz got this one wrong more often than the others: "
            "check the question and which option is marked right."
        )
    unpicked = [option.label for option in options if not option.is_correct and option.count == 0]
    if unpicked:
        listed = ", ".join(unpicked)
        notes.append(
            f"Nobody picked option{'s' if len(unpicked) > 1 else ''} {listed}: "
            "a distractor nobody finds plausible makes the question easier than it looks."
        )
    if item_facility is not None and item_facility >= 1:
        notes.append("Everyone answered right: the question does not separate learners.")
    return notes


def _learners_attempts(scope: CourseScope) -> Any:
    """Attempts by the scope's learners at the scope's quizzes, made for its assignments."""
    return and_(
        col(QuizAttempt.user_id).in_(scope.learner_ids()),
        col(QuizAttempt.quiz_id).in_(scope.quiz_ids()),
        col(QuizAttempt.assignment_id).in_(scope.assignment_ids()),
    )


def question_breakdowns(
    *, session: Session, scope: CourseScope, quiz_slug: str | None = None
) -> list[QuestionBreakdown]:
    """For each active question of the scope's quizzes: answers per option, facility, discrimination and notes."""
    counts, sums = _answer_sums(session, scope)
    query = (
        select(Quiz, Question, Choice)
        .join(Question, and_(col(Question.quiz_id) == col(Quiz.id)))
        .join(Choice, col(Choice.question_id) == col(Question.id))
        .where(col(Quiz.active), col(Question.active), col(Quiz.id).in_(scope.quiz_ids()))
        .order_by(col(Quiz.title), col(Question.position), col(Choice.position))
    )
    if quiz_slug is not None:
        query = query.where(col(Quiz.slug) == quiz_slug)
    grouped: dict[int, tuple[Quiz, Question, list[OptionCount]]] = {}
    for quiz, question, choice in session.exec(query):
        grouped.setdefault(question.id, (quiz, question, []))[2].append(
            OptionCount(
                choice_id=choice.id,
                label=choice.label,
                text=choice.text,
                is_correct=choice.is_correct,
                count=counts.get(choice.id, 0),
            )
        )
    breakdowns = []
    for question_id, (quiz, question, options) in grouped.items():
        item = sums.get(question_id)
        item_facility = facility(item) if item else None
        item_discrimination = discrimination(item) if item else None
        breakdowns.append(
            QuestionBreakdown(
                quiz_slug=quiz.slug,
                question_id=question_id,
                position=question.position,
                prompt=question.prompt,
                options=options,
                facility=item_facility,
                discrimination=item_discrimination,
                notes=_notes(options, sum(o.count for o in options), item_facility, item_discrimination),
            )
        )
    return breakdowns
