"""The diagram of a life cycle: server-side SVG drawn from its table as data (a workflows.states.Flow: the case's
CASE_FLOW, by default, or the household archive's ARCHIVE_FLOW).

Nothing here names a state or a transition. The main path is the longest chain of forward moves (in the order of
the flow's states) from the first state; every other state is a side exit drawn below it; every (source,
destination) pair of the table is one arrow, labelled with its transitions. A row added to the table is one more
arrow. A row whose destination is None keeps the state (an archive's transfer): a small loop under each of its
sources, its label once below them.

  - above the main row: curves for the moves between states of the main path that are not neighbours (returns);
  - the main row, left to right, straight arrows between neighbours with their labels above them;
  - below: the loops of the moves that keep the state, then one horizontal "bus" per side exit, at its own height;
    each source drops into it, so the arrows into one exit share their last segment and read as one bundle.
Presentation attributes only: the Content-Security-Policy forbids <style> and style="" (SVG's fill= is allowed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum
from xml.sax.saxutils import escape, quoteattr

from flask_babel import gettext as _
from markupsafe import Markup

from workflows import states
from workflows.states import Flow

FONT = '"Microsoft YaHei","Noto Sans CJK SC",sans-serif'
NODE_SIZE, EDGE_SIZE = 13, 12
BOX_W, BOX_H = 84, 48
MARGIN = 16
BUS_FIRST, BUS_STEP = 30, 30  # below the main row: the first bus, and between buses
ARC_BASE, ARC_STEP = 30, 24  # control-point height of the lowest curve above the row, and between curves
DROP_SPREAD = 14  # between the points under a box where moves to different side exits leave it
STAY_DEPTH, STAY_ROOM = 16, 40  # how far a loop that keeps the state hangs under its box; the room for it and its label
INK, LINE, MUTED = "#1f2328", "#57606a", "#8c959f"
HIGHLIGHT, HIGHLIGHT_EDGE = "#b3261e", "#8c1d17"


def text_width(text: str, size: float) -> float:
    """A width estimate good enough for layout: CJK characters are one em, the rest about half of one."""
    return sum(size if ord(c) >= 0x2E80 else size * 0.6 for c in text)


def wrap(text: str, width: float, size: float) -> list[str]:
    """Lines of at most `width`: broken after a Chinese comma first, then between characters of Chinese and between
    words of English (a word longer than a line is cut where it must be)."""
    parts = [p + "，" for p in text.split("，")[:-1]] + [text.split("，")[-1]]
    lines: list[str] = []
    for part in filter(None, parts):
        line = ""
        for unit in re.findall(r"[\u2e80-\uffff]|[^\s\u2e80-\uffff]+\s*|\s+", part):
            if line and text_width((line + unit).rstrip(), size) > width:
                lines.append(line.rstrip())
                line = ""
            while text_width(unit.rstrip(), size) > width:  # longer than a whole line
                cut = max(1, int(width // (size * 0.6)))
                lines.append(unit[:cut])
                unit = unit[cut:]
            line += unit
        lines.append(line.rstrip())
    return lines or [""]


def case_flow() -> Flow:
    """The case's life cycle as states.py holds it now (its table read at the call, not at import)."""
    return replace(states.CASE_FLOW, transitions=states.TRANSITIONS)


def edges(flow: Flow | None = None) -> dict[tuple[StrEnum, StrEnum], list[str]]:
    """Every (source, destination) pair of the table with the labels of its transitions, in table order; the rows
    that keep the state (no destination) are stays()'."""
    flow = flow or case_flow()
    found: dict[tuple[StrEnum, StrEnum], list[str]] = {}
    for transition in flow.transitions:
        if transition.dest is None:
            continue
        for source in transition.sources:
            found.setdefault((flow.states(source), flow.states(transition.dest)), []).append(transition.label)
    return found


def stays(flow: Flow) -> dict[str, list[StrEnum]]:
    """The rows that keep the state (dest None), each label with its sources in the order of the states."""
    found: dict[str, list[StrEnum]] = {}
    for transition in flow.transitions:
        if transition.dest is None:
            sources = {flow.states(s) for s in transition.sources}
            found.setdefault(transition.label, []).extend(s for s in flow.states if s in sources)
    return found


def main_path(pairs, order: list[StrEnum] | None = None) -> list[StrEnum]:
    """The longest chain of forward moves from the first state; forward moves only go up the order of the states,
    so they form no cycle and a pass from the last state back finds it. A detour, a state whose every move goes
    back (a case's returned payment), is drawn below as a side exit, not at the end of the row."""
    order = order or list(case_flow().states)
    rank = {state: i for i, state in enumerate(order)}
    outs: dict[StrEnum, list[StrEnum]] = {}
    for source, dest in pairs:
        outs.setdefault(source, []).append(dest)
    detours = {s for s, dests in outs.items() if all(rank[d] < rank[s] for d in dests)}
    longest: dict[StrEnum, list[StrEnum]] = {}
    for state in reversed(order):
        onwards = [longest[dest] for source, dest in pairs
                   if source == state and rank[dest] > rank[state] and dest not in detours]
        longest[state] = [state] + max(onwards, key=len, default=[])
    return longest[order[0]]


@dataclass
class Box:
    state: StrEnum
    x: float
    y: float
    w: float = BOX_W

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def bottom(self) -> float:
        return self.y + BOX_H


def two_line_width(text: str, size: float) -> float:
    """The narrowest width at which `text` wraps into at most two lines."""
    width = text_width(text, size) / 2
    while len(wrap(text, width, size)) > 2:
        width += 2
    return width


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, lines: list[str], size: int, fill: str = INK, anchor: str = "middle",
          halo: bool = False, weight: str | None = None) -> str:
    """A <text> of one or more lines (tspans) whose first baseline is at y; a white halo keeps it readable over
    lines it crosses."""
    attrs = f'x="{_n(x)}" y="{_n(y)}" font-size="{size}" fill="{fill}" text-anchor="{anchor}"'
    if halo:
        attrs += ' stroke="#fff" stroke-width="4" stroke-linejoin="round" paint-order="stroke"'
    if weight:
        attrs += f' font-weight="{weight}"'
    spans = "".join(f'<tspan x="{_n(x)}" dy="{0 if i == 0 else size + 2}">{escape(line)}</tspan>'
                    for i, line in enumerate(lines))
    return f"<text {attrs}>{spans}</text>"


def _edge(source: StrEnum, dest: StrEnum, labels: list[str], d: str, back: bool, label_svg: str = "") -> str:
    title = _(source.label) + " → " + _(dest.label) + _("：") + _joined(labels)
    dash = ' stroke-dasharray="6 4"' if back else ""
    return (f'<g data-edge="{source.value}>{dest.value}"><title>{escape(title)}</title>'
            f'<path d="{d}" fill="none" stroke="{LINE}" stroke-width="1.5"{dash} marker-end="url(#sn-arrow)"/>'
            f"{label_svg}</g>")


def _node(box: Box, current: bool, final: bool) -> str:
    label = _(box.state.label)
    fill, stroke, ink = (HIGHLIGHT, HIGHLIGHT_EDGE, "#fff") if current else ("#f6f7f9" if final else "#fff", MUTED, INK)
    # A longer label (English) takes a smaller size until its lines fit the box.
    for size in range(NODE_SIZE, 7, -1):
        # Not by colour alone: the current state also says so, in its box and to screen readers.
        lines = wrap(label, box.w - 10, size) + ([_("（当前）")] if current else [])
        if len(lines) * (size + 2) <= BOX_H - 4:
            break
    height = len(lines) * (size + 2)
    y = box.y + (BOX_H - height) / 2 + size - 1
    head = (f'<g data-state="{box.state.value}" aria-current="step"><title>{escape(_("当前状态：") + label)}</title>'
            if current else f'<g data-state="{box.state.value}">')
    rect = (f'<rect x="{_n(box.x)}" y="{_n(box.y)}" width="{_n(box.w)}" height="{BOX_H}" rx="6" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{3 if current else 1.2}"/>')
    return f'{head}{rect}{_text(box.cx, y, lines, size, ink, weight="bold" if current else None)}</g>'


@dataclass
class Layout:
    """Where everything goes, and which kind of arrow each (source, destination) pair is drawn as."""

    flow: Flow
    pairs: dict[tuple[StrEnum, StrEnum], list[str]]
    on_path: dict[StrEnum, int]
    side: list[StrEnum]
    boxes: dict[StrEnum, Box]
    gap: float
    top: float
    bus_y: dict[StrEnum, float]
    heights: dict[tuple[StrEnum, StrEnum], float]
    width: float
    height: float
    adjacent: list[tuple[StrEnum, StrEnum]]  # neighbours on the main path: a straight arrow
    arcs: list[tuple[StrEnum, StrEnum]]  # other moves within the main path: a curve above it
    drops: list[tuple[StrEnum, StrEnum]]  # from the main path to a side exit: along that exit's bus
    others: list[tuple[StrEnum, StrEnum]]  # out of a side exit, or to the same state: a plain curve
    stays: dict[str, list[StrEnum]]  # moves that keep the state: a loop under each source, one label

    def drop_x(self, source: StrEnum, dest: StrEnum) -> float:
        """Each side exit has its own point under a box, so that drops to different exits do not overlap."""
        return self.boxes[source].cx + (self.side.index(dest) - (len(self.side) - 1) / 2) * DROP_SPREAD


def layout(flow: Flow | None = None) -> Layout:
    flow = flow or case_flow()
    pairs = edges(flow)
    path = main_path(pairs, list(flow.states))
    on_path = {state: i for i, state in enumerate(path)}
    side = [state for state in flow.states if state not in on_path]
    within = [(s, d) for s, d in pairs if s in on_path and d in on_path and s != d]
    adjacent = [(s, d) for s, d in within if on_path[d] == on_path[s] + 1]
    arcs = sorted((e for e in within if e not in adjacent), key=lambda e: (abs(on_path[e[0]] - on_path[e[1]]),
                                                                         on_path[e[0]]))
    drops = [(s, d) for s, d in pairs if s in on_path and d not in on_path]
    others = [(s, d) for s, d in pairs if s not in on_path or s == d]
    kept = stays(flow)
    # Under the main row: room for the loops of the moves that keep the state, one line of label for each.
    stay_room = STAY_ROOM + (EDGE_SIZE + 2) * (len(kept) - 1) if any(
        s in on_path for sources in kept.values() for s in sources) else 0

    # The main row: the gap between neighbours fits the widest line of their labels (broken after a comma).
    widest = max((text_width(line, EDGE_SIZE) for e in adjacent for label in pairs[e]
                  for line in wrap(_(label), 999, EDGE_SIZE)), default=40)
    gap = min(max(widest + 12, 56), 120)
    # ... and leaves each bus's label room on two lines between the drops of neighbouring boxes (the English ones
    # are long: "Not submitted by deadline; deemed forfeited"), so that no label is drawn across a line.
    bus_labels = {_joined(pairs[e]) for e in drops}
    gap = max([gap] + [two_line_width(label, EDGE_SIZE) + 10 + DROP_SPREAD * (len(side) - 1) - BOX_W
                       for label in bus_labels])
    heights = {e: ARC_BASE + ARC_STEP * rank for rank, e in enumerate(arcs)}  # the wider, the higher
    top = MARGIN + 8 + (0.75 * max(heights.values()) + EDGE_SIZE / 2 + 4 if arcs else 0)
    boxes = {state: Box(state, MARGIN + i * (BOX_W + gap), top) for i, state in enumerate(path)}
    width = 2 * MARGIN + len(path) * BOX_W + (len(path) - 1) * gap

    # The side exits: under the middle of their sources, pushed apart where they would overlap.
    bus_y = {s: top + BOX_H + stay_room + BUS_FIRST + BUS_STEP * j for j, s in enumerate(side)}
    side_y = max(bus_y.values(), default=top + BOX_H + stay_room) + BUS_FIRST
    side_w = {s: max(BOX_W, text_width(_(s.label), NODE_SIZE) + 16) for s in side}

    def wanted(state: StrEnum) -> float:
        sources = [boxes[s].cx for s, d in drops if d == state]
        return sum(sources) / len(sources) if sources else width / 2

    placed: list[tuple[StrEnum, float]] = []
    for state in sorted(side, key=wanted):
        cx = wanted(state)
        if placed:
            before, before_cx = placed[-1]
            cx = max(cx, before_cx + (side_w[before] + side_w[state]) / 2 + 40)
        placed.append((state, cx))
    overflow = max([cx + side_w[s] / 2 - (width - MARGIN) for s, cx in placed] + [0])
    for state, cx in placed:
        boxes[state] = Box(state, cx - overflow - side_w[state] / 2, side_y, side_w[state])
    width = max([width] + [b.x + b.w + MARGIN for b in boxes.values()]
                + [_stay_label_x(sources, boxes) + text_width(_(label), EDGE_SIZE) / 2 + MARGIN
                   for label, sources in kept.items()])
    under = 44 if any(s != d and s in side and d in side for s, d in others) else 0  # curves under the side row
    if side and any(s in side for sources in kept.values() for s in sources):
        under = max(under, STAY_ROOM + (EDGE_SIZE + 2) * (len(kept) - 1))
    bottom = (side_y if side else top) + BOX_H
    return Layout(flow, pairs, on_path, side, boxes, gap, top, bus_y, heights, width, bottom + under + MARGIN
                  + (stay_room if not side else 0), adjacent, arcs, drops, others, kept)


def svg(current: str | None = None, flow: Flow | None = None) -> str:
    """The diagram of `flow` (the case's by default) as SVG markup (Markup, safe to put in a page as it is);
    `current` is highlighted."""
    plan = layout(flow)
    flow = plan.flow
    current_state = next((state for state in flow.states if state.value == current), None)
    parts = (_straight(plan) + _curves(plan) + _stays(plan) + _buses(plan)
             + [_other(s, d, plan.pairs[(s, d)], plan.boxes) for s, d in plan.others]
             + [_node(plan.boxes[state], state == current_state, state in flow.final) for state in flow.states])
    title = _(flow.title)
    desc = (_("当前状态：") + _(current_state.label)) if current_state else _("各状态及其流转")
    width, height = _n(plan.width), _n(plan.height)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-labelledby="sn-flow-title sn-flow-desc" font-family={quoteattr(FONT)} '
        f'data-flow="{escape(flow.name)}">'
        f'<title id="sn-flow-title">{escape(title)}</title><desc id="sn-flow-desc">{escape(desc)}</desc>'
        f'<defs><marker id="sn-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        f'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{LINE}"/></marker></defs>'
        + "".join(parts) + "</svg>")


def _joined(labels: list[str]) -> str:
    return " ／ ".join(_(label) for label in labels)


def _straight(plan: Layout) -> list[str]:
    """Neighbours on the main path: a straight arrow, its label above it."""
    out = []
    for s, d in plan.adjacent:
        a, b = plan.boxes[s], plan.boxes[d]
        y = a.y + BOX_H / 2
        lines = [line for label in plan.pairs[(s, d)] for line in wrap(_(label), plan.gap - 6, EDGE_SIZE)]
        label = _text((a.x + a.w + b.x) / 2, y - 6 - (len(lines) - 1) * (EDGE_SIZE + 2), lines, EDGE_SIZE, LINE)
        out.append(_edge(s, d, plan.pairs[(s, d)], f"M{_n(a.x + a.w)},{_n(y)} H{_n(b.x - 1)}", False, label))
    return out


def _curves(plan: Layout) -> list[str]:
    """Other moves within the main path (the returns): a curve above the row, its label on the apex, the halo
    masking the line under it. Going back is dashed."""
    out = []
    ports = _ports(plan.arcs, plan.boxes)
    for s, d in plan.arcs:
        x1, x2, h, y = ports[(s, d, "from")], ports[(s, d, "to")], plan.heights[(s, d)], plan.top
        label = _text((x1 + x2) / 2, y - 0.75 * h + EDGE_SIZE / 2 - 1, [_joined(plan.pairs[(s, d)])], EDGE_SIZE,
                      LINE, halo=True)
        path = f"M{_n(x1)},{_n(y)} C{_n(x1)},{_n(y - h)} {_n(x2)},{_n(y - h)} {_n(x2)},{_n(y - 1)}"
        out.append(_edge(s, d, plan.pairs[(s, d)], path, plan.on_path[d] < plan.on_path[s], label))
    return out


def _stay_label_x(sources: list[StrEnum], boxes: dict[StrEnum, Box]) -> float:
    xs = [boxes[s].x + 20 for s in sources]
    return (min(xs) + max(xs)) / 2


def _stays(plan: Layout) -> list[str]:
    """Moves that keep the state (an archive's transfer): a loop under the left of each source box, leaving and
    entering it (clear of the drops to the side exits, which leave from the middle); the label once, under the
    loops, with what it means (the state stays)."""
    out = []
    for line, (label, sources) in enumerate(plan.stays.items()):
        for s in sources:
            box = plan.boxes[s]
            x1, x2, y = box.x + 10, box.x + 30, box.bottom
            d = (f"M{_n(x1)},{_n(y)} C{_n(x1)},{_n(y + STAY_DEPTH * 1.6)} {_n(x2)},{_n(y + STAY_DEPTH * 1.6)} "
                 f"{_n(x2)},{_n(y + 1)}")
            title = _("%(state)s：%(move)s（状态不变）", state=_(s.label), move=_(label))
            out.append(f'<g data-stay="{s.value}"><title>{escape(title)}</title>'
                       f'<path d="{d}" fill="none" stroke="{LINE}" stroke-width="1.5" stroke-dasharray="3 3" '
                       f'marker-end="url(#sn-arrow)"/></g>')
        below = max(plan.boxes[s].bottom for s in sources) + STAY_DEPTH + EDGE_SIZE + 8 + line * (EDGE_SIZE + 2)
        text = _("%(move)s（状态不变）", move=_(label))
        out.append(f'<g aria-hidden="true">{_text(_stay_label_x(sources, plan.boxes), below, [text], EDGE_SIZE, LINE, halo=True)}</g>')
    return out


def _buses(plan: Layout) -> list[str]:
    """Moves to a side exit: down from the source, along the exit's bus, down into it. One label per exit and
    text, over the stretch of the bus its sources share."""
    out, groups = [], {}
    for s, d in plan.drops:
        x, dest = plan.drop_x(s, d), plan.boxes[d]
        path = f"M{_n(x)},{_n(plan.boxes[s].bottom)} V{_n(plan.bus_y[d])} H{_n(dest.cx)} V{_n(dest.y - 1)}"
        out.append(_edge(s, d, plan.pairs[(s, d)], path, False))
        groups.setdefault((d, _joined(plan.pairs[(s, d)])), []).append(x)
    for (d, label), xs in groups.items():
        x = (min(xs) + max(xs)) / 2 if len(xs) > 1 else (xs[0] + plan.boxes[d].cx) / 2
        x, lines = _bus_label_place(plan, d, label, xs, x)
        y = plan.bus_y[d] - 5 - (len(lines) - 1) * (EDGE_SIZE + 2)
        out.append(f'<g aria-hidden="true">{_text(x, y, lines, EDGE_SIZE, LINE, halo=True)}</g>')
    return out


def _bus_label_place(plan: Layout, dest: StrEnum, label: str, xs: list[float], wanted: float
                     ) -> tuple[float, list[str]]:
    """Where a bus's label goes, above its bus and between the vertical lines that pass at its height (the drops
    into lower buses, the descents from higher ones into their exits): on one line if a gap over its bus is wide
    enough, else on two lines in the widest such gap (an English label is three times a Chinese one). Where no gap
    fits, where it was wanted, on one line."""
    span = (min(xs + [plan.boxes[dest].cx]), max(xs + [plan.boxes[dest].cx]))
    for count in (1, 2):
        bottom = plan.bus_y[dest] - 5 + EDGE_SIZE * 0.2 + 2
        top = bottom - 2 - count * (EDGE_SIZE + 2) - 2
        walls = sorted({plan.drop_x(s, d) for s, d in plan.drops if plan.boxes[s].bottom < bottom and plan.bus_y[d] > top}
                       | {plan.boxes[d].cx for d in plan.side if plan.bus_y[d] < bottom and plan.boxes[d].y > top})
        edges = [MARGIN] + walls + [plan.width - MARGIN]
        best = None
        for left, right in zip(edges, edges[1:]):
            room = right - left - 10
            lines = wrap(label, room, EDGE_SIZE) if count == 2 else [label]
            width = max(text_width(line, EDGE_SIZE) for line in lines)
            if len(lines) > count or width > room:
                continue
            # the label over its own bus (a short bus: beside its drop), as near to where it was wanted as it may be
            reach = width / 2 + 10 if span[1] - span[0] < width else 0
            low, high = max(left + 5 + width / 2, span[0] - reach), min(right - 5 - width / 2, span[1] + reach)
            if low > high:
                continue
            x = min(max(wanted, low), high)
            if best is None or abs(x - wanted) < abs(best[0] - wanted):
                best = (x, lines)
        if best:
            return best
    return wanted, [label]


def _ports(arcs, boxes) -> dict[tuple[StrEnum, StrEnum, str], float]:
    """Where each curve leaves and meets the top of its boxes, spread along the top so that the curves nest
    (the wider, higher one outside the narrower one) instead of crossing."""
    ends: dict[StrEnum, list[tuple[float, tuple[StrEnum, StrEnum, str]]]] = {}  # box: (x of the other end, key)
    for s, d in arcs:
        ends.setdefault(s, []).append((boxes[d].cx, (s, d, "from")))
        ends.setdefault(d, []).append((boxes[s].cx, (s, d, "to")))
    ports = {}
    for state, items in ends.items():
        box = boxes[state]
        # Left of the box: the nearest other end first; right of it: the farthest first. Then they nest.
        ordered = (sorted((i for i in items if i[0] < box.cx), key=lambda i: -i[0])
                   + sorted((i for i in items if i[0] >= box.cx), key=lambda i: -i[0]))
        step = (box.w - 16) / len(ordered)
        for k, (_other_x, key) in enumerate(ordered):
            ports[key] = box.x + 8 + step * (k + 0.5)
    return ports


def _other(s: StrEnum, d: StrEnum, labels: list[str], boxes) -> str:
    """A move out of a side exit (none in today's tables), or to the same state: a plain curve."""
    a, b = boxes[s], boxes[d]
    label = _joined(labels)
    if s == d:
        x, y = a.x + a.w, a.y
        d_attr = f"M{_n(x - 12)},{_n(y)} C{_n(x - 12)},{_n(y - 24)} {_n(x + 18)},{_n(y + 6)} {_n(x + 1)},{_n(y + 14)}"
        text = _text(x + 6, y - 10, [label], EDGE_SIZE, LINE, anchor="start", halo=True)
    elif abs(a.y - b.y) < 1:  # side to side: a curve under the side row
        y = a.bottom
        d_attr = f"M{_n(a.cx)},{_n(y)} C{_n(a.cx)},{_n(y + 40)} {_n(b.cx)},{_n(y + 40)} {_n(b.cx)},{_n(y + 1)}"
        text = _text((a.cx + b.cx) / 2, y + 30 + EDGE_SIZE, [label], EDGE_SIZE, LINE, halo=True)
    else:  # side exit back up to the main row
        y1, y2 = a.y, b.bottom
        mid = (y1 + y2) / 2
        d_attr = f"M{_n(a.cx)},{_n(y1)} C{_n(a.cx)},{_n(mid)} {_n(b.cx)},{_n(mid)} {_n(b.cx)},{_n(y2 + 1)}"
        text = _text((a.cx + b.cx) / 2, mid, [label], EDGE_SIZE, LINE, halo=True)
    return _edge(s, d, labels, d_attr, True, text)
