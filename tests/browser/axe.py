"""The accessibility check of the browser tests: axe-core, vendored from the npm registry.

The script is evaluated through the DevTools protocol, which the pages' strict
Content-Security-Policy does not govern, so the pages are checked exactly as served.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_VERSION = "4.14.1"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"

_RUN = """async () => {
  const results = await axe.run(document, { resultTypes: ["violations"] });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " :: " + (n.failureSummary || "").replace(/\\s+/g, " ")),
  }));
}"""


@cache
def axe_source() -> str:
    """axe.min.js, after checking it is the vendored file and not something else."""
    data = AXE.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    assert digest == AXE_SHA256, f"{AXE} is not axe-core {AXE_VERSION} (sha256 {digest})"
    return data.decode("utf-8")


def violations(page) -> list[dict]:
    """axe's violations on the page as it is now (all rules axe runs by default)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source() + "\n;true")
    return page.evaluate(_RUN)


def assert_accessible(page, label: str) -> None:
    """Fail with a readable list when axe finds anything on the page."""
    found = violations(page)
    lines = [f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"]) for v in found]
    assert not found, f"axe on {label} ({page.url}):\n" + "\n".join(lines)
