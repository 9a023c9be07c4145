"""Builders for tests: unions, accounts, campaigns, valid case data, and cases driven to any state through the
service verbs (so every case a test sees has a real audit trail)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import rules, verbs
from workflows.actors import CONSOLE
from workflows.identity import id_check_digit, luhn_complete
from workflows.infra.clock import FixedClock, to_db
from workflows.infra.uploads import Uploads
from workflows.inputs import parse_deadline
from workflows.models import Account, Campaign, Case, NoticePosting, Union
from workflows.states import NEEDS_PAYMENT, State, Trigger, path_to

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32

_serial = itertools.count(1)

COMMENTS = {"reject": "不合格", "withdraw": "本人申请撤回", "return": "请补充材料", "district_return": "请补充材料",
            "bounce": "账户已销户"}  # the bank's reason of a returned payment


def id_number(born: dt.date = dt.date(1975, 6, 1), male: bool = True, region: str = "110105") -> str:
    """A valid resident ID number, different on every call (one household, one archive: a number made twice in a
    worker would make two households one)."""
    k = next(_serial)
    order = (k % 500) * 2 + (1 if male else 0)
    born = born + dt.timedelta(days=k // 500)
    first17 = f"{region}{born:%Y%m%d}{order:03d}"
    return first17 + id_check_digit(first17)


def bank_account() -> str:
    return luhn_complete(f"622202{next(_serial):012d}")


def case_data(**overrides: Any) -> dict[str, Any]:
    """Complete, valid input for a case (the API's shape); keyword arguments replace top-level parts."""
    data = {
        "applicant": {"name": "王建国", "gender": "male", "id_number": id_number(), "phone": "13912345678",
                      "employer": "华光机械厂"},
        "worker_group": "hardship_worker",
        "category": "deep",
        "causes": {"primary": "illness", "secondary": "schooling"},
        "household": {"annual_income": "24000", "housing": "租住公房",
                      "members": [{"name": "李秀英", "relation": "配偶", "id_number": id_number(male=False),
                                   "monthly_income": "800", "health": "良好", "occupation": "无业"}]},
        "aid": {"kind": "funds", "amount": "1000", "medical": False},
        "bank_account": bank_account(),
    }
    data.update(overrides)
    return data


class Factory:
    def __init__(self, session: Session, clock: FixedClock, uploads: Uploads) -> None:
        self.session, self.clock, self.uploads = session, clock, uploads
        self._district: Union | None = None
        self._campaign: Campaign | None = None
        self._people: dict[tuple[int | None, str], Account] = {}
        self._noticed: set[tuple[int, int]] = set()

    # ------------------------------------------------------------ organisation

    def district(self) -> Union:
        if self._district is None:
            self._district = verbs.create_union(self.session, CONSOLE, self.clock, f"D{next(_serial)}",
                                                       "某区总工会")
        return self._district

    def union(self, name: str = "华光机械厂工会") -> Union:
        return verbs.create_union(self.session, CONSOLE, self.clock, f"U{next(_serial)}", name,
                                         self.district().code)

    def account(self, role: str, union: Union | None = None, username: str | None = None) -> Account:
        """A new account; the password hash is a placeholder, since these tests never sign in."""
        account = Account(username=username or f"{role}{next(_serial)}", password_hash="-", role=role,
                          union_id=union.id if union else None, display_name=f"{role}测试",
                          created_at=to_db(self.clock.now()))
        self.session.add(account)
        self.session.flush()
        return account

    def person(self, role: str, union: Union | None = None) -> Account:
        """The one account of `role` (in `union`, for cadres and heads) that the case builders use."""
        key = (union.id if union and role in ("cadre", "head") else None, role)
        if key not in self._people:
            self._people[key] = self.account(role, union if role in ("cadre", "head") else None)
        return self._people[key]

    def campaign(self, **settings: Any) -> Campaign:
        values = {"name": f"2018年元旦春节送温暖{next(_serial)}",
                  "deadline": parse_deadline("2018-01-25"), "publicity_days": 0}
        values.update(settings)
        return verbs.create_campaign(self.session, CONSOLE, self.clock, **values)

    def default_campaign(self) -> Campaign:
        if self._campaign is None:
            self._campaign = self.campaign()
        return self._campaign

    # ------------------------------------------------------------ cases

    def draft(self, union: Union | None = None, campaign: Campaign | None = None, **data: Any) -> Case:
        """A draft of a household the union has visited (入户调查), as a union's first public notice needs."""
        union = union or self.default_union()
        campaign = campaign or self.default_campaign()
        case = verbs.create_case(self.session, self.person("cadre", union), self.clock, campaign.id,
                                 case_data(**data))
        if rules.recognition.needs_visit(case.archive):
            self.visit(case.archive_id, union)
        return case

    def default_union(self) -> Union:
        if not hasattr(self, "_union"):
            self._union = self.union()
        return self._union

    def attach(self, case: Case, kinds=None) -> None:
        cadre = self.person("cadre", case.union)
        for kind in kinds if kinds is not None else rules.required_documents(case):
            verbs.add_document(self.session, cadre, self.clock, self.uploads, case.id, kind, f"{kind}.pdf", PDF)

    def case(self, state: State = State.drafted, union: Union | None = None, campaign: Campaign | None = None,
             **data: Any) -> Case:
        """A case driven to `state` by the right people, one service verb at a time."""
        case = self.draft(union, campaign, **data)
        path = path_to(State(state))
        if path and path[0][1] == Trigger.document:
            self.attach(case)
        for role, trigger in path:
            self.fire(case, trigger, self.person(role, case.union))
        return case

    def visit(self, archive_id: int, union: Union) -> None:
        """The home visit a household's first public notice waits for."""
        verbs.record_visit(self.session, self.person("cadre", union), self.clock, archive_id,
                           self.clock.now().date(), "张干部、李干部", "家中确有困难，与申报一致")

    def notice(self, campaign: Campaign, union: Union) -> None:
        """The proof of the union's public notice (where, when, a photo) that `enter` waits for; once per union."""
        if (campaign.id, union.id) in self._noticed:
            return
        self._noticed.add((campaign.id, union.id))
        if not self.session.scalar(select(NoticePosting.id).where(NoticePosting.campaign_id == campaign.id,
                                                                  NoticePosting.union_id == union.id).limit(1)):
            verbs.record_notice(self.session, self.person("cadre", union), self.clock, self.uploads, campaign.id,
                                "厂区公告栏", self.clock.now().date(), "notice.pdf", PDF)

    def fire(self, case: Case, trigger: str, actor: Any, **kwargs: Any) -> Case:
        if trigger == Trigger.enter:  # a case publicized elsewhere (a screen, the API): its list is posted by now
            self.notice(case.campaign, case.union)
        kwargs.setdefault("comment", COMMENTS.get(trigger))
        if trigger in NEEDS_PAYMENT:
            kwargs.setdefault("payment_reference", f"PAY-{next(_serial)}")
        moved = verbs.fire(self.session, actor, self.clock, case.id, trigger, case.version, **kwargs)
        if trigger == Trigger.publicize:  # the union posts its list once the notice begins (`enter` waits for it)
            self.notice(case.campaign, case.union)
        return moved

    def correct_account(self, case: Case, actor: Any = None) -> Case:
        """A returned case's account corrected (by its union's cadre unless told), as `reissue` needs."""
        return verbs.correct_account(self.session, actor or self.person("cadre", case.union), self.clock, case.id,
                                     case.version, bank_account())
