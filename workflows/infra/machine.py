"""One `transitions` Machine, built once from the table in states.py, shared by every case.

A case is never registered on it for longer than one trigger: `step` adds a small token holding the case's state
(with `initial=`, so a loaded case is not reset), fires the trigger, reads the new state and removes the token.
The machine only knows which trigger leads where; the guards, which need the database and give reasons, live in
workflows/rules and run before it.
"""

from __future__ import annotations

import threading
from functools import cache

from transitions import Machine, MachineError

from workflows.states import TRANSITIONS, State

MACHINE = Machine(
    model=None,
    states=[s.value for s in State],
    transitions=[{"trigger": t.trigger, "source": [s.value for s in t.sources], "dest": t.dest.value}
                 for t in TRANSITIONS],
    initial=State.drafted.value,
    auto_transitions=False,
    send_event=False,
)
# add_model and remove_model change the machine's list of models: one thread at a time.
_lock = threading.Lock()


class _Token:
    state: str


@cache
def step(state: str, trigger: str) -> State:
    """The state `trigger` leads to from `state`; raises MachineError when the table has no such move. The table
    never changes while the process runs, so the machine is asked once for each pair (a refusal is not kept)."""
    token = _Token()
    with _lock:
        MACHINE.add_model(token, initial=state)
        try:
            token.trigger(trigger)
        finally:
            MACHINE.remove_model(token)
    return State(token.state)


__all__ = ["MACHINE", "MachineError", "step"]
