-- The employer register (services/intake/employers.py): which unified social credit code an employer named
-- without one is known by, per county, so complaints naming it once by code and once by name alone meet in
-- one case (services/contracts/cases.py `identify_employer`). Learnt in the transaction of each complaint
-- that gives both name and code; linked explicitly by an inspector (a link wins over what was learnt).
-- Employers are companies: no worker's personal data here.
-- depends: 0001_complaints

CREATE TABLE employer_names (
    county_code        text        NOT NULL,
    name_key           text        NOT NULL,  -- the normalised name (domain.normalise_employer_name)
    credit_code        text        NOT NULL,
    first_complaint_id text        NOT NULL,  -- the first complaint that gave this name with this code
    first_seen         timestamptz NOT NULL,
    PRIMARY KEY (county_code, name_key, credit_code)
);

CREATE TABLE employer_links (
    county_code   text        NOT NULL,
    name_key      text        NOT NULL,
    employer_name text        NOT NULL,  -- as the inspector wrote it
    credit_code   text        NOT NULL,
    linked_by     text        NOT NULL,  -- the inspector's client id
    reason        text        NOT NULL,
    linked_at     timestamptz NOT NULL,
    PRIMARY KEY (county_code, name_key)
);
