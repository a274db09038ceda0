\echo === 1. audit-query events (security_audit_identity_time; new-ip hashed subplan index-only)
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) SELECT e.id, e.event_type, host(e.source_ip), e.user_agent, e.metadata::text,
  e.source_ip IS NOT NULL AND NOT (e.source_ip IN (SELECT b.source_ip FROM security_audit b WHERE b.identity_id = md5('identity-5')::uuid AND b.created_at >= now() - interval '31 days' AND b.created_at < now() - interval '1 day' AND b.source_ip IS NOT NULL))
FROM security_audit e WHERE e.identity_id = md5('identity-5')::uuid AND e.created_at >= now() - interval '1 day' AND e.created_at < now()
ORDER BY e.created_at DESC, e.id DESC;
\echo === 2. pattern-scan identities (security_audit_ip_time, index-only)
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) SELECT m.identity_id, array_agg(DISTINCT host(m.source_ip)), count(*) FILTER (WHERE m.event_type = 'login.succeeded'), count(*)
FROM security_audit m WHERE m.source_ip = ANY(ARRAY['203.0.113.1','203.0.113.2','198.51.100.7']::inet[]) AND m.created_at >= now() - interval '1 day' AND m.identity_id IS NOT NULL
GROUP BY m.identity_id;
\echo === 3. pattern-scan --stuffing (security_audit_failed_login_time, partial, index-only)
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) SELECT host(e.source_ip), count(DISTINCT e.identity_id), count(*)
FROM security_audit e WHERE e.event_type = 'login.failed' AND e.created_at >= now() - interval '1 day' AND e.source_ip IS NOT NULL
GROUP BY e.source_ip HAVING count(DISTINCT e.identity_id) >= 5;
\echo === 4. pattern-scan --by ua commonness (security_audit_ua_time)
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) SELECT count(DISTINCT r.identity_id) FROM (SELECT b.identity_id FROM security_audit b
  WHERE md5(b.user_agent) = md5('python-requests/2.31.0') AND b.user_agent = 'python-requests/2.31.0'
    AND b.created_at >= now() - interval '31 days' AND b.created_at < now() - interval '1 day' ORDER BY b.created_at DESC LIMIT 10000) r;
