//! The Kratos/Hydra double behaves like the reference says, quirks included.

mod common;

use std::time::Duration;

use atoctl_testkit::kratos::{
    Config, Fault, FaultKind, Flavour, IdentitySeed, KratosDouble, LOOKUP_SECRET_CODES,
    LoginResult, RateBudget, SessionSeed,
};
use base64::Engine;
use common::{Api, Resp};
use serde_json::{Value, json};

fn start(config: Config) -> (KratosDouble, Api) {
    let d = KratosDouble::start(config);
    let api = Api::new(d.url());
    (d, api)
}

fn current() -> (KratosDouble, Api) {
    start(Config::default())
}

fn v13() -> (KratosDouble, Api) {
    start(Config {
        flavour: Flavour::V1_3,
        ..Config::default()
    })
}

/// The servers as they are, without the OpenAPI gateway: their own 400s and clamping.
fn bare() -> (KratosDouble, Api) {
    start(Config {
        validate_requests: false,
        ..Config::default()
    })
}

/// The OpenAPI documents are beside the checkout (CI always has them).
fn documents_present() -> bool {
    std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../../shared/reference/kratos-admin-openapi.json"
    ))
    .exists()
}

fn assert_herodot(r: &Resp, code: u16) {
    assert_eq!(r.status, code, "body: {}", String::from_utf8_lossy(&r.body));
    assert!(
        r.header("content-type")
            .unwrap_or_default()
            .starts_with("application/json")
    );
    let v = r.json();
    assert_eq!(v["error"]["code"], json!(code));
    assert!(v["error"]["status"].is_string());
    assert!(v["error"]["message"].is_string());
}

/// Extracts the `page_token` of a `rel` from a Link header.
fn link_token(link: &str, rel: &str) -> Option<String> {
    let part = link
        .split(',')
        .find(|p| p.contains(&format!("rel=\"{rel}\"")))?;
    let url = &part[part.find('<')? + 1..part.find('>')?];
    let q = url.split_once('?')?.1;
    q.split('&')
        .find_map(|kv| kv.strip_prefix("page_token="))
        .map(|t| t.replace("%3D", "="))
}

fn offset_token(offset: u64) -> String {
    base64::engine::general_purpose::URL_SAFE.encode(format!(r#"{{"offset":"{offset}","v":2}}"#))
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

// ---------------------------------------------------------------- general

#[tokio::test]
async fn version_health_routing() {
    let (_d, api) = current();
    assert_eq!(
        api.get("/admin/version").await.json(),
        json!({"version": "v26.2.0"})
    );
    assert_eq!(
        api.get("/health/alive").await.json(),
        json!({"status": "ok"})
    );
    assert_eq!(
        api.get("/health/ready").await.json(),
        json!({"status": "ok"})
    );
    // Self-hosted: paths without /admin are rewritten (§0).
    assert_eq!(
        api.get("/version").await.json(),
        json!({"version": "v26.2.0"})
    );
    assert_herodot(&api.get("/admin/nope").await, 404);
    assert_herodot(
        &api.send("POST", "/admin/identities/x/sessions", None, None)
            .await,
        405,
    );
    let (_d13, api13) = v13();
    assert_eq!(
        api13.get("/admin/version").await.json(),
        json!({"version": "v1.3.1"})
    );
}

#[test]
fn works_from_a_plain_test_without_a_runtime() {
    use std::io::{Read, Write};
    let d = KratosDouble::start(Config::default());
    let addr = d.url().trim_start_matches("http://").to_string();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(b"GET /admin/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(out.contains("v26.2.0"));
}

#[tokio::test]
async fn records_requests_in_order() {
    let (d, api) = current();
    let id = d.add_identity(IdentitySeed::new("a@example.com"));
    api.get(&format!("/admin/identities/{id}?include_credential=oidc"))
        .await;
    api.json("PATCH", &format!("/admin/identities/{id}"), &json!([]))
        .await;
    let r = d.requests();
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].method, "GET");
    assert_eq!(r[0].path, format!("/admin/identities/{id}"));
    assert_eq!(r[0].query.as_deref(), Some("include_credential=oidc"));
    assert_eq!(r[0].status, 200);
    assert_eq!(r[1].method, "PATCH");
    assert_eq!(r[1].body, b"[]");
    assert_eq!(r[1].header("Content-Type"), Some("application/json"));
    d.clear_requests();
    assert!(d.requests().is_empty());
}

// ---------------------------------------------------------------- GET identity (§2)

#[tokio::test]
async fn get_identity() {
    let (d, api) = current();
    let id = d.add_identity(
        IdentitySeed::new("Alice@Example.com")
            .password("pw")
            .metadata_admin(json!({"note": "vip"}))
            .external_id("ext-1"),
    );
    let r = api.get(&format!("/admin/identities/{id}")).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["id"], json!(id));
    assert_eq!(v["schema_id"], json!("default"));
    assert!(
        v["schema_url"]
            .as_str()
            .unwrap()
            .ends_with("/schemas/ZGVmYXVsdA")
    );
    assert_eq!(v["state"], json!("active"));
    assert!(v["state_changed_at"].is_string());
    assert_eq!(v["metadata_admin"], json!({"note": "vip"}));
    assert_eq!(v["metadata_public"], Value::Null);
    assert_eq!(v["organization_id"], Value::Null);
    assert_eq!(v["external_id"], json!("ext-1"));
    assert_eq!(
        v["verifiable_addresses"][0]["value"],
        json!("alice@example.com")
    );
    assert_eq!(v["recovery_addresses"][0]["via"], json!("email"));
    let pw = &v["credentials"]["password"];
    assert_eq!(pw["identifiers"], json!(["alice@example.com"]));
    assert!(
        pw.get("config").is_none(),
        "no config without include_credential"
    );

    let r = api
        .get(&format!(
            "/admin/identities/{id}?include_credential=password&include_credential=oidc"
        ))
        .await;
    let hash = r.json()["credentials"]["password"]["config"]["hashed_password"].clone();
    assert!(hash.as_str().unwrap().starts_with("$argon2id$"));

    for bad in ["profile", "identifier_first", "nope"] {
        let r = api
            .get(&format!("/admin/identities/{id}?include_credential={bad}"))
            .await;
        assert_herodot(&r, 400);
    }
    let r = api
        .get(&format!("/admin/identities/{}", uuid::Uuid::new_v4()))
        .await;
    assert_herodot(&r, 404);
    assert_eq!(r.message(), "Unable to locate the resource");
    // Malformed ids are 404 on identity routes (§0).
    let r = api.get("/admin/identities/not-a-uuid").await;
    assert_herodot(&r, 404);
    assert_eq!(r.message(), "Unable to locate the resource");
}

#[tokio::test]
async fn oidc_only_identity_has_an_empty_password_credential() {
    let (d, api) = current();
    let id = d.add_identity(IdentitySeed::new("o@example.com").oidc("google", "123"));
    let v = api
        .get(&format!(
            "/admin/identities/{id}?include_credential=password&include_credential=oidc"
        ))
        .await
        .json();
    assert_eq!(
        v["credentials"]["password"]["identifiers"],
        json!(["o@example.com"])
    );
    assert_eq!(v["credentials"]["password"]["config"], json!({}));
    assert_eq!(
        v["credentials"]["oidc"]["identifiers"],
        json!(["google:123"])
    );
    assert_eq!(
        v["credentials"]["oidc"]["config"]["providers"][0]["subject"],
        json!("123")
    );
}

#[tokio::test]
async fn credentials_identifier_lookup() {
    let (d, api) = current();
    let id = d.add_identity(IdentitySeed::new("find@example.com"));
    let v = api
        .get("/admin/identities?credentials_identifier=FIND%40example.com")
        .await
        .json();
    assert_eq!(ids(&v), vec![id]);
    let v = api
        .get("/admin/identities?credentials_identifier=none%40example.com")
        .await
        .json();
    assert_eq!(v, json!([]));
}

// ---------------------------------------------------------------- session listing (§3)

#[tokio::test]
async fn list_sessions_basics() {
    let (d, api) = current();
    let id = d.add_identity(IdentitySeed::new("s@example.com").metadata_admin(json!({"m": 1})));
    let s_active = d.add_session(&id, SessionSeed::new());
    let s_revoked = d.add_session(&id, SessionSeed::new().revoked());
    let s_expired = d.add_session(&id, SessionSeed::new().expired().no_devices());

    let r = api.get(&format!("/admin/identities/{id}/sessions")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-total-count").as_deref(), Some("3"));
    let v = r.json();
    // created_at DESC.
    assert_eq!(
        ids(&v),
        vec![s_expired.clone(), s_revoked.clone(), s_active.clone()]
    );
    let a = &v[2];
    assert_eq!(a["active"], json!(true));
    assert_eq!(a["authenticator_assurance_level"], json!("aal1"));
    assert_eq!(a["authentication_methods"][0]["method"], json!("password"));
    assert_eq!(a["identity"]["id"], json!(id));
    assert_eq!(a["identity"]["metadata_admin"], json!({"m": 1}));
    assert!(a["identity"].get("credentials").is_none());
    assert!(a.get("created_at").is_none());
    assert_eq!(a["devices"][0]["ip_address"], json!("203.0.113.7"));
    assert_eq!(a["devices"][0]["location"], json!("Sydney, AU"));
    assert!(a["devices"][0]["id"].is_string());
    assert_eq!(v[0]["devices"], json!([]));

    let v = api
        .get(&format!("/admin/identities/{id}/sessions?active=true"))
        .await
        .json();
    assert_eq!(ids(&v), vec![s_active.clone()]);
    let v = api
        .get(&format!("/admin/identities/{id}/sessions?active=false"))
        .await
        .json();
    assert_eq!(ids(&v), vec![s_expired, s_revoked]);
    // `active` must be a boolean: the OpenAPI gateway refuses "yes", and so does the bare
    // server, in its own words.
    let r = api
        .get(&format!("/admin/identities/{id}/sessions?active=yes"))
        .await;
    assert_herodot(&r, 400);
    assert!(r.message().contains("'active'"), "{}", r.message());
    let (bare_d, bare_api) = bare();
    let bare_id = bare_d.add_identity(IdentitySeed::new("s@example.com"));
    let r = bare_api
        .get(&format!("/admin/identities/{bare_id}/sessions?active=yes"))
        .await;
    assert_herodot(&r, 400);
    assert_eq!(r.message(), "could not parse parameter active");

    // Malformed id: 400 on session routes; unknown identity: 200 [] (§0, §3).
    assert_herodot(&api.get("/admin/identities/garbage/sessions").await, 400);
    let r = api
        .get(&format!(
            "/admin/identities/{}/sessions",
            uuid::Uuid::new_v4()
        ))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!([]));
}

#[tokio::test]
async fn empty_listing_still_advertises_next_and_small_listing_only_first() {
    let (d, api) = current();
    let id = d.add_identity(IdentitySeed::new("e@example.com"));
    let r = api
        .get(&format!("/admin/identities/{id}/sessions?page_size=500"))
        .await;
    assert_eq!(r.header("x-total-count").as_deref(), Some("0"));
    let link = r.header("link").unwrap();
    for rel in ["first", "next", "prev"] {
        assert!(link.contains(&format!("rel=\"{rel}\"")), "{link}");
    }
    d.add_session(&id, SessionSeed::new());
    let r = api
        .get(&format!("/admin/identities/{id}/sessions?page_size=500"))
        .await;
    let link = r.header("link").unwrap();
    assert_eq!(link.matches("rel=").count(), 1, "{link}");
    assert!(link.contains("rel=\"first\""));
}

#[tokio::test]
async fn following_next_returns_the_first_page_twice() {
    let (d, api) = current();
    let id = d.add_identity(IdentitySeed::new("p@example.com"));
    for _ in 0..5 {
        d.add_session(&id, SessionSeed::new());
    }
    let all = ids(&api
        .get(&format!("/admin/identities/{id}/sessions"))
        .await
        .json());
    assert_eq!(all.len(), 5);

    let r = api
        .get(&format!("/admin/identities/{id}/sessions?page_size=2"))
        .await;
    assert_eq!(r.header("x-total-count").as_deref(), Some("5"));
    let first = ids(&r.json());
    assert_eq!(first, all[0..2]);
    let link = r.header("link").unwrap();
    let next = link_token(&link, "next").expect("next link");
    // ory/x writes tokens without padding (`RawURLEncoding`).
    assert_eq!(
        next,
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"offset":"2","v":2}"#)
    );

    // rel=next (offset 2) → handler page 1 → storage page 1: the first page again (§14.19).
    let r = api
        .get(&format!(
            "/admin/identities/{id}/sessions?page_size=2&page_token={}",
            next.replace('=', "%3D")
        ))
        .await;
    assert_eq!(ids(&r.json()), all[0..2]);
    // Offset 4 → page 2 → the second page (items 2..4); the last item is never reachable
    // this way with page_size 2 except at offset 6.
    let r = api
        .get(&format!(
            "/admin/identities/{id}/sessions?page_size=2&page_token={}",
            offset_token(4)
        ))
        .await;
    assert_eq!(ids(&r.json()), all[2..4]);
    // Unpadded tokens are accepted too; garbage is offset 0.
    let unpadded = offset_token(6).trim_end_matches('=').to_string();
    let r = api
        .get(&format!(
            "/admin/identities/{id}/sessions?page_size=2&page_token={unpadded}"
        ))
        .await;
    assert_eq!(ids(&r.json()), all[4..5]);
    let r = api
        .get(&format!(
            "/admin/identities/{id}/sessions?page_size=2&page_token=%%%"
        ))
        .await;
    assert_eq!(ids(&r.json()), all[0..2]);
    // Deprecated page/per_page: page 0 and 1 are both the first page.
    let r = api
        .get(&format!(
            "/admin/identities/{id}/sessions?page=1&per_page=2"
        ))
        .await;
    assert_eq!(ids(&r.json()), all[0..2]);
    let r = api
        .get(&format!(
            "/admin/identities/{id}/sessions?page=2&per_page=2"
        ))
        .await;
    assert_eq!(ids(&r.json()), all[2..4]);
    // Links are relative to the request URL and keep its other parameters (x.PaginationHeader).
    let r = api
        .get(&format!(
            "/admin/identities/{id}/sessions?active=1&page_size=2"
        ))
        .await;
    assert_eq!(ids(&r.json()), all[0..2]);
    let link = r.header("link").unwrap();
    assert!(
        link.starts_with(&format!(
            "</admin/identities/{id}/sessions?active=1&page=1&page_size=2&page_token="
        )),
        "{link}"
    );
    assert!(link.contains("rel=\"next\"") && link.contains("rel=\"last\""));
    assert!(
        !link.contains("rel=\"first\""),
        "the first page has no rel=first: {link}"
    );
    // The document allows at most 500: the gateway refuses more.
    let r = api
        .get(&format!("/admin/identities/{id}/sessions?page_size=5000"))
        .await;
    assert_herodot(&r, 400);
    // The bare server caps page_size at 1000.
    let (bare_d, bare_api) = bare();
    let bare_id = bare_d.add_identity(IdentitySeed::new("p@example.com"));
    for _ in 0..5 {
        bare_d.add_session(&bare_id, SessionSeed::new());
    }
    let r = bare_api
        .get(&format!(
            "/admin/identities/{bare_id}/sessions?page_size=5000"
        ))
        .await;
    assert_eq!(ids(&r.json()).len(), 5);
}

// ---------------------------------------------------------------- session deletes (§4, §5)

#[tokio::test]
async fn delete_identity_sessions_hard_deletes_and_404s_when_empty() {
    let (d, api) = current();
    let id = d.add_identity(IdentitySeed::new("d@example.com"));
    d.add_session(&id, SessionSeed::new());
    d.add_session(&id, SessionSeed::new().revoked());
    let path = format!("/admin/identities/{id}/sessions");
    assert_eq!(api.delete(&path).await.status, 204);
    assert!(d.sessions_of(&id).is_empty());
    let r = api.delete(&path).await;
    assert_herodot(&r, 404);
    assert_eq!(r.message(), "Unable to locate the resource");
    // Only revoked rows still count.
    d.add_session(&id, SessionSeed::new().revoked());
    assert_eq!(api.delete(&path).await.status, 204);
    let r = api
        .delete(&format!(
            "/admin/identities/{}/sessions",
            uuid::Uuid::new_v4()
        ))
        .await;
    assert_herodot(&r, 404);
    assert_herodot(&api.delete("/admin/identities/nope/sessions").await, 400);
}

#[tokio::test]
async fn get_and_disable_single_session() {
    let (d, api) = current();
    let id = d.add_identity(IdentitySeed::new("g@example.com"));
    let sid = d.add_session(
        &id,
        SessionSeed::new()
            .aal("aal2")
            .device("192.0.2.1", "curl/8", "")
            .device("192.0.2.2", "wget", "Paris, FR"),
    );
    let v = api.get(&format!("/admin/sessions/{sid}")).await.json();
    assert_eq!(v["identity"], Value::Null);
    assert_eq!(v["devices"], json!([]));
    assert_eq!(v["authenticator_assurance_level"], json!("aal2"));
    let v = api
        .get(&format!(
            "/admin/sessions/{sid}?expand=identity&expand=devices"
        ))
        .await
        .json();
    assert_eq!(v["identity"]["id"], json!(id));
    assert_eq!(v["devices"].as_array().unwrap().len(), 2);
    assert_eq!(v["devices"][0]["ip_address"], json!("192.0.2.1"));
    assert_herodot(
        &api.get(&format!("/admin/sessions/{}", uuid::Uuid::new_v4()))
            .await,
        404,
    );
    assert_herodot(&api.get("/admin/sessions/xyz").await, 400);

    // Soft revoke: 204 twice, the row and its devices stay.
    assert_eq!(
        api.delete(&format!("/admin/sessions/{sid}")).await.status,
        204
    );
    assert_eq!(
        api.delete(&format!("/admin/sessions/{sid}")).await.status,
        204
    );
    let rows = d.sessions_of(&id);
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].db_active);
    assert_eq!(rows[0].devices.len(), 2);
    assert!(!d.whoami(&sid));
    assert_herodot(
        &api.delete(&format!("/admin/sessions/{}", uuid::Uuid::new_v4()))
            .await,
        404,
    );
    assert_herodot(&api.delete("/admin/sessions/xyz").await, 400);
}

#[tokio::test]
async fn bulk_disable_sessions() {
    let (d, api) = current();
    let a = d.add_identity(IdentitySeed::new("a@example.com"));
    let b = d.add_identity(IdentitySeed::new("b@example.com"));
    d.add_session(&a, SessionSeed::new());
    d.add_session(&a, SessionSeed::new().revoked());
    d.add_session(&b, SessionSeed::new());
    let r = api
        .json(
            "POST",
            "/admin/sessions",
            &json!({"action": "disable", "identities": [a]}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"processed": 1, "more": false}));
    assert!(d.sessions_of(&b)[0].db_active);
    let r = api
        .json(
            "POST",
            "/admin/sessions",
            &json!({"action": "disable", "identities": ["*"]}),
        )
        .await;
    assert_eq!(r.json(), json!({"processed": 1, "more": false}));
    assert!(!d.sessions_of(&b)[0].db_active);

    let (_d13, api13) = v13();
    let r = api13
        .json(
            "POST",
            "/admin/sessions",
            &json!({"action": "disable", "identities": [a]}),
        )
        .await;
    assert_herodot(&r, 404);
}

// ---------------------------------------------------------------- identity state (§10)

#[tokio::test]
async fn inactive_identity_sessions_and_reactivation() {
    let (d, api) = current();
    let id = d.add_identity(IdentitySeed::new("i@example.com").password("pw"));
    let sid = d.add_session(&id, SessionSeed::new());
    assert!(d.whoami(&sid));
    let r = api
        .json(
            "PATCH",
            &format!("/admin/identities/{id}"),
            &json!([{"op": "replace", "path": "/state", "value": "inactive"}]),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["state"], json!("inactive"));
    assert!(!d.whoami(&sid));
    assert!(
        d.sessions_of(&id)[0].db_active,
        "nothing is revoked in the database"
    );
    let v = api
        .get(&format!("/admin/identities/{id}/sessions"))
        .await
        .json();
    assert_eq!(
        v[0]["active"],
        json!(false),
        "computed activity includes the identity state"
    );
    // The active filter looks only at the DB column and expiry.
    let v = api
        .get(&format!("/admin/identities/{id}/sessions?active=true"))
        .await
        .json();
    assert_eq!(ids(&v), vec![sid.clone()]);
    assert_eq!(
        d.password_login("i@example.com", "pw"),
        LoginResult::IdentityDisabled
    );
    assert_eq!(
        d.password_login("i@example.com", "bad"),
        LoginResult::InvalidCredentials
    );

    let r = api
        .json(
            "PATCH",
            &format!("/admin/identities/{id}"),
            &json!([{"op": "replace", "path": "/state", "value": "active"}]),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(d.whoami(&sid), "reactivation revives the old session");
    match d.password_login("I@example.com", "pw") {
        LoginResult::Ok { session_id } => {
            assert!(d.whoami(&session_id));
            assert_eq!(d.sessions_of(&id).len(), 2);
        }
        other => panic!("{other:?}"),
    }
    let inactive = d.add_identity(IdentitySeed::new("x@example.com").password("pw").inactive());
    assert_eq!(
        d.password_login("x@example.com", "pw"),
        LoginResult::IdentityDisabled
    );
    let s = d.add_session(&inactive, SessionSeed::new());
    assert!(!d.whoami(&s));
}

// ---------------------------------------------------------------- PATCH (§6)

async fn patch(api: &Api, id: &str, ops: Value) -> Resp {
    api.json("PATCH", &format!("/admin/identities/{id}"), &ops)
        .await
}

#[tokio::test]
async fn patch_errors() {
    let (d, api) = current();
    let id = d.add_identity(IdentitySeed::new("pe@example.com"));
    let r = patch(
        &api,
        &id,
        json!([{"op": "move", "from": "/traits", "path": "/x"}]),
    )
    .await;
    assert_herodot(&r, 400);
    assert_eq!(r.message(), "unsupported operation: move");
    assert_eq!(r.reason(), "failed to apply JSON patch");
    let r = api
        .send(
            "PATCH",
            &format!("/admin/identities/{id}"),
            None,
            Some("application/json"),
        )
        .await;
    assert_herodot(&r, 400);
    assert_eq!(r.message(), "unexpected end of JSON input");
    for p in [
        "/id",
        "/credentials",
        "/credentials/oidc",
        "/Credentials/OIDC/config",
        "/credentials/saml/x",
    ] {
        let r = patch(
            &api,
            &id,
            json!([{"op": "replace", "path": p, "value": "x"}]),
        )
        .await;
        assert_herodot(&r, 400);
        assert_eq!(r.message(), format!("patch includes denied path: {p}"));
        assert_eq!(r.reason(), "failed to apply JSON patch");
    }
    let r = patch(
        &api,
        &id,
        json!([{"op": "replace", "path": "/state", "value": "banned"}]),
    )
    .await;
    assert_herodot(&r, 400);
    assert_eq!(
        r.reason(),
        "The supplied state ('banned') was not valid. Valid states are ('active', 'inactive')."
    );
    let r = patch(
        &api,
        &id,
        json!([{"op": "replace", "path": "/traits/email", "value": "nope"}]),
    )
    .await;
    assert_herodot(&r, 400);
    let r = patch(
        &api,
        &id,
        json!([{"op": "remove", "path": "/traits/email"}]),
    )
    .await;
    assert_herodot(&r, 400);
    assert_herodot(
        &patch(&api, &uuid::Uuid::new_v4().to_string(), json!([])).await,
        404,
    );
    assert_herodot(&patch(&api, "nope", json!([])).await, 404);
    let other = d.add_identity(IdentitySeed::new("taken@example.com"));
    let r = patch(
        &api,
        &id,
        json!([{"op": "replace", "path": "/traits/email", "value": "TAKEN@example.com"}]),
    )
    .await;
    assert_herodot(&r, 409);
    assert!(!other.is_empty());
}

#[tokio::test]
async fn patch_state_traits_and_metadata() {
    let (d, api) = current();
    let id = d.add_identity(IdentitySeed::new("old@example.com").password("pw"));
    let sid = d.add_session(&id, SessionSeed::new());
    let before = d.identity_json(&id).unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let r = patch(
        &api,
        &id,
        json!([
            {"op": "replace", "path": "/state", "value": "inactive"},
            {"op": "replace", "path": "/traits/email", "value": "New@Example.com"},
            {"op": "replace", "path": "/metadata_admin/flag/deep", "value": true},
        ]),
    )
    .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert!(v["credentials"]["password"].get("config").is_none());
    assert_ne!(v["state_changed_at"], before["state_changed_at"]);
    assert_eq!(v["metadata_admin"], json!({"flag": {"deep": true}}));
    assert_eq!(v["verifiable_addresses"].as_array().unwrap().len(), 1);
    assert_eq!(
        v["verifiable_addresses"][0]["value"],
        json!("new@example.com")
    );
    assert_eq!(v["verifiable_addresses"][0]["verified"], json!(false));
    assert_eq!(v["verifiable_addresses"][0]["status"], json!("pending"));
    assert_eq!(
        v["recovery_addresses"][0]["value"],
        json!("new@example.com")
    );
    assert_eq!(
        v["credentials"]["password"]["identifiers"],
        json!(["new@example.com"])
    );
    assert_eq!(d.sessions_of(&id).len(), 1, "no effect on sessions");
    assert!(d.sessions_of(&id)[0].db_active);
    assert!(!d.whoami(&sid));
}

#[tokio::test]
async fn patch_current_credentials_are_writable() {
    let (d, api) = current();
    let id = d.add_identity(IdentitySeed::new("c@example.com").password("old-pw"));
    // replace …/config/password stores the plaintext; the old hash stays valid (§13.2).
    let r = patch(
        &api,
        &id,
        json!([{"op": "replace", "path": "/credentials/password/config/password", "value": "new-pw"}]),
    )
    .await;
    assert_eq!(r.status, 200);
    let v = d.identity_json(&id).unwrap();
    let cfg = &v["credentials"]["password"]["config"];
    assert_eq!(cfg["password"], json!("new-pw"));
    assert!(
        cfg["hashed_password"]
            .as_str()
            .unwrap()
            .starts_with("$argon2id$")
    );
    assert!(matches!(
        d.password_login("c@example.com", "old-pw"),
        LoginResult::Ok { .. }
    ));
    assert_eq!(
        d.password_login("c@example.com", "new-pw"),
        LoginResult::InvalidCredentials
    );

    // A whole credential with the wrong type is refused.
    let r = patch(
        &api,
        &id,
        json!([{"op": "replace", "path": "/credentials/password", "value": {"config": {}}}]),
    )
    .await;
    assert_herodot(&r, 400);
    assert_eq!(
        r.reason(),
        "credentials.password.type must equal \"password\", got \"\""
    );

    // remove /credentials/password wipes the hash, an empty credential is re-created (§13.1).
    let r = patch(
        &api,
        &id,
        json!([{"op": "remove", "path": "/credentials/password"}]),
    )
    .await;
    assert_eq!(r.status, 200);
    let v = d.identity_json(&id).unwrap();
    assert_eq!(v["credentials"]["password"]["config"], json!({}));
    assert_eq!(
        v["credentials"]["password"]["identifiers"],
        json!(["c@example.com"])
    );
    assert_eq!(
        d.password_login("c@example.com", "old-pw"),
        LoginResult::InvalidCredentials
    );
}

#[tokio::test]
async fn patch_v1_3_credentials() {
    let (d, api) = v13();
    let id = d.add_identity(IdentitySeed::new("v@example.com").password("pw"));
    let before = d.identity_json(&id).unwrap();
    let r = patch(
        &api,
        &id,
        json!([{"op": "remove", "path": "/credentials/password"}]),
    )
    .await;
    assert_herodot(&r, 400);
    assert_eq!(r.reason(), "An error occured when applying the JSON patch");
    assert!(
        r.message().contains("/credentials/password"),
        "{}",
        r.message()
    );
    let r = patch(
        &api,
        &id,
        json!([{"op": "replace", "path": "/credentials/password/config/password", "value": "x"}]),
    )
    .await;
    assert_eq!(r.status, 200);
    let after = d.identity_json(&id).unwrap();
    assert_eq!(
        after["credentials"], before["credentials"],
        "nothing changed"
    );
    assert!(matches!(
        d.password_login("v@example.com", "pw"),
        LoginResult::Ok { .. }
    ));
    // v1.3 denies only exact paths.
    let r = patch(
        &api,
        &id,
        json!([{"op": "replace", "path": "/credentials", "value": {}}]),
    )
    .await;
    assert_herodot(&r, 400);
    assert_eq!(r.message(), "patch includes denied path: /credentials");
    let r = patch(
        &api,
        &id,
        json!([{"op": "add", "path": "/credentials/oidc/x", "value": 1}]),
    )
    .await;
    assert_eq!(r.status, 200);
}

// ---------------------------------------------------------------- PUT (§7)

fn put_body(email: &str) -> Value {
    json!({"schema_id": "default", "state": "active", "traits": {"email": email}})
}

#[tokio::test]
async fn put_replaces_wholesale_and_hashes_passwords() {
    let (d, api) = current();
    let id = d.add_identity(
        IdentitySeed::new("put@example.com")
            .password("old")
            .metadata_public(json!({"a": 1}))
            .metadata_admin(json!({"b": 2}))
            .external_id("ext")
            .totp(),
    );
    let path = format!("/admin/identities/{id}");
    let before = d.identity_json(&id).unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;

    // Content-Type is required.
    let b = serde_json::to_vec(&put_body("put@example.com")).unwrap();
    assert_herodot(&api.send("PUT", &path, Some(&b), None).await, 400);
    assert_herodot(
        &api.send("PUT", &path, Some(&b), Some("text/plain")).await,
        400,
    );

    // Omitted metadata and external_id are wiped; credentials kept.
    let r = api.json("PUT", &path, &put_body("put@example.com")).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["metadata_public"], Value::Null);
    assert_eq!(v["metadata_admin"], Value::Null);
    assert!(v.get("external_id").is_none());
    assert!(v["credentials"]["password"].get("config").is_none());
    assert_ne!(v["updated_at"], before["updated_at"]);
    let after = d.identity_json(&id).unwrap();
    assert_eq!(after["credentials"], before["credentials"]);
    assert!(matches!(
        d.password_login("put@example.com", "old"),
        LoginResult::Ok { .. }
    ));

    // A plaintext password is hashed and replaces the old hash.
    let mut body = put_body("put@example.com");
    body["credentials"] = json!({"password": {"config": {"password": "brand-new"}}});
    assert_eq!(api.json("PUT", &path, &body).await.status, 200);
    assert_eq!(
        d.password_login("put@example.com", "old"),
        LoginResult::InvalidCredentials
    );
    assert!(matches!(
        d.password_login("put@example.com", "brand-new"),
        LoginResult::Ok { .. }
    ));
    let now = d.identity_json(&id).unwrap();
    let pw = &now["credentials"]["password"];
    assert_eq!(pw["config"].as_object().unwrap().len(), 1);
    assert!(
        pw["config"]["hashed_password"]
            .as_str()
            .unwrap()
            .starts_with("$argon2id$")
    );
    assert_eq!(pw["version"], json!(1));
    assert_ne!(
        pw["updated_at"],
        before["credentials"]["password"]["updated_at"]
    );
    assert_eq!(now["credentials"]["totp"], before["credentials"]["totp"]);

    // Hash imports must be in a known format.
    body["credentials"] = json!({"password": {"config": {"hashed_password": "plain"}}});
    let r = api.json("PUT", &path, &body).await;
    assert_herodot(&r, 400);
    assert_eq!(
        r.reason(),
        "The imported password does not match any known hash format."
    );
    body["credentials"] = json!({"password": {"config": {"hashed_password": "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"}}});
    assert_eq!(api.json("PUT", &path, &body).await.status, 200);
    assert_eq!(
        d.password_login("put@example.com", "brand-new"),
        LoginResult::InvalidCredentials
    );
    body["credentials"] = json!({"password": {"config": {"use_password_migration_hook": true}}});
    assert_eq!(api.json("PUT", &path, &body).await.status, 200);
    assert_eq!(
        d.identity_json(&id).unwrap()["credentials"]["password"]["config"],
        json!({"use_password_migration_hook": true})
    );

    // OIDC entries are merged, never removed.
    body["credentials"] =
        json!({"oidc": {"config": {"providers": [{"provider": "github", "subject": "9"}]}}});
    assert_eq!(api.json("PUT", &path, &body).await.status, 200);
    body["credentials"] =
        json!({"oidc": {"config": {"providers": [{"provider": "google", "subject": "1"}]}}});
    assert_eq!(api.json("PUT", &path, &body).await.status, 200);
    assert_eq!(
        d.identity_json(&id).unwrap()["credentials"]["oidc"]["identifiers"],
        json!(["github:9", "google:1"])
    );
}

#[tokio::test]
async fn put_errors() {
    // The bare server's own answers; the OpenAPI gateway refuses some of these bodies first
    // (see `openapi_refuses_bodies_before_the_handler`).
    let (d, api) = bare();
    let id = d.add_identity(IdentitySeed::new("pe@example.com"));
    d.add_identity(IdentitySeed::new("other@example.com"));
    let path = format!("/admin/identities/{id}");
    let mut b = put_body("pe@example.com");
    b["state"] = json!("banned");
    let r = api.json("PUT", &path, &b).await;
    assert_herodot(&r, 400);
    assert!(r.reason().contains("identity state is not valid"));
    let r = api
        .json("PUT", &path, &json!({"schema_id": "default"}))
        .await;
    assert_herodot(&r, 400);
    let r = api.json("PUT", &path, &put_body("other@example.com")).await;
    assert_herodot(&r, 409);
    let r = api
        .json(
            "PUT",
            &format!("/admin/identities/{}", uuid::Uuid::new_v4()),
            &put_body("z@example.com"),
        )
        .await;
    assert_herodot(&r, 404);
    assert_eq!(r.message(), "Unable to locate the resource");
    // Empty state keeps the current one.
    let mut b = put_body("pe@example.com");
    b["state"] = json!("");
    assert_eq!(
        api.json("PUT", &path, &b).await.json()["state"],
        json!("active")
    );
    assert_herodot(
        &api.send("PUT", &path, Some(b"{"), Some("application/json"))
            .await,
        400,
    );
}

// ---------------------------------------------------------------- credential DELETE (§8)

#[tokio::test]
async fn delete_credentials_current() {
    let (d, api) = current();
    let only_pw = d.add_identity(IdentitySeed::new("one@example.com").password("pw").totp());
    let r = api
        .delete(&format!("/admin/identities/{only_pw}/credentials/password"))
        .await;
    assert_herodot(&r, 400);
    assert_eq!(
        r.reason(),
        "You cannot remove the last first factor credential."
    );
    assert_eq!(
        api.delete(&format!("/admin/identities/{only_pw}/credentials/totp"))
            .await
            .status,
        204
    );
    let r = api
        .delete(&format!("/admin/identities/{only_pw}/credentials/totp"))
        .await;
    assert_herodot(&r, 404);
    assert_eq!(
        r.reason(),
        "You tried to remove a totp but this user have no totp set up."
    );
    for t in ["code", "passkey", "lookup_secret"] {
        let r = api
            .delete(&format!("/admin/identities/{only_pw}/credentials/{t}"))
            .await;
        assert_herodot(&r, 404);
    }
    assert_herodot(
        &api.delete(&format!(
            "/admin/identities/{}/credentials/password",
            uuid::Uuid::new_v4()
        ))
        .await,
        404,
    );
    assert_herodot(
        &api.delete("/admin/identities/bad/credentials/password")
            .await,
        404,
    );

    let both = d.add_identity(
        IdentitySeed::new("two@example.com")
            .password("pw")
            .oidc("google", "1")
            .webauthn_mfa(),
    );
    let r = api
        .delete(&format!("/admin/identities/{both}/credentials/oidc"))
        .await;
    assert_herodot(&r, 400);
    assert_eq!(
        r.reason(),
        "You must provide an identifier to delete this credential."
    );
    let r = api
        .delete(&format!(
            "/admin/identities/{both}/credentials/oidc?identifier=google:2"
        ))
        .await;
    assert_herodot(&r, 404);
    assert_eq!(
        api.delete(&format!("/admin/identities/{both}/credentials/webauthn"))
            .await
            .status,
        204
    );
    assert_eq!(
        api.delete(&format!("/admin/identities/{both}/credentials/password"))
            .await
            .status,
        204
    );
    let v = d.identity_json(&both).unwrap();
    assert_eq!(v["credentials"]["password"]["config"], json!({}));
    assert_eq!(
        v["credentials"]["password"]["identifiers"],
        json!(["two@example.com"])
    );
    assert!(v["credentials"].get("webauthn").is_none());
    assert_eq!(
        d.password_login("two@example.com", "pw"),
        LoginResult::InvalidCredentials
    );
    // Now oidc is the last first factor.
    let r = api
        .delete(&format!(
            "/admin/identities/{both}/credentials/oidc?identifier=google:1"
        ))
        .await;
    assert_eq!(
        r.reason(),
        "You cannot remove the last first factor credential."
    );

    // Passwordless code login counts as a first factor.
    let (d2, api2) = start(Config {
        passwordless_code_login: true,
        ..Config::default()
    });
    let id = d2.add_identity(IdentitySeed::new("code@example.com").password("pw"));
    assert_eq!(
        api2.delete(&format!("/admin/identities/{id}/credentials/password"))
            .await
            .status,
        204
    );
    let r = api2
        .delete(&format!("/admin/identities/{id}/credentials/code"))
        .await;
    assert_herodot(&r, 400);
    assert_eq!(r.reason(), "Credentials type code cannot be deleted.");
}

#[tokio::test]
async fn delete_credentials_v1_3() {
    let (d, api) = v13();
    let id = d.add_identity(
        IdentitySeed::new("v13@example.com")
            .password("pw")
            .oidc("google", "1")
            .oidc("github", "2"),
    );
    let r = api
        .delete(&format!("/admin/identities/{id}/credentials/password"))
        .await;
    assert_herodot(&r, 400);
    assert_eq!(r.reason(), "You cannot remove first factor credentials.");
    assert_eq!(
        api.delete(&format!(
            "/admin/identities/{id}/credentials/oidc?identifier=google:1"
        ))
        .await
        .status,
        204
    );
    assert_eq!(
        d.identity_json(&id).unwrap()["credentials"]["oidc"]["identifiers"],
        json!(["github:2"])
    );
}

#[tokio::test]
async fn a_seeded_passkey_is_a_first_factor_that_no_admin_call_removes() {
    for (d, api) in [current(), v13()] {
        let id = d.add_identity(
            IdentitySeed::new("pk@example.com")
                .oidc("google", "1")
                .passkey()
                .webauthn_mfa(),
        );
        let v = api
            .get(&format!(
                "/admin/identities/{id}?include_credential=passkey"
            ))
            .await
            .json();
        let pk = &v["credentials"]["passkey"];
        assert_eq!(pk["type"], json!("passkey"));
        let keys = pk["config"]["credentials"].as_array().unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0]["display_name"], json!("Passkey"));
        assert_eq!(keys[0]["is_passwordless"], json!(true));
        assert!(keys[0]["id"].is_string() && keys[0]["public_key"].is_string());
        assert!(keys[0]["added_at"].is_string());
        assert!(pk["config"]["user_handle"].is_string());
        // Neither the passkey DELETE nor the webauthn one (MFA keys only) touches it.
        let r = api
            .delete(&format!("/admin/identities/{id}/credentials/passkey"))
            .await;
        assert_herodot(&r, 400);
        assert_eq!(r.reason(), "Credentials type passkey cannot be deleted.");
        assert_eq!(
            api.delete(&format!("/admin/identities/{id}/credentials/webauthn"))
                .await
                .status,
            204
        );
        assert_eq!(d.credential_types(&id), ["oidc", "passkey", "password"]);
    }
    // On current Kratos it counts as a first factor: the only OIDC link can go.
    let (d, api) = current();
    let id = d.add_identity(
        IdentitySeed::new("pk2@example.com")
            .oidc("google", "1")
            .passkey(),
    );
    assert_eq!(
        api.delete(&format!(
            "/admin/identities/{id}/credentials/oidc?identifier=google:1"
        ))
        .await
        .status,
        204
    );
    assert!(d.oidc_identifiers(&id).is_empty());
}

#[tokio::test]
async fn a_seeded_lookup_secret_holds_unused_codes_and_can_be_deleted() {
    for (d, api) in [current(), v13()] {
        let id = d.add_identity(
            IdentitySeed::new("ls@example.com")
                .password("pw")
                .lookup_secret(),
        );
        let v = api
            .get(&format!(
                "/admin/identities/{id}?include_credential=lookup_secret"
            ))
            .await
            .json();
        let ls = &v["credentials"]["lookup_secret"];
        assert_eq!(ls["identifiers"], json!([id]));
        let codes: Vec<&str> = ls["config"]["recovery_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                assert_eq!(c["used_at"], Value::Null);
                c["code"].as_str().unwrap()
            })
            .collect();
        assert_eq!(codes, LOOKUP_SECRET_CODES);
        // A plain GET shows the type, not the codes.
        let plain = api.get(&format!("/admin/identities/{id}")).await;
        for c in LOOKUP_SECRET_CODES {
            assert!(!String::from_utf8_lossy(&plain.body).contains(c));
        }
        assert_eq!(
            api.delete(&format!("/admin/identities/{id}/credentials/lookup_secret"))
                .await
                .status,
            204
        );
        assert_eq!(d.credential_types(&id), ["password"]);
    }
}

#[test]
fn credential_types_and_oidc_identifiers_read_the_stored_identity() {
    let d = KratosDouble::start(Config::default());
    let id = d.add_identity(
        IdentitySeed::new("c@example.com")
            .password("pw")
            .oidc("google", "owner-sub")
            .oidc("github", "7")
            .totp(),
    );
    assert_eq!(d.credential_types(&id), ["oidc", "password", "totp"]);
    assert_eq!(d.oidc_identifiers(&id), ["google:owner-sub", "github:7"]);
    let bare = d.add_identity(IdentitySeed::new("bare@example.com"));
    assert_eq!(
        d.credential_types(&bare),
        ["password"],
        "the empty one (§14.20)"
    );
    assert!(d.oidc_identifiers(&bare).is_empty());
    let unknown = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        d.credential_types(&uuid::Uuid::new_v4().to_string())
    }));
    assert!(unknown.is_err(), "an unknown identity is a bug in the test");
}

// ---------------------------------------------------------------- recovery (§9)

#[tokio::test]
async fn recovery_code_and_link() {
    let (d, api) = current();
    let id = d.add_identity(IdentitySeed::new("r@example.com"));
    let r = api
        .json(
            "POST",
            "/admin/recovery/code",
            &json!({"identity_id": id, "expires_in": "15m"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let v = r.json();
    let code = v["recovery_code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 6);
    assert!(code.bytes().all(|b| b.is_ascii_digit()));
    assert!(
        v["recovery_link"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:4455/recovery?flow=")
    );
    assert!(v["expires_at"].is_string());
    let r = api
        .json("POST", "/admin/recovery/link", &json!({"identity_id": id}))
        .await;
    assert_eq!(r.status, 200);
    let link = r.json()["recovery_link"].as_str().unwrap().to_string();
    assert!(link.starts_with(&format!("{}/self-service/recovery?flow=", d.url())));
    let token = link.split("&token=").nth(1).unwrap().to_string();
    assert_eq!(token.len(), 32);
    let secrets = d.issued_recovery_secrets();
    assert!(secrets.contains(&code) && secrets.contains(&link) && secrets.contains(&token));
    assert_eq!(d.recovery_codes_issued(&id), 1);
    assert_eq!(d.recovery_links_issued(&id), 1);
    let other = d.add_identity(IdentitySeed::new("s@example.com"));
    assert_eq!(d.recovery_codes_issued(&other), 0);

    let unknown = uuid::Uuid::new_v4().to_string();
    let r = api
        .json(
            "POST",
            "/admin/recovery/code",
            &json!({"identity_id": unknown}),
        )
        .await;
    assert_herodot(&r, 404);
    assert_eq!(r.reason(), "could not find identity");
    let r = api
        .json(
            "POST",
            "/admin/recovery/link",
            &json!({"identity_id": unknown}),
        )
        .await;
    assert_herodot(&r, 400);
    assert_eq!(r.reason(), "The requested identity id does not exist.");
    for bad in ["7d", "soon", "1 h"] {
        let r = api
            .json(
                "POST",
                "/admin/recovery/code",
                &json!({"identity_id": id, "expires_in": bad}),
            )
            .await;
        assert_herodot(&r, 400);
        assert!(r.reason().starts_with("Unable to parse \"expires_in\""));
    }
    // Go's ParseDuration accepts a sign: a negative lifespan is refused as not in the future.
    let r = api
        .json(
            "POST",
            "/admin/recovery/code",
            &json!({"identity_id": id, "expires_in": "-1h"}),
        )
        .await;
    assert_herodot(&r, 400);
    assert!(r.reason().contains("must result to a future time"));
    let r = api
        .json(
            "POST",
            "/admin/recovery/link",
            &json!({"identity_id": id, "expires_in": "0s"}),
        )
        .await;
    assert_herodot(&r, 400);
    let r = api
        .json(
            "POST",
            "/admin/recovery/code",
            &json!({"identity_id": id, "flow_type": "spa"}),
        )
        .await;
    assert_herodot(&r, 400);
    assert_eq!(
        api.json(
            "POST",
            "/admin/recovery/code",
            &json!({"identity_id": id, "flow_type": "api"})
        )
        .await
        .status,
        201
    );
    // The document requires identity_id: the gateway refuses a body without it.
    for p in ["/admin/recovery/code", "/admin/recovery/link"] {
        let r = api.json("POST", p, &json!({})).await;
        assert_herodot(&r, 400);
        assert!(r.message().contains("'identity_id'"), "{}", r.message());
    }
    // The bare server has no schema: a missing identity_id is the nil UUID, not found.
    let (_bare_d, bare_api) = bare();
    assert_herodot(
        &bare_api
            .json("POST", "/admin/recovery/code", &json!({}))
            .await,
        404,
    );
    assert_herodot(
        &bare_api
            .json("POST", "/admin/recovery/link", &json!({}))
            .await,
        400,
    );
    assert_herodot(
        &api.json(
            "POST",
            "/admin/recovery/code",
            &json!({"identity_id": "nope"}),
        )
        .await,
        400,
    );
    let b = serde_json::to_vec(&json!({"identity_id": id})).unwrap();
    assert_herodot(
        &api.send("POST", "/admin/recovery/code", Some(&b), None)
            .await,
        400,
    );

    let (d2, api2) = start(Config {
        recovery_code_enabled: false,
        recovery_link_enabled: false,
        ..Config::default()
    });
    let id2 = d2.add_identity(IdentitySeed::new("r@example.com"));
    for p in ["/admin/recovery/code", "/admin/recovery/link"] {
        let r = api2.json("POST", p, &json!({"identity_id": id2})).await;
        assert_herodot(&r, 404);
        assert!(
            r.reason()
                .starts_with("This endpoint was disabled by system administrator.")
        );
    }
}

// ---------------------------------------------------------------- edge (§1) and faults

#[tokio::test]
async fn token_checks() {
    let (d, mut api) = start(Config {
        require_token: Some("ory_pat_good".into()),
        ..Config::default()
    });
    // The edge answers, not Kratos: plain text and HTML, no herodot JSON.
    let r = api.get("/admin/version").await;
    assert_eq!(r.status, 401);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    assert!(String::from_utf8_lossy(&r.body).starts_with("Unauthorized"));
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());
    api.token = Some("ory_pat_bad".into());
    let r = api.get("/admin/version").await;
    assert_eq!(r.status, 401);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    api.token = Some("ory_wak_workspace".into());
    let r = api.get("/admin/version").await;
    assert_eq!(r.status, 403);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(String::from_utf8_lossy(&r.body).contains("<h1>403 Forbidden</h1>"));
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());
    api.token = Some("ory_pat_good".into());
    assert_eq!(api.get("/admin/version").await.status, 200);
    assert_eq!(
        d.requests().last().unwrap().header("authorization"),
        Some("Bearer ory_pat_good")
    );
    api.token = None;
    assert_eq!(api.get("/health/alive").await.status, 200);
}

#[tokio::test]
async fn faults() {
    let (d, api) = current();
    let id = d.add_identity(IdentitySeed::new("f@example.com"));
    let sid = d.add_session(&id, SessionSeed::new());

    d.inject(Fault::new(FaultKind::Status(503)).on("DELETE", "/admin/sessions/"));
    let r = api.delete(&format!("/admin/sessions/{sid}")).await;
    assert_herodot(&r, 503);
    assert!(
        d.sessions_of(&id)[0].db_active,
        "a faulted request changes nothing"
    );
    assert_eq!(d.requests().last().unwrap().status, 503);
    // Consumed: the next one goes through.
    assert_eq!(
        api.delete(&format!("/admin/sessions/{sid}")).await.status,
        204
    );

    d.inject(Fault::new(FaultKind::Html(502)).times(2));
    for _ in 0..2 {
        let r = api.get("/admin/version").await;
        assert_eq!(r.status, 502);
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
        assert!(String::from_utf8_lossy(&r.body).contains("502 Bad Gateway"));
    }
    assert_eq!(api.get("/admin/version").await.status, 200);

    d.inject(Fault::new(FaultKind::RateLimit { reset_secs: 3 }));
    let r = api.get("/admin/version").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("x-ratelimit-reset").as_deref(), Some("3"));
    assert_eq!(r.header("x-ratelimit-remaining").as_deref(), Some("0"));
    assert!(r.header("x-ratelimit-limit").is_some());
    assert!(
        serde_json::from_slice::<Value>(&r.body).is_err(),
        "not herodot"
    );

    d.inject(Fault::new(FaultKind::RetryAfter { secs: 2 }));
    let r = api.get("/admin/version").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after").as_deref(), Some("2"));
    assert!(r.header("x-ratelimit-reset").is_none());

    d.inject(Fault::new(FaultKind::Raw {
        status: 200,
        content_type: "application/json".into(),
        body: "{not json".into(),
    }));
    let r = api.get("/admin/version").await;
    assert_eq!(
        (r.status, r.body.as_slice()),
        (200, b"{not json".as_slice())
    );

    // A fault for another path does not match; paths without /admin match their rewrite.
    d.inject(Fault::new(FaultKind::Status(500)).on("GET", "/admin/identities/"));
    assert_eq!(api.get("/admin/version").await.status, 200);
    assert_eq!(api.get(&format!("/identities/{id}")).await.status, 500);

    // Delay: the client times out, the server still applies the write.
    let sid2 = d.add_session(&id, SessionSeed::new());
    d.inject(Fault::new(FaultKind::Delay(Duration::from_millis(400))));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let err = client
        .delete(format!("{}/admin/sessions/{sid2}", d.url()))
        .send()
        .await;
    assert!(err.is_err());
    tokio::time::sleep(Duration::from_millis(600)).await;
    let row = d
        .sessions_of(&id)
        .into_iter()
        .find(|s| s.id == sid2)
        .unwrap();
    assert!(!row.db_active);
}

#[tokio::test]
async fn inflight_limit_on_same_path() {
    let (d, api) = start(Config {
        inflight_limit: true,
        latency: Duration::from_millis(300),
        ..Config::default()
    });
    let a = d.add_identity(IdentitySeed::new("a@example.com"));
    let b = d.add_identity(IdentitySeed::new("b@example.com"));
    let ops = json!([{"op": "replace", "path": "/metadata_admin", "value": {"x": 1}}]);
    let (r1, r2, r3) = tokio::join!(
        patch(&api, &a, ops.clone()),
        async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            patch(&api, &a, ops.clone()).await
        },
        async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            patch(&api, &b, ops.clone()).await
        },
    );
    assert_eq!(r1.status, 200);
    assert_eq!(r2.status, 429);
    assert_eq!(r2.header("x-ratelimit-reset").as_deref(), Some("1"));
    assert_eq!(r3.status, 200, "another path is not limited");
    // GETs are exempt, and once the first write is done the path is free again.
    let path = format!("/admin/identities/{a}");
    let (g1, g2) = tokio::join!(api.get(&path), api.get(&path));
    assert_eq!((g1.status, g2.status), (200, 200));
    assert_eq!(patch(&api, &a, ops).await.status, 200);
}

#[tokio::test]
async fn many_concurrent_requests() {
    let (d, api) = current();
    let id = d.add_identity(IdentitySeed::new("many@example.com"));
    let sids: Vec<String> = (0..300)
        .map(|_| d.add_session(&id, SessionSeed::new()))
        .collect();
    let tasks: Vec<_> = sids
        .iter()
        .map(|s| {
            let api = api.clone();
            let s = s.clone();
            tokio::spawn(async move { api.delete(&format!("/admin/sessions/{s}")).await.status })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 204);
    }
    assert!(d.sessions_of(&id).iter().all(|s| !s.db_active));
    assert_eq!(d.requests().len(), 300);
}

// ---------------------------------------------------------------- Hydra (§12)

#[tokio::test]
async fn hydra_consent_and_login_sessions() {
    let (d, api) = current();
    let crid = d.add_consent("subj-1", "client-a");
    d.add_consent("subj-1", "client-b");
    assert_eq!(d.consents_of("subj-1"), 2);
    assert_eq!(d.login_sessions_of("subj-1"), 2);

    let r = api.get("/admin/oauth2/auth/sessions/consent").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], json!("invalid_request"));
    assert!(
        r.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("'subject'")
    );
    let v = api
        .get("/admin/oauth2/auth/sessions/consent?subject=subj-1")
        .await
        .json();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[0]["consent_request"]["subject"], json!("subj-1"));
    assert_eq!(
        api.get("/admin/oauth2/auth/sessions/consent?subject=nobody")
            .await
            .json(),
        json!([])
    );

    for bad in [
        "subject=subj-1",
        "subject=subj-1&client=client-a&all=true",
        "",
        "all=true",
    ] {
        let r = api
            .delete(&format!("/admin/oauth2/auth/sessions/consent?{bad}"))
            .await;
        assert_eq!(r.status, 400, "{bad}");
        assert!(
            r.json()["error_description"]
                .as_str()
                .unwrap()
                .contains("Invalid combination of query parameters.")
        );
    }
    let r = api
        .delete(&format!(
            "/admin/oauth2/auth/sessions/consent?consent_request_id={crid}"
        ))
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(d.consents_of("subj-1"), 1);
    assert_eq!(
        api.delete("/admin/oauth2/auth/sessions/consent?subject=subj-1&all=true")
            .await
            .status,
        204
    );
    assert_eq!(d.consents_of("subj-1"), 0);
    assert_eq!(
        api.delete("/admin/oauth2/auth/sessions/consent?subject=nobody&client=x")
            .await
            .status,
        204
    );

    let r = api.delete("/admin/oauth2/auth/sessions/login").await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("Either 'subject' or 'sid' query parameters need to be defined.")
    );
    assert_eq!(
        api.delete("/admin/oauth2/auth/sessions/login?subject=subj-1")
            .await
            .status,
        204
    );
    assert_eq!(d.login_sessions_of("subj-1"), 0);
    assert_eq!(
        api.delete("/admin/oauth2/auth/sessions/login?sid=unknown")
            .await
            .status,
        204
    );
}

#[tokio::test]
async fn a_consent_can_be_made_to_look_granted_long_ago() {
    let (d, api) = current();
    let old = d.add_consent("subj-2", "owner-app");
    let new = d.add_consent("subj-2", "evil-app");
    let long_ago: jiff::Timestamp = "2020-01-02T03:04:05.123456789Z".parse().unwrap();
    d.set_consent_handled_at(&old, long_ago);
    let v = api
        .get("/admin/oauth2/auth/sessions/consent?subject=subj-2")
        .await
        .json();
    let handled = |crid: &str| -> jiff::Timestamp {
        v.as_array()
            .unwrap()
            .iter()
            .find(|c| c["consent_request_id"] == json!(crid))
            .unwrap()["handled_at"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(
        handled(&old),
        "2020-01-02T03:04:05.123457Z"
            .parse::<jiff::Timestamp>()
            .unwrap(),
        "microseconds, as Hydra stores it"
    );
    let age = jiff::Timestamp::now().duration_since(handled(&new));
    assert!(age < jiff::SignedDuration::from_mins(5), "{age:?}");
    let rows = d.consents("subj-2");
    assert_eq!(
        rows.iter()
            .map(|c| c.client_id.as_str())
            .collect::<Vec<_>>(),
        ["owner-app", "evil-app"]
    );
    assert_eq!(rows[0].consent_request_id, old);
    assert_eq!(rows[0].handled_at, handled(&old));
    assert_eq!(rows[1].login_session_id, d.login_session_of_consent(&new));
    assert!(d.consents("nobody").is_empty());
    let missing = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        d.set_consent_handled_at("nope", long_ago)
    }));
    assert!(missing.is_err());
}

// ---------------------------------------------------------------- OpenAPI gateway

fn assert_hydra_400(r: &Resp) -> String {
    assert_eq!(r.status, 400, "body: {}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(v["error"], json!("invalid_request"), "{v}");
    v["error_description"].as_str().unwrap().to_string()
}

fn missing_dir() -> std::path::PathBuf {
    std::env::temp_dir().join("atoctl-testkit-no-such-openapi-folder")
}

#[tokio::test]
async fn openapi_validation_is_on_when_the_documents_are_there() {
    let (d, _api) = current();
    assert!(
        documents_present(),
        "shared/reference beside the checkout holds the OpenAPI documents"
    );
    assert!(d.validating());
    let (d, _api) = bare();
    assert!(!d.validating());

    // Without the documents the double still runs, unchecked.
    let (d, api) = start(Config {
        openapi_dir: Some(missing_dir()),
        ..Config::default()
    });
    assert!(!d.validating());
    let id = d.add_identity(IdentitySeed::new("nodocs@example.com"));
    let r = api
        .get(&format!(
            "/admin/identities/{id}/sessions?page_size=1000&x=1"
        ))
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn openapi_refuses_query_and_path_parameters() {
    let (d, api) = current();
    let id = d.add_identity(IdentitySeed::new("q@example.com"));
    let sid = d.add_session(&id, SessionSeed::new());

    let r = api
        .get(&format!("/admin/identities/{id}/sessions?page_size=1000"))
        .await;
    assert_herodot(&r, 400);
    assert_eq!(
        r.message(),
        "query parameter 'page_size': must be at most 500 (maximum), got 1000"
    );
    assert!(
        r.reason().contains("listIdentitySessions"),
        "{}",
        r.reason()
    );
    assert_eq!(
        api.get(&format!("/admin/identities/{id}/sessions?page_size=500"))
            .await
            .status,
        200
    );
    // Paths without /admin are rewritten first, then checked.
    assert_herodot(
        &api.get(&format!("/identities/{id}/sessions?page_size=1000"))
            .await,
        400,
    );
    for (query, words) in [
        ("page_size=0", vec!["'page_size'", "at least 1 (minimum)"]),
        ("page_size=ten", vec!["'page_size'", "integer (type)"]),
        ("active=maybe", vec!["'active'", "boolean (type)"]),
        ("per_page=2000", vec!["'per_page'", "at most 1000"]),
        ("since=yesterday", vec!["'since'", "not declared"]),
    ] {
        let r = api
            .get(&format!("/admin/identities/{id}/sessions?{query}"))
            .await;
        assert_herodot(&r, 400);
        for w in words {
            assert!(r.message().contains(w), "{query}: {}", r.message());
        }
    }
    let r = api
        .get(&format!("/admin/identities/{id}?include_credential=nope"))
        .await;
    assert_herodot(&r, 400);
    assert!(
        r.message()
            .starts_with("query parameter 'include_credential'[0]: must be one of")
    );
    let r = api
        .get(&format!(
            "/admin/sessions/{sid}?expand=identity&expand=everything"
        ))
        .await;
    assert_herodot(&r, 400);
    assert!(r.message().contains("'expand'[1]"), "{}", r.message());
    assert!(
        r.message().contains("got \"everything\""),
        "{}",
        r.message()
    );
    // A path parameter outside its enum.
    let r = api
        .delete(&format!("/admin/identities/{id}/credentials/bogus"))
        .await;
    assert_herodot(&r, 400);
    assert!(
        r.message()
            .starts_with("path parameter 'type': must be one of")
    );

    // A refused request never reaches the handler.
    let r = api
        .delete(&format!("/admin/identities/{id}/sessions?force=true"))
        .await;
    assert_herodot(&r, 400);
    assert_eq!(d.sessions_of(&id).len(), 1, "nothing was deleted");
    let r = api
        .delete(&format!("/admin/sessions/{sid}?reason=ato"))
        .await;
    assert_herodot(&r, 400);
    assert!(d.sessions_of(&id)[0].db_active, "nothing was revoked");

    // Routes the documents do not have are the server's business (404/405).
    assert_herodot(&api.get("/admin/nope?x=1").await, 404);
    let stats = api.get("/__double/stats").await.json();
    assert!(
        stats["refused_by_openapi"].as_u64().unwrap() >= 10,
        "{stats}"
    );
}

#[tokio::test]
async fn openapi_refuses_bodies_before_the_handler() {
    let (d, api) = current();
    let id = d.add_identity(
        IdentitySeed::new("b@example.com")
            .password("pw")
            .external_id("ext"),
    );
    let sid = d.add_session(&id, SessionSeed::new());
    let path = format!("/admin/identities/{id}");
    let before = d.identity_json(&id).unwrap();
    let put = |extra: Value| {
        let mut b = put_body("b@example.com");
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    for (body, message) in [
        (
            put(json!({"external_id": null})),
            "request body field 'external_id': must be of type string (type), got null",
        ),
        (
            put(json!({"state": "banned"})),
            "request body field 'state': must be one of [\"active\",\"inactive\"] (enum), got \"banned\"",
        ),
        (
            put(json!({"state": ""})),
            "request body field 'state': must be one of [\"active\",\"inactive\"] (enum), got \"\"",
        ),
        (
            json!({"schema_id": "default", "state": "active"}),
            "request body field 'traits': required property missing (required)",
        ),
        (
            put(json!({"traits": "b@example.com"})),
            "request body field 'traits': must be of type object (type), got string",
        ),
        (
            put(json!({"credentials": {"password": {"config": {"password": 5}}}})),
            "request body field 'credentials.password.config.password': must be of type string (type), got integer",
        ),
        (
            put(
                json!({"credentials": {"oidc": {"config": {"providers": [{"provider": "google"}]}}}}),
            ),
            "request body field 'credentials.oidc.config.providers[0].subject': required property missing (required)",
        ),
        (
            json!([]),
            "request body: must be of type object (type), got array",
        ),
    ] {
        let r = api.json("PUT", &path, &body).await;
        assert_herodot(&r, 400);
        assert_eq!(r.message(), message);
        assert!(r.reason().contains("updateIdentity"), "{}", r.reason());
    }
    assert_eq!(
        d.identity_json(&id).unwrap(),
        before,
        "no PUT reached the handler"
    );
    assert!(matches!(
        d.password_login("b@example.com", "pw"),
        LoginResult::Ok { .. }
    ));

    // PATCH documents: each op needs `op` and `path`, both strings.
    let r = patch(&api, &id, json!([{"op": "replace", "value": "inactive"}])).await;
    assert_herodot(&r, 400);
    assert_eq!(
        r.message(),
        "request body field '[0].path': required property missing (required)"
    );
    let r = patch(
        &api,
        &id,
        json!({"op": "replace", "path": "/state", "value": "inactive"}),
    )
    .await;
    assert_herodot(&r, 400);
    assert_eq!(
        r.message(),
        "request body: must be of type array (type), got object"
    );
    assert_eq!(d.identity_json(&id).unwrap()["state"], json!("active"));

    // POST /admin/sessions: `action` is an enum, the body is required.
    let r = api
        .json(
            "POST",
            "/admin/sessions",
            &json!({"action": "nuke", "identities": [id]}),
        )
        .await;
    assert_herodot(&r, 400);
    assert!(
        r.message()
            .starts_with("request body field 'action': must be one of")
    );
    let r = api
        .send("POST", "/admin/sessions", None, Some("application/json"))
        .await;
    assert_herodot(&r, 400);
    assert!(
        r.message().contains("requestBody.required"),
        "{}",
        r.message()
    );
    assert!(d.sessions_of(&id)[0].db_active);

    // Recovery: identity_id must be a string.
    let r = api
        .json("POST", "/admin/recovery/code", &json!({"identity_id": 7}))
        .await;
    assert_herodot(&r, 400);
    assert_eq!(
        r.message(),
        "request body field 'identity_id': must be of type string (type), got integer"
    );
    assert!(d.issued_recovery_secrets().is_empty());

    // A body that is not JSON is the server's to refuse, in its own words.
    let r = api
        .send("PUT", &path, Some(b"{"), Some("application/json"))
        .await;
    assert_herodot(&r, 400);
    assert!(r.reason().starts_with("Unable to decode JSON payload"));

    // What the document allows goes through.
    let r = api
        .json("PUT", &path, &put(json!({"external_id": "ext"})))
        .await;
    assert_eq!(r.status, 200);
    assert!(d.whoami(&sid));
}

#[tokio::test]
async fn openapi_refusals_on_hydra_paths_use_hydras_error_shape() {
    let (d, api) = current();
    d.add_consent("h-subj", "client-a");
    let desc = assert_hydra_400(&api.get("/admin/oauth2/auth/sessions/consent").await);
    assert!(
        desc.contains("query parameter 'subject': required but missing (required)"),
        "{desc}"
    );
    assert!(desc.contains("listOAuth2ConsentSessions"), "{desc}");
    let desc = assert_hydra_400(
        &api.get("/admin/oauth2/auth/sessions/consent?subject=h-subj&page_size=501")
            .await,
    );
    assert!(
        desc.contains("query parameter 'page_size': must be at most 500 (maximum), got 501"),
        "{desc}"
    );
    let desc = assert_hydra_400(
        &api.delete("/admin/oauth2/auth/sessions/consent?subject=h-subj&all=maybe")
            .await,
    );
    assert!(desc.contains("'all': must be a boolean"), "{desc}");
    let desc = assert_hydra_400(
        &api.delete("/admin/oauth2/auth/sessions/login?subject=h-subj&everywhere=1")
            .await,
    );
    assert!(desc.contains("'everywhere': not declared"), "{desc}");
    assert_eq!(d.consents_of("h-subj"), 1);
    assert_eq!(d.login_sessions_of("h-subj"), 1);
}

// ---------------------------------------------------------------- computed `active` (§3, §10)

#[tokio::test]
async fn session_active_ignores_the_identity_unless_it_is_expanded() {
    let (d, api) = current();
    let id = d.add_identity(IdentitySeed::new("off@example.com").inactive());
    let live = d.add_session(&id, SessionSeed::new());
    let revoked = d.add_session(&id, SessionSeed::new().revoked());
    let expired = d.add_session(&id, SessionSeed::new().expired());
    let get = |sid: String, q: &'static str| {
        let api = api.clone();
        async move { api.get(&format!("/admin/sessions/{sid}{q}")).await.json() }
    };
    // The identity is not loaded: `Session.IsActive` looks at the row only.
    let v = get(live.clone(), "").await;
    assert_eq!(v["active"], json!(true));
    assert_eq!(v["identity"], Value::Null);
    assert_eq!(
        get(live.clone(), "?expand=devices").await["active"],
        json!(true)
    );
    // Loaded: an inactive identity makes every session inactive.
    let v = get(live.clone(), "?expand=identity").await;
    assert_eq!(v["active"], json!(false));
    assert_eq!(v["identity"]["state"], json!("inactive"));
    assert_eq!(
        get(live.clone(), "?expand=identity&expand=devices").await["active"],
        json!(false)
    );
    // The identity-sessions listing always expands.
    let v = api
        .get(&format!("/admin/identities/{id}/sessions"))
        .await
        .json();
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .all(|s| s["active"] == json!(false))
    );
    // Revoked or expired rows are inactive either way; whoami refuses all of them.
    assert_eq!(get(revoked, "").await["active"], json!(false));
    assert_eq!(get(expired, "").await["active"], json!(false));
    assert!(!d.whoami(&live));
    // The project-wide listing follows the same rule.
    let v = api.get("/admin/sessions?active=true").await.json();
    assert_eq!(v[0]["id"], json!(live));
    assert_eq!(v[0]["active"], json!(true));
    let v = api
        .get("/admin/sessions?active=true&expand=identity")
        .await
        .json();
    assert_eq!(v[0]["active"], json!(false));
}

// ---------------------------------------------------------------- PUT password config (§7)

#[tokio::test]
async fn put_with_an_empty_password_config_is_refused() {
    let (d, api) = current();
    let id = d.add_identity(IdentitySeed::new("ep@example.com").password("keep"));
    let path = format!("/admin/identities/{id}");
    let before = d.identity_json(&id).unwrap();
    for creds in [
        json!({"password": {"config": {}}}),
        json!({"password": {}}),
        json!({"password": {"config": {"password": ""}}}),
        json!({"password": {"config": {"use_password_migration_hook": false}}}),
    ] {
        let mut body = put_body("ep@example.com");
        body["credentials"] = creds.clone();
        let r = api.json("PUT", &path, &body).await;
        assert_herodot(&r, 400);
        assert_eq!(
            r.reason(),
            "The imported password does not match any known hash format.",
            "{creds}"
        );
    }
    assert_eq!(d.identity_json(&id).unwrap(), before);
    assert!(matches!(
        d.password_login("ep@example.com", "keep"),
        LoginResult::Ok { .. }
    ));
    // A non-empty plaintext is still hashed and replaces the old hash.
    let mut body = put_body("ep@example.com");
    body["credentials"] = json!({"password": {"config": {"password": "fresh"}}});
    assert_eq!(api.json("PUT", &path, &body).await.status, 200);
    assert!(matches!(
        d.password_login("ep@example.com", "fresh"),
        LoginResult::Ok { .. }
    ));
}

// ---------------------------------------------------------------- hard delete (§4)

#[tokio::test]
async fn delete_identity_sessions_removes_every_row_with_its_devices() {
    let (d, api) = current();
    let id = d.add_identity(IdentitySeed::new("hd@example.com"));
    let other = d.add_identity(IdentitySeed::new("keep@example.com"));
    let kept = d.add_session(&other, SessionSeed::new());
    let sids = [
        d.add_session(&id, SessionSeed::new()),
        d.add_session(
            &id,
            SessionSeed::new()
                .revoked()
                .device("192.0.2.9", "curl/8", "Oslo, NO"),
        ),
        d.add_session(
            &id,
            SessionSeed::new()
                .expired()
                .device("192.0.2.10", "wget", "")
                .device("192.0.2.11", "httpie", ""),
        ),
        d.add_session(&id, SessionSeed::new().revoked().expired()),
    ];
    assert_eq!(d.sessions_of(&id).len(), 4);
    let r = api
        .delete(&format!("/admin/identities/{id}/sessions"))
        .await;
    assert_eq!(r.status, 204);
    assert!(d.sessions_of(&id).is_empty());
    for sid in &sids {
        let r = api
            .get(&format!("/admin/sessions/{sid}?expand=devices"))
            .await;
        assert_herodot(&r, 404);
    }
    let r = api.get(&format!("/admin/identities/{id}/sessions")).await;
    assert_eq!(r.json(), json!([]));
    assert_eq!(r.header("x-total-count").as_deref(), Some("0"));
    let all = api.get("/admin/sessions?expand=devices").await.json();
    assert_eq!(ids(&all), vec![kept.clone()]);
    assert_eq!(d.sessions_of(&other).len(), 1);
}

// ---------------------------------------------------------------- rate limits (§1)

fn header_u64(r: &Resp, name: &str) -> u64 {
    r.header(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn rate_limits_per_bucket_with_headers_on_every_answer() {
    let (d, api) = start(Config {
        rate_limit: Some(RateBudget {
            per_second: 1000,
            per_minute: 4,
        }),
        ..Config::default()
    });
    let id = d.add_identity(IdentitySeed::new("rl@example.com"));
    let sid = d.add_session(&id, SessionSeed::new());
    // GET identity and GET session share `kratos-admin-high`.
    for left in (0..4).rev() {
        let r = api.get(&format!("/admin/identities/{id}")).await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("x-ratelimit-limit").as_deref(),
            Some("1000, 1000;w=1, 4;w=60")
        );
        assert_eq!(header_u64(&r, "x-ratelimit-remaining"), left);
        let reset = header_u64(&r, "x-ratelimit-reset");
        assert!((1..=60).contains(&reset), "the minute binds: {reset}");
    }
    let r = api.get(&format!("/admin/sessions/{sid}")).await;
    assert_eq!(r.status, 429);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());
    assert_eq!(header_u64(&r, "x-ratelimit-remaining"), 0);
    assert!((1..=60).contains(&header_u64(&r, "x-ratelimit-reset")));
    assert_eq!(d.rate_limited(), 1);

    // Other buckets have their own budget; refusals by the gateway count and carry headers.
    let r = api
        .get(&format!("/admin/identities/{id}/sessions?page_size=1000"))
        .await;
    assert_herodot(&r, 400);
    assert_eq!(header_u64(&r, "x-ratelimit-remaining"), 3);
    // `kratos-admin-low`: an over-budget write never reaches the handler.
    for _ in 0..4 {
        assert_eq!(
            api.json(
                "PATCH",
                &format!("/admin/identities/{id}"),
                &json!([{"op": "replace", "path": "/metadata_admin", "value": {"n": 1}}])
            )
            .await
            .status,
            200
        );
    }
    let r = api.delete(&format!("/admin/sessions/{sid}")).await;
    assert_eq!(r.status, 429);
    assert!(d.sessions_of(&id)[0].db_active, "not revoked");
    assert_eq!(d.rate_limited(), 2);
    let stats = api.get("/__double/stats").await.json();
    assert_eq!(stats["rate_limited"], json!(2));
    // Health checks are not limited and carry no headers.
    let r = api.get("/health/alive").await;
    assert_eq!(r.status, 200);
    assert!(r.header("x-ratelimit-limit").is_none());
}

#[tokio::test]
async fn rate_limit_burst_per_second() {
    let (d, api) = start(Config {
        rate_limit: Some(RateBudget {
            per_second: 2,
            per_minute: 1000,
        }),
        ..Config::default()
    });
    let id = d.add_identity(IdentitySeed::new("burst@example.com"));
    let path = format!("/admin/identities/{id}");
    let answers = futures::future::join_all((0..10).map(|_| api.get(&path))).await;
    let ok = answers.iter().filter(|r| r.status == 200).count();
    let limited: Vec<&Resp> = answers.iter().filter(|r| r.status == 429).collect();
    // Ten requests within a few milliseconds span at most two one-second windows.
    assert!((2..=4).contains(&ok), "{ok} answered");
    assert_eq!(ok + limited.len(), 10);
    for r in &limited {
        assert_eq!(r.header("x-ratelimit-remaining").as_deref(), Some("0"));
        assert_eq!(r.header("x-ratelimit-reset").as_deref(), Some("1"));
    }
    assert_eq!(d.rate_limited(), limited.len() as u64);
    // Without the documents each route is its own bucket.
    let (d, api) = start(Config {
        openapi_dir: Some(missing_dir()),
        rate_limit: Some(RateBudget {
            per_second: 100,
            per_minute: 1,
        }),
        ..Config::default()
    });
    let id = d.add_identity(IdentitySeed::new("fallback@example.com"));
    let sid = d.add_session(&id, SessionSeed::new());
    assert_eq!(
        api.get(&format!("/admin/identities/{id}")).await.status,
        200
    );
    assert_eq!(
        api.get(&format!("/admin/identities/{id}")).await.status,
        429
    );
    assert_eq!(api.get(&format!("/admin/sessions/{sid}")).await.status, 200);
}

// ---------------------------------------------------------------- Hydra paging and logout (§12)

/// The path and query of a Link relation.
fn link_path(link: &str, rel: &str) -> Option<String> {
    let part = link
        .split(',')
        .find(|p| p.contains(&format!("rel=\"{rel}\"")))?;
    Some(part[part.find('<')? + 1..part.find('>')?].to_string())
}

fn consent_ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| c["consent_request_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn hydra_consents_page_with_link_headers() {
    let (d, api) = current();
    let mut seeded = d.add_consents("pager", "client-a", 7);
    seeded.sort();
    d.add_consent("someone-else", "client-a");

    let r = api
        .get("/admin/oauth2/auth/sessions/consent?subject=pager&page_size=3")
        .await;
    assert_eq!(r.status, 200);
    let page1 = consent_ids(&r.json());
    assert_eq!(page1.len(), 3);
    let c = &r.json()[0];
    assert_eq!(c["consent_request"]["subject"], json!("pager"));
    assert_eq!(
        c["consent_request"]["client"]["client_id"],
        json!("client-a")
    );
    assert_eq!(c["consent_request"]["client"]["client_secret"], json!(""));
    let sid = c["consent_request"]["login_session_id"].as_str().unwrap();
    assert_eq!(
        d.login_session_of_consent(c["consent_request_id"].as_str().unwrap())
            .as_deref(),
        Some(sid)
    );
    let link = r.header("link").unwrap();
    let first = link_path(&link, "first").unwrap();
    let next = link_path(&link, "next").unwrap();
    assert!(
        first.starts_with("/admin/oauth2/auth/sessions/consent?page_size=3&page_token="),
        "{first}"
    );
    assert!(first.ends_with("&subject=pager"), "{first}");
    // Tokens are opaque: no JSON, no offset, no id inside.
    let token = next
        .split('&')
        .find_map(|kv| kv.strip_prefix("page_token="))
        .unwrap()
        .replace("%3D", "=");
    let raw = base64::engine::general_purpose::URL_SAFE
        .decode(&token)
        .unwrap();
    assert!(serde_json::from_slice::<Value>(&raw).is_err());
    assert!(!String::from_utf8_lossy(&raw).contains("offset"));

    let r = api.get(&next).await;
    let page2 = consent_ids(&r.json());
    assert_eq!(page2.len(), 3);
    let link = r.header("link").unwrap();
    assert!(link.contains("rel=\"first\"") && link.contains("rel=\"next\""));
    let r = api.get(&link_path(&link, "next").unwrap()).await;
    let page3 = consent_ids(&r.json());
    assert_eq!(page3.len(), 1);
    let link = r.header("link").unwrap();
    assert!(link.contains("rel=\"first\""), "{link}");
    assert!(
        !link.contains("rel=\"next\""),
        "the last page has no next: {link}"
    );
    let mut all: Vec<String> = [page1.clone(), page2, page3].concat();
    all.sort();
    assert_eq!(all, seeded, "every consent once");
    // `first` leads back to the first page.
    assert_eq!(consent_ids(&api.get(&first).await.json()), page1);

    // A page that holds everything: `first` only.
    let r = api
        .get("/admin/oauth2/auth/sessions/consent?subject=pager&page_size=500")
        .await;
    assert_eq!(consent_ids(&r.json()).len(), 7);
    let link = r.header("link").unwrap();
    assert_eq!(link.matches("rel=").count(), 1, "{link}");
    // Unknown subject: [] without Link.
    let r = api
        .get("/admin/oauth2/auth/sessions/consent?subject=nobody")
        .await;
    assert_eq!(r.json(), json!([]));
    assert!(r.header("link").is_none());
    // A token the server did not issue.
    let desc = assert_hydra_400(
        &api.get(
            "/admin/oauth2/auth/sessions/consent?subject=pager&page_token=eyJvZmZzZXQiOiIzIn0",
        )
        .await,
    );
    assert!(desc.contains("invalid pagination token"), "{desc}");

    // Hydra's handler sets no default page size: the paginator's 100 applies.
    d.add_consents("many", "client-b", 101);
    let r = api
        .get("/admin/oauth2/auth/sessions/consent?subject=many")
        .await;
    assert_eq!(consent_ids(&r.json()).len(), 100);
    let next = link_path(&r.header("link").unwrap(), "next").unwrap();
    assert!(next.contains("page_size=100"), "{next}");
    assert_eq!(consent_ids(&api.get(&next).await.json()).len(), 1);
}

#[tokio::test]
async fn hydra_login_sessions_by_subject_and_by_sid() {
    let (d, api) = current();
    let s1 = d.add_login_session("u");
    let c1 = d.add_consent_in_login_session("u", "a", &s1);
    let c2 = d.add_consent_in_login_session("u", "b", &s1);
    let c3 = d.add_consent("u", "c");
    let s3 = d.login_session_of_consent(&c3).unwrap();
    assert_eq!(
        d.login_session_of_consent(&c1).as_deref(),
        Some(s1.as_str())
    );
    assert_eq!(d.login_sessions_of("u"), 2);
    assert_eq!(d.tokens_of("u"), 6);
    let v = api
        .get(&format!(
            "/admin/oauth2/auth/sessions/consent?subject=u&login_session_id={s1}"
        ))
        .await
        .json();
    let mut got = consent_ids(&v);
    got.sort();
    let mut want = vec![c1.clone(), c2.clone()];
    want.sort();
    assert_eq!(got, want);

    // sid: a headless logout of that one session, with back-channel logout.
    assert_eq!(
        api.delete(&format!("/admin/oauth2/auth/sessions/login?sid={s1}"))
            .await
            .status,
        204
    );
    assert_eq!(d.backchannel_logouts(), vec![s1.clone()]);
    assert_eq!(d.login_sessions_of("u"), 1);
    // The consents and their tokens stay; they no longer point at the session.
    assert_eq!(d.consents_of("u"), 3);
    assert_eq!(d.tokens_of("u"), 6);
    assert_eq!(d.login_session_of_consent(&c1), None);
    let v = api
        .get(&format!(
            "/admin/oauth2/auth/sessions/consent?subject=u&login_session_id={s1}"
        ))
        .await
        .json();
    assert_eq!(v, json!([]));
    // An unknown sid: 204, nobody to notify.
    assert_eq!(
        api.delete("/admin/oauth2/auth/sessions/login?sid=unknown")
            .await
            .status,
        204
    );
    assert_eq!(d.backchannel_logouts(), vec![s1.clone()]);

    // subject: every remembered session goes, without any logout notification.
    assert_eq!(
        api.delete("/admin/oauth2/auth/sessions/login?subject=u")
            .await
            .status,
        204
    );
    assert_eq!(d.login_sessions_of("u"), 0);
    assert_eq!(d.login_session_of_consent(&c3), None);
    assert_eq!(d.backchannel_logouts(), vec![s1.clone()]);
    assert_eq!(d.tokens_of("u"), 6, "no token is revoked");
    assert!(!s3.is_empty());

    // sid wins when both are given.
    let s4 = d.add_login_session("v");
    d.add_login_session("v");
    assert_eq!(
        api.delete(&format!(
            "/admin/oauth2/auth/sessions/login?subject=v&sid={s4}"
        ))
        .await
        .status,
        204
    );
    assert_eq!(d.login_sessions_of("v"), 1);
    assert_eq!(d.backchannel_logouts(), vec![s1, s4]);
}

#[tokio::test]
async fn hydra_consent_revocation_takes_the_tokens_per_client() {
    let (d, api) = current();
    let a = d.add_consents("w", "client-a", 2);
    let b = d.add_consent("w", "client-b");
    d.add_consent("x", "client-a");
    assert_eq!(d.tokens_of("w"), 6);
    assert_eq!(
        api.delete("/admin/oauth2/auth/sessions/consent?subject=w&client=client-a")
            .await
            .status,
        204
    );
    assert_eq!(d.consents_of("w"), 1);
    assert_eq!(d.tokens_of("w"), 2);
    assert_eq!(d.tokens_of("x"), 2, "another subject keeps its tokens");
    let v = api
        .get("/admin/oauth2/auth/sessions/consent?subject=w")
        .await
        .json();
    assert_eq!(consent_ids(&v), vec![b.clone()]);
    assert!(a.iter().all(|c| d.login_session_of_consent(c).is_none()));
    // consent_request_id alone (Hydra ignores `all` there).
    assert_eq!(
        api.delete(&format!(
            "/admin/oauth2/auth/sessions/consent?consent_request_id={b}&all=true"
        ))
        .await
        .status,
        204
    );
    assert_eq!(d.tokens_of("w"), 0);
    assert_eq!(
        api.delete("/admin/oauth2/auth/sessions/consent?subject=x&all=true")
            .await
            .status,
        204
    );
    assert_eq!(d.tokens_of("x"), 0);
}

// ---------------------------------------------------------------- untrusted answers

#[tokio::test]
async fn a_json_fault_answers_with_another_identitys_body() {
    let (d, api) = current();
    let a = d.add_identity(IdentitySeed::new("a@example.com"));
    let b = d.add_identity(IdentitySeed::new("b@example.com"));
    let b_json = d.identity_json(&b).unwrap();
    d.inject(
        Fault::new(FaultKind::Json {
            status: 200,
            body: b_json.clone(),
        })
        .on("GET", &format!("/admin/identities/{a}")),
    );
    let r = api.get(&format!("/admin/identities/{a}")).await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(r.json()["id"], json!(b));
    assert_eq!(r.json(), b_json);
    assert_eq!(
        api.get(&format!("/admin/identities/{a}")).await.json()["id"],
        json!(a)
    );
}
