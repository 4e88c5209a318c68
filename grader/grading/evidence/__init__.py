"""Evidence for diagnoses, read from the learner's source and the captured output, never run.

Everything here is a pure function of text, safe on hostile input:

* ``build_source_model(text)`` -> ``SourceModel``: what the file declares (apps,
  routers, routes and their parameters, returns, state, blocking calls, imports,
  lines that are not Python, how the message is copied: see ``copies``) with
  1-based line numbers of the learner's file;
* ``checker_facts(text)`` -> ``CheckerFact`` list: pyflakes's messages as facts;
* ``syntax_fix(model)`` -> ``FixPatch`` or None: the plain edit after which Python
  can read a file it refused (checked by parsing, never by running);
* ``parse_traceback(text)`` -> ``ParsedTraceback``: the one traceback parser;
* ``explain_exception(...)`` -> ``Explanation`` or None: an exception told as a
  tutor would, when the source supports a cause;
* ``explain_refusal(validation_issues(body), model, path=...)`` -> ``Explanation`` or
  None: FastAPI's 422 before the endpoint ran, tied to the parameter that caused it.
"""

from grader.grading.evidence.checker import CheckerFact, checker_facts
from grader.grading.evidence.copies import Bracketed, KeyChange, Removal
from grader.grading.evidence.exceptions import Explanation, explain_exception, explain_traceback
from grader.grading.evidence.refusals import explain_refusal, validation_issues
from grader.grading.evidence.source import (
    AppBinding,
    Assignment,
    BlockingCall,
    Call,
    Function,
    Import,
    Inclusion,
    ModelClass,
    Param,
    Raised,
    Return,
    Route,
    ShellLine,
    SourceModel,
    StateWrite,
    SyntaxProblem,
    build_source_model,
)
from grader.grading.evidence.syntax import related_line, syntax_fix
from grader.grading.evidence.tracebacks import (
    Frame,
    ParsedTraceback,
    ValidationIssue,
    parse_load_error,
    parse_traceback,
)

__all__ = [
    "AppBinding",
    "Assignment",
    "BlockingCall",
    "Bracketed",
    "Call",
    "CheckerFact",
    "Explanation",
    "Frame",
    "Function",
    "Import",
    "Inclusion",
    "KeyChange",
    "ModelClass",
    "Param",
    "ParsedTraceback",
    "Raised",
    "Removal",
    "Return",
    "Route",
    "ShellLine",
    "SourceModel",
    "StateWrite",
    "SyntaxProblem",
    "ValidationIssue",
    "build_source_model",
    "checker_facts",
    "explain_exception",
    "explain_refusal",
    "explain_traceback",
    "parse_load_error",
    "parse_traceback",
    "related_line",
    "syntax_fix",
    "validation_issues",
]
