"""The states, roles, triggers and audit actions of a case, its transition table and its task table, as data.

Everything that needs to know the workflow (the machine, the guards, the inbox, the diagram, the factories of the
tests) reads it from here; nothing restates it by hand. Every fact about a move is a field of its row: who makes
it, whether it needs a comment, a claim or a payment reference, whether it spends money, whether the deadline
bounds it, whether the drafter is told. Code asks the row, never `if trigger == ...`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    drafted = "drafted"
    documented = "documented"
    grassroots_approved = "grassroots_approved"
    publicized = "publicized"
    entered = "entered"
    district_approved = "district_approved"
    disbursed = "disbursed"
    forfeited = "forfeited"
    withdrawn = "withdrawn"
    payment_returned = "payment_returned"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS: dict[State, str] = {
    State.drafted: "已起草",
    State.documented: "资料齐全",
    State.grassroots_approved: "基层已审核",
    State.publicized: "公示中",
    State.entered: "已录入报送",
    State.district_approved: "区总已审定",
    State.disbursed: "已发放",
    State.forfeited: "视为自动放弃",
    State.withdrawn: "已撤回",
    State.payment_returned: "退票待处理",
}

# The main path of a case, from the draft to the money paid; every named set of states is a slice of it.
MAIN_PATH = (State.drafted, State.documented, State.grassroots_approved, State.publicized, State.entered,
             State.district_approved, State.disbursed)
_ENTERED = MAIN_PATH.index(State.entered)
# The grassroots stages: what the deadline sweep forfeits and what nothing may move after the deadline.
GRASSROOTS = MAIN_PATH[:_ENTERED]
# A payment the bank returned (退票): off the main path until it is paid again.
RETURNED = (State.payment_returned,)
# Submitted to the district: what the assistance center sees and the anti-fraud views look at.
DISTRICT = MAIN_PATH[_ENTERED:] + RETURNED
# Approved by the district: money spoken for, counted against caps and budgets once however often it is paid (and
# what finance sees).
COMMITTED = MAIN_PATH[MAIN_PATH.index(State.district_approved):] + RETURNED
# On the public notice or past it, on the way to aid: what a union's notice list shows. The list says "we propose
# to help these workers", so a case withdrawn, forfeited or returned to draft is no longer on it.
NOTICED = MAIN_PATH[MAIN_PATH.index(State.publicized):]
# Holding its ID numbers: no other case of the campaign may use them.
LIVE = MAIN_PATH + RETURNED
# Nothing leaves these.
FINAL = (State.forfeited, State.withdrawn)
# No longer being handled: paid (a return, rare and late, reopens it), forfeited or withdrawn.
SETTLED = (State.disbursed, *FINAL)


class Role(StrEnum):
    cadre = "cadre"
    head = "head"
    reviewer = "reviewer"
    finance = "finance"
    auditor = "auditor"
    admin = "admin"
    system = "system"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.cadre: "基层工会干部",
    Role.head: "基层工会负责人",
    Role.reviewer: "帮扶中心审核员",
    Role.finance: "财务",
    Role.auditor: "审计",
    Role.admin: "系统管理员",
    Role.system: "系统",
}
# Roles that belong to a grassroots union and see only its cases.
UNION_ROLES = (Role.cadre, Role.head)


class Trigger(StrEnum):
    """The moves of the transition table; each is also the audit action of the event it writes."""

    document = "document"
    approve = "approve"
    return_ = "return"
    publicize = "publicize"
    enter = "enter"
    district_approve = "district_approve"
    district_return = "district_return"
    reject = "reject"
    disburse = "disburse"
    forfeit = "forfeit"
    withdraw = "withdraw"
    bounce = "bounce"
    reissue = "reissue"

    @property
    def label(self) -> str:
        return BY_TRIGGER[self].label


class Action(StrEnum):
    """Every other audited action: the trail's `action` is one of these or a Trigger."""

    create = "create"
    edit = "edit"
    add_document = "add_document"
    remove_document = "remove_document"
    object = "object"
    resolve_objection = "resolve_objection"
    claim = "claim"
    release = "release"
    reveal = "reveal"
    sign_in = "sign_in"
    sign_out = "sign_out"
    sign_in_failed = "sign_in_failed"
    token_create = "token_create"
    token_revoke = "token_revoke"
    create_union = "create_union"
    create_account = "create_account"
    create_campaign = "create_campaign"
    update_campaign = "update_campaign"
    summary_submit = "summary_submit"
    enable_account = "enable_account"
    disable_account = "disable_account"
    reset_password = "reset_password"
    change_role = "change_role"
    update_account = "update_account"
    payment_export = "payment_export"
    create_archive = "create_archive"
    edit_archive = "edit_archive"
    merge_archive = "merge_archive"
    update_archive = "update_archive"
    import_archive = "import_archive"
    set_standard = "set_standard"
    record_visit = "record_visit"
    review_archive = "review_archive"
    draw_spot_check = "draw_spot_check"
    check_spot_item = "check_spot_item"
    set_tariff = "set_tariff"
    create_batch = "create_batch"
    bank_file = "bank_file"
    bank_result = "bank_result"
    correct_account = "correct_account"
    record_receipt = "record_receipt"
    record_notice = "record_notice"
    download_document = "download_document"
    rotate_keys = "rotate_keys"
    delete_draft = "delete_draft"

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS: dict[Action, str] = {
    Action.create: "起草申请", Action.edit: "修改申请", Action.add_document: "上传资料",
    Action.remove_document: "删除资料", Action.object: "登记异议", Action.resolve_objection: "处理异议",
    Action.claim: "认领", Action.release: "放弃认领", Action.reveal: "查看完整号码", Action.sign_in: "登录",
    Action.sign_in_failed: "登录失败",
    Action.sign_out: "退出登录", Action.token_create: "创建API令牌", Action.token_revoke: "吊销API令牌",
    Action.create_union: "新建工会", Action.create_account: "新建账号", Action.create_campaign: "新建活动",
    Action.update_campaign: "修改活动", Action.summary_submit: "提交活动总结", Action.enable_account: "启用账号",
    Action.disable_account: "停用账号", Action.reset_password: "重置密码", Action.change_role: "更改角色",
    Action.update_account: "修改账号", Action.payment_export: "导出付款清单", Action.create_archive: "建立档案",
    Action.edit_archive: "修改户档案", Action.merge_archive: "合并档案", Action.update_archive: "按审定结果更新档案",
    Action.import_archive: "从台账导入档案", Action.set_standard: "设定低保标准", Action.record_visit: "登记入户调查",
    Action.review_archive: "年度复核", Action.draw_spot_check: "抽取抽查档案", Action.check_spot_item: "登记抽查结果",
    Action.set_tariff: "设定帮扶标准", Action.create_batch: "新建发放批次", Action.bank_file: "导出银行代发文件",
    Action.bank_result: "导入银行回单", Action.correct_account: "更正银行账号", Action.record_receipt: "登记实物签收",
    Action.record_notice: "登记公示张贴", Action.download_document: "下载证件资料",
    Action.rotate_keys: "更换号码加密密钥",
    Action.delete_draft: "删除草稿",
}


@dataclass(frozen=True)
class Transition:
    trigger: Trigger
    sources: tuple[State, ...]
    dest: State
    roles: tuple[Role, ...]
    label: str
    needs_comment: bool = False
    # Refused once the campaign's deadline has passed, even before the sweep has run.
    before_deadline: bool = False
    # Refused until the campaign's deadline has passed.
    after_deadline: bool = False
    # Only the person who claimed the case (or anyone, while nobody has) may make it.
    needs_claim: bool = False
    # Spends the case's amount: caps and budgets are checked, counting the cases already in these states.
    spends: tuple[State, ...] = ()
    needs_payment_reference: bool = False
    # The cadre who drafted the case is told at once, with the comment.
    tells_drafter: bool = False
    # The comment written when none is given (the system's moves).
    default_comment: str | None = None
    # The inbox group of the cases waiting for this move (the forward moves only; going back is never a task).
    task: str | None = None
    # The household's archive takes the case's data as approved, and its help (verbs.archives.after_approval).
    updates_archive: bool = False


FORFEIT_REASON = "逾期未报，视为自动放弃"

TRANSITIONS: tuple[Transition, ...] = (
    Transition(Trigger.document, (State.drafted,), State.documented, (Role.cadre,), "资料齐全，提交审核",
               before_deadline=True, task="待补充资料"),
    Transition(Trigger.approve, (State.documented,), State.grassroots_approved, (Role.head,), "基层审核通过",
               before_deadline=True, task="待审核"),
    Transition(Trigger.return_, (State.documented, State.grassroots_approved, State.publicized), State.drafted,
               (Role.head,), "退回修改", needs_comment=True, before_deadline=True, tells_drafter=True),
    Transition(Trigger.publicize, (State.grassroots_approved,), State.publicized, (Role.cadre, Role.head),
               "开始公示", before_deadline=True, task="待公示"),
    Transition(Trigger.enter, (State.publicized,), State.entered, (Role.cadre,), "录入报送", before_deadline=True,
               task="公示期满待录入"),
    Transition(Trigger.district_approve, (State.entered,), State.district_approved, (Role.reviewer,), "区总审定通过",
               needs_claim=True, spends=COMMITTED, task="待区总审定", updates_archive=True),
    Transition(Trigger.district_return, (State.entered,), State.drafted, (Role.reviewer,), "区总退回",
               needs_comment=True, before_deadline=True, needs_claim=True, tells_drafter=True),
    Transition(Trigger.reject, (State.entered,), State.forfeited, (Role.reviewer,), "不合格，驳回",
               needs_comment=True, needs_claim=True),
    Transition(Trigger.disburse, (State.district_approved,), State.disbursed, (Role.finance,), "发放",
               needs_claim=True, spends=(State.disbursed,), needs_payment_reference=True, task="待发放"),
    Transition(Trigger.forfeit, GRASSROOTS, State.forfeited, (Role.system,), FORFEIT_REASON, after_deadline=True,
               default_comment=FORFEIT_REASON),
    Transition(Trigger.withdraw, GRASSROOTS, State.withdrawn, (Role.cadre, Role.head), "撤回", needs_comment=True,
               before_deadline=True),
    # The bank returned the payment (退票): its reason is the comment (DOMAIN.md, Money as the bank sees it).
    Transition(Trigger.bounce, (State.disbursed,), State.payment_returned, (Role.finance,), "退票",
               needs_comment=True, tells_drafter=True),
    # Paid again in a later batch, once its bank account was corrected by someone else (rules.guards EXTRA).
    Transition(Trigger.reissue, (State.payment_returned,), State.district_approved, (Role.finance,), "重新发放",
               task="退票待重新发放"),
)

BY_TRIGGER: dict[Trigger, Transition] = {t.trigger: t for t in TRANSITIONS}
TRIGGERS: tuple[Trigger, ...] = tuple(BY_TRIGGER)
# The triggers that record a payment (the case page asks for its reference).
NEEDS_PAYMENT = tuple(t.trigger for t in TRANSITIONS if t.needs_payment_reference)
# The state in which each claiming role takes a case (its moves from there need the claim).
CLAIM_STATES: dict[Role, State] = {role: source for t in TRANSITIONS if t.needs_claim
                                   for role in t.roles for source in t.sources}


def label_of_action(action: str) -> str:
    """What a recorded action is called on the screens; a transition's is its label in its table."""
    from workflows.archive_states import BY_TRIGGER as ARCHIVE_MOVES  # noqa: PLC0415 - that module imports this one

    if action in BY_TRIGGER:
        return BY_TRIGGER[Trigger(action)].label
    if action in ARCHIVE_MOVES:
        return ARCHIVE_MOVES[action].label
    return ACTION_LABELS[Action(action)] if action in Action.__members__.values() else action


def triggers_from(state: State) -> list[Transition]:
    """The transitions that leave `state`, in table order."""
    return [t for t in TRANSITIONS if state in t.sources]


# ---------------------------------------------------------------- the task table

@dataclass(frozen=True)
class Task:
    """A group of a role's inbox: the cases in `states` on which `roles` have this to do now. A task is a forward
    move of the table (`trigger`) or another action on the case (`action`); rules.tasks says when it is due."""

    label: str
    roles: tuple[Role, ...]
    states: tuple[State, ...]
    trigger: Trigger | None = None
    action: Action | None = None


TASKS: tuple[Task, ...] = (
    *(Task(t.task, t.roles, t.sources, trigger=t.trigger) for t in TRANSITIONS if t.task),
    # A head decides an objection written down during the public notice (and, once it is upheld, returns or
    # withdraws the case): DOMAIN.md, "Objections".
    Task("待处理异议", (Role.head,), (State.publicized,), action=Action.resolve_objection),
)
# The roles with an inbox.
TASK_ROLES = tuple(role for role in Role if any(role in task.roles for task in TASKS))


def tasks_of(role: str) -> tuple[Task, ...]:
    return tuple(task for task in TASKS if role in task.roles)


# ---------------------------------------------------------------- ways through the table

def path_to(state: State) -> list[tuple[Role, Trigger]]:
    """The shortest way from a draft to `state` by people (the system's moves need the deadline passed), each step
    with the first role of its row: how the tests' factories build a case in any state."""
    ways: dict[State, list[tuple[Role, Trigger]]] = {State.drafted: []}
    todo = deque([State.drafted])
    while todo:
        here = todo.popleft()
        for t in triggers_from(here):
            if Role.system not in t.roles and t.dest not in ways:
                ways[t.dest] = [*ways[here], (t.roles[0], t.trigger)]
                todo.append(t.dest)
    return ways[state]


# ---------------------------------------------------------------- a life cycle as data

@dataclass(frozen=True)
class Flow:
    """A life cycle as data, read alike by the machine (infra/machine.py) and the diagram: the case's here, the
    archive's in archive_states.py. Its rows have `trigger`, `sources`, `dest`, `roles` and `label`."""

    name: str
    states: type[StrEnum]
    transitions: tuple
    final: tuple
    title: str  # the diagram's title


CASE_FLOW = Flow("case", State, TRANSITIONS, FINAL, "案件流程图")
