-- A case's papers (its orders, compensation decisions and notices) found by the workflow each is about, as
-- `store.case_documents` asks for them: without these the case page read every document of every case,
-- the process reports included (one per change of every workflow).
-- depends: 0009_report_days

CREATE INDEX documents_case_workflow ON documents ((request->>'case_id'), created_at)
    WHERE kind IN ('order', 'compensation_decision');
CREATE INDEX documents_notice_subject ON documents ((request->>'subject'), created_at) WHERE kind = 'notice';
