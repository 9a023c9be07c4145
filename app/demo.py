"""`songnuan demo`: a believable district built through the same service verbs as real work, so that its audit
trail is real. Names are common Chinese names put together at random; ID and bank numbers are random digits with
valid check digits: no real person's data.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import rules, verbs
from workflows.actors import CONSOLE, SYSTEM
from workflows.identity import id_check_digit, luhn_complete
from workflows.infra.clock import LOCAL, UTC, FixedClock
from workflows.infra.uploads import Uploads
from workflows.inputs import parse_deadline
from workflows.models import Account, Archive, Case
from workflows.rules.payments import ResultRow
from workflows.states import MAIN_PATH, State
from workflows.vocab import Cause, DocumentKind

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈"
GIVEN = ["建国", "秀英", "桂兰", "志强", "海燕", "国华", "丽娟", "永红", "德明", "春梅", "卫东", "淑芬", "文斌",
         "玉兰", "晓东", "红霞", "志刚", "翠花", "建华", "小燕", "明亮", "凤英", "金宝", "雪梅", "宏伟", "晓丽"]
REGIONS = ["110105", "110108", "310115", "440305", "420106", "510107", "320102", "330106", "370102", "610113"]
EMPLOYERS = {"JC001": "区第一人民医院", "JC002": "华光机械厂", "JC003": "城东环卫所"}
HOUSING = ["租住公房一间，约20平方米", "自有住房，两室一厅，房龄三十年", "借住亲戚家", "单位宿舍"]
HOUSING_TYPES = {HOUSING[0]: "public_rental", HOUSING[1]: "own", HOUSING[2]: "other", HOUSING[3]: "other"}
# The national cause codes (vocab.Cause) a demo household may give beside the primary one.
CAUSES = [Cause.no_work_capacity, Cause.able_unemployed, Cause.laid_off, Cause.natural_disaster, Cause.schooling,
          Cause.insurance_gap]

# How far each demo case of the current campaign goes, per union: new households (增量) ...
PLAN = [State.drafted, State.drafted, State.documented, State.grassroots_approved, State.publicized,
        "window_over", State.entered, State.entered, State.district_approved, State.disbursed, State.forfeited,
        State.withdrawn, "returned", "objection"]
# ... and the applications of last winter's archives (存量), by the archive's place in last winter's list; the
# 返困 one (exited in the spring) and the one transferred over the summer are planned in _this_season.
# Household 1 (of JC001) is left for the cadre to carry over on the 结转申请 screen.
CARRY_OVER = {0: State.disbursed, 3: State.grassroots_approved, 4: State.drafted, 6: State.documented}
WAITING = 1
# 低保标准 (yuan per person per month) of the provinces of REGIONS, this year's; earlier years 50 less each year.
# Set for the province (XX0000), so that every county of the demo's households falls back to it.
STANDARDS = {"11": 1100, "31": 1160, "44": 1000, "42": 780, "51": 650, "32": 860, "33": 920, "37": 700, "61": 640}


def _pdf(text: str) -> bytes:
    """A one-page PDF saying `text` (ASCII), built by hand so the demo needs no PDF library."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


class _People:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def name(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    def id_number(self, born_from: int, born_to: int, male: bool) -> str:
        born = dt.date(born_from, 1, 1) + dt.timedelta(days=self.rng.randrange((born_to - born_from) * 365))
        order = self.rng.randrange(0, 500) * 2 + (1 if male else 0)
        first17 = f"{self.rng.choice(REGIONS)}{born:%Y%m%d}{order:03d}"
        return first17 + id_check_digit(first17)

    def bank_account(self) -> str:
        return luhn_complete("622202" + "".join(str(self.rng.randrange(10)) for _ in range(12)))

    def phone(self) -> str:
        return "1" + self.rng.choice("35789") + "".join(str(self.rng.randrange(10)) for _ in range(9))

    def causes(self, medical: bool) -> dict:
        primary = Cause.serious_illness if medical else self.rng.choice(CAUSES)
        secondary = self.rng.sample([c for c in CAUSES if c != primary], self.rng.choice([0, 1, 1, 2]))
        return {"primary": primary.value, "secondary": [c.value for c in secondary]}

    def case(self, employer: str, medical: bool) -> dict:
        male = self.rng.random() < 0.5
        amount = self.rng.choice([800, 1000, 1500, 2000])
        return {
            "applicant": {"name": self.name(), "gender": "male" if male else "female",
                          "id_number": self.id_number(1965, 1990, male), "phone": self.phone(),
                          "employer": employer},
            "worker_group": self.rng.choice(["hardship_worker", "hardship_worker", "migrant_worker", "model_worker",
                                             "other"]),
            "category": self.rng.choice(["deep", "relative", "accident"]),
            "causes": self.causes(medical),
            "household": {"annual_income": self.rng.randrange(12000, 36000), "housing": self.rng.choice(HOUSING),
                          "members": [
                              {"name": self.name(), "relation": "配偶", "id_number": self.id_number(1965, 1990, not male),
                               "monthly_income": self.rng.choice([0, 800, 1500]), "health": "良好",
                               "occupation": "无业"},
                              {"name": self.name(), "relation": "子女", "id_number": self.id_number(2006, 2015, True),
                               "monthly_income": 0, "health": "良好", "occupation": "在校学生"}]},
            "aid": {"kind": "funds", "amount": amount, "medical": medical},
            "bank_account": self.bank_account(),
        }


class _Demo:
    def __init__(self, session: Session, uploads: Uploads, clock: FixedClock) -> None:
        self.session, self.uploads, self.clock = session, uploads, clock
        self.people = _People(random.Random(2018))
        self.passwords: list[tuple[str, str, str]] = []
        self.accounts: dict[str, Account] = {}

    def account(self, username: str, role: str, name: str, union: str | None = None) -> Account:
        password = secrets.token_urlsafe(9)
        account = verbs.create_account(self.session, CONSOLE, self.clock, username, role, password, union,
                                       display_name=name)
        self.passwords.append((username, role, password))
        self.accounts[username] = account
        return account

    def actor(self, who: str):
        return SYSTEM if who == "system" else self.accounts[who]

    def tick(self, **delta: float) -> None:
        self.clock.advance(**delta)

    def documents(self, case: Case, union: str) -> None:
        """The papers the case needs, and the home visit a household's first public notice waits for."""
        cadre = self.accounts[f"cadre_{union.lower()}"]
        for kind in rules.required_documents(case):
            verbs.add_document(self.session, cadre, self.clock, self.uploads, case.id, kind,
                               f"{kind}.pdf", _pdf(f"Songnuan demo: {DocumentKind(kind).value}"))
        if rules.recognition.needs_visit(case.archive):
            verbs.record_visit(self.session, cadre, self.clock, case.archive_id,
                               self.clock.now().astimezone(LOCAL).date(), f"{cadre.name}、工会小组长",
                               "入户查看住房和家庭收支，与申报情况一致")

    def new_case(self, campaign_id: int, union: str, medical: bool) -> Case:
        """A household applying for the first time: its archive is opened with the case (先建档，后帮扶)."""
        cadre = self.accounts[f"cadre_{union.lower()}"]
        case = verbs.create_case(self.session, cadre, self.clock, campaign_id,
                                 self.people.case(EMPLOYERS[union], medical))
        self.fit_category(case, union)
        self.documents(case, union)
        return case

    def apply(self, campaign_id: int, union: str, archives: list[Archive], amount: int) -> list[Case]:
        """The carry-over: the union applies for several of its archives at once, each from the archive's data."""
        cadre = self.accounts[f"cadre_{union.lower()}"]
        cases = verbs.apply_for(self.session, cadre, self.clock, campaign_id, [a.id for a in archives],
                                aid={"kind": "funds", "amount": amount, "medical": False})
        for case in cases:
            self.fit_category(case, union)
            self.documents(case, union)
        return cases

    def fit_category(self, case: Case, union: str) -> None:
        """The cadre corrects a category the household's income does not fit, as the case page says (困难认定)."""
        recognition = rules.guards.case_recognition(self.session, case)
        if recognition.fits and not recognition.fits_category(case.category):
            verbs.edit_case(self.session, self.accounts[f"cadre_{union.lower()}"], self.clock, case.id,
                            case.version, {"category": recognition.fits.value})

    def fire(self, case: Case, who: str, trigger: str, **kwargs) -> None:
        verbs.fire(self.session, self.actor(who), self.clock, case.id, trigger, case.version, **kwargs)
        self.tick(minutes=7)

    def fire_archive(self, archive: Archive, who: str, trigger: str, **kwargs) -> None:
        verbs.fire_archive(self.session, self.actor(who), self.clock, archive.id, trigger, archive.version,
                           **kwargs)
        self.tick(minutes=11)

    def edit_archive(self, archive: Archive, who: str, data: dict) -> None:
        verbs.edit_archive(self.session, self.actor(who), self.clock, archive.id, archive.version, data)
        self.tick(minutes=5)


def season_year(now: dt.datetime) -> int:
    """The year of the campaign under way: its deadline is 25 January of that year, local time."""
    local = now.astimezone(LOCAL)
    return local.year if local.date() < dt.date(local.year, 1, 25) else local.year + 1


def build_demo(session: Session, uploads: Uploads, now: dt.datetime | None = None) -> list[tuple[str, str, str]]:
    """Load the demo into an empty database; returns (username, role, password) of each account.

    Two campaigns: last winter's, closed, whose households were helped and so have active archives; and this
    winter's, whose deadline is still ahead of `now`, with applications of those archives (存量), one household
    back in hardship (返困), one archive transferred to another union in between, and new households (增量) in
    every state. Each step is a verb fired at its own moment of a clock that runs from last winter to `now`.
    """
    now = now or dt.datetime.now(UTC)
    year = season_year(now)
    start = now - dt.timedelta(days=21)  # this season's work began three weeks ago
    # The closed campaign shown beside it: last winter's, unless that closed too recently to fit before `start`.
    last_year = year - 1 if start > dt.datetime(year - 1, 1, 27, tzinfo=LOCAL) else year - 2
    clock = FixedClock(dt.datetime(last_year - 1, 11, 20, 9, tzinfo=LOCAL))
    demo = _Demo(session, uploads, clock)
    org = verbs
    org.create_union(session, CONSOLE, clock, "QZGH", "某区总工会")
    org.create_union(session, CONSOLE, clock, "JDLH", "城东街道工会联合会", "QZGH", "federation")
    org.create_union(session, CONSOLE, clock, "JC001", "区第一人民医院工会", "QZGH")
    org.create_union(session, CONSOLE, clock, "JC002", "华光机械厂工会", "QZGH")
    org.create_union(session, CONSOLE, clock, "JC003", "城东环卫所工会", "JDLH")
    demo.account("admin", "admin", "系统管理员")
    for code, cadre, head in (("JC001", "周丽华", "吴国庆"), ("JC002", "郑海涛", "孙建平"), ("JC003", "马秀梅", "刘德胜")):
        demo.account(f"cadre_{code.lower()}", "cadre", cadre, code)
        demo.account(f"head_{code.lower()}", "head", head, code)
    demo.account("reviewer", "reviewer", "何晓敏")
    demo.account("finance", "finance", "林淑贞")
    demo.account("auditor", "auditor", "邓文斌")
    _standards(demo, range(last_year, year + 1))

    last = org.create_campaign(session, CONSOLE, clock, name=f"{last_year}年元旦春节送温暖",
                               deadline=parse_deadline(f"{last_year}-01-25"),
                               starts_on=dt.date(last_year - 1, 11, 1), ends_on=dt.date(last_year, 2, 28),
                               publicity_days=5, cap_per_payment=2000, cap_per_year=5000, budget=100000)
    households = _last_season(demo, last.id, last_year)
    _between_seasons(demo, households, last_year, start)

    clock.set(start)
    current = org.create_campaign(session, CONSOLE, clock, name=f"{year}年元旦春节送温暖",
                                  deadline=parse_deadline(f"{year}-01-25"),
                                  starts_on=min(dt.date(year - 1, 11, 1), start.astimezone(LOCAL).date()),
                                  ends_on=dt.date(year, 2, 28), publicity_days=5, cap_per_payment=2000,
                                  cap_per_year=5000, budget=200000)
    _this_season(demo, current.id, year, now, households)
    # The rest of this morning's work: recognition, JC003's ledger, the annual review; all of it done by `now`.
    clock.set(now - dt.timedelta(hours=3))
    _not_fitting(demo, current.id)
    _ledger(demo)
    _reviews(demo, households)
    _summaries(demo, current.id)
    _money(demo, current.id)
    _bank(demo, current.id)
    clock.set(now)
    return demo.passwords


# What two unions state in their summaries so far (资金来源, 元); JC003 has not handed one in yet.
SUMMARY_FUNDS = {
    "JC001": ("本院工会走访慰问困难职工家庭，资金由区总工会拨付和本级工会经费列支，职工自愿捐款补充。",
              {"upper": "6000", "own": "3000", "government": "", "society": "", "donations": "1200"}),
    "JC002": ("本厂工会结合春节慰问困难职工和困难农民工，街道、社区和驻地企业给予了支持。",
              {"upper": "5000", "own": "4500.50", "government": "2000", "society": "800", "donations": ""}),
}


def _summaries(demo: _Demo, campaign_id: int) -> None:
    """Two unions hand in this winter's summary with where the money came from: the statistics table's sources."""
    for code, (text, funds) in SUMMARY_FUNDS.items():
        verbs.submit_summary(demo.session, demo.accounts[f"cadre_{code.lower()}"], demo.clock, demo.uploads,
                             campaign_id, text, funds=funds)
        demo.tick(minutes=13)


def _notices(demo: _Demo, campaign_id: int) -> None:
    """Each union posts its notice list where its workers see it and records it with a photo (公示张贴), before
    any of its cases can be entered."""
    for union in EMPLOYERS:
        verbs.record_notice(demo.session, demo.accounts[f"cadre_{union.lower()}"], demo.clock, demo.uploads,
                            campaign_id, f"{EMPLOYERS[union]}职工之家公告栏", demo.clock.now().astimezone(LOCAL).date(),
                            "公示张贴照片.pdf", _pdf(f"Songnuan demo: notice posted, {union}"))
        demo.tick(minutes=3)


GOODS = {"kind": "goods", "goods_items": "大米25公斤、食用油5升、棉被一床", "goods_value": "600", "medical": False}


def _goods(demo: _Demo, cases: list) -> None:
    """The first new household planned to be approved by the district is given goods (送实物) rather than money."""
    _goal, union, case = next(item for item in cases if item[0] == State.district_approved
                              and item[2].application_kind == "new")
    verbs.edit_case(demo.session, demo.accounts[f"cadre_{union.lower()}"], demo.clock, case.id, case.version,
                    {"aid": {**GOODS, "amount": None}})


def _money(demo: _Demo, campaign_id: int) -> None:
    """This winter's tariffs (标准) by category and worker group, and the goods case's real-name receipt (实名签收)."""
    for category, amount in (("deep", 2000), ("relative", 1000), ("accident", 1500)):
        for group, more in (("hardship_worker", 0), ("migrant_worker", 0), ("model_worker", 500), ("other", 0)):
            verbs.set_tariff(demo.session, demo.actor("admin"), demo.clock, campaign_id, category, group,
                             min(amount + more, 2000))
    goods = demo.session.scalars(select(Case).where(Case.campaign_id == campaign_id, Case.aid_kind == "goods",
                                                    Case.state == State.district_approved)).first()
    if goods is not None:
        cadre = demo.accounts[f"cadre_{goods.union.code.lower()}"]
        verbs.record_receipt(demo.session, cadre, demo.clock, demo.uploads, goods.id, cadre.display_name,
                             goods.applicant_name, demo.clock.now().astimezone(LOCAL).date(), "实物签收单.pdf",
                             _pdf("Songnuan demo: goods receipt, signed"))
        demo.tick(minutes=4)


def _bank(demo: _Demo, campaign_id: int) -> None:
    """批量代发 this morning: the district approves one more entered case, finance sends it with the 返困 household's
    in a batch, and the bank returns both (退票). The 返困 household's account is corrected by its cadre, reissued by
    finance and paid in a later batch; the other waits on the 退票 list, its account not corrected yet."""
    session, finance = demo.session, demo.actor("finance")
    entered = session.scalars(select(Case).where(Case.campaign_id == campaign_id, Case.state == State.entered,
                                                 Case.application_kind == "new").order_by(Case.id.desc())).first()
    demo.fire(entered, "reviewer", "district_approve")
    came_back = session.scalars(select(Case).where(Case.campaign_id == campaign_id, Case.application_kind == "returned",
                                                   Case.state == State.district_approved)).one()
    reasons = {entered.id: "账户已销户", came_back.id: "户名与账号不符"}
    first = verbs.create_batch(session, finance, demo.clock, [came_back.id, entered.id])
    verbs.bank_file(session, finance, demo.clock, first.id, "xlsx")
    verbs.send_batch(session, finance, demo.clock, first.id)
    demo.tick(minutes=40)
    verbs.bank_result(session, finance, demo.clock, first.id, _bank_rows(first, reasons))
    demo.tick(minutes=9)
    cadre = demo.accounts[f"cadre_{came_back.union.code.lower()}"]
    verbs.correct_account(session, cadre, demo.clock, came_back.id, came_back.version,
                          luhn_complete(f"62220210{came_back.id:010d}"))
    demo.tick(minutes=6)
    demo.fire(came_back, "finance", "reissue")
    later = verbs.create_batch(session, finance, demo.clock, [came_back.id])
    verbs.bank_file(session, finance, demo.clock, later.id, "csv")
    verbs.send_batch(session, finance, demo.clock, later.id)
    demo.tick(minutes=30)
    verbs.bank_result(session, finance, demo.clock, later.id, _bank_rows(later, {}))
    demo.tick(minutes=3)


def _bank_rows(batch, failed: dict[int, str]) -> list:
    """The bank's result file of `batch`, as its rows: 失败 with the bank's reason for the cases in `failed`."""
    return [ResultRow(n, line.bank_account, line.name, line.amount, "失败" if line.case_id in failed else "成功",
                      failed.get(line.case_id)) for n, line in enumerate(batch.lines, 2)]


def _standards(demo: _Demo, years: range) -> None:
    """The minimum living standards of the demo's areas, for last winter's campaign to this one's."""
    for year in years:
        for province, monthly in STANDARDS.items():
            verbs.set_standard(demo.session, CONSOLE, demo.clock, year, f"{province}0000",
                               monthly - 50 * (years[-1] - year))


# Last winter's households (three a union, in the order of EMPLOYERS): the first seven were helped, the last two
# gave up at the deadline; between the seasons the third recovered (脱困) and the sixth moved to JC003.
EXITED, TRANSFERRED, TRANSFERRED_TO = 2, 5, "JC003"


def _last_season(demo: _Demo, campaign_id: int, year: int) -> list[tuple[str, Case]]:
    """Last winter, closed: most cases paid (their archives 在档), two given up at the deadline (still 建档中)."""
    cases = [(union, demo.new_case(campaign_id, union, medical=i == 0)) for union in EMPLOYERS for i in range(3)]
    demo.tick(days=1)
    for union, case in cases[:-2]:
        u = union.lower()
        demo.fire(case, f"cadre_{u}", "document")
        demo.fire(case, f"head_{u}", "approve")
        demo.fire(case, f"cadre_{u}", "publicize")
    _notices(demo, campaign_id)
    demo.tick(days=12)
    for union, case in cases[:-2]:
        demo.fire(case, f"cadre_{union.lower()}", "enter")
        demo.fire(case, "reviewer", "district_approve")
    demo.clock.set(dt.datetime(year, 1, 26, 0, 5, tzinfo=LOCAL))
    for _, case in cases[-2:]:
        demo.fire(case, "system", "forfeit")
    demo.tick(hours=9)
    for n, (_, case) in enumerate(cases[:-2], 1):
        demo.fire(case, "finance", "disburse", payment_reference=f"ICBC-{year}-{n:04d}")
    return cases


def _moments(begin: dt.datetime, end: dt.datetime, wanted: list[dt.datetime]) -> list[dt.datetime]:
    """The moments wanted, if they fall between the two seasons; else as many spread evenly over the gap."""
    if begin < wanted[0] and wanted[-1] < end - dt.timedelta(days=1):
        return wanted
    step = (end - begin) / (len(wanted) + 1)
    return [begin + step * (n + 1) for n in range(len(wanted))]


def _between_seasons(demo: _Demo, households: list[tuple[str, Case]], year: int, start: dt.datetime) -> None:
    """Between the seasons: the unions complete the national archive form of the households they helped; one
    household recovers (脱困); one worker's plant stops and the reviewer transfers the archive to the new union."""
    form, exited, transfer, moved = _moments(demo.clock.now(), start, [
        dt.datetime(year, 3, 10, 9, tzinfo=LOCAL), dt.datetime(year, 4, 20, 15, tzinfo=LOCAL),
        dt.datetime(year, 7, 1, 10, tzinfo=LOCAL), dt.datetime(year, 7, 3, 9, tzinfo=LOCAL)])
    demo.clock.set(form)
    for union, case in households[:-2]:
        archive = case.archive
        national = {"archive_type": "migrant_worker" if archive.worker_group == "migrant_worker" else "urban_worker",
                    "model_worker": "municipal" if archive.worker_group == "model_worker" else "none",
                    "ethnicity": "汉族", "political": "masses", "marital": "married",
                    "hukou": "non_agricultural", "hukou_area": archive.id_number[:6],
                    "work_status": "migrant" if archive.worker_group == "migrant_worker" else "on_duty",
                    "employer_nature": "public_sector" if union == "JC001" else "state_owned",
                    "housing_type": HOUSING_TYPES.get(archive.housing, "other"), "insurance": "employee",
                    "bank_name": "中国工商银行", "bank_branch": "城东支行"}
        demo.edit_archive(archive, f"cadre_{union.lower()}", {"national": national})

    union, case = households[EXITED]
    demo.clock.set(exited)
    demo.fire_archive(case.archive, f"head_{union.lower()}", "exit",
                      comment="职工配偶已稳定就业，家庭人均收入连续六个月高于当地低保标准，经复核脱困")

    union, case = households[TRANSFERRED]
    demo.clock.set(transfer)
    demo.fire_archive(case.archive, "reviewer", "transfer", union=TRANSFERRED_TO,
                      comment="华光机械厂停产，该职工调入城东环卫所工作，档案随人转移")
    demo.clock.set(moved)
    demo.edit_archive(case.archive, f"cadre_{TRANSFERRED_TO.lower()}",
                      {"applicant": {"employer": EMPLOYERS[TRANSFERRED_TO]},
                       "national": {"employer_nature": "public_sector"}})


def _this_season(demo: _Demo, campaign_id: int, year: int, now: dt.datetime,
                 households: list[tuple[str, Case]]) -> None:
    """This winter, under way: first the carry-over of last winter's archives (存量, one 返困, one again after
    giving up), then new households (增量), in every state, spread over the grassroots unions."""
    cases: list[tuple[object, str, Case]] = []
    # The carry-over: each union applies at once for its active archives, the transferred one by its new union.
    by_union: dict[str, list[tuple[object, Archive]]] = {}
    for n, goal in CARRY_OVER.items():
        union, case = households[n]
        by_union.setdefault(union, []).append((goal, case.archive))
    union, case = households[TRANSFERRED]
    by_union[TRANSFERRED_TO].append((State.disbursed, case.archive))
    for union, planned in by_union.items():
        applied = demo.apply(campaign_id, union, [archive for _, archive in planned], amount=1000)
        cases += [(goal, union, case) for (goal, _), case in zip(planned, applied)]
    # 返困: the household that recovered in the spring is in hardship again; the cadre updates what changed.
    union, case = households[EXITED]
    cadre = demo.accounts[f"cadre_{union.lower()}"]
    (returned,) = verbs.apply_for(demo.session, cadre, demo.clock, campaign_id, [case.archive_id])
    verbs.edit_case(demo.session, cadre, demo.clock, returned.id, returned.version, {
        "category": "deep", "causes": {"primary": Cause.serious_illness.value,
                                           "secondary": [Cause.able_unemployed.value]},
        "household": {"annual_income": 9600},
        "aid": {"kind": "funds", "amount": 2000, "medical": True}})
    demo.documents(returned, union)
    cases.append((State.district_approved, union, returned))
    # Gave up at last winter's deadline, applying again: never helped, so still 增量.
    union, case = households[-2]
    (again,) = demo.apply(campaign_id, union, [case.archive], amount=800)
    cases.append((State.publicized, union, again))
    plan = [(goal, list(EMPLOYERS)[i % 3]) for i, goal in enumerate(PLAN)]
    cases += [(goal, union, demo.new_case(campaign_id, union, medical=i % 4 == 0))
              for i, (goal, union) in enumerate(plan)]
    _goods(demo, cases)

    def reaches(goal, state: State) -> bool:
        stage = {"window_over": State.publicized, "returned": State.publicized, "objection": State.publicized,
                 State.forfeited: State.entered, State.withdrawn: State.documented}.get(goal, goal)
        return MAIN_PATH.index(stage) >= MAIN_PATH.index(state)

    demo.tick(days=1)
    for goal, union, case in cases:
        u = union.lower()
        if reaches(goal, State.documented):
            demo.fire(case, f"cadre_{u}", "document")
        if goal == State.withdrawn:
            demo.fire(case, f"head_{u}", "withdraw", comment="职工本人已调离本单位，申请撤回")
        if reaches(goal, State.grassroots_approved):
            demo.fire(case, f"head_{u}", "approve")
        if reaches(goal, State.publicized) and goal not in (State.publicized, "objection"):
            demo.fire(case, f"cadre_{u}", "publicize")
        if goal == "returned":
            demo.fire(case, f"head_{u}", "return", comment="家庭年收入与证明材料不一致，请核实后重新提交")
    _notices(demo, campaign_id)
    demo.tick(days=14)  # five working days of public notice, even across a holiday week
    for goal, union, case in cases:
        if reaches(goal, State.entered):
            demo.fire(case, f"cadre_{union.lower()}", "enter")
    demo.tick(days=1)
    for goal, union, case in cases:
        if goal == State.forfeited:
            demo.fire(case, "reviewer", "reject", comment="不合格：家庭人均收入高于当地困难职工认定标准")
        elif reaches(goal, State.district_approved):
            demo.fire(case, "reviewer", "district_approve")
    demo.tick(days=2)
    for n, (goal, union, case) in enumerate(cases, 1):
        if goal == State.disbursed:
            demo.fire(case, "finance", "disburse", payment_reference=f"ICBC-{year}-{n:04d}")
    # Still within their public notice now; one of them with an objection waiting for the head.
    demo.clock.set(now - dt.timedelta(days=1))
    for goal, union, case in cases:
        if goal in (State.publicized, "objection"):
            demo.fire(case, f"cadre_{union.lower()}", "publicize")
        if goal == "objection":
            verbs.record_objection(demo.session, demo.accounts[f"cadre_{union.lower()}"], demo.clock, case.id,
                                   "同事反映该职工配偶有经营收入，未如实申报")
    demo.clock.set(now)


# JC003's own ledger (台账), kept in Excel before Songnuan: (category, primary cause, the members' relations).
LEDGER = (("深度困难", "患重特大疾病", ("配偶", "子女")), ("相对困难", "下岗失业", ("子女",)),
          ("意外致困", "遭受意外事故", ("配偶", "子女", "父母")))
BORN = {"配偶": (1965, 1990), "子女": (2006, 2015), "父母": (1940, 1955)}


def _ledger(demo: _Demo) -> None:
    """JC003 imports its ledger through the verb of the upload screen: three households with their members, one row
    a person as a cadre fills the template (Chinese labels), archived as 在档."""
    people, rows = demo.people, []
    for category, cause, relations in LEDGER:
        male = people.rng.random() < 0.5
        number = people.id_number(1966, 1985, male)
        rows.append({"姓名": people.name(), "身份证号码": number, "性别": "男" if male else "女",
                     "手机号码": people.phone(), "工作单位": EMPLOYERS["JC003"], "职工类别": "困难职工",
                     "困难类别": category, "主要致困原因": cause, "家庭年收入": people.rng.randrange(9000, 24000),
                     "住房情况": people.rng.choice(HOUSING), "工商银行账号": people.bank_account(),
                     "开户银行": "中国工商银行", "开户支行": "城东支行", "档案类型": "城镇困难职工", "民族": "汉族",
                     "户口类型": "非农业", "户口所在地行政区划": number[:6], "工作状态": "在岗", "医保状况": "职工医保"})
        for relation in relations:
            spouse = relation == "配偶"
            rows.append({"姓名": people.name(), "身份证号码": people.id_number(*BORN[relation], not male if spouse else True),
                         "户主身份证号码": number, "与户主关系": relation, "月收入": 1200 if spouse else 0,
                         "健康状况": "良好", "职业": "在校学生" if relation == "子女" else "无业"})
    verbs.import_archives(demo.session, demo.accounts["cadre_jc003"], demo.clock, None, rows)


def _reviews(demo: _Demo, households: list[tuple[str, Case]]) -> None:
    """The annual review (年度复核): last winter's households have been in the archive for about a year. JC001's
    cadre proposes 脱困 for its first household (settled: the head may carry it out) and confirms the one waiting for
    carry-over; JC003's cadre updates the transferred one; the others stay on their unions' worklists. The district
    has drawn this year's spot check (30% of each union, with a recorded seed) and recorded three findings."""
    def review(n: int, who: str, outcome: str, **kwargs) -> None:
        archive = households[n][1].archive
        verbs.review_archive(demo.session, demo.accounts[who], demo.clock, archive.id, archive.version, outcome,
                             **kwargs)
        demo.tick(minutes=1)

    # The household's income as the cadre found it at the visit, then the proposal it supports.
    review(0, "cadre_jc001", "updated", comment="入户复核：职工已康复返岗，配偶稳定就业，已更新家庭年收入",
           data={"household": {"annual_income": 96000}})
    review(0, "cadre_jc001", "propose_exit",
           comment="家庭月人均收入已高于当地低保标准两倍，建议脱困")
    review(WAITING, "cadre_jc001", "confirmed", comment="入户核实，家庭收入和人口与档案一致")
    review(TRANSFERRED, "cadre_jc003", "updated", comment="职工更换了手机号码，已更新档案",
           data={"applicant": {"phone": demo.people.phone()}})
    reviewer = demo.accounts["reviewer"]
    year = demo.clock.now().astimezone(LOCAL).year
    check = verbs.draw_spot_check(demo.session, reviewer, demo.clock, year, seed=f"QZGH-{year}-spot-check")
    demo.tick(minutes=1)
    findings = [("confirmed", "入户核查，与档案一致"), ("confirmed", None),
                ("discrepancy", "入户核查发现子女已参加工作，档案家庭成员就业情况未更新")]
    for item, (outcome, comment) in zip(check.items, findings):
        verbs.check_spot_item(demo.session, reviewer, demo.clock, item.id, outcome, comment)
        demo.tick(minutes=1)


def _not_fitting(demo: _Demo, campaign_id: int) -> None:
    """Recognition at work (困难认定) in JC002: a household whose income is above twice the standard but asked for as
    深度困难, held at 资料齐全 until the cadre corrects the category or says why; another the same, with the reason
    stated, waiting for the head, who reads it; and one excluded (a private car), which cannot be submitted."""
    people, cadre = demo.people, demo.accounts["cadre_jc002"]

    def household(category: str, income: int, **more) -> Case:
        data = people.case(EMPLOYERS["JC002"], medical=False)
        data["applicant"]["id_number"] = _beijing(data["applicant"]["id_number"])
        spouse = data["household"]["members"][0]
        spouse["id_number"] = _beijing(spouse["id_number"])
        data["household"].update(annual_income=income, members=[spouse])
        data.update(category=category, causes={"primary": "laid_off", "secondary": []}, **more)
        case = verbs.create_case(demo.session, cadre, demo.clock, campaign_id, data)
        demo.documents(case, "JC002")
        demo.tick(minutes=9)
        return case

    above = 84000  # 3,500 a month each for two: above twice Beijing's standard
    household("deep", above)
    stated = household("deep", above, category_reason="配偶今年查出重病，已停薪治疗，下半年起家庭收入大幅下降，"
                                                      "按原收入核算不能反映实际困难")
    demo.fire(stated, "cadre_jc002", "document")
    household("deep", 9600, exclusions=["private_car"])


def _beijing(number: str) -> str:
    """The same person's number as if first issued in 北京市朝阳区 (110105)."""
    first17 = "110105" + number[6:17]
    return first17 + id_check_digit(first17)
