-- The audit tables atoctl reads (../shared/atoctl-contract.md) and the indexes its queries need.
-- Idempotent: every statement is IF NOT EXISTS, so `atoctl schema | psql` can run again.
-- The EXPLAIN output that justifies each index is in docs/audit.md.

CREATE TABLE IF NOT EXISTS security_audit (
  id          bigserial   PRIMARY KEY,
  identity_id uuid,                       -- null when no identity is known (e.g. a failed login for an unknown name)
  event_type  text        NOT NULL,
  source_ip   inet,
  user_agent  text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  metadata    jsonb       NOT NULL DEFAULT '{}'::jsonb
);

-- audit-query: one identity's events in a window, newest first, read in index order (no sort);
-- the baseline IPs of the identity (new-ip) and pattern-scan's seed IPs come from the same
-- index without touching the table (index-only scan on source_ip).
CREATE INDEX IF NOT EXISTS security_audit_identity_time
  ON security_audit (identity_id, created_at, id) INCLUDE (source_ip);

-- pattern-scan: every event from the suspicious IPs in the window, aggregated per identity and
-- per IP from the index alone (index-only scan: identity and event type are included).
CREATE INDEX IF NOT EXISTS security_audit_ip_time
  ON security_audit (source_ip, created_at) INCLUDE (identity_id, event_type);

-- pattern-scan --stuffing: failed logins in the window grouped by IP, from a small partial index.
CREATE INDEX IF NOT EXISTS security_audit_failed_login_time
  ON security_audit (created_at) INCLUDE (source_ip, identity_id)
  WHERE event_type = 'login.failed';

-- pattern-scan --by ua|both: events with a given user agent. User agents are indexed by their
-- md5 because a B-tree entry must stay under ~2.7 kB and a user agent can be longer.
CREATE INDEX IF NOT EXISTS security_audit_ua_time
  ON security_audit (md5(user_agent), created_at)
  WHERE user_agent IS NOT NULL;

-- restore --identity OLD-ADDRESS: the owner knows the address the attacker changed away from,
-- which Kratos no longer has; the identity is found by the change. E-mail changes are few, so
-- the partial index is small.
CREATE INDEX IF NOT EXISTS security_audit_email_from
  ON security_audit (lower(metadata->>'from'))
  WHERE event_type = 'email.changed';

-- Applications with "this wasn't me" links for e-mail changes keep one row per change; `atoctl
-- restore --reversal-key` is the one step that writes here, in one transaction. The keys are
-- UNIQUE (a key finds its change through that index); a NULL key is one used or voided.
CREATE TABLE IF NOT EXISTS user_email_changes (
  id            bigserial   PRIMARY KEY,
  user_id       uuid        NOT NULL,       -- the Kratos identity id
  email_from    text        NOT NULL,
  email_to      text        NOT NULL,
  confirm_key   text        UNIQUE,         -- null once used or voided
  reversal_key  text        UNIQUE,         -- null once used or voided
  created_at    timestamptz NOT NULL DEFAULT now(),
  created_ip    inet,
  confirmed_at  timestamptz,
  confirmed_ip  inet,
  reversed_at   timestamptz,
  reversed_ip   inet
);

-- The reversal: every change of the user after the reversed one (their keys are voided), the
-- earliest change already reversed (it wins), and restore's changes in a window: one user's
-- changes in time order, from one index.
CREATE INDEX IF NOT EXISTS user_email_changes_user_time
  ON user_email_changes (user_id, created_at, id);

-- restore --identity OLD-ADDRESS, for applications that keep this table.
CREATE INDEX IF NOT EXISTS user_email_changes_from
  ON user_email_changes (lower(email_from));
