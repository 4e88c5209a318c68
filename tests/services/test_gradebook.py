"""Gradebook rows and CSV, dashboard figures, and regrading with progress."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlmodel import select

from grader.jobs import GradingWorker
from grader.models import DEFAULT_COURSE_ID, Choice, Exercise, Quiz, QuizAttempt, Submission, User, utcnow
from grader.services import quizzes, regrade, standings, stats
from grader.services.errors import InvalidInput, PermissionDenied
from grader.services.gradebook import changes, columns, cursor, export, learners, table
from grader.services.scope import CourseScope
from tests.factories import make_report, make_submission, make_user

SCOPE = CourseScope(course_id=DEFAULT_COURSE_ID)
"""The default course: where the lesson's exercise and quiz and every factory-made account are."""

SLUG = "message-cycle"


def _attempt(session, settings, user, *, correct: int):
    view = quizzes.get_for_learner(session=session, slug=SLUG)
    answers = {}
    for index, question in enumerate(view.questions):
        choices = session.exec(select(Choice).where(Choice.question_id == question.id)).all()
        wanted = index < correct
        answers[question.id] = next(c.id for c in choices if c.is_correct == wanted)
    return quizzes.submit_attempt(session=session, user=user, slug=SLUG, answers=answers, settings=settings)


def test_gradebook_rows_hold_best_latest_counts_activity_and_quiz(synced, settings):
    ada, bob = make_user(synced, name="Ada"), make_user(synced, name="Bob")
    make_user(synced, role="instructor", name="Ines")
    start = utcnow() - timedelta(days=1)
    make_submission(synced, user=ada, status="graded", score=8, created_at=start)
    make_submission(synced, user=ada, status="graded", score=5, created_at=start + timedelta(hours=1))
    make_submission(synced, user=ada, created_at=start + timedelta(hours=2))
    _attempt(synced, settings, ada, correct=2)
    _attempt(synced, settings, ada, correct=1)

    cols = columns.columns(session=synced, scope=SCOPE)
    rows = columns.rows_for(session=synced, user_ids=[ada.id, bob.id], cols=cols, settings=settings)
    assert [row.display_name for row in rows] == ["Ada", "Bob"]
    ada_row, bob_row = rows
    echo = ada_row.exercises["message-echo"]
    assert (echo.best, echo.latest, echo.submissions) == (8, 5, 3)
    assert ada_row.submission_count == 3
    assert ada_row.quizzes[SLUG].score == 2 and ada_row.quizzes[SLUG].attempts == 2
    assert ada_row.last_activity > start + timedelta(hours=2)
    assert bob_row.exercises["message-echo"].best is None and bob_row.last_activity is None

    last_counts = settings.model_copy(update={"quiz_scoring": "last"})
    again = columns.rows_for(session=synced, user_ids=[ada.id], cols=cols, settings=last_counts)
    assert again[0].quizzes[SLUG].score == 1


def test_gradebook_csv_has_one_row_per_learner_and_defuses_formulas(synced, settings):
    make_user(synced, name='=HYPERLINK("http://x")')
    learner = make_user(synced, name="Zed")
    make_submission(synced, user=learner, status="graded", score=7.5)
    rows = list(csv.reader(io.StringIO(export.to_csv(session=synced, scope=SCOPE, settings=settings))))
    header, body = rows[0], rows[1:]
    assert header[:2] == ["email", "name"] and "message-echo best" in header and f"{SLUG} score" in header
    assert len(body) == 2
    assert body[0][1].startswith("'=")
    zed = dict(zip(header, body[1], strict=False))
    assert zed["message-echo best"] == "7.5" and zed["submissions"] == "1"


def _recomputed_csv(session, settings) -> list[list[str]]:
    """The CSV's rows (header left out) worked out from the raw submissions and attempts."""
    exercises = sorted(session.exec(select(Exercise).where(Exercise.active)).all(), key=lambda e: (e.title, e.id))
    quiz_list = sorted(session.exec(select(Quiz).where(Quiz.active)).all(), key=lambda q: (q.title, q.id))
    submissions = session.exec(select(Submission)).all()
    attempts = session.exec(select(QuizAttempt)).all()
    learners = sorted(
        session.exec(select(User).where(User.role == "learner")).all(), key=lambda u: (u.display_name, u.id)
    )

    def points(value) -> str:
        return "" if value is None else f"{value:g}"

    lines = []
    for learner in learners:
        mine = [s for s in submissions if s.user_id == learner.id]
        tried = [a for a in attempts if a.user_id == learner.id]
        name = learner.display_name
        line = [learner.email, "'" + name if name[:1] in "=+-@" else name]
        for exercise in exercises:
            here = [s for s in mine if s.exercise_id == exercise.id]
            scored = sorted((s for s in here if s.score is not None), key=lambda s: (s.created_at, s.id))
            best = max((s.score for s in scored), default=None)
            latest = scored[-1].score if scored else None
            line += [points(best), points(latest), points(exercise.max_score), str(len(here))]
        for quiz in quiz_list:
            taken = sorted((a for a in tried if a.quiz_id == quiz.id), key=lambda a: (a.created_at, a.id))
            if settings.quiz_scoring == "last":
                counted = taken[-1] if taken else None
            else:
                counted = min(taken, key=lambda a: (-a.score, a.created_at, a.id), default=None)
            line += [
                points(counted.score if counted else None),
                points(counted.max_score if counted else None),
                str(len(taken)),
            ]
        moments = [s.created_at for s in mine] + [a.created_at for a in tried]
        line += [str(len(mine)), max(moments).isoformat(timespec="seconds") if moments else ""]
        lines.append(line)
    return lines


@pytest.mark.parametrize("scoring", ["best", "last"])
def test_gradebook_csv_matches_a_recomputation_from_the_raw_rows(synced, settings, scoring):
    settings = settings.model_copy(update={"quiz_scoring": scoring})
    start = utcnow() - timedelta(days=3)
    ada, quinn = make_user(synced, name="Ada"), make_user(synced, name="Quinn")
    first_ben, second_ben = make_user(synced, name="Ben"), make_user(synced, name="Ben")
    make_user(synced, name="=A1")
    make_user(synced, role="instructor", name="Ines")
    make_submission(synced, user=ada, status="graded", score=2.5, created_at=start)
    make_submission(synced, user=ada, status="graded", score=1, created_at=start + timedelta(hours=1))
    make_submission(synced, user=ada, created_at=start + timedelta(hours=2))
    make_submission(synced, user=second_ben, slug="health-check", status="graded", score=3, created_at=start)
    make_submission(synced, user=first_ben, status="graded", score=4, created_at=start + timedelta(days=1))
    make_submission(synced, user=first_ben, slug="health-check", created_at=start + timedelta(days=2))
    _attempt(synced, settings, ada, correct=2)
    _attempt(synced, settings, ada, correct=1)
    _attempt(synced, settings, quinn, correct=3)

    def exported() -> list[list[str]]:
        rows = list(csv.reader(io.StringIO(export.to_csv(session=synced, scope=SCOPE, settings=settings))))
        assert rows[0] == export.csv_header(columns.columns(session=synced, scope=SCOPE))
        return rows[1:]

    assert len(columns.columns(session=synced, scope=SCOPE).exercises) == 2
    assert exported() == _recomputed_csv(synced, settings)
    # An exercise taken out of the course loses its columns; its submissions still count.
    retired = synced.exec(select(Exercise).where(Exercise.slug == "health-check")).one()
    retired.active = False
    synced.add(retired)
    synced.commit()
    assert exported() == _recomputed_csv(synced, settings)


def test_dashboard_figures(synced, settings):
    ada, bob = make_user(synced), make_user(synced)
    day = utcnow().replace(hour=12) - timedelta(days=2)
    report_ab = make_report(cases={"hello": True, "hi": False}).to_dict()
    report_b = make_report(cases={"hello": False, "hi": False}).to_dict()
    make_submission(synced, user=ada, status="graded", score=21, report=report_ab, created_at=day)
    make_submission(synced, user=bob, status="graded", score=2, report=report_b, created_at=day + timedelta(days=2))
    _attempt(synced, settings, ada, correct=3)
    _attempt(synced, settings, bob, correct=0)

    figures = stats.dashboard(session=synced, scope=SCOPE, exercise_slug="message-echo")
    assert [(d.count) for d in figures.submissions_per_day] == [1, 0, 1]
    assert sum(b.count for b in figures.score_distribution) == 2
    max_score = synced.exec(select(Submission.max_score)).first()
    assert figures.score_distribution[min(int(21 / max_score * 10), 9)].count >= 1
    failures = {f.name: (f.failed, f.total) for f in figures.case_failures}
    assert failures == {"hi": (2, 2), "hello": (1, 2)}
    assert figures.case_failures[0].name == "hi"

    first_question = figures.question_breakdowns[0]
    counts = {o.label: o.count for o in first_question.options}
    correct_label = next(o.label for o in first_question.options if o.is_correct)
    assert counts[correct_label] == 1 and sum(counts.values()) == 2 == first_question.answers


def test_case_failures_and_mistakes_read_each_learners_latest_result_only(synced):
    typo = {"title": "Typo", "explanation": "e", "fix": "Fix it.", "cases": ["hi"], "line": 1, "cause": "typo"}

    def graded(user, cases: dict[str, bool], diagnoses: list[dict], hours_ago: int) -> None:
        report = make_report(cases=cases).to_dict()
        report["diagnoses"] = diagnoses
        moment = utcnow() - timedelta(hours=hours_ago)
        make_submission(synced, user=user, status="graded", score=1, report=report, created_at=moment)

    ada, bob = make_user(synced, name="Ada"), make_user(synced, name="Bob")
    # Ada failed both cases with a typo, then fixed the typo: only her latest result counts.
    graded(ada, {"hello": False, "hi": False}, [typo], hours_ago=3)
    graded(ada, {"hello": True, "hi": False}, [], hours_ago=1)
    graded(bob, {"hello": True, "hi": False}, [typo], hours_ago=2)
    # Staff trying the exercise out are no learners of the course.
    graded(make_user(synced, role="instructor"), {"hello": False, "hi": False}, [typo], hours_ago=1)
    echo = synced.exec(select(Exercise).where(Exercise.slug == "message-echo")).one()

    failures = stats.case_failures(session=synced, exercise=echo, scope=SCOPE)
    assert [(f.name, f.failed, f.total) for f in failures] == [("hi", 2, 2), ("hello", 0, 2)]
    mistakes = stats.common_mistakes(session=synced, exercise=echo, scope=SCOPE)
    assert [(m.cause, m.title, m.fix, m.learners) for m in mistakes] == [("typo", "Typo", "Fix it.", 1)]


def test_regrading_an_exercise_queues_every_submission_and_reports_progress(synced, engine):
    instructor, learner = make_user(synced, role="instructor"), make_user(synced)
    graded = [make_submission(synced, user=learner, status="graded", score=1) for _ in range(3)]
    sent: list[int] = []
    batch = regrade.regrade_exercise(
        session=synced, exercise_slug="message-echo", requested_by=instructor, enqueue=sent.append
    )
    assert sorted(sent) == [s.id for s in graded]
    assert regrade.progress(session=synced, batch_id=batch.id).done == 0

    class Grader:
        def __call__(self, spec, source, seed):
            return make_report(cases={"hello": True, "hi": True}, seed=seed)

    worker = GradingWorker(engine=engine, grade=Grader())
    worker.run(sent[0])
    progress = regrade.progress(session=synced, batch_id=batch.id)
    assert (progress.total, progress.done, progress.pending, progress.finished) == (3, 1, 2, False)
    for submission_id in sent[1:]:
        worker.run(submission_id)
    assert regrade.progress(session=synced, batch_id=batch.id).finished
    synced.expire_all()
    assert all(synced.get(Submission, s.id).score == 2.0 for s in graded)
    assert regrade.latest_batch(session=synced, exercise_slug="message-echo").id == batch.id


def test_regrading_one_submission_keeps_its_seed(synced):
    instructor, learner = make_user(synced, role="instructor"), make_user(synced)
    submission = make_submission(synced, user=learner, status="graded", score=1)
    seed = submission.seed
    sent: list[int] = []
    batch = regrade.regrade_submission(
        session=synced, submission_id=submission.id, requested_by=instructor, enqueue=sent.append
    )
    synced.refresh(submission)
    assert (submission.status, submission.regrade_batch_id, batch.total, sent) == (
        "queued",
        batch.id,
        1,
        [submission.id],
    )
    assert submission.seed == seed and submission.score == 1  # the old result stays until replaced


def test_only_instructors_may_regrade(synced):
    learner = make_user(synced)
    submission = make_submission(synced, user=learner, status="graded", score=1)
    with pytest.raises(PermissionDenied):
        regrade.regrade_submission(
            session=synced, submission_id=submission.id, requested_by=learner, enqueue=lambda _: None
        )
    with pytest.raises(InvalidInput):
        regrade.regrade_exercise(
            session=synced,
            exercise_slug="health-check",
            requested_by=make_user(synced, role="instructor"),
            enqueue=lambda _: None,
        )


def test_common_mistakes_group_by_cause_under_the_most_common_wording(synced):
    def diagnosis(title: str, cause: str) -> dict:
        return {"title": title, "explanation": "e", "fix": f"fix {title}", "cases": ["hi"], "line": 3, "cause": cause}

    def graded(name: str, *diagnoses: dict):
        report = make_report(cases={"hello": True, "hi": False}).to_dict()
        report["diagnoses"] = list(diagnoses)
        make_submission(synced, user=make_user(synced, name=name), status="graded", score=1, report=report)

    graded("Ada", diagnosis("Misspelt key `received`", "misspelt_key"))
    graded("Bob", diagnosis("Misspelt key `received`", "misspelt_key"))
    graded("Cy", diagnosis("Misspelt key `recieved`", "misspelt_key"), diagnosis("Wrong status", "wrong_status"))
    graded("Di", diagnosis("Wrong status", "wrong_status"), diagnosis("Status 200 instead of 201", "wrong_status"))
    echo = synced.exec(select(Exercise).where(Exercise.slug == "message-echo")).one()

    mistakes = stats.common_mistakes(session=synced, scope=SCOPE, exercise=echo)
    assert [(m.cause, m.title, m.fix, m.learners) for m in mistakes] == [
        ("misspelt_key", "Misspelt key `received`", "fix Misspelt key `received`", 3),
        ("wrong_status", "Wrong status", "fix Wrong status", 2),  # Di counted once for her two wordings
    ]
    cohort = learners.with_mistake(session=synced, scope=SCOPE, exercise_slug=echo.slug, cause="wrong_status")
    assert [row.display_name for row in cohort.rows] == ["Cy", "Di"] and cohort.total == 2
    assert cohort.title == "Learners with “Wrong status”"
    nobody = learners.with_mistake(session=synced, scope=SCOPE, exercise_slug=echo.slug, cause="timeout")
    assert nobody.rows == [] and nobody.total == 0


def test_live_changes_follow_the_sequence_of_changes_whatever_the_writers_clocks(synced, settings, engine, monkeypatch):
    from sqlmodel import Session

    ada, bob = make_user(synced, name="Ada"), make_user(synced, name="Bob")
    query = table.TableQuery(exercise="message-echo")
    cols = columns.columns(session=synced, scope=SCOPE)
    make_submission(synced, user=ada, status="graded", score=1)
    start = cursor.current_cursor(session=synced, course_id=DEFAULT_COURSE_ID)
    assert not cursor.has_changed(session=synced, course_id=DEFAULT_COURSE_ID, since=start)
    quiet = changes.changes(session=synced, since=start, query=query, cols=cols, settings=settings)
    assert quiet.nothing and quiet.cursor == start

    # A writer whose clock is a day slow: its change is still after the cursor.
    monkeypatch.setattr(standings, "utcnow", lambda: utcnow() - timedelta(days=1))
    make_submission(synced, user=bob, status="graded", score=2)
    assert cursor.has_changed(session=synced, course_id=DEFAULT_COURSE_ID, since=start)
    found = changes.changes(session=synced, since=start, query=query, cols=cols, settings=settings)
    assert [row.display_name for row in found.rows] == ["Bob"] and int(found.cursor) > int(start)

    _attempt(synced, settings, ada, correct=1)
    after_quiz = changes.changes(session=synced, since=found.cursor, query=query, cols=cols, settings=settings)
    assert [row.display_name for row in after_quiz.rows] == ["Ada"]

    # A change numbered before a cursor but committed after it was read is not missed:
    # the number is taken last and held until the commit, so the cursor read stays below it.
    echo = synced.exec(select(Exercise).where(Exercise.slug == "message-echo")).one()
    with Session(engine) as writer, Session(engine) as reader:
        standings.refresh_standing(writer, user_id=bob.id, course_id=DEFAULT_COURSE_ID, exercise_id=echo.id)
        read_meanwhile = cursor.current_cursor(session=reader, course_id=DEFAULT_COURSE_ID)
        assert read_meanwhile == after_quiz.cursor
        reader.rollback()
        writer.commit()
        late = changes.changes(session=reader, since=read_meanwhile, query=query, cols=cols, settings=settings)
        assert [row.display_name for row in late.rows] == ["Bob"]

    # A cursor this sequence never gave (a page from before it, whose cursor was a time): everything, once.
    stale = changes.changes(session=synced, since="1764590400000000", query=query, cols=cols, settings=settings)
    assert [row.display_name for row in stale.rows] == ["Ada", "Bob"] and stale.cursor == late.cursor


def test_the_summary_counts_learners_with_late_work_on_the_exercise_or_the_shown_quiz(synced, settings):
    """Each learner once, whichever of their work was late; work for another course or no assignment is not."""
    from grader.models import Assignment
    from grader.services import courses

    lesson_exercise = synced.exec(select(Exercise).where(Exercise.slug == "message-echo")).one()
    quiz = synced.exec(select(Quiz).where(Quiz.slug == SLUG)).one()
    ada, bob, cy, dan, eve = (make_user(synced, name=name) for name in ("Ada", "Bob", "Cy", "Dan", "Eve"))
    instructor = make_user(synced, role="instructor")

    def late_attempt(user, share: float) -> None:
        attempt = synced.get(QuizAttempt, _attempt(synced, settings, user, correct=2).id)
        attempt.late_factor = share
        synced.add(attempt)
        synced.commit()

    make_submission(synced, user=ada, late_factor=0.75)
    late_attempt(bob, 0.8)
    make_submission(synced, user=cy, late_factor=0.5)
    late_attempt(cy, 0.5)
    make_submission(synced, user=dan)  # on time
    late_attempt(dan, 1.0)
    # Eve's late work is another course's, or made for no assignment: not this course's.
    spring = courses.create(session=synced, title="Spring", created_by=instructor)
    elsewhere = courses.place(session=synced, course_id=spring.id, exercise=lesson_exercise)
    courses.add_member(session=synced, course_id=spring.id, user_id=eve.id, role="learner")
    synced.commit()
    make_submission(synced, user=eve, assignment_id=elsewhere.id, late_factor=0.5)
    make_submission(synced, user=eve, unassigned=True, late_factor=0.5)
    # A member of staff trying the quiz out late is no learner.
    late_attempt(instructor, 0.5)

    shown = table.shown_quiz(columns.columns(session=synced, scope=SCOPE))
    assert shown is not None and shown.id == quiz.id
    found = table.summary(session=synced, scope=SCOPE, exercise=lesson_exercise, quiz=shown)
    assert found.late == 3  # Ada (submission), Bob (quiz attempt), Cy (both, counted once)
    assert table.summary(session=synced, scope=SCOPE, exercise=lesson_exercise).late == 2  # no quiz shown
    in_spring = table.summary(session=synced, scope=CourseScope(course_id=spring.id), exercise=lesson_exercise)
    assert in_spring.late == 1
    # Filtered to the lesson's assignment (it places both): the same learners.
    lesson = synced.exec(
        select(Assignment).where(Assignment.course_id == DEFAULT_COURSE_ID, Assignment.quiz_id == quiz.id)
    ).one()
    narrowed = CourseScope(course_id=DEFAULT_COURSE_ID, assignment_id=lesson.id)
    assert table.summary(session=synced, scope=narrowed, exercise=lesson_exercise, quiz=shown).late == 3


def test_a_change_in_another_course_moves_no_cursor_of_this_one(synced, settings):
    """Each course numbers its own changes: course B's learner handing in leaves course A's page with nothing to read."""
    from grader.models import ChangeSequence
    from grader.services import courses

    teacher = make_user(synced, role="instructor")
    spring = courses.create(session=synced, title="Spring", created_by=teacher)
    echo = synced.exec(select(Exercise).where(Exercise.slug == "message-echo")).one()
    in_spring = courses.place(session=synced, course_id=spring.id, exercise=echo)
    ada = make_user(synced, name="Ada")  # in the default course
    ben = make_user(synced, name="Ben")
    courses.add_member(session=synced, course_id=spring.id, user_id=ben.id, role="learner")
    synced.commit()
    make_submission(synced, user=ada, status="graded", score=1)
    a_start = cursor.current_cursor(session=synced, course_id=DEFAULT_COURSE_ID)
    b_start = cursor.current_cursor(session=synced, course_id=spring.id)

    make_submission(synced, user=ben, status="graded", score=2, assignment_id=in_spring.id)
    assert not cursor.has_changed(session=synced, course_id=DEFAULT_COURSE_ID, since=a_start)
    assert cursor.has_changed(session=synced, course_id=spring.id, since=b_start)
    query = table.TableQuery(exercise="message-echo")
    b_cols = columns.columns(session=synced, scope=CourseScope(course_id=spring.id))
    b_found = changes.changes(session=synced, since=b_start, query=query, cols=b_cols, settings=settings)
    assert [row.display_name for row in b_found.rows] == ["Ben"]
    a_cols = columns.columns(session=synced, scope=SCOPE)
    assert changes.changes(session=synced, since=a_start, query=query, cols=a_cols, settings=settings).nothing

    # A course with no row yet (one made before each course had its own) stands, then starts, at the highest
    # number any row reached: no cursor its pages hold is ahead of it, and its next change is after all of them.
    synced.delete(synced.get_one(ChangeSequence, spring.id))
    synced.commit()
    highest = max(int(a_start), int(b_found.cursor))
    held = cursor.current_cursor(session=synced, course_id=spring.id)
    assert int(held) == highest
    make_submission(synced, user=ada, status="graded", score=2)  # course A moves on meanwhile
    make_submission(synced, user=ben, status="graded", score=3, assignment_id=in_spring.id)
    b_again = changes.changes(session=synced, since=held, query=query, cols=b_cols, settings=settings)
    assert [row.display_name for row in b_again.rows] == ["Ben"] and int(b_again.cursor) > int(held)
    # Starting a sequence that exists adds nothing and moves nothing.
    standings.start_sequence(synced, course_id=spring.id)
    synced.commit()
    assert cursor.current_cursor(session=synced, course_id=spring.id) == b_again.cursor
