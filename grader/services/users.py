"""Accounts: creation, sign-in, sign-up with the course's join code, CSV import."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select, update

from grader.config import Settings, get_settings
from grader.models import ROLES, User, UserCreate
from grader.services import passwords, throttle, tokens, updates
from grader.services.errors import (
    AlreadyExists,
    AuthenticationFailed,
    InvalidInput,
    NotFound,
    PermissionDenied,
)

MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH
PASSWORD_POLICY = passwords.POLICY
SIGN_IN_THROTTLED = "Too many failed sign-ins. Wait {wait} before trying again."
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


def create(*, session: Session, data: UserCreate | dict[str, Any]) -> User:
    """Create an account; ``AlreadyExists`` if the e-mail is taken."""
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
    if not settings.join_code:
        raise PermissionDenied("Sign-up is closed; ask your instructor for an account.")
    keys = [throttle.address_key(client_address, settings.join_code_free_failures, action="sign-up")]
    throttle.check(session=session, keys=keys, message=SIGN_UP_THROTTLED)
    try:
        if not hmac.compare_digest(join_code.strip().encode(), settings.join_code.encode()):
            raise InvalidInput("That join code is not this course's.", field="join_code")
        fields = data if isinstance(data, dict) else data.model_dump()
        return create(session=session, data={**fields, "role": "learner"})
    except InvalidInput as exc:
        if exc.field == "join_code":
            throttle.record_failure(session=session, keys=keys, max_delay=settings.throttle_max_delay_seconds)
        raise


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
    """``authenticate`` behind growing delays: per e-mail (known or not) and per client address.

    A blocked attempt is refused with ``RateLimited`` before any hashing; a failure
    counts against both keys; a success forgets the e-mail's failures.
    """
    settings = settings or get_settings()
    account = throttle.account_key(email, settings.sign_in_free_failures)
    keys = [account, throttle.address_key(client_address, settings.sign_in_free_failures_per_address)]
    throttle.check(session=session, keys=keys, message=SIGN_IN_THROTTLED)
    try:
        user = authenticate(session=session, email=email, password=password)
    except AuthenticationFailed:
        throttle.record_failure(session=session, keys=keys, max_delay=settings.throttle_max_delay_seconds)
        raise
    throttle.forget(session=session, key=account)
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


def list_users(*, session: Session, role: str | None = None) -> list[User]:
    """Accounts in name order, optionally only those with ``role``."""
    query = select(User).order_by(func.lower(User.display_name), col(User.id))
    if role is not None:
        query = query.where(User.role == role)
    return list(session.exec(query))


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


def reset_password(*, session: Session, user_id: int, by: User) -> tuple[User, str]:
    """An instructor gives a learner a new generated password (shown once); the learner's sessions and tokens end."""
    if by.role != "instructor":
        raise PermissionDenied("Only instructors can reset passwords.")
    learner = get(session=session, user_id=user_id)
    if learner.role != "learner":
        raise PermissionDenied("Only a learner's password can be reset here; instructors change their own.")
    password = generate_password()
    set_password(session=session, user=learner, password=password)
    session.refresh(learner)
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
class ImportedUser:
    """One account made by a CSV import; ``password`` is set when it was generated."""

    user: User
    password: str | None


CSV_COLUMNS = ("email", "display_name", "role", "password")


def import_csv(*, session: Session, text: str) -> list[ImportedUser]:
    """Create every account listed in CSV ``text`` (header: email, display_name[, role, password]); all or none."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in ("email", "display_name") if name not in header]
    if missing:
        raise InvalidInput(f"The CSV needs a header row with: {', '.join(missing)}.", field="file")
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown:
        raise InvalidInput(f"Unknown CSV columns: {', '.join(unknown)}.", field="file")
    reader.fieldnames = header

    pending: list[tuple[UserCreate, str | None]] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        values = {key: (value or "").strip() for key, value in row.items() if key is not None}
        if not any(values.values()):
            continue
        generated = None if values.get("password") else generate_password()
        fields = {
            "email": values.get("email", ""),
            "display_name": values.get("display_name", ""),
            "role": values.get("role") or "learner",
            "password": values.get("password") or generated,
        }
        try:
            valid = _validated(fields)
            passwords.check_policy(valid.password, user_inputs=[valid.email, valid.display_name])
        except InvalidInput as exc:
            raise InvalidInput(f"Line {line}: {exc.message}", field="file") from exc
        email = normalize_email(valid.email)
        if email in seen or get_by_email(session=session, email=email) is not None:
            raise AlreadyExists(f"Line {line}: an account with {email} already exists.", field="file")
        seen.add(email)
        pending.append((valid, generated))

    created: list[ImportedUser] = []
    for valid, generated in pending:
        user = User(
            email=normalize_email(valid.email),
            display_name=valid.display_name.strip(),
            role=valid.role,
            password_hash=hash_password(valid.password),
        )
        session.add(user)
        created.append(ImportedUser(user=user, password=generated))
    session.commit()
    for item in created:
        session.refresh(item.user)
    return created
