-- Synthetic security_audit for atoctl's benchmarks.
--   psql -v rows=10000000 -v identities=1000000 -v heavy=1000000 -d atoctl_bench -f benches/generate.sql
-- rows:        background events over the last 90 days
-- identities:  identity population (heavily skewed: identity n is drawn with probability ~ n^(-2/3),
--              so a few identities have ~100k events and most have a handful)
-- heavy:       events of one extra identity (00000000-0000-4000-8000-00000000b0b0) in the last 24h,
--              for audit-query's streaming benchmark
-- Also: 20 credential-stuffing IPs, each failing against 3,000 identities in the last 12h (with a
-- few successes), shared NAT addresses, IPv6, events without an identity, without or with a
-- malformed geo; and a light identity (00000000-0000-4000-8000-00000000a0a0) for the light case.
-- Deterministic (setseed). Indexes are created after the load, as `atoctl schema` would create
-- them, then the table is analyzed and vacuumed (visibility map for index-only scans).
\set ON_ERROR_STOP on
SELECT setseed(0.42);
DROP TABLE IF EXISTS security_audit;
\ir ../src/audit/schema.sql
-- keep only the table for the load; indexes come back below
DROP INDEX security_audit_identity_time, security_audit_ip_time,
           security_audit_failed_login_time, security_audit_ua_time;

CREATE TEMP TABLE ua_pool AS
SELECT i, CASE i % 5
  WHEN 0 THEN 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/' || (110 + i / 5) || '.0.0.0 Safari/537.36'
  WHEN 1 THEN 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_' || (i / 5) || ' like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1'
  WHEN 2 THEN 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.' || (i / 5) || ' Safari/605.1.15'
  WHEN 3 THEN 'Mozilla/5.0 (X11; Linux x86_64; rv:' || (115 + i / 5) || '.0) Gecko/20100101 Firefox/' || (115 + i / 5) || '.0'
  ELSE 'Mozilla/5.0 (Linux; Android 14; Pixel ' || (i / 5) || ') AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36'
END AS ua FROM generate_series(0, 49) i;

INSERT INTO security_audit (identity_id, event_type, source_ip, user_agent, created_at, metadata)
SELECT
  CASE WHEN et = 'login.failed' AND r1 < 0.05 THEN NULL ELSE md5('identity-' || n)::uuid END,
  et,
  CASE
    WHEN r2 < 0.80 THEN (CASE WHEN n % 10 = 0
                              THEN ('2001:db8:' || to_hex(n % 65536) || '::' || to_hex(n / 65536 + 1))::inet
                              ELSE ('100.' || (n / 65536) % 256 || '.' || (n / 256) % 256 || '.' || n % 256)::inet END)
    WHEN r2 < 0.95 THEN ('172.' || (16 + (r3 * 16)::int % 16) || '.' || (r3 * 65536)::int % 256 || '.' || (r3 * 16777216)::int % 256)::inet
    WHEN r2 < 0.99 THEN ('198.51.100.' || (r3 * 250)::int)::inet   -- shared NAT / corporate egress
    ELSE NULL
  END,
  CASE WHEN r4 < 0.97 THEN (SELECT array_agg(ua ORDER BY i) FROM ua_pool)[1 + (n * 7 + (r4 * 3)::int) % 50]
       WHEN r4 < 0.99 THEN 'custom-client/' || n
       ELSE NULL END,
  now() - (r5 * interval '90 days'),
  CASE
    WHEN r6 < 0.70 THEN jsonb_build_object('geo', jsonb_build_object(
        'lat', round((-60 + (n % 1200) / 10.0 + r6)::numeric, 4),
        'lon', round((-170 + (n % 3400) / 10.0 + r6)::numeric, 4),
        'country', 'C' || n % 200, 'city', 'City ' || n % 5000))
    WHEN r6 < 0.72 THEN '{"geo": "somewhere"}'::jsonb
    WHEN r6 < 0.73 THEN '{"geo": {"lat": 123.0, "lon": 500}}'::jsonb
    ELSE '{}'::jsonb
  END
FROM (
  SELECT s,
         floor(:identities * power(random(), 3))::bigint AS n,
         random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5, random() AS r6,
         (ARRAY['login.succeeded','login.succeeded','login.succeeded','login.succeeded','login.succeeded',
                'login.succeeded','login.succeeded','login.succeeded','login.succeeded',
                'login.failed','login.failed','login.failed','login.failed','login.failed','login.failed',
                'session.revoked','session.revoked','settings.changed','password.changed','mfa.enrolled'])
           [1 + floor(random() * 20)::int] AS et
  FROM generate_series(1, :rows) s
) g;

-- credential stuffing: 20 IPs x 3,000 identities, failed logins in the last 12h, 1% succeed
INSERT INTO security_audit (identity_id, event_type, source_ip, user_agent, created_at, metadata)
SELECT md5('identity-' || floor(random() * :identities)::bigint)::uuid,
       CASE WHEN random() < 0.01 THEN 'login.succeeded' ELSE 'login.failed' END,
       ('203.0.113.' || ip)::inet, 'python-requests/2.31.0',
       now() - random() * interval '12 hours', '{}'::jsonb
FROM generate_series(1, 20) ip, generate_series(1, 3000) k;

-- the heavy identity for audit-query's streaming benchmark (all in the last 24h)
INSERT INTO security_audit (identity_id, event_type, source_ip, user_agent, created_at, metadata)
SELECT '00000000-0000-4000-8000-00000000b0b0'::uuid,
       CASE WHEN k % 10 = 0 THEN 'login.failed' ELSE 'login.succeeded' END,
       ('192.0.2.' || k % 200)::inet,
       (SELECT array_agg(ua ORDER BY i) FROM ua_pool)[1 + k % 50],
       now() - (k::float8 / :heavy) * interval '23 hours',
       CASE WHEN k % 3 = 0 THEN '{}'::jsonb
            ELSE jsonb_build_object('geo', jsonb_build_object('lat', 48.85 + (k % 7) / 100.0, 'lon', 2.35, 'country', 'FR', 'city', 'Paris')) END
FROM generate_series(1, :heavy) k;

-- the light identity for the light case (one compromised identity, a 7-day window, a small
-- answer): a month of logins from its home IP, then a takeover from two new IPs 2 days before
-- the load; six other identities (and a few failed logins without one) hit from those IPs.
-- No random(): the rows above are the same with or without this block.
INSERT INTO security_audit (identity_id, event_type, source_ip, user_agent, created_at, metadata)
SELECT '00000000-0000-4000-8000-00000000a0a0'::uuid, 'login.succeeded', '100.200.0.10'::inet,
       'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15',
       now() - interval '1 day' - k * interval '12 hours',
       '{"geo": {"lat": 48.8566, "lon": 2.3522, "country": "FR", "city": "Paris"}}'::jsonb
FROM generate_series(0, 70) k;
INSERT INTO security_audit (identity_id, event_type, source_ip, user_agent, created_at, metadata)
SELECT '00000000-0000-4000-8000-00000000a0a0'::uuid, et, ip::inet, 'python-requests/2.31.0',
       now() - interval '2 days' + k * interval '2 minutes', md::jsonb
FROM (VALUES
  (0, 'login.failed', '203.0.113.101', '{}'),
  (1, 'login.failed', '203.0.113.101', '{}'),
  (2, 'login.failed', '203.0.113.101', '{}'),
  (3, 'login.succeeded', '203.0.113.101', '{"geo": {"lat": 6.5244, "lon": 3.3792, "country": "NG", "city": "Lagos"}}'),
  (4, 'settings.changed', '203.0.113.101', '{"fields": ["traits.email"], "before": {"traits.email": "owner@example.com"}, "after": {"traits.email": "x@example.net"}}'),
  (5, 'email.changed', '203.0.113.101', '{"from": "owner@example.com", "to": "x@example.net"}'),
  (6, 'password.changed', '203.0.113.101', '{}'),
  (7, 'mfa.enrolled', '203.0.113.102', '{"method": "totp"}'),
  (8, 'login.succeeded', '203.0.113.102', '{"geo": {"lat": 55.7558, "lon": 37.6173, "country": "RU", "city": "Moscow"}}')
) v(k, et, ip, md);
INSERT INTO security_audit (identity_id, event_type, source_ip, user_agent, created_at, metadata)
SELECT CASE WHEN n = 0 THEN NULL ELSE ('00000000-0000-4000-8000-00000000a0a' || n)::uuid END,
       CASE WHEN k = 3 AND n % 2 = 1 THEN 'login.succeeded' ELSE 'login.failed' END,
       ('203.0.113.' || (101 + n % 2))::inet, 'python-requests/2.31.0',
       now() - interval '3 days' + (n * 10 + k) * interval '7 minutes', '{}'::jsonb
FROM generate_series(0, 6) n, generate_series(1, 3 + n) k;

\ir ../src/audit/schema.sql
VACUUM ANALYZE security_audit;
SELECT count(*) AS rows, count(DISTINCT identity_id) AS identities FROM security_audit;
