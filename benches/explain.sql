-- The plans of atoctl's statements on the benchmark database, with the settings atoctl uses
-- (JIT off; work_mem 64MB for audit-query). Times are anchored on the data (:t, when the
-- generator ran), not on the clock.
--   psql -X -d atoctl_bench -f benches/explain.sql > benches/explain.txt
\set ON_ERROR_STOP on
SET jit = off;
SELECT date_trunc('minute', max(created_at)) + interval '1 minute' AS t FROM security_audit \gset
\echo === 1. audit-query events, an ordinary identity (10,552 events, 103 in the window): the cursor reads security_audit_identity_time backwards (no sort); new-ip is a hashed subplan over the distinct IPs of the baseline, read from the same index alone
BEGIN;
SET LOCAL work_mem = '64MB';
EXPLAIN (ANALYZE, BUFFERS, VERBOSE, COSTS OFF, TIMING OFF) DECLARE atoctl_events NO SCROLL CURSOR FOR
SELECT e.id, e.event_type, e.source_ip, e.user_agent, e.created_at, e.metadata::text,
       e.source_ip IS NOT NULL AND NOT (e.source_ip IN (
         SELECT DISTINCT b.source_ip FROM security_audit b
         WHERE b.identity_id = md5('identity-5')::uuid AND b.created_at >= :'t'::timestamptz - interval '31 days'
           AND b.created_at < :'t'::timestamptz - interval '1 day' AND b.source_ip IS NOT NULL)),
       CASE WHEN e.event_type = 'settings.changed'
         THEN jsonb_path_exists(e.metadata, '$.fields[*] ? (@ like_regex "email" flag "i")') END,
       (NULL::text[] IS NULL OR e.event_type = ANY(NULL::text[]))
FROM security_audit e
WHERE e.identity_id = md5('identity-5')::uuid
  AND e.created_at >= :'t'::timestamptz - interval '1 day' AND e.created_at < :'t'::timestamptz
  AND (NULL::text[] IS NULL OR e.event_type = ANY(NULL::text[]) OR e.metadata ? 'geo')
ORDER BY e.created_at DESC, e.id DESC;
ROLLBACK;
\echo === 2. the same cursor, the heavy identity of the benchmark (1,000,000 events in the window): still the backward index scan, no sort, no parallel workers; the baseline subplan is hashed although the planner expects about 100 k baseline IPs
BEGIN;
SET LOCAL work_mem = '64MB';
EXPLAIN (ANALYZE, BUFFERS, VERBOSE, COSTS OFF, TIMING OFF) DECLARE atoctl_events NO SCROLL CURSOR FOR
SELECT e.id, e.event_type, e.source_ip, e.user_agent, e.created_at, e.metadata::text,
       e.source_ip IS NOT NULL AND NOT (e.source_ip IN (
         SELECT DISTINCT b.source_ip FROM security_audit b
         WHERE b.identity_id = '00000000-0000-4000-8000-00000000b0b0' AND b.created_at >= :'t'::timestamptz - interval '31 days'
           AND b.created_at < :'t'::timestamptz - interval '1 day' AND b.source_ip IS NOT NULL)),
       CASE WHEN e.event_type = 'settings.changed'
         THEN jsonb_path_exists(e.metadata, '$.fields[*] ? (@ like_regex "email" flag "i")') END,
       (NULL::text[] IS NULL OR e.event_type = ANY(NULL::text[]))
FROM security_audit e
WHERE e.identity_id = '00000000-0000-4000-8000-00000000b0b0'
  AND e.created_at >= :'t'::timestamptz - interval '1 day' AND e.created_at < :'t'::timestamptz
  AND (NULL::text[] IS NULL OR e.event_type = ANY(NULL::text[]) OR e.metadata ? 'geo')
ORDER BY e.created_at DESC, e.id DESC;
ROLLBACK;
\echo === 3. audit-query, the located event before a given one (impossible travel; after a batch whose oldest located event waited through a whole batch, and at the end of the window): a short backward range scan of the same index
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) SELECT e.id, e.created_at, e.metadata::text
FROM security_audit e
WHERE e.identity_id = md5('identity-5')::uuid AND e.created_at >= :'t'::timestamptz - interval '31 days'
  AND (e.created_at, e.id) < (:'t'::timestamptz - interval '1 day', 9223372036854775807)
  AND e.metadata ? 'geo'
ORDER BY e.created_at DESC, e.id DESC
LIMIT 8;
\echo === 4. pattern-scan identities, the 20 stuffing IPs of the benchmark (security_audit_ip_time, index-only)
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) SELECT m.identity_id, array_agg(DISTINCT host(m.source_ip)), ARRAY[]::text[],
       count(*) FILTER (WHERE m.event_type = 'login.succeeded'),
       count(*) FILTER (WHERE m.event_type = 'login.failed'),
       count(*), min(m.created_at), max(m.created_at)
FROM security_audit m
WHERE m.source_ip = ANY(ARRAY['203.0.113.1','203.0.113.2','203.0.113.3','203.0.113.4','203.0.113.5',
    '203.0.113.6','203.0.113.7','203.0.113.8','203.0.113.9','203.0.113.10','203.0.113.11','203.0.113.12',
    '203.0.113.13','203.0.113.14','203.0.113.15','203.0.113.16','203.0.113.17','203.0.113.18',
    '203.0.113.19','203.0.113.20']::inet[])
  AND m.created_at >= :'t'::timestamptz - interval '1 day' AND m.created_at < :'t'::timestamptz
  AND m.identity_id IS NOT NULL
GROUP BY m.identity_id
ORDER BY 4 DESC, 5 DESC, 6 DESC, 1;
\echo === 5. pattern-scan --stuffing (security_audit_failed_login_time, partial, index-only)
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) SELECT host(e.source_ip), count(DISTINCT e.identity_id), count(*)
FROM security_audit e WHERE e.event_type = 'login.failed' AND e.created_at >= :'t'::timestamptz - interval '1 day'
  AND e.created_at < :'t'::timestamptz AND e.source_ip IS NOT NULL
GROUP BY e.source_ip HAVING count(DISTINCT e.identity_id) >= 5;
\echo === 6. pattern-scan --by ua commonness (security_audit_ua_time)
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) SELECT count(DISTINCT r.identity_id) FROM (SELECT b.identity_id FROM security_audit b
  WHERE md5(b.user_agent) = md5('python-requests/2.31.0') AND b.user_agent = 'python-requests/2.31.0'
    AND b.created_at >= :'t'::timestamptz - interval '31 days' AND b.created_at < :'t'::timestamptz - interval '1 day'
  ORDER BY b.created_at DESC LIMIT 10000) r;
