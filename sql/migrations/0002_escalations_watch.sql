-- Escalations gain the subject's time (to know which later run covers it)
-- and a "watching" state for problems escalated only on their second sighting.
-- Ledger rows can be reverted; the revert is recorded against the row.

CREATE TABLE recon_escalations_v2 (
  id           INTEGER PRIMARY KEY,
  team         TEXT    NOT NULL,
  kind         TEXT    NOT NULL,
  subject      TEXT    NOT NULL,
  evidence     TEXT    NOT NULL CHECK (json_valid(evidence)),
  subject_at   INTEGER NOT NULL DEFAULT 0,
  first_seen   TEXT    NOT NULL,
  last_seen    TEXT    NOT NULL,
  occurrences  INTEGER NOT NULL DEFAULT 1,
  status       TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open','watching','resolved')),
  resolved_at  TEXT,
  first_run_id INTEGER,
  last_run_id  INTEGER,
  UNIQUE (kind, subject)
);
INSERT INTO recon_escalations_v2(id, team, kind, subject, evidence, first_seen, last_seen, occurrences, status,
                                 first_run_id, last_run_id)
  SELECT id, team, kind, subject, evidence, first_seen, last_seen, occurrences, status, first_run_id, last_run_id
  FROM recon_escalations;
DROP TABLE recon_escalations;
ALTER TABLE recon_escalations_v2 RENAME TO recon_escalations;

ALTER TABLE recon_corrections ADD COLUMN reverted_at TEXT;
ALTER TABLE recon_corrections ADD COLUMN revert_correlation_id TEXT;
