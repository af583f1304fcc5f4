-- The application's own tables, as the support runbook shows them.
-- The app owns and migrates these; the reconciler only reads them and applies
-- corrections to them. This file creates them for the demo and the tests
-- (the simulator's generator and `reconciler demo-db`).
--
-- Timestamps are RFC 3339 UTC text ("2026-11-24T03:00:00Z"); amounts are in
-- the currency's minor unit, as Stripe sends them.

CREATE TABLE IF NOT EXISTS users (
  id                 INTEGER PRIMARY KEY,
  email              TEXT    NOT NULL UNIQUE,
  plan               TEXT    NOT NULL DEFAULT 'free',
  stripe_customer_id TEXT    UNIQUE,
  -- {"ai_credits": N, "credit_events": [{"id","delta","kind","reason",
  --   "source","correlation_id","at"}, ...]}; kind is grant|consume|adjust|revoke.
  plan_metadata      TEXT    NOT NULL DEFAULT '{"ai_credits":0,"credit_events":[]}'
                             CHECK (json_valid(plan_metadata)),
  created_at         TEXT    NOT NULL
);

CREATE TABLE IF NOT EXISTS payments (
  id                 INTEGER PRIMARY KEY,
  stripe_invoice_id  TEXT    NOT NULL UNIQUE,
  stripe_customer_id TEXT    NOT NULL,
  user_id            INTEGER REFERENCES users(id),
  amount             INTEGER NOT NULL,
  currency           TEXT    NOT NULL,
  status             TEXT    NOT NULL,   -- paid | refunded | disputed | failed
  paid_at            TEXT
);
CREATE INDEX IF NOT EXISTS payments_customer ON payments(stripe_customer_id);

CREATE TABLE IF NOT EXISTS ai_usage (
  id         INTEGER PRIMARY KEY,
  user_id    INTEGER NOT NULL REFERENCES users(id),
  credits    INTEGER NOT NULL,
  request_id TEXT    NOT NULL,
  created_at TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS ai_usage_user_time ON ai_usage(user_id, created_at);

CREATE TABLE IF NOT EXISTS webhook_events (
  stripe_event_id TEXT    PRIMARY KEY,
  type            TEXT    NOT NULL,
  received_at     TEXT    NOT NULL,
  status          TEXT    NOT NULL CHECK (status IN ('processed','failed','signature_failed')),
  attempts        INTEGER NOT NULL DEFAULT 1,
  last_error      TEXT
);
