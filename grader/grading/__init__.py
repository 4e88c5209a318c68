"""The grading core: exercise specs, the sandbox, the runner and its reports.

It imports nothing from the web layer, the database or templates, so it runs
from a unit test or the command line alone.
"""
