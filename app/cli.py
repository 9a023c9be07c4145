"""The `songnuan` command (API.md). Each command commits once at its end, or not at all."""

from __future__ import annotations

import datetime as dt
import functools
import signal
import sys
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import click
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from scheduler import runner
from scheduler.jobs import run_once
from workflows import verbs
from workflows.actors import CONSOLE
from workflows.errors import DomainError, Invalid
from workflows.infra import audit, checkpoints
from workflows.infra.clock import LOCAL, FixedClock, SystemClock
from workflows.infra.db import make_engine, race_refusal, session_factory
from workflows.infra.migrate import upgrade
from workflows.infra.uploads import Uploads
from workflows.inputs import parse_deadline, parse_number
from workflows.models import Account, NameGram
from workflows.verbs.signin import issue_token

from .config import Settings


@contextmanager
def _transaction(writes: bool = True):
    settings = Settings()
    settings.ensure_dirs()
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine, writes=writes)() as session, session.begin():
            yield session
    finally:
        engine.dispose()


def _domain_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """A refusal is a message on standard error and exit status 1, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except Invalid as error:
            for name, message in error.fields.items():
                click.echo(f"错误：{name}：{message}", err=True)
            sys.exit(1)
        except DomainError as error:
            click.echo(f"错误：{error.message}", err=True)
            sys.exit(1)
        except OperationalError:  # no such server, database or file; refused credentials
            click.echo("错误：无法连接数据库：请检查 SONGNUAN_DATABASE_URL 和数据库服务", err=True)
            sys.exit(1)
        except SQLAlchemyError as error:  # the same done at the same moment elsewhere, as on the screens
            if (refusal := race_refusal(error)) is None:
                raise
            click.echo(f"错误：{refusal.message}", err=True)
            sys.exit(1)

    return wrapper


@click.group(help="送暖：元旦春节送温暖帮扶案件管理")
def main() -> None:
    pass


@main.command("init-db", help="Create or upgrade the database schema.")
@_domain_errors
def init_db() -> None:
    settings = Settings()
    settings.ensure_dirs()
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    click.echo("数据库已就绪")


@main.command(help="Load demo unions, accounts, campaigns and cases; prints the demo passwords.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has accounts.")
@_domain_errors
def demo(if_empty: bool) -> None:
    from .demo import build_demo

    settings = Settings()
    with _transaction() as session:
        if session.scalar(select(Account.id).limit(1)) is not None:
            if if_empty:
                click.echo("数据库中已有数据，未载入演示数据")
                return
            raise DomainError("数据库中已有数据；演示数据只能载入空数据库")
        accounts = build_demo(session, Uploads(settings.upload_storage()))
    click.echo("演示账号（密码只显示这一次，数据库中只存其散列值）：")
    for username, role, password in accounts:
        click.echo(f"  {username:<14} {role:<10} {password}")


@main.command(help="Serve the application for development (single process).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-scheduler", is_flag=True, help="Do not start the scheduler inside.")
def run(host: str, port: int, no_scheduler: bool) -> None:
    from . import create_app

    app = create_app(Settings(development=True))
    background = None
    if not no_scheduler:  # one process here, so one scheduler; `serve` (gunicorn) never starts one
        background = BackgroundScheduler(timezone=dt.timezone.utc)
        engine = app.extensions["songnuan"]["engine"]
        runner.schedule(background, engine, SystemClock(), runner.leadership(engine, SystemClock()),
                        Settings().smtp_url)
        background.start()
    try:
        app.run(host=host, port=port, threaded=True)
    finally:
        if background is not None:
            background.shutdown(wait=False)


@main.command(help="Serve the application in production through gunicorn; no scheduler inside.")
@click.option("--bind", default="127.0.0.1:8000", show_default=True, help="HOST:PORT to listen on.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
def serve(bind: str, workers: int) -> None:
    from .serve import Server

    # A storage that cannot keep files would refuse every upload with "try later": say why now, at the start.
    if problem := Settings().upload_storage().problem():
        click.echo(f"错误：上传文件存储不可用：{problem}", err=True)
        sys.exit(1)
    Server(bind, workers).run()


@main.command(help="The standalone scheduler process; several may run, one acts.")
@click.option("--metrics-port", type=click.IntRange(1, 65535), envvar="SONGNUAN_SCHEDULER_METRICS_PORT",
              help="Serve its Prometheus metrics at http://127.0.0.1:PORT/metrics (loopback only).")
def scheduler(metrics_port: int | None) -> None:
    from prometheus_client import start_http_server

    from . import logs

    logs.configure()  # JSON lines on stderr, each pass's with its run id
    if metrics_port:
        start_http_server(metrics_port, addr="127.0.0.1")
    settings = Settings()
    engine = make_engine(settings.database_url)
    clock = SystemClock()
    leader = runner.leadership(engine, clock)
    blocking = BlockingScheduler(timezone=dt.timezone.utc)
    runner.schedule(blocking, engine, clock, leader, settings.smtp_url)
    def stop(*_) -> None:
        if blocking.running:
            blocking.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    click.echo(f"调度进程已启动（{runner.holder_name()}），每{runner.TICK}秒检查一次到期事项")
    try:
        blocking.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        leader.release()
        engine.dispose()


@main.command(help="One pass of deadline enforcement and reminders, then exit; --now rehearses a moment on a copy.")
@click.option("--now", "moment", help="ISO-8601 instant to act as if it were now (local time without a zone).")
@_domain_errors
def sweep(moment: str | None) -> None:
    clock = SystemClock()
    if moment:
        try:
            at = dt.datetime.fromisoformat(moment)
        except ValueError:
            raise Invalid({"now": "时间格式应为 2018-01-26T00:00:01"}) from None
        clock = FixedClock(at if at.tzinfo else at.replace(tzinfo=LOCAL))
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        report = run_once(session_factory(engine, writes=True), clock, settings.smtp_url)
    finally:
        engine.dispose()
    click.echo(f"逾期未报，视为自动放弃：{report.forfeited}件")
    if report.skipped:
        click.echo(f"未能处理（见日志）：{report.skipped}件")
    click.echo(f"新的提醒：{report.reminders_queued}条（站内通知）")
    if settings.smtp_url:
        failed = f"，未能发送{report.emails_failed}封（稍后重试）" if report.emails_failed else ""
        click.echo(f"已发送邮件：{report.emails_sent}封{failed}")
    click.echo(f"forfeited={report.forfeited} skipped={report.skipped} reminders_queued={report.reminders_queued}"
               f" emails_sent={report.emails_sent}")


@main.group(help="Unions.")
def union() -> None:
    pass


@union.command("create", help="Create a union; prints its id.")
@click.argument("code")
@click.argument("name")
@click.option("--parent", help="Code of the parent union.")
@click.option("--kind", type=click.Choice(["district", "federation", "grassroots"]),
              help="Default: district without a parent, grassroots with one.")
@_domain_errors
def union_create(code: str, name: str, parent: str | None, kind: str | None) -> None:
    with _transaction() as session:
        created = verbs.create_union(session, CONSOLE, SystemClock(), code, name, parent, kind)
    click.echo(created.id)


@main.group(help="Accounts.")
def user() -> None:
    pass


@user.command("create", help="Create an account; prints its id.")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["cadre", "head", "reviewer", "finance", "auditor", "admin"]))
@click.option("--union", "union_code", help="Code of the grassroots union (cadre and head).")
@click.option("--email")
@click.option("--name", "display_name", default="", help="The person's name as shown on the screens.")
@click.option("--password-stdin", is_flag=True, required=True, help="Read the password from standard input.")
@_domain_errors
def user_create(username: str, role: str, union_code: str | None, email: str | None, display_name: str,
                password_stdin: bool) -> None:
    password = sys.stdin.readline().rstrip("\r\n")
    with _transaction() as session:
        account = verbs.create_account(session, CONSOLE, SystemClock(), username, role, password,
                                              union_code, email, display_name)
    click.echo(account.id)


@main.group(help="API tokens.")
def token() -> None:
    pass


@token.command("create", help="Print a new API bearer token for an account (shown once, stored hashed).")
@click.argument("username")
@_domain_errors
def token_create(username: str) -> None:
    with _transaction() as session:
        account = session.scalar(select(Account).where(Account.username == username))
        if account is None or not account.active:
            raise Invalid({"username": f"没有名为{username}的有效账号"})
        value = issue_token(session, SystemClock(), account)
    click.echo(value)


@main.group(help="Campaigns.")
def campaign() -> None:
    pass


def _reminder_days(text: str) -> list[int]:
    days = [parse_number(part) for part in text.split(",") if part.strip()]
    if None in days:
        raise Invalid({"reminder_days": "应为逗号分隔的天数，例如 7,3,1"})
    return days


def _date(text: str | None, field: str):
    import datetime as dt

    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Invalid({field: "日期格式应为 2018-01-25"}) from None


@campaign.command("create", help="Create a campaign; prints its id.")
@click.option("--name", required=True)
@click.option("--deadline", required=True, help="ISO-8601; a bare date means the end of that day, local time.")
@click.option("--start")
@click.option("--end")
@click.option("--publicity-days", default=5, show_default=True, type=int)
@click.option("--reminder-days", default="7,3,1", show_default=True)
@click.option("--cap-per-payment")
@click.option("--cap-per-year")
@click.option("--budget")
@click.option("--report-deadline", help="Deadline of the summary and statistics (default: the deadline).")
@_domain_errors
def campaign_create(name, deadline, start, end, publicity_days, reminder_days, cap_per_payment, cap_per_year,
                    budget, report_deadline) -> None:
    with _transaction() as session:
        created = verbs.create_campaign(
            session, CONSOLE, SystemClock(), name=name, deadline=parse_deadline(deadline),
            starts_on=_date(start, "start"), ends_on=_date(end, "end"), publicity_days=publicity_days,
            reminder_days=_reminder_days(reminder_days), cap_per_payment=cap_per_payment,
            cap_per_year=cap_per_year, budget=budget,
            report_deadline=parse_deadline(report_deadline) if report_deadline else None)
    click.echo(created.id)


@main.group("audit", help="The audit chain.")
def audit_group() -> None:
    pass


@audit_group.command("verify", help="Check the chain from the last checkpoint (--full: walk it all); exit 1 naming "
                                     "the first bad event. A success records a checkpoint.")
@click.option("--digest", help="A digest taken earlier with `songnuan audit digest`.")
@click.option("--full", is_flag=True, help="Walk the whole chain, not only the events after the last checkpoint.")
@_domain_errors
def audit_verify(digest: str | None, full: bool) -> None:
    with _transaction(writes=False) as session:  # reading: writers go on meanwhile
        try:
            result = checkpoints.verify(session, digest, full=full)
        except ValueError as error:
            raise Invalid({"digest": str(error)}) from None
    kind = "全链核验" if result.full else f"从检查点第{result.since}号事件之后核验"
    with _transaction() as session:  # one short write, after the walk
        checkpoints.record(session, result, "命令行", SystemClock().now())
    if result.ok:
        click.echo(f"审计链完整：{kind}，核验了{result.events}条事件，共{result.since + result.events}条")
        click.echo(result.since + result.events)
        return
    click.echo(f"审计链被破坏：{result.message}（{kind}，已核验{result.since + result.events}条）", err=True)
    click.echo(f"first_bad={result.first_bad} problem={result.problem}", err=True)
    sys.exit(1)


@audit_group.command("digest", help="Print the head of the chain (SEQ:HASH), to keep outside the database.")
def audit_digest() -> None:
    with _transaction(writes=False) as session:  # reading: writers go on meanwhile
        click.echo(audit.digest(session))


@main.group("search-index", help="The name search's index of name pieces (name_grams).")
def search_index_group() -> None:
    pass


@search_index_group.command("rebuild", help="Write every piece again from the names: after names were changed "
                                            "outside Songnuan (by SQL, or by a host running a release before 0013).")
@_domain_errors
def search_index_rebuild() -> None:
    from workflows.infra import search

    with _transaction() as session:
        search.rebuild(session.connection())
        held = session.scalar(select(func.count()).select_from(NameGram))
    click.echo(f"姓名检索索引已重建：{held}条")


@main.command(help="Write the database and the uploaded files, consistent with each other, to one file (.tar.gz).")
@click.argument("target", type=click.Path(dir_okay=False))
@click.option("--allow-missing", is_flag=True, help="Record files the storage has lost as missing instead of refusing.")
@_domain_errors
def backup(target: str, allow_missing: bool) -> None:
    from workflows.infra.backup import backup as take

    settings = Settings()
    with _database(settings) as engine:
        manifest = take(engine, settings.upload_storage(), target, allow_missing=allow_missing)
    rows = sum(table["rows"] for table in manifest["tables"].values())
    click.echo(f"已备份到{target}：{rows}行数据，{len(manifest['files'])}个文件，审计链头 {manifest['audit_digest']}")
    if manifest["missing_files"]:
        click.echo(f"注意：{len(manifest['missing_files'])}个文件已丢失，备份中只有引用它们的记录："
                   f"{','.join(manifest['missing_files'])}", err=True)
    click.echo("备份不含数据密钥和索引密钥：恢复时须配置原来的 SONGNUAN_DATA_KEYS 和 SONGNUAN_INDEX_KEY")


@main.command(help="Put a backup back into an empty database and upload store; verifies the audit chain.")
@click.argument("source", type=click.Path(dir_okay=False))
@_domain_errors
def restore(source: str) -> None:
    from workflows.infra.backup import restore as put_back

    settings = Settings()
    settings.ensure_dirs()
    with _database(settings) as engine:
        manifest = put_back(engine, settings.upload_storage(), source)
    rows = sum(table["rows"] for table in manifest["tables"].values())
    click.echo(f"已恢复{manifest['taken_at']}的备份：{rows}行数据，{len(manifest['files'])}个文件")
    verification = manifest["verification"]
    if not verification["ok"]:
        click.echo(f"审计链被破坏：{verification['message']}。数据已写入，但不可作为可信的恢复："
                   "请清空该数据库和文件存储后，换一份备份再恢复", err=True)
        sys.exit(1)
    click.echo(f"审计链完整：已核验{verification['events']}条事件，与备份时的链头 {manifest['audit_digest']} 一致")


@contextmanager
def _database(settings: Settings):
    engine = make_engine(settings.database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def _xlsx_target(out: str):
    from pathlib import Path

    target = Path(out)
    if target.suffix.lower() != ".xlsx":
        raise Invalid({"out": "输出文件名应以 .xlsx 结尾"})
    if not target.parent.is_dir():
        raise Invalid({"out": f"目录{target.parent}不存在"})
    return target


def _write(target, data: bytes) -> None:
    """Written beside the target, then moved over it: a failure never leaves half a file under the name asked for."""
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.write_bytes(data)
        partial.replace(target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise Invalid({"out": f"无法写入{target}：{error.strerror}"}) from None


@main.group("stats", help="Statistics.")
def stats_group() -> None:
    pass


@stats_group.command("export", help="Write the statistics table (送温暖活动统计表) of a campaign as .xlsx.")
@click.option("--campaign", "campaign_id", required=True, help="The campaign's id.")
@click.option("--out", required=True, help="The .xlsx file to write.")
@click.option("--union", "union_code", help="Code of a union (its figures and those under it); default: the district.")
@_domain_errors
def stats_export(campaign_id: str, out: str, union_code: str | None) -> None:
    from workflows.reads import reports

    from .exports import statistics_workbook

    if (number := parse_number(campaign_id)) is None:
        raise Invalid({"campaign": "活动编号应为数字"})
    target = _xlsx_target(out)
    with _transaction(writes=False) as session:
        campaign, union = reports.scope(session, CONSOLE, number, union_code)
        table = reports.statistics(session, campaign.id, union)
        data = statistics_workbook(table, campaign, union, SystemClock().now())
    _write(target, data)
    click.echo(f"已写入{campaign.name}活动统计表（{table['unit']}）：{table['cases']}件，"
               f"审定{table['approved_amount']}元，发放{table['paid_amount']}元")
    click.echo(str(target))


@main.group("standard", help="Minimum living standards (低保标准).")
def standard_group() -> None:
    pass


@standard_group.command("set", help="Set the standard of a year for an area code, yuan per person per month.")
@click.option("--year", required=True, help="The year, 2000 to 2100.")
@click.option("--area", required=True, help="Six digits: a county (110105), a city (110100) or a province (110000).")
@click.option("--monthly", required=True, help="Yuan per person per month, at most two decimals.")
@_domain_errors
def standard_set(year: str, area: str, monthly: str) -> None:
    from workflows.money import yuan

    with _transaction() as session:
        standard = verbs.set_standard(session, CONSOLE, SystemClock(), year, area, monthly)
        said = f"已设定{standard.year}年{standard.area_code}的低保标准：每人每月{yuan(standard.monthly)}元"
    click.echo(said)


@main.group("archive", help="Household archives (困难职工档案).")
def archive_group() -> None:
    pass


@archive_group.command("export", help="Write the household archives as .xlsx, in the national system's layout.")
@click.option("--out", required=True, help="The .xlsx file to write.")
@click.option("--union", "union_code", help="Code of a union: its archives only; default: every archive.")
@click.option("--format", "layout", type=click.Choice(["national"]), default="national", show_default=True,
              help="The layout of the national 工会帮扶工作管理系统.")
@_domain_errors
def archive_export(out: str, union_code: str | None, layout: str) -> None:
    from workflows.actors import SYSTEM
    from workflows.models import Union

    from .archive_exports import archive_workbook, archives_to_export

    target = _xlsx_target(out)
    with _transaction(writes=False) as session:
        unit = "全部档案"
        if union_code:
            union = session.scalar(select(Union).where(Union.code == union_code))
            if union is None:
                raise Invalid({"union": f"没有代码为{union_code}的工会"})
            unit = union.name
        counted: list[int] = []

        def each():
            for archive in archives_to_export(session, SYSTEM, union_code):  # the console reads every archive
                counted.append(archive.id)
                yield archive

        data = archive_workbook(each(), unit, SystemClock().now())
    _write(target, data)
    click.echo(f"已写入困难职工档案（{unit}）：{len(counted)}户")
    click.echo(str(target))


@archive_group.command("import", help="Import a union's ledger (台账, .xlsx in the template's columns) as archives: "
                                      "all rows or none.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--union", "union_code", required=True, help="Code of the grassroots union whose ledger it is.")
@click.option("--dry-run", is_flag=True, help="Only check the file: every bad cell is listed, nothing is stored.")
@_domain_errors
def archive_import(file: str, union_code: str, dry_run: bool) -> None:
    from workflows.verbs.imports import LedgerInvalid

    from .ledger import read

    limit = Uploads(Settings().upload_dir).max_bytes  # the upload limit of the screens and the API
    with open(file, "rb") as source:
        content = source.read(limit + 1)
    rows = read(content, limit)
    try:
        with _transaction(writes=not dry_run) as session:
            # The console acts for the district: the union is named.
            result = verbs.import_archives(session, CONSOLE, SystemClock(), union_code, rows, dry_run=dry_run)
    except LedgerInvalid as error:
        for problem in error.rows:
            click.echo(str(problem), err=True)
        click.echo(f"错误：{error.fields['file']}", err=True)
        sys.exit(1)
    if dry_run:
        click.echo(f"检查通过：共{result.households}户、{result.people}人，可以导入（未导入）")
    else:
        click.echo(f"已从台账导入{result.households}户（{result.people}人）的档案，状态为在档")
    click.echo(result.households)


@main.group("keys", help="The keys that seal ID numbers and bank accounts at rest (README: personal data at rest).")
def keys_group() -> None:
    pass


@keys_group.command("new", help="Make a new data key and put it first: in instance/data_keys, or print the "
                                "SONGNUAN_DATA_KEYS value to set. Then run `songnuan keys rotate`.")
def keys_new() -> None:
    import os

    from workflows.infra import sealing

    entry = sealing.new_data_key()
    if current := os.environ.get("SONGNUAN_DATA_KEYS"):
        click.echo("请把 SONGNUAN_DATA_KEYS 设为以下值（新密钥在前，旧密钥保留到重新加密完成），"
                   "在所有服务器上生效后运行 songnuan keys rotate：", err=True)
        click.echo(f"{entry},{current}")
        return
    path = sealing.INSTANCE / "data_keys"
    sealing.keyring()  # makes the file when there was none
    path.write_text(f"{entry}\n{path.read_text().strip()}\n")
    click.echo(f"已生成新密钥{entry.split(':')[0]}并置于{path}首位；请运行 songnuan keys rotate 重新加密")


@keys_group.command("rotate", help="Seal again under the first data key every number another key sealed.")
@_domain_errors
def keys_rotate() -> None:
    with _transaction() as session:
        counts = verbs.rotate_keys(session, CONSOLE, SystemClock())
    click.echo(f"已重新加密{sum(counts.values())}个号码（{'，'.join(f'{k}：{n}' for k, n in counts.items())}）")
