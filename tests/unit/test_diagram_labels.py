"""The process diagrams' words never run into each other, in Chinese and in English (whose labels are longer): each
text's box, as the layout estimates it (diagram.text_width), overlaps no other text and stays inside the drawing."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import Babel

from app.cases import diagram
from workflows.archive_states import ARCHIVE_FLOW
from workflows.states import CASE_FLOW

SVG = "{http://www.w3.org/2000/svg}"
ROOT = Path(__file__).resolve().parents[2]


def text_boxes(markup: str) -> tuple[list[tuple[str, float, float, float, float]], float, float]:
    """(words, left, top, right, bottom) of every <text>, and the drawing's width and height."""
    root = ET.fromstring(markup)
    boxes = []
    for text in root.iter(f"{SVG}text"):
        size = float(text.get("font-size"))
        lines = [span.text or "" for span in text.iter(f"{SVG}tspan")] or [text.text or ""]
        width = max(diagram.text_width(line, size) for line in lines)
        x, y = float(text.get("x")), float(text.get("y"))
        left = {"start": x, "middle": x - width / 2, "end": x - width}[text.get("text-anchor", "start")]
        top = y - size * 0.8
        boxes.append((" / ".join(lines), left, top, left + width, top + len(lines) * (size + 2) - 2))
    return boxes, float(root.get("width")), float(root.get("height"))


def straight_segments(markup: str) -> list[tuple[float, float, float, float]]:
    """(left, top, right, bottom) of every horizontal and vertical stretch of the drawn lines (the arrows' M/H/V
    paths; a curve only moves the pen: the return arcs carry their label on their apex, on a halo, by design)."""
    found = []
    for path in ET.fromstring(markup).iter(f"{SVG}path"):
        x = y = 0.0
        for command, args in re.findall(r"([MHVCLZz])([^MHVCLZz]*)", path.get("d")):
            numbers = [float(n) for n in re.findall(r"-?[\d.]+", args)]
            if command == "H":
                found.append((min(x, numbers[0]), y, max(x, numbers[0]), y))
                x = numbers[0]
            elif command == "V":
                found.append((x, min(y, numbers[0]), x, max(y, numbers[0])))
                y = numbers[0]
            elif command in "MCL" and numbers:
                x, y = numbers[-2:]
    return found


@pytest.fixture(params=["zh", "en"])
def language(request):
    app = Flask("songnuan-diagram", root_path=str(ROOT / "app"))
    Babel(app, locale_selector=lambda: request.param)
    with app.test_request_context():
        yield request.param


@pytest.mark.parametrize("flow", [CASE_FLOW, ARCHIVE_FLOW], ids=["case", "archive"])
@pytest.mark.parametrize("current", [None, "first"])
def test_no_two_labels_overlap_and_none_leaves_the_drawing(language, flow, current):
    state = next(iter(flow.states)).value if current else None
    boxes, width, height = text_boxes(str(diagram.svg(state, flow=flow)))
    if language == "en":
        assert any("a" <= c <= "z" for words, *_ in boxes for c in words)  # the English catalogue was read
    for words, left, top, right, bottom in boxes:
        assert 0 <= left and right <= width and 0 <= top and bottom <= height, words
    clashes = [(a[0], b[0]) for a, b in itertools.combinations(boxes, 2)
               if a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]]
    assert not clashes, clashes


@pytest.mark.parametrize("flow", [CASE_FLOW, ARCHIVE_FLOW], ids=["case", "archive"])
def test_no_label_is_drawn_across_a_line(language, flow):
    """The bus labels ("Not submitted by deadline; deemed forfeited") sit between the lines that pass them, on two
    lines where one is too long: no straight stretch of an arrow runs through a text's box."""
    markup = str(diagram.svg(None, flow=flow))
    boxes, _width, _height = text_boxes(markup)
    crossed = [(words, segment) for words, left, top, right, bottom in boxes
               for segment in straight_segments(markup)
               if segment[0] < right and left < segment[2] and segment[1] < bottom and top < segment[3]]
    assert not crossed, crossed
