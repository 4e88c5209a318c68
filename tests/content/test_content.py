"""Content files load and validate; syncing them is idempotent and keeps what points at the rows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from grader.config import PROJECT_ROOT
from grader.content import ContentError, load_quiz, load_quizzes, sync_content
from grader.grading.spec import load_exercises
from grader.models import AttemptAnswer, Choice, Exercise, Question, Quiz, QuizAttempt, Submission
from grader.services import quizzes
from tests.factories import make_submission, make_user

EXERCISES = PROJECT_ROOT / "exercises"
QUIZZES = PROJECT_ROOT / "quizzes"


def _folders(root: Path, filename: str) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / filename).exists())


def test_every_exercise_folder_loads():
    assert sorted(load_exercises(EXERCISES)) == _folders(EXERCISES, "exercise.toml")


def test_every_quiz_folder_loads():
    loaded = load_quizzes(QUIZZES)
    assert sorted(loaded) == _folders(QUIZZES, "quiz.toml")
    assert loaded, "the repository ships at least one quiz"


def test_the_message_cycle_quiz_keeps_the_lessons_facts():
    quiz = load_quiz(QUIZZES / "message-cycle").quiz
    answers = {q.key: next(c.text for c in q.choices if c.label == q.answer) for q in quiz.questions}
    assert answers["msg-after-step-2"] == "{'text': 'Hello'}"
    assert answers["response-sent-at"] == "Step 3"
    assert "{'text': 'Hi'}" in answers["client-sends-hi"] and "step 2" in answers["client-sends-hi"].lower()
    assert all(len(q.choices) == 4 and q.hint for q in quiz.questions)

    table = quiz.visuals.execution_table
    assert table.columns == ["step", "action", "input", "processing", "output"]
    assert [row["step"] for row in table.rows] == [1, 2, 3, 4]
    assert "send" in str(table.rows[2]["action"]).lower() and "200" in str(table.rows[2]["output"])

    tracker = {v.name: v.values for v in quiz.visuals.variable_tracker.variables}
    hello, reply = "{'text': 'Hello'}", "{'received': {'text': 'Hello'}}"
    assert tracker["msg"] == ["None", "None", hello, hello, hello]
    assert tracker["response"] == ["None", "None", "None", reply, reply]
    assert "async def receive_message(msg: dict)" in quiz.visuals.code


def _write_quiz(folder: Path, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "quiz.toml").write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    "mutation, complaint",
    [
        (lambda t: t.replace('answer = "C"', 'answer = "E"'), "answer"),
        (lambda t: t.replace('key = "response-sent-at"', 'key = "msg-after-step-2"'), "repeated"),
        (lambda t: t.replace('moments = ["Start", ', "moments = ["), "values for"),
        (lambda t: t + "\nsurprise = 1\n", "surprise"),
        # An explanation must point at a real cell of the trace.
        (lambda t: t.replace('row = "3", column = "action"', 'row = "9", column = "action"'), "no cell"),
        (lambda t: t.replace('row = "msg", column = "After step 2"', 'row = "msg", column = "Later"', 1), "no cell"),
        (lambda t: t.replace('evidence = { table = "execution_table"', 'evidence = { table = "elsewhere"'), "table"),
        (lambda t: t.replace('before_reveal = "column"', 'before_reveal = "cell"'), "before_reveal"),
        (lambda t: t.replace(', before_reveal = "column" }', " }"), "before_reveal"),
        # What is read before the reveal may not quote the right option.
        (lambda t: t.replace("nothing has left the app yet.", "nothing has left the app until step 3."), "option B"),
        (lambda t: t.replace("read that column, not", "read that column: `{'TEXT': 'Hello'}`, not"), "option B"),
        (lambda t: t.replace('where the reply leaves the app."', 'where the reply leaves the app (Step 3)."'), "hint"),
        # Every option says what picking it means.
        (lambda t: t.replace('text = "None"\nfeedback = """', 'text = "None"\nnote = """'), "feedback"),
        (lambda t: t.replace('text = "None"\nfeedback = """', 'text = "None"\nfeedback = ""\nnote = """'), "feedback"),
    ],
)
def test_a_broken_quiz_file_is_refused_with_its_path(tmp_path, mutation, complaint):
    text = (QUIZZES / "message-cycle" / "quiz.toml").read_text(encoding="utf-8")
    _write_quiz(tmp_path / "broken", mutation(text))
    with pytest.raises(ContentError, match=complaint) as raised:
        load_quiz(tmp_path / "broken")
    assert "broken/quiz.toml" in str(raised.value)


def _counts(session: Session) -> dict[str, int]:
    return {
        model.__name__: session.exec(select(func.count()).select_from(model)).one()
        for model in (Exercise, Quiz, Question, Choice)
    }


def test_sync_twice_changes_nothing_the_second_time(session):
    first = sync_content(session, EXERCISES, QUIZZES)
    assert first.created and first.changed
    before = _counts(session)
    stamps = [row.updated_at for row in session.exec(select(Exercise))] + [
        row.updated_at for row in session.exec(select(Quiz))
    ]

    second = sync_content(session, EXERCISES, QUIZZES)
    assert not second.changed
    assert sorted(second.unchanged) == sorted(first.created)
    assert _counts(session) == before
    session.expire_all()
    assert stamps == [row.updated_at for row in session.exec(select(Exercise))] + [
        row.updated_at for row in session.exec(select(Quiz))
    ]


@pytest.fixture
def content(tmp_path: Path, exercises_dir: Path) -> tuple[Path, Path]:
    """Editable copies of the exercises (the test-only ones too) and of the quizzes."""
    exercises, quiz_root = tmp_path / "exercises", tmp_path / "quizzes"
    shutil.copytree(exercises_dir, exercises)
    shutil.copytree(QUIZZES, quiz_root)
    return exercises, quiz_root


def _answer_everything(session: Session, user, slug: str = "message-cycle"):
    view = quizzes.get_for_learner(session=session, slug=slug)
    answers = {q.id: q.choices[0].id for q in view.questions}
    return quizzes.submit_attempt(session=session, user=user, slug=slug, answers=answers)


def test_editing_a_quiz_updates_rows_in_place_and_keeps_attempts(session, settings, content):
    exercises, quiz_root = content
    sync_content(session, exercises, quiz_root)
    learner = make_user(session)
    attempt = _answer_everything(session, learner)
    question_ids = {q.key: q.id for q in session.exec(select(Question))}

    path = quiz_root / "message-cycle" / "quiz.toml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("In which step does FastAPI send", "At which step does FastAPI send")
    text = text.replace('label = "D"\ntext = "An empty dict"', 'label = "D"\ntext = "{}"')
    # Drop the third question (answered above) and add a new one.
    text = text[: text.index('[[questions]]\nkey = "client-sends-hi"')]
    text += (
        '[[questions]]\nkey = "who-parses"\nprompt = "Who turns the JSON body into a dict?"\n'
        'hint = "Look at the processing column of step 2."\nanswer = "A"\n'
        'explanation = "FastAPI parses the body before it calls the function."\n'
        'evidence = { table = "execution_table", row = "2", column = "processing", before_reveal = "row" }\n'
        'choices = [{ label = "A", text = "FastAPI", feedback = "It reads the body." },'
        ' { label = "B", text = "The client", feedback = "It only sends text." }]\n'
    )
    path.write_text(text, encoding="utf-8")

    summary = sync_content(session, exercises, quiz_root)
    assert summary.updated == ["quiz message-cycle"]
    session.expire_all()
    rows = {q.key: q for q in session.exec(select(Question))}
    assert rows["response-sent-at"].id == question_ids["response-sent-at"]
    assert rows["response-sent-at"].prompt.startswith("At which step")
    assert rows["client-sends-hi"].active is False  # answered before, so kept for the record
    assert rows["who-parses"].active and rows["who-parses"].position == 3

    # The old attempt is intact and still reads as it did.
    stored = quizzes.get_attempt(session=session, attempt_id=attempt.id, user=learner)
    assert [f.question_id for f in stored.questions] == [f.question_id for f in attempt.questions]
    assert session.exec(select(func.count()).select_from(AttemptAnswer)).one() == 3

    # Learners now see the edited quiz: the retired question is gone, the new one is there.
    view = quizzes.get_for_learner(session=session, slug="message-cycle")
    assert [q.key for q in view.questions] == ["msg-after-step-2", "response-sent-at", "who-parses"]
    assert "{}" in [c.text for c in view.questions[0].choices]

    assert not sync_content(session, exercises, quiz_root).changed


def test_a_question_removed_before_anyone_answered_it_is_deleted(session, content):
    exercises, quiz_root = content
    sync_content(session, exercises, quiz_root)
    path = quiz_root / "message-cycle" / "quiz.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index('[[questions]]\nkey = "client-sends-hi"')], encoding="utf-8")
    sync_content(session, exercises, quiz_root)
    keys = [q.key for q in session.exec(select(Question))]
    assert "client-sends-hi" not in keys and len(keys) == 2
    assert session.exec(select(func.count()).select_from(Choice)).one() == 8


def test_editing_an_exercise_updates_its_row_and_keeps_submissions(session, content):
    exercises, quiz_root = content
    sync_content(session, exercises, quiz_root)
    learner = make_user(session)
    submission = make_submission(session, user=learner)
    before = session.exec(select(Exercise).where(Exercise.slug == "message-echo")).one()
    old_id, old_hash = before.id, before.spec_hash

    path = exercises / "message-echo" / "exercise.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('title = "Send and receive a message"', 'title = "Echo a message"')
    )
    summary = sync_content(session, exercises, quiz_root)
    assert summary.updated == ["exercise message-echo"]
    session.expire_all()
    after = session.exec(select(Exercise).where(Exercise.slug == "message-echo")).one()
    assert (after.id, after.title) == (old_id, "Echo a message")
    assert after.spec_hash != old_hash and after.spec["title"] == "Echo a message"
    assert session.get(Submission, submission.id).exercise_id == old_id


def test_a_removed_exercise_is_retired_not_deleted(session, content):
    exercises, quiz_root = content
    sync_content(session, exercises, quiz_root)
    submission = make_submission(session, user=make_user(session), slug="health-check")
    shutil.rmtree(exercises / "health-check")
    summary = sync_content(session, exercises, quiz_root)
    assert summary.retired == ["exercise health-check"]
    session.expire_all()
    assert session.get(Submission, submission.id) is not None
    assert session.exec(select(Exercise).where(Exercise.slug == "health-check")).one().active is False


def test_a_broken_file_leaves_the_tables_untouched(session, content):
    exercises, quiz_root = content
    sync_content(session, exercises, quiz_root)
    before = _counts(session)
    _write_quiz(quiz_root / "zz-broken", "title = 'no questions'\n")
    (exercises / "message-echo" / "exercise.toml").write_text('title = "Changed"\n', encoding="utf-8")
    with pytest.raises(ContentError):
        sync_content(session, exercises, quiz_root)
    session.expire_all()
    assert _counts(session) == before
    assert session.exec(select(Exercise).where(Exercise.slug == "message-echo")).one().title != "Changed"
    assert session.exec(select(func.count()).select_from(QuizAttempt)).one() == 0


def test_an_exercise_linking_to_a_missing_quiz_is_refused(session, content):
    exercises, quiz_root = content
    path = exercises / "message-echo" / "exercise.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('quiz = "message-cycle"', 'quiz = "no-such-quiz"'))
    with pytest.raises(ContentError, match="no-such-quiz"):
        sync_content(session, exercises, quiz_root)


def test_the_quiz_link_does_not_change_what_grading_depends_on(content):
    from grader.grading.spec import load_exercise

    exercises, _ = content
    before = load_exercise(exercises / "message-echo")
    path = exercises / "message-echo" / "exercise.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('quiz = "message-cycle"', 'quiz = "another-quiz"'))
    after = load_exercise(exercises / "message-echo")
    assert after.quiz == "another-quiz" and after.spec_hash == before.spec_hash
