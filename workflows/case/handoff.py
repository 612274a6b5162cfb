"""The handoff stage: a non-wage dispute goes to the responsible department, with its ladder of letters while
no answer comes; a department that sends it back starts a new round of verification."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.contracts.lifecycle import (
        HANDOFF_LETTERS,
        CaseStage,
        ClosureReason,
        DayUnit,
        LetterKind,
        LetterRequest,
        Office,
    )
    from services.contracts.lifecycle.activities import issue_letter
    from workflows.case.closure import CaseClosure
    from workflows.core import WaitResult
    from workflows.texts import LETTER_TEXT


# The letters of one handoff round: the handoff letter and the rungs of its ladder.
HANDOFF_LETTER_KINDS = frozenset(kind.value for kind in HANDOFF_LETTERS)


class HandoffStage(CaseClosure):
    """Handoff to a department and its ladder of letters; a returned handoff goes back to verification."""

    async def _handoff(self) -> WaitResult | None:
        cfg = self._config.handoff
        verification = self._state.verification
        assert verification is not None and verification.department is not None
        department = verification.department
        response_deadline = await self._deadline(
            "handoff.response", self._legal_now(), cfg.response_working_days, DayUnit.WORKING
        )
        if LetterKind.HANDOFF.value not in self._state.letters:
            await self._letter(
                LetterKind.HANDOFF, department, response_deadline.due_at, response_deadline.due_date
            )
            self._progress("handed_off", f"已向 {department} 交办，答复期限 {response_deadline.due_date}")

        def answered() -> bool:
            return self._state.handoff_response is not None or self._state.handoff_return is not None

        def rung_deadline() -> str:
            rung_index = self._state.ladder_rung
            return "handoff.response" if rung_index == 0 else f"handoff.{cfg.ladder[rung_index - 1].kind.value}"

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
            if rung_index < len(cfg.ladder):
                rung = cfg.ladder[rung_index]
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
