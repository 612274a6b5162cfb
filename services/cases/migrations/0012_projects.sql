-- The monitoring service's project register as the cases service reads it from its events
-- (`project.registered`, `project.updated`): what the quarterly circular counts of each county's projects —
-- how many are under construction, how many have their dedicated wage account and their wage deposit.
-- The newest version of a project wins; an older event arriving late changes nothing.
-- depends: 0011_decisions_waiting

CREATE TABLE projects (
    project_id text PRIMARY KEY,
    county text NOT NULL,
    name text NOT NULL,
    general_contractor_credit_code text NOT NULL,
    start_date date NOT NULL,
    planned_end_date date NOT NULL,
    wage_account_opened_on date,
    deposit_status text,
    deposit_amount numeric(14, 2),
    version integer NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE INDEX projects_county_dates ON projects (county, start_date, planned_end_date);
