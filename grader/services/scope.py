"""Whose results an instructor's view covers: one course's learners, on the work its assignments place.

Every read model of the instructor's views (``gradebook``, ``stats``) and the regrade of an
exercise takes a ``CourseScope``. Its learners are the course's members with the role
``learner`` (never its staff); its exercises and quizzes are those its assignments place,
or only one assignment's when the view is filtered to it. The work it covers is what was
made for those assignments (``assignment_ids``): a learner's work on the same exercise for
another course (a term they repeat) is not this course's. Standings carry their course
(``ExerciseStanding.course_id``). These are subqueries, so a view narrows its rows in SQL
(``course_members`` and ``assignments`` are indexed by course).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from grader.models import Assignment, CourseMember
from grader.services.errors import NotFound


@dataclass(frozen=True)
class CourseScope:
    """One course, or one assignment of it (``assignment_id``), as a view's bounds."""

    course_id: int
    assignment_id: int | None = None

    def learner_ids(self) -> SelectOfScalar[int]:
        """The ids of the course's learners."""
        return select(col(CourseMember.user_id)).where(
            col(CourseMember.course_id) == self.course_id, col(CourseMember.role) == "learner"
        )

    def exercise_ids(self) -> SelectOfScalar[int | None]:
        """The ids of the exercises the course's assignments (or the one assignment) place."""
        placed = select(col(Assignment.exercise_id)).where(col(Assignment.exercise_id).is_not(None))
        return self._narrowed(placed)

    def quiz_ids(self) -> SelectOfScalar[int | None]:
        """The ids of the quizzes the course's assignments (or the one assignment) place."""
        placed = select(col(Assignment.quiz_id)).where(col(Assignment.quiz_id).is_not(None))
        return self._narrowed(placed)

    def assignment_ids(self) -> SelectOfScalar[int]:
        """The ids of the course's assignments (or the one assignment): the work made for them is the scope's."""
        placed = select(col(Assignment.id)).where(col(Assignment.course_id) == self.course_id)
        if self.assignment_id is not None:
            placed = placed.where(col(Assignment.id) == self.assignment_id)
        return placed

    def whole_course(self) -> CourseScope:
        """The same course without the assignment filter."""
        return CourseScope(course_id=self.course_id)

    def _narrowed(self, placed: SelectOfScalar[int | None]) -> SelectOfScalar[int | None]:
        placed = placed.where(col(Assignment.course_id) == self.course_id)
        if self.assignment_id is not None:
            placed = placed.where(col(Assignment.id) == self.assignment_id)
        return placed


def course_scope(*, session: Session, course_id: int, assignment_id: int | None = None) -> CourseScope:
    """The scope of a course, narrowed to one of its assignments; ``NotFound`` for another course's."""
    if assignment_id is not None:
        assignment = session.get(Assignment, assignment_id)
        if assignment is None or assignment.course_id != course_id:
            raise NotFound("This course has no such assignment.")
    return CourseScope(course_id=course_id, assignment_id=assignment_id)
