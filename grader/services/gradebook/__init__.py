"""The instructor's gradebook: what each learner of a course achieved, read from small indexed rows.

Views never read reports: they read what ``standings.py`` records with every submission and
result (per-case outcomes, diagnoses, what a grading came to, each learner's standing on each
exercise in each course). Every read model covers one course (a ``CourseScope``): its learners,
on the exercises and quizzes its assignments place, and only the work made for those
assignments. Filtering, sorting and paging happen in SQL; links are built by the web layer.

One module per read model; callers import the one they need:

- ``columns``: the scope's exercises and quizzes (``Columns``) and learners' rows over them (``rows_for``);
- ``table``: the learners' table (its query, filter, sort and pages) and the summary line;
- ``cursor``: a page's place in the sequence of changes, and whether anything changed since;
- ``changes``: the rows of the learners that changed since a cursor (the live updates);
- ``export``: the CSV and the API's pages;
- ``learners``: one learner's page, and the cohorts behind a figure (a failing case, a common mistake).

Imports point down: ``columns`` and ``cursor`` import no sibling; ``table`` builds on both;
``changes``, ``export`` and ``learners`` build on ``table`` and ``columns``.
"""
