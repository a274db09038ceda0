//! atoctl reads every identity body recorded by Kratos's own tests
//! (`../shared/reference/kratos-snapshots/`), loses nothing of it, and writes back exactly what
//! it read when it builds the `disable-password` PUT.

use std::collections::BTreeMap;
use std::path::PathBuf;

use atoctl::kratos::{Credential, Identity};
use atoctl::plan::put_body;
use serde_json::Value;

fn snapshot_dir() -> Option<PathBuf> {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/kratos-snapshots");
    dir.is_dir().then_some(dir)
}

#[derive(Debug, PartialEq)]
enum Kind {
    Identity,
    CredentialsMap,
    Credential,
    ConfigString,
    UiNode,
}

fn classify(v: &Value) -> Option<Kind> {
    match v {
        Value::String(_) => Some(Kind::ConfigString),
        Value::Object(o) => {
            if o.contains_key("group") && o.contains_key("attributes") {
                Some(Kind::UiNode)
            } else if ["schema_id", "traits", "state", "credentials"]
                .iter()
                .any(|k| o.contains_key(*k))
            {
                Some(Kind::Identity)
            } else if o.contains_key("type") {
                Some(Kind::Credential)
            } else if !o.is_empty() && o.values().all(|c| c.get("type").is_some()) {
                Some(Kind::CredentialsMap)
            } else {
                None
            }
        }
        _ => None,
    }
}

#[test]
fn every_snapshot_is_read_by_atoctls_models_and_round_trips_without_loss() {
    let Some(dir) = snapshot_dir() else {
        eprintln!("../shared/reference/kratos-snapshots is not beside this checkout: skipped");
        return;
    };
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        files += 1;
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let raw: Value = serde_json::from_slice(&std::fs::read(&path).unwrap())
            .unwrap_or_else(|e| panic!("{name}: not JSON: {e}"));
        let kind = classify(&raw).unwrap_or_else(|| panic!("{name}: unknown shape"));
        *counts.entry(format!("{kind:?}")).or_default() += 1;
        match kind {
            Kind::Identity => {
                let id: Identity = serde_json::from_value(raw.clone())
                    .unwrap_or_else(|e| panic!("{name}: Identity model: {e}"));
                assert_eq!(
                    serde_json::to_value(&id).unwrap(),
                    raw,
                    "{name}: lost in round trip"
                );
                // Everything PUT replaces wholesale is sent back as read.
                let body = put_body(&id);
                for key in ["traits", "metadata_public", "metadata_admin"] {
                    if let Some(v) = raw.get(key) {
                        assert_eq!(
                            body.get(key),
                            Some(v),
                            "{name}: {key} not sent back as read"
                        );
                    }
                }
                // external_id is sent back when it is a string; a null is left out (the
                // OpenAPI document types it as a string, and leaving it out is what a null
                // means to PUT).
                match raw.get("external_id") {
                    Some(v @ Value::String(_)) => {
                        assert_eq!(body.get("external_id"), Some(v), "{name}: external_id")
                    }
                    _ => assert_eq!(body.get("external_id"), None, "{name}: external_id"),
                }
                for key in ["schema_id", "state"] {
                    assert_eq!(body.get(key), raw.get(key), "{name}: {key}");
                }
                // Only the password is written; other credentials are left to Kratos's merge.
                let creds = body["credentials"].as_object().unwrap();
                assert_eq!(creds.keys().collect::<Vec<_>>(), ["password"], "{name}");
                // The Debug view never shows a credential config.
                let dbg = format!("{id:?}");
                assert!(
                    !dbg.contains("hashed_password") && !dbg.contains("\"secret\""),
                    "{name}"
                );
            }
            Kind::CredentialsMap => {
                let m: BTreeMap<String, Credential> = serde_json::from_value(raw.clone())
                    .unwrap_or_else(|e| panic!("{name}: credentials map: {e}"));
                assert_eq!(serde_json::to_value(&m).unwrap(), raw, "{name}");
            }
            Kind::Credential => {
                let c: Credential = serde_json::from_value(raw.clone())
                    .unwrap_or_else(|e| panic!("{name}: Credential model: {e}"));
                assert_eq!(serde_json::to_value(&c).unwrap(), raw, "{name}");
            }
            Kind::ConfigString => {
                // A credential config stored as a JSON string (OIDC providers with tokens).
                let inner: Value = serde_json::from_str(raw.as_str().unwrap())
                    .unwrap_or_else(|e| panic!("{name}: inner config: {e}"));
                let c: Credential = serde_json::from_value(serde_json::json!({
                    "type": "oidc", "config": inner.clone()
                }))
                .unwrap();
                assert_eq!(c.config.as_ref(), Some(&inner));
            }
            Kind::UiNode => {
                // A self-service UI node, not an admin API body: atoctl never reads UI nodes.
                assert_eq!(name, "TestToNode.json");
            }
        }
    }
    assert!(
        files >= 100,
        "expected the full snapshot set, found {files}"
    );
    assert!(
        counts.get("Identity").copied().unwrap_or(0) >= 40,
        "{counts:?}"
    );
    eprintln!("read {files} snapshots: {counts:?}");
}
