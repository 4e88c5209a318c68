"""Figures for the instructor's dashboard, computed from stored submissions and attempts.

Reports are read from the ``report`` JSON stored with each graded submission;
nothing here re-runs any grading.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, func, select

from grader.models import AttemptAnswer, Choice, Exercise, Question, Quiz, QuizAttempt, Submission, User
from grader.services.submissions import best_ids

SCORE_BUCKETS = 10


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
    """How often one case failed among graded submissions that reached the cases."""

    name: str
    failed: int
    total: int

    @property
    def rate(self) -> float:
        """Failed share, 0 to 1."""
        return self.failed / self.total if self.total else 0.0


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
    """Every option of a question with its count: which distractors draw learners in."""

    quiz_slug: str
    question_id: int
    position: int
    prompt: str
    options: list[OptionCount]

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
    question_breakdowns: list[QuestionBreakdown]


def dashboard(*, session: Session, exercise_slug: str | None = None) -> Dashboard:
    """Overview figures; with ``exercise_slug`` the submission figures cover only that exercise."""
    query = select(Submission).join(User, col(User.id) == Submission.user_id).where(User.role == "learner")
    if exercise_slug is not None:
        query = query.join(Exercise, col(Exercise.id) == Submission.exercise_id).where(Exercise.slug == exercise_slug)
    submissions = list(session.exec(query.order_by(col(Submission.created_at), col(Submission.id))))
    return Dashboard(
        exercise_slug=exercise_slug,
        submissions_per_day=submissions_per_day(submissions),
        score_distribution=score_distribution(submissions),
        case_failures=case_failures(submissions),
        error_kinds=error_kinds(submissions),
        question_breakdowns=question_breakdowns(session=session),
    )


def submissions_per_day(submissions: list[Submission]) -> list[DayCount]:
    """Submissions per UTC day, oldest first, with empty days between included."""
    counts = Counter(submission.created_at.date() for submission in submissions)
    if not counts:
        return []
    first, last = min(counts), max(counts)
    days = [date.fromordinal(ordinal) for ordinal in range(first.toordinal(), last.toordinal() + 1)]
    return [DayCount(day=day, count=counts.get(day, 0)) for day in days]


def score_distribution(submissions: list[Submission]) -> list[ScoreBucket]:
    """Best score per learner and exercise, as a share of the maximum, in ten buckets."""
    buckets = [0] * SCORE_BUCKETS
    by_learner: dict[int, list[Submission]] = {}
    for submission in submissions:
        by_learner.setdefault(submission.user_id, []).append(submission)
    for own in by_learner.values():
        best = best_ids(own)
        for submission in own:
            if submission.id in best and submission.score is not None and submission.max_score:
                share = submission.score / submission.max_score
                buckets[min(int(share * SCORE_BUCKETS), SCORE_BUCKETS - 1)] += 1
    width = 100 // SCORE_BUCKETS
    return [ScoreBucket(low=i * width, high=(i + 1) * width, count=count) for i, count in enumerate(buckets)]


def case_failures(submissions: list[Submission]) -> list[CaseFailure]:
    """Failure count per case across graded reports, the most failed first."""
    failed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for submission in submissions:
        report = submission.report or {}
        if submission.status != "graded":
            continue
        for case in report.get("tests", []):
            total[case["name"]] += 1
            if case.get("status") != "passed":
                failed[case["name"]] += 1
    rows = [CaseFailure(name=name, failed=failed[name], total=count) for name, count in total.items()]
    return sorted(rows, key=lambda row: (-row.rate, -row.failed, row.name))


def error_kinds(submissions: list[Submission]) -> dict[str, int]:
    """How many graded submissions could not be graded case by case, per error kind."""
    kinds: Counter[str] = Counter()
    for submission in submissions:
        error = (submission.report or {}).get("error") if submission.status == "graded" else None
        if error:
            kinds[error.get("kind", "unknown")] += 1
    return dict(kinds.most_common())


def question_breakdowns(*, session: Session, quiz_slug: str | None = None) -> list[QuestionBreakdown]:
    """For each active question, how many answers chose each option (distractor analysis)."""
    counts = dict(
        session.exec(
            select(AttemptAnswer.choice_id, func.count())
            .join(QuizAttempt, col(QuizAttempt.id) == AttemptAnswer.attempt_id)
            .join(User, col(User.id) == QuizAttempt.user_id)
            .where(User.role == "learner")
            .group_by(col(AttemptAnswer.choice_id))
        ).all()
    )
    query = (
        select(Quiz, Question, Choice)
        .join(Question, col(Question.quiz_id) == Quiz.id)
        .join(Choice, col(Choice.question_id) == Question.id)
        .where(Quiz.active, Question.active)
        .order_by(Quiz.title, col(Question.position), col(Choice.position))
    )
    if quiz_slug is not None:
        query = query.where(Quiz.slug == quiz_slug)
    breakdowns: dict[int, QuestionBreakdown] = {}
    for quiz, question, choice in session.exec(query):
        if question.id not in breakdowns:
            breakdowns[question.id] = QuestionBreakdown(
                quiz_slug=quiz.slug,
                question_id=question.id,
                position=question.position,
                prompt=question.prompt,
                options=[],
            )
        breakdowns[question.id].options.append(
            OptionCount(
                choice_id=choice.id,
                label=choice.label,
                text=choice.text,
                is_correct=choice.is_correct,
                count=counts.get(choice.id, 0),
            )
        )
    return list(breakdowns.values())
