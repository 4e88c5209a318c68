"""LTI 1.3 Advantage, the grader as a tool: registrations, keys, launches, grades and rosters.

keys           the tool's signing keys (encrypted at rest) and the JWKS it publishes
platforms      registered LMSs and their deployments; the library's tool configuration
store          what a launch keeps on the server between its requests (state, nonce, one-time codes)
launches       a validated launch's claims applied: account, course, membership, assignment
"""
