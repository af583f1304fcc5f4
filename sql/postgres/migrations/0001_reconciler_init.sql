-- The reconciler's own tables on PostgreSQL, in a schema of their own
-- (@schema@: `recon` unless configured; substituted, quoted, by migrate()).
-- The same tables, columns and keys as SQLite's (sql/migrations/0001-0003 as
-- they leave them: 0001-0005), so the ports and the docs name one schema. Times are
-- RFC 3339 UTC text as on SQLite; JSON columns are `json` (checked, and kept
-- as written: reports show them as they were recorded).
-- Applied by `reconciler migrate` in one transaction, under an advisory lock.

CREATE TABLE @schema@.recon_runs (
  id                  bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  started_at          text    NOT NULL,
  finished_at         text,
  window_start        bigint  NOT NULL,     -- unix seconds, inclusive
  window_end          bigint  NOT NULL,     -- unix seconds, exclusive
  mode                text    NOT NULL CHECK (mode IN ('apply','dry_run')),
  status              text    NOT NULL CHECK (status IN ('running','succeeded','failed','abandoned')),
  config_hash         text    NOT NULL,
  stripe_api_version  text    NOT NULL,
  pages               bigint  NOT NULL DEFAULT 0,
  objects             bigint  NOT NULL DEFAULT 0,
  findings            bigint  NOT NULL DEFAULT 0,
  corrections_applied bigint  NOT NULL DEFAULT 0,
  error               text
);

-- One row per fetched list page or retrieved object: the Request-Id trail.
CREATE TABLE @schema@.recon_pages (
  id           bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id       bigint  NOT NULL REFERENCES @schema@.recon_runs(id),
  resource     text    NOT NULL,
  page_no      bigint  NOT NULL,
  request_id   text    NOT NULL,
  object_count bigint  NOT NULL,
  has_more     integer NOT NULL,
  fetched_at   text    NOT NULL
);
CREATE INDEX recon_pages_run ON @schema@.recon_pages(run_id);

-- How far each stream has been verified (unix seconds, exclusive end).
CREATE TABLE @schema@.recon_checkpoints (
  stream        text    PRIMARY KEY,
  covered_until bigint  NOT NULL,
  run_id        bigint  REFERENCES @schema@.recon_runs(id),
  updated_at    text    NOT NULL
);

CREATE TABLE @schema@.recon_findings (
  id            bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id        bigint  NOT NULL REFERENCES @schema@.recon_runs(id),
  kind          text    NOT NULL,
  subject_type  text    NOT NULL,
  subject_id    text    NOT NULL,
  user_id       bigint,
  team          text    NOT NULL,
  disposition   text    NOT NULL,
  correction_id bigint,
  evidence      json    NOT NULL,
  created_at    text    NOT NULL
);
CREATE INDEX recon_findings_run ON @schema@.recon_findings(run_id);

-- The corrections ledger. UNIQUE(stripe_object, kind) is what makes every
-- correction happen at most once, whatever windows overlap or crash.
CREATE TABLE @schema@.recon_corrections (
  id                    bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  stripe_object         text    NOT NULL,
  kind                  text    NOT NULL,
  run_id                bigint  REFERENCES @schema@.recon_runs(id),
  user_id               bigint  NOT NULL,
  correlation_id        text    NOT NULL UNIQUE,
  credits_delta         bigint  NOT NULL DEFAULT 0,
  tier_before           text,
  tier_after            text,
  credit_event_id       text,
  payment_recorded      integer NOT NULL DEFAULT 0,
  details               json    NOT NULL DEFAULT '{}',
  applied_at            text    NOT NULL,
  status                text    NOT NULL DEFAULT 'applied' CHECK (status IN ('applied','reverted')),
  reverted_at           text,
  revert_correlation_id text,
  UNIQUE (stripe_object, kind)
);
-- The ledger counted per run (the run row's corrections_applied, abandoned runs).
CREATE INDEX recon_corrections_run ON @schema@.recon_corrections(run_id);

-- Escalations: acked while a person has one in hand; person_closes = 1:
-- only a person resolves it (docs/findings.md, "Lifecycle").
CREATE TABLE @schema@.recon_escalations (
  id            bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  team          text    NOT NULL,
  kind          text    NOT NULL,
  subject       text    NOT NULL,
  evidence      json    NOT NULL,
  subject_at    bigint  NOT NULL DEFAULT 0,
  first_seen    text    NOT NULL,
  last_seen     text    NOT NULL,
  occurrences   bigint  NOT NULL DEFAULT 1,
  status        text    NOT NULL DEFAULT 'open' CHECK (status IN ('open','watching','acked','resolved')),
  resolved_at   text,
  first_run_id  bigint,
  last_run_id   bigint,
  person_closes integer NOT NULL DEFAULT 0 CHECK (person_closes IN (0, 1)),
  acked_by      text,
  acked_at      text,
  resolved_by   text,
  UNIQUE (kind, subject)
);
CREATE INDEX recon_escalations_status ON @schema@.recon_escalations(status, first_seen, id);

-- Every change of an escalation's status, by the reconciler or a person.
CREATE TABLE @schema@.recon_escalation_history (
  id            bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  escalation_id bigint  NOT NULL REFERENCES @schema@.recon_escalations(id),
  at            text    NOT NULL,
  actor         text    NOT NULL,  -- 'reconciler' or the person's name (--by)
  action        text    NOT NULL CHECK (action IN ('opened','watching','reopened','acked','resolved')),
  from_status   text,
  to_status     text    NOT NULL,
  note          text    NOT NULL DEFAULT '',
  run_id        bigint
);
CREATE INDEX recon_escalation_history_by_escalation ON @schema@.recon_escalation_history(escalation_id, id);
