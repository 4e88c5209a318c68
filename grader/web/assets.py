"""Static files built from other projects' code, each pinned by its SHA-256.

The code editor (``static/editor.js``) is CodeMirror 6 bundled from ``editor/`` (its npm
versions are locked in ``editor/package-lock.json``; ``editor/README.md`` says how to
rebuild it). The pin is checked twice: a test compares the file with it, and the pages
load the file with Subresource Integrity, so a browser runs nothing but the pinned bundle.
"""

from __future__ import annotations

import base64
from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"

EDITOR_BUNDLE = STATIC_DIR / "editor.js"
EDITOR_VERSION = "@codemirror/view 6.44.2, @codemirror/lang-python 6.2.1"
EDITOR_SHA256 = "32d7a838b3636f277cbaed5176eb68512588f276adb81104b1a585c7a22ca8bd"


def integrity(sha256_hex: str) -> str:
    """The ``integrity`` attribute (Subresource Integrity) for a file with this SHA-256."""
    return "sha256-" + base64.b64encode(bytes.fromhex(sha256_hex)).decode("ascii")
