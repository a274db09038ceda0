//! `incident verify`: walks the whole file and checks every line against the contract.

use std::path::Path;

use serde_json::Value;

use super::{GENESIS, sha256_hex};
use crate::error::{AppError, Result};

/// A journal that passed: how many entries, which incident, and the hash of the last line
/// (worth writing down: it pins the whole history).
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifyReport {
    pub entries: u64,
    pub incident: String,
    pub head: String,
}

/// The first problem found: its 1-based line number and what is wrong with it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Damage {
    pub line: u64,
    pub reason: String,
}

/// Checks the chain and the shape of every line. `Err(Ok(damage))` is a damaged journal,
/// `Err(Err(e))` a file that cannot be read at all.
pub fn verify_file(path: &Path) -> std::result::Result<VerifyReport, Result<Damage, AppError>> {
    let data = std::fs::read(path).map_err(|e| {
        Err(AppError::usage(format!(
            "cannot read journal {}: {e}",
            path.display()
        )))
    })?;
    verify_bytes(&data).map_err(Ok)
}

pub fn verify_bytes(data: &[u8]) -> std::result::Result<VerifyReport, Damage> {
    let bad = |line: u64, reason: String| Damage { line, reason };
    if data.is_empty() {
        return Err(bad(1, "the file is empty".into()));
    }
    let mut prev = GENESIS.to_string();
    let mut incident: Option<String> = None;
    let mut count = 0u64;
    let mut rest = data;
    while !rest.is_empty() {
        let n = count + 1;
        let (line, tail) = match rest.iter().position(|b| *b == b'\n') {
            Some(p) => (&rest[..p], &rest[p + 1..]),
            None => {
                return Err(bad(
                    n,
                    "the line does not end with a newline (an interrupted write?)".into(),
                ));
            }
        };
        rest = tail;
        let v: Value =
            serde_json::from_slice(line).map_err(|e| bad(n, format!("not a JSON object: {e}")))?;
        let obj = v
            .as_object()
            .ok_or_else(|| bad(n, "not a JSON object".into()))?;
        let str_field = |k: &str| -> std::result::Result<&str, Damage> {
            obj.get(k)
                .and_then(Value::as_str)
                .ok_or_else(|| bad(n, format!("`{k}` is missing or not a string")))
        };
        let seq = obj
            .get("seq")
            .and_then(Value::as_u64)
            .ok_or_else(|| bad(n, "`seq` is missing or not a number".into()))?;
        if seq != count {
            return Err(bad(n, format!("`seq` is {seq}, expected {count}")));
        }
        let ts = str_field("ts")?;
        if ts.parse::<jiff::Timestamp>().is_err() {
            return Err(bad(n, format!("`ts` {ts:?} is not an RFC 3339 time")));
        }
        let inc = str_field("incident")?;
        match &incident {
            None => incident = Some(inc.to_string()),
            Some(first) if first != inc => {
                return Err(bad(
                    n,
                    format!("`incident` is {inc:?}, but the journal is {first:?}"),
                ));
            }
            Some(_) => {}
        }
        str_field("operator")?;
        let step = str_field("step")?;
        if count == 0 && step != "incident.open" {
            return Err(bad(
                n,
                format!("the first entry is {step:?}, not incident.open"),
            ));
        }
        match obj.get("identity") {
            Some(Value::Null) | Some(Value::String(_)) => {}
            _ => {
                return Err(bad(
                    n,
                    "`identity` is missing or not a string or null".into(),
                ));
            }
        }
        let outcome = str_field("outcome")?;
        if !matches!(outcome, "ok" | "failed" | "skipped" | "started") {
            return Err(bad(
                n,
                format!("`outcome` {outcome:?} is not ok, failed, skipped or started"),
            ));
        }
        let p = str_field("prev")?;
        if p != prev {
            return Err(bad(
                n,
                if count == 0 {
                    "`prev` of the first line is not 64 zeros".to_string()
                } else {
                    format!(
                        "`prev` does not match the SHA-256 of line {count}: the journal was altered"
                    )
                },
            ));
        }
        prev = sha256_hex(line);
        count += 1;
    }
    Ok(VerifyReport {
        entries: count,
        incident: incident.unwrap_or_default(),
        head: prev,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(seq: u64, prev: &str, step: &str) -> String {
        format!(
            r#"{{"seq":{seq},"ts":"2026-11-25T01:00:00Z","incident":"i","operator":"o","step":"{step}","identity":null,"outcome":"ok","prev":"{prev}"}}"#
        )
    }

    #[test]
    fn a_chain_of_three_verifies_and_an_edit_is_caught_on_the_next_line() {
        let l0 = line(0, GENESIS, "incident.open");
        let l1 = line(1, &sha256_hex(l0.as_bytes()), "note");
        let l2 = line(2, &sha256_hex(l1.as_bytes()), "note");
        let good = format!("{l0}\n{l1}\n{l2}\n");
        let r = verify_bytes(good.as_bytes()).unwrap();
        assert_eq!(r.entries, 3);
        assert_eq!(r.head, sha256_hex(l2.as_bytes()));

        let edited = good.replace(
            r#""step":"note","identity":null,"outcome":"ok","prev":"#,
            r#""step":"note","identity":null,"outcome":"skipped","prev":"#,
        );
        let d = verify_bytes(edited.as_bytes()).unwrap_err();
        assert_eq!(d.line, 3, "{d:?}");
    }

    #[test]
    fn a_torn_last_line_is_damage() {
        let l0 = line(0, GENESIS, "incident.open");
        let d = verify_bytes(format!("{l0}\n{{\"seq\":1").as_bytes()).unwrap_err();
        assert_eq!(d.line, 2);
    }
}
