"""Plain-language (Chinese) labels for the timeline. Pure data; imported by workflow code."""

from __future__ import annotations

from services.contracts.lifecycle import (
    ClosureReason,
    LetterKind,
    RejectionReason,
    Satisfaction,
    ServiceMethod,
    SubjectiveElement,
    VerificationOutcome,
)

CLOSURE_TEXT: dict[ClosureReason, str] = {
    ClosureReason.PAID_IN_FULL: "工资已足额支付",
    ClosureReason.REJECTED: "不予受理",
    ClosureReason.FORWARDED: "已转送有管辖权的机关",
    ClosureReason.INFORMATION_NOT_SUPPLIED: "未补正材料",
    ClosureReason.UNFOUNDED: "经核实不成立",
    ClosureReason.DUPLICATE: "重复投诉",
    ClosureReason.WITHDRAWN: "投诉人撤回",
    ClosureReason.ALREADY_PAID: "经核实工资已支付",
    ClosureReason.HANDED_OFF: "已交办主管部门并获答复",
    ClosureReason.REFERRED_TO_ARBITRATION: "劳动争议，已引导至仲裁",
    ClosureReason.REFERRED_TO_POLICE: "涉嫌拒不支付劳动报酬罪，已移送公安机关",
    ClosureReason.ADMINISTRATIVE_DECISION: "已作出行政处理决定",
    ClosureReason.MERGED: "已并入其他案件办理",
    ClosureReason.NO_ARREARS_FOUND: "经核查未发现欠薪",
}

REJECTION_TEXT: dict[RejectionReason, str] = {
    RejectionReason.VIOLATION_TOO_OLD: "违法行为已超过两年未被发现",
    RejectionReason.NOT_LABOUR_INSPECTION_MATTER: "不属于劳动保障监察事项",
    RejectionReason.OTHER: "其他原因",
}

OUTCOME_TEXT: dict[VerificationOutcome, str] = {
    VerificationOutcome.WAGE_ARREARS: "确属欠薪",
    VerificationOutcome.PROJECT_PAYMENT_DISPUTE: "拖欠工程款纠纷",
    VerificationOutcome.QUANTITY_DISPUTE: "工程量纠纷",
    VerificationOutcome.LABOUR_DISPUTE: "劳动争议，应申请仲裁",
    VerificationOutcome.UNFOUNDED: "投诉不成立",
    VerificationOutcome.DUPLICATE: "重复投诉",
    VerificationOutcome.WITHDRAWN: "投诉人撤回",
    VerificationOutcome.ALREADY_PAID: "工资已支付",
    VerificationOutcome.FORWARDED: "已转送",
    VerificationOutcome.NO_ARREARS_FOUND: "经核查未发现欠薪",
}

LETTER_TEXT: dict[LetterKind, str] = {
    LetterKind.HANDOFF: "交办函",
    LetterKind.REMINDER: "催办函",
    LetterKind.SUPERVISION: "督办函",
    LetterKind.WARNING_LETTER: "警示函",
    LetterKind.ACCOUNTABILITY_RECOMMENDATION: "问责建议函",
    LetterKind.ACCOUNTABILITY_TRANSFER: "问责移交单",
}

SUBJECTIVE_ELEMENT_TEXT: dict[SubjectiveElement, str] = {
    SubjectiveElement.TRANSFERRED_ASSETS: "以转移财产方式逃避支付",
    SubjectiveElement.ABSCONDED: "以逃匿方式逃避支付",
    SubjectiveElement.ABLE_BUT_REFUSED: "有能力支付而不支付",
}

SERVICE_TEXT: dict[ServiceMethod, str] = {
    ServiceMethod.IN_PERSON: "直接送达",
    ServiceMethod.POSTING: "张贴送达",
}

SATISFACTION_TEXT: dict[Satisfaction, str] = {
    Satisfaction.SATISFIED: "满意",
    Satisfaction.BASICALLY_SATISFIED: "基本满意",
    Satisfaction.DISSATISFIED: "不满意",
    Satisfaction.NOT_REACHED: "未联系上",
}
