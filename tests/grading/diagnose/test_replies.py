"""Return values, statuses and blocking calls: told from the return statement and the handler (no sandbox)."""

from __future__ import annotations

from dataclasses import replace

from grader.grading.report import CaseResult, FixPatch, HttpExchange

from .support import HELLO, HI, case, first_diagnosis, program


def test_a_tuple_is_one_card_with_its_fix():
    source = program('@app.post("/message")', "def echo(msg: dict):", '    return {"received": msg}, 200')
    first, diagnoses = first_diagnosis(
        source,
        case("hello", HELLO, [{"received": HELLO}, 200]),
        case("hi", HI, [{"received": HI}, 200]),
    )
    assert len(diagnoses) == 1 and first.cause == "tuple_reply" and first.line == 8
    assert first.fix_patch == FixPatch(8, '    return {"received": msg}, 200', '    return {"received": msg}')


def test_a_misspelt_key_is_patched_where_it_is_written():
    source = program('@app.post("/message")', "def echo(msg: dict):", '    return {"recieved": msg}')
    first, _ = first_diagnosis(source, case("hello", HELLO, {"recieved": HELLO}))
    assert first.fix_patch == FixPatch(8, '    return {"recieved": msg}', '    return {"received": msg}')


def test_the_unwrapped_message_is_wrapped_in_the_learners_own_name():
    source = program('@app.post("/message")', "def echo(payload: dict):", "    return payload")
    first, _ = first_diagnosis(source, case("hello", HELLO, HELLO))
    assert first.cause == "not_wrapped" and '`{"received": payload}`' in first.fix
    assert first.fix_patch == FixPatch(8, "    return payload", '    return {"received": payload}')


def test_a_raised_status_names_its_condition():
    source = program(
        '@app.post("/message")',
        "def echo(msg: dict):",
        "    if not msg:",
        '        raise HTTPException(status_code=400, detail="empty")',
        '    return {"received": msg}',
    )
    first, _ = first_diagnosis(source, case("empty", {}, {"detail": "empty"}, status=400))
    assert first.cause == "wrong_status" and first.line == 9
    assert "when `not msg` (line 8) holds" in first.explanation
    # The check and its raise go together; the edit is shown only once grading the changed file passed.
    assert first.fix_patch == FixPatch(
        8, '    if not msg:\n        raise HTTPException(status_code=400, detail="empty")', ""
    )


def test_a_sleep_in_async_def_names_its_line():
    source = program(
        '@app.post("/message")',
        "async def echo(msg: dict):",
        "    time.sleep(30)",
        '    return {"received": msg}',
        imports="import time\nfrom fastapi import FastAPI",
    )
    timed_out = replace(case("hello", HELLO, None), received=HttpExchange(), problem="no complete answer within 5 s")
    first, _ = first_diagnosis(source, timed_out)
    assert first.cause == "blocking_call" and first.line == 9
    assert "`time.sleep(30)`" in first.title and "async def" in first.explanation


def test_a_method_named_without_brackets():
    source = program('@app.post("/message")', "async def echo(msg: dict):", '    return {"received": msg.copy}')
    crashed = case("hello", HELLO, {"detail": "Internal Server Error"}, status=500)
    first, _ = first_diagnosis(source, crashed)
    assert first.cause == "method_not_called" and first.line == 8
    assert first.fix_patch is not None and first.fix_patch.after == '    return {"received": msg.copy()}'


def test_a_return_inside_a_loop():
    source = program(
        '@app.post("/message")',
        "async def echo(msg: dict):",
        "    for key in msg:",
        '        return {"received": msg}',
    )
    first, _ = first_diagnosis(source, case("empty", {}, None))
    assert first.cause == "null_body" and first.line == 8 and "`for`" in first.explanation


def test_a_message_wrapped_one_level_too_deep_names_the_extra_key_at_its_line():
    """Not "fields are missing" and not the first return: the branch that builds the extra object."""
    message = {"text": "Hi there", "n": 2}
    source = program(
        '@app.post("/message")',
        "def echo(msg: dict):",
        '    if msg.get("text") == "Hello":',
        '        return {"received": msg}',
        '    return {"received": {"wrapped": msg}}',
    )
    first, diagnoses = first_diagnosis(source, case("two", message, {"received": {"wrapped": message}}))
    assert first.cause == "double_wrapped" and first.line == 10
    assert '"wrapped"' in first.title and "twice" not in first.title
    assert "missing" not in first.title and 'return `{"received": msg}`' in first.fix


def test_the_same_key_twice_is_still_wrapped_twice():
    source = program('@app.post("/message")', "def echo(msg: dict):", '    return {"received": {"received": msg}}')
    first, _ = first_diagnosis(source, case("hello", HELLO, {"received": {"received": HELLO}}))
    assert first.cause == "double_wrapped" and 'wrapped twice in "received"' in first.title


def test_a_conditional_that_returns_none_for_an_empty_message_is_named_at_its_line():
    source = program(
        '@app.post("/message")', "def receive_message(msg: dict):", '    return {"received": msg} if msg else None'
    )
    first, _ = first_diagnosis(source, case("empty-object", {}, None))
    assert first.title == "An empty message gets null back" and first.line == 8
    assert "without a `return`" not in first.explanation
    assert first.fix_patch is not None and first.fix_patch.after.strip() == 'return {"received": msg}'


def test_the_text_none_inside_a_string_is_not_taken_for_a_returned_none():
    source = program(
        '@app.post("/message")',
        "def receive_message(msg: dict):",
        "    if msg:",
        '        return {"received": "None"}',
    )
    first, _ = first_diagnosis(source, case("empty-object", {}, None))
    assert "null back" not in first.title and "can return None" not in first.title


def test_keys_changed_by_a_string_method_are_one_card_naming_it_not_misspellings():
    source = program(
        '@app.post("/message")',
        "def echo(msg: dict):",
        '    return {"received": {k.upper(): v for k, v in msg.items()}}',
    )
    first, diagnoses = first_diagnosis(
        source,
        case("hello", HELLO, {"received": {"TEXT": "Hello"}}),
        case("other", {"s": 1}, {"received": {"S": 1}}),
    )
    assert len(diagnoses) == 1 and first.cause == "changed_keys" and first.line == 8
    assert "`k.upper()`" in first.title and "you wrote" not in first.title
    assert first.fix_patch == FixPatch(
        8, '    return {"received": {k.upper(): v for k, v in msg.items()}}', '    return {"received": msg}'
    )


def test_a_key_the_file_never_writes_is_not_called_misspelt_even_without_a_known_change():
    source = program('@app.post("/message")', "def echo(msg: dict):", '    return {"received": shout(msg)}')
    first, diagnoses = first_diagnosis(source, case("hello", HELLO, {"received": {"TEXT": "Hello"}}))
    assert len(diagnoses) == 1 and first.cause == "changed_keys" and first.line == 8
    assert "never writes" in first.explanation and "you wrote" not in first.title
    assert first.fix_patch == FixPatch(8, '    return {"received": shout(msg)}', '    return {"received": msg}')


def test_a_key_misspelt_as_a_keyword_is_patched_where_it_is_written():
    source = program('@app.post("/message")', "def echo(msg: dict):", "    return dict(recieved=msg)")
    first, _ = first_diagnosis(source, case("hello", HELLO, {"recieved": HELLO}))
    assert first.cause == "misspelt_key" and first.line == 8
    assert first.fix_patch == FixPatch(8, "    return dict(recieved=msg)", "    return dict(received=msg)")


def test_the_message_in_a_list_names_the_brackets_at_their_line():
    source = program(
        '@app.post("/message")', "def echo(msg: dict):", "    listed = [msg]", '    return {"received": listed}'
    )
    first, _ = first_diagnosis(source, case("hello", HELLO, {"received": [HELLO]}))
    assert first.cause == "wrong_type" and first.line == 8 and "`[msg]`" in first.title
    assert first.fix_patch == FixPatch(8, "    listed = [msg]", "    listed = msg")


def test_a_return_on_the_first_pass_of_a_loop_over_the_message_is_one_card():
    source = program(
        '@app.post("/message")',
        "def echo(msg: dict):",
        "    for key in msg:",
        '        return {"received": {key: msg[key]}}',
    )
    first, diagnoses = first_diagnosis(
        source,
        case("empty", {}, None),
        case("two", {"a": 1, "b": 2}, {"received": {"a": 1}}),
    )
    assert len(diagnoses) == 1 and first.cause == "null_body" and first.line == 8 and "first pass" in first.title
    assert first.fix_patch == FixPatch(
        8, '    for key in msg:\n        return {"received": {key: msg[key]}}', '    return {"received": msg}'
    )


def _answered_by_endpoint(result: CaseResult) -> CaseResult:
    return replace(result, reached_endpoint=True)


def test_a_422_the_endpoint_raised_is_its_own_not_fastapis():
    """FastAPI's refusal lists what failed; a 422 with the endpoint's own detail came from its ``raise``."""
    source = program(
        '@app.post("/message")',
        "async def echo(msg: dict):",
        "    for value in msg.values():",
        "        if not isinstance(value, str):",
        '            raise HTTPException(status_code=422, detail="text only")',
        '    return {"received": msg}',
        imports="from fastapi import FastAPI, HTTPException",
    )
    own = _answered_by_endpoint(case("numbers", {"n": 1}, {"detail": "text only"}, status=422))
    first, diagnoses = first_diagnosis(source, own)
    assert first.cause == "wrong_status" and first.line == 10 and len(diagnoses) == 1
    assert "before your function ran" not in first.explanation
    assert "Your function ran" in first.explanation and "`not isinstance(value, str)` (line 9)" in first.explanation
    # Removing the if alone would leave the loop empty: the loop goes too.
    assert first.fix_patch is not None and (first.fix_patch.line, first.fix_patch.after) == (8, "")
    assert first.fix_patch.before.splitlines()[0] == "    for value in msg.values():"


def test_a_422_in_fastapis_shape_is_still_a_refusal():
    source = program(
        '@app.post("/message")',
        "async def echo(msg: dict):",
        "    if msg:",
        '        raise HTTPException(status_code=422, detail="no")',
        '    return {"received": msg}',
        imports="from fastapi import FastAPI, HTTPException",
    )
    issues = {"detail": [{"type": "dict_type", "loc": ["body"], "msg": "Input should be a valid dictionary"}]}
    refused = replace(case("hello", HELLO, issues, status=422), reached_endpoint=False)
    first, _ = first_diagnosis(source, refused)
    assert first.cause != "wrong_status"


SENT = {"text": "Hello", "id": 7}


def test_a_field_popped_from_the_message_is_named_at_the_pop_not_at_the_return():
    source = program(
        '@app.post("/message")',
        "def echo(msg: dict):",
        '    text = msg.pop("text", "")',
        "    print(text)",
        '    return {"received": msg}',
    )
    first, diagnoses = first_diagnosis(source, case("hello", SENT, {"received": {"id": 7}}))
    assert len(diagnoses) == 1 and first.cause == "dropped_fields" and first.line == 8
    assert "`pop`" in first.explanation and "line 10" in first.explanation
    assert "before that line" not in first.explanation
    assert first.fix_patch == FixPatch(8, '    text = msg.pop("text", "")', '    text = msg.get("text", "")')


def test_a_field_deleted_from_the_message_is_named_at_the_del():
    source = program(
        '@app.post("/message")', "def echo(data: dict):", '    del data["id"]', '    return {"received": data}'
    )
    first, _ = first_diagnosis(source, case("hello", SENT, {"received": {"text": "Hello"}}))
    assert first.cause == "dropped_fields" and first.line == 8 and first.fix_patch is None
    assert first.fix.startswith('Remove `del data["id"]` from line 8')


def test_fields_dropped_by_the_response_model_are_told_at_its_line_as_lost_after_the_return():
    source = program(
        "class Message(BaseModel):",
        "    text: str",
        "class Reply(BaseModel):",
        "    received: Message",
        '@app.post("/message", response_model=Reply)',
        "def echo(msg: dict):",
        '    return {"received": msg}',
        imports="from fastapi import FastAPI\nfrom pydantic import BaseModel",
    )
    first, _ = first_diagnosis(source, case("hello", SENT, {"received": {"text": "Hello"}}))
    assert first.cause == "response_model" and first.line == 11
    assert "after your function returns" in first.explanation and "before that line" not in first.explanation
    assert "`received` (a `Message`, which declares only `text`)" in first.explanation
    assert first.fix_patch == FixPatch(11, '@app.post("/message", response_model=Reply)', '@app.post("/message")')


def test_a_return_annotation_that_is_a_model_is_the_response_model():
    source = program(
        "class Reply(BaseModel):",
        "    received: dict",
        '@app.post("/message")',
        "def echo(msg: dict) -> Reply:",
        '    return {"received": {"text": msg["text"]}}',
        imports="from fastapi import FastAPI\nfrom pydantic import BaseModel",
    )
    # The return line does not send the message whole: the model is not what dropped the field.
    first, _ = first_diagnosis(source, case("hello", SENT, {"received": {"text": "Hello"}}))
    assert first.cause == "dropped_fields" and first.line == 11
    source = source.replace('{"text": msg["text"]}', "msg")
    first, _ = first_diagnosis(source, case("hello", SENT, {"received": {"text": "Hello"}}))
    assert first.cause == "response_model" and first.line == 10 and "`-> Reply`" in first.title
    assert first.fix_patch == FixPatch(10, "def echo(msg: dict) -> Reply:", "def echo(msg: dict):")
