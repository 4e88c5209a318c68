"""How a function copies the message, read from its syntax tree (never run)."""

from __future__ import annotations

from grader.grading.evidence import build_source_model


def _function(*body: str):
    model = build_source_model("def echo(msg: dict):\n" + "".join(f"    {line}\n" for line in body))
    return model, model.functions[0]


def test_a_comprehension_that_changes_every_key_is_a_key_change_that_can_give_way_to_the_message():
    _, function = _function('return {"received": {k.upper(): v for k, v in msg.items()}}')
    [change] = function.key_changes
    assert (change.line, change.key, change.name, change.source) == (2, "k.upper()", "k", "msg")
    assert change.copy == "{k.upper(): v for k, v in msg.items()}"
    assert change.applied("text") == "TEXT"


def test_a_loop_that_changes_each_key_with_a_chain_of_methods():
    _, function = _function("out = {}", "for key in msg:", "    out[str(key).strip().lower()] = msg[key]", "return out")
    [change] = function.key_changes
    assert (change.line, change.key, change.copy) == (4, "str(key).strip().lower()", "")
    assert change.applied(" Text ") == "text"


def test_changes_made_to_the_values_or_with_unknown_calls_are_not_key_changes():
    _, function = _function(
        "a = {k: v.upper() for k, v in msg.items()}",
        "b = {k.upper() if k else k: v for k, v in msg.items()}",
        "c = {k.replace('a', x): v for k, v in msg.items()}",
        "d = {shout(k): v for k, v in msg.items()}",
        "return a, b, c, d",
    )
    assert function.key_changes == ()


def test_a_long_constant_argument_is_not_applied_again():
    _, function = _function("return {k.replace('a', '" + "b" * 500 + "'): v for k, v in msg.items()}")
    assert function.key_changes == ()


def test_brackets_around_a_parameter_or_a_dict_holding_it():
    _, function = _function("listed = [msg]", 'return [{"received": msg}], [other], [msg, msg]')
    assert [(b.line, b.code, b.inner, b.bare) for b in function.bracketed] == [
        (2, "[msg]", "msg", True),
        (3, '[{"received": msg}]', '{"received": msg}', False),
    ]


def test_written_keys_are_strings_and_keyword_names_with_their_lines():
    model, function = _function("data = dict(msg=msg)", 'return {"recieved": data}')
    assert model.written_at("msg") == 2
    assert model.written_at("recieved") == 3
    assert model.written_at("recieved", 1, 2) is None
    assert model.written_at("TEXT") is None


def test_fields_taken_out_of_a_parameter_in_place_are_removals():
    _, function = _function(
        'text = msg.pop("text", "")',
        'del msg["id"], other["x"]',
        "msg.clear()",
        "copy = dict(msg)",
        'copy.pop("text")',
        "return msg",
    )
    found = [(r.line, r.name, r.how, r.code, r.used) for r in function.removals]
    assert found == [
        (2, "msg", "pop", 'msg.pop("text", "")', True),
        (3, "msg", "del", 'del msg["id"], other["x"]', False),
        (4, "msg", "clear", "msg.clear()", False),
    ]


def test_reading_a_parameter_is_no_removal():
    _, function = _function('text = msg.get("text")', 'value = msg["text"]', "return msg")
    assert function.removals == ()


def test_a_loop_that_copies_a_field_only_when_its_value_is_true_is_a_truth_filter():
    _, function = _function(
        "out = {}",
        "for key, value in msg.items():",
        "    if value:",
        "        out[key] = value",
        "for key in msg:",
        "    if msg[key]:",
        "        out[key] = msg[key]",
        "return out",
    )
    assert [(found.line, found.condition, found.source) for found in function.truth_filters] == [
        (4, "value", "msg"),
        (7, "msg[key]", "msg"),
    ]


def test_other_tests_and_other_bodies_are_no_truth_filter():
    _, function = _function(
        "out = {}",
        "for key, value in msg.items():",
        "    if value is not None:",
        "        out[key] = value",
        "    if key:",
        "        out[key] = value",
        "    if value:",
        "        print(value)",
        "    if value:",
        "        out[key] = value",
        "    else:",
        "        out[key] = None",
        "return out",
    )
    assert function.truth_filters == ()
