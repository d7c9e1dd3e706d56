"""Score history as small server-rendered SVG line charts (no JavaScript), one per questionnaire.

The numbers are worked out here; `portal/includes/score_chart.html` draws them. Each chart has
a table beside it with the same figures, for screen readers and for anyone who prefers numbers.

A drawing is kept by what it shows (`chart_html`): the same figures in the same language always
draw the same SVG, so a kept drawing cannot go stale, and a new score is a new drawing.
"""

import hashlib
from dataclasses import astuple, dataclass, field

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.safestring import SafeString

from concierge.recent import RecentlyUsed
from patients.instruments import INSTRUMENT_ORDER, INSTRUMENTS, InstrumentDefinition, band_label

TEMPLATE = "portal/includes/score_chart.html"

WIDTH, HEIGHT = 320, 170
LEFT, RIGHT, TOP, BOTTOM = 34, 14, 12, 30


@dataclass
class Point:
    x: float
    y: float
    total: int
    date: str
    band: str


@dataclass
class ScoreChart:
    definition: InstrumentDefinition
    points: list = field(default_factory=list)
    y_ticks: list = field(default_factory=list)  # [(y, label)]
    x_labels: list = field(default_factory=list)  # [(x, label)]
    threshold_y: float | None = None
    threshold: int | None = None
    infusions: list = field(default_factory=list)  # [(x, "Mar 3")]: the infusions inside the chart's span
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    bottom_edge: int = HEIGHT - BOTTOM
    top: int = TOP

    @property
    def polyline(self):
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def first(self):
        return self.points[0] if self.points else None

    @property
    def last(self):
        return self.points[-1] if self.points else None


def _y(total, max_total):
    plot = HEIGHT - BOTTOM - TOP
    return TOP + plot * (1 - total / max_total)


def score_charts(responses, zone, infusions=()):
    """One chart per questionnaire the patient has answered, oldest answer on the left; the
    infusions (their start times) between the first and the last answer are marked on the axis."""
    by_code = {}
    for response in sorted(responses, key=lambda r: (r.submitted_at, r.pk)):
        by_code.setdefault(response.instrument, []).append(response)
    charts = []
    for code in INSTRUMENT_ORDER:
        rows = by_code.get(code)
        if not rows:
            continue
        definition = INSTRUMENTS[code]
        chart = ScoreChart(definition=definition)
        first, last = rows[0].submitted_at, rows[-1].submitted_at
        span = (last - first).total_seconds()
        plot_width = WIDTH - LEFT - RIGHT
        for index, response in enumerate(rows):
            if span > 0:
                x = LEFT + plot_width * (response.submitted_at - first).total_seconds() / span
            elif len(rows) == 1:
                x = LEFT + plot_width / 2
            else:  # several on the same moment: spread them evenly
                x = LEFT + plot_width * index / (len(rows) - 1)
            local = timezone.localtime(response.submitted_at, zone)
            chart.points.append(
                Point(
                    x=x,
                    y=_y(response.total, definition.max_total),
                    total=response.total,
                    date=date_format(local, "ABBR_DATE_FORMAT"),
                    band=str(band_label(code, response.band)),
                )
            )
        step = {27: 9, 21: 7, 80: 20}.get(definition.max_total, definition.max_total // 4)
        chart.y_ticks = [(_y(v, definition.max_total), v) for v in range(0, definition.max_total + 1, step)]
        chart.x_labels = [(chart.points[0].x, chart.points[0].date)]
        if len(chart.points) > 1 and chart.points[-1].x - chart.points[0].x > 90:
            chart.x_labels.append((chart.points[-1].x, chart.points[-1].date))
        if span > 0:
            for moment in infusions:
                if first <= moment <= last:
                    x = LEFT + plot_width * (moment - first).total_seconds() / span
                    chart.infusions.append((x, date_format(timezone.localtime(moment, zone), "MONTH_DAY_SHORT_FORMAT")))
        threshold = definition.chart_threshold
        if code == "pcl5" and rows[-1].subscores.get("cutoff") is not None:
            threshold = rows[-1].subscores["cutoff"]
        if threshold is not None:
            chart.threshold, chart.threshold_y = threshold, _y(threshold, definition.max_total)
        charts.append(chart)
    return charts


def _drawing_key(chart: ScoreChart) -> str:
    # Everything the template shows: the figures, the labels (already in the active language),
    # the questionnaire, and the language the template's own words are in.
    shown = (
        translation.get_language(),
        chart.definition.code,
        [astuple(point) for point in chart.points],
        chart.y_ticks,
        chart.x_labels,
        chart.threshold,
        chart.threshold_y,
        chart.infusions,
    )
    return hashlib.sha256(repr(shown).encode()).hexdigest()


# Drawings by what they show: a few per patient who opened their dashboard lately.
_drawn = RecentlyUsed(512)


def chart_html(chart: ScoreChart) -> SafeString:
    """The chart drawn by `portal/includes/score_chart.html`, drawn once per process for the
    same figures (a third of the dashboard's time went into drawing the same SVG again)."""
    return _drawn.get_or_make(_drawing_key(chart), lambda: render_to_string(TEMPLATE, {"chart": chart}))
