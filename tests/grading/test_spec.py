"""Exercise definitions: loading, validation, hashing, and a second exercise from a new folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.config import PROJECT_ROOT
from grader.grading.cases import expand_cases
from grader.grading.spec import SpecError, load_exercise, load_exercises

EXERCISES = PROJECT_ROOT / "exercises"
TEST_EXERCISES = PROJECT_ROOT / "tests" / "exercises"

MINIMAL = """
title = "Ping"
instructions = "Answer pings."

[[cases]]
name = "ping"
description = "POST /ping echoes"
request = { method = "POST", path = "/ping", json = { n = 1 } }
expect = { status = 200, json = { pong = "$request" } }
"""


def write_exercise(root: Path, slug: str, text: str) -> Path:
    folder = root / slug
    folder.mkdir(parents=True)
    (folder / "exercise.toml").write_text(text, encoding="utf-8")
    return folder


def test_every_exercise_of_the_repository_loads():
    exercises = {**load_exercises(EXERCISES), **load_exercises(TEST_EXERCISES)}
    assert {"message-echo", "health-check"} <= set(exercises)
    for slug, spec in exercises.items():
        assert spec.slug == slug
        assert len(spec.spec_hash) == 16
        assert spec.max_score > 0


def test_message_echo_covers_what_the_issue_asks():
    spec = load_exercises(EXERCISES)["message-echo"]
    names = {case.name for case in spec.cases}
    assert {
        "hello",
        "hi",
        "extra-fields",
        "every-json-type",
        "unicode",
        "empty-object",
        "long-text",
        "random",
        "malformed-json",
        "array-body",
        "string-body",
        "get-not-allowed",
    } <= names
    statuses = {case.name: case.expect.status for case in spec.cases}
    assert statuses["malformed-json"] == statuses["array-body"] == statuses["string-body"] == 422
    assert statuses["get-not-allowed"] == 405
    concrete = {case.name: case for case in expand_cases(spec, seed=1)}
    assert concrete["hello"].expected_body == {"received": {"text": "Hello"}}
    every = concrete["every-json-type"].sent_json
    assert {type(v) for v in every.values()} >= {str, int, float, bool, type(None), list, dict}
    assert len(concrete["long-text"].sent_json["text"]) >= 10_000
    assert concrete["malformed-json"].headers["content-type"] == "application/json"


def test_a_new_folder_is_a_new_exercise(tmp_path):
    write_exercise(tmp_path, "ping", MINIMAL)
    shutil.copytree(TEST_EXERCISES / "health-check", tmp_path / "health-check")
    exercises = load_exercises(tmp_path)
    assert set(exercises) == {"health-check", "ping"}
    ping = expand_cases(exercises["ping"], seed=0)[0]
    assert (ping.method, ping.path, ping.expected_body) == ("POST", "/ping", {"pong": {"n": 1}})


def test_spec_hash_changes_when_a_case_changes(tmp_path):
    first = load_exercise(write_exercise(tmp_path / "a", "ping", MINIMAL))
    same = load_exercise(write_exercise(tmp_path / "b", "ping", MINIMAL))
    changed = load_exercise(write_exercise(tmp_path / "c", "ping", MINIMAL.replace("n = 1", "n = 2")))
    rescored = load_exercise(
        write_exercise(tmp_path / "d", "ping", MINIMAL.replace('name = "ping"', 'name = "ping"\npoints = 3'))
    )
    assert first.spec_hash == same.spec_hash
    assert len({first.spec_hash, changed.spec_hash, rescored.spec_hash}) == 3


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda t: t.replace('title = "Ping"\n', ""), "title"),
        (lambda t: t.replace('name = "ping"', 'name = "Ping Pong"'), "name"),
        (lambda t: t.replace("json = { n = 1 }", 'json = { n = 1 }, raw = "x"'), "at most one"),
        (lambda t: t.replace("json = { n = 1 }", "json_text = '{broken'"), "json_text"),
        (lambda t: t.replace('path = "/ping"', 'path = "ping"'), "path"),
        (lambda t: t.replace("status = 200", "status = 999"), "status"),
        (lambda t: t.replace("expect = {", "surprise = 1\nexpect = {"), "surprise"),
        (lambda t: t + t[t.index("[[cases]]") :], "repeated: ping"),
        (lambda t: t.replace(", json = { n = 1 }", ""), "$request"),
        (lambda t: t + "\n[limits]\nmemory_bytes = 10\n", "memory_bytes"),
        (lambda t: t.replace("[[cases]]", "[[cases]\n"), "exercise.toml"),
    ],
)
def test_invalid_definitions_are_refused_with_a_reason(tmp_path, change, complaint):
    folder = write_exercise(tmp_path, "ping", change(MINIMAL))
    with pytest.raises(SpecError) as caught:
        load_exercise(folder)
    assert complaint in str(caught.value)
    assert str(folder / "exercise.toml") in str(caught.value)


def test_slug_must_match_the_folder(tmp_path):
    folder = write_exercise(tmp_path, "ping", 'slug = "pong"\n' + MINIMAL)
    with pytest.raises(SpecError, match="differs from folder name"):
        load_exercise(folder)


def test_random_cases_need_no_body_and_are_counted_per_object(tmp_path):
    text = (
        MINIMAL
        + """
[[cases]]
name = "random"
description = "made up"
points = 2
random = 4
request = { method = "POST", path = "/ping" }
expect = { status = 200, json = { pong = "$request" } }
"""
    )
    spec = load_exercise(write_exercise(tmp_path, "ping", text))
    assert spec.max_score == 1 + 2 * 4
    names = [case.name for case in expand_cases(spec, seed=5)]
    assert names == ["ping", "random-1", "random-2", "random-3", "random-4"]
    with pytest.raises(SpecError, match="random case generates its own body"):
        load_exercise(
            write_exercise(
                tmp_path / "x",
                "ping",
                text.replace(
                    'path = "/ping" }\nexpect = { status = 200, json = { pong',
                    'path = "/ping", json = { a = 1 } }\nexpect = { status = 200, json = { pong',
                ),
            )
        )


def test_an_exercise_offers_only_packages_the_learner_runtime_has(tmp_path):
    shutil.copy(EXERCISES / "runtime-requirements.txt", tmp_path / "runtime-requirements.txt")
    write_exercise(tmp_path, "ping", 'packages = ["FastAPI", "typing_extensions"]\n' + MINIMAL)
    assert load_exercises(tmp_path)["ping"].packages == ["FastAPI", "typing_extensions"]
    write_exercise(tmp_path, "pong", 'packages = ["fastapi", "flask"]\n' + MINIMAL)
    with pytest.raises(SpecError, match=r"pong/exercise.toml: packages flask are not in the learner runtime"):
        load_exercises(tmp_path)


def test_message_echo_states_that_its_replies_are_json():
    spec = load_exercises(EXERCISES)["message-echo"]
    assert spec.media_type == "json"
    for concrete in expand_cases(spec, seed=1):
        if concrete.checks_body:
            assert concrete.expected_headers == {"content-type": "application/json"}, concrete.name
        else:
            assert concrete.expected_headers == {}, f"{concrete.name} checks no body, so no media type"


def test_the_media_type_rule_has_an_exercise_default_and_a_per_case_override(tmp_path):
    text = (
        'media_type = "application/problem+json"\n'
        + MINIMAL
        + """
[[cases]]
name = "lenient"
description = "any media type will do"
request = { method = "POST", path = "/ping", json = { n = 2 } }
expect = { status = 200, json = { pong = "$request" }, media_type = "any" }

[[cases]]
name = "json"
description = "any JSON media type"
request = { method = "POST", path = "/ping", json = { n = 3 } }
expect = { status = 200, json = { pong = "$request" }, media_type = "JSON", headers = { "X-Echo" = "yes" } }

[[cases]]
name = "status-only"
description = "no body is checked"
request = { method = "GET", path = "/ping" }
expect = { status = 405, headers = { allow = "POST" } }
"""
    )
    spec = load_exercise(write_exercise(tmp_path, "ping", text))
    headers = {case.name: case.expected_headers for case in expand_cases(spec, seed=0)}
    assert headers == {
        "ping": {"content-type": "application/problem+json"},
        "lenient": {},
        "json": {"x-echo": "yes", "content-type": "application/json"},
        "status-only": {"allow": "POST"},
    }
    # Without a word from the exercise, a JSON body must come as JSON.
    default = load_exercise(write_exercise(tmp_path / "default", "ping", MINIMAL))
    assert default.media_type == "json"
    assert expand_cases(default, seed=0)[0].expected_headers == {"content-type": "application/json"}


def test_the_media_type_rule_is_part_of_the_spec_hash(tmp_path):
    strict = load_exercise(write_exercise(tmp_path / "a", "ping", MINIMAL))
    lenient = load_exercise(write_exercise(tmp_path / "b", "ping", 'media_type = "any"\n' + MINIMAL))
    assert strict.spec_hash != lenient.spec_hash


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda t: 'media_type = "JSON please"\n' + t, "is not 'json', 'any' or a media type"),
        (lambda t: t.replace("status = 200,", 'status = 200, media_type = "text",'), "is not 'json', 'any'"),
        (
            lambda t: t.replace("status = 200,", 'status = 200, headers = { "Content-Type" = "text/plain" },'),
            "checked with media_type",
        ),
        (lambda t: t.replace("status = 200,", 'status = 200, headers = { "bad name" = "x" },'), "not a header name"),
    ],
)
def test_a_bad_media_type_or_header_is_refused_with_a_reason(tmp_path, change, complaint):
    folder = write_exercise(tmp_path, "ping", change(MINIMAL))
    with pytest.raises(SpecError, match="exercise.toml") as caught:
        load_exercise(folder)
    assert complaint in str(caught.value)


HIDDEN_CASE = """
[[cases]]
name = "secret-ping"
description = "a ping learners do not see"
visibility = "{visibility}"
request = {{ method = "POST", path = "/ping", json = {{ n = 2 }} }}
expect = {{ status = 200, json = {{ pong = "$request" }} }}
"""


@pytest.mark.parametrize("visibility", ["visible", "hidden", "after_due_date", "after_published"])
def test_a_case_says_when_learners_see_it(tmp_path, visibility):
    spec = load_exercise(write_exercise(tmp_path, "ping", MINIMAL + HIDDEN_CASE.format(visibility=visibility)))
    assert [case.visibility for case in spec.cases] == ["visible", visibility]
    assert [case.visibility for case in expand_cases(spec, 1)] == ["visible", visibility]


def test_an_unknown_visibility_is_refused_naming_the_case(tmp_path):
    folder = write_exercise(tmp_path, "ping", MINIMAL + HIDDEN_CASE.format(visibility="secret"))
    with pytest.raises(SpecError) as caught:
        load_exercise(folder)
    message = str(caught.value)
    assert "case 'secret-ping': visibility 'secret' is not one of 'visible', 'hidden'" in message
    assert str(folder / "exercise.toml") in message


def test_hidden_cases_come_after_the_visible_ones(tmp_path):
    hidden_first = MINIMAL.replace("[[cases]]", HIDDEN_CASE.format(visibility="hidden") + "\n[[cases]]")
    with pytest.raises(SpecError, match="case 'ping' is visible but comes after case 'secret-ping'"):
        load_exercise(write_exercise(tmp_path, "ping", hidden_first))


def test_who_sees_a_case_is_not_part_of_the_spec_hash(tmp_path):
    hidden = load_exercise(write_exercise(tmp_path / "a", "ping", MINIMAL + HIDDEN_CASE.format(visibility="hidden")))
    shown = load_exercise(write_exercise(tmp_path / "b", "ping", MINIMAL + HIDDEN_CASE.format(visibility="visible")))
    assert hidden.spec_hash == shown.spec_hash
