"""Accounts and API tokens."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from grader.models import User
from grader.services import tokens, users
from grader.services.errors import AlreadyExists, AuthenticationFailed, InvalidInput, NotFound, PermissionDenied
from tests.factories import DEFAULT_PASSWORD, make_user


def _count(session) -> int:
    return session.exec(select(func.count()).select_from(User)).one()


def test_created_accounts_store_an_argon2_hash_and_a_lowercased_email(session):
    user = users.create(
        session=session, data={"email": " Ada@Example.ORG ", "display_name": "Ada", "password": "s3cret-pass"}
    )
    assert user.email == "ada@example.org" and user.role == "learner"
    assert user.password_hash.startswith("$argon2id$") and "s3cret-pass" not in user.password_hash
    assert users.authenticate(session=session, email="ADA@example.org", password="s3cret-pass").id == user.id


@pytest.mark.parametrize(
    "data, field",
    [
        ({"email": "not-an-email", "display_name": "X", "password": "long-enough"}, "email"),
        ({"email": "x@example.org", "display_name": "", "password": "long-enough"}, "display_name"),
        ({"email": "x@example.org", "display_name": "X", "password": "short"}, "password"),
        ({"email": "x@example.org", "display_name": "X", "password": "long-enough", "role": "admin"}, "role"),
    ],
)
def test_invalid_accounts_are_refused_naming_the_field(session, data, field):
    with pytest.raises(InvalidInput) as raised:
        users.create(session=session, data=data)
    assert raised.value.field == field
    assert _count(session) == 0


def test_an_email_can_only_be_used_once(session):
    make_user(session, email="dup@example.org")
    with pytest.raises(AlreadyExists):
        users.create(session=session, data={"email": "DUP@example.org", "display_name": "Y", "password": "long-enough"})
    assert _count(session) == 1


def test_wrong_passwords_and_unknown_emails_fail_alike(session):
    make_user(session, email="someone@example.org")
    with pytest.raises(AuthenticationFailed) as wrong:
        users.authenticate(session=session, email="someone@example.org", password="nope-nope")
    with pytest.raises(AuthenticationFailed) as unknown:
        users.authenticate(session=session, email="nobody@example.org", password=DEFAULT_PASSWORD)
    assert wrong.value.message == unknown.value.message


def test_sign_up_needs_the_join_code_and_always_makes_a_learner(session, settings):
    data = {"email": "new@example.org", "display_name": "New", "password": "long-enough", "role": "instructor"}
    with pytest.raises(InvalidInput) as raised:
        users.sign_up(session=session, data=data, join_code="WRONG", settings=settings)
    assert raised.value.field == "join_code" and _count(session) == 0
    user = users.sign_up(session=session, data=data, join_code="JOIN-ME", settings=settings)
    assert user.role == "learner"


def test_sign_up_is_closed_without_a_join_code(session, settings):
    closed = settings.model_copy(update={"join_code": ""})
    with pytest.raises(PermissionDenied):
        users.sign_up(
            session=session,
            data={"email": "n@example.org", "display_name": "N", "password": "long-enough"},
            join_code="",
            settings=closed,
        )


def test_csv_import_creates_every_account_and_generates_missing_passwords(session):
    text = "email,display_name,role,password\na@example.org,A,,\nb@example.org,B,instructor,given-password\n"
    created = users.import_csv(session=session, text=text)
    assert [(c.user.email, c.user.role) for c in created] == [
        ("a@example.org", "learner"),
        ("b@example.org", "instructor"),
    ]
    assert created[0].password and created[1].password is None
    users.authenticate(session=session, email="a@example.org", password=created[0].password)
    users.authenticate(session=session, email="b@example.org", password="given-password")


@pytest.mark.parametrize(
    "text, complaint",
    [
        ("name\nA\n", "header"),
        ("email,display_name\na@example.org,A\nbad,B\n", "Line 3"),
        ("email,display_name\na@example.org,A\nA@example.org,B\n", "Line 3"),
        ("email,display_name,shoe_size\na@example.org,A,9\n", "shoe_size"),
    ],
)
def test_a_bad_csv_creates_no_account_at_all(session, text, complaint):
    with pytest.raises(InvalidInput) as refused:
        users.import_csv(session=session, text=text)
    assert complaint in " ".join([refused.value.message, *getattr(refused.value, "problems", [])])
    assert _count(session) == 0


def test_the_first_instructor_is_created_once_from_settings(session, settings):
    configured = settings.model_copy(
        update={"first_instructor_email": "boss@example.org", "first_instructor_password": "boss-password"}
    )
    first = users.ensure_first_instructor(session=session, settings=configured)
    assert first.user.role == "instructor" and first.password is None
    users.authenticate(session=session, email="boss@example.org", password="boss-password")
    assert users.ensure_first_instructor(session=session, settings=configured) is None
    assert _count(session) == 1


def test_a_generated_first_instructor_password_is_returned_to_print(session, settings):
    first = users.ensure_first_instructor(session=session, settings=settings)
    assert first.password
    users.authenticate(session=session, email=first.user.email, password=first.password)


def test_api_tokens_identify_their_user_until_the_password_changes(session, settings):
    user = make_user(session)
    token = tokens.issue(session=session, user=user, settings=settings).secret
    assert tokens.authenticate(session=session, token=token)[0].id == user.id
    # Only a digest is stored: the database holds nothing usable as a token.
    assert token not in {row.digest for row in tokens.list_for_user(session=session, user=user)}

    with pytest.raises(AuthenticationFailed):
        tokens.authenticate(session=session, token=token + "x")

    users.set_password(session=session, user=user, password="a-new-password")
    with pytest.raises(AuthenticationFailed, match="revoked"):
        tokens.authenticate(session=session, token=token)
    assert tokens.list_for_user(session=session, user=user) == []


def test_api_tokens_expire(session, settings):
    user = make_user(session)
    expired = settings.model_copy(update={"api_token_seconds": -1})
    token = tokens.issue(session=session, user=user, settings=expired).secret
    with pytest.raises(AuthenticationFailed, match="expired"):
        tokens.authenticate(session=session, token=token)
    assert tokens.list_for_user(session=session, user=user) == []


def test_a_token_is_revoked_by_its_owner_only(session, settings):
    owner, other = make_user(session), make_user(session)
    issued = tokens.issue(session=session, user=owner, settings=settings)
    with pytest.raises(NotFound):
        tokens.revoke(session=session, user=other, token_id=issued.row.id)
    assert tokens.authenticate(session=session, token=issued.secret)[0].id == owner.id
    tokens.revoke(session=session, user=owner, token_id=issued.row.id)
    with pytest.raises(AuthenticationFailed):
        tokens.authenticate(session=session, token=issued.secret)


def test_ending_sessions_changes_the_stamp_and_keeps_api_tokens(session, settings):
    user = make_user(session, email="gen@example.org")
    token = tokens.issue(session=session, user=user, settings=settings).secret
    before = users.session_stamp(user)
    users.end_sessions(session=session, user=user)
    assert users.session_stamp(user) != before
    assert tokens.authenticate(session=session, token=token)[0].id == user.id


def test_signing_out_everywhere_ends_sessions_and_tokens(session, settings):
    user = make_user(session, email="all@example.org")
    token = tokens.issue(session=session, user=user, settings=settings).secret
    before = users.session_stamp(user)
    users.sign_out_everywhere(session=session, user=user)
    assert users.session_stamp(user) != before
    with pytest.raises(AuthenticationFailed):
        tokens.authenticate(session=session, token=token)


@pytest.mark.parametrize(
    "password, reason",
    [
        ("12345678", "common password"),
        ("password", "common password"),
        ("        ", "Repeats"),
        ("aaaaaaaaaaaa", "Repeats"),
        ("qwertyuiop", "common password"),
        ("short", "at least 8 characters"),
    ],
)
def test_common_and_trivial_passwords_are_refused_with_a_reason(session, password, reason):
    data = {"email": "weak@example.org", "display_name": "Weak", "password": password}
    with pytest.raises(InvalidInput, match=reason) as refused:
        users.create(session=session, data=data)
    assert refused.value.field == "password"
    assert _count(session) == 0


def test_a_password_made_of_ones_own_email_is_refused(session):
    data = {"email": "margaret.hamilton@example.org", "display_name": "Margaret", "password": "margarethamilton"}
    with pytest.raises(InvalidInput):
        users.create(session=session, data=data)


def test_changing_the_password_needs_the_current_one(session, settings):
    user = make_user(session, email="change@example.org")
    with pytest.raises(InvalidInput, match="current password") as wrong:
        users.change_password(session=session, user=user, current="not it", new="a fresh long passphrase")
    assert wrong.value.field == "current_password"
    with pytest.raises(InvalidInput, match="harder to guess"):
        users.change_password(session=session, user=user, current=DEFAULT_PASSWORD, new="password")
    users.change_password(session=session, user=user, current=DEFAULT_PASSWORD, new="a fresh long passphrase")
    assert users.authenticate(session=session, email=user.email, password="a fresh long passphrase").id == user.id
    with pytest.raises(AuthenticationFailed):
        users.authenticate(session=session, email=user.email, password=DEFAULT_PASSWORD)


def test_an_instructor_resets_a_learners_password_only(session, settings):
    teacher = make_user(session, role="instructor")
    learner, colleague = make_user(session), make_user(session, role="instructor")
    token = tokens.issue(session=session, user=learner, settings=settings).secret
    reset, password = users.reset_password(session=session, user_id=learner.id, by=teacher)
    assert reset.id == learner.id
    assert users.authenticate(session=session, email=learner.email, password=password).id == learner.id
    with pytest.raises(AuthenticationFailed):
        tokens.authenticate(session=session, token=token)
    with pytest.raises(PermissionDenied):
        users.reset_password(session=session, user_id=colleague.id, by=teacher)
    with pytest.raises(PermissionDenied):
        users.reset_password(session=session, user_id=teacher.id, by=learner)


def test_a_password_change_changes_the_session_stamp(session):
    user = make_user(session, email="pw@example.org")
    before = users.session_stamp(user)
    users.set_password(session=session, user=user, password="another long password")
    assert users.session_stamp(user) != before
