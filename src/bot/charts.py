"""Pictures for the admin screens: data in, PNG bytes out. No I/O, no Telegram here.

Rendering takes a CPU-bound 100-300 ms: call it through `asyncio.to_thread` from a handler.
Matplotlib is imported on first use (it costs ~0.5 s), with the Agg backend and the
object-oriented API only (no pyplot global state), so concurrent renders do not interfere.
Texts may be Russian (the default font has Cyrillic); emoji would show as empty boxes.
Numbers and dates on the axes are written as the texts around the picture write them
(src/locales), so the axis and the caption never disagree on a thousands separator.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from src.locales.dates import day_month
from src.locales.numbers import grouped

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from src.services.analytics_service import DailyPoint

EARNED_COLOR = "#2e7d32"
SPENT_COLOR = "#c62828"


def earned_vs_spent_figure(
    points: list[DailyPoint], *, title: str, earned_label: str, spent_label: str, language: str
) -> Figure:
    """Points earned and spent per day (oldest first, as AnalyticsService.daily_series gives)."""
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    from matplotlib.dates import AutoDateLocator, num2date
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    figure = Figure(figsize=(9, 4.5), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    days = np.array([p.day for p in points], dtype="datetime64[D]")
    earned = [p.earned for p in points]
    spent = [p.spent for p in points]
    if points:
        axes.fill_between(days, earned, color=EARNED_COLOR, alpha=0.15, linewidth=0)
        axes.plot(days, earned, color=EARNED_COLOR, marker="o", markersize=3, label=earned_label)
        axes.plot(days, spent, color=SPENT_COLOR, marker="o", markersize=3, label=spent_label)
        axes.legend(loc="upper left", frameon=False)
        locator = AutoDateLocator(minticks=4, maxticks=10)  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_locator(locator)

        def day_label(value: float, _pos: Any = None) -> str:
            return day_month(num2date(value).date(), language)  # type: ignore[no-untyped-call]

        axes.xaxis.set_major_formatter(FuncFormatter(day_label))
    axes.set_title(title)
    axes.set_ylim(bottom=0)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.yaxis.set_major_formatter(
        FuncFormatter(lambda value, _pos: grouped(round(value), language))
    )
    axes.grid(axis="y", alpha=0.3)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return figure


def earned_vs_spent_png(
    points: list[DailyPoint],
    *,
    title: str,
    earned_label: str,
    spent_label: str,
    language: str = "en",
) -> bytes:
    figure = earned_vs_spent_figure(
        points, title=title, earned_label=earned_label, spent_label=spent_label, language=language
    )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
