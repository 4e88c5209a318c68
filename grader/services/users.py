"""Accounts: creation, sign-in, sign-up with the course's join code, CSV import."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col, func, select, update

from grader.config import Settings, get_settings
from grader.models import DEFAULT_COURSE_ID, ROLES, Course, CourseMember, CourseRole, Role, User, UserCreate
from grader.services import audit, courses, passwords, storage, throttle, tokens, updates
from grader.services.errors import (
    AlreadyExists,
    AuthenticationFailed,
    BadLines,
    InvalidInput,
    NotFound,
    PermissionDenied,
)

MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH
PASSWORD_POLICY = passwords.POLICY
SIGN_IN_THROTTLED = "Too many failed sign-ins. Wait {wait} before trying again."
SIGN_IN_THROTTLED_HERE = (
    "Too many failed sign-ins from this network. Wait {wait} before trying again; "
    "if this keeps happening, tell your instructor."
)
SIGN_UP_THROTTLED = "Too many wrong join codes from here. Wait {wait} before trying again."


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Hash and verify passwords with ``hasher`` from now on (tests make hashing cheap this way)."""
    passwords.use_hasher(hasher)


def normalize_email(email: str) -> str:
    """The e-mail as stored: trimmed and lower-cased."""
    return email.strip().lower()


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return passwords.hash_password(password)


def generate_password() -> str:
    """A random password for an account created on someone's behalf."""
    return secrets.token_urlsafe(12)


def _validated(data: UserCreate | dict[str, Any]) -> UserCreate:
    try:
        return UserCreate.model_validate(data if isinstance(data, dict) else data.model_dump())
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else None
        raise InvalidInput(_explain(field, error["msg"]), field=field) from exc


def _explain(field: str | None, message: str) -> str:
    if field == "email":
        return "Enter a valid e-mail address."
    if field == "password":
        if "at most" in message:
            return f"The password can have at most {passwords.MAX_LENGTH} characters."
        return f"The password needs at least {MIN_PASSWORD_LENGTH} characters."
    if field == "display_name":
        return "Enter a name (up to 120 characters)."
    if field == "role":
        return f"The role must be one of: {', '.join(ROLES)}."
    return message


def create(*, session: Session, data: UserCreate | dict[str, Any], course_id: int | None = DEFAULT_COURSE_ID) -> User:
    """Create an account, a member of ``course_id`` with its role (None: of no course); ``AlreadyExists`` if the e-mail is taken."""
    valid = _validated(data)
    email = normalize_email(valid.email)
    passwords.check_policy(valid.password, user_inputs=[email, valid.display_name])
    if get_by_email(session=session, email=email) is not None:
        raise AlreadyExists("An account with this e-mail already exists.", field="email")
    user = User(
        email=email,
        display_name=valid.display_name.strip(),
        role=valid.role,
        password_hash=hash_password(valid.password),
    )
    session.add(user)
    try:
        session.flush()
        if course_id is not None:
            if course_id == DEFAULT_COURSE_ID:
                courses.default_course(session=session)
            courses.add_member(session=session, course_id=course_id, user_id=user.id, role=user.role)
        session.commit()
    except IntegrityError as exc:
        # Someone took the e-mail between the check above and now: the unique index decides.
        session.rollback()
        raise AlreadyExists("An account with this e-mail already exists.", field="email") from exc
    session.refresh(user)
    return user


def sign_up(
    *,
    session: Session,
    data: UserCreate | dict[str, Any],
    join_code: str,
    settings: Settings | None = None,
    client_address: str | None = None,
) -> User:
    """Create a learner account for someone holding the course's join code.

    A wrong join code counts against the client address; past
    ``settings.join_code_free_failures`` each further try must wait longer.
    """
    settings = settings or get_settings()
    if not sign_up_open(session=session, settings=settings):
        raise PermissionDenied("Sign-up is closed; ask your instructor for an account.")
    keys = [throttle.address_key(client_address, settings.join_code_free_failures, action="sign-up")]
    throttle.check(session=session, keys=keys, message=SIGN_UP_THROTTLED)
    try:
        course = courses.by_join_code(session=session, code=join_code, settings=settings)
        if course is None:
            raise InvalidInput("That join code opens no course here; check it with your instructor.", field="join_code")
        fields = data if isinstance(data, dict) else data.model_dump()
        return create(session=session, data={**fields, "role": "learner"}, course_id=course.id)
    except InvalidInput as exc:
        if exc.field == "join_code":
            throttle.record_failure(session=session, keys=keys, max_delay=settings.throttle_max_delay_seconds)
        raise


def sign_up_open(*, session: Session, settings: Settings | None = None) -> bool:
    """Whether any course can be joined with a code (the sign-up page is offered then)."""
    if courses.join_code_of(courses.default_course(session=session), settings):
        return True
    return session.exec(select(Course.id).where(col(Course.join_code) != "").limit(1)).first() is not None


def authenticate(*, session: Session, email: str, password: str) -> User:
    """The account these credentials belong to, or ``AuthenticationFailed``."""
    user = get_by_email(session=session, email=email)
    if user is None:
        # Hash anyway so that a missing account takes as long as a wrong password.
        passwords.hash_password(password)
        raise AuthenticationFailed("Wrong e-mail or password.")
    if not passwords.verify(user.password_hash, password):
        raise AuthenticationFailed("Wrong e-mail or password.")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
        session.commit()
        session.refresh(user)
    return user


def sign_in(
    *, session: Session, email: str, password: str, client_address: str | None, settings: Settings | None = None
) -> User:
    """``authenticate`` behind growing delays, counted per (e-mail, client address) pair and per address.

    A blocked attempt is refused with ``RateLimited`` before any hashing. The address's
    ceiling is not applied to an e-mail that signed in from that address lately, so
    neither a stranger elsewhere nor a neighbour failing at other e-mails keeps its
    owner out. A failure counts against both keys; a success forgets the pair's failures.
    """
    settings = settings or get_settings()
    known_for = timedelta(days=settings.sign_in_known_days)
    pair = throttle.pair_key(email, client_address, settings.sign_in_free_failures)
    address = throttle.address_key(client_address, settings.sign_in_free_failures_per_address)
    throttle.check(session=session, keys=[pair], message=SIGN_IN_THROTTLED)
    if not throttle.is_known(session=session, email=email, address=client_address, known_for=known_for):
        throttle.check(session=session, keys=[address], message=SIGN_IN_THROTTLED_HERE)
    try:
        user = authenticate(session=session, email=email, password=password)
    except AuthenticationFailed:
        throttle.record_failure(session=session, keys=[pair, address], max_delay=settings.throttle_max_delay_seconds)
        raise
    try:
        # Bookkeeping that a full disk or a busy database may skip: the password was right.
        throttle.forget(session=session, key=pair)
        throttle.remember(session=session, email=email, address=client_address, known_for=known_for)
    except (OSError, SQLAlchemyError) as exc:
        if storage.trouble(exc) is None:
            raise
        session.rollback()
    return user


def get(*, session: Session, user_id: int) -> User:
    """The account with this id, or ``NotFound``."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such account.")
    return user


def get_by_email(*, session: Session, email: str) -> User | None:
    """The account with this e-mail (any case), or None."""
    return session.exec(select(User).where(User.email == normalize_email(email))).first()


@dataclass(frozen=True)
class ManagedAccount:
    """An account on the users page: ``courses`` names the viewer's courses it is in, with its role there."""

    user: User
    courses: list[tuple[str, str]]

    @property
    def resettable(self) -> bool:
        """Whether its page offers a password reset: a learner account that teaches none of these courses."""
        return self.user.role == "learner" and all(role == "learner" for _title, role in self.courses)


def may_manage_accounts(user: User, course_roles: Iterable[CourseRole]) -> bool:
    """Whether ``user``, with these roles in courses, may open the accounts pages.

    An instructor of a course manages its learners' accounts; an instructor account that
    instructs no course yet is let in too, to be told to create one.
    """
    return user.role == "instructor" or "instructor" in course_roles


def list_managed(*, session: Session, by: User) -> list[ManagedAccount]:
    """The accounts in the courses ``by`` instructs, in name order, with their courses there."""
    taught = select(col(CourseMember.course_id)).where(
        col(CourseMember.user_id) == by.id, col(CourseMember.role) == "instructor"
    )
    rows = session.exec(
        select(User, Course.title, CourseMember.role)
        .join(CourseMember, col(CourseMember.user_id) == col(User.id))
        .join(Course, col(Course.id) == col(CourseMember.course_id))
        .where(col(CourseMember.course_id).in_(taught))
        .order_by(func.lower(User.display_name), col(User.id), col(Course.id))
    ).all()
    found: dict[int, ManagedAccount] = {}
    for user, title, role in rows:
        found.setdefault(user.id, ManagedAccount(user=user, courses=[])).courses.append((title, role))
    return list(found.values())


def create_in_course(*, session: Session, data: dict[str, Any], course_id: int | None, by: User) -> User:
    """An instructor creates an account in a course they instruct (``managing_course``), with its role there. Commits.

    Only an instructor account may make another (the account role lets one create courses).
    """
    course = managing_course(session=session, by=by, course_id=course_id)
    if data.get("role") == "instructor" and by.role != "instructor":
        raise InvalidInput("Only an instructor account can create instructor accounts.", field="role")
    account = create(session=session, data=data, course_id=course.id)
    audit.record(
        session=session,
        actor=by,
        action="account.create",
        course_id=course.id,
        target=account.email,
        details={"role": account.role, "course": courses.course_target(course)},
    )
    session.commit()
    return account


def set_password(*, session: Session, user: User, password: str) -> None:
    """Replace the account's password (it must meet the policy); every session and API token of the account ends."""
    passwords.check_policy(password, user_inputs=[user.email, user.display_name])
    user.password_hash = hash_password(password)
    session.add(user)
    session.commit()
    sign_out_everywhere(session=session, user=user)


def change_password(
    *,
    session: Session,
    user: User,
    current: str,
    new: str,
    client_address: str | None = None,
    settings: Settings | None = None,
) -> None:
    """The owner replaces their password: the current one is required (and throttled like a sign-in).

    Every session and API token ends, the caller's too: the web layer signs the caller in again.
    """
    settings = settings or get_settings()
    try:
        sign_in(session=session, email=user.email, password=current, client_address=client_address, settings=settings)
    except AuthenticationFailed as exc:
        raise InvalidInput("That is not your current password.", field="current_password") from exc
    if hmac.compare_digest(current.encode(), new.encode()):
        raise InvalidInput("The new password must differ from the current one.", field="new_password")
    set_password(session=session, user=user, password=new)
    session.refresh(user)


def managing_course(*, session: Session, by: User, course_id: int | None = None) -> Course:
    """The course whose accounts ``by`` manages here: ``course_id``, or the oldest they instruct.

    Only a course's instructors manage accounts (``PermissionDenied`` for anyone who instructs
    no course, TAs included); a course they do not instruct is ``NotFound``, or
    ``PermissionDenied`` when they are its TA or learner.
    """
    if course_id is None:
        taught = courses.instructed(session=session, user=by)
        if not taught:
            raise PermissionDenied(NO_COURSE_INSTRUCTED)
        return taught[0]
    courses.require_role(session=session, user=by, course_id=course_id, roles=("instructor",))
    return courses.get(session=session, course_id=course_id)


NO_COURSE_INSTRUCTED = (
    "Only a course's instructors manage accounts, and only of their course's learners: "
    "create a course (Courses page) or ask to be made an instructor of one."
)


def resettable(*, session: Session, user_id: int, by: User) -> tuple[User, Course]:
    """The learner whose password ``by`` may reset, and the course ``by`` instructs them in.

    Only an instructor of a course the account is a learner of may (``PermissionDenied`` for
    someone who instructs no course; ``NotFound`` for an account of no course they instruct,
    so ids reveal nothing), and never for an instructor account or a course's TA or instructor:
    those change their own.
    """
    taught = courses.instructed(session=session, user=by)
    if not taught:
        raise PermissionDenied(NO_COURSE_INSTRUCTED)
    learner = get(session=session, user_id=user_id)
    shared = [course for course in taught if courses.role_in(session=session, user=learner, course_id=course.id)]
    if not shared:
        raise NotFound("No course you instruct has this account.")
    if learner.role != "learner" or courses.is_staff_anywhere(session=session, user_id=learner.id):
        raise PermissionDenied("Only a learner's password can be reset here; instructors and TAs change their own.")
    return learner, shared[0]


def reset_password(*, session: Session, user_id: int, by: User) -> tuple[User, str]:
    """An instructor gives their course's learner a new generated password (shown once); the learner's sessions
    and tokens end. Recorded in the audit log with the course. Commits.
    """
    learner, course = resettable(session=session, user_id=user_id, by=by)
    password = generate_password()
    set_password(session=session, user=learner, password=password)
    session.refresh(learner)
    audit.record(
        session=session,
        actor=by,
        action="account.change",
        course_id=course.id,
        target=learner.email,
        details={"change": "password reset; signed out everywhere", "course": courses.course_target(course)},
    )
    session.commit()
    return learner, password


def sign_out_everywhere(*, session: Session, user: User) -> None:
    """End every browser session and revoke every API token of ``user``."""
    tokens.revoke_all(session=session, user=user)
    end_sessions(session=session, user=user)


def password_fingerprint(user: User) -> str:
    """A short digest of the password hash: what changes, and only changes, with the password."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def session_stamp(user: User) -> str:
    """What a session cookie must carry to be honoured: the password and the session generation."""
    return f"{user.session_generation}.{password_fingerprint(user)}"


def end_sessions(*, session: Session, user: User) -> None:
    """End every browser session of ``user`` (sign-out): cookies issued before stop working."""
    # Incremented in the database so that two sign-outs at once both take effect.
    session.exec(update(User).where(col(User.id) == user.id).values(session_generation=User.session_generation + 1))
    session.commit()
    session.refresh(user)
    updates.account_changed(user.id)


@dataclass(frozen=True)
class FirstInstructor:
    """The instructor made at start-up; ``password`` is set only when it was generated."""

    user: User
    password: str | None


def ensure_first_instructor(*, session: Session, settings: Settings | None = None) -> FirstInstructor | None:
    """Create an instructor when there is none (from the settings, else generated)."""
    settings = settings or get_settings()
    exists = session.exec(select(User.id).where(User.role == "instructor")).first()
    if exists is not None:
        return None
    email = settings.first_instructor_email or "instructor@example.org"
    generated = None if settings.first_instructor_password else generate_password()
    password = generated or settings.first_instructor_password
    existing = get_by_email(session=session, email=email)
    if existing is not None:
        # Promote the account rather than failing: the operator named it as the instructor.
        existing.role = "instructor"
        existing.password_hash = hash_password(password)
        session.add(existing)
        session.commit()
        session.refresh(existing)
        updates.account_changed(existing.id)
        return FirstInstructor(user=existing, password=generated)
    user = create(
        session=session,
        data={"email": email, "display_name": "Instructor", "role": "instructor", "password": password},
    )
    return FirstInstructor(user=user, password=generated)


@dataclass(frozen=True)
class NewAccount:
    """An account as its creator is shown it, once: ``password`` is set only when it was generated."""

    email: str
    display_name: str
    role: str
    password: str | None


@dataclass(frozen=True)
class ImportLine:
    """One account of a CSV import, checked but not stored yet; ``line`` is its line in the file."""

    line: int
    email: str
    display_name: str
    role: Role
    password: str
    generated: bool

    def shown(self) -> NewAccount:
        """What the instructor is shown of it (the password only when it was generated)."""
        return NewAccount(self.email, self.display_name, self.role, self.password if self.generated else None)


@dataclass(frozen=True)
class ImportedUser:
    """One account made by a CSV import; ``password`` is set when it was generated."""

    user: User
    password: str | None


CSV_COLUMNS = ("email", "display_name", "role", "password")


def check_import(
    *, session: Session, text: str, max_rows: int | None = None, busy: set[str] | None = None
) -> list[ImportLine]:
    """Every account of CSV ``text`` (header: email, display_name[, role, password]), checked; nothing is hashed.

    ``BadLines`` lists every wrong line at once (``busy``: e-mails another import is
    creating); ``InvalidInput`` for a wrong header or more than ``max_rows`` accounts.
    Generated passwords are made here.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), restkey=_EXTRA)
    try:
        fieldnames = reader.fieldnames
    except csv.Error as exc:
        raise InvalidInput(f"Line 1: the header row cannot be read as CSV ({exc}).", field="file") from exc
    header = [name.strip().lower() for name in fieldnames or []]
    missing = [name for name in ("email", "display_name") if name not in header]
    if missing:
        raise InvalidInput(f"The CSV needs a header row with: {', '.join(missing)}.", field="file")
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown:
        raise InvalidInput(f"Unknown CSV columns: {', '.join(unknown)}.", field="file")
    reader.fieldnames = header

    rows, problems = _read_rows(reader)
    if max_rows is not None and len(rows) > max_rows:
        raise InvalidInput(
            f"The CSV lists {len(rows)} accounts; at most {max_rows} are imported at once. "
            "Split it into smaller files and import each. Nothing was imported.",
            field="file",
        )
    lines: list[ImportLine] = []
    first_line: dict[str, int] = {}
    for line, values in rows:
        try:
            checked = _import_line(line, values)
        except InvalidInput as exc:
            problems.append((line, f"Line {line}: {exc.message}"))
            continue
        if checked.email in first_line:
            problems.append((line, f"Line {line}: {checked.email} is also on line {first_line[checked.email]}."))
            continue
        first_line[checked.email] = line
        lines.append(checked)
    taken = _existing_emails(session, [item.email for item in lines])
    for item in lines:
        if item.email in taken:
            problems.append((item.line, f"Line {item.line}: an account with {item.email} already exists."))
        elif busy and item.email in busy:
            problems.append(
                (item.line, f"Line {item.line}: {item.email} is being created by another import under way.")
            )
    if problems:
        listed = [message for _line, message in sorted(problems)]
        count = "1 line of the CSV needs" if len(listed) == 1 else f"{len(listed)} lines of the CSV need"
        raise BadLines(f"Nothing was imported: {count} fixing.", problems=listed, field="file")
    if not lines:
        raise InvalidInput("The CSV lists no accounts (only its header row).", field="file")
    return lines


# Where csv.DictReader puts the fields of a line past the header's columns.
_EXTRA = "\x00extra"


def _read_rows(reader: csv.DictReader[str]) -> tuple[list[tuple[int, dict[str, str]]], list[tuple[int, str]]]:
    """The non-blank rows by line number, and the lines that are not CSV at all."""
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[tuple[int, str]] = []
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return rows, problems
        except csv.Error as exc:
            # The reader cannot go on past a line it cannot read (an overlong field, say). The
            # DictReader's own count is only updated after a row was read: the inner reader's is not.
            line = reader.reader.line_num
            problems.append((line, f"Line {line}: this line cannot be read as CSV ({exc})."))
            return rows, problems
        line = reader.line_num
        if row.get(_EXTRA):
            problems.append(
                (line, f"Line {line}: it has more fields than the header row's {len(reader.fieldnames or [])}.")
            )
            continue
        values = {key: (value or "").strip() for key, value in row.items() if key != _EXTRA}
        if any(values.values()):
            rows.append((line, values))


def _import_line(line: int, values: dict[str, str]) -> ImportLine:
    password = values.get("password") or generate_password()
    valid = _validated(
        {
            "email": values.get("email", ""),
            "display_name": values.get("display_name", ""),
            "role": values.get("role") or "learner",
            "password": password,
        }
    )
    if values.get("password"):
        # zxcvbn costs 2 ms for a short password and up to 0.1 s for a long one: only people's choices need it.
        passwords.check_policy(valid.password, user_inputs=[valid.email, valid.display_name])
    return ImportLine(
        line=line,
        email=normalize_email(valid.email),
        display_name=valid.display_name.strip(),
        role=valid.role,
        password=valid.password,
        generated=not values.get("password"),
    )


def _existing_emails(session: Session, emails: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(emails), 500):  # bounded IN lists
        chunk = emails[start : start + 500]
        found.update(session.exec(select(User.email).where(col(User.email).in_(chunk))))
    return found


def add_imported(
    *, session: Session, lines: list[ImportLine], hashes: list[str], course_id: int = DEFAULT_COURSE_ID
) -> list[User]:
    """Add the checked accounts with their password hashes to ``session``, members of ``course_id`` with their
    roles (the caller commits, all or none).

    ``AlreadyExists`` naming the line when an e-mail was taken after the check; the session is rolled back.
    """
    accounts = [
        User(email=item.email, display_name=item.display_name, role=item.role, password_hash=password_hash)
        for item, password_hash in zip(lines, hashes, strict=True)
    ]
    session.add_all(accounts)
    try:
        session.flush()
        if course_id == DEFAULT_COURSE_ID:
            courses.default_course(session=session)
        session.add_all(
            CourseMember(course_id=course_id, user_id=account.id, role=account.role) for account in accounts
        )
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        taken = _existing_emails(session, [item.email for item in lines])
        first = next((item for item in lines if item.email in taken), None)
        where = (
            f"Line {first.line}: an account with {first.email} was created meanwhile"
            if first
            else "An e-mail was taken meanwhile"
        )
        raise AlreadyExists(f"{where}. Nothing was imported.", field="file") from exc
    return accounts


def import_csv(*, session: Session, text: str, max_rows: int | None = None) -> list[ImportedUser]:
    """Check CSV ``text``, hash every password on this thread and store every account; all or none.

    For the command line: the web service hashes off its request threads (``account_imports``).
    """
    lines = check_import(session=session, text=text, max_rows=max_rows)
    hashes = [hash_password(item.password) for item in lines]
    accounts = add_imported(session=session, lines=lines, hashes=hashes)
    session.commit()
    for account in accounts:
        session.refresh(account)
    return [
        ImportedUser(user=account, password=item.shown().password)
        for account, item in zip(accounts, lines, strict=True)
    ]
