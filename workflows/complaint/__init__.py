"""One complaint, from receipt to call-back (workflow id `complaint:<complaint id>`).

Each worker's complaint has its own acceptance (5 working days, reminder, escalation), notifications and
call-back. Once accepted it joins its case (`case:<case id>`, signal-with-start through an activity); the
case workflow investigates on behalf of all its complaints and reports each milestone back, which this
workflow tells the complainant.

One module per part, each a group of methods of `ComplaintWorkflow` (a mixin over the shared base):

- `workflow`: the class itself, its main loop, the complainant's withdrawal and the status query;
- `acceptance`: the acceptance decision and its timers, more information;
- `follow_up`: the complaint in its case, closure, the call-back, the messages to the complainant;
- `views`: the case it follows, the two-year limit, the `status` answer and the search attributes;
- `state`: `ComplaintState`, what a new run resumes from.
"""

from __future__ import annotations

from workflows.complaint.workflow import ComplaintWorkflow

__all__ = ["ComplaintWorkflow"]
