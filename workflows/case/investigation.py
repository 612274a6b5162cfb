"""The investigation limit, watched beside every stage: warnings before it, the overdue flag and a notice to
the supervising office when it passes, and the longer limit after an approved extension (update
`approve_extension`)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.contracts.lifecycle import (
        CaseStage,
        CaseStatus,
        DayUnit,
        ExtensionApproval,
        Office,
        Status,
        Updates,
    )
    from workflows.base import refuse
    from workflows.case.closure import CaseClosure
    from workflows.core import WaitResult


class InvestigationLimit(CaseClosure):
    """The investigation limit watcher, a side task of the main loop."""

    async def _watch_investigation(self) -> None:
        cfg = self._config.investigation
        state = self._state
        assert state.opened_at is not None

        def closed() -> bool:
            return state.status is not Status.OPEN

        while not closed():
            extended = state.extension is not None
            total = cfg.limit_working_days + (cfg.extension_working_days if extended else 0)
            limit = await self._deadline(f"investigation.limit.{total}", state.opened_at, total, DayUnit.WORKING)

            def settled(extended: bool = extended) -> bool:
                return closed() or (state.extension is not None) != extended

            restart = False
            for before in cfg.warning_working_days_before:
                step = f"investigation.warning.{total}.{before}"
                if before >= total or self._is_done(step):
                    continue
                await self._deadline(step, state.opened_at, total - before, DayUnit.WORKING)
                result = await self._wait(settled, step)
                if result is not WaitResult.EXPIRED:
                    restart = True
                    break
                await self._notice(
                    Office.INSPECTOR,
                    "investigation.warning",
                    f"案件 {self._input.case_id} 距办案期限 {limit.due_date} 还有 {before} 个工作日",
                    step=step,
                    due_at=limit.due_at,
                )
                self._record("investigation.warning", f"预警：距办案期限 {limit.due_date} 还有 {before} 个工作日")
                self._mark_done(step)
            if restart:
                if closed() or self._should_continue_as_new():
                    return
                continue
            step = f"investigation.overdue.{total}"
            if not self._is_done(step):
                result = await self._wait(settled, limit.name)
                if result is WaitResult.EXPIRED:
                    state.investigation_overdue = True
                    await self._notice(
                        Office.SUPERVISING_OFFICE,
                        "investigation.overdue",
                        f"案件 {self._input.case_id} 超过办案期限 {limit.due_date} 仍未办结",
                        step=step,
                        due_at=limit.due_at,
                    )
                    self._record("investigation.overdue", f"超过办案期限 {limit.due_date} 仍未办结，标记为超期")
                    self._publish_search_attributes()
                    self._mark_done(step)
                elif closed() or self._should_continue_as_new():
                    return
                else:
                    continue
            await workflow.wait_condition(lambda: settled() or self._should_continue_as_new())
            if self._should_continue_as_new() and not settled():
                return

    # --- the extension (update) -----------------------------------------------------------------------------

    @workflow.update(name=Updates.APPROVE_EXTENSION)
    def approve_extension(self, approval: ExtensionApproval) -> CaseStatus:
        self._state.extension = approval
        days = self._config.investigation.extension_working_days
        self._record(
            "investigation.extended",
            f"办案期限延长 {days} 个工作日（{approval.approved_by} 批准）：{approval.reason}",
        )
        for name, deadline in self._state.deadlines.items():
            if name.startswith("investigation.") and deadline.outcome == "pending":
                self._supersede(name)
        return self._status()

    @approve_extension.validator
    def _validate_extension(self, approval: ExtensionApproval) -> None:
        self._require_stage("延长办案期限", *[s for s in CaseStage if s is not CaseStage.CLOSED])
        if self._state.extension is not None:
            raise refuse("办案期限已延长过一次 (the investigation limit was already extended once)")
        if self._state.investigation_overdue:
            raise refuse("办案期限已届满，延期须在届满前批准 (an extension must be approved before the limit passes)")
