"""The handoff stage: a non-wage dispute goes to the responsible department, with its ladder of letters while
no answer comes; a department that sends it back starts a new round of verification. The department's answer
and its return arrive as updates (`record_handoff_response`, `record_handoff_return`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.contracts.lifecycle import (
        HANDOFF_LETTERS,
        CaseStage,
        CaseStatus,
        ClosureReason,
        DayUnit,
        DepartmentTerms,
        DepartmentTermsRequest,
        HandoffResponse,
        HandoffReturn,
        LadderRung,
        LetterKind,
        LetterRequest,
        Office,
        Updates,
    )
    from services.contracts.lifecycle.activities import department_terms, issue_letter
    from workflows.base import refuse
    from workflows.case.closure import CaseClosure
    from workflows.core import WaitResult
    from workflows.texts import LETTER_TEXT


# The letters of one handoff round: the handoff letter and the rungs of its ladder.
HANDOFF_LETTER_KINDS = frozenset(kind.value for kind in HANDOFF_LETTERS)

# A handoff takes the receiving department's own response days and ladder from the referrals service's
# directory (a county HRSS has 5 working days, a regulator 10). Histories recorded before kept the workflow's
# single setting, which stays the fallback for a department the directory does not know.
DEPARTMENT_DEADLINES = "2026-11-department-deadlines"


class HandoffStage(CaseClosure):
    """Handoff to a department and its ladder of letters; a returned handoff goes back to verification."""

    async def _handoff(self) -> WaitResult | None:
        verification = self._state.verification
        assert verification is not None and verification.department is not None
        department = verification.department
        terms = await self._handoff_terms(department)
        ladder: list[LadderRung] = terms.ladder
        response_deadline = await self._deadline(
            "handoff.response", self._legal_now(), terms.response_days, terms.response_unit
        )
        if LetterKind.HANDOFF.value not in self._state.letters:
            await self._letter(LetterKind.HANDOFF, department, response_deadline.due_at, response_deadline.due_date)
            self._progress("handed_off", f"已向 {department} 交办，答复期限 {response_deadline.due_date}")

        def answered() -> bool:
            return self._state.handoff_response is not None or self._state.handoff_return is not None

        def rung_deadline() -> str:
            rung_index = self._state.ladder_rung
            return "handoff.response" if rung_index == 0 else f"handoff.{ladder[rung_index - 1].kind.value}"

        while not answered():
            rung_index = self._state.ladder_rung
            current = rung_deadline()
            if self._state.deadlines[current].outcome == "expired":
                # Past the top of the ladder: wait for the answer however long it takes.
                result = await self._wait(answered, None)
            else:
                result = await self._wait(answered, current)
            if result is WaitResult.CONTINUE_AS_NEW:
                return result
            if result is WaitResult.DONE:
                break
            expired = self._state.deadlines[current]
            self._state.overdue = True
            if rung_index < len(ladder):
                rung = ladder[rung_index]
                next_deadline = await self._deadline(
                    f"handoff.{rung.kind.value}", expired.due_at, rung.wait_working_days, DayUnit.WORKING
                )
                await self._letter(rung.kind, department, next_deadline.due_at, next_deadline.due_date)
                self._state.ladder_rung = rung_index + 1
            else:
                step = self._round_step("handoff.ladder_exhausted")
                if not self._is_done(step):
                    await self._notice(
                        Office.SUPERVISING_OFFICE,
                        step,
                        f"案件 {self._input.case_id}：{department} 经全部催督程序仍未答复",
                        step=step,
                        department=department,
                    )
                    self._record(step, f"{department} 经全部催督程序仍未答复，已报根治欠薪办")
                    self._mark_done(step)
            self._publish_search_attributes()

        # An answer that arrived before the first wait (while the letter was going out) is in time as well.
        self._settle(rung_deadline(), "met")
        self._state.overdue = False
        if self._state.handoff_return is not None:
            await self._handoff_returned()
            return None
        response = self._state.handoff_response
        assert response is not None
        self._record("handoff.answered", f"{response.department} 答复：{response.summary}")
        self._close(ClosureReason.HANDED_OFF, f"{response.department} 已答复")
        return None

    async def _handoff_terms(self, department: str) -> DepartmentTerms:
        """The department's response days and ladder for this round, decided once and kept in the state (so a
        new run, or a ladder half climbed, keeps the terms its letters stated)."""
        kept = self._state.handoff_terms
        if kept is not None and kept.department == department:
            return kept
        cfg = self._config.handoff
        own = DepartmentTerms(
            department=department,
            found=False,
            response_days=cfg.response_working_days,
            response_unit=DayUnit.WORKING,
            ladder=list(cfg.ladder),
        )
        terms = own
        if "handoff.response" in self._state.deadlines:
            # A round begun before the terms were kept (a run continued from an older one): its letters already
            # stated the workflow's own setting, which it keeps to the end of the round.
            pass
        elif workflow.patched(DEPARTMENT_DEADLINES):
            directory = await self._activity(department_terms, DepartmentTermsRequest(department=department))
            # A handoff needs at least a day to answer; a directory entry of 0 (legal aid's same-day channel)
            # is not a handoff receiver's.
            if directory.found and directory.response_days >= 1:
                terms = directory
                unit = "个工作日" if directory.response_unit is DayUnit.WORKING else "日"
                rungs = "、".join(LETTER_TEXT[r.kind] for r in directory.ladder) or "无"
                self._record(
                    "handoff.terms",
                    f"按部门目录：{department} 答复期限 {directory.response_days}{unit}，逾期依次发出{rungs}",
                )
            else:
                self._record(
                    "handoff.terms",
                    f"部门目录中无 {department} 的期限，按默认答复期限 {cfg.response_working_days} 个工作日",
                )
        self._state.handoff_terms = terms
        return terms

    def _round_step(self, step: str) -> str:
        """A handoff step's name in the current round (the first round keeps the plain name)."""
        return step if self._state.handoff_round == 1 else f"{step}@{self._state.handoff_round}"

    async def _handoff_returned(self) -> None:
        """The department sent the handoff back: the inspector verifies and classifies the case anew."""
        returned = self._state.handoff_return
        assert returned is not None
        step = self._round_step("handoff.returned")
        if not self._is_done(step):
            await self._notice(
                Office.INSPECTOR,
                "handoff_returned",
                f"案件 {self._input.case_id}：{returned.department} 退回交办（{returned.reason}），请重新核实定性",
                step=step,
                department=returned.department,
            )
            self._mark_done(step)
        self._record(
            "handoff.returned",
            f"{returned.department} 退回交办：{returned.reason}（{returned.returned_by}）；案件重新核实定性",
        )
        self._progress("handoff_returned", "主管部门退回交办，案件将重新核实处理")
        # Put this round aside under `name@round`: the next handoff, to whichever department, starts clean.
        finished = self._state.handoff_round
        for name in [n for n in self._state.deadlines if n.startswith("handoff.") and "@" not in n]:
            self._supersede(name)
            self._state.deadlines[f"{name}@{finished}"] = self._state.deadlines.pop(name)
        for kind in [k for k in self._state.letters if k in HANDOFF_LETTER_KINDS]:
            self._state.letters[f"{kind}@{finished}"] = self._state.letters.pop(kind)
        self._state.handoff_round = finished + 1
        self._state.ladder_rung = 0
        self._state.handoff_terms = None
        self._state.handoff_response = None
        self._state.handoff_return = None
        self._state.pending_verification = None
        self._state.verification = None
        self._state.classification = None
        self._set_stage(CaseStage.VERIFICATION)

    async def _letter(self, kind: LetterKind, department: str, due_at: datetime, due_date: Any) -> None:
        ref = await self._activity(
            issue_letter,
            LetterRequest(
                idempotency_key=self._key(self._round_step(f"letter:{kind.value}")),
                case_id=self._input.case_id,
                county=self._input.county,
                department=department,
                kind=kind,
                response_due_at=due_at,
                response_due_date=due_date,
            ),
        )
        self._state.letters[kind.value] = ref.id
        self._record(
            f"letter.{kind.value}",
            f"向 {department} 发出{LETTER_TEXT[kind]}（{ref.id}），限 {due_date} 前答复",
        )

    # --- the department's answer (updates) ------------------------------------------------------------------

    @workflow.update(name=Updates.RECORD_HANDOFF_RESPONSE)
    def record_handoff_response(self, response: HandoffResponse) -> CaseStatus:
        self._state.handoff_response = response
        return self._status()

    @record_handoff_response.validator
    def _validate_handoff_response(self, response: HandoffResponse) -> None:
        self._require_stage("记录交办答复", CaseStage.HANDOFF)
        verification = self._state.verification
        if verification is not None and verification.department != response.department:
            raise refuse(
                f"本案交办给 {verification.department}，不是 {response.department}"
                f" (the case was handed off to {verification.department})"
            )
        if self._state.handoff_response is not None or self._state.handoff_return is not None:
            raise refuse("交办答复已记录 (the department's answer is already recorded)")

    @workflow.update(name=Updates.RECORD_HANDOFF_RETURN)
    def record_handoff_return(self, returned: HandoffReturn) -> CaseStatus:
        self._state.handoff_return = returned
        return self._status()

    @record_handoff_return.validator
    def _validate_handoff_return(self, returned: HandoffReturn) -> None:
        self._require_stage("记录退回交办", CaseStage.HANDOFF)
        verification = self._state.verification
        if verification is not None and verification.department != returned.department:
            raise refuse(
                f"本案交办给 {verification.department}，不是 {returned.department}"
                f" (the case was handed off to {verification.department})"
            )
        if self._state.handoff_response is not None or self._state.handoff_return is not None:
            raise refuse("交办答复已记录 (the department's answer is already recorded)")
