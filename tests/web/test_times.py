"""One rule for showing a moment: ``<time datetime="ISO with offset">`` around UTC text naming its zone.

The formatter itself, then every page that shows times, then a search of the templates, routes and
scripts for a time rendered some other way.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from grader.models import utcnow
from grader.web import times
from tests.factories import make_submission

WEB = Path(times.__file__).parent
BERLIN_WINTER = timezone(timedelta(hours=1), "CET")
MOMENT = re.compile(r'<time datetime="([^"]+)">([^<]+)</time>')


def test_a_moment_is_written_in_utc_with_the_zone_named():
    assert times.utc_text(datetime(2026, 12, 7, 14, 5, 59, tzinfo=UTC)) == "Mon 7 Dec 2026, 14:05 UTC"
    # The same moment given in another zone is still written in UTC.
    assert times.utc_text(datetime(2026, 12, 7, 15, 5, tzinfo=BERLIN_WINTER)) == "Mon 7 Dec 2026, 14:05 UTC"
    assert times.utc_text(datetime(2027, 1, 1, 0, 30, tzinfo=BERLIN_WINTER)) == "Thu 31 Dec 2026, 23:30 UTC"


def test_the_attribute_is_iso_8601_with_its_offset():
    assert times.iso_text(datetime(2026, 12, 7, 15, 5, 9, 123456, tzinfo=BERLIN_WINTER)) == "2026-12-07T14:05:09+00:00"
    assert datetime.fromisoformat(times.iso_text(datetime(2026, 6, 1, tzinfo=UTC))).utcoffset() == timedelta(0)


def test_only_aware_datetimes_are_accepted():
    naive = datetime(2026, 12, 7, 14, 5)
    for format_ in (times.utc_text, times.iso_text, times.when, times.file_stamp):
        with pytest.raises(ValueError, match="naive"):
            format_(naive)


def test_the_element_carries_both_and_what_is_missing_is_said():
    html = times.when(datetime(2026, 12, 7, 14, 5, tzinfo=UTC))
    assert html == '<time datetime="2026-12-07T14:05:00+00:00">Mon 7 Dec 2026, 14:05 UTC</time>'
    assert times.when(None) == "—"
    assert times.when(None, "never <yet>") == "never &lt;yet&gt;"


def test_names_are_english_whatever_the_server_locale():
    # strftime's %a and %b follow the locale; the formatter's names do not.
    every_month = [times.day_text(date(2026, month, 1)) for month in range(1, 13)]
    assert [text.split()[2] for text in every_month] == list(times.MONTHS)
    assert times.day_text(date(2026, 12, 7)) == "Mon 7 Dec"
    assert times.short_day_text(date(2026, 12, 7)) == "7 Dec"
    assert times.file_stamp(datetime(2026, 12, 7, 15, 5, tzinfo=BERLIN_WINTER)) == "20261207-1405"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_backend(request: pytest.FixtureRequest) -> str:
    """The pages' times read back from both databases (the last activity is an aggregate, typed differently)."""
    return request.param


def _moments(html: str) -> list[tuple[str, str]]:
    found = MOMENT.findall(html)
    assert html.count("<time") == len(found), "every <time> is the formatter's"
    for iso, text in found:
        assert iso.endswith("+00:00") and text.endswith(" UTC"), (iso, text)
        assert times.utc_text(datetime.fromisoformat(iso)) == text
    return found


def test_every_page_with_times_uses_the_one_formatter(as_instructor, as_learner, synced, learner):
    sent = datetime(2026, 12, 7, 14, 5, 30, tzinfo=UTC)
    submission = make_submission(synced, user=learner, status="graded", score=3, created_at=sent)
    assert as_learner.post_form("/account/tokens", {"name": "laptop"}, page="/account").status_code == 303
    expected = ("2026-12-07T14:05:30+00:00", "Mon 7 Dec 2026, 14:05 UTC")
    for browser, url in [
        (as_learner, f"/submissions/{submission.id}"),
        (as_learner, "/exercises/message-echo"),
        (as_instructor, f"/courses/1/learners/{learner.id}"),
        (as_instructor, "/courses/1/dashboard"),
    ]:
        html = browser.get(url).text
        assert expected in _moments(html), url
    for browser, url in [(as_learner, "/account"), (as_instructor, "/instructor/users")]:
        assert _moments(browser.get(url).text), f"{url} shows a time"
    as_instructor.get("/courses/1/gradebook.csv")  # an export is audited
    audit = as_instructor.get("/instructor/audit").text
    assert "When (UTC)" not in audit
    assert len(_moments(audit)) == 1


def test_the_chart_labels_its_days_in_english_and_says_they_run_in_utc(as_instructor, synced, learner):
    sent = utcnow()
    make_submission(synced, user=learner, status="graded", score=3, created_at=sent)
    html = as_instructor.get("/courses/1/dashboard").text
    days = html.split('id="chart-days-title"')[1].split("</figure>")[0]
    assert "days run midnight to midnight UTC" in days
    assert f"<td>{times.day_text(sent.date())}</td>" in days  # in the table of numbers
    # Under the column, where room is short, without the weekday; the tooltip has it all.
    assert f">{times.short_day_text(sent.date())}</text>" in days
    assert f"<title>{times.day_text(sent.date())}: 1</title>" in days


def test_the_csv_keeps_iso_8601_with_its_offset(as_instructor, synced, learner, other_learner):
    make_submission(
        synced, user=learner, status="graded", score=3, created_at=datetime(2026, 12, 7, 14, 5, 30, tzinfo=UTC)
    )
    lines = as_instructor.get("/courses/1/gradebook.csv").text.splitlines()
    assert lines[0].endswith(",last activity")
    assert lines[1].startswith("ada@example.org,") and lines[1].endswith(",2026-12-07T14:05:30+00:00")
    assert lines[2].startswith("bob@example.org,") and lines[2].endswith(",0,")


FORBIDDEN_IN_TEMPLATES = [
    (re.compile(r"strftime|isoformat"), "a time formatted by hand"),
    (re.compile(r"<time\b"), "a <time> element written by hand"),
    (re.compile(r"\|\s*(time|iso)\b"), "the old time filters"),
    (re.compile(r"\(UTC\)"), "a heading naming a zone its cells may not be in"),
    (
        # A name in quotes is a form field's name (field_error("due_at")), not a stored time.
        re.compile(
            r"\{\{(?![^}]*(when\(|utc_text|date_field\())[^}]*(_at|_activity|deadline|_until)\b(?![\"'])[^}]*\}\}"
        ),
        "a stored time printed as it is",
    ),
]
FORBIDDEN_IN_CODE = re.compile(r"\.strftime\(|\.isoformat\(|Markup\([^)]*<time")
FORBIDDEN_IN_SCRIPTS = re.compile(r"toLocale\w*String|Intl\.DateTimeFormat")


def test_no_time_is_rendered_outside_the_formatter():
    found = []
    for path in sorted((WEB / "templates").rglob("*.html")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            found += [
                f"{path.relative_to(WEB / 'templates')}:{number}: {why}: {line.strip()}"
                for rule, why in FORBIDDEN_IN_TEMPLATES
                if rule.search(line)
            ]
    for path in sorted([*WEB.glob("*.py"), *(WEB / "routes").glob("*.py")]):
        if path.name == "times.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if FORBIDDEN_IN_CODE.search(line):
                found.append(f"{path.relative_to(WEB)}:{number}: {line.strip()}")
    for path in sorted((WEB / "static").glob("*.js")):
        if path.name == "times.js":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if FORBIDDEN_IN_SCRIPTS.search(line):
                found.append(f"static/{path.name}:{number}: {line.strip()}")
    assert found == [], "times shown outside grader/web/times.py and static/times.js:\n" + "\n".join(found)


def test_the_search_tells_a_stored_time_from_a_field_named_after_one():
    stored = [rule for rule, _ in FORBIDDEN_IN_TEMPLATES if rule.search("<td>{{ row.due_at }}</td>")]
    assert stored and not [rule for rule, _ in FORBIDDEN_IN_TEMPLATES if rule.search('{{ field_error("due_at") }}')]


def test_the_search_would_catch_a_time_formatted_by_hand():
    line = '<td><time datetime="{{ e.created_at.isoformat() }}">{{ e.created_at.strftime("%H:%M") }}</time></td>'
    assert [why for rule, why in FORBIDDEN_IN_TEMPLATES if rule.search(line)][:2] == [
        "a time formatted by hand",
        "a <time> element written by hand",
    ]
    for raw in ["{{ token.expires_at }}", "{{ row.last_activity or 'never' }}", "{{ exercise.deadline | string }}"]:
        assert [why for rule, why in FORBIDDEN_IN_TEMPLATES if rule.search(raw)] == ["a stored time printed as it is"]
    assert not [why for rule, why in FORBIDDEN_IN_TEMPLATES if rule.search("{{ when(exercise.deadline) }}")]
    assert FORBIDDEN_IN_CODE.search('label = day.strftime("%b %d")')
    assert FORBIDDEN_IN_SCRIPTS.search("new Date().toLocaleTimeString()")
