"""Bar charts as geometry for server-rendered inline SVG (``templates/_chart.html``).

No chart library and no script: a chart is computed here as plain data (bars
with their coordinates and labels) and the template only draws rectangles and
text. Every chart also carries its numbers so the page can list them as a table
for screen readers and for anyone who prefers figures to bars.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal

LABEL_WIDTH = 170  # the most room the category names of a horizontal chart may take
CHAR_WIDTH = 7  # a generous width of one 11px character, to size the room for labels
VALUE_ROOM = 60  # room right of a horizontal bar for its value
ROW_HEIGHT = 26
COLUMN_AREA_HEIGHT = 160
COLUMN_LABEL_HEIGHT = 34
TOP_MARGIN = 18


@dataclass(frozen=True)
class Bar:
    """One bar: its category, its value as text, its box and whether it stands out.

    ``drawn_label`` is ``label`` as it fits beside the bar (shortened with "…" when
    it would not); the full ``label`` goes in the tooltip and the table of numbers.
    ``link``, when set, is where the bar leads (e.g. the learners behind it).
    """

    label: str
    value: float
    value_text: str
    x: float
    y: float
    width: float
    height: float
    label_x: float
    label_y: float
    value_x: float
    value_y: float
    emphasis: bool = False
    drawn_label: str = ""
    link: str = ""


@dataclass(frozen=True)
class Chart:
    """A bar chart ready to draw: ``kind`` is ``columns`` (vertical) or ``rows`` (horizontal).

    statistics: (name, value) pairs shown under the chart; notes: warnings about what it shows.
    """

    chart_id: str
    title: str
    description: str
    kind: Literal["columns", "rows"]
    width: float
    height: float
    bars: list[Bar] = field(default_factory=list)
    value_heading: str = "Value"
    emphasis_note: str = ""
    legend: list[tuple[str, str]] = field(default_factory=list)
    statistics: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """Whether there is nothing to draw."""
        return not self.bars


def fit_label(label: str, room: float) -> str:
    """``label`` shortened with "…" so that it fits in ``room`` pixels."""
    most = max(int(room // CHAR_WIDTH), 2)
    return label if len(label) <= most else label[: most - 1] + "…"


def _format(value: float, unit: str) -> str:
    number = f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    return f"{number}{unit}"


def column_chart(
    chart_id: str,
    title: str,
    description: str,
    points: Sequence[tuple[str, float]],
    *,
    unit: str = "",
    value_heading: str = "Value",
    column_width: float = 34,
    gap: float = 8,
    drawn_labels: Sequence[str] = (),
) -> Chart:
    """Vertical bars, one per (label, value), in the order given (time, score bands...).

    ``drawn_labels``, when given, are what is written under the columns (a shorter form that fits);
    the full labels stay in the tooltips and the table of numbers.
    """
    largest = max((value for _, value in points), default=0) or 1
    width = max(len(points) * (column_width + gap) + gap, 200)
    height = TOP_MARGIN + COLUMN_AREA_HEIGHT + COLUMN_LABEL_HEIGHT
    baseline = TOP_MARGIN + COLUMN_AREA_HEIGHT
    bars = []
    for index, (label, value) in enumerate(points):
        bar_height = COLUMN_AREA_HEIGHT * value / largest
        x = gap + index * (column_width + gap)
        bars.append(
            Bar(
                label=label,
                value=value,
                value_text=_format(value, unit),
                x=x,
                y=baseline - bar_height,
                width=column_width,
                height=bar_height,
                label_x=x + column_width / 2,
                label_y=baseline + 14,
                value_x=x + column_width / 2,
                value_y=baseline - bar_height - 4,
                drawn_label=drawn_labels[index] if drawn_labels else "",
            )
        )
    return Chart(chart_id, title, description, "columns", width, height, bars, value_heading)


def row_chart(
    chart_id: str,
    title: str,
    description: str,
    rows: Sequence[tuple[str, float]],
    *,
    maximum: float | None = None,
    unit: str = "",
    value_heading: str = "Value",
    emphasized: Collection[int] = (),
    emphasis_note: str = "",
    bar_area: float = 300,
    legend: Sequence[tuple[str, str]] = (),
    links: Sequence[str] = (),
    statistics: Sequence[tuple[str, str]] = (),
    notes: Sequence[str] = (),
) -> Chart:
    """Horizontal bars, one per (label, value); ``maximum`` fixes the scale (e.g. 100 for percentages).

    ``emphasized`` holds the indexes of bars drawn in the second colour (a quiz's right option).
    The room for labels is as wide as the longest needs, up to ``LABEL_WIDTH``; a longer
    label is shortened so that nothing is cut at the chart's edge. ``legend`` pairs
    (short label, full text) for categories whose names are too long to draw.
    ``links`` gives each bar, in order, a page to open.
    """
    largest = maximum if maximum else (max((value for _, value in rows), default=0) or 1)
    height = len(rows) * ROW_HEIGHT + 8
    longest = max((len(label) for label, _ in rows), default=0)
    label_width = min(LABEL_WIDTH, longest * CHAR_WIDTH + 12)
    width = label_width + bar_area + VALUE_ROOM
    bars = []
    for index, (label, value) in enumerate(rows):
        y = 4 + index * ROW_HEIGHT
        bar_width = bar_area * min(value, largest) / largest
        bars.append(
            Bar(
                label=label,
                value=value,
                value_text=_format(value, unit),
                x=label_width,
                y=y + 3,
                width=bar_width,
                height=ROW_HEIGHT - 8,
                label_x=label_width - 6,
                label_y=y + ROW_HEIGHT / 2 + 4,
                value_x=label_width + bar_width + 6,
                value_y=y + ROW_HEIGHT / 2 + 4,
                emphasis=index in emphasized,
                drawn_label=fit_label(label, label_width - 12),
                link=links[index] if index < len(links) else "",
            )
        )
    return Chart(
        chart_id,
        title,
        description,
        "rows",
        width,
        height,
        bars,
        value_heading,
        emphasis_note,
        list(legend),
        list(statistics),
        list(notes),
    )
