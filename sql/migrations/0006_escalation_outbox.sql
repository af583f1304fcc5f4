-- Deliveries of escalations to the teams' pagers and channels (issue 20,
-- config escalations.routes). A row is written in the same transaction as the
-- escalation change that causes it: a trigger per route of the team when an
-- escalation opens or reopens, a resolve per route that got a trigger when it
-- is resolved. `generation` is the history row of the open (or reopen) the
-- trigger is for, and a resolve carries its trigger's: a reopen triggers
-- again, a rerun or a crash never enqueues the same one twice.
CREATE TABLE recon_escalation_outbox (
  id              INTEGER PRIMARY KEY,
  escalation_id   INTEGER NOT NULL REFERENCES recon_escalations(id),
  route           TEXT    NOT NULL,  -- "<team>/<type>", e.g. data_platform/pagerduty
  action          TEXT    NOT NULL CHECK (action IN ('trigger','resolve')),
  generation      INTEGER NOT NULL,
  created_at      TEXT    NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,  -- unix seconds
  status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sent','failed')),
  last_error      TEXT    NOT NULL DEFAULT '',
  sent_at         TEXT,
  UNIQUE (escalation_id, route, action, generation)
);
CREATE INDEX recon_escalation_outbox_due ON recon_escalation_outbox(status, next_attempt_at, id);
