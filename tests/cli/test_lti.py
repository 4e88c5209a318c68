"""``autograder lti register``, ``lti list`` and ``lti keys rotate``."""

from __future__ import annotations

from sqlmodel import Session, select

from grader.models import LtiDeployment, LtiKey, LtiPlatform
from grader.services.lti import keys

from .test_serve_refusal import _run_cli

REGISTRATION = [
    "lti",
    "register",
    "--issuer",
    "https://canvas.example.edu",
    "--client-id",
    "10000000000042",
    "--auth-login-url",
    "https://sso.example.edu/api/lti/authorize_redirect",
    "--auth-token-url",
    "https://sso.example.edu/login/oauth2/token",
    "--keyset-url",
    "https://sso.example.edu/api/lti/security/jwks",
    "--deployment-id",
    "42:abc",
]


def test_register_list_and_rotate(tmp_path, database_url, engine):
    env = {
        "GRADER_STATE_DIR": str(tmp_path / "state"),
        "GRADER_DATABASE_URL": database_url,
        "GRADER_PUBLIC_URL": "https://grader.example.edu",
        "GRADER_SECRET_KEY": "cli-test-secret-key-0123456789",
    }
    bad = list(REGISTRATION)
    bad[bad.index("--auth-token-url") + 1] = "not a url"
    done = _run_cli(*bad, env_extra=env)
    assert done.returncode == 2
    assert "must be an http(s) URL" in done.stderr
    with Session(engine) as session:
        assert session.exec(select(LtiPlatform)).first() is None

    done = _run_cli(*REGISTRATION, env_extra=env)
    assert done.returncode == 0, done.stderr
    assert "registered https://canvas.example.edu (client id 10000000000042)" in done.stdout
    assert "OIDC login (initiation) URL: https://grader.example.edu/lti/login" in done.stdout
    assert "Public keyset (JWKS) URL: https://grader.example.edu/lti/jwks" in done.stdout
    again = _run_cli(*REGISTRATION, env_extra=env)
    assert again.returncode == 2 and "already registered" in again.stderr

    added = _run_cli("lti", "add-deployment", "1", "43:def", env_extra=env)
    assert added.returncode == 0, added.stderr
    unknown = _run_cli("lti", "add-deployment", "99", "x", env_extra=env)
    assert unknown.returncode == 2 and "No such LTI registration" in unknown.stderr
    listed = _run_cli("lti", "list", env_extra=env)
    assert "https://canvas.example.edu  client id 10000000000042  deployments 42:abc, 43:def" in listed.stdout

    first = _run_cli("lti", "keys", "rotate", env_extra=env)
    second = _run_cli("lti", "keys", "rotate", env_extra=env)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    with Session(engine) as session:
        assert sorted(session.exec(select(LtiDeployment.deployment_id)).all()) == ["42:abc", "43:def"]
        rows = session.exec(select(LtiKey).order_by(LtiKey.id)).all()
        assert [row.retired_at is None for row in rows] == [False, True]
        published = [key["kid"] for key in keys.published(session=session)["keys"]]
        assert published == [row.kid for row in rows]
        # The private key is not stored in the clear.
        assert "PRIVATE KEY" not in rows[1].private_key
        assert keys.signing_key(session=session, secret=env["GRADER_SECRET_KEY"]).kid == rows[1].kid
