-- The report's figures per legal day (China Standard Time) and county, kept for past days so that a quarter
-- costs the sum of about ninety small rows instead of seven scans of its complaints, processes, payments
-- and facts (`make bench-scale`, docs/performance.md). A day is summarized the first time a report needs it
-- once it is over (services/cases/report_days.py); any write to a row that a day's figures count, or that
-- those rows depend on, removes that day's summary in the writer's transaction, so the next report counts
-- it again. The summary is therefore never more than a cache of the plain queries: exact, or absent.
--
-- Concurrency: a report summarizing days holds the exclusive advisory lock REPORT_DAYS_LOCK for its
-- transaction; every write that touches a day takes it shared before removing the summary. A summary is
-- thus computed either after a writer committed (and counts its row) or before the writer removed it.
-- depends: 0008_event_texts

-- The legal day of an instant, as `domain.Period.bounds` draws the days (UTC+8, no daylight saving).
CREATE FUNCTION report_day(at timestamptz) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ((at AT TIME ZONE 'UTC') + interval '8 hours')::date;

CREATE TABLE report_days (
    day             date PRIMARY KEY,
    summarized_at   timestamptz NOT NULL DEFAULT now()
);

-- One row per (day, figure's fact, county, detail): `detail` is the on-time flag of `resolved` ('true' or
-- 'false') and the kind of `case_fact`, '' otherwise; `value` a count, or the amount of `recovered`.
CREATE TABLE report_day_facts (
    day             date    NOT NULL REFERENCES report_days ON DELETE CASCADE,
    fact            text    NOT NULL,
    county          text    NOT NULL,
    detail          text    NOT NULL DEFAULT '',
    value           numeric NOT NULL,
    PRIMARY KEY (day, fact, county, detail)
);
CREATE INDEX report_day_facts_county ON report_day_facts (county, day);

CREATE FUNCTION report_days_forget(touched date[]) RETURNS void
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF touched IS NULL OR cardinality(touched) = 0 THEN
        RETURN;
    END IF;
    -- 7305 = REPORT_DAYS_LOCK in services/cases/report_days.py
    PERFORM pg_advisory_xact_lock_shared(7305);
    DELETE FROM report_days WHERE day = ANY (touched);
END $$;

-- complaints: received (submitted_at), accepted (decided_at), resolved (closed_at, with its process's
-- investigation_overdue), and the workers helped of its process (closed_at), which may sum its complaints.
CREATE FUNCTION report_days_complaints() RETURNS trigger
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    touched date[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT d) INTO touched FROM (
            SELECT unnest(ARRAY[report_day(r.submitted_at), report_day(r.decided_at), report_day(r.closed_at),
                                report_day(p.closed_at)]) AS d
            FROM new_rows r LEFT JOIN processes p ON p.process_case_id = r.process_case_id) x WHERE d IS NOT NULL;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT d) INTO touched FROM (
            SELECT unnest(ARRAY[report_day(r.submitted_at), report_day(r.decided_at), report_day(r.closed_at),
                                report_day(p.closed_at)]) AS d
            FROM old_rows r LEFT JOIN processes p ON p.process_case_id = r.process_case_id) x WHERE d IS NOT NULL;
    ELSE
        SELECT array_agg(DISTINCT d) INTO touched FROM (
            SELECT unnest(ARRAY[report_day(o.submitted_at), report_day(o.decided_at), report_day(o.closed_at),
                                report_day(n.submitted_at), report_day(n.decided_at), report_day(n.closed_at),
                                report_day(po.closed_at), report_day(pn.closed_at)]) AS d
            FROM old_rows o JOIN new_rows n ON n.complaint_id = o.complaint_id
            LEFT JOIN processes po ON po.process_case_id = o.process_case_id
            LEFT JOIN processes pn ON pn.process_case_id = n.process_case_id
            WHERE (o.county, o.process_case_id, o.submitted_at, o.decision, o.decided_at, o.closed_at, o.overdue,
                   o.workers_affected)
                  IS DISTINCT FROM (n.county, n.process_case_id, n.submitted_at, n.decision, n.decided_at,
                                    n.closed_at, n.overdue, n.workers_affected)) x WHERE d IS NOT NULL;
    END IF;
    PERFORM report_days_forget(touched);
    RETURN NULL;
END $$;

-- processes: confirmed (verified_at), workers helped (closed_at), and what hangs on the process: its
-- payments' amounts recovered (counted in its county) and its complaints resolved (its investigation_overdue).
CREATE FUNCTION report_days_processes() RETURNS trigger
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    touched date[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT d) INTO touched FROM (
            SELECT unnest(ARRAY[report_day(r.verified_at), report_day(r.closed_at)]) AS d FROM new_rows r
            UNION ALL
            SELECT report_day(c.closed_at) FROM complaints c JOIN new_rows r USING (process_case_id)
            UNION ALL
            SELECT report_day(y.recorded_at) FROM payments y JOIN new_rows r USING (process_case_id)) x
        WHERE d IS NOT NULL;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT d) INTO touched FROM (
            SELECT unnest(ARRAY[report_day(r.verified_at), report_day(r.closed_at)]) AS d FROM old_rows r
            UNION ALL
            SELECT report_day(c.closed_at) FROM complaints c JOIN old_rows r USING (process_case_id)
            UNION ALL
            SELECT report_day(y.recorded_at) FROM payments y JOIN old_rows r USING (process_case_id)) x
        WHERE d IS NOT NULL;
    ELSE
        WITH changed AS (
            SELECT o.process_case_id AS old_id, n.process_case_id AS new_id,
                   ARRAY[report_day(o.verified_at), report_day(o.closed_at),
                         report_day(n.verified_at), report_day(n.closed_at)] AS own
            FROM old_rows o JOIN new_rows n ON n.process_case_id = o.process_case_id
            WHERE (o.county, o.outcome, o.verified_at, o.investigation_overdue, o.closure_reason, o.closed_at,
                   o.workers_verified)
                  IS DISTINCT FROM (n.county, n.outcome, n.verified_at, n.investigation_overdue, n.closure_reason,
                                    n.closed_at, n.workers_verified))
        SELECT array_agg(DISTINCT d) INTO touched FROM (
            SELECT unnest(own) AS d FROM changed
            UNION ALL
            SELECT report_day(c.closed_at) FROM complaints c JOIN changed ON c.process_case_id = changed.new_id
            UNION ALL
            SELECT report_day(y.recorded_at) FROM payments y JOIN changed ON y.process_case_id = changed.new_id) x
        WHERE d IS NOT NULL;
    END IF;
    PERFORM report_days_forget(touched);
    RETURN NULL;
END $$;

-- payments: amounts recovered (recorded_at); case_facts: dated facts (at).
CREATE FUNCTION report_days_dated() RETURNS trigger
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    touched date[];
    column_name text := TG_ARGV[0];
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        EXECUTE format('SELECT array_agg(DISTINCT report_day(%I)) FROM new_rows', column_name) INTO touched;
        PERFORM report_days_forget(touched);
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        EXECUTE format('SELECT array_agg(DISTINCT report_day(%I)) FROM old_rows', column_name) INTO touched;
        PERFORM report_days_forget(touched);
    END IF;
    RETURN NULL;
END $$;

-- TRUNCATE fires no row or statement DELETE trigger: it forgets every day.
CREATE FUNCTION report_days_truncated() RETURNS trigger
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7305);
    DELETE FROM report_days;
    RETURN NULL;
END $$;

CREATE TRIGGER report_days_insert AFTER INSERT ON complaints REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_days_complaints();
CREATE TRIGGER report_days_update AFTER UPDATE ON complaints REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_days_complaints();
CREATE TRIGGER report_days_delete AFTER DELETE ON complaints REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_days_complaints();
CREATE TRIGGER report_days_truncate AFTER TRUNCATE ON complaints
    FOR EACH STATEMENT EXECUTE FUNCTION report_days_truncated();

CREATE TRIGGER report_days_insert AFTER INSERT ON processes REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_days_processes();
CREATE TRIGGER report_days_update AFTER UPDATE ON processes REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_days_processes();
CREATE TRIGGER report_days_delete AFTER DELETE ON processes REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_days_processes();
CREATE TRIGGER report_days_truncate AFTER TRUNCATE ON processes
    FOR EACH STATEMENT EXECUTE FUNCTION report_days_truncated();

CREATE TRIGGER report_days_insert AFTER INSERT ON payments REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_days_dated('recorded_at');
CREATE TRIGGER report_days_update AFTER UPDATE ON payments REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_days_dated('recorded_at');
CREATE TRIGGER report_days_delete AFTER DELETE ON payments REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_days_dated('recorded_at');
CREATE TRIGGER report_days_truncate AFTER TRUNCATE ON payments
    FOR EACH STATEMENT EXECUTE FUNCTION report_days_truncated();

CREATE TRIGGER report_days_insert AFTER INSERT ON case_facts REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_days_dated('at');
CREATE TRIGGER report_days_update AFTER UPDATE ON case_facts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_days_dated('at');
CREATE TRIGGER report_days_delete AFTER DELETE ON case_facts REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_days_dated('at');
CREATE TRIGGER report_days_truncate AFTER TRUNCATE ON case_facts
    FOR EACH STATEMENT EXECUTE FUNCTION report_days_truncated();
