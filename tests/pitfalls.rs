//! One test per place where a naive runbook goes wrong (reference
//! `ory-admin-contract.md` §13 and §14), showing that atoctl gets it right. Each runs against
//! the strict Kratos double, on every flavour where the trap differs.

mod common;

use common::*;
use serde_json::{Value, json};

/// Pitfall 1: "PATCH remove /credentials/password kills the password": 400 on 1.3.x, silently
/// unchecked on current. atoctl never PATCHes credentials; the password stops working on both.
#[test]
fn pitfall_01_password_is_not_killed_by_patching_credentials() {
    for flavour in FLAVOURS {
        let env = Env::new(flavour);
        let id = victim(&env, "a@example.com", 0);
        let r = env.run(&["disable-password", "--identity", &id, "--yes"]);
        assert_eq!(r.code, 0, "{flavour:?}: {r:?}");
        assert!(env.kratos.requests().iter().all(|q| q.method != "PATCH"));
        assert!(
            env.kratos
                .requests()
                .iter()
                .all(|q| !q.path.contains("/credentials/")),
            "no DELETE of credentials either"
        );
        assert!(matches!(
            env.kratos
                .password_login("a@example.com", "correct horse battery staple"),
            LoginResult::InvalidCredentials
        ));
    }
}

/// Pitfall 2: "PATCH replace …/config/password sets a new password": Kratos never hashes through PATCH.
/// atoctl uses PUT with `credentials.password.config.password`, which Kratos hashes.
#[test]
fn pitfall_02_the_replacement_goes_through_put_and_is_stored_hashed() {
    for flavour in FLAVOURS {
        let env = Env::new(flavour);
        let id = victim(&env, "a@example.com", 0);
        assert_eq!(
            env.run(&["disable-password", "--identity", &id, "--yes"])
                .code,
            0
        );
        let put = env
            .kratos
            .requests()
            .into_iter()
            .find(|q| q.method == "PUT")
            .unwrap();
        let body: Value = serde_json::from_slice(&put.body).unwrap();
        let secret = body["credentials"]["password"]["config"]["password"]
            .as_str()
            .unwrap()
            .to_string();
        let stored = env.kratos.identity_json(&id).unwrap();
        let config = stored["credentials"]["password"]["config"].to_string();
        assert!(!config.contains(&secret), "plaintext stored");
        assert!(
            stored["credentials"]["password"]["config"]["hashed_password"]
                .as_str()
                .unwrap()
                .starts_with("$argon2id$")
        );
        assert!(matches!(
            env.kratos.password_login("a@example.com", &secret),
            LoginResult::Ok { .. }
        ));
    }
}

/// Pitfall 3: "id, stateChangedAt and credentials cannot be changed by PATCH": other credential
/// sub-paths are writable. atoctl's only PATCH is `replace /state`.
#[test]
fn pitfall_03_the_only_patch_atoctl_sends_is_the_state() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "a@example.com", 1);
    assert_eq!(env.run(&["lock", "--identity", &id, "--yes"]).code, 0);
    assert_eq!(env.run(&["unlock", "--identity", &id, "--yes"]).code, 0);
    assert_eq!(
        env.run(&["disable-password", "--identity", &id, "--yes"])
            .code,
        0
    );
    let patches: Vec<Value> = env
        .kratos
        .requests()
        .iter()
        .filter(|q| q.method == "PATCH")
        .map(|q| serde_json::from_slice(&q.body).unwrap())
        .collect();
    assert_eq!(patches.len(), 2);
    for p in patches {
        let ops = p.as_array().unwrap();
        assert_eq!(ops.len(), 1);
        assert_eq!(ops[0]["op"], "replace");
        assert_eq!(ops[0]["path"], "/state");
    }
}

/// Pitfall 4: "The admin recovery endpoint e-mails the user": it does not. atoctl says so, shows the
/// secret to the operator, reads 201 for codes and 200 for links, and records that earlier
/// codes stay valid.
#[test]
fn pitfall_04_recovery_sends_no_email_and_earlier_codes_stay_valid() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "a@example.com", 0);
    let first = env.run(&["recover", "--identity", &id, "--yes", "-o", "json"]);
    assert_eq!(first.code, 0, "{first:?}");
    assert!(first.stderr.contains("sends no e-mail"));
    let second = env.run(&[
        "recover",
        "--identity",
        &id,
        "--method",
        "link",
        "--yes",
        "-o",
        "json",
    ]);
    assert_eq!(second.code, 0, "{second:?}");
    assert!(
        second.json()["recovery_link"]
            .as_str()
            .unwrap()
            .contains("token=")
    );
    assert!(first.json()["recovery_code"].as_str().unwrap().len() == 6);
    assert!(first.stderr.contains("earlier codes stay valid"));
    assert!(second.stderr.contains("earlier links and codes stay valid"));
    let recs = env.records();
    // Each issue is a `started` mark, then the outcome.
    let recovers: Vec<&Value> = recs
        .iter()
        .filter(|r| r["step"] == "recover" && r["outcome"] == "ok")
        .collect();
    assert_eq!(recovers.len(), 2);
    assert_eq!(
        recs.iter()
            .filter(|r| r["step"] == "recover" && r["outcome"] == "started")
            .count(),
        2
    );
    assert!(
        recovers
            .iter()
            .all(|r| r["earlier_codes_remain_valid"] == json!(true))
    );
}

/// Pitfall 5: "A recovery code works for a locked account": the owner cannot finish. atoctl refuses
/// to issue one for an inactive identity and says to unlock first.
#[test]
fn pitfall_05_no_recovery_for_an_inactive_identity() {
    let env = Env::new(Flavour::V1_3);
    let id = env
        .kratos
        .add_identity(IdentitySeed::new("a@example.com").password("pw").inactive());
    let r = env.run(&["recover", "--identity", &id, "--yes"]);
    assert_eq!(r.code, 2);
    assert!(r.error_line().contains("unlock"));
    assert!(env.kratos.issued_recovery_secrets().is_empty());
}

/// Pitfall 6: "state: inactive logs the attacker out": it deletes nothing, and reactivation revives
/// every session. atoctl's lock ends the sessions; its unlock revives none.
#[test]
fn pitfall_06_lock_ends_sessions_and_unlock_revives_none() {
    for flavour in FLAVOURS {
        let env = Env::new(flavour);
        let id = victim(&env, "a@example.com", 2);
        let sids: Vec<String> = env
            .kratos
            .sessions_of(&id)
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(env.run(&["lock", "--identity", &id, "--yes"]).code, 0);
        assert!(
            env.kratos.sessions_of(&id).is_empty(),
            "inactive alone would keep them"
        );
        assert_eq!(env.run(&["unlock", "--identity", &id, "--yes"]).code, 0);
        assert!(sids.iter().all(|s| !env.kratos.whoami(s)));
    }
}

/// Pitfall 7: "DELETE …/sessions returns 204": it is 404 without sessions, and it destroys the device
/// evidence. atoctl treats "no sessions" as skipped and journals devices before deleting.
#[test]
fn pitfall_07_no_sessions_is_skipped_and_devices_are_journaled_first() {
    let env = Env::new(Flavour::Current);
    let quiet = env
        .kratos
        .add_identity(IdentitySeed::new("q@example.com").password("pw"));
    let r = env.run(&["revoke", "--identity", &quiet, "--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    let busy = victim(&env, "b@example.com", 1);
    assert_eq!(env.run(&["revoke", "--identity", &busy, "--yes"]).code, 0);
    let recs = env.records();
    let snap = recs.iter().find(|r| r["step"] == "sessions").unwrap();
    assert_eq!(
        snap["sessions"][0]["devices"][0]["ip_address"],
        "198.51.100.1"
    );
    assert_eq!(recs.iter().filter(|r| r["outcome"] == "skipped").count(), 1);
}

/// Pitfall 8: "Listing sessions of an unknown identity gives 404": it gives 200 []. A malformed UUID
/// is 404 on identity routes and 400 on session routes. atoctl validates ids itself and tells
/// an unknown identity apart with a GET of the identity.
#[test]
fn pitfall_08_unknown_identity_is_detected_although_the_listing_is_empty() {
    let env = Env::new(Flavour::Current);
    let r = env.run(&[
        "revoke",
        "--identity",
        "5f1c2a9e-0b7e-4c3d-9a51-2f6d8e4b1c07",
        "--yes",
    ]);
    assert_eq!(r.code, 3);
    let r = env.run(&["revoke", "--identity", "5f1c2a9e", "--yes"]);
    assert_eq!(r.code, 2, "malformed ids never reach Kratos");
    assert!(
        env.kratos
            .requests()
            .iter()
            .all(|q| q.path.contains("5f1c2a9e-0b7e"))
    );
}

/// Pitfall 9: "devices[] is an access history": one row per login, no timestamps, location only with
/// Cloudflare headers. atoctl records them as they are and says what they are.
#[test]
fn pitfall_09_devices_are_shown_for_what_they_are() {
    let env = Env::new(Flavour::Current);
    let id = env
        .kratos
        .add_identity(IdentitySeed::new("a@example.com").password("pw"));
    env.kratos
        .add_session(&id, SessionSeed::new().device("192.0.2.9", "curl/8.0", ""));
    let r = env.run(&["sessions", "--identity", &id]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("not per request"));
    let j = env
        .run(&["sessions", "--identity", &id, "-o", "json"])
        .json();
    assert_eq!(j["sessions"][0]["devices"][0]["location"], "");
}

/// Pitfall 10: "Follow rel=next until it disappears": an empty listing still advertises next. atoctl
/// stops on an empty page: one request.
#[test]
fn pitfall_10_an_empty_listing_ends_after_one_request() {
    let env = Env::new(Flavour::Current);
    let id = env
        .kratos
        .add_identity(IdentitySeed::new("a@example.com").password("pw"));
    let r = env.run(&["sessions", "--identity", &id]);
    assert_eq!(r.code, 0, "{r:?}");
    let listings = env
        .kratos
        .requests()
        .iter()
        .filter(|q| q.path.ends_with("/sessions"))
        .count();
    assert_eq!(listings, 1);
}

/// Pitfall 11: "PUT just the field you want to change": PUT wipes what it is not given. atoctl's PUT
/// re-sends traits, metadata and external_id exactly as read.
#[test]
fn pitfall_11_put_keeps_traits_metadata_and_external_id() {
    for flavour in FLAVOURS {
        let env = Env::new(flavour);
        let id = victim(&env, "a@example.com", 0);
        let before = env.kratos.identity_json(&id).unwrap();
        assert_eq!(
            env.run(&["disable-password", "--identity", &id, "--yes"])
                .code,
            0
        );
        let after = env.kratos.identity_json(&id).unwrap();
        for k in [
            "traits",
            "metadata_public",
            "metadata_admin",
            "external_id",
            "state",
            "schema_id",
        ] {
            assert_eq!(before[k], after[k], "{flavour:?}: {k} changed");
        }
        assert_eq!(after["metadata_admin"]["risk"], "high");
    }
}

/// Pitfall 12: "DELETE …/credentials/webauthn removes every key": it removes MFA keys only, and
/// passkeys cannot be removed. atoctl removes no second factor behind the operator's back:
/// disable-password leaves TOTP and WebAuthn as they are.
#[test]
fn pitfall_12_second_factors_are_left_alone() {
    let env = Env::new(Flavour::Current);
    let id = env.kratos.add_identity(
        IdentitySeed::new("a@example.com")
            .password("pw")
            .totp()
            .webauthn_mfa(),
    );
    let before = env.kratos.identity_json(&id).unwrap();
    let r = env.run(&["disable-password", "--identity", &id, "--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("still enrolled: totp, webauthn"),
        "{}",
        r.stderr
    );
    let after = env.kratos.identity_json(&id).unwrap();
    for t in ["totp", "webauthn"] {
        assert_eq!(
            before["credentials"][t]["config"], after["credentials"][t]["config"],
            "{t}"
        );
    }
    let last = env.records().pop().unwrap();
    let types: Vec<&str> = last["credential_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(types.contains(&"totp") && types.contains(&"webauthn"));
}

/// Pitfall 13: "Revoking Kratos sessions ends all access": Hydra tokens survive. With Hydra
/// configured atoctl revokes consents with `subject&all=true` (never `subject` alone, a 400);
/// without it, it says so.
#[test]
fn pitfall_13_oauth2_access_is_revoked_or_named() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "a@example.com", 1);
    env.kratos.add_consent(&id, "client-a");
    let r = env.run_with_hydra(&["lock", "--identity", &id, "--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(env.kratos.consents_of(&id), 0);
    let consent_deletes: Vec<_> = env
        .kratos
        .requests()
        .into_iter()
        .filter(|q| q.method == "DELETE" && q.path.ends_with("/sessions/consent"))
        .collect();
    assert_eq!(consent_deletes.len(), 1);
    assert!(
        consent_deletes[0]
            .query
            .as_deref()
            .unwrap_or_default()
            .contains("all=true")
    );
    let other = victim(&env, "b@example.com", 1);
    let r = env.run(&["revoke", "--identity", &other, "--yes"]);
    assert!(r.stderr.contains("OAuth2 tokens"));
}

/// Pitfall 14: "The spec's status list is complete": DELETE /admin/sessions/{id} can be 404, link
/// recovery for an unknown identity is 400. atoctl maps both to "does not exist".
#[test]
fn pitfall_14_statuses_the_spec_omits_are_understood() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "a@example.com", 1);
    let sid = env.kratos.sessions_of(&id)[0].id.clone();
    env.kratos
        .inject(Fault::new(FaultKind::Status(404)).on("DELETE", "/admin/sessions/"));
    let r = env.run(&["revoke", "--session", &sid, "--yes"]);
    assert_eq!(r.code, 3, "{r:?}");
    env.kratos.inject(
        Fault::new(FaultKind::Raw {
            status: 400,
            content_type: "application/json".into(),
            body: json!({"error": {"code": 400, "message": "The request was malformed or contained invalid parameters", "reason": "The requested identity id does not exist."}}).to_string(),
        })
        .on("POST", "/admin/recovery/link"),
    );
    let r = env.run(&["recover", "--identity", &id, "--method", "link", "--yes"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(
        env.kratos.requests().iter().all(|q| !q
            .query
            .clone()
            .unwrap_or_default()
            .contains("profile"))
    );
}

/// Pitfall 15: "Fire the remediation calls in parallel": Ory Network answers 429 to concurrent
/// writes on one identity. atoctl sends them one after another, and retries a 429 honouring
/// x-ratelimit-reset.
#[test]
fn pitfall_15_writes_to_one_identity_never_overlap() {
    let env = Env::with_config(Config {
        inflight_limit: true,
        latency: std::time::Duration::from_millis(20),
        ..Config::default()
    });
    let id = victim(&env, "a@example.com", 3);
    assert_eq!(env.run(&["lock", "--identity", &id, "--yes"]).code, 0);
    let ids: Vec<String> = (0..12)
        .map(|i| victim(&env, &format!("b{i}@example.com"), 1))
        .collect();
    let r = env.run_stdin(
        &["revoke", "--stdin", "--yes", "--concurrency", "8"],
        &ids.join("\n"),
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        env.kratos.requests().iter().all(|q| q.status != 429),
        "a write overlapped"
    );
}

/// Pitfall 16: "Auth is `Authorization: <key>`": Ory Network wants `Bearer` and a project key.
#[test]
fn pitfall_16_bearer_and_a_project_key() {
    let env = Env::with_config(Config {
        require_token: Some("ory_pat_k".into()),
        ..Config::default()
    });
    let id = victim(&env, "a@example.com", 0);
    let ok =
        run(env
            .cmd()
            .env("KRATOS_ADMIN_TOKEN", "ory_pat_k")
            .args(["sessions", "--identity", &id]));
    assert_eq!(ok.code, 0, "{ok:?}");
    assert!(
        env.kratos
            .requests()
            .iter()
            .all(|q| q.header("authorization") == Some("Bearer ory_pat_k"))
    );
    let wak =
        run(env
            .cmd()
            .env("KRATOS_ADMIN_TOKEN", "ory_wak_k")
            .args(["sessions", "--identity", &id]));
    assert_eq!(wak.code, 1);
    assert!(wak.error_line().contains("workspace key"));
}

/// Pitfall 17: "Use include_credential=password to inspect": it returns the hash, oidc returns
/// tokens. atoctl asks for `password` only to learn whether a hash exists, never for oidc,
/// and the hash shows nowhere.
#[test]
fn pitfall_17_credentials_are_requested_only_to_learn_a_hash_exists() {
    let env = Env::new(Flavour::Current);
    let id = env.kratos.add_identity(
        IdentitySeed::new("a@example.com")
            .password("pw")
            .oidc("google", "sub-1"),
    );
    let hash = env.kratos.identity_json(&id).unwrap()["credentials"]["password"]["config"]["hashed_password"]
        .as_str()
        .unwrap()
        .to_string();
    for args in [
        vec!["sessions", "--identity", &id],
        vec!["lock", "--identity", &id, "--yes"],
        vec!["disable-password", "--identity", &id, "--yes"],
    ] {
        let r = env.run(&args);
        assert_eq!(r.code, 0, "{args:?} {r:?}");
        assert_nowhere(&env, &r, &hash, "the password hash");
    }
    for q in env.kratos.requests() {
        let query = q.query.unwrap_or_default();
        assert!(!query.contains("include_credential=oidc"));
        if query.contains("include_credential") {
            assert_eq!(query, "include_credential=password");
        }
    }
}

/// Pitfall 18: "Changing the e-mail trait notifies the user / keeps the old address verified":
/// admin trait changes send nothing and reset verification. atoctl never edits traits:
/// addresses and their verification survive every step.
#[test]
fn pitfall_18_traits_and_verified_addresses_are_never_edited() {
    let env = Env::new(Flavour::Current);
    let id = victim(&env, "a@example.com", 1);
    let before = env.kratos.identity_json(&id).unwrap();
    for args in [
        vec!["lock", "--identity", &id, "--yes"],
        vec!["unlock", "--identity", &id, "--yes"],
        vec!["disable-password", "--identity", &id, "--yes"],
        vec!["recover", "--identity", &id, "--yes"],
    ] {
        assert_eq!(env.run(&args).code, 0, "{args:?}");
    }
    let after = env.kratos.identity_json(&id).unwrap();
    assert_eq!(before["traits"], after["traits"]);
    // What the addresses say must not change (Kratos may touch their updated_at).
    for k in ["verifiable_addresses", "recovery_addresses"] {
        let strip = |v: &Value| -> Vec<Value> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    let mut a = a.clone();
                    a.as_object_mut().unwrap().remove("updated_at");
                    a
                })
                .collect()
        };
        assert_eq!(strip(&before[k]), strip(&after[k]), "{k}");
    }
    assert_eq!(after["verifiable_addresses"][0]["verified"], true);
}

/// Pitfall 19: Session pages overlap: following next returns the first page twice. atoctl lists all
/// 1,300 sessions into the evidence before revoking.
#[test]
fn pitfall_19_every_session_is_in_the_evidence_despite_overlapping_pages() {
    for flavour in FLAVOURS {
        let env = Env::new(flavour);
        let id = env
            .kratos
            .add_identity(IdentitySeed::new("a@example.com").password("pw"));
        for _ in 0..1300 {
            env.kratos.add_session(&id, SessionSeed::new());
        }
        let r = env.run(&["revoke", "--identity", &id, "--yes"]);
        assert_eq!(r.code, 0, "{r:?}");
        let snap = env
            .records()
            .into_iter()
            .find(|r| r["step"] == "sessions")
            .unwrap();
        assert_eq!(
            snap["sessions"].as_array().unwrap().len(),
            1300,
            "{flavour:?}"
        );
        assert_eq!(snap["complete"], true);
    }
}

/// Pitfall 20: An OIDC-only identity still has a password credential (without a hash). atoctl
/// decides by the hash, skips, and adds no password.
#[test]
fn pitfall_20_an_empty_password_credential_is_not_a_password() {
    let env = Env::new(Flavour::Current);
    let id = env
        .kratos
        .add_identity(IdentitySeed::new("a@example.com").oidc("github", "9"));
    let r = env.run(&["disable-password", "--identity", &id, "--yes", "-o", "json"]);
    assert_eq!(r.code, 0);
    assert_eq!(r.json()["result"], "skipped");
    assert!(env.kratos.requests().iter().all(|q| q.method == "GET"));
}
