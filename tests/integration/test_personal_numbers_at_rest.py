"""Personal numbers at rest (issue 15): a database file or dump alone reveals no ID or bank number, and the data key
can be rotated with `songnuan keys new` and `songnuan keys rotate` while every lookup keeps working."""

from __future__ import annotations

import base64
import datetime as dt
import os
import re
import subprocess

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.demo import build_demo
from workflows import verbs
from workflows.errors import Refused
from workflows.infra import audit, sealing
from workflows.infra.clock import LOCAL, FixedClock
from workflows.infra.uploads import Uploads
from workflows.models import Account, Archive, ArchiveMember, AuditEvent, Case, Member, PaymentLine
from workflows.states import State

from ..conftest import is_postgres
from ..factories import PDF

OLD_KEY = "old1:" + base64.b64encode(b"o" * 32).decode()
NOW = dt.datetime(2026, 11, 29, 10, tzinfo=LOCAL)


@pytest.fixture
def keys(monkeypatch):
    """Set SONGNUAN_DATA_KEYS for this test (the processes it starts inherit it) and read it again."""

    def use(value: str) -> None:
        monkeypatch.setenv("SONGNUAN_DATA_KEYS", value)
        sealing.configure(None)

    yield use
    monkeypatch.undo()
    sealing.configure(None)


@pytest.fixture
def demo(committed, tmp_path):
    with Session(committed) as session:
        build_demo(session, Uploads(tmp_path / "uploads"), now=NOW)
        session.commit()
    return committed


def _plain_numbers(engine) -> set[str]:
    with Session(engine) as session:
        numbers = {n for model in (Case, Archive) for row in session.execute(
            sa.select(model.id_number, model.bank_account)) for n in row if n}
        numbers |= {n for model in (Member, ArchiveMember) for n in session.scalars(sa.select(model.id_number)) if n}
        numbers |= set(session.scalars(sa.select(PaymentLine.bank_account)))
    return numbers


def _dump(engine, tmp_path) -> str:
    """What someone holding only the database gets: the SQLite file's bytes, or pg_dump's output."""
    if is_postgres(engine):
        url = engine.url
        return subprocess.run(["pg_dump", "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432),
                               "-U", url.username or "postgres", url.database], check=True, capture_output=True,
                              text=True).stdout
    return "".join(file_text(path) for path in (engine.url.database, engine.url.database + "-wal"))


def file_text(path: str) -> str:
    """A database file's bytes as text, read by another process: closing a descriptor of a SQLite file in this
    one would drop every lock SQLite holds on it here (POSIX locks are per process), and other processes would
    then write over this one's transactions."""
    read = subprocess.run(["cat", path], capture_output=True)
    return read.stdout.decode("utf-8", "replace")


def test_a_dump_of_the_demo_shows_no_full_number(demo, tmp_path):
    numbers = _plain_numbers(demo)
    assert len(numbers) > 100 and any(len(n) == 18 for n in numbers) and any(len(n) == 19 for n in numbers)
    dump = _dump(demo, tmp_path)
    assert "s1:test1:" in dump
    assert [n for n in numbers if n in dump] == []
    # Nor grouped as people type them in free text: every run of 15 digits or more in the dump is no number held.
    runs = {re.sub(r"[ -]", "", run) for run in re.findall(r"(?<![0-9])[0-9](?:[ -]?[0-9Xx]){14,}", dump)}
    assert not runs & numbers


def test_the_data_key_rotates_and_the_old_one_can_go(demo, cli, keys):
    keys(OLD := f"{OLD_KEY},{os.environ['SONGNUAN_DATA_KEYS']}")
    with Session(demo) as session:  # seal everything under the old key first, as an older installation had it
        verbs.rotate_keys(session, _admin(session), FixedClock(NOW))
        session.commit()
        before = {c.id: (c.id_number, c.bank_account, c.numbers) for c in session.scalars(sa.select(Case))}
    assert _key_ids(demo) == {"old1"}

    made = cli("keys", "new")
    assert made.exit_code == 0, made.output
    both = made.stdout.strip().splitlines()[-1]
    assert both.endswith("," + OLD) and both.split(":")[0] != "old1"
    keys(both)  # every server now opens both; the new one seals
    rotated = cli("keys", "rotate")
    assert rotated.exit_code == 0, rotated.output
    assert "已重新加密" in rotated.stdout
    new_id = both.split(":")[0]
    assert _key_ids(demo) == {new_id}
    assert "已重新加密0个号码" in cli("keys", "rotate").stdout  # nothing left under the old key

    keys(both.split(",")[0])  # the old key dropped
    with Session(demo) as session:
        assert {c.id: (c.id_number, c.bank_account, c.numbers) for c in session.scalars(sa.select(Case))} == before
        # The digests did not change: the one-household-one-archive rule still finds a held number.
        archive = session.scalars(sa.select(Archive).where(Archive.status == "active")).first()
        cadre = session.scalar(sa.select(Account).where(Account.role == "cadre",
                                                          Account.union_id != archive.union_id))
        with pytest.raises(Refused):
            verbs.create_archive(session, cadre, FixedClock(NOW), {
                "applicant": {"name": "王建国", "gender": "male", "id_number": archive.id_number}})
        session.rollback()
        last = session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert last.action == "rotate_keys" and new_id in last.comment
        assert audit.verify(session).ok

    keys(OLD_KEY)  # the old key alone no longer opens anything
    with Session(demo) as session, pytest.raises(sealing.SealingError):
        session.scalars(sa.select(Case)).all()


def test_keys_new_puts_a_key_first_in_the_instance_file(cli, keys, monkeypatch, tmp_path):
    monkeypatch.delenv("SONGNUAN_DATA_KEYS")
    monkeypatch.setattr(sealing, "INSTANCE", tmp_path)
    sealing.configure(None)
    first = sealing.keyring().primary
    assert (tmp_path / "data_keys").stat().st_mode & 0o077 == 0  # readable by its owner only
    made = cli("keys", "new")
    assert made.exit_code == 0, made.output
    sealing.configure(None)
    ring = sealing.keyring()
    assert ring.primary != first and [k for k, _ in ring.data_keys] == [ring.primary, first]


def test_a_value_sealed_under_an_unknown_key_or_altered_is_refused():
    ring = sealing.keyring()
    sealed = ring.seal("110105194912310021")
    assert ring.open(sealed) == "110105194912310021" and sealed != ring.seal("110105194912310021")
    body = base64.b64decode(sealed.split(":")[2])
    altered = sealed.rsplit(":", 1)[0] + ":" + base64.b64encode(body[:-1] + bytes([body[-1] ^ 1])).decode()
    with pytest.raises(sealing.SealingError):
        ring.open(altered)
    with pytest.raises(sealing.SealingError):
        ring.open(sealed.replace("s1:test1:", "s1:gone:"))


def _admin(session: Session):
    return session.scalar(sa.select(Account).where(Account.role == "admin"))


def _key_ids(engine) -> set[str]:
    with engine.connect() as connection:
        return {value.split(":")[1] for table, column in verbs.keys.sealed_columns()
                for value in connection.scalars(sa.select(sa.type_coerce(column, sa.String)).where(
                    sa.type_coerce(column, sa.String).is_not(None)))}


def test_numbers_typed_into_comments_and_file_names_are_kept_masked(session, make):
    """The trail is written once and kept for years: a number typed into a comment or a file's name is masked
    before it is stored, not only when shown."""
    number, account = "11010519491231002X", "6222021234567890128"
    case = make.case(State.documented)
    head = make.person("head", case.union)
    make.fire(case, "return", head, comment=f"身份证{number[:6]} {number[6:]}，银行卡{account}有误，请核对")
    cadre = make.person("cadre", case.union)
    document = verbs.add_document(session, cadre, make.clock, make.uploads, case.id, "application",
                                  f"身份证{number}.pdf", PDF)
    session.flush()
    stored = " ".join(str(value) for table in ("audit_events", "documents") for row in session.execute(
        sa.text(f"SELECT * FROM {table}")) for value in row)
    assert number not in stored and account not in stored and number[6:] not in stored
    assert "110105********002X" in stored and "***************0128" in stored
    assert document.filename == "身份证110105********002X.pdf"
