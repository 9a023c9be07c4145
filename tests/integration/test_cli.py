"""The `songnuan` command line of API.md: ids on the last line, errors on stderr with exit status 1, nothing
half-done."""

import datetime as dt
import shlex

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from app.cli import main
from app.demo import build_demo
from workflows.clock import LOCAL
from workflows.documents import Uploads
from workflows.states import GRASSROOTS
from workflows.clock import from_db
from workflows.models import Account, AuditEvent, Campaign, Case, Union


@pytest.fixture
def cli(committed, tmp_path, monkeypatch):
    monkeypatch.setenv("SONGNUAN_DATABASE_URL", committed.url.render_as_string(hide_password=False))
    monkeypatch.setenv("SONGNUAN_UPLOAD_DIR", str(tmp_path / "uploads"))
    runner = CliRunner()

    def run(*args, input=None):
        argv = shlex.split(args[0]) if len(args) == 1 else list(args)
        return runner.invoke(main, argv, input=input, catch_exceptions=False)

    return run


def count(engine, model) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_init_db_is_idempotent(cli):
    assert cli("init-db").exit_code == 0
    assert cli("init-db").exit_code == 0


def test_organisation_from_the_command_line(cli, committed):
    district = cli("union create QZGH 某区总工会")
    assert district.exit_code == 0, district.output
    grassroots = cli("union", "create", "JC001", "华光机械厂工会", "--parent", "QZGH")
    assert grassroots.exit_code == 0
    with Session(committed) as session:
        union = session.get(Union, int(grassroots.stdout.splitlines()[-1]))
        assert (union.code, union.kind, union.parent.code) == ("JC001", "grassroots", "QZGH")

    made = cli("user", "create", "zhou", "--role", "cadre", "--union", "JC001", "--email", "zhou@example.org",
               "--password-stdin", input="correct horse battery\n")
    assert made.exit_code == 0, made.output
    with Session(committed) as session:
        account = session.get(Account, int(made.stdout.splitlines()[-1]))
        assert account.username == "zhou" and account.union.code == "JC001"
        assert "correct horse" not in account.password_hash
        assert check_password_hash(account.password_hash, "correct horse battery")

    made = cli("campaign", "create", "--name", "2018年元旦春节送温暖", "--deadline", "2018-01-25",
               "--start", "2017-12-01", "--end", "2018-02-28", "--publicity-days", "5", "--reminder-days", "7,3,1",
               "--cap-per-payment", "2000", "--cap-per-year", "5000", "--budget", "300000")
    assert made.exit_code == 0, made.output
    with Session(committed) as session:
        campaign = session.get(Campaign, int(made.stdout.splitlines()[-1]))
        assert from_db(campaign.deadline).isoformat() == "2018-01-25T16:00:00+00:00"  # end of the day in Beijing
        assert campaign.reminder_days == [7, 3, 1] and str(campaign.budget) == "300000.00"
    # Each creation is in the audit trail, and the chain verifies.
    verified = cli("audit", "verify")
    assert verified.exit_code == 0 and verified.stdout.splitlines()[-1] == "4"


@pytest.mark.parametrize("args, stdin, message", [
    (["union", "create", "JC9", "某工会", "--parent", "NOPE"], None, "没有代码为NOPE的上级工会"),
    (["user", "create", "li", "--role", "cadre", "--password-stdin"], "long enough pw\n", "须属于一个基层工会"),
    (["user", "create", "li", "--role", "auditor", "--password-stdin"], "short\n", "密码至少8位"),
    (["user", "create", "li", "--role", "auditor", "--name", "名" * 65, "--password-stdin"], "long enough pw\n",
     "姓名最多64个字"),
    (["user", "create", "li", "--role", "auditor", "--email", "a" * 250 + "@b.cn", "--password-stdin"],
     "long enough pw\n", "电子邮箱格式不对"),
    (["campaign", "create", "--name", "测试活动", "--deadline", "25/01/2018"], None, "截止时间格式"),
    (["campaign", "create", "--name", "测试活动", "--deadline", "2018-01-25", "--budget", "很多"], None, "应为金额"),
    (["campaign", "create", "--name", "测试活动", "--deadline", "2018-01-25", "--reminder-days", "7,x"], None,
     "逗号分隔"),
])
def test_bad_input_is_refused_in_chinese_and_changes_nothing(cli, committed, args, stdin, message):
    before = count(committed, AuditEvent)
    result = cli(*args, input=stdin)
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.output
    assert count(committed, AuditEvent) == before
    assert count(committed, Union) == 0 and count(committed, Account) == 0 and count(committed, Campaign) == 0


def test_duplicate_union_code_is_refused(cli, committed):
    cli("union create QZGH 某区总工会")
    result = cli("union create QZGH 另一个区总工会")
    assert result.exit_code == 1 and "已被使用" in result.stderr
    assert count(committed, Union) == 1


def test_demo_prints_passwords_once_and_refuses_a_second_load(cli, committed):
    first = cli("demo")
    assert first.exit_code == 0, first.output
    lines = [line.split() for line in first.stdout.splitlines()[1:]]
    assert {role for _, role, _ in lines} == {"admin", "cadre", "head", "reviewer", "finance", "auditor"}
    with Session(committed) as session:
        for username, _, password in lines:
            account = session.scalar(select(Account).where(Account.username == username))
            assert check_password_hash(account.password_hash, password)
        cases = session.scalar(select(func.count()).select_from(Case))
    assert cli("demo", "--if-empty").exit_code == 0
    again = cli("demo")
    assert again.exit_code == 1 and "已有数据" in again.stderr
    assert count(committed, Case) == cases
    assert cli("audit", "verify").exit_code == 0


def test_sweep_rehearses_a_deadline_with_now(cli, committed, tmp_path):
    with Session(committed) as session:
        build_demo(session, Uploads(tmp_path / "uploads"), now=dt.datetime(2026, 11, 29, 10, tzinfo=LOCAL))
        session.commit()
        due = session.scalar(select(func.count()).select_from(Case).where(Case.state.in_(GRASSROOTS)))
    assert due > 0
    early = cli("sweep", "--now", "2027-01-25T23:59:59")
    assert early.exit_code == 0 and "forfeited=0" in early.stdout
    assert "reminders_queued=0" not in early.stdout  # the 1-day reminders to the late unions
    late = cli("sweep", "--now", "2027-01-26T00:00:01")
    assert late.exit_code == 0 and f"forfeited={due}" in late.stdout and f"{due}件" in late.stdout
    assert "forfeited=0" in cli("sweep", "--now", "2027-01-26T00:00:01").stdout
    bad = cli("sweep", "--now", "tomorrow")
    assert bad.exit_code == 1 and "时间格式" in bad.stderr
