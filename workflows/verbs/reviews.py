"""The annual review (年度复核): a union reviews each of its active archives at least once a year, and the district
spot-checks at least 30% of each union's (抽查), drawn at random with a recorded seed.

A review confirms the archive, updates it (through verbs.edit_archive, whose own event records what changed), or
proposes 脱困 or 注销; a proposal is carried out, or left, by the union's head with the archive's own moves
(verbs.fire_archive). Each verb writes one audit event of its own.
"""

from __future__ import annotations

import re
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflows import rules
from workflows.actors import Actor
from workflows.archive_states import Status
from workflows.errors import Invalid, NotFound, Reason, Refused
from workflows.infra import audit
from workflows.infra.clock import Clock, from_db, local_date, to_db
from workflows.inputs import YEARS, parse_year
from workflows.models import Archive, ArchiveReview, SpotCheck, SpotCheckItem, Union
from workflows.rules import reviews as review_rules
from workflows.states import Action
from workflows.texts import N_
from workflows.verbs.archives import STALE, edit_archive, get_archive
from workflows.verbs.cases import check_version, clean_comment
from workflows.vocab import ReviewOutcome, SpotCheckOutcome, UnionKind

SEED = re.compile(r"[0-9A-Za-z_.\-]{1,64}")


def review_archive(session: Session, actor: Actor, clock: Clock, archive_id: int, version: int | None,
                   outcome: str, comment: str | None = None, reason: str | None = None,
                   data: dict[str, Any] | None = None) -> ArchiveReview:
    """A cadre or head of the archive's union reviews it: `confirmed` (nothing changed), `updated` (`data`, when
    given, is applied as an edit of the archive first), `propose_exit` (with a comment) or `propose_deregister`
    (with a comment and a closing reason). The archive is marked reviewed."""
    rules.require_role(actor, rules.REVIEWERS, N_("年度复核"))
    archive = get_archive(session, actor, archive_id, lock=True)
    check_version(archive, version, STALE)
    if reasons := review_rules.review_reasons(archive):
        raise Refused(*reasons)
    problems: dict[str, str] = {}
    if outcome not in {o.value for o in ReviewOutcome}:
        problems["outcome"] = N_("请选择复核结果")
    try:
        comment = clean_comment(comment)
    except Invalid as error:
        problems |= error.fields
    proposes = outcome in review_rules.PROPOSALS
    if proposes and not comment:
        problems["comment"] = N_("%(outcome)s须写明理由", outcome=ReviewOutcome(outcome).label)
    if outcome == ReviewOutcome.propose_deregister and reason not in {r.value for r in review_rules.PROPOSED_REASONS}:
        problems["reason"] = N_("请选择建议注销的原因")
    if data and outcome != ReviewOutcome.updated:
        problems["data"] = N_("只有选择「已更新档案信息」时才能修改档案")
    if data is not None and not isinstance(data, dict):
        problems["data"] = N_("应为一个对象")
    if problems:
        raise Invalid(problems)
    if outcome == ReviewOutcome.updated and data:
        before = archive.version
        # The archive's own edit verb: its checks, its numbers, its event.
        archive = edit_archive(session, actor, clock, archive_id, version, data)
        if archive.version == before:
            raise Invalid({"data": N_("提交的修改与档案现有内容相同；没有变化请选择「核实无变化」")})
    now = clock.now()
    proposed_reason = reason if outcome == ReviewOutcome.propose_deregister else None
    review = ArchiveReview(archive_id=archive.id, union_id=archive.union_id, outcome=outcome,
                           proposed_reason=proposed_reason, comment=comment, reviewed_by_id=actor.id,
                           reviewed_at=to_db(now))
    session.add(review)
    before_reviewed = archive.reviewed_at
    archive.reviewed_at = to_db(now)
    session.flush()
    changes = audit.created({"review": outcome, **({"proposed_reason": proposed_reason} if proposed_reason else {})})
    changes |= audit.diff({"reviewed_at": before_reviewed}, {"reviewed_at": archive.reviewed_at})
    audit.record(session, actor, now, Action.review_archive, archive=archive, state=archive.status, comment=comment,
                 changes=changes)
    return review


# ---------------------------------------------------------------- the district's spot check

def draw_spot_check(session: Session, actor: Actor, clock: Clock, year: Any, rate: Any = Decimal("0.30"),
                    seed: str | None = None) -> SpotCheck:
    """A reviewer draws the year's spot check: from each grassroots union, ceil(rate × n) of its n active archives
    (rules.reviews.draw), with `seed` (a random one when not given). The seed, the rate, each union's counts and
    the SHA-256 of the population and of the list are in the event, so that anyone can draw again and compare."""
    rules.require_role(actor, review_rules.SPOT_CHECKERS, N_("抽取抽查档案"))
    problems: dict[str, str] = {}
    year = _year(year)
    if year is None:
        problems["year"] = N_("请填写年度（%(first)s至%(last)s）", first=YEARS[0], last=YEARS[1])
    parsed = _rate(rate)
    if parsed is None:
        problems["rate"] = N_("请填写抽查比例，如 0.30")
    elif message := review_rules.rate_reasons(parsed):
        problems["rate"] = message
    else:
        parsed = parsed.quantize(Decimal("0.01"))  # as stored, and as the event and a redraw read it
    seed = seed.strip() if isinstance(seed, str) else seed
    if seed and not (isinstance(seed, str) and SEED.fullmatch(seed)):
        problems["seed"] = N_("随机种子只能由字母、数字和 - _ . 组成，最多64个字符")
    if problems:
        raise Invalid(problems)
    if reasons := _drawn_reasons(session, year):
        raise Refused(*reasons)
    seed = seed or secrets.token_hex(16)
    now = clock.now()
    population: dict[str, list[int]] = {}
    unions: dict[str, int] = {}
    for code, union_id, archive_id in session.execute(
            select(Union.code, Union.id, Archive.id).join(Archive, Archive.union_id == Union.id)
            .where(Union.kind == UnionKind.grassroots, Archive.status == Status.active)
            .order_by(Union.code, Archive.id)):
        population.setdefault(code, []).append(archive_id)
        unions[code] = union_id
    drawn = review_rules.draw(seed, parsed, population)
    check = SpotCheck(year=year, rate=parsed, seed=seed, drawn_by_id=actor.id, drawn_at=to_db(now))
    check.items = [SpotCheckItem(archive_id=archive_id, union_id=unions[code])
                   for code, ids in drawn.items() for archive_id in ids]
    try:
        with session.begin_nested():
            session.add(check)
    except IntegrityError:  # another reviewer drew the year's list after the check above
        raise Refused(*(_drawn_reasons(session, year) or [Reason("drawn", N_("%(year)s年度已抽取抽查名单",
                                                                             year=year))])) from None
    total = sum(len(ids) for ids in drawn.values())
    audit.record(session, actor, now, Action.draw_spot_check,
                 comment=f"{year}年度抽查：各基层工会在档档案按{parsed * 100:.0f}%抽取，共{total}户",
                 changes=audit.created({
                     "year": year, "rate": parsed, "seed": seed,
                     "population": ",".join(f"{code}:{len(ids)}" for code, ids in population.items()),
                     "drawn": ",".join(f"{code}:{len(ids)}" for code, ids in drawn.items()),
                     "population_sha256": review_rules.list_digest(population),
                     "drawn_sha256": review_rules.list_digest(drawn)}))
    return check


def _drawn_reasons(session: Session, year: int) -> list[Reason]:
    drawn = session.scalar(select(SpotCheck).where(SpotCheck.year == year))
    if drawn is None:
        return []
    return [Reason("drawn", N_("%(year)s年度已于%(day)s抽取抽查名单，"
                            "每年只抽一次", year=year, day=local_date(from_db(drawn.drawn_at))))]


def check_spot_item(session: Session, actor: Actor, clock: Clock, item_id: int, outcome: str,
                    comment: str | None) -> SpotCheckItem:
    """A reviewer records what checking a drawn archive found: it holds (confirmed), or not (a discrepancy, said in
    the comment). A later finding replaces an earlier one; both stay in the trail."""
    rules.require_role(actor, review_rules.SPOT_CHECKERS, N_("登记抽查结果"))
    item = session.get(SpotCheckItem, item_id) if isinstance(item_id, int) else None
    if item is None:
        raise NotFound(N_("找不到该抽查记录"))
    problems: dict[str, str] = {}
    if outcome not in {o.value for o in SpotCheckOutcome}:
        problems["outcome"] = N_("请选择抽查结果")
    try:
        comment = clean_comment(comment)
    except Invalid as error:
        problems |= error.fields
    if outcome == SpotCheckOutcome.discrepancy and not comment:
        problems.setdefault("comment", N_("抽查不符时请写明不符之处"))
    if problems:
        raise Invalid(problems)
    now = clock.now()
    archive = session.get(Archive, item.archive_id)
    before = {"spot_check": item.outcome}
    item.outcome, item.comment, item.checked_by_id, item.checked_at = outcome, comment, actor.id, to_db(now)
    session.flush()
    audit.record(session, actor, now, Action.check_spot_item, archive=archive, state=archive.status, comment=comment,
                 changes=audit.diff(before, {"spot_check": outcome}, named=("year", item.spot_check.year)))
    return item


_year = parse_year


def _rate(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return rate if rate.is_finite() else None
