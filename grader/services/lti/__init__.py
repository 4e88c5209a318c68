"""LTI 1.3 Advantage, the grader as a tool: registrations, keys, launches, grades and rosters.

keys           the tool's signing keys (encrypted at rest) and the JWKS it publishes
platforms      registered LMSs and their deployments; the library's tool configuration
store          what a launch keeps on the server between its requests (state, nonce, one-time codes)
launches       a validated launch's claims applied: account, course, membership, assignment
"""


def tool_urls(public_url: str) -> dict[str, str]:
    """The URLs an LMS administrator pastes into the LMS when adding the tool."""
    return {
        "OIDC login (initiation) URL": f"{public_url}/lti/login",
        "Redirect / launch (target link) URL": f"{public_url}/lti/launch",
        "Public keyset (JWKS) URL": f"{public_url}/lti/jwks",
        "Deep linking URL": f"{public_url}/lti/launch",
    }
