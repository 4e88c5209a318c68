"""The small pieces pages are drawn with: the safe Markdown subset and the SVG chart geometry."""

from __future__ import annotations

from grader.web import charts
from grader.web.markup import render_inline, render_markdown


def test_markdown_escapes_before_marking_up():
    html = render_markdown("Hi <script>alert(1)</script> & **bold** `a<b>`")
    assert html == "<p>Hi &lt;script&gt;alert(1)&lt;/script&gt; &amp; <strong>bold</strong> <code>a&lt;b&gt;</code></p>"


def test_markdown_paragraphs_lists_and_fences():
    text = "First line\ncontinues.\n\n* one `x`\n* two\n  wrapped\n\n```\n<raw> **not bold**\n```\nAfter."
    assert render_markdown(text) == (
        "<p>First line continues.</p>\n"
        "<ul><li>one <code>x</code></li><li>two wrapped</li></ul>\n"
        "<pre><code>&lt;raw&gt; **not bold**</code></pre>\n"
        "<p>After.</p>"
    )


def test_markdown_has_no_links_or_attributes():
    html = render_markdown('[x](javascript:alert(1)) <a href="y" onclick="z">')
    assert "<a " not in html and 'onclick="' not in html
    assert "&lt;a href=&#34;y&#34; onclick=&#34;z&#34;&gt;" in html


def test_inline_markdown_is_one_line():
    assert render_inline("At step 2, `msg`\n is **set**") == "At step 2, <code>msg</code> is <strong>set</strong>"


def test_column_chart_scales_to_the_largest_value():
    chart = charts.column_chart("c", "T", "D", [("a", 2), ("b", 4), ("c", 0)])
    heights = [bar.height for bar in chart.bars]
    assert heights == [charts.COLUMN_AREA_HEIGHT / 2, charts.COLUMN_AREA_HEIGHT, 0]
    baseline = charts.TOP_MARGIN + charts.COLUMN_AREA_HEIGHT
    assert all(bar.y + bar.height == baseline for bar in chart.bars)
    assert [bar.value_text for bar in chart.bars] == ["2", "4", "0"]


def test_row_chart_uses_a_fixed_maximum_and_marks_emphasis():
    chart = charts.row_chart(
        "r", "T", "D", [("x", 50), ("y", 100)], maximum=100, unit="%", emphasized=[1], bar_area=200
    )
    assert [bar.width for bar in chart.bars] == [100, 200]
    assert [bar.emphasis for bar in chart.bars] == [False, True]
    assert chart.bars[0].value_text == "50%"


def test_empty_chart():
    chart = charts.column_chart("e", "T", "D", [])
    assert chart.is_empty


def test_row_chart_labels_never_reach_past_the_left_edge():
    long_label = "3 (right): At step 2, msg is {'text': 'Hi'} and more words"
    chart = charts.row_chart("r", "T", "D", [("A", 1), (long_label, 2)])
    for bar in chart.bars:
        # Labels are right-aligned at label_x, so their width must fit left of it.
        assert len(bar.drawn_label) * charts.CHAR_WIDTH <= bar.label_x
    assert chart.bars[1].drawn_label.endswith("…") and chart.bars[1].label == long_label
    short = charts.row_chart("s", "T", "D", [("A", 1), ("B", 2)])
    assert short.bars[0].x < chart.bars[0].x  # short labels leave no wide empty margin


def test_plain_text_drops_markdown_marks():
    from grader.web.markup import plain_text

    assert plain_text("What does `msg` hold, **now**?") == "What does msg hold, now?"
