"""The rules: one module per family of mistakes, each turning a group of cases into words.

A rule receives a ``Context`` (the finding, its cases, the learner's file and the
request) and returns the title, explanation, fix and line of its diagnosis.
``CASE_RULES`` maps each cause to its rule; a cause without one is told by
``other``, which only describes what came back.
"""

from __future__ import annotations

from grader.grading.diagnose.rules import (
    blocking,
    content_type,
    conversions,
    crashes,
    keys,
    parameters,
    returns,
    routing,
    shapes,
    state,
    status,
    structure,
    timeouts,
)
from grader.grading.diagnose.rules.status import other
from grader.grading.diagnose.wording import Rule

CASE_RULES: dict[str, Rule] = {
    **routing.RULES,
    **status.RULES,
    **blocking.RULES,
    **timeouts.RULES,
    **crashes.RULES,
    **parameters.RULES,
    **returns.RULES,
    **keys.RULES,
    **conversions.RULES,
    **state.RULES,
    **structure.RULES,
    **shapes.RULES,
    **content_type.RULES,
}

__all__ = ["CASE_RULES", "other"]
