"""One `transitions` Machine per life cycle (the case's table in states.py, the archive's in archive_states.py),
built once and shared by every record.

A record is never registered on it for longer than one trigger: `step` adds a small token holding the case's state
(with `initial=`, so a loaded case is not reset), fires the trigger, reads the new state and removes the token.
The machine only knows which trigger leads where; the guards, which need the database and give reasons, live in
workflows/rules and run before it.
"""

from __future__ import annotations

import threading
from functools import cache

from transitions import Machine, MachineError

from workflows.archive_states import ARCHIVE_FLOW
from workflows.states import CASE_FLOW, Flow


def build(flow: Flow) -> Machine:
    """A row whose `dest` is None keeps the state: an internal transition of `transitions`."""
    first = next(iter(flow.states))
    return Machine(
        model=None,
        states=[s.value for s in flow.states],
        transitions=[{"trigger": t.trigger.value, "source": [s.value for s in t.sources],
                      "dest": t.dest.value if t.dest is not None else None} for t in flow.transitions],
        initial=first.value,
        auto_transitions=False,
        send_event=False,
    )


MACHINES = {flow.name: build(flow) for flow in (CASE_FLOW, ARCHIVE_FLOW)}
MACHINE = MACHINES[CASE_FLOW.name]
FLOWS = {flow.name: flow for flow in (CASE_FLOW, ARCHIVE_FLOW)}
# add_model and remove_model change the machine's list of models: one thread at a time.
_lock = threading.Lock()


class _Token:
    state: str


@cache
def step(state: str, trigger: str, flow: str = CASE_FLOW.name):
    """The state `trigger` leads to from `state` in the life cycle `flow`; raises MachineError when its table has no
    such move. The tables never change while the process runs, so the machine is asked once for each pair (a
    refusal is not kept)."""
    machine, token = MACHINES[flow], _Token()
    with _lock:
        machine.add_model(token, initial=state)
        try:
            token.trigger(trigger)
        finally:
            machine.remove_model(token)
    return FLOWS[flow].states(token.state)


__all__ = ["MACHINE", "MachineError", "step"]
