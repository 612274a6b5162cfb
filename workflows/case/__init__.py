"""One case — the complaints against one employer on one project (workflow id `case:<case id>`).

Started by the first accepted complaint through signal-with-start (`complaint_joined`), or by the cases worker
for a case opened on a project's early warning (its origin in the input, no member yet); later complaints
join by the same signal. Workers and amounts are summed here, so the order to pay and the criminal
threshold are judged on the whole case. Each milestone is reported to every member complaint, whose own
workflow tells its complainant.

Stages: verification → (handoff with its ladder | order: service → payment → refusal) → closed, with the
investigation limit (60 working days from acceptance, +30 with approval) watched alongside all of them.

One module per part, each a group of methods of `CaseWorkflow` (a mixin over the shared base):

- `workflow`: the class itself, its main loop, its member complaints' signals and the query;
- `verification`, `handoff`, `order` (service and payment), `refusal`: the stages, each with the updates it
  answers (the outcome; the department's answer or return; service and payments); `referral_approval` (the
  report and the decision) and `paid_after_refusal` (the police's decision, the withdrawal, the inspector's
  closure) inside the refusal; `growth` and `merge`: a case that grows, a case merged away;
  `guarantee_payout`: a refused case's workers paid from the wage deposit or the emergency fund;
- `investigation`: the investigation limit, watched beside every stage, and its extension;
- `closure`: closing, the current stage (and the stage an update needs), progress to the member complaints,
  referrals;
- `views`: the sums over the members, the `status` answer and the search attributes;
- `state`: `CaseState`, what a new run resumes from.
"""

from __future__ import annotations

from workflows.case.workflow import CaseWorkflow

__all__ = ["CaseWorkflow"]
