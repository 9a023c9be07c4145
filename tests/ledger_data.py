"""Ledgers (台账) for the import tests: rows as a cadre fills them in (Chinese labels, numbers as text), and the
filled template as the .xlsx a union uploads."""

from __future__ import annotations

from typing import Any

from app.ledger import filled

from .factories import bank_account, id_number


def head(**cells: Any) -> dict[str, Any]:
    """A household head's row, complete and valid; keyword arguments (by header) replace cells."""
    row = {"姓名": "王建国", "身份证号码": id_number(), "性别": "男", "手机号码": "13912345678",
           "工作单位": "华光机械厂", "职工类别": "困难职工", "困难类别": "深度困难", "主要致困原因": "患重特大疾病",
           "次要致困原因": "子女上学", "家庭年收入": 24000, "医疗支出": "6000.50", "住房情况": "租住公房一间",
           "工商银行账号": bank_account(), "开户银行": "中国工商银行", "开户支行": "城东支行", "档案类型": "城镇困难职工",
           "劳模类型": "无", "民族": "汉族", "政治面貌": "群众", "婚姻状况": "已婚", "户口类型": "非农业",
           "户口所在地行政区划": "110105", "工作状态": "在岗", "单位性质": "国有企业", "住房类型": "租房",
           "建筑面积": 20.5, "医保状况": "职工医保", "单亲家庭": "否", "零就业家庭": "否"}
    row.update(cells)
    return row


def member(of: dict[str, Any], **cells: Any) -> dict[str, Any]:
    row = {"姓名": "李秀英", "身份证号码": id_number(male=False), "户主身份证号码": of["身份证号码"],
           "与户主关系": "配偶", "月收入": 800, "健康状况": "良好", "职业": "无业"}
    row.update(cells)
    return row


def ledger(households: int = 3, members: int = 2) -> list[dict[str, Any]]:
    """`households` heads, each followed by `members` member rows."""
    rows = []
    for _ in range(households):
        first = head()
        rows.append(first)
        rows += [member(first, 与户主关系="子女" if n else "配偶") for n in range(members)]
    return rows


workbook = filled
