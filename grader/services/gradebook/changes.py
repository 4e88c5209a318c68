"""The live updates of the learners' table: the rows of the scope's learners that changed since a cursor."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from grader.config import Settings, get_settings
from grader.models import ExerciseStanding, QuizAttempt, User
from grader.services.gradebook.columns import Columns, GradebookRow, rows_for
from grader.services.gradebook.cursor import current_cursor, cursor_number, has_changed
from grader.services.gradebook.table import PAGE_SIZE, TableQuery, matching_learners, shown_quiz


@dataclass(frozen=True)
class Changes:
    """What changed since a cursor: the changed learners' rows (those the filter keeps) and the next cursor."""

    cursor: str
    rows: list[GradebookRow]
    changed: int

    @property
    def nothing(self) -> bool:
        """Whether nothing changed at all."""
        return self.changed == 0


MAX_CHANGED_ROWS = PAGE_SIZE * 4


def changes(
    *,
    session: Session,
    since: str | None,
    query: TableQuery,
    cols: Columns,
    settings: Settings | None = None,
) -> Changes:
    """Rows of the scope's learners whose results changed after ``since``; cheap when nothing did."""
    settings = settings or get_settings()
    course_id = cols.scope.course_id
    cursor = current_cursor(session=session, course_id=course_id)
    if since and not has_changed(session=session, course_id=course_id, since=since):
        return Changes(cursor=since, rows=[], changed=0)
    after = cursor_number(since)
    if after > int(cursor):  # not a cursor of this database's sequence: start again
        after = 0
    # Another course's rows carry numbers of its own sequence: only this course's rows and learners count.
    learners = cols.scope.learner_ids()
    changed_ids = set(
        session.exec(
            select(col(ExerciseStanding.user_id)).where(
                col(ExerciseStanding.change) > after,
                col(ExerciseStanding.course_id) == cols.scope.course_id,
                col(ExerciseStanding.user_id).in_(learners),
            )
        ).all()
    ) | set(
        session.exec(
            select(col(QuizAttempt.user_id)).where(
                col(QuizAttempt.change) > after,
                col(QuizAttempt.assignment_id).in_(cols.assignment_ids),
                col(QuizAttempt.user_id).in_(learners),
            )
        ).all()
    )
    exercise = next((item for item in cols.exercises if item.slug == query.exercise), None)
    quiz = shown_quiz(cols)
    statement, _key = matching_learners(query, exercise, quiz, settings.quiz_scoring, cols)
    kept = (
        sorted(set(session.exec(statement.where(col(User.id).in_(changed_ids)))))[:MAX_CHANGED_ROWS]
        if changed_ids
        else []
    )
    return Changes(
        cursor=cursor,
        rows=rows_for(session=session, user_ids=kept, cols=cols, settings=settings),
        changed=len(changed_ids),
    )
