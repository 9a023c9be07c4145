"""The process diagram is drawn from the transition table: every state, one arrow per (source, destination) pair,
the current state highlighted; valid XML with no style of its own (the Content-Security-Policy forbids it)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from app.cases import diagram
from workflows import states
from workflows.states import STATE_LABELS, TRANSITIONS, Role, State, Transition

SVG = "{http://www.w3.org/2000/svg}"


def parse(current=None) -> ET.Element:
    return ET.fromstring(str(diagram.svg(current)))


def table_edges(transitions=TRANSITIONS) -> set[tuple[str, str]]:
    return {(source.value, t.dest.value) for t in transitions for source in t.sources}


def drawn_edges(root) -> list[tuple[str, str]]:
    return [tuple(g.get("data-edge").split(">")) for g in root.iter(f"{SVG}g") if g.get("data-edge")]


def nodes(root) -> dict[str, ET.Element]:
    return {g.get("data-state"): g for g in root.iter(f"{SVG}g") if g.get("data-state")}


def node_text(group) -> str:
    return "".join(group.find(f"{SVG}text").itertext())


def test_every_state_is_a_box_with_its_chinese_label():
    found = nodes(parse())
    assert set(found) == {state.value for state in State}
    for state, label in STATE_LABELS.items():
        assert node_text(found[state.value]) == label


def test_one_arrow_per_source_and_destination_of_the_table():
    edges = drawn_edges(parse())
    assert len(edges) == len(set(edges)) == len(table_edges())
    assert set(edges) == table_edges()


def test_every_arrow_has_a_path_with_an_arrowhead_and_names_its_transitions():
    root = parse()
    by_edge = {g.get("data-edge"): g for g in root.iter(f"{SVG}g") if g.get("data-edge")}
    for transition in TRANSITIONS:
        for source in transition.sources:
            group = by_edge[f"{source.value}>{transition.dest.value}"]
            path = group.find(f"{SVG}path")
            assert path is not None and path.get("marker-end") == "url(#sn-arrow)" and path.get("d")
            assert transition.label in group.find(f"{SVG}title").text
            assert source.label in group.find(f"{SVG}title").text


def test_every_transition_label_is_written_on_the_diagram():
    texts = "".join("".join(t.itertext()) for t in parse().iter(f"{SVG}text"))
    for transition in TRANSITIONS:
        assert transition.label.replace("，", "") in texts.replace("，", "")


@pytest.mark.parametrize("current", list(State))
def test_the_current_state_is_highlighted_and_named_for_screen_readers(current):
    root = parse(current.value)
    found = nodes(root)
    for state, group in found.items():
        rect = group.find(f"{SVG}rect")
        if state == current.value:
            assert group.get("aria-current") == "step"
            assert rect.get("fill") == diagram.HIGHLIGHT
            assert current.label in group.find(f"{SVG}title").text
            assert "当前" in node_text(group)  # not by colour alone
        else:
            assert group.get("aria-current") is None and rect.get("fill") != diagram.HIGHLIGHT
    assert root.find(f"{SVG}desc").text == f"当前状态：{current.label}"
    assert root.get("role") == "img" and root.get("aria-labelledby")


def test_no_state_highlighted_without_a_current_one():
    root = parse(None)
    assert all(g.get("aria-current") is None for g in nodes(root).values())
    assert parse("no-such-state") is not None


def test_the_main_path_runs_left_to_right_and_the_side_exits_below():
    found = nodes(parse())
    main = [State.drafted, State.documented, State.grassroots_approved, State.publicized, State.entered,
            State.district_approved, State.disbursed]
    xs = [float(found[s.value].find(f"{SVG}rect").get("x")) for s in main]
    ys = {float(found[s.value].find(f"{SVG}rect").get("y")) for s in main}
    assert xs == sorted(xs) and len(ys) == 1
    row = ys.pop()
    for side in (State.forfeited, State.withdrawn):
        assert float(found[side.value].find(f"{SVG}rect").get("y")) > row


def test_it_fits_the_case_page_and_carries_no_style():
    markup = str(diagram.svg("publicized"))
    root = ET.fromstring(markup)
    width = float(root.get("viewBox").split()[2])
    assert width <= 1150
    assert "style" not in markup and "<script" not in markup
    assert "Microsoft YaHei" in root.get("font-family") and "Noto Sans CJK SC" in root.get("font-family")


def test_text_is_escaped(monkeypatch):
    extra = Transition("odd", (State.disbursed,), State.drafted, (Role.admin,), "<b>再来&一次</b>")
    monkeypatch.setattr(states, "TRANSITIONS", TRANSITIONS + (extra,))
    markup = str(diagram.svg())
    ET.fromstring(markup)
    assert "<b>" not in markup and "&lt;b&gt;再来&amp;一次&lt;/b&gt;" in markup


@pytest.mark.parametrize("extra", [
    Transition("skip", (State.publicized,), State.district_approved, (Role.reviewer,), "直接审定"),
    Transition("reopen", (State.disbursed,), State.entered, (Role.reviewer,), "重新审核"),
    Transition("restore", (State.withdrawn,), State.drafted, (Role.head,), "恢复"),
    Transition("convert", (State.withdrawn,), State.forfeited, (Role.system,), "转为放弃"),
    Transition("touch", (State.entered,), State.entered, (Role.reviewer,), "原地"),
], ids=lambda t: t.trigger)
def test_a_row_added_to_the_table_adds_its_arrow(monkeypatch, extra):
    monkeypatch.setattr(states, "TRANSITIONS", TRANSITIONS + (extra,))
    root = parse("entered")
    edges = drawn_edges(root)
    assert len(edges) == len(set(edges)) == len(table_edges(states.TRANSITIONS))
    assert (extra.sources[0].value, extra.dest.value) in edges
