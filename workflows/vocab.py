"""The fixed vocabularies of a case: codes used by the API and the CLI, with the Chinese labels of the screens."""

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
    illness = "illness"
    disability = "disability"
    disaster = "disaster"
    schooling = "schooling"
    unemployment = "unemployment"
    other_cause = "other"


class AidKind(Labelled):
    funds = "funds"
    policy = "policy"
    employment = "employment"
    education = "education"
    service = "service"
    goods = "goods"


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
    disease_certificate = "disease_certificate"
    hospital_settlements = "hospital_settlements"


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
    (Cause.illness, "因病"),
    (Cause.disability, "因残"),
    (Cause.disaster, "因灾"),
    (Cause.schooling, "子女就学"),
    (Cause.unemployment, "失业"),
    (Cause.other_cause, "其他"),
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
    (DocumentKind.disease_certificate, "县级以上医院重大疾病证明"),
    (DocumentKind.hospital_settlements, "近两年住院结算单"),
    (ObjectionStatus.open, "待处理"),
    (ObjectionStatus.dismissed, "不成立"),
    (ObjectionStatus.upheld, "成立"),
)}

# The account number is a field of the case; a copy of the card is optional, so bank_card is never required.
REQUIRED_DOCUMENTS = (DocumentKind.stamped_file, DocumentKind.application, DocumentKind.household_ids,
                      DocumentKind.hardship_proof)
MEDICAL_DOCUMENTS = (DocumentKind.disease_certificate, DocumentKind.hospital_settlements)


def required_documents(medical: bool) -> tuple[DocumentKind, ...]:
    return REQUIRED_DOCUMENTS + (MEDICAL_DOCUMENTS if medical else ())
