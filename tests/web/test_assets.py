"""The vendored code editor: the committed bundle is the pinned one, and pages load it only by that pin."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from grader.web.assets import EDITOR_BUNDLE, EDITOR_SHA256, EDITOR_VERSION, integrity

EDITOR_SOURCES = Path(__file__).parents[2] / "editor"


def test_the_editor_bundle_matches_its_pin():
    digest = hashlib.sha256(EDITOR_BUNDLE.read_bytes()).hexdigest()
    assert digest == EDITOR_SHA256, f"{EDITOR_BUNDLE} is not the pinned build of {EDITOR_VERSION} (sha256 {digest})"


def test_the_pinned_versions_are_the_locked_ones():
    lock = json.loads((EDITOR_SOURCES / "package-lock.json").read_text())["packages"]
    wanted = json.loads((EDITOR_SOURCES / "package.json").read_text())["devDependencies"]
    for name, version in wanted.items():
        assert lock[f"node_modules/{name}"]["version"] == version, name
        assert lock[f"node_modules/{name}"]["integrity"].startswith("sha512-"), name
    for named in EDITOR_VERSION.split(", "):
        name, version = named.split(" ")
        assert wanted[name] == version, named


def test_integrity_is_the_base64_of_the_digest():
    data = b"print('hello')\n"
    expected = "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert integrity(hashlib.sha256(data).hexdigest()) == expected


def test_the_exercise_page_loads_the_editor_by_its_pin(as_learner):
    html = as_learner.get("/exercises/message-echo").text
    assert f'<script src="/static/editor.js" integrity="{integrity(EDITOR_SHA256)}" defer></script>' in html
    assert as_learner.get("/static/editor.js").content == EDITOR_BUNDLE.read_bytes()
