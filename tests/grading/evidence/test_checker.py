"""pyflakes's findings as facts about the learner's file (read, never run)."""

from __future__ import annotations

from grader.grading.evidence import checker_facts


def _facts(source: str) -> list[tuple[str, int, str, int | None]]:
    return [(fact.kind, fact.line, fact.name, fact.other_line) for fact in checker_facts(source)]


def test_an_undefined_name_and_an_unused_import():
    source = "import json\nfrom fastapi import FastAPI\napp = FastApi()\n"
    assert _facts(source) == [
        ("unused_import", 1, "json", None),
        ("unused_import", 2, "fastapi.FastAPI", None),  # the learner meant it, but misspelt its use
        ("undefined_name", 3, "FastApi", None),
    ]


def test_a_function_defined_twice_names_the_first_definition():
    source = (
        "from fastapi import FastAPI\n"
        "app = FastAPI()\n"
        "def echo(msg):\n"
        "    return msg\n"
        "def echo(msg):\n"
        "    return {'received': msg}\n"
    )
    assert _facts(source) == [("redefinition", 5, "echo", 3)]


def test_a_local_read_before_it_is_assigned_names_the_top_level_binding():
    source = "count = 0\ndef echo():\n    print(count)\n    count = 1\n"
    facts = checker_facts(source)
    local = [fact for fact in facts if fact.kind == "local_before_assignment"]
    assert [(fact.line, fact.name, fact.other_line) for fact in local] == [(3, "count", 1)]
    assert "referenced before assignment" in local[0].message


def test_a_dict_literal_with_a_repeated_key():
    assert ("repeated_key", 1, "a", None) in _facts("x = {'a': 1, 'a': 2}\n")


def test_a_star_import_is_a_fact_and_hides_nothing():
    facts = _facts("from fastapi import *\napp = FastAPI()\n")
    assert {kind for kind, *_ in facts} == {"star_import"}


def test_notebook_lines_are_left_out_before_checking():
    source = "!pip install fastapi\nimport json\nfrom fastapi import FastAPI\napp = FastAPI()\n"
    assert _facts(source) == [("unused_import", 2, "json", None)]


def test_unreadable_files_give_no_facts_and_never_raise():
    assert checker_facts("def f(:\n") == []
    assert checker_facts("x = 1\x00") == []
    assert checker_facts("x = " + "a." * 100_000 + "b\n") == []
    assert checker_facts("x = 1\n" * 300_000) == []


def test_a_clean_file_has_no_facts():
    source = "from fastapi import FastAPI\napp = FastAPI()\n@app.post('/m')\ndef m(msg: dict):\n    return msg\n"
    assert checker_facts(source) == []
