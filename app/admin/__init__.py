"""Administration: the unions tree, accounts and campaigns. System administrators only; the rules are the verbs'
of workflows.verbs (unions, accounts, campaigns), and a view only reads its form, calls one verb and commits once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from workflows import rules, verbs
from workflows.errors import Forbidden, Invalid, NotFound, Refused
from workflows.infra.clock import local_date
from workflows.inputs import parse_year
from workflows.models import Account, Campaign, Union
from workflows.money import yuan
from workflows.reads import organisation
from workflows.reads import standards as living_standards
from workflows.rules import deadline_text
from workflows.texts import N_, Joined
from workflows.vocab import Category, UnionKind, WorkerGroup

from ..areas import gate
from ..current import actor, clock
from ..db import db
from ..listing import page_number
from ..respond import perform
from .forms import (
    ROLES,
    AccountForm,
    ButtonForm,
    CampaignForm,
    PasswordForm,
    ProfileForm,
    RoleForm,
    StandardForm,
    UnionForm,
    show,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")
gate(bp)

PER_PAGE = 50
ACCOUNT_FIELDS = {"name": "display_name"}  # the verbs' field names that differ from the forms'
CAMPAIGN_FIELDS = {"start": "starts_on", "end": "ends_on", "deadline": "deadline_day",
                   "report_deadline": "report_day", "union_budgets": "budget"}


def _run(form, call: Callable[[], Any], names: Mapping[str, str] | None = None) -> tuple[bool, Any, list[str]]:
    """Call the verb once the form is filled in, and commit. On a refusal nothing is kept: the messages go beside
    their inputs, and those of no input are returned for the top of the form."""
    if not form.validate_on_submit():
        return False, None, []
    try:
        return True, perform(call), []
    except Forbidden:
        raise
    except Invalid as error:
        return False, None, show(form, error.fields, names)
    except Refused as refusal:
        return False, None, [refusal.message]


def _count(model, *where) -> int:
    return db().scalar(select(func.count()).select_from(model).where(*where))


@bp.get("/")
def index():
    counts = {"unions": _count(Union), "grassroots": _count(Union, Union.kind == UnionKind.grassroots),
              "accounts": _count(Account), "inactive": _count(Account, Account.active.is_(False)),
              "campaigns": _count(Campaign)}
    return render_template("admin/index.html", counts=counts)


# ---------------------------------------------------------------- unions

@bp.route("/unions", methods=["GET", "POST"])
def unions():
    session = db()
    form = UnionForm()
    form.fill_choices(session.scalars(select(Union).order_by(Union.code)))
    if not form.is_submitted():
        form.parent.data = request.args.get("parent", "")
        has_district = _count(Union, Union.kind == UnionKind.district)
        form.kind.data = UnionKind.grassroots if form.parent.data or has_district else UnionKind.district
    done, union, problems = _run(form, lambda: verbs.create_union(
        session, actor(), clock(), form.code.data, form.name.data, form.parent.data or None, form.kind.data))
    if done:
        flash(_("已新建工会：%(name)s", name=union.name), "success")
        return redirect(url_for(".unions"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/unions.html", tree=organisation.union_tree(session), form=form,
                           problems=problems), status


# ---------------------------------------------------------------- accounts

@bp.get("/accounts")
def accounts():
    session = db()
    role = request.args.get("role", "")
    role = role if role in {r.value for r in ROLES} else ""
    union = organisation.union_by_code(session, request.args.get("union", "")[:32])
    page = page_number(request.args)
    rows, total = organisation.accounts(session, role or None, union.id if union else None, page, PER_PAGE)
    return render_template("admin/accounts.html", rows=rows, total=total, page=page, per_page=PER_PAGE,
                           role=role, union=union, roles=ROLES, unions=organisation.grassroots_unions(session),
                           me=actor())


@bp.route("/accounts/new", methods=["GET", "POST"])
def account_new():
    session = db()
    form = AccountForm()
    form.fill_choices(organisation.grassroots_unions(session))
    if not form.is_submitted():
        form.union.data = request.args.get("union", "")
    typed = form.password.data or ""
    password = typed if typed.strip() else verbs.accounts.new_password()
    done, account, problems = _run(form, lambda: verbs.create_account(
        session, actor(), clock(), form.username.data, form.role.data, password, form.union.data or None,
        form.email.data, form.display_name.data), ACCOUNT_FIELDS)
    if done:
        return _created(account, password if not typed.strip() else None, _("已新建账号：%(name)s", name=account.username))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/account_new.html", form=form, problems=problems), status


def _created(account: Account, password: str | None, message: str):
    """After a change: back to the account page; a generated password is shown this once instead, in the answer
    itself (never in a cookie or a log), and is not kept anywhere but as its hash."""
    if password is None:
        flash(message, "success")
        return redirect(url_for(".account", account_id=account.id))
    return render_template("admin/password.html", account=account, password=password, message=message)


@bp.get("/accounts/<int:account_id>")
def account(account_id: int):
    return _account_page(organisation.account(db(), account_id))


def _account_page(target: Account, status: int = 200, problems: list[str] | None = None, **forms):
    """The account with its four forms; the one just submitted (in `forms`, else the active switch) keeps what was
    typed and shows the refusal `problems` in its banner."""
    union_code = target.union.code if target.union else ""
    profile = forms.get("profile") or ProfileForm(formdata=None, data={"display_name": target.display_name,
                                                                       "email": target.email or ""})
    role = forms.get("role") or RoleForm(formdata=None, data={"role": target.role, "union": union_code})
    role.fill_choices(organisation.grassroots_unions(db()))
    password = forms.get("password") or PasswordForm(formdata=None)
    return render_template("admin/account.html", account=target, profile=profile, role=role, password=password,
                           toggle=ButtonForm(formdata=None), problems=problems or [], used=next(iter(forms), "active"),
                           is_me=target.id == actor().id), status


@bp.post("/accounts/<int:account_id>/profile")
def account_profile(account_id: int):
    target = organisation.account(db(), account_id)
    form = ProfileForm()
    done, _result, problems = _run(form, lambda: verbs.update_account(
        db(), actor(), clock(), account_id, display_name=form.display_name.data, email=form.email.data),
        ACCOUNT_FIELDS)
    if done:
        return _created(target, None, _("已保存姓名和电子邮箱"))
    return _account_page(target, 400, problems, profile=form)


@bp.post("/accounts/<int:account_id>/role")
def account_role(account_id: int):
    target = organisation.account(db(), account_id)
    form = RoleForm()
    form.fill_choices(organisation.grassroots_unions(db()))
    done, _result, problems = _run(form, lambda: verbs.change_role(
        db(), actor(), clock(), account_id, form.role.data, form.union.data or None))
    if done:
        return _created(target, None, _("已更改角色"))
    return _account_page(target, 400, problems, role=form)


@bp.post("/accounts/<int:account_id>/password")
def account_password(account_id: int):
    target = organisation.account(db(), account_id)
    form = PasswordForm()
    typed = form.password.data or ""
    done, password, problems = _run(form, lambda: verbs.reset_password(
        db(), actor(), clock(), account_id, typed if typed.strip() else None))
    if done:
        return _created(target, None if typed.strip() else password, _("已重置密码"))
    return _account_page(target, 400, problems, password=form)


@bp.post("/accounts/<int:account_id>/disable")
def account_disable(account_id: int):
    return _set_active(account_id, False)


@bp.post("/accounts/<int:account_id>/enable")
def account_enable(account_id: int):
    return _set_active(account_id, True)


def _set_active(account_id: int, active: bool):
    target = organisation.account(db(), account_id)
    done, _result, problems = _run(ButtonForm(), lambda: verbs.set_account_active(
        db(), actor(), clock(), account_id, active))
    if done:
        return _created(target, None, _("账号已启用") if active else _("账号已停用，其登录已全部失效"))
    return _account_page(target, 409, problems)


# ---------------------------------------------------------------- campaigns

@bp.get("/campaigns")
def campaigns():
    rows = db().scalars(select(Campaign).options(selectinload(Campaign.union_budgets))
                        .order_by(Campaign.deadline.desc())).all()
    return render_template("admin/campaigns.html", campaigns=rows, deadline_text=deadline_text)


@bp.route("/campaigns/new", methods=["GET", "POST"])
def campaign_new():
    return _campaign_form(None)


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
def campaign_edit(campaign_id: int):
    campaign = db().get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(N_("找不到该活动"))
    return _campaign_form(campaign)


def _campaign_form(campaign: Campaign | None):
    session = db()
    unions = organisation.grassroots_unions(session)
    form = CampaignForm()
    if not form.is_submitted():
        form.load(campaign, unions, {b.union_id: b.amount for b in campaign.union_budgets} if campaign else {})

    def save() -> Campaign:
        if campaign is None:
            return verbs.create_campaign(session, actor(), clock(), **form.settings())
        return verbs.update_campaign(session, actor(), clock(), campaign.id, **form.settings())

    done, saved, problems = _run(form, save, CAMPAIGN_FIELDS)
    if done:
        flash(_("已保存活动：%(name)s", name=saved.name), "success")
        return redirect(url_for(".campaigns"))
    names = {u.code: u.name for u in unions}
    status = 400 if form.is_submitted() else 200
    return render_template("admin/campaign_form.html", form=form, campaign=campaign, problems=problems,
                           union_names=names), status


# ---------------------------------------------------------------- tariffs (标准) of a campaign

def _cell(category, group) -> str:
    return f"tariff.{category.value}.{group.value}"


@bp.route("/campaigns/<int:campaign_id>/tariffs", methods=["GET", "POST"])
def campaign_tariffs(campaign_id: int):
    """The campaign's amounts as a grid of category × worker group; an empty cell has no tariff. Saved all or
    none: one verb call per cell (a cell left as it was writes nothing), one commit."""
    session = db()
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(N_("找不到该活动"))
    form = ButtonForm()
    stored = {(t.category, t.worker_group): t.amount for t in rules.tariffs.campaign_tariffs(session, campaign.id)}
    cells = [(category, group, _cell(category, group)) for category in Category for group in WorkerGroup]
    typed = {name: (request.form.get(name) or "").strip()[:40] for _c, _g, name in cells}

    def save() -> None:
        problems = {}
        for category, group, name in cells:
            try:
                verbs.set_tariff(session, actor(), clock(), campaign.id, category.value, group.value,
                                 typed[name] or None)
            except Invalid as error:
                problems[name] = error.fields.get("amount") or Joined(error.fields.values())
        if problems:
            raise Invalid(problems)

    problems: dict[str, str] = {}
    if form.validate_on_submit():
        try:
            perform(save)
            flash(_("已保存%(name)s的帮扶标准", name=campaign.name), "success")
            return redirect(url_for(".campaign_tariffs", campaign_id=campaign.id))
        except Invalid as error:
            problems = error.fields
    else:
        typed = {name: (yuan(stored[(c.value, g.value)]).replace(",", "") if (c.value, g.value) in stored else "")
                 for c, g, name in cells}
    status = 400 if form.is_submitted() else 200
    return render_template("admin/tariffs.html", campaign=campaign, form=form, categories=list(Category),
                           groups=list(WorkerGroup), typed=typed, problems=problems, cell=_cell), status


# ---------------------------------------------------------------- minimum living standards (低保标准)

@bp.route("/standards", methods=["GET", "POST"])
def standards():
    """The standards of every year (or of the year asked for), and the form that sets one."""
    session = db()
    form = StandardForm()
    year = parse_year(request.args.get("year", ""))
    if not form.is_submitted():
        form.year.data = str(year or local_date(clock().now()).year)
    done, standard, problems = _run(form, lambda: verbs.set_standard(
        session, actor(), clock(), form.year.data, form.area.data, form.monthly.data))
    if done:
        flash(_("已设定%(year)s年%(area)s的低保标准：每人每月%(monthly)s元", year=standard.year,
                area=standard.area_code, monthly=yuan(standard.monthly)), "success")
        return redirect(url_for(".standards", year=standard.year))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/standards.html", rows=living_standards.listing(session, year),
                           years=living_standards.years(session), year=year, form=form, problems=problems), status
