"""``autograder create-user --csv``: every bad line reported at once, or every account created."""

from __future__ import annotations

from sqlmodel import Session, select

from grader.models import User

from .test_serve_refusal import _run_cli


def test_a_bad_csv_lists_every_bad_line_and_creates_nothing(tmp_path, database_url, engine):
    people = tmp_path / "people.csv"
    people.write_text("email,display_name\nok@example.org,Ok\nbad,Bad\nok@example.org,Again\n", encoding="utf-8")
    env = {"GRADER_STATE_DIR": str(tmp_path / "state"), "GRADER_DATABASE_URL": database_url}
    done = _run_cli("create-user", "--csv", str(people), env_extra=env)
    assert done.returncode == 2, done.stderr
    assert "Nothing was imported: 2 lines of the CSV need fixing." in done.stderr
    assert "Line 3: Enter a valid e-mail address." in done.stderr
    assert "Line 4: ok@example.org is also on line 2." in done.stderr
    with Session(engine) as session:
        assert session.exec(select(User)).first() is None

    people.write_text("email,display_name\nok@example.org,Ok\nfine@example.org,Fine\n", encoding="utf-8")
    done = _run_cli("create-user", "--csv", str(people), env_extra=env)
    assert done.returncode == 0, done.stderr
    assert "2 account(s) created" in done.stderr
    with Session(engine) as session:
        assert sorted(session.exec(select(User.email))) == ["fine@example.org", "ok@example.org"]
