-- A run killed mid-way (SIGKILL, OOM, power) never reaches finish_run and
-- stayed 'running' forever. The next run, once it holds the run lock (so no
-- other run is alive on this database), marks such rows 'abandoned' with what
-- they committed, counted from the ledger. SQLite cannot alter a CHECK: the
-- table is rebuilt with its ids and data (migrate() runs this with foreign
-- keys off, as SQLite's table-rebuild procedure requires, and checks them after).

CREATE TABLE recon_runs_v2 (
  id                  INTEGER PRIMARY KEY,
  started_at          TEXT    NOT NULL,
  finished_at         TEXT,
  window_start        INTEGER NOT NULL,     -- unix seconds, inclusive
  window_end          INTEGER NOT NULL,     -- unix seconds, exclusive
  mode                TEXT    NOT NULL CHECK (mode IN ('apply','dry_run')),
  status              TEXT    NOT NULL CHECK (status IN ('running','succeeded','failed','abandoned')),
  config_hash         TEXT    NOT NULL,
  stripe_api_version  TEXT    NOT NULL,
  pages               INTEGER NOT NULL DEFAULT 0,
  objects             INTEGER NOT NULL DEFAULT 0,
  findings            INTEGER NOT NULL DEFAULT 0,
  corrections_applied INTEGER NOT NULL DEFAULT 0,
  error               TEXT
);
INSERT INTO recon_runs_v2(id, started_at, finished_at, window_start, window_end, mode, status, config_hash,
                          stripe_api_version, pages, objects, findings, corrections_applied, error)
  SELECT id, started_at, finished_at, window_start, window_end, mode, status, config_hash,
         stripe_api_version, pages, objects, findings, corrections_applied, error
  FROM recon_runs;
DROP TABLE recon_runs;
ALTER TABLE recon_runs_v2 RENAME TO recon_runs;

-- The ledger counted per run (the run row's corrections_applied, abandoned runs).
CREATE INDEX IF NOT EXISTS recon_corrections_run ON recon_corrections(run_id);
