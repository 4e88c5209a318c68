"""Where a course's page stands in the course's sequence of changes: its cursor, and whether anything changed since.

A cursor is the number of the latest change of the course a page has seen (``ChangeSequence``,
one row per course): every change of the course numbered up to it is committed, so a later
read of the changes misses none. A change in another course moves no cursor of this one.
"""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from grader.models import ChangeSequence
from grader.services.numbers import plain_number

MAX_CURSOR = 2**63 - 1


def current_cursor(*, session: Session, course_id: int) -> str:
    """A cursor for ``changes``: the number of the course's latest change (every one up to it is committed).

    A course whose sequence has not started yet (no change since each course got its own) stands
    at the highest number of any row, where its sequence will start (``standings.start_sequence``).
    """
    value = session.exec(select(col(ChangeSequence.value)).where(col(ChangeSequence.id) == course_id)).first()
    if value is None:
        value = session.exec(select(func.max(col(ChangeSequence.value)))).first()
    return str(value or 0)


def cursor_number(cursor: str | None) -> int:
    """The change number a cursor stands for (0, the start, for anything the sequence never gave)."""
    # Anything but a number the sequence could have reached (a page from before the
    # sequence, whose cursor was a time; a made-up value) counts as the start: all is sent once.
    number = plain_number(cursor or "")
    return number if number is not None and number <= MAX_CURSOR else 0


def has_changed(*, session: Session, course_id: int, since: str | None) -> bool:
    """Whether anything the course's views show changed after ``since`` (one row read by its key)."""
    return int(current_cursor(session=session, course_id=course_id)) != cursor_number(since)
