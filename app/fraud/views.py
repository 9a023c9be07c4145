"""One page: the year's findings of every anti-fraud view, each linking to its cases."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import lazy_gettext
from flask_login import login_required

from workflows.infra.clock import local_date
from workflows.inputs import parse_year
from workflows.reads import fraud

from ..current import actor, clock
from ..db import db
from . import bp

# Each view's heading and what it looks for, as the page explains it.
SECTIONS = {
    "shared_ids": (
        lazy_gettext("身份证号码重复"),
        lazy_gettext("同一年度各活动中，同一身份证号码（申请人或家庭成员）出现在多个已报送的案件中，不论是否同一基层工会。")),
    "shared_accounts": (
        lazy_gettext("银行账号相同"),
        lazy_gettext("不同申请人（身份证号码不同）的案件填写了同一个工商银行账号。")),
    "handled": (
        lazy_gettext("经办与审批未分离"),
        lazy_gettext("审核、审定或发放的人，先前经办过同一案件（依审计记录：起草、修改、上传资料、提交、审核、公示、"
                     "录入、登记或处理异议等）；以及异议由登记人本人认定不成立。")),
    "caps": (
        lazy_gettext("金额接近或超过上限"),
        lazy_gettext("单次帮扶金额达到单次上限的90%以上；同一申请人本年度各案件金额合计达到年度上限的90%以上。")),
}


@bp.get("/")
@login_required
def index():
    report = fraud.report(db(), actor(), parse_year(request.args.get("year")), local_date(clock().now()))
    return render_template("fraud/index.html", report=report, sections=SECTIONS)
