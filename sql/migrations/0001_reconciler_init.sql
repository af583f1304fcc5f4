-- Reconciler-owned tables. Prefixed recon_ so they never collide with the app's.
-- Applied by `reconciler migrate`; `reconciler run` refuses a database whose
-- recon_schema_migrations is behind or ahead of the build.

CREATE TABLE recon_runs (
  id                  INTEGER PRIMARY KEY,
  started_at          TEXT    NOT NULL,
  finished_at         TEXT,
  window_start        INTEGER NOT NULL,     -- unix seconds, inclusive
  window_end          INTEGER NOT NULL,     -- unix seconds, exclusive
  mode                TEXT    NOT NULL CHECK (mode IN ('apply','dry_run')),
  status              TEXT    NOT NULL CHECK (status IN ('running','succeeded','failed')),
  config_hash         TEXT    NOT NULL,
  stripe_api_version  TEXT    NOT NULL,
  pages               INTEGER NOT NULL DEFAULT 0,
  objects             INTEGER NOT NULL DEFAULT 0,
  findings            INTEGER NOT NULL DEFAULT 0,
  corrections_applied INTEGER NOT NULL DEFAULT 0,
  error               TEXT
);

-- One row per fetched list page or retrieved object: the Request-Id trail
-- billing engineering hands to Stripe support.
CREATE TABLE recon_pages (
  id           INTEGER PRIMARY KEY,
  run_id       INTEGER NOT NULL REFERENCES recon_runs(id),
  resource     TEXT    NOT NULL,          -- e.g. /v1/events
  page_no      INTEGER NOT NULL,
  request_id   TEXT    NOT NULL,
  object_count INTEGER NOT NULL,
  has_more     INTEGER NOT NULL,
  fetched_at   TEXT    NOT NULL
);
CREATE INDEX recon_pages_run ON recon_pages(run_id);

-- How far each stream has been verified (unix seconds, exclusive end).
CREATE TABLE recon_checkpoints (
  stream        TEXT    PRIMARY KEY,
  covered_until INTEGER NOT NULL,
  run_id        INTEGER REFERENCES recon_runs(id),
  updated_at    TEXT    NOT NULL
);

CREATE TABLE recon_findings (
  id           INTEGER PRIMARY KEY,
  run_id       INTEGER NOT NULL REFERENCES recon_runs(id),
  kind         TEXT    NOT NULL,
  subject_type TEXT    NOT NULL,
  subject_id   TEXT    NOT NULL,
  user_id      INTEGER,
  team         TEXT    NOT NULL,
  disposition  TEXT    NOT NULL,          -- applied | already_applied | flagged | failed
  correction_id INTEGER,
  evidence     TEXT    NOT NULL CHECK (json_valid(evidence)),
  created_at   TEXT    NOT NULL
);
CREATE INDEX recon_findings_run ON recon_findings(run_id);

-- The corrections ledger. UNIQUE(stripe_object, kind) is what makes every
-- correction happen at most once, whatever windows overlap or crash.
CREATE TABLE recon_corrections (
  id              INTEGER PRIMARY KEY,
  stripe_object   TEXT    NOT NULL,
  kind            TEXT    NOT NULL,
  run_id          INTEGER REFERENCES recon_runs(id),
  user_id         INTEGER NOT NULL,
  correlation_id  TEXT    NOT NULL UNIQUE,
  credits_delta   INTEGER NOT NULL DEFAULT 0,
  tier_before     TEXT,
  tier_after      TEXT,
  credit_event_id TEXT,
  payment_recorded INTEGER NOT NULL DEFAULT 0,
  details         TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(details)),
  applied_at      TEXT    NOT NULL,
  status          TEXT    NOT NULL DEFAULT 'applied' CHECK (status IN ('applied','reverted')),
  UNIQUE (stripe_object, kind)
);

CREATE TABLE recon_escalations (
  id           INTEGER PRIMARY KEY,
  team         TEXT    NOT NULL,
  kind         TEXT    NOT NULL,
  subject      TEXT    NOT NULL,
  evidence     TEXT    NOT NULL CHECK (json_valid(evidence)),
  first_seen   TEXT    NOT NULL,
  last_seen    TEXT    NOT NULL,
  occurrences  INTEGER NOT NULL DEFAULT 1,
  status       TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open','resolved')),
  first_run_id INTEGER,
  last_run_id  INTEGER,
  UNIQUE (kind, subject)
);
