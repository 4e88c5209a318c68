"""The one way a page shows a moment: ``<time datetime="ISO 8601 with offset">`` around its time in UTC.

The server writes every moment in UTC with the zone named ("Mon 7 Dec 2026, 14:05 UTC"), in English
whatever the server's locale, so a page read without script is still exact. ``static/times.js`` then
rewrites each such element into the viewer's own zone, again naming it ("Mon 7 Dec 2026, 15:05 CET"),
in the page's language. Templates call ``when(value)``; deadlines and anything else shown as a time
use it too. A date to edit goes in a ``datetime-local`` field through ``date_field(value)``: its value
in UTC and the moment beside it, which times.js turns into the browser's zone (and names that zone
in the form). Only aware datetimes are accepted: a naive one has no moment to show.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from markupsafe import Markup, escape

# Fixed English names, not strftime's %a/%b: those follow the server's locale.
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _in_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"a naive datetime ({value}) has no time zone; store and pass aware datetimes")
    return value.astimezone(UTC)


def short_day_text(value: date) -> str:
    """A calendar day as ``7 Dec`` (where room is short, such as under a chart's column)."""
    return f"{value.day} {MONTHS[value.month - 1]}"


def day_text(value: date) -> str:
    """A calendar day as ``Mon 7 Dec``."""
    return f"{DAYS[value.weekday()]} {short_day_text(value)}"


def utc_text(value: datetime) -> str:
    """A moment in UTC with the zone named: ``Mon 7 Dec 2026, 14:05 UTC``."""
    moment = _in_utc(value)
    return f"{day_text(moment)} {moment.year}, {moment:%H:%M} UTC"


def iso_text(value: datetime) -> str:
    """A moment as ISO 8601 with its offset, to the second: ``2026-12-07T14:05:00+00:00``."""
    return _in_utc(value).isoformat(timespec="seconds")


def file_stamp(value: datetime) -> str:
    """A moment for a file name, in UTC: ``20261207-1405``."""
    return f"{_in_utc(value):%Y%m%d-%H%M}"


def when(value: datetime | None, missing: str = "—") -> Markup:
    """A ``<time>`` element for ``value`` (``missing`` when there is none), rewritten by times.js."""
    if value is None:
        return Markup(escape(missing))
    return Markup('<time datetime="{}">{}</time>').format(iso_text(value), utc_text(value))


def date_field(value: datetime | None, typed: str | None = None) -> Markup:
    """A ``datetime-local`` field's attributes: ``value`` in UTC with the moment for times.js, or the text ``typed``.

    ``typed`` is what a refused form sent back (in the zone it was typed in), shown as it was.
    """
    if typed is not None:
        return Markup('value="{}"').format(typed)
    if value is None:
        return Markup('value=""')
    moment = _in_utc(value)
    return Markup('value="{}" data-utc="{}"').format(f"{moment:%Y-%m-%dT%H:%M}", iso_text(moment))
