"""The fixed vocabularies of a case and an archive: codes used by the API and the CLI, with the Chinese labels of the screens."""

from __future__ import annotations

from enum import StrEnum


def label_of(kind: type, code: str | None) -> str | None:
    """The label of a stored code of `kind` (a vocabulary, State or Role); an unknown code as it is; None for none."""
    if not code:
        return None
    try:
        return kind(code).label
    except ValueError:
        return code


class Labelled(StrEnum):
    @property
    def label(self) -> str:
        return LABELS[(type(self), self.value)]


class Gender(Labelled):
    male = "male"
    female = "female"


class WorkerGroup(Labelled):
    hardship_worker = "hardship_worker"
    migrant_worker = "migrant_worker"
    model_worker = "model_worker"
    other = "other"


class Category(Labelled):
    deep = "deep"
    relative = "relative"
    accident = "accident"


class Cause(Labelled):
    """The national code list of hardship causes (DOMAIN.md, Household archive)."""

    no_work_capacity = "no_work_capacity"
    able_unemployed = "able_unemployed"
    laid_off = "laid_off"
    uninsured = "uninsured"
    insurance_gap = "insurance_gap"
    serious_illness = "serious_illness"
    natural_disaster = "natural_disaster"
    accident = "accident"
    schooling = "schooling"
    other_cause = "other"


# The codes of the case's first cause list (API.md), still accepted on input and read as their national code.
OLD_CAUSES = {"illness": Cause.serious_illness, "disability": Cause.no_work_capacity,
              "disaster": Cause.natural_disaster, "unemployment": Cause.laid_off}
MAX_SECONDARY_CAUSES = 3


class AidKind(Labelled):
    funds = "funds"
    policy = "policy"
    employment = "employment"
    education = "education"
    service = "service"
    goods = "goods"


class ArchiveType(Labelled):
    urban_worker = "urban_worker"
    migrant_worker = "migrant_worker"


class ModelWorker(Labelled):
    none = "none"
    national = "national"
    provincial = "provincial"
    municipal = "municipal"
    other = "other"


class Political(Labelled):
    party_member = "party_member"
    league_member = "league_member"
    democratic_party = "democratic_party"
    masses = "masses"


class Marital(Labelled):
    single = "single"
    married = "married"
    divorced = "divorced"
    widowed = "widowed"


class Hukou(Labelled):
    non_agricultural = "non_agricultural"
    agricultural = "agricultural"
    converted = "converted"


class WorkStatus(Labelled):
    on_duty = "on_duty"
    laid_off = "laid_off"
    unemployed = "unemployed"
    retired = "retired"
    sick_leave = "sick_leave"
    early_retired = "early_retired"
    migrant = "migrant"


class EmployerNature(Labelled):
    state_owned = "state_owned"
    collective = "collective"
    private = "private"
    foreign = "foreign"
    public_sector = "public_sector"
    other = "other"


class HousingType(Labelled):
    own = "own"
    rented = "rented"
    public_rental = "public_rental"
    none = "none"
    other = "other"


class Insurance(Labelled):
    employee = "employee"
    resident = "resident"
    none = "none"


class ApplicationKind(Labelled):
    """What a campaign's application is to its archive: 增量, 存量 or 返困 (DOMAIN.md, Household archive)."""

    new = "new"
    existing = "existing"
    returned = "returned"


class ClosingReason(Labelled):
    """Why an archive is deregistered (注销)."""

    death = "death"
    retired = "retired"
    moved = "moved"
    not_in_hardship = "not_in_hardship"
    merged = "merged"
    other = "other"


class UnionKind(Labelled):
    district = "district"
    federation = "federation"
    grassroots = "grassroots"


class DocumentKind(Labelled):
    stamped_file = "stamped_file"
    application = "application"
    household_ids = "household_ids"
    bank_card = "bank_card"
    hardship_proof = "hardship_proof"
    finance_authorisation = "finance_authorisation"
    disease_certificate = "disease_certificate"
    hospital_settlements = "hospital_settlements"
    disability_certificate = "disability_certificate"
    school_enrolment = "school_enrolment"
    school_fees = "school_fees"
    labour_contract = "labour_contract"
    goods_receipt = "goods_receipt"


class Exclusion(Labelled):
    """不予建档: what keeps a household out of the archives whatever its income (DOMAIN.md, Recognition)."""

    multiple_homes = "multiple_homes"
    business = "business"
    private_car = "private_car"
    private_school = "private_school"


class ReviewOutcome(Labelled):
    """What a union's annual review (年度复核) of an archive found."""

    confirmed = "confirmed"
    updated = "updated"
    propose_exit = "propose_exit"
    propose_deregister = "propose_deregister"


class SpotCheckOutcome(Labelled):
    """What the district found when it checked a drawn archive (抽查)."""

    confirmed = "confirmed"
    discrepancy = "discrepancy"


class ObjectionStatus(Labelled):
    open = "open"
    dismissed = "dismissed"
    upheld = "upheld"


# Keyed by (vocabulary, code): two vocabularies share the code "other" (WorkerGroup, Cause), and a StrEnum member
# equals its plain string, so keyed by member alone the later label would replace the earlier.
LABELS: dict[tuple[type, str], str] = {(type(member), member.value): label for member, label in (
    (Gender.male, "男"),
    (Gender.female, "女"),
    (WorkerGroup.hardship_worker, "困难职工"),
    (WorkerGroup.migrant_worker, "困难农民工"),
    (WorkerGroup.model_worker, "困难劳模"),
    (WorkerGroup.other, "其他职工"),
    (Category.deep, "深度困难"),
    (Category.relative, "相对困难"),
    (Category.accident, "意外致困"),
    (Cause.no_work_capacity, "无劳动能力"),
    (Cause.able_unemployed, "有劳动能力而未就业"),
    (Cause.laid_off, "下岗失业"),
    (Cause.uninsured, "未参加社会保险"),
    (Cause.insurance_gap, "社会保险待遇落实不到位"),
    (Cause.serious_illness, "患重特大疾病"),
    (Cause.natural_disaster, "遭受自然灾害"),
    (Cause.accident, "遭受意外事故"),
    (Cause.schooling, "子女上学"),
    (Cause.other_cause, "其他"),
    (ArchiveType.urban_worker, "城镇困难职工"),
    (ArchiveType.migrant_worker, "困难农民工"),
    (ModelWorker.none, "无"),
    (ModelWorker.national, "全国劳模"),
    (ModelWorker.provincial, "省部级劳模"),
    (ModelWorker.municipal, "地市级劳模"),
    (ModelWorker.other, "其他"),
    (Political.party_member, "中共党员"),
    (Political.league_member, "共青团员"),
    (Political.democratic_party, "民主党派"),
    (Political.masses, "群众"),
    (Marital.single, "未婚"),
    (Marital.married, "已婚"),
    (Marital.divorced, "离异"),
    (Marital.widowed, "丧偶"),
    (Hukou.non_agricultural, "非农业"),
    (Hukou.agricultural, "农业"),
    (Hukou.converted, "农转居"),
    (WorkStatus.on_duty, "在岗"),
    (WorkStatus.laid_off, "下岗"),
    (WorkStatus.unemployed, "失业"),
    (WorkStatus.retired, "退休"),
    (WorkStatus.sick_leave, "病休"),
    (WorkStatus.early_retired, "内退"),
    (WorkStatus.migrant, "农民工"),
    (EmployerNature.state_owned, "国有企业"),
    (EmployerNature.collective, "集体企业"),
    (EmployerNature.private, "私营企业"),
    (EmployerNature.foreign, "外资企业"),
    (EmployerNature.public_sector, "机关事业单位"),
    (EmployerNature.other, "其他"),
    (HousingType.own, "自有住房"),
    (HousingType.rented, "租房"),
    (HousingType.public_rental, "公租房"),
    (HousingType.none, "无住房"),
    (HousingType.other, "其他"),
    (Insurance.employee, "职工医保"),
    (Insurance.resident, "居民医保"),
    (Insurance.none, "未参保"),
    (ApplicationKind.new, "增量"),
    (ApplicationKind.existing, "存量"),
    (ApplicationKind.returned, "返困"),
    (ClosingReason.death, "死亡"),
    (ClosingReason.retired, "退休"),
    (ClosingReason.moved, "迁出"),
    (ClosingReason.not_in_hardship, "复核不再困难"),
    (ClosingReason.merged, "合并"),
    (ClosingReason.other, "其他"),
    (AidKind.funds, "送资金"),
    (AidKind.policy, "送政策"),
    (AidKind.employment, "送就业"),
    (AidKind.education, "送助学"),
    (AidKind.service, "送服务"),
    (AidKind.goods, "送实物"),
    (UnionKind.district, "区总工会"),
    (UnionKind.federation, "工会联合会/产业工会"),
    (UnionKind.grassroots, "基层工会"),
    (DocumentKind.stamped_file, "困难职工档案（加盖基层工会章）"),
    (DocumentKind.application, "个人救助申请报告"),
    (DocumentKind.household_ids, "户口本、身份证复印件"),
    (DocumentKind.bank_card, "工商银行卡复印件"),
    (DocumentKind.hardship_proof, "困难职工相关证明"),
    (DocumentKind.finance_authorisation, "家庭经济状况核对授权书"),
    (DocumentKind.disease_certificate, "县级以上医院重大疾病证明"),
    (DocumentKind.hospital_settlements, "近两年住院结算单"),
    (DocumentKind.disability_certificate, "残疾证"),
    (DocumentKind.school_enrolment, "子女入学证明"),
    (DocumentKind.school_fees, "学费缴费凭证"),
    (DocumentKind.labour_contract, "劳动合同"),
    (DocumentKind.goods_receipt, "实物签收单"),
    (Exclusion.multiple_homes, "家庭拥有两套及以上住房"),
    (Exclusion.business, "经营企业或雇佣他人从事经营活动"),
    (Exclusion.private_car, "拥有非生产经营用机动车"),
    (Exclusion.private_school, "子女自费就读高收费私立学校或出国留学"),
    (ReviewOutcome.confirmed, "核实无变化"),
    (ReviewOutcome.updated, "已更新档案信息"),
    (ReviewOutcome.propose_exit, "建议脱困"),
    (ReviewOutcome.propose_deregister, "建议注销"),
    (SpotCheckOutcome.confirmed, "抽查属实"),
    (SpotCheckOutcome.discrepancy, "抽查不符"),
    (ObjectionStatus.open, "待处理"),
    (ObjectionStatus.dismissed, "不成立"),
    (ObjectionStatus.upheld, "成立"),
)}

# The account number is a field of the case; a copy of the card is optional, so bank_card is never required.
REQUIRED_DOCUMENTS = (DocumentKind.stamped_file, DocumentKind.application, DocumentKind.household_ids,
                      DocumentKind.hardship_proof, DocumentKind.finance_authorisation)
MEDICAL_DOCUMENTS = (DocumentKind.disease_certificate, DocumentKind.hospital_settlements)
# The papers a household's causes and worker group call for (DOMAIN.md, Recognition: evidence).
DISABILITY_DOCUMENTS = (DocumentKind.disability_certificate,)
SCHOOL_DOCUMENTS = (DocumentKind.school_enrolment, DocumentKind.school_fees)
MIGRANT_DOCUMENTS = (DocumentKind.labour_contract,)
