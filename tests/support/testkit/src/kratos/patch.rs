//! RFC 6902 JSON Patch as Kratos applies it through `ory/x jsonx.ApplyJSONPatch` (reference
//! §6): only `add`, `remove` and `replace`; a deny list checked on every op before anything is
//! applied; `add` creates missing parents ("ensure path exists"), and `replace` on a non-index
//! path is turned into such an `add`, so replacing a missing key works. Error texts follow
//! `evanphx/json-patch`, which Kratos returns in the herodot `message`.

use serde_json::{Map, Value};

use super::Flavour;

/// One decoded operation.
#[derive(Debug, Clone)]
pub(crate) struct Op {
    pub op: String,
    pub path: String,
    pub value: Option<Value>,
}

/// Go's `json.Unmarshal` into `jsonpatch.Patch`, with its error texts.
pub(crate) fn decode(body: &[u8]) -> Result<Vec<Op>, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err("unexpected end of JSON input".into());
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        if e.is_eof() {
            "unexpected end of JSON input".to_string()
        } else {
            format!("invalid character in JSON input: {e}")
        }
    })?;
    let Value::Array(items) = v else {
        return Err(format!(
            "json: cannot unmarshal {} into Go value of type jsonpatch.Patch",
            go_kind(&v)
        ));
    };
    let mut ops = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(m) = item else {
            return Err(format!(
                "json: cannot unmarshal {} into Go value of type jsonpatch.Operation",
                go_kind(&item)
            ));
        };
        let op = match m.get("op") {
            Some(Value::String(s)) => s.clone(),
            _ => "unknown".into(),
        };
        let path = match m.get("path") {
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        };
        let has_path = matches!(m.get("path"), Some(Value::String(_)));
        ops.push(Op {
            op,
            path: if has_path { path } else { "\u{0}".into() },
            value: m.get("value").cloned(),
        });
    }
    Ok(ops)
}

fn go_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Whether `path` is on the flavour's deny list (reference §6).
/// - Current (HEAD): case-insensitive glob over `/id`, `/stateChangedAt`, `/credentials`,
///   `/credentials/oidc`, `/credentials/oidc/**`, `/credentials/saml`, `/credentials/saml/**`.
/// - v1.3.x: exact match of `/id`, `/stateChangedAt`, `/credentials`.
///
/// Note the JSON field is `state_changed_at`: the `/stateChangedAt` entry protects nothing.
pub(crate) fn denied(flavour: Flavour, path: &str) -> bool {
    match flavour {
        Flavour::V1_3 => matches!(path, "/id" | "/stateChangedAt" | "/credentials"),
        Flavour::Current => {
            let p = path.to_lowercase();
            matches!(
                p.as_str(),
                "/id"
                    | "/statechangedat"
                    | "/credentials"
                    | "/credentials/oidc"
                    | "/credentials/saml"
            ) || p.starts_with("/credentials/oidc/")
                || p.starts_with("/credentials/saml/")
        }
    }
}

/// Checks every op (supported kind, path, deny list) before anything is applied, like
/// `ApplyJSONPatch`.
pub(crate) fn check(flavour: Flavour, ops: &[Op]) -> Result<(), String> {
    for op in ops {
        if !matches!(op.op.as_str(), "add" | "remove" | "replace") {
            return Err(format!("unsupported operation: {}", op.op));
        }
        if op.path == "\u{0}" {
            return Err("error parsing patch operations: operation missing path field".into());
        }
        if denied(flavour, &op.path) {
            return Err(format!("patch includes denied path: {}", op.path));
        }
    }
    Ok(())
}

fn parse_pointer(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(vec![]);
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err(format!(
            "JSON pointer must be empty or start with a \"/\": {path}"
        ));
    };
    Ok(rest
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn is_index(s: &str) -> bool {
    s == "-" || (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
}

/// Applies the (already checked) ops in order.
pub(crate) fn apply(doc: &mut Value, ops: &[Op]) -> Result<(), String> {
    for op in ops {
        let parts = parse_pointer(&op.path)?;
        match op.op.as_str() {
            "add" => add(doc, &op.path, &parts, op.value.clone(), "add")?,
            "replace" => {
                let last_is_index = parts.last().is_some_and(|p| is_index(p));
                if last_is_index {
                    replace_index(doc, &op.path, &parts, op.value.clone())?;
                } else {
                    add(doc, &op.path, &parts, op.value.clone(), "replace")?;
                }
            }
            "remove" => remove(doc, &op.path, &parts)?,
            other => return Err(format!("unsupported operation: {other}")),
        }
    }
    Ok(())
}

fn missing_path(kind: &str, path: &str) -> String {
    format!("{kind} operation does not apply: doc is missing path: \"{path}\": missing value")
}

/// `add` with "ensure path exists": missing parents become objects (or arrays when the next
/// token is an index).
fn add(
    doc: &mut Value,
    path: &str,
    parts: &[String],
    value: Option<Value>,
    kind: &str,
) -> Result<(), String> {
    let Some(value) = value else {
        return Err(format!("error in {kind} for path: '{path}': missing value"));
    };
    let Some((last, parents)) = parts.split_last() else {
        *doc = value;
        return Ok(());
    };
    let mut cur = doc;
    for (i, key) in parents.iter().enumerate() {
        let next_is_index = parts.get(i + 1).is_some_and(|p| is_index(p));
        cur = match cur {
            Value::Object(m) => m.entry(key.clone()).or_insert_with(|| {
                if next_is_index {
                    Value::Array(vec![])
                } else {
                    Value::Object(Map::new())
                }
            }),
            Value::Array(a) => {
                let idx: usize = key.parse().map_err(|_| missing_path(kind, path))?;
                a.get_mut(idx).ok_or_else(|| missing_path(kind, path))?
            }
            _ => return Err(missing_path(kind, path)),
        };
        if cur.is_null() {
            *cur = if next_is_index {
                Value::Array(vec![])
            } else {
                Value::Object(Map::new())
            };
        }
    }
    match cur {
        Value::Object(m) => {
            m.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(a) => {
            if last == "-" {
                a.push(value);
                return Ok(());
            }
            let idx: usize = last.parse().map_err(|_| {
                format!("error in {kind} for path: '{path}': Unable to access invalid index: {last}: invalid index referenced")
            })?;
            if idx > a.len() {
                return Err(format!(
                    "error in {kind} for path: '{path}': Unable to access invalid index: {idx}: invalid index referenced"
                ));
            }
            a.insert(idx, value);
            Ok(())
        }
        _ => Err(missing_path(kind, path)),
    }
}

fn find_parent<'a>(doc: &'a mut Value, parents: &[String]) -> Option<&'a mut Value> {
    let mut cur = doc;
    for key in parents {
        cur = match cur {
            Value::Object(m) => m.get_mut(key)?,
            Value::Array(a) => a.get_mut(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn replace_index(
    doc: &mut Value,
    path: &str,
    parts: &[String],
    value: Option<Value>,
) -> Result<(), String> {
    let Some(value) = value else {
        return Err(format!(
            "error in replace for path: '{path}': missing value"
        ));
    };
    let Some((last, parents)) = parts.split_last() else {
        *doc = value;
        return Ok(());
    };
    let parent = find_parent(doc, parents).ok_or_else(|| missing_path("replace", path))?;
    match parent {
        Value::Array(a) => {
            let slot = last.parse::<usize>().ok().and_then(|i| a.get_mut(i)).ok_or_else(|| {
                format!("replace operation does not apply: doc is missing key: {path}: missing value")
            })?;
            *slot = value;
            Ok(())
        }
        Value::Object(m) => {
            m.insert(last.clone(), value);
            Ok(())
        }
        _ => Err(missing_path("replace", path)),
    }
}

fn remove(doc: &mut Value, path: &str, parts: &[String]) -> Result<(), String> {
    let Some((last, parents)) = parts.split_last() else {
        return Err(missing_path("remove", path));
    };
    let parent = find_parent(doc, parents).ok_or_else(|| missing_path("remove", path))?;
    match parent {
        Value::Object(m) => {
            if m.remove(last).is_none() {
                return Err(format!(
                    "error in remove for path: '{path}': Unable to remove nonexistent key: {last}: missing value"
                ));
            }
            Ok(())
        }
        Value::Array(a) => {
            let idx = last.parse::<usize>().ok().filter(|i| *i < a.len()).ok_or_else(|| {
                format!("error in remove for path: '{path}': Unable to access invalid index: {last}: invalid index referenced")
            })?;
            a.remove(idx);
            Ok(())
        }
        _ => Err(missing_path("remove", path)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(doc: Value, patch: Value) -> Result<Value, String> {
        let ops = decode(patch.to_string().as_bytes())?;
        check(Flavour::Current, &ops)?;
        let mut d = doc;
        apply(&mut d, &ops)?;
        Ok(d)
    }

    #[test]
    fn ops() {
        let d = run(
            json!({"a": {"b": 1}, "l": [1, 2]}),
            json!([
                {"op": "replace", "path": "/x/y", "value": 2},
                {"op": "remove", "path": "/a/b"},
                {"op": "add", "path": "/l/-", "value": 3},
                {"op": "replace", "path": "/l/0", "value": 0},
            ]),
        )
        .unwrap();
        assert_eq!(d, json!({"a": {}, "x": {"y": 2}, "l": [0, 2, 3]}));
        assert_eq!(
            run(
                json!({}),
                json!([{"op": "move", "path": "/a", "from": "/b"}])
            )
            .unwrap_err(),
            "unsupported operation: move"
        );
        assert_eq!(
            run(
                json!({}),
                json!([{"op": "remove", "path": "/credentials/password"}])
            )
            .unwrap_err(),
            "remove operation does not apply: doc is missing path: \"/credentials/password\": missing value"
        );
        assert_eq!(decode(b"").unwrap_err(), "unexpected end of JSON input");
        assert!(denied(Flavour::Current, "/Credentials/OIDC/config"));
        assert!(!denied(Flavour::Current, "/credentials/password"));
        assert!(!denied(Flavour::V1_3, "/credentials/oidc"));
        assert!(denied(Flavour::V1_3, "/credentials"));
    }
}
