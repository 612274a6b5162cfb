-- The intake worker's evidence sweep asks, for each old file, whether any complaint references it
-- (services/intake/sweeper.py): `evidence @> '[{"sha256": …}]'` answered from this index, not a table scan.
-- depends: 0004_rate_windows

CREATE INDEX complaints_evidence ON complaints USING gin (evidence jsonb_path_ops);
