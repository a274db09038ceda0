//! The notice for the account owner, sent through a second channel (not the account's
//! possibly compromised mailbox): what happened, what was done, what to do.
//!
//! It is built only from places, device names and times, and from which steps succeeded, and
//! never holds a secret, an operator's name, an internal id (identity, session, incident,
//! hash) or an IP address: nothing of pattern-scan (other people's data) is read, and every
//! text taken from the journal goes through [`scrub`] as a net under that.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::Value;

use super::text::{device_words, esc, md, owner_time, scrub};
use super::{Act, Scan, s};
use crate::journal::{Outcome, Record};

/// The owner's notice as data.
#[derive(Serialize)]
struct Notice {
    /// False when the journal is damaged: the notice must not be sent before it is checked.
    journal_verified: bool,
    journal_damaged_line: Option<u64>,
    subject: String,
    what_happened: Happened,
    what_was_done: Vec<String>,
    what_to_do: Vec<String>,
}

#[derive(Serialize)]
struct Happened {
    summary: String,
    /// Sign-ins and signed-in devices, as recorded: time, place and device in words.
    sign_ins: Vec<SignIn>,
    /// The old password is in the breach corpus (`None`: not checked).
    password_breached: Option<bool>,
}

#[derive(Serialize, PartialEq)]
struct SignIn {
    time: Option<String>,
    place: Option<String>,
    device: Option<String>,
    /// `flagged sign-in` (the alert the incident started from) or `signed-in device` (ended).
    kind: &'static str,
}

/// At most this many sign-ins are listed.
const SIGN_INS: usize = 10;

pub fn write(out: &mut impl Write, scan: &Scan, json: bool) -> io::Result<()> {
    let n = notice(scan);
    if json {
        serde_json::to_writer_pretty(&mut *out, &n).map_err(io::Error::other)?;
        writeln!(out)
    } else {
        markdown(out, &n)
    }
}

/// Text from the journal for the owner: scrubbed, controls escaped, kept short.
fn owner_text(s: &str, max: usize) -> Option<String> {
    let t = scrub(s.trim());
    (!t.is_empty()).then(|| esc(&crate::output::shorten(&t, max)))
}

fn notice(scan: &Scan) -> Notice {
    let mut sign_ins: Vec<SignIn> = Vec::new();
    for (_, w) in &scan.webhooks {
        let ev = &w.evidence;
        let sub = |o: &str, k: &str| ev.get(o).and_then(|x| x.get(k)).and_then(Value::as_str);
        let mut place: Vec<&str> = Vec::new();
        for k in ["city", "region", "country_code"] {
            if let Some(p) = sub("location", k).map(str::trim)
                && !p.is_empty()
                && !place.contains(&p)
            {
                place.push(p);
            }
        }
        let device = match (sub("device", "browser"), sub("device", "os")) {
            (Some(b), Some(o)) => owner_text(&format!("{} on {}", b.trim(), o.trim()), 60),
            (Some(x), None) | (None, Some(x)) => owner_text(x, 60),
            (None, None) => s(ev, "user_agent").and_then(device_words),
        };
        sign_ins.push(SignIn {
            time: s(ev, "created_at")
                .and_then(owner_time)
                .or_else(|| owner_time(&w.ts)),
            place: owner_text(&place.join(", "), 80),
            device,
            kind: "flagged sign-in",
        });
    }
    let flagged = sign_ins.len();
    for sess in &scan.sessions {
        let when = sess
            .get("authenticated_at")
            .and_then(Value::as_str)
            .and_then(owner_time);
        let devices = sess.get("devices").and_then(Value::as_array);
        for d in devices.into_iter().flatten() {
            let si = SignIn {
                time: when.clone(),
                place: d
                    .get("location")
                    .and_then(Value::as_str)
                    .and_then(|l| owner_text(l, 80)),
                device: d
                    .get("user_agent")
                    .and_then(Value::as_str)
                    .and_then(device_words),
                kind: "signed-in device",
            };
            // The same device and place once (a snapshot per step lists it again).
            if !sign_ins
                .iter()
                .any(|x| x.kind == si.kind && x.place == si.place && x.device == si.device)
            {
                sign_ins.push(si);
            }
        }
    }
    sign_ins.truncate(SIGN_INS.max(flagged));

    let breached = scan
        .hibp
        .as_ref()
        .filter(|r| r.outcome == Outcome::Ok)
        .and_then(|r| s(&r.evidence, "verdict"))
        .map(|v| v == "pwned");

    let mut summary = match sign_ins.first() {
        Some(first) if first.kind == "flagged sign-in" => {
            let mut t = String::from("Someone signed in to your account");
            if let Some(when) = &first.time {
                t = format!("On {when}, someone signed in to your account");
            }
            if let Some(p) = &first.place {
                t.push_str(&format!(" from {p}"));
            }
            if let Some(d) = &first.device {
                t.push_str(&format!(", using {d}"));
            }
            t.push_str(". Our security checks flagged it, and we believe it was not you.");
            t
        }
        _ => "We found signs that someone else had access to your account.".to_string(),
    };
    if breached == Some(true) {
        summary.push_str(
            " Your password appears in lists of passwords leaked from other websites, which attackers try on many sites.",
        );
    }

    let what_was_done = done(scan);
    let reset_by_code = ok(scan.last_change("recover"));
    let password_off =
        ok(scan.last_change("disable-password")) || restored(scan, "password_disabled") > 0;
    let mut what_to_do = vec![if reset_by_code {
        "Set a new password with the one-time recovery code we give you by phone or in person. Choose a password you have never used anywhere else.".to_string()
    } else if password_off {
        "Set a new password: choose \"Forgot password?\" on the sign-in page. Your old password no longer works; choose one you have never used anywhere else.".to_string()
    } else {
        "Change your password now, to one you have never used anywhere else.".to_string()
    }];
    what_to_do.push(format!(
        "{}If you used the same password on any other website or app, change it there too, to a different password for each. A password manager makes this easy.",
        if breached == Some(true) {
            "Your old password is known to attackers. "
        } else {
            ""
        }
    ));
    what_to_do.push(
        "Turn on two-step verification (an authenticator app or a passkey) in your account's security settings, so that a password alone is no longer enough to sign in.".into(),
    );
    what_to_do.push(
        "Check your account's details (e-mail address, phone number, connected apps) and tell us if anything looks unfamiliar.".into(),
    );
    what_to_do.push(
        "We will never ask you for your password or for a recovery code. Anyone who does is not us.".into(),
    );

    Notice {
        journal_verified: scan.verified.is_some(),
        journal_damaged_line: scan.damage.as_ref().map(|d| d.line),
        subject: "Important: someone else may have used your account".into(),
        what_happened: Happened {
            summary,
            sign_ins,
            password_breached: breached,
        },
        what_was_done,
        what_to_do,
    }
}

/// How many of a kind every `restore` did and read back (`done_kinds`: email, traits,
/// social_logins, mfa, apps, password_disabled, sessions_ended).
fn restored(scan: &Scan, kind: &str) -> u64 {
    scan.actions
        .iter()
        .filter_map(|a| match a {
            // A restore that failed in one part still records what it did and read back.
            Act::Change(_, r)
                if r.step == "restore" && matches!(r.outcome, Outcome::Ok | Outcome::Failed) =>
            {
                r.evidence
                    .get("done_kinds")
                    .and_then(|k| k.get(kind))
                    .and_then(Value::as_u64)
            }
            _ => None,
        })
        .sum()
}

fn ok(r: Option<&Record>) -> bool {
    r.is_some_and(|r| r.outcome == Outcome::Ok)
}

/// What was done, in words, from the steps that succeeded.
fn done(scan: &Scan) -> Vec<String> {
    let mut v = Vec::new();
    let line_of = |step: &str| {
        scan.actions.iter().rev().find_map(|a| match a {
            Act::Change(l, r)
                if r.step == step
                    && r.outcome == Outcome::Ok
                    && !r.evidence.contains_key("scope") =>
            {
                Some(*l)
            }
            _ => None,
        })
    };
    let revoke = scan
        .last_change("revoke")
        .filter(|r| r.outcome == Outcome::Ok);
    let lock = scan
        .last_change("lock")
        .filter(|r| r.outcome == Outcome::Ok);
    let ended = |r: &Record| r.evidence.get("sessions_ended").and_then(Value::as_u64);
    match revoke
        .and_then(ended)
        .or_else(|| lock.and_then(ended).filter(|n| *n > 0))
    {
        Some(0) => v.push("We made sure that no device is still signed in to your account.".into()),
        Some(n) => v.push(format!(
            "We signed your account out everywhere: {} ended.",
            if n == 1 {
                "the one active sign-in was".to_string()
            } else {
                format!("all {n} active sign-ins were")
            }
        )),
        None => {
            let one = scan.actions.iter().any(|a| {
                matches!(a, Act::Change(_, r) if r.step == "revoke"
                    && r.outcome == Outcome::Ok
                    && r.evidence.contains_key("scope"))
            });
            if one {
                v.push("We signed out a device that was signed in to your account.".into());
            }
        }
    }
    let apps = [revoke, lock]
        .into_iter()
        .flatten()
        .any(|r| r.evidence.get("hydra").is_some_and(|h| !h.is_null()));
    if apps {
        v.push("We also ended the access of apps you had connected to your account.".into());
    }
    if let Some(lock_line) = line_of("lock") {
        if line_of("unlock").is_some_and(|u| u > lock_line) {
            v.push("We locked your account for a while so that nobody could sign in, and unlocked it once we had reached you.".into());
        } else {
            v.push("Your account is locked for now, so that nobody can sign in. We unlock it when you are ready to set a new password.".into());
        }
    }
    let restored = |kind: &str| restored(scan, kind);
    if revoke.is_none() && restored("sessions_ended") > 0 {
        v.push("We signed your account out everywhere.".into());
    }
    if restored("email") > 0 {
        v.push("We put back the e-mail address your account had before it was changed. It shows as unconfirmed until you confirm it, and we did not send any e-mail about it.".into());
    }
    if restored("traits") > 0 {
        v.push("We put back the account details that were changed.".into());
    }
    if restored("social_logins") > 0 {
        v.push("We removed a way of signing in through another service (such as Google or Apple) that was added to your account.".into());
    }
    if restored("mfa") > 0 {
        v.push("We removed two-step verification that someone else set up on your account; set it up again yourself once you are signed in.".into());
    }
    if restored("apps") > 0 && !apps {
        v.push("We ended the access of apps that were connected to your account while someone else had access.".into());
    }
    if ok(scan.last_change("disable-password")) || restored("password_disabled") > 0 {
        v.push("Your old password no longer works: nobody can sign in with it, and you need to set a new one.".into());
    }
    if let Some(r) = scan
        .last_change("recover")
        .filter(|r| r.outcome == Outcome::Ok)
    {
        let until = s(&r.evidence, "expires_at")
            .and_then(owner_time)
            .map(|t| format!(" It is valid until {t}."))
            .unwrap_or_default();
        v.push(format!(
            "We issued a one-time recovery code for you to set a new password. We give it to you only by phone or in person, never by e-mail.{until}"
        ));
    }
    if v.is_empty() {
        v.push("We are looking into it and will contact you again through this channel.".into());
    }
    v
}

fn markdown(out: &mut impl Write, n: &Notice) -> io::Result<()> {
    if let Some(line) = n.journal_damaged_line {
        writeln!(
            out,
            "> **Do not send this notice yet:** the incident journal it was built from is damaged (line {line}). Check it with `atoctl incident verify` first.\n"
        )?;
    }
    writeln!(out, "# {}\n", md(&n.subject))?;
    writeln!(out, "## What happened\n")?;
    writeln!(out, "{}", md(&n.what_happened.summary))?;
    let flagged: Vec<&SignIn> = n
        .what_happened
        .sign_ins
        .iter()
        .filter(|s| s.kind == "flagged sign-in")
        .collect();
    let devices: Vec<&SignIn> = n
        .what_happened
        .sign_ins
        .iter()
        .filter(|s| s.kind == "signed-in device")
        .collect();
    let line = |s: &SignIn| {
        let parts: Vec<String> = [&s.time, &s.place, &s.device]
            .into_iter()
            .flatten()
            .map(|p| md(p))
            .collect();
        format!("- {}", parts.join(" — "))
    };
    if flagged.len() > 1 {
        writeln!(out, "\nThe sign-ins our security checks flagged:\n")?;
        for s in &flagged {
            writeln!(out, "{}", line(s))?;
        }
    }
    if !devices.is_empty() {
        writeln!(
            out,
            "\nThese devices were signed in to your account when we signed them out (if you do not recognise one, it was not you):\n"
        )?;
        for s in &devices {
            writeln!(out, "{}", line(s))?;
        }
    }
    writeln!(out, "\n## What we did\n")?;
    for d in &n.what_was_done {
        writeln!(out, "- {}", md(d))?;
    }
    writeln!(out, "\n## What you should do now\n")?;
    for (k, d) in n.what_to_do.iter().enumerate() {
        writeln!(out, "{}. {}", k + 1, md(d))?;
    }
    Ok(())
}
