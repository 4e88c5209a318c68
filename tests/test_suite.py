"""The test suite's own set-up: one import path per helper, cheap password hashing."""

from __future__ import annotations

import importlib
import subprocess
import sys

import argon2
from argon2 import profiles

import tests.factories
from grader.services import users


def test_factories_have_one_module() -> None:
    """Imported under two names, factories would keep two counters and two password hashes."""
    try:
        other = importlib.import_module("factories")
    except ModuleNotFoundError:
        return
    assert other is tests.factories


def test_tests_hash_passwords_cheaply() -> None:
    parameters = argon2.extract_parameters(users.hash_password("correct horse battery"))
    assert (parameters.memory_cost, parameters.time_cost) == (
        profiles.CHEAPEST.memory_cost,
        profiles.CHEAPEST.time_cost,
    )


def test_the_service_outside_the_tests_hashes_with_production_parameters() -> None:
    hashed = subprocess.run(
        [sys.executable, "-c", "from grader.services import users; print(users.hash_password('x'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    parameters = argon2.extract_parameters(hashed)
    production = profiles.RFC_9106_LOW_MEMORY
    assert (parameters.memory_cost, parameters.time_cost) == (production.memory_cost, production.time_cost)
