-- Deliveries of escalations to the teams' pagers and channels (issue 20), as
-- SQLite's 0006_escalation_outbox.sql: written in the escalation change's own
-- transaction; `generation` is the history row of the open the trigger is
-- for (a reopen triggers again, a rerun never enqueues twice).
CREATE TABLE @schema@.recon_escalation_outbox (
  id              bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  escalation_id   bigint  NOT NULL REFERENCES @schema@.recon_escalations(id),
  route           text    NOT NULL,
  action          text    NOT NULL CHECK (action IN ('trigger','resolve')),
  generation      bigint  NOT NULL,
  created_at      text    NOT NULL,
  attempts        bigint  NOT NULL DEFAULT 0,
  next_attempt_at bigint  NOT NULL DEFAULT 0,
  status          text    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sent','failed')),
  last_error      text    NOT NULL DEFAULT '',
  sent_at         text,
  UNIQUE (escalation_id, route, action, generation)
);
CREATE INDEX recon_escalation_outbox_due ON @schema@.recon_escalation_outbox(status, next_attempt_at, id);
