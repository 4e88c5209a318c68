"""Hint feedback: the cause and the line, never the code to write.

An exercise may set ``feedback = "hint"`` in its exercise.toml: its diagnoses
then keep their title and explanation (what is wrong and why) and the line they
point at, but their fix becomes a question to look into, with no code in it, and
they carry no patch. Every cause has its hint here; a test checks none holds code.
"""

from __future__ import annotations

from dataclasses import replace

from grader.grading.report import Diagnosis

HINTS: dict[str, str] = {
    # routing
    "wrong_path": "which path does your route decorator register, and which one does the exercise send to?",
    "redirect": "compare the end of the path in your route decorator with the path the grader sends.",
    "wrong_method": "which HTTP method does your route decorator register, and which one does the grader send?",
    "method_allowed": "which methods does your app answer on this path, and which should it refuse?",
    # parameters
    "accepts_non_objects": "which type does your endpoint's parameter declare, and what does FastAPI then refuse?",
    "refused_valid": "which messages does the type of your endpoint's parameter accept?",
    "model_fields": "which fields does your model keep, and which fields do the messages carry?",
    "json_not_awaited": "what does reading the request's body give back before it is awaited?",
    "body_embed": "where in the request body does FastAPI look for your parameter, given how you declared it?",
    "query_parameter": "where does FastAPI look for a parameter declared with this type?",
    "wrong_annotation": "which JSON objects does this type let through, and which does it refuse?",
    "form_parameter": "is the message sent as form fields, or as a JSON object?",
    "raw_body": "what is the difference between the body's raw text and the object it holds?",
    # code structure and routing
    "app_rebound": "how many times is the application made, and which one holds your route?",
    "router_not_included": "how do the routes of a router reach the application?",
    "router_included_early": "what does the router hold at the moment it is included?",
    "route_on_other_app": "which application object holds your route, and which one does the grader serve?",
    "missing_decorator": "what tells FastAPI that this function answers a request?",
    "decorator_not_called": "what does the decorator need in order to register an address?",
    "redefined_function": "how many functions in your file have this name, and which one does Python keep?",
    "duplicate_route": "how many routes does your file register for this address, and which one answers?",
    "path_without_slash": "how does the path in your decorator begin, compared with the address the grader sends?",
    "path_parameter": "where does the message travel: in the address, or in the body?",
    # return values
    "null_body": "what does your function return, and what travels back to the client?",
    "not_json": "what kind of value does your endpoint return, and what does the client receive?",
    "json_string": "who turns your reply into JSON, and how many times does that happen?",
    "not_wrapped": "what shape does the exercise ask the reply to have, and what does your return statement build?",
    "double_wrapped": "how many times is the message wrapped in the object your return statement builds?",
    "wrong_type": "what type of JSON value does the exercise expect back, and which does your return statement build?",
    "reply_shape": "what kind of value does your return statement build?",
    "too_large": "what does your return statement send back beside the message?",
    "not_json_media_type": "what media type does your reply declare, and what does a JSON client expect?",
    "set_literal": "what separates a key from its value in a dict?",
    "tuple_reply": "what does a comma between two values in a return statement make?",
    "string_reply": "is the value you return a dict, or text?",
    "returns_request": "is the object you return the message, or the request that carried it?",
    "response_model": "does the response model describe the reply you return?",
    "response_class": "what kind of response does your route or app declare, and what do you return?",
    # keys
    "misspelt_key": "spell the key of your reply letter by letter against the exercise's.",
    "renamed_key": "compare the key of your reply with the one the exercise names.",
    "changed_keys": "what does your code do to each key of the message as it copies it?",
    "dropped_fields": "does your reply send back the whole message, or only some of its fields?",
    "added_fields": "where do the fields the grader never sent come from?",
    "key_added_to_message": "is your reply a new object holding the message, or the message itself with something added?",
    # conversions
    "coerced": "which call on this line changes a value's type before it is sent back?",
    "changed": "which call on this line changes the value before it is sent back?",
    "json_dumps_value": "what does this call turn the message into?",
    "str_message": "what does this call turn the message into?",
    "sorted_items": "what kind of JSON value do these calls on the message give?",
    "parsed_twice": "has FastAPI already turned the body into a dict before your function runs?",
    "assumes_strings": "what types can the values of a message have, and does this call work on all of them?",
    # state
    "same_answer": "what is your reply built from: the request, or something fixed or remembered?",
    "kept_state": "what does this variable hold when the next request arrives?",
    # status and crashes
    "wrong_status": "which status does your endpoint set, and which one does the exercise expect?",
    "missing_global": "which variable does this line assign to, the module's or a new local one?",
    "coroutine_not_awaited": "what does calling an async function give back before it is awaited?",
    "method_not_called": "what is the difference between a method and the result of calling it?",
    "missing_import": "where does this name come from, and does your file import it?",
    "misspelt_name": "compare this name, letter by letter, with the one that exists.",
    "recursion": "which function does this line call, and where does that call end?",
    "blocking_call": "what does this call do to the other requests while it waits?",
    "crash": "what does this line do with the message the grader sent, and when does that raise?",
    "no_answer": "what keeps this request from getting its answer?",
    "not_run": "which mistake above kept the grader from sending these requests?",
    "other": "compare what was expected with what your app sent back in the cases below.",
    # load time
    "indentation": "how is this line indented, compared with the rest of its block?",
    "notebook_line": "is this line Python, or a command for a notebook?",
    "shell_line": "is this line Python, or a command for the terminal?",
    "local_module": "which files does the grader receive?",
    "syntax": "read this line and the one above it as Python reads them.",
    "server_start": "what runs when the grader loads your file, before it serves the app itself?",
    "input": "who could type an answer while the grader loads your file?",
    "exit": "what ends your program while the file is being loaded?",
    "missing_module": "which packages does the grading runtime offer?",
    "import_error": "what does this line need that does not exist yet when the file is loaded?",
    "timeout": "what at the top level of your file keeps it from finishing loading?",
    "no_app": "under which name does the grader look for your application?",
    "not_asgi": "what kind of object does the grader need under the application's name?",
    "other_framework": "which framework does the exercise ask you to build the app with?",
    "startup_crash": "what does your app run when it starts, and what does that need?",
}

KEPT_AS_THEY_ARE = {"infra"}
"""Causes whose fix is no code to begin with (the grader's own failure)."""


def as_hint(diagnosis: Diagnosis) -> Diagnosis:
    """The diagnosis with its fix turned into a hint: cause and line, no code, no patch."""
    if diagnosis.cause in KEPT_AS_THEY_ARE:
        return replace(diagnosis, fix_patch=None)
    question = HINTS.get(diagnosis.cause, HINTS["other"])
    where = f"Look at line {diagnosis.line}: " if diagnosis.line is not None else "Ask yourself: "
    return replace(diagnosis, fix=where + question, fix_patch=None)
