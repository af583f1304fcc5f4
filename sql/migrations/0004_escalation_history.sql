-- Escalations people work: an 'acked' state (a person has it in hand; runs
-- keep it acked), who closes each one (person_closes = 1: only a person, the
-- reconciler never resolves it, docs/findings.md "Lifecycle"), who acked or
-- resolved it, and a history of every change (the reconciler's own opens,
-- resolves and reopens, and each person's ack and resolve).
-- (kind, subject) stays the escalation's stable key: kind || ':' || subject
-- is what a delivery outbox keys on (a PagerDuty dedup_key).

CREATE TABLE recon_escalations_v3 (
  id            INTEGER PRIMARY KEY,
  team          TEXT    NOT NULL,
  kind          TEXT    NOT NULL,
  subject       TEXT    NOT NULL,
  evidence      TEXT    NOT NULL CHECK (json_valid(evidence)),
  subject_at    INTEGER NOT NULL DEFAULT 0,
  first_seen    TEXT    NOT NULL,
  last_seen     TEXT    NOT NULL,
  occurrences   INTEGER NOT NULL DEFAULT 1,
  status        TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open','watching','acked','resolved')),
  resolved_at   TEXT,
  first_run_id  INTEGER,
  last_run_id   INTEGER,
  person_closes INTEGER NOT NULL DEFAULT 0 CHECK (person_closes IN (0, 1)),
  acked_by      TEXT,
  acked_at      TEXT,
  resolved_by   TEXT,
  UNIQUE (kind, subject)
);
INSERT INTO recon_escalations_v3(id, team, kind, subject, evidence, subject_at, first_seen, last_seen, occurrences,
                                 status, resolved_at, first_run_id, last_run_id, person_closes, resolved_by)
  SELECT id, team, kind, subject, evidence, subject_at, first_seen, last_seen, occurrences, status, resolved_at,
         first_run_id, last_run_id,
         kind IN ('paid_without_entitlement_change', 'missed_webhook', 'webhook_failed_twice',
                  'webhook_signature_failures', 'blast_radius_cap', 'unknown_price', 'billing_portal_misconfigured')
         OR (kind = 'refund_or_dispute' AND json_extract(evidence, '$.note') LIKE '%could not be taken back%'),
         CASE WHEN status = 'resolved' THEN 'reconciler' END
  FROM recon_escalations;
DROP TABLE recon_escalations;
ALTER TABLE recon_escalations_v3 RENAME TO recon_escalations;

CREATE TABLE recon_escalation_history (
  id            INTEGER PRIMARY KEY,
  escalation_id INTEGER NOT NULL REFERENCES recon_escalations(id),
  at            TEXT    NOT NULL,
  actor         TEXT    NOT NULL,  -- 'reconciler' or the person's name (--by)
  action        TEXT    NOT NULL CHECK (action IN ('opened','watching','reopened','acked','resolved')),
  from_status   TEXT,
  to_status     TEXT    NOT NULL,
  note          TEXT    NOT NULL DEFAULT '',
  run_id        INTEGER
);
CREATE INDEX recon_escalation_history_by_escalation ON recon_escalation_history(escalation_id, id);
