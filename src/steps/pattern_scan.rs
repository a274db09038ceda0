//! `pattern-scan`: who else was hit from the same IPs (or with the same rare user agents).
//!
//! In one read-only snapshot: the credential-stuffing IPs (with `--stuffing`), the target's new
//! IPs, the user agents seen from the suspicious IPs with how common each was before (with
//! `--by ua|both`), the statistics of each suspicious IP, and finally every other identity with
//! events from them, aggregated in PostgreSQL and streamed. atoctl never pulls the table over.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;

use futures::StreamExt;
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::audit::{self, ReadTx, Window, db, queries};
use crate::cli::{BlocklistFormat, OutputFormat, PatternScanArgs, ScanBy};
use crate::context::Ctx;
use crate::error::{AppError, Exit, Result};
use crate::journal::{Entry, Outcome};
use crate::output;

/// At most this many stuffing IPs are taken.
const STUFFING_LIMIT: i64 = 10_000;
/// A user agent's commonness is judged on at most this many of its latest baseline events.
const UA_SAMPLE: i64 = 10_000;
/// At most this many distinct user agents are taken from the suspicious IPs.
const UA_LIMIT: i64 = 1_000;
/// At most this many identity ids go into the journal entry (the count is always exact).
const JOURNAL_IDS_CAP: usize = 10_000;

/// A suspicious IP and why.
#[derive(Debug, Clone)]
struct Seed {
    ip: String,
    why: Vec<&'static str>,
}

#[derive(Debug, Clone)]
struct Agent {
    user_agent: String,
    baseline_identities: i64,
}

pub async fn run(ctx: &Ctx, a: &PatternScanArgs) -> Result<Exit> {
    let target = match &a.identity {
        Some(r) => Some(super::life::identity_id(ctx, r).await?.id.to_string()),
        None => None,
    };
    let mut given: Vec<String> = Vec::new();
    for ip in &a.ips {
        let ip = audit::check_ip(ip)?;
        if !given.contains(&ip) {
            given.push(ip);
        }
    }
    let window = Window::resolve(
        Timestamp::now(),
        a.since.as_deref(),
        None,
        None,
        &a.baseline,
    )?;
    if a.blocklist.is_some() && ctx.output == OutputFormat::Ids {
        return Err(AppError::usage(
            "--blocklist and -o ids both want stdout; pick one",
        ));
    }
    let by = queries::Match {
        ip: a.by != ScanBy::Ua,
        ua: a.by != ScanBy::Ip,
    };

    if ctx.dry_run() {
        return dry_run(ctx, a, target.as_deref(), &given, &window, by);
    }
    let db_target = audit::target(ctx)?;
    let journal = ctx.journal_if_set(target.as_deref(), "pattern-scan")?;
    let incident = journal.as_ref().map(|j| j.incident().to_string());
    let base = Entry::new("pattern-scan", target.as_deref(), Outcome::Ok)
        .with("window", window.json())
        .with("by", format!("{:?}", a.by).to_lowercase())
        .with("given_ips", &given)
        .with("stuffing", a.stuffing)
        .with("database", &db_target.shown);
    let result = scan(
        ctx,
        a,
        &db_target,
        target.as_deref(),
        &given,
        &window,
        by,
        incident,
    )
    .await;
    match result {
        Ok(found) => {
            if let Some(j) = &journal {
                j.append([base
                    .with(
                        "ips",
                        found
                            .seeds
                            .iter()
                            .map(|s| json!({"ip": s.ip, "why": s.why}))
                            .collect::<Vec<_>>(),
                    )
                    .with(
                        "user_agents",
                        found
                            .agents
                            .iter()
                            .map(|x| &x.user_agent)
                            .collect::<Vec<_>>(),
                    )
                    .with(
                        "ignored_user_agents",
                        found
                            .ignored
                            .iter()
                            .map(|x| &x.user_agent)
                            .collect::<Vec<_>>(),
                    )
                    .with("ip_stats", &found.ip_stats)
                    .with("identities", &found.ids)
                    .with("identities_truncated", found.ids_truncated)
                    .with("counts", found.counts())])?;
            }
            Ok(Exit::Ok)
        }
        Err(e) => {
            if let Some(j) = &journal {
                let mut entry = base.with("error", e.line_plain());
                entry.outcome = Outcome::Failed;
                if let Err(je) = j.append([entry]) {
                    output::warn(&format!(
                        "could not record the failure: {}",
                        je.line_plain()
                    ));
                }
            }
            Err(e)
        }
    }
}

fn dry_run(
    ctx: &Ctx,
    a: &PatternScanArgs,
    target: Option<&str>,
    given: &[String],
    w: &Window,
    by: queries::Match,
) -> Result<Exit> {
    let mut qs = Vec::new();
    let mut ips: Vec<String> = given.to_vec();
    if a.stuffing {
        qs.push(queries::stuffing(
            w,
            a.min_identities.into(),
            STUFFING_LIMIT,
        ));
        ips.push("<stuffing IPs from the query above>".into());
    }
    if let Some(t) = target {
        qs.push(queries::new_ips(t, w));
        ips.push("<the target's new IPs>".into());
    }
    let mut agents = Vec::new();
    if by.ua {
        qs.push(queries::agents(&ips, target, w, UA_SAMPLE, UA_LIMIT));
        agents.push("<the user agents above used by fewer identities than --ua-common>".into());
    }
    qs.push(queries::ip_stats(&ips, w));
    qs.push(queries::identities(&ips, &agents, by, target, w));
    audit::print_plan(
        ctx,
        "pattern-scan",
        &qs,
        &["values in <angle brackets> come from the answers of the statements before".into()],
    )?;
    Ok(Exit::Ok)
}

/// What the scan found; bounded (identity ids are capped for the journal, counts are exact).
#[derive(Default)]
struct Found {
    seeds: Vec<Seed>,
    agents: Vec<Agent>,
    ignored: Vec<Agent>,
    ip_stats: Vec<Value>,
    stuffing: Vec<Value>,
    ids: Vec<String>,
    ids_truncated: bool,
    identities: u64,
    with_success: u64,
    output_closed: bool,
}

impl Found {
    fn counts(&self) -> Value {
        json!({
            "suspicious_ips": self.seeds.len(),
            "user_agents": self.agents.len(),
            "ignored_user_agents": self.ignored.len(),
            "stuffing_ips": self.stuffing.len(),
            "identities": self.identities,
            "identities_with_successful_login": self.with_success,
        })
    }
}

#[allow(clippy::too_many_arguments)]
async fn scan(
    ctx: &Ctx,
    a: &PatternScanArgs,
    db_target: &audit::Target,
    target: Option<&str>,
    given: &[String],
    w: &Window,
    by: queries::Match,
    incident: Option<String>,
) -> Result<Found> {
    let tx = ReadTx::open(db_target, ctx.timeout).await?;
    let mut found = Found::default();
    let mut seeds: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut add = |ip: String, why: &'static str, order: &mut Vec<String>| {
        let e = seeds.entry(ip.clone()).or_default();
        if e.is_empty() {
            order.push(ip);
        }
        if !e.contains(&why) {
            e.push(why);
        }
    };
    for ip in given {
        add(ip.clone(), "given", &mut order);
    }
    if a.stuffing {
        for row in tx
            .all(&queries::stuffing(
                w,
                a.min_identities.into(),
                STUFFING_LIMIT,
            ))
            .await?
        {
            let Some(ip) = db::text(&row, 0)? else {
                continue;
            };
            found.stuffing.push(json!({
                "ip": ip,
                "identities": db::get::<i64>(&row, 1)?,
                "failed_logins": db::get::<i64>(&row, 2)?,
                "failed_without_identity": db::get::<i64>(&row, 3)?,
                "first": audit::time_text(db::get::<db::Micros>(&row, 4)?.0),
                "last": audit::time_text(db::get::<db::Micros>(&row, 5)?.0),
            }));
            add(ip, "stuffing", &mut order);
        }
    }
    if let Some(t) = target {
        for row in tx.all(&queries::new_ips(t, w)).await? {
            if let Some(ip) = db::text(&row, 0)? {
                add(ip, "new-ip", &mut order);
            }
        }
    }
    found.seeds = order
        .iter()
        .map(|ip| Seed {
            ip: ip.clone(),
            why: seeds.get(ip).cloned().unwrap_or_default(),
        })
        .collect();
    let ips: Vec<String> = order.clone();

    if by.ua && !ips.is_empty() {
        for row in tx
            .all(&queries::agents(&ips, target, w, UA_SAMPLE, UA_LIMIT))
            .await?
        {
            let Some(ua) = db::text(&row, 0)? else {
                continue;
            };
            let agent = Agent {
                user_agent: ua,
                baseline_identities: db::get(&row, 1)?,
            };
            if agent.baseline_identities >= i64::from(a.ua_common) {
                found.ignored.push(agent);
            } else {
                found.agents.push(agent);
            }
        }
        for ig in &found.ignored {
            output::warn(&format!(
                "ignoring user agent {:?}: {}{} identities used it in the baseline period, it identifies nobody",
                output::shorten(&audit::printable(&ig.user_agent), 60),
                ig.baseline_identities,
                if ig.baseline_identities >= UA_SAMPLE {
                    "+"
                } else {
                    ""
                }
            ));
        }
    }

    // The statistics and the identities go out together, with the end of the transaction
    // behind them: one round trip for the rest of the scan.
    let agent_list: Vec<String> = found.agents.iter().map(|x| x.user_agent.clone()).collect();
    let search = (by.ip && !ips.is_empty()) || (by.ua && !agent_list.is_empty());
    let mut stats = None;
    if !ips.is_empty() {
        stats = Some(tx.send(&queries::ip_stats(&ips, w)).await);
    }
    let mut others = None;
    if search {
        let q = queries::identities(&ips, &agent_list, by, target, w);
        others = Some(tx.send(&q).await);
    }
    tx.end_after().await;

    if let Some(stats) = stats {
        for row in tx.read_all(stats).await? {
            found.ip_stats.push(json!({
                "ip": db::text(&row, 0)?,
                "events": db::get::<i64>(&row, 1)?,
                "identities": db::get::<i64>(&row, 2)?,
                "logins_succeeded": db::get::<i64>(&row, 3)?,
                "logins_failed": db::get::<i64>(&row, 4)?,
                "events_without_identity": db::get::<i64>(&row, 5)?,
                "first": audit::time_text(db::get::<db::Micros>(&row, 6)?.0),
                "last": audit::time_text(db::get::<db::Micros>(&row, 7)?.0),
            }));
        }
    }

    let mut out = BufWriter::with_capacity(64 * 1024, crate::output::results());
    let mode = if let Some(f) = a.blocklist {
        Mode::Blocklist(f)
    } else {
        match ctx.output {
            OutputFormat::Ids => Mode::Ids,
            OutputFormat::Json => Mode::Json,
            OutputFormat::Table => Mode::Table,
        }
    };
    let colour = console::colors_enabled() && crate::output::results_is_terminal();
    head(&mut out, mode, target, w, &found, by).map_err(out_err)?;

    if let Some(others) = others {
        let rows = tx.read(others).await?;
        futures::pin_mut!(rows);
        let mut first = true;
        while let Some(row) = rows.next().await {
            let row = row?;
            let id = db::get::<uuid::Uuid>(&row, 0)?.to_string();
            let shared_ips: Vec<String> =
                db::get::<Option<Vec<String>>>(&row, 1)?.unwrap_or_default();
            let shared_agents: Vec<Option<db::Lossy>> =
                db::get::<Option<Vec<Option<db::Lossy>>>>(&row, 2)?.unwrap_or_default();
            let shared_agents: Vec<String> =
                shared_agents.into_iter().flatten().map(|l| l.0).collect();
            let ok: i64 = db::get(&row, 3)?;
            let failed: i64 = db::get(&row, 4)?;
            let events: i64 = db::get(&row, 5)?;
            let first_at = db::get::<db::Micros>(&row, 6)?.0;
            let last_at = db::get::<db::Micros>(&row, 7)?.0;
            found.identities += 1;
            if ok > 0 {
                found.with_success += 1;
            }
            if found.ids.len() < JOURNAL_IDS_CAP {
                found.ids.push(id.clone());
            } else {
                found.ids_truncated = true;
            }
            let written = match mode {
                Mode::Blocklist(_) => Ok(()),
                Mode::Ids => writeln!(out, "{id}"),
                Mode::Json => {
                    let sep: &[u8] = if first { b"\n" } else { b",\n" };
                    first = false;
                    out.write_all(sep).and_then(|()| {
                        let row = IdentityRow {
                            events,
                            first: audit::time_text(first_at),
                            identity: &id,
                            last: audit::time_text(last_at),
                            logins_failed: failed,
                            logins_succeeded: ok,
                            shared_ips: &shared_ips,
                            shared_user_agents: &shared_agents,
                        };
                        serde_json::to_writer(&mut out, &row).map_err(io::Error::from)
                    })
                }
                Mode::Table => {
                    let mut shared: Vec<String> = shared_ips.clone();
                    shared.extend(
                        shared_agents
                            .iter()
                            .map(|u| format!("ua:{}", output::shorten(&audit::printable(u), 40))),
                    );
                    let line = format!(
                        "{} {:<36}  {:>6}  {:>6}  {:>7}  {:<19}  {:<19}  {}",
                        if ok > 0 { '!' } else { ' ' },
                        id,
                        ok,
                        failed,
                        events,
                        audit::short_time(first_at),
                        audit::short_time(last_at),
                        output::shorten(&shared.join(" "), 80)
                    );
                    if ok > 0 && colour {
                        writeln!(out, "{}", console::style(line).red().bold())
                    } else {
                        writeln!(out, "{line}")
                    }
                }
            };
            if let Err(e) = written {
                if e.kind() == io::ErrorKind::BrokenPipe {
                    found.output_closed = true;
                    break;
                }
                return Err(out_err(e));
            }
        }
    }
    tx.finish().await?;
    if !found.output_closed
        && let Err(e) = tail(&mut out, mode, &found, incident.as_deref())
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        return Err(out_err(e));
    }
    if matches!(mode, Mode::Blocklist(_) | Mode::Ids) {
        output::note(&format!(
            "{} suspicious IP(s), {} other identit{} found ({} with a successful login)",
            found.seeds.len(),
            found.identities,
            if found.identities == 1 { "y" } else { "ies" },
            found.with_success
        ));
    }
    Ok(found)
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    Table,
    Json,
    Ids,
    Blocklist(BlocklistFormat),
}

/// One identity of `-o json`. The keys are declared in the order serde_json's maps give the
/// rest of the document (sorted).
#[derive(serde::Serialize)]
struct IdentityRow<'a> {
    events: i64,
    first: String,
    identity: &'a str,
    last: String,
    logins_failed: i64,
    logins_succeeded: i64,
    shared_ips: &'a [String],
    shared_user_agents: &'a [String],
}

fn out_err(e: io::Error) -> AppError {
    AppError::failed(format!("cannot write to stdout: {e}"))
}

/// Everything before the identity rows.
fn head(
    out: &mut impl Write,
    mode: Mode,
    target: Option<&str>,
    w: &Window,
    f: &Found,
    by: queries::Match,
) -> io::Result<()> {
    match mode {
        Mode::Ids | Mode::Blocklist(_) => Ok(()),
        Mode::Json => {
            let seeds: Vec<Value> = f
                .seeds
                .iter()
                .map(|s| json!({"ip": s.ip, "why": s.why}))
                .collect();
            let agents = |list: &[Agent]| -> Vec<Value> {
                list.iter()
                    .map(|x| json!({"user_agent": x.user_agent, "baseline_identities": x.baseline_identities}))
                    .collect()
            };
            write!(
                out,
                "{{\"target\":{},\"window\":{},\"by\":{},\"suspicious_ips\":{},\"user_agents\":{},\"ignored_user_agents\":{},\"stuffing\":{},\"ip_stats\":{},\"identities\":[",
                json!(target),
                w.json(),
                json!(match (by.ip, by.ua) {
                    (true, true) => "both",
                    (false, true) => "ua",
                    _ => "ip",
                }),
                Value::Array(seeds),
                Value::Array(agents(&f.agents)),
                Value::Array(agents(&f.ignored)),
                Value::Array(f.stuffing.clone()),
                Value::Array(f.ip_stats.clone()),
            )
        }
        Mode::Table => {
            writeln!(
                out,
                "window {} .. {} (UTC){}",
                w.from.strftime("%Y-%m-%d %H:%M:%S"),
                w.to.strftime("%Y-%m-%d %H:%M:%S"),
                target.map(|t| format!("; target {t}")).unwrap_or_default()
            )?;
            if !f.stuffing.is_empty() {
                let mut t = output::table([
                    "STUFFING IP",
                    "IDENTITIES",
                    "FAILED",
                    "NO IDENTITY",
                    "FIRST",
                    "LAST",
                ]);
                for s in &f.stuffing {
                    t.add_row(vec![
                        s["ip"].as_str().unwrap_or("-").to_string(),
                        s["identities"].to_string(),
                        s["failed_logins"].to_string(),
                        s["failed_without_identity"].to_string(),
                        s["first"]
                            .as_str()
                            .map(|x| x.get(..19).unwrap_or(x).replace('T', " "))
                            .unwrap_or_default(),
                        s["last"]
                            .as_str()
                            .map(|x| x.get(..19).unwrap_or(x).replace('T', " "))
                            .unwrap_or_default(),
                    ]);
                }
                writeln!(out, "{t}")?;
            }
            if f.seeds.is_empty() {
                writeln!(
                    out,
                    "no suspicious IPs: the target used no new IP in the window and no --ip was given"
                )?;
            } else {
                let mut t = output::table([
                    "SUSPICIOUS IP",
                    "WHY",
                    "EVENTS",
                    "IDENTITIES",
                    "LOGINS OK",
                    "FAILED",
                    "NO IDENTITY",
                ]);
                for s in &f.seeds {
                    let st = f.ip_stats.iter().find(|x| x["ip"].as_str() == Some(&s.ip));
                    let n = |k: &str| st.map(|x| x[k].to_string()).unwrap_or_else(|| "0".into());
                    t.add_row(vec![
                        s.ip.clone(),
                        s.why.join(","),
                        n("events"),
                        n("identities"),
                        n("logins_succeeded"),
                        n("logins_failed"),
                        n("events_without_identity"),
                    ]);
                }
                writeln!(out, "{t}")?;
            }
            for x in &f.agents {
                writeln!(
                    out,
                    "user agent (used by {} identities in the baseline): {}",
                    x.baseline_identities,
                    output::shorten(&audit::printable(&x.user_agent), 100)
                )?;
            }
            writeln!(
                out,
                "\n  {:<36}  {:>6}  {:>6}  {:>7}  {:<19}  {:<19}  SHARED",
                "OTHER IDENTITY", "OK", "FAILED", "EVENTS", "FIRST", "LAST"
            )
        }
    }
}

/// Everything after the identity rows.
fn tail(out: &mut impl Write, mode: Mode, f: &Found, incident: Option<&str>) -> io::Result<()> {
    match mode {
        Mode::Ids => {}
        Mode::Json => {
            write!(out, "\n],\"counts\":{}}}\n", f.counts())?;
        }
        Mode::Table => {
            writeln!(
                out,
                "{} other identit{} found, {} with a successful login (marked !)",
                f.identities,
                if f.identities == 1 { "y" } else { "ies" },
                f.with_success
            )?;
        }
        Mode::Blocklist(format) => {
            let ips: Vec<IpAddr> = f.seeds.iter().filter_map(|s| s.ip.parse().ok()).collect();
            if ips.is_empty() {
                output::warn("no offending IPs: the block list is empty");
            }
            let comment = match incident {
                Some(i) => format!("atoctl {i} pattern-scan"),
                None => format!(
                    "atoctl pattern-scan {}",
                    Timestamp::now().strftime("%Y-%m-%d")
                ),
            };
            out.write_all(blocklist(format, &ips, &comment).as_bytes())?;
        }
    }
    out.flush()
}

/// Renders a block list. Cloudflare's IP lists take IPv6 only as CIDR ranges no narrower than
/// /64, so an IPv6 address becomes its /64 (de-duplicated); the others take addresses as they
/// are.
pub fn blocklist(format: BlocklistFormat, ips: &[IpAddr], comment: &str) -> String {
    match format {
        BlocklistFormat::Plain => ips.iter().map(|ip| format!("{ip}\n")).collect(),
        BlocklistFormat::Nginx => {
            let mut s = format!("# {comment}\n");
            for ip in ips {
                s.push_str(&format!("deny {ip};\n"));
            }
            s
        }
        BlocklistFormat::Caddy => {
            if ips.is_empty() {
                return String::new();
            }
            let list: Vec<String> = ips.iter().map(IpAddr::to_string).collect();
            format!(
                "# {comment}\n@atoctl_blocked remote_ip {}\nrespond @atoctl_blocked 403\n",
                list.join(" ")
            )
        }
        BlocklistFormat::Cloudflare => {
            let mut items: Vec<String> = Vec::new();
            for ip in ips {
                let item = match ip {
                    IpAddr::V4(v4) => v4.to_string(),
                    IpAddr::V6(v6) => {
                        let s = v6.segments();
                        let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                        format!("{net}/64")
                    }
                };
                if !items.contains(&item) {
                    items.push(item);
                }
            }
            let body: Vec<Value> = items
                .into_iter()
                .map(|ip| json!({"ip": ip, "comment": comment}))
                .collect();
            let mut s = serde_json::to_string_pretty(&body).unwrap_or_else(|_| "[]".into());
            s.push('\n');
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips() -> Vec<IpAddr> {
        [
            "203.0.113.7",
            "2001:db8:1:2:3:4:5:6",
            "2001:db8:1:2::9",
            "198.51.100.1",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect()
    }

    #[test]
    fn plain_and_nginx_lists() {
        assert_eq!(
            blocklist(BlocklistFormat::Plain, &ips()[..1], "c"),
            "203.0.113.7\n"
        );
        let n = blocklist(BlocklistFormat::Nginx, &ips(), "atoctl x pattern-scan");
        assert!(n.starts_with("# atoctl x pattern-scan\n"));
        assert!(n.contains("deny 203.0.113.7;\ndeny 2001:db8:1:2:3:4:5:6;\n"));
    }

    #[test]
    fn caddy_matcher_names_every_address() {
        let c = blocklist(BlocklistFormat::Caddy, &ips(), "c");
        assert!(c.contains(
            "@atoctl_blocked remote_ip 203.0.113.7 2001:db8:1:2:3:4:5:6 2001:db8:1:2::9 198.51.100.1\n"
        ));
        assert!(c.contains("respond @atoctl_blocked 403"));
        assert_eq!(blocklist(BlocklistFormat::Caddy, &[], "c"), "");
    }

    #[test]
    fn cloudflare_takes_ipv6_as_one_slash_64() {
        let v: Value = serde_json::from_str(&blocklist(
            BlocklistFormat::Cloudflare,
            &ips(),
            "atoctl i pattern-scan",
        ))
        .unwrap();
        assert_eq!(
            v,
            json!([
                {"ip": "203.0.113.7", "comment": "atoctl i pattern-scan"},
                {"ip": "2001:db8:1:2::/64", "comment": "atoctl i pattern-scan"},
                {"ip": "198.51.100.1", "comment": "atoctl i pattern-scan"},
            ])
        );
    }
}
