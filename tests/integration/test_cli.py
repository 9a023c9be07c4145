"""The `songnuan` command line of API.md: ids on the last line, errors on stderr with exit status 1, nothing
half-done."""

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from app.demo import build_demo
from workflows.infra.clock import LOCAL, from_db
from workflows.infra.uploads import Uploads
from workflows.models import Account, AuditEvent, Campaign, Case, Union
from workflows.states import GRASSROOTS


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
    # A line break in a name (issue 15): refused, as on the screens, before it breaks a heading or a workbook.
    (["union", "create", "JC9", "某工会\n第二行"], None, "名称不能包含换行或控制字符"),
    (["campaign", "create", "--name", "测试\r活动", "--deadline", "2018-01-25"], None, "名称不能包含换行或控制字符"),
    (["user", "create", "li", "--role", "auditor", "--name", "李\t四", "--password-stdin"], "long enough pw\n",
     "姓名不能包含换行或控制字符"),
    (["campaign", "create", "--name", "测试活动", "--deadline", "25/01/2018"], None, "截止时间格式"),
    (["campaign", "create", "--name", "测试活动", "--deadline", "2018-01-25", "--budget", "很多"], None, "应为数字"),
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


# ------------------------------------------------------------------ songnuan stats export

@pytest.fixture
def stats_season(committed, clock, tmp_path):
    """The season of test_statistics, committed for the command to read."""
    from tests.factories import Factory

    from .test_statistics import build_season

    with Session(committed, expire_on_commit=False) as session:
        season = build_season(Factory(session, clock, Uploads(tmp_path / "uploads")))
        session.commit()
        yield season, session


def _cells(data) -> dict[str, list[list]]:
    """Every cell of every sheet, the date of filling in (today, for the command) left out."""
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data)
    return {sheet.title: [[None if isinstance(v, str) and v.startswith("填报日期：") else v for v in row]
                          for row in sheet.iter_rows(values_only=True)] for sheet in book}


@pytest.mark.parametrize("scope", ["district", "a"])
def test_stats_export_writes_the_statistics_table(cli, stats_season, tmp_path, scope):
    from .test_statistics import figures_of, read, sql_figures, workbook_for

    season, session = stats_season
    union = None if scope == "district" else season.a
    out = tmp_path / "送温暖活动统计表.xlsx"
    args = ["stats", "export", "--campaign", str(season.campaign.id), "--out", str(out)]
    result = cli(*(args + (["--union", union.code] if union else [])))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == str(out) and "件" in result.stdout
    # the same file as the screens and the API give, cell for cell
    assert _cells(out) == _cells(workbook_for(session, season.campaign, union))
    expected = sql_figures(session, season.campaign, None if union is None else [union])
    assert figures_of(read(out.read_bytes()))["cases"] == expected["cases"]
    assert figures_of(read(out.read_bytes()))["paid"] == expected["paid"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no partial file left


@pytest.mark.parametrize("options, message", [
    (["--campaign", "999999"], "找不到该活动"),
    (["--campaign", "{campaign}", "--union", "NOPE"], "找不到该工会"),
    (["--campaign", "abc"], "活动编号应为数字"),
    (["--campaign", "{campaign}", "--out", "{tmp}/统计表.csv"], "应以 .xlsx 结尾"),
    (["--campaign", "{campaign}", "--out", "{tmp}/no-such-folder/统计表.xlsx"], "不存在"),
])
def test_stats_export_refuses_clearly_and_writes_nothing(cli, stats_season, tmp_path, options, message):
    season, _session = stats_season
    out = tmp_path / "统计表.xlsx"
    out.write_bytes(b"an older file")
    fill = {"campaign": season.campaign.id, "tmp": tmp_path}
    options = [option.format(**fill) for option in options]
    if "--out" not in options:
        options += ["--out", str(out)]
    before = sorted(p.name for p in tmp_path.iterdir())
    result = cli("stats", "export", *options)
    assert result.exit_code == 1
    assert message in result.stderr and result.stderr.startswith("错误：")
    assert result.stdout == "" and "Traceback" not in result.output
    assert out.read_bytes() == b"an older file" and sorted(p.name for p in tmp_path.iterdir()) == before


def test_the_name_search_index_is_rebuilt_after_names_were_changed_by_sql(cli, committed, tmp_path):
    """A name corrected outside Songnuan (by SQL) is found by the district's search once the index is rebuilt."""
    from workflows.reads import worklists

    def found(session, reviewer) -> set[int]:
        return {c.id for c in worklists.cases(session, reviewer, worklists.Filters(q="鑫淼")).items}

    with Session(committed) as session:
        build_demo(session, Uploads(tmp_path / "uploads"))
        session.commit()
        case = session.scalars(select(Case).where(Case.entered_at.is_not(None))).first()
        reviewer = session.scalars(select(Account).where(Account.role == "reviewer")).first()
        session.execute(Case.__table__.update().where(Case.__table__.c.id == case.id).values(applicant_name="滕鑫淼"))
        session.commit()
        assert case.id not in found(session, reviewer)  # written around Songnuan: its pieces are not there
    rebuilt = cli("search-index rebuild")
    assert rebuilt.exit_code == 0 and rebuilt.stdout.startswith("姓名检索索引已重建")
    with Session(committed) as session:
        assert found(session, session.get(Account, reviewer.id)) == {case.id}
