-- An index on the app's users table, so that matching a Stripe customer to a
-- user by email (case-insensitively, as the runbook does) is a lookup, not a
-- scan of every user per query. Without it a run is still correct, only
-- slower: the reconciler never depends on the index being there, and the
-- app may drop it (DROP INDEX recon_users_email_nocase) if it must.
-- Named recon_ like the reconciler's tables so the app's owners can tell it apart.

CREATE INDEX IF NOT EXISTS recon_users_email_nocase ON users(email COLLATE NOCASE);
