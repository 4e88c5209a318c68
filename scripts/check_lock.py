#!/usr/bin/env python3
"""Fails when the installed packages (from requirements.lock) do not give what pyproject.toml asks.

Run by scripts/setup after installing, with the virtual environment's Python: a
dependency added to pyproject.toml without running scripts/lock stops here, with
the command that fixes it, instead of failing later as an import error.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, requires, version

from packaging.requirements import Requirement

EXTRAS = ("", "test", "dev")


def unmet() -> list[str]:
    """The project's requirements (its extras included) that the environment does not satisfy."""
    problems = []
    for text in requires("grader") or []:
        requirement = Requirement(text)
        if requirement.marker is not None and not any(requirement.marker.evaluate({"extra": e}) for e in EXTRAS):
            continue
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:
            problems.append(f"{requirement} (not in requirements.lock)")
            continue
        if not requirement.specifier.contains(installed, prereleases=True):
            problems.append(f"{requirement} (requirements.lock has {installed})")
    return problems


if __name__ == "__main__":
    problems = unmet()
    for problem in problems:
        print(f"setup: pyproject.toml asks for {problem}", file=sys.stderr)
    if problems:
        print("setup: run scripts/lock to update requirements.lock, then scripts/setup again", file=sys.stderr)
    sys.exit(1 if problems else 0)
