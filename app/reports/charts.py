"""The dashboard's charts: SVG drawn on the server by pygal, from figures of workflows.reports.

Each SVG is served at its own address and shown through <img>: pygal's SVG carries its own <style>, which the
page's Content-Security-Policy would refuse inline. No script: pygal's interactive one is left out (js=[]) and the
config script it writes all the same is cut from the tree (_no_scripts), so the chart is static everywhere.
pygal sizes labels as if every character were 0.6 em wide; a Chinese character is a full em, so the margins are
widened by what the estimate misses."""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Any

import pygal
from flask_babel import gettext as _
from pygal.style import Style

from workflows.money import yuan

# Importing pygal appends to sys.meta_path a finder of the pre-3.4 kind (no find_spec), for its map plugins, which we
# do not use. Every import that no other finder answers then reaches it and raises an ImportWarning (an error under
# -W error), breaking unrelated optional imports anywhere in the process. It is taken out again.
sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__module__ != "pygal"]

FONT = '"Noto Sans CJK SC", "Microsoft YaHei", sans-serif'
LABEL_SIZE = 13
STYLE = Style(
    font_family=FONT, background="#ffffff", plot_background="#ffffff", foreground="#1f2328",
    foreground_strong="#1f2328", foreground_subtle="#d0d7de", opacity=".9", opacity_hover=".9",
    colors=("#b3261e", "#0b57d0", "#bf8700", "#1a7f37", "#8250df", "#57606a"),
    title_font_size=17, label_font_size=LABEL_SIZE, major_label_font_size=LABEL_SIZE, legend_font_size=14,
    value_font_size=13, value_label_font_size=13, no_data_font_size=22, tooltip_font_size=13)
# The ring of the budget: paid, approved and waiting, left (grey) or over (red).
BUDGET_STYLE = Style(**{**STYLE.to_dict(), "colors": ("#1a7f37", "#0b57d0", "#d0d7de")})
OVER_STYLE = Style(**{**STYLE.to_dict(), "colors": ("#1a7f37", "#0b57d0", "#cf222e")})
WIDTH = 720


def text_width(text: str, size: float) -> float:
    """A width estimate good enough for layout: CJK characters are one em, the rest about half of one."""
    return sum(size if ord(c) >= 0x2E80 else size * 0.6 for c in text)


def _missed(labels: list[str], size: float) -> float:
    """How much wider the widest label is than pygal thinks."""
    return max((text_width(label, size) - len(label) * 0.6 * size for label in labels), default=0)


def _no_scripts(root):
    """pygal's XML filter: drop every <script>; with js=[] the one left is a config nobody reads."""
    for parent in list(root.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return root


def _render(chart) -> bytes:
    chart.add_xml_filter(_no_scripts)
    return chart.render()


def _config(title: str, **settings: Any) -> dict[str, Any]:
    base = dict(title=title, style=STYLE, js=[], explicit_size=True, width=WIDTH, height=360,
                truncate_label=-1, truncate_legend=-1, legend_at_bottom=True, print_values=True,
                no_data_text=_("暂无数据"), disable_xml_declaration=False, margin=16)
    base.update(settings)
    return base


def ticks(top: float, most: int = 8) -> list[int]:
    """Round, whole-number steps from 0 past `top`: a count is never 0.5, and 1, 2, 5 × 10ⁿ read easily."""
    step = 1
    while top / step > most:
        step = step * 5 // 2 if str(step)[0] == "2" else step * 2  # 1, 2, 5, 10, 20, 50, ...
    return list(range(0, int(-(-top // step)) * step + 1, step)) if top > 0 else [0, 1]


def _bars(title: str, labels: list[str], series: list[tuple[str, list[float]]], formatter, stacked: bool = False,
          min_height: int = 260) -> bytes:
    """Horizontal bars, one band per label (first label at the top), one colour per series."""
    kind = pygal.HorizontalStackedBar if stacked else pygal.HorizontalBar
    if not labels:  # nothing to draw: the message alone, without empty axes
        return _render(kind(**_config(title, height=200, show_legend=False, show_x_labels=False,
                              show_y_labels=False, show_x_guides=False, show_y_guides=False)))
    height = max(min_height, 150 + len(labels) * (30 if stacked else 24 * len(series) + 12))
    top = max(map(sum, zip(*(values for _name, values in series)))) if stacked else \
        max(max(values) for _name, values in series)
    chart = kind(**_config(title, height=height, value_formatter=formatter, print_zeroes=False,
                           margin_left=16 + _missed(labels, LABEL_SIZE), legend_at_bottom_columns=len(series)))
    chart.x_labels = list(reversed(labels))  # pygal draws the first label at the bottom
    chart.y_labels = ticks(top)
    for name, values in series:
        chart.add(name, list(reversed(values)))
    return _render(chart)


def whole(value: float | None) -> str:
    """A count, or an amount to the yuan (the table beside the chart has the fen)."""
    return "" if value is None else f"{value:,.0f}"


def funnel(rows: list[dict[str, Any]]) -> bytes:
    """How many cases reached each stage, and how many are at it now."""
    shown = rows if any(row["reached"] for row in rows) else []
    return _bars(_("案件办理漏斗"), [row["label"] for row in shown],
                 [(_("曾到达此环节"), [row["reached"] for row in shown]),
                  (_("现处此环节"), [row["now"] for row in shown])], whole)


def forfeited(rows: list[dict[str, Any]]) -> bytes:
    """The unions with forfeited cases, overdue and rejected stacked."""
    rows = [row for row in rows if row["forfeited"]]
    return _bars(_("视为自动放弃的案件（按工会）"), [row["name"] for row in rows],
                 [(_("逾期未报"), [row["overdue"] for row in rows]),
                  (_("审核不合格"), [row["rejected"] for row in rows])], whole, stacked=True)


def amounts(title: str, groups: dict[str, dict[str, Any]]) -> bytes:
    """Amounts approved and paid per group (aid kind, worker group); groups without money are left out."""
    rows = [row for row in groups.values() if Decimal(row["approved"]) or Decimal(row["paid"])]
    return _bars(title, [row["label"] for row in rows],
                 [(_("审定金额（元）"), [float(row["approved"]) for row in rows]),
                  (_("发放金额（元）"), [float(row["paid"]) for row in rows])], whole)


def budget(figures: dict[str, Decimal | None]) -> bytes:
    """The budget as a ring: paid, approved and not yet paid, left (or over, when approvals exceed it)."""
    total = figures["total"]
    if total is None:
        labels = [_("已审定（含已发放）"), _("已发放")] if figures["approved"] else []
        return _bars(_("预算使用（未设预算）"), labels,
                     [(_("金额（元）"), [float(figures["approved"]), float(figures["paid"])][:len(labels)])], whole)
    chart = pygal.Pie(**_config(_("预算使用（预算 %(total)s 元）", total=yuan(total)), height=380,
                                inner_radius=.45, value_formatter=whole, legend_at_bottom_columns=3,
                                style=BUDGET_STYLE if figures["left"] >= 0 else OVER_STYLE))
    chart.add(_("已发放"), float(figures["paid"]))
    chart.add(_("已审定待发放"), float(figures["committed"]))
    if figures["left"] >= 0:
        chart.add(_("剩余"), float(figures["left"]))
    else:
        chart.add(_("超出预算"), float(-figures["left"]))
    return _render(chart)
