"""Key rotation of the personal numbers at rest (infra/sealing.py): every number sealed under another key than the
first of SONGNUAN_DATA_KEYS is sealed again under it, after which the older keys can be dropped from the setting.
Only the sealing changes, not what the rows say: no version is bumped, and one audited event records the rotation."""

from __future__ import annotations

from sqlalchemy import String, bindparam, select, type_coerce
from sqlalchemy.orm import Session

from workflows import rules
from workflows.actors import Actor
from workflows.infra import audit
from workflows.infra.clock import Clock
from workflows.infra.sealing import Sealed, key_id_of, keyring
from workflows.models import Base
from workflows.states import Action
from workflows.texts import N_

BATCH = 2000


def sealed_columns() -> list[tuple]:
    """(table, column) of every sealed number in the schema."""
    return [(table, column) for table in Base.metadata.sorted_tables for column in table.columns
            if isinstance(column.type, Sealed)]


def rotate_keys(session: Session, actor: Actor, clock: Clock) -> dict[str, int]:
    """Re-seal under the first data key what another key sealed; how many values, by table.column."""
    rules.require_role(actor, rules.ADMINS, N_("更换号码加密密钥"))
    ring = keyring()
    counts: dict[str, int] = {}
    for table, column in sealed_columns():
        raw = type_coerce(column, String)  # the sealed text as stored, not opened
        update = table.update().where(table.c.id == bindparam("row")).values(
            {column.name: type_coerce(bindparam("sealed"), String)})
        stale = [(row_id, value) for row_id, value in session.execute(select(table.c.id, raw).where(raw.is_not(None)))
                 if key_id_of(value) != ring.primary]
        for start in range(0, len(stale), BATCH):
            session.execute(update, [{"row": row_id, "sealed": ring.seal(ring.open(value))}
                                     for row_id, value in stale[start:start + BATCH]])
        counts[f"{table.name}.{column.name}"] = len(stale)
    audit.record(session, actor, clock.now(), Action.rotate_keys,
                 comment=f"已用密钥{ring.primary}重新加密{sum(counts.values())}个号码",
                 changes={"key": [None, ring.primary], **{name: [None, str(n)] for name, n in counts.items() if n}})
    return counts
