"""Which bank a card account number belongs to, by its first six digits (the BIN, 发卡行识别码). Payments go to
ICBC (中国工商银行) cards only: an account of another bank is a likely typing or copying error, so the case form
warns beside the field (it does not refuse: the table below may lack a new BIN, and finance sees the bank's answer).
"""

from __future__ import annotations

from workflows.identity import normalize_account
from workflows.texts import N_, Text

# ICBC's card BINs: the debit-card BINs listed for 中国工商银行 in China UnionPay's BIN table (银联卡BIN表), as given in
# issue 14, and the old 9558 passbook-card prefixes. Sorted, one place: add a new BIN here when the bank issues one.
ICBC_BINS: tuple[str, ...] = (
    "620200", "620302", "620402", "620403", "620404", "620405", "620406", "620407", "620408", "620409", "620410",
    "620411", "620412", "620502", "620503", "620512", "620602", "620604", "620607", "620609", "620611", "620612",
    "620704", "620706", "620707", "620708", "620709", "620710", "620711", "620712", "620713", "620714", "620802",
    "620902", "620904", "620905", "621001", "621102", "621103", "621105", "621106", "621107", "621202", "621203",
    "621204", "621205", "621206", "621207", "621208", "621209", "621210", "621211", "621225", "621226", "621227",
    "621281", "621288", "621302", "621303", "621304", "621305", "621306", "621307", "621309", "621311", "621313",
    "621315", "621317", "621402", "621404", "621405", "621406", "621407", "621408", "621409", "621410", "621502",
    "621511", "621558", "621559", "621602", "621603", "621604", "621605", "621606", "621607", "621608", "621609",
    "621610", "621611", "621612", "621613", "621614", "621615", "621616", "621617", "621618", "621670", "621721",
    "621722", "621723", "621804", "621807", "621813", "621814", "621817", "621901", "621903", "621904", "621905",
    "621906", "621907", "621908", "621909", "621910", "621911", "621912", "621913", "621914", "621915", "622002",
    "622003", "622004", "622005", "622006", "622007", "622008", "622010", "622011", "622012", "622013", "622015",
    "622016", "622017", "622018", "622019", "622020", "622102", "622103", "622104", "622105", "622110", "622111",
    "622114", "622200", "622202", "622203", "622208", "622224", "622225", "622229", "622230", "622231", "622232",
    "622233", "622234", "622235", "622237", "622238", "622239", "622240", "622245", "622246", "622302", "622303",
    "622304", "622305", "622306", "622307", "622308", "622309", "622313", "622314", "622315", "622317", "622402",
    "622403", "622404", "622502", "622504", "622505", "622509", "622510", "622513", "622517", "622604", "622605",
    "622606", "622703", "622706", "622715", "622806", "622902", "622903", "622904", "623002", "623006", "623008",
    "623011", "623012", "623014", "623015", "623062", "623100", "623202", "623301", "623400", "623500", "623602",
    "623700", "623803", "623901", "624000", "624100", "624200", "624301", "624402", "955880", "955881", "955882",
    "955888",
)
ICBC_EXAMPLES = ("622202", "621226", "620200")  # the ones the warning names: the commonest first


def icbc_warning(number: str | None) -> Text | None:
    """A warning when `number` has digits enough to tell and does not start like an ICBC card; None otherwise
    (nothing typed, too short to tell yet, or an ICBC BIN). Whether it is a valid number at all is
    identity.bank_account_problem's to say."""
    digits = normalize_account(number or "")
    if len(digits) < 6 or not digits.isascii() or not digits.isdigit():
        return None
    if digits.startswith(ICBC_BINS):
        return None
    return N_("该账号不像工商银行卡号（工行卡号通常以 %(examples)s… 开头），请核对", examples=list(ICBC_EXAMPLES))
