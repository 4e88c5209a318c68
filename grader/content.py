"""Loading ``exercises/`` and ``quizzes/`` into the tables.

Exercises are read with the grading core's own loader. A quiz lives in
``quizzes/<slug>/quiz.toml`` and is validated by ``QuizFile`` below.

``sync_content`` is idempotent: running it twice changes nothing the second
time. Rows are matched by stable keys (an exercise's or quiz's slug, a
question's ``key``, a choice's label), so editing a file updates rows in place
and the attempts and submissions pointing at them survive. Something removed
from a file is deleted only when nothing refers to it; otherwise it is marked
inactive and disappears from learners' pages.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlmodel import Session, col, select

from grader.grading.spec import ExerciseSpec, SpecError, content_hash, load_exercises, read_toml
from grader.models import (
    DEFAULT_COURSE_ID,
    Assignment,
    AttemptAnswer,
    Choice,
    Course,
    Exercise,
    Question,
    Quiz,
    utcnow,
)

QUIZ_FILE = "quiz.toml"


class ContentError(ValueError):
    """A content file is missing, malformed or inconsistent; the message names the file."""


# --- the quiz file ----------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChoiceFile(_Strict):
    """One option; its label is its stable key.

    feedback: what a learner who picked it reads before the right answers are revealed. For a
    wrong option, why it is not right and how to reason towards the answer, never naming or
    implying the right option (``QuestionFile`` refuses one that quotes it); for the right one,
    why it holds.
    """

    label: str = Field(pattern=r"^[A-D]$")
    text: str = Field(min_length=1)
    feedback: str = Field(min_length=1)


class Evidence(_Strict):
    """The cell of the lesson's trace that answers a question.

    table: ``execution_table`` (row: a step number, column: one of its columns) or
    ``variable_tracker`` (row: a variable's name, column: one of its moments).
    before_reveal: which line through the cell (its ``row`` or its ``column``) a wrong answer's
    page marks before the right answers are revealed: the one the question does not turn on, so
    that marking it says where to read without saying what to read there; ``none`` when either
    line would point at the right option (say, only that option names the row's variable). The
    cell itself is marked only with the reveal.
    """

    table: Literal["execution_table", "variable_tracker"]
    row: str = Field(min_length=1)
    column: str = Field(min_length=1)
    before_reveal: Literal["row", "column", "none"]


def _quotes(text: str, words: str) -> bool:
    """Whether ``text`` holds ``words`` (case and code marks aside), as whole words."""
    plain, quoted = (value.replace("`", "").casefold() for value in (text, words))
    return re.search(rf"(?<!\w){re.escape(quoted)}(?!\w)", plain) is not None


class QuestionFile(_Strict):
    """A question with up to four options, the label of the right one, and what is shown after answering.

    Before the right answers are revealed a learner reads the hint and the feedback of the option
    they picked, and a wrong answer marks a line of the trace (``Evidence.before_reveal``); none
    of these may quote the right option. With the reveal come the explanation and the cell.

    hint: where in the trace to look; explanation: why the right answer is right, in full;
    evidence: the cell of the trace it comes from.
    """

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="Stable name; keep it when editing the text.")
    prompt: str = Field(min_length=1)
    hint: str = Field(min_length=1)
    explanation: str = Field(min_length=1)
    evidence: Evidence
    answer: str = Field(pattern=r"^[A-D]$")
    choices: list[ChoiceFile] = Field(min_length=2, max_length=4)

    @model_validator(mode="after")
    def _answer_is_a_choice(self) -> QuestionFile:
        labels = [choice.label for choice in self.choices]
        if len(set(labels)) != len(labels):
            raise ValueError(f"question {self.key!r}: choice labels repeat: {labels}")
        if self.answer not in labels:
            raise ValueError(f"question {self.key!r}: answer {self.answer!r} is not one of {labels}")
        right = next(choice for choice in self.choices if choice.label == self.answer)
        if _quotes(self.hint, right.text):
            raise ValueError(f"question {self.key!r}: its hint gives away the right option ({right.text!r})")
        for choice in self.choices:
            if choice is not right and _quotes(choice.feedback, right.text):
                raise ValueError(
                    f"question {self.key!r}: the feedback of option {choice.label} gives away the right option"
                    f" ({right.text!r}): it is read before the right answers are revealed"
                )
        return self


class ExecutionTable(_Strict):
    """The step-by-step table of a request–response cycle; each row has a value per column."""

    columns: list[str] = Field(min_length=1)
    rows: list[dict[str, str | int]] = Field(min_length=1)
    note: str = ""

    @model_validator(mode="after")
    def _rows_fill_columns(self) -> ExecutionTable:
        for number, row in enumerate(self.rows, start=1):
            if sorted(row) != sorted(self.columns):
                raise ValueError(f"execution table row {number} must have exactly the columns {self.columns}")
        return self


class TrackedVariable(_Strict):
    """A variable's value (as Python would print it) at each moment of the tracker."""

    name: str = Field(min_length=1)
    values: list[str]


class VariableTracker(_Strict):
    """How variables change across the cycle: one column per moment."""

    moments: list[str] = Field(min_length=1)
    variables: list[TrackedVariable] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_value_per_moment(self) -> VariableTracker:
        for variable in self.variables:
            if len(variable.values) != len(self.moments):
                raise ValueError(
                    f"variable {variable.name!r} has {len(variable.values)} values for {len(self.moments)} moments"
                )
        return self


class ConceptFlow(_Strict):
    """The cycle in a few boxes, drawn one after another."""

    steps: list[str] = Field(min_length=2)
    caption: str = ""


class KeyMoment(_Strict):
    """A question beginners ask at one step, answered, with the place in the trace that shows it."""

    question: str = Field(min_length=1)
    explanation: str = Field(min_length=1)
    see: str = ""


class Visuals(_Strict):
    """The lesson's trace and its other views.

    code: the traced app (shown with the quiz only, never beside an exercise's upload form);
    execution_table and variable_tracker: the trace the questions point at; concept_flow,
    key_moments and snapshot: the lesson's other views, drawn on the quiz page.
    """

    code: str = ""
    code_caption: str = ""
    execution_table: ExecutionTable
    variable_tracker: VariableTracker
    concept_flow: ConceptFlow | None = None
    key_moments: list[KeyMoment] = Field(default_factory=list)
    snapshot: list[str] = Field(default_factory=list)

    def has_cell(self, evidence: Evidence) -> bool:
        """Whether ``evidence`` names a cell of these tables."""
        if evidence.table == "execution_table":
            table = self.execution_table
            first = table.columns[0]
            return evidence.column in table.columns and any(str(row[first]) == evidence.row for row in table.rows)
        tracker = self.variable_tracker
        return evidence.column in tracker.moments and any(v.name == evidence.row for v in tracker.variables)


class QuizFile(_Strict):
    """A quiz as written in ``quizzes/<slug>/quiz.toml``."""

    title: str = Field(min_length=1)
    intro: str = ""
    visuals: Visuals
    questions: list[QuestionFile] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_keys(self) -> QuizFile:
        keys = [question.key for question in self.questions]
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            raise ValueError(f"question keys must be unique; repeated: {', '.join(repeated)}")
        for question in self.questions:
            if not self.visuals.has_cell(question.evidence):
                where = question.evidence
                raise ValueError(
                    f"question {question.key!r}: its evidence names no cell of the {where.table}"
                    f" (row {where.row!r}, column {where.column!r})"
                )
        return self


@dataclass(frozen=True)
class LoadedQuiz:
    """A validated quiz file with its slug (the folder name) and a hash of its content."""

    slug: str
    quiz: QuizFile
    content_hash: str


def load_quiz(folder: Path) -> LoadedQuiz:
    """Read and validate ``folder/quiz.toml``; the slug is the folder's name."""
    path = folder / QUIZ_FILE
    data = read_toml(path, ContentError)
    try:
        quiz = QuizFile.model_validate(data)
    except ValidationError as exc:
        raise ContentError(f"{path}: {exc}") from exc
    return LoadedQuiz(slug=folder.name, quiz=quiz, content_hash=content_hash(quiz.model_dump(mode="json")))


def load_quizzes(root: Path) -> dict[str, LoadedQuiz]:
    """Every quiz below ``root``, by slug, in name order."""
    if not root.is_dir():
        raise ContentError(f"{root}: not a directory")
    folders = sorted(p for p in root.iterdir() if (p / QUIZ_FILE).is_file())
    return {folder.name: load_quiz(folder) for folder in folders}


# --- syncing ------------------------------------------------------------------------------


@dataclass
class SyncSummary:
    """What a sync did, as ``kind slug`` entries (e.g. ``quiz message-cycle``)."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether any row was written."""
        return bool(self.created or self.updated or self.retired)

    def __str__(self) -> str:
        parts = [
            f"{label}: {', '.join(items)}"
            for label, items in (
                ("created", self.created),
                ("updated", self.updated),
                ("retired", self.retired),
                ("unchanged", self.unchanged),
            )
            if items
        ]
        return "; ".join(parts) or "nothing to sync"


def sync_content(session: Session, exercises_dir: Path, quizzes_dir: Path) -> SyncSummary:
    """Bring the exercise and quiz tables in line with the files; commits once, or not at all."""
    try:
        exercises = load_exercises(exercises_dir)
    except SpecError as exc:
        raise ContentError(str(exc)) from exc
    quizzes = load_quizzes(quizzes_dir) if quizzes_dir.exists() else {}
    for spec in exercises.values():
        if spec.quiz is not None and spec.quiz not in quizzes:
            raise ContentError(f"exercise {spec.slug!r}: its quiz {spec.quiz!r} is not in {quizzes_dir}")
    summary = SyncSummary()
    try:
        _sync_exercises(session, exercises, summary)
        _sync_quizzes(session, quizzes, summary)
        _assign_new_work(session, summary, exercises)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return summary


def _assign_new_work(session: Session, summary: SyncSummary, specs: dict[str, ExerciseSpec]) -> None:
    """Place exercises and quizzes this sync created in the default course, each exercise with its lesson quiz.

    Only new rows are placed: an assignment an instructor removed stays removed.
    """
    created = set(summary.created)
    if not created:
        return
    session.flush()
    if session.get(Course, DEFAULT_COURSE_ID) is None:
        session.add(Course(id=DEFAULT_COURSE_ID, title="Course"))
        session.flush()
    placed = list(session.exec(select(Assignment).where(Assignment.course_id == DEFAULT_COURSE_ID)))
    position = max((row.position for row in placed), default=-1) + 1
    quizzes = {row.slug: row for row in session.exec(select(Quiz))}
    taken = {row.quiz_id for row in placed if row.quiz_id is not None}
    for row in session.exec(select(Exercise).order_by(col(Exercise.id))):
        if f"exercise {row.slug}" not in created:
            continue
        spec = specs[row.slug]
        quiz = quizzes.get(spec.quiz) if spec.quiz else None
        quiz_id = quiz.id if quiz is not None and quiz.id not in taken else None
        session.add(
            Assignment(
                course_id=DEFAULT_COURSE_ID, title=row.title, exercise_id=row.id, quiz_id=quiz_id, position=position
            )
        )
        if quiz_id is not None:
            taken.add(quiz_id)
        position += 1
    for slug, quiz in quizzes.items():
        if f"quiz {slug}" in created and quiz.id not in taken:
            session.add(Assignment(course_id=DEFAULT_COURSE_ID, title=quiz.title, quiz_id=quiz.id, position=position))
            position += 1


def exercise_fields(spec: ExerciseSpec) -> dict[str, Any]:
    """The column values of an exercise row built from its definition."""
    return {
        "title": spec.title,
        "summary": spec.summary,
        "instructions": spec.instructions,
        "spec": spec.model_dump(mode="json", by_alias=True),
        "spec_hash": spec.spec_hash,
        "max_score": spec.max_score,
        "active": True,
    }


def _apply(row: Any, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _sync_exercises(session: Session, specs: dict[str, ExerciseSpec], summary: SyncSummary) -> None:
    rows = {row.slug: row for row in session.exec(select(Exercise))}
    for slug, spec in specs.items():
        label = f"exercise {slug}"
        row = rows.get(slug)
        if row is None:
            session.add(Exercise(slug=slug, **exercise_fields(spec)))
            summary.created.append(label)
        elif _apply(row, exercise_fields(spec)):
            row.updated_at = utcnow()
            session.add(row)
            summary.updated.append(label)
        else:
            summary.unchanged.append(label)
    _deactivate_missing(session, rows, keep=specs.keys(), kind="exercise", summary=summary)


def _sync_quizzes(session: Session, loaded: dict[str, LoadedQuiz], summary: SyncSummary) -> None:
    rows = {row.slug: row for row in session.exec(select(Quiz))}
    for slug, item in loaded.items():
        label = f"quiz {slug}"
        values: dict[str, Any] = {
            "title": item.quiz.title,
            "intro": item.quiz.intro,
            "visuals": item.quiz.visuals.model_dump(mode="json"),
            "content_hash": item.content_hash,
            "active": True,
        }
        quiz = rows.get(slug)
        if quiz is None:
            quiz = Quiz(slug=slug, **values)
            session.add(quiz)
            session.flush()
            _sync_questions(session, quiz, item.quiz.questions)
            summary.created.append(label)
            continue
        changed = _apply(quiz, values)
        changed = _sync_questions(session, quiz, item.quiz.questions) or changed
        if changed:
            quiz.updated_at = utcnow()
            session.add(quiz)
            summary.updated.append(label)
        else:
            summary.unchanged.append(label)
    _deactivate_missing(session, rows, keep=loaded.keys(), kind="quiz", summary=summary)


def _deactivate_missing(
    session: Session, rows: dict[str, Any], *, keep: Collection[str], kind: str, summary: SyncSummary
) -> None:
    """Mark rows whose file is gone as inactive; what refers to them stays intact."""
    for slug, row in rows.items():
        if slug not in keep and row.active:
            row.active = False
            row.updated_at = utcnow()
            session.add(row)
            summary.retired.append(f"{kind} {slug}")


def _sync_questions(session: Session, quiz: Quiz, questions: list[QuestionFile]) -> bool:
    rows = {row.key: row for row in session.exec(select(Question).where(Question.quiz_id == quiz.id))}
    changed = False
    for position, spec in enumerate(questions, start=1):
        values: dict[str, Any] = {
            "position": position,
            "prompt": spec.prompt,
            "hint": spec.hint,
            "explanation": spec.explanation,
            "evidence": spec.evidence.model_dump(mode="json"),
            "active": True,
        }
        question = rows.get(spec.key)
        if question is None:
            question = Question(quiz_id=quiz.id, key=spec.key, **values)
            session.add(question)
            session.flush()
            changed = True
        elif _apply(question, values):
            session.add(question)
            changed = True
        changed = _sync_choices(session, question, spec) or changed
    wanted = {spec.key for spec in questions}
    for key, question in rows.items():
        if key not in wanted:
            changed = _retire(session, question, AttemptAnswer.question_id) or changed
    return changed


def _sync_choices(session: Session, question: Question, spec: QuestionFile) -> bool:
    rows = {row.label: row for row in session.exec(select(Choice).where(Choice.question_id == question.id))}
    changed = False
    for position, choice_spec in enumerate(spec.choices, start=1):
        values: dict[str, Any] = {
            "position": position,
            "text": choice_spec.text,
            "feedback": choice_spec.feedback,
            "is_correct": choice_spec.label == spec.answer,
            "active": True,
        }
        choice = rows.get(choice_spec.label)
        if choice is None:
            session.add(Choice(question_id=question.id, label=choice_spec.label, **values))
            changed = True
        elif _apply(choice, values):
            session.add(choice)
            changed = True
    wanted = {choice.label for choice in spec.choices}
    for label, choice in rows.items():
        if label not in wanted:
            changed = _retire(session, choice, AttemptAnswer.choice_id) or changed
    return changed


def _retire(session: Session, row: Question | Choice, reference: Any) -> bool:
    """Delete a row nothing refers to; keep a referenced one, inactive. Whether anything changed."""
    referenced = session.exec(select(AttemptAnswer.id).where(reference == row.id).limit(1)).first()
    if referenced is not None:
        if not row.active:
            return False
        row.active = False
        session.add(row)
        return True
    if isinstance(row, Question):
        for choice in session.exec(select(Choice).where(Choice.question_id == row.id)):
            session.delete(choice)
        # The rows have no ORM relationship, so flush the choices before their question.
        session.flush()
    session.delete(row)
    return True
