"""Exceptions explained as a tutor would: what the message means in the learner's own code.

``explain_exception`` takes the exception's name and message, the learner's
innermost frame and the ``SourceModel``, and returns an ``Explanation`` (a cause
code, a title, what happened, what to change, the line, and an edit when the fix
is one) or None when the code does not support a cause. It never guesses: each
rule below checks the learner's line or the model for the evidence its cause
needs (``unhashable type: 'dict'`` is a comma where a colon goes only when the
line holds a set literal; ``UnboundLocalError`` is a missing ``global`` only when
the name is bound at the top level of the file).

The table ``RULES`` maps an exception family to its rules, tried in order, one
small function each, kept by family the way friendly-traceback keeps one module
per exception: ``type_errors``, ``names`` (NameError, UnboundLocalError, imports),
``attributes``, ``calls`` (what a line hands to something that cannot take it), ``values`` (KeyError, IndexError, JSON, RecursionError) and
``framework`` (what FastAPI raised itself); the rules of ``anywhere`` hold for
any exception (a coroutine used as data) and come first. ``common`` holds what
they share.

An edit (``FixPatch``) is offered only when it changes the learner's line and
the file still parses with it; the grader checks it in the sandbox before it is
shown as code.

Cause codes (a test checks the list): ``attribute_on_dict``, ``attribute_typo``, ``awaits_plain_value``, ``bad_conversion``,
``brackets_for_call``, ``called_not_callable``, ``class_not_called``,
``complex_parameter_from_url``, ``coroutine_not_awaited``, ``dict_as_key``, ``empty_sequence``,
``endless_recursion``, ``event_loop_in_handler``, ``extra_argument``, ``form_not_json``,
``framework_raised``, ``input_in_handler``, ``invalid_field_type``, ``json_decode``,
``json_literal``, ``json_loads_on_dict``, ``method_on_message``, ``missing_argument``,
``missing_await``, ``missing_global``, ``missing_import``, ``missing_key``, ``misspelt_import``,
``misspelt_module``, ``mixed_types``, ``name_typo``, ``none_value``, ``not_serializable``,
``parameter_named_otherwise``, ``request_not_a_parameter``, ``response_model_refused``,
``response_content_not_text``, ``returns_request``, ``route_refused``, ``set_instead_of_dict``,
``status_code_as_text``, ``string_indexed``,
``string_method_on_value``, ``text_where_dict``, ``unencodable_reply``, ``unexpected_keyword``,
``used_before_assignment``, ``value_type_assumed``.
"""

from __future__ import annotations

from grader.grading.evidence.exceptions.anywhere import (
    event_loop_in_handler,
    form_without_parser,
    input_in_handler,
    missing_await,
    own_coroutine_not_awaited,
)
from grader.grading.evidence.exceptions.attributes import (
    attribute_error,
    dict_method_on_text,
    json_method_on_dict,
    string_method_on_value,
)
from grader.grading.evidence.exceptions.calls import awaits_plain_value, response_content_not_text, status_code_as_text
from grader.grading.evidence.exceptions.common import Evidence, Explanation, Rule, checked, replace_in_line
from grader.grading.evidence.exceptions.framework import (
    complex_from_url,
    framework_raised,
    invalid_field_type,
    response_model_refused,
    returns_request,
    route_refused,
    unencodable_reply,
)
from grader.grading.evidence.exceptions.names import missing_global, misspelt_import_name, misspelt_module, name_error
from grader.grading.evidence.exceptions.type_errors import (
    argument_count,
    brackets_for_call,
    called_not_callable,
    class_not_called,
    dict_as_key,
    json_loads_on_dict,
    mixed_types,
    none_value,
    not_serializable,
    set_instead_of_dict,
    string_indexed,
)
from grader.grading.evidence.exceptions.values import (
    bad_conversion,
    empty_sequence,
    endless_recursion,
    json_decode,
    missing_key,
    value_type_assumed,
)
from grader.grading.evidence.source import Route, SourceModel
from grader.grading.evidence.tracebacks import Frame, ParsedTraceback, ValidationIssue


def explain_exception(
    exception: str,
    message: str,
    frame: Frame | None,
    model: SourceModel,
    *,
    details: tuple[str, ...] = (),
    issues: tuple[ValidationIssue, ...] = (),
    path: str | None = None,
    method: str | None = None,
    in_library: bool = False,
) -> Explanation | None:
    """The exception explained from the learner's code, or None when the code supports no cause.

    exception: its class (``TypeError``, ``fastapi.exceptions.ResponseValidationError``).
    frame: the learner's innermost frame (None when the framework raised it on its own).
    path/method: the request that raised it, to find the route when no frame of theirs ran.
    in_library: whether a library called from ``frame``'s line raised it, not the line itself.
    """
    name = exception.rsplit(".", 1)[-1]
    line = model.valid_line(frame.line) if frame is not None else None
    route = _route_of(model, line, path, method)
    evidence = Evidence(name, message, frame, model, line, model.code(line), route, details, issues, in_library)
    for rule in [*ANY_EXCEPTION, *RULES.get(name, ()), *LAST_RESORT]:
        found = rule(evidence)
        if found is not None:
            return checked(found, model)
    if frame is None or line is None:
        return checked(framework_raised(evidence), model)
    return None


def explain_traceback(
    traceback: ParsedTraceback, model: SourceModel, *, path: str | None = None, method: str | None = None
) -> Explanation | None:
    """``explain_exception`` for a parsed traceback."""
    if not traceback.exception_type:
        return None
    return explain_exception(
        traceback.exception_type,
        traceback.message,
        traceback.learner_frame,
        model,
        details=traceback.details,
        issues=traceback.validation_issues,
        path=path,
        method=method,
        in_library=traceback.raised_in_library,
    )


def _route_of(model: SourceModel, line: int | None, path: str | None, method: str | None) -> Route | None:
    if line is not None:
        route = model.route_of(model.function_at(line))
        if route is not None:
            return route
    if path is not None:
        return model.route_for(path, method)
    return model.routes[0] if len(model.routes) == 1 else None


ANY_EXCEPTION: tuple[Rule, ...] = (
    missing_await,
    own_coroutine_not_awaited,
    input_in_handler,
    form_without_parser,
    event_loop_in_handler,
)
"""Rules tried whatever the exception."""


RULES: dict[str, tuple[Rule, ...]] = {
    "TypeError": (
        awaits_plain_value,
        status_code_as_text,
        class_not_called,
        value_type_assumed,
        set_instead_of_dict,
        brackets_for_call,
        dict_as_key,
        called_not_callable,
        argument_count,
        json_loads_on_dict,
        not_serializable,
        string_indexed,
        none_value,
        mixed_types,
    ),
    "ValueError": (not_serializable, bad_conversion),
    "UnboundLocalError": (missing_global,),
    "NameError": (name_error,),
    "RecursionError": (endless_recursion,),
    "AttributeError": (
        response_content_not_text,
        json_method_on_dict,
        dict_method_on_text,
        string_method_on_value,
        attribute_error,
        none_value,
    ),
    "ModuleNotFoundError": (misspelt_module,),
    "ImportError": (misspelt_import_name,),
    "KeyError": (missing_key,),
    "IndexError": (empty_sequence,),
    "JSONDecodeError": (json_decode,),
    "ResponseValidationError": (response_model_refused,),
    "FastAPIError": (invalid_field_type,),
    "AssertionError": (complex_from_url,),
}


LAST_RESORT: tuple[Rule, ...] = (complex_from_url, route_refused, returns_request, unencodable_reply)
"""Rules tried when the family's own found nothing: what FastAPI refuses while the file loads."""


__all__ = ["Evidence", "Explanation", "checked", "explain_exception", "explain_traceback", "replace_in_line"]
