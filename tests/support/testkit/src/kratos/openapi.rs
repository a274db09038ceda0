//! Request validation against the official OpenAPI 3.0.3 documents of Kratos and Hydra
//! (`shared/reference/kratos-admin-openapi.json`, `…/hydra-admin-openapi.json`), as a
//! spec-enforcing gateway in front of the real servers would do it.
//!
//! The documents are read and compiled once per process (per folder): every admin operation
//! (plus `/health/*` and `/version`, which the admin port also serves) is indexed by method
//! and path template, and every schema its parameters and JSON body reach is compiled into a
//! small arena with `$ref`s resolved, so a request costs a template match and a walk over
//! its own query and body, never a look at the documents themselves.
//!
//! What is checked, for a request that matches a documented operation:
//! - query parameters: names the operation does not declare are refused; `required`; the
//!   value's `type` (`integer`, `number`, `boolean` as Go's `strconv.ParseBool` reads it,
//!   `string`, or an `array` given as repeated keys); `enum`; `minimum`/`maximum`;
//!   `minLength`/`maxLength`; a non-array parameter given twice is refused;
//! - path parameters: the same rules on the decoded segment (e.g. the credential `type` enum);
//! - a non-empty JSON body against the operation's `requestBody` schema: `type` (with
//!   OpenAPI's `nullable`), `properties`, `required`, `enum`, `items`, `additionalProperties`
//!   (`false` or a schema), `minimum`/`maximum`, `minLength`/`maxLength`, `allOf`, `oneOf`,
//!   `anyOf`. A schema without `type` accepts anything. An empty body is refused only when
//!   `requestBody.required` is true; a body that is not JSON is left to the handler, which
//!   answers it with the server's own decoding error.
//!
//! Not checked: `format` and `pattern` (the documents use them for uuids, dates and Go
//! durations; the handlers check those values themselves), and `readOnly`/`writeOnly`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Map, Value};

/// Which server's document an operation comes from (it decides the error shape).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Api {
    Kratos,
    Hydra,
}

type SchemaId = usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Object,
    Array,
    String,
    Integer,
    Number,
    Boolean,
}

impl Ty {
    fn parse(s: &str) -> Option<Ty> {
        Some(match s {
            "object" => Ty::Object,
            "array" => Ty::Array,
            "string" => Ty::String,
            "integer" => Ty::Integer,
            "number" => Ty::Number,
            "boolean" => Ty::Boolean,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Ty::Object => "object",
            Ty::Array => "array",
            Ty::String => "string",
            Ty::Integer => "integer",
            Ty::Number => "number",
            Ty::Boolean => "boolean",
        }
    }
}

#[derive(Clone, Debug, Default)]
enum Additional {
    #[default]
    Any,
    Forbidden,
    Schema(SchemaId),
}

/// One compiled schema.
#[derive(Clone, Debug, Default)]
struct Node {
    ty: Option<Ty>,
    nullable: bool,
    properties: HashMap<String, SchemaId>,
    required: Vec<String>,
    additional: Additional,
    items: Option<SchemaId>,
    enumeration: Option<Vec<Value>>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    exclusive_minimum: bool,
    exclusive_maximum: bool,
    min_length: Option<usize>,
    max_length: Option<usize>,
    all_of: Vec<SchemaId>,
    one_of: Vec<SchemaId>,
    any_of: Vec<SchemaId>,
}

#[derive(Clone, Debug)]
enum Seg {
    Lit(String),
    Param(String),
}

#[derive(Clone, Debug)]
struct Param {
    name: String,
    required: bool,
    schema: SchemaId,
}

#[derive(Clone, Debug)]
struct Body {
    required: bool,
    schema: SchemaId,
}

/// One documented operation.
#[derive(Clone, Debug)]
pub(crate) struct Operation {
    pub api: Api,
    pub method: String,
    /// The path template, `/admin`-prefixed like the double's canonical paths.
    pub template: String,
    pub operation_id: String,
    /// `x-ory-ratelimit-bucket`, when the operation declares one.
    pub bucket: Option<String>,
    segs: Vec<Seg>,
    query: Vec<Param>,
    path: Vec<Param>,
    body: Option<Body>,
}

/// Both documents, compiled.
pub(crate) struct OpenApi {
    ops: Vec<Operation>,
    /// Method → indexes into `ops`.
    by_method: HashMap<String, Vec<usize>>,
    nodes: Vec<Node>,
}

/// A broken rule: where (`query parameter 'page_size'`, `request body field 'traits'`) and
/// which rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    pub at: String,
    pub rule: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.at, self.rule)
    }
}

pub(crate) const KRATOS_FILE: &str = "kratos-admin-openapi.json";
pub(crate) const HYDRA_FILE: &str = "hydra-admin-openapi.json";

/// Where the documents are when `Config::openapi_dir` is `None`: the `shared/reference`
/// folder that sits beside the repository checkout.
pub(crate) fn default_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../../shared/reference"
    ))
}

/// The compiled documents of `dir`, read once per process. `None` (after one warning on
/// stderr per folder) when they cannot be read.
pub(crate) fn shared(dir: &Path) -> Option<Arc<OpenApi>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Option<Arc<OpenApi>>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut cache = crate::common::lock(cache);
    if let Some(v) = cache.get(dir) {
        return v.clone();
    }
    let loaded = match OpenApi::load(dir) {
        Ok(api) => Some(Arc::new(api)),
        Err(e) => {
            eprintln!(
                "kratos double: WARNING: no OpenAPI validation: {e} (looked in {})",
                dir.display()
            );
            None
        }
    };
    cache.insert(dir.to_path_buf(), loaded.clone());
    loaded
}

/// The spec paths (outside `/admin`) the admin port serves too.
fn served_outside_admin(path: &str) -> bool {
    path == "/version" || path.starts_with("/health/")
}

fn canonical(path: &str) -> String {
    if path == "/admin" || path.starts_with("/admin/") {
        path.to_string()
    } else {
        format!("/admin{path}")
    }
}

/// `#/components/schemas/x` → the value it points at.
fn resolve<'a>(doc: &'a Value, reference: &str) -> Result<&'a Value, String> {
    let Some(pointer) = reference.strip_prefix('#') else {
        return Err(format!("unsupported $ref {reference}"));
    };
    doc.pointer(pointer)
        .ok_or_else(|| format!("dangling $ref {reference}"))
}

struct Compiler<'a> {
    doc: &'a Value,
    nodes: &'a mut Vec<Node>,
    /// `$ref` of this document → its node.
    refs: HashMap<String, SchemaId>,
}

impl Compiler<'_> {
    fn compile(&mut self, v: &Value) -> Result<SchemaId, String> {
        if let Some(r) = v.get("$ref").and_then(Value::as_str) {
            if let Some(id) = self.refs.get(r) {
                return Ok(*id);
            }
            // Reserve the slot first, so a recursive schema refers to itself.
            let id = self.nodes.len();
            self.nodes.push(Node::default());
            self.refs.insert(r.to_string(), id);
            let target = resolve(self.doc, r)?;
            let node = self.build(target)?;
            self.nodes[id] = node;
            return Ok(id);
        }
        let node = self.build(v)?;
        self.nodes.push(node);
        Ok(self.nodes.len() - 1)
    }

    fn list(&mut self, v: Option<&Value>) -> Result<Vec<SchemaId>, String> {
        match v.and_then(Value::as_array) {
            Some(a) => a.iter().map(|s| self.compile(s)).collect(),
            None => Ok(vec![]),
        }
    }

    fn build(&mut self, v: &Value) -> Result<Node, String> {
        let Some(o) = v.as_object() else {
            // `true`/`{}`-like schemas accept anything.
            return Ok(Node::default());
        };
        if o.contains_key("$ref") {
            // A `$ref` pointing at another `$ref`.
            let id = self.compile(v)?;
            return Ok(Node {
                all_of: vec![id],
                ..Node::default()
            });
        }
        let mut n = Node {
            ty: o.get("type").and_then(Value::as_str).and_then(Ty::parse),
            nullable: o.get("nullable").and_then(Value::as_bool) == Some(true),
            enumeration: o.get("enum").and_then(Value::as_array).cloned(),
            minimum: o.get("minimum").and_then(Value::as_f64),
            maximum: o.get("maximum").and_then(Value::as_f64),
            exclusive_minimum: o.get("exclusiveMinimum").and_then(Value::as_bool) == Some(true),
            exclusive_maximum: o.get("exclusiveMaximum").and_then(Value::as_bool) == Some(true),
            min_length: o
                .get("minLength")
                .and_then(Value::as_u64)
                .map(|x| x as usize),
            max_length: o
                .get("maxLength")
                .and_then(Value::as_u64)
                .map(|x| x as usize),
            required: o
                .get("required")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            ..Node::default()
        };
        if let Some(props) = o.get("properties").and_then(Value::as_object) {
            for (k, s) in props {
                let id = self.compile(s)?;
                n.properties.insert(k.clone(), id);
            }
        }
        n.additional = match o.get("additionalProperties") {
            None | Some(Value::Bool(true)) => Additional::Any,
            Some(Value::Bool(false)) => Additional::Forbidden,
            Some(s) => Additional::Schema(self.compile(s)?),
        };
        if let Some(items) = o.get("items") {
            n.items = Some(self.compile(items)?);
        }
        n.all_of = self.list(o.get("allOf"))?;
        n.one_of = self.list(o.get("oneOf"))?;
        n.any_of = self.list(o.get("anyOf"))?;
        Ok(n)
    }
}

impl OpenApi {
    /// Reads and compiles both documents of `dir`.
    pub fn load(dir: &Path) -> Result<OpenApi, String> {
        let read = |file: &str| -> Result<Value, String> {
            let p = dir.join(file);
            let text =
                std::fs::read(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            serde_json::from_slice(&text).map_err(|e| format!("{} is not JSON: {e}", p.display()))
        };
        let kratos = read(KRATOS_FILE)?;
        let hydra = read(HYDRA_FILE)?;
        Self::from_documents(&[(Api::Kratos, &kratos), (Api::Hydra, &hydra)])
    }

    /// Compiles documents already parsed; an operation documented twice (`/health/alive` is
    /// in both) keeps its first definition.
    pub fn from_documents(docs: &[(Api, &Value)]) -> Result<OpenApi, String> {
        let mut api = OpenApi {
            ops: vec![],
            by_method: HashMap::new(),
            nodes: vec![],
        };
        for (which, doc) in docs {
            api.add_document(*which, doc)?;
        }
        Ok(api)
    }

    fn add_document(&mut self, which: Api, doc: &Value) -> Result<(), String> {
        let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
            return Err("the document has no paths".into());
        };
        let mut c = Compiler {
            doc,
            nodes: &mut self.nodes,
            refs: HashMap::new(),
        };
        let mut new_ops = vec![];
        for (path, item) in paths {
            if !(path.starts_with("/admin/") || served_outside_admin(path)) {
                continue;
            }
            let Some(item) = item.as_object() else {
                continue;
            };
            let shared_params = item
                .get("parameters")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let template = canonical(path);
            for (method, op) in item {
                if !matches!(
                    method.as_str(),
                    "get" | "put" | "post" | "delete" | "patch" | "head" | "options"
                ) {
                    continue;
                }
                let method = method.to_ascii_uppercase();
                let mut params: Vec<Value> = shared_params.clone();
                for p in op
                    .get("parameters")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    params.push(p.clone());
                }
                let mut query: Vec<Param> = vec![];
                let mut path_params: Vec<Param> = vec![];
                for p in &params {
                    let p = match p.get("$ref").and_then(Value::as_str) {
                        Some(r) => resolve(doc, r)?,
                        None => p,
                    };
                    let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
                    let schema = match p.get("schema") {
                        Some(s) => c.compile(s)?,
                        None => c.compile(&Value::Object(Map::new()))?,
                    };
                    let param = Param {
                        name: name.to_string(),
                        required: p.get("required").and_then(Value::as_bool) == Some(true),
                        schema,
                    };
                    let list = match p.get("in").and_then(Value::as_str) {
                        Some("query") => &mut query,
                        Some("path") => &mut path_params,
                        // Headers and cookies are not checked.
                        _ => continue,
                    };
                    // An operation's own parameter overrides the path item's one.
                    list.retain(|q| q.name != param.name);
                    list.push(param);
                }
                let body = match op.get("requestBody") {
                    None => None,
                    Some(rb) => {
                        let rb = match rb.get("$ref").and_then(Value::as_str) {
                            Some(r) => resolve(doc, r)?,
                            None => rb,
                        };
                        match rb.pointer("/content/application~1json/schema") {
                            Some(s) => Some(Body {
                                required: rb.get("required").and_then(Value::as_bool) == Some(true),
                                schema: c.compile(s)?,
                            }),
                            // Form bodies (introspection) are not checked.
                            None => None,
                        }
                    }
                };
                let segs = template
                    .trim_start_matches('/')
                    .split('/')
                    .map(
                        |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                            Some(name) => Seg::Param(name.to_string()),
                            None => Seg::Lit(s.to_string()),
                        },
                    )
                    .collect();
                new_ops.push(Operation {
                    api: which,
                    method,
                    template: template.clone(),
                    operation_id: op
                        .get("operationId")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    bucket: op
                        .get("x-ory-ratelimit-bucket")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    segs,
                    query,
                    path: path_params,
                    body,
                });
            }
        }
        for op in new_ops {
            let dup = self
                .ops
                .iter()
                .any(|o| o.method == op.method && o.template == op.template);
            if dup {
                continue;
            }
            self.by_method
                .entry(op.method.clone())
                .or_default()
                .push(self.ops.len());
            self.ops.push(op);
        }
        Ok(())
    }

    /// How many operations are indexed.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// The operation a request is for: same method, same number of segments, every literal
    /// segment equal; the template with the most literal segments wins.
    pub fn find(&self, method: &str, segs: &[String]) -> Option<&Operation> {
        let mut best: Option<(&Operation, usize)> = None;
        for &i in self.by_method.get(method)? {
            let op = &self.ops[i];
            if op.segs.len() != segs.len() {
                continue;
            }
            let mut literal = 0;
            let fits = op.segs.iter().zip(segs).all(|(t, s)| match t {
                Seg::Lit(l) => {
                    literal += 1;
                    l == s
                }
                Seg::Param(_) => !s.is_empty(),
            });
            if fits && best.is_none_or(|(_, n)| literal > n) {
                best = Some((op, literal));
            }
        }
        best.map(|(op, _)| op)
    }

    /// Checks a request against its operation: path segments (decoded), query pairs
    /// (decoded, in order) and the raw body.
    pub fn check(
        &self,
        op: &Operation,
        segs: &[String],
        query: &[(String, String)],
        body: &[u8],
    ) -> Result<(), Violation> {
        for (t, s) in op.segs.iter().zip(segs) {
            if let Seg::Param(name) = t
                && let Some(p) = op.path.iter().find(|p| &p.name == name)
            {
                let at = format!("path parameter '{name}'");
                let v = self.scalar_from_text(p.schema, s, &at)?;
                self.value(p.schema, &v, &at)?;
            }
        }
        for (name, _) in query {
            if !op.query.iter().any(|p| &p.name == name) {
                return Err(Violation {
                    at: format!("query parameter '{name}'"),
                    rule: format!(
                        "not declared by the operation {} ({} {})",
                        op.operation_id, op.method, op.template
                    ),
                });
            }
        }
        for p in &op.query {
            let at = format!("query parameter '{}'", p.name);
            let values: Vec<&str> = query
                .iter()
                .filter(|(k, _)| *k == p.name)
                .map(|(_, v)| v.as_str())
                .collect();
            if values.is_empty() {
                if p.required {
                    return Err(Violation {
                        at,
                        rule: "required but missing (required)".into(),
                    });
                }
                continue;
            }
            let node = &self.nodes[p.schema];
            if node.ty == Some(Ty::Array) {
                let items = node.items;
                let mut arr = Vec::with_capacity(values.len());
                for (i, v) in values.iter().enumerate() {
                    let at_i = format!("{at}[{i}]");
                    arr.push(match items {
                        Some(it) => self.scalar_from_text(it, v, &at_i)?,
                        None => Value::String(v.to_string()),
                    });
                }
                self.value(p.schema, &Value::Array(arr), &at)?;
            } else {
                if values.len() > 1 {
                    return Err(Violation {
                        at,
                        rule: format!(
                            "given {} times, but it is not an array (type)",
                            values.len()
                        ),
                    });
                }
                let v = self.scalar_from_text(p.schema, values[0], &at)?;
                self.value(p.schema, &v, &at)?;
            }
        }
        if let Some(b) = &op.body {
            if body.iter().all(u8::is_ascii_whitespace) {
                if b.required {
                    return Err(Violation {
                        at: "request body".into(),
                        rule: "required by the operation, but empty (requestBody.required)".into(),
                    });
                }
                return Ok(());
            }
            // Not JSON: the handler answers with the server's own decoding error.
            if let Ok(v) = serde_json::from_slice::<Value>(body) {
                self.value(b.schema, &v, "request body")?;
            }
        }
        Ok(())
    }

    /// A query or path value as the typed JSON value the schema describes.
    fn scalar_from_text(&self, id: SchemaId, text: &str, at: &str) -> Result<Value, Violation> {
        let ty = self.effective_type(id);
        let bad = |what: &str| Violation {
            at: at.to_string(),
            rule: format!("must be {what} (type), got {text:?}"),
        };
        Ok(match ty {
            Some(Ty::Integer) => match parse_go_int(text) {
                Some(n) => Value::from(n),
                None => return Err(bad("an integer")),
            },
            Some(Ty::Number) => match text.trim().parse::<f64>() {
                Ok(f) if f.is_finite() => serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or_else(|| bad("a number"))?,
                _ => return Err(bad("a number")),
            },
            Some(Ty::Boolean) => match parse_go_bool(text) {
                Some(b) => Value::Bool(b),
                None => return Err(bad("a boolean")),
            },
            _ => Value::String(text.to_string()),
        })
    }

    /// The `type` of a schema, looking through a lone `allOf` wrapper.
    fn effective_type(&self, id: SchemaId) -> Option<Ty> {
        let n = &self.nodes[id];
        match (n.ty, n.all_of.as_slice()) {
            (Some(t), _) => Some(t),
            (None, [one]) => self.effective_type(*one),
            _ => None,
        }
    }

    fn value(&self, id: SchemaId, v: &Value, at: &str) -> Result<(), Violation> {
        let n = &self.nodes[id];
        let fail = |rule: String| {
            Err(Violation {
                at: at.to_string(),
                rule,
            })
        };
        if v.is_null() && n.nullable {
            return Ok(());
        }
        if let Some(t) = n.ty
            && !has_type(v, t)
        {
            return fail(format!(
                "must be of type {}{} (type), got {}",
                t.name(),
                if n.nullable { " or null" } else { "" },
                kind(v)
            ));
        }
        if let Some(allowed) = &n.enumeration
            && !allowed.iter().any(|a| json_eq(a, v))
        {
            return fail(format!(
                "must be one of {} (enum), got {}",
                Value::Array(allowed.clone()),
                short(v)
            ));
        }
        if let Some(x) = v.as_f64() {
            if let Some(min) = n.minimum
                && (x < min || (n.exclusive_minimum && x == min))
            {
                return fail(format!(
                    "must be {} {} (minimum), got {}",
                    if n.exclusive_minimum {
                        "greater than"
                    } else {
                        "at least"
                    },
                    number_text(min),
                    v
                ));
            }
            if let Some(max) = n.maximum
                && (x > max || (n.exclusive_maximum && x == max))
            {
                return fail(format!(
                    "must be {} {} (maximum), got {}",
                    if n.exclusive_maximum {
                        "less than"
                    } else {
                        "at most"
                    },
                    number_text(max),
                    v
                ));
            }
        }
        if let Some(s) = v.as_str() {
            let len = s.chars().count();
            if let Some(min) = n.min_length
                && len < min
            {
                return fail(format!(
                    "must be at least {min} characters long (minLength), got {len}"
                ));
            }
            if let Some(max) = n.max_length
                && len > max
            {
                return fail(format!(
                    "must be at most {max} characters long (maxLength), got {len}"
                ));
            }
        }
        if let Some(o) = v.as_object() {
            for r in &n.required {
                if !o.contains_key(r) {
                    return Err(Violation {
                        at: field(at, r),
                        rule: "required property missing (required)".into(),
                    });
                }
            }
            for (k, child) in o {
                match n.properties.get(k) {
                    Some(p) => self.value(*p, child, &field(at, k))?,
                    None => match n.additional {
                        Additional::Any => {}
                        Additional::Forbidden => {
                            return Err(Violation {
                                at: field(at, k),
                                rule: "not a declared property, and the schema forbids others \
                                       (additionalProperties: false)"
                                    .into(),
                            });
                        }
                        Additional::Schema(s) => self.value(s, child, &field(at, k))?,
                    },
                }
            }
        }
        if let (Some(items), Some(a)) = (n.items, v.as_array()) {
            for (i, child) in a.iter().enumerate() {
                self.value(items, child, &index(at, i))?;
            }
        }
        for s in &n.all_of {
            self.value(*s, v, at)?;
        }
        if !n.any_of.is_empty() {
            let mut first_err = None;
            let mut ok = false;
            for s in &n.any_of {
                match self.value(*s, v, at) {
                    Ok(()) => {
                        ok = true;
                        break;
                    }
                    Err(e) => {
                        first_err.get_or_insert(e);
                    }
                }
            }
            if !ok {
                return fail(format!(
                    "matches none of the anyOf schemas (anyOf){}",
                    first_err
                        .map(|e| format!("; the first says {e}"))
                        .unwrap_or_default()
                ));
            }
        }
        if !n.one_of.is_empty() {
            let mut matched = 0;
            let mut first_err = None;
            for s in &n.one_of {
                match self.value(*s, v, at) {
                    Ok(()) => matched += 1,
                    Err(e) => {
                        first_err.get_or_insert(e);
                    }
                }
            }
            if matched != 1 {
                return fail(format!(
                    "must match exactly one of the oneOf schemas (oneOf), matched {matched}{}",
                    match (matched, first_err) {
                        (0, Some(e)) => format!("; the first says {e}"),
                        _ => String::new(),
                    }
                ));
            }
        }
        Ok(())
    }
}

/// `request body` + `traits` → `request body field 'traits'`; nested fields are dotted.
fn field(at: &str, key: &str) -> String {
    match at.strip_prefix("request body field '") {
        Some(rest) => format!("request body field '{}.{key}'", rest.trim_end_matches('\'')),
        None if at == "request body" => format!("request body field '{key}'"),
        None => format!("{at}.{key}"),
    }
}

fn index(at: &str, i: usize) -> String {
    match at.strip_prefix("request body field '") {
        Some(rest) => format!("request body field '{}[{i}]'", rest.trim_end_matches('\'')),
        None if at == "request body" => format!("request body field '[{i}]'"),
        None => format!("{at}[{i}]"),
    }
}

fn has_type(v: &Value, t: Ty) -> bool {
    match t {
        Ty::Object => v.is_object(),
        Ty::Array => v.is_array(),
        Ty::String => v.is_string(),
        Ty::Boolean => v.is_boolean(),
        Ty::Number => v.is_number(),
        Ty::Integer => match v {
            Value::Number(n) => {
                n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
            }
            _ => false,
        },
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Numbers compare by value (`1` equals `1.0`), everything else structurally.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

fn number_text(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        x.to_string()
    }
}

/// Go's `strconv.ParseBool`, which gateways written in Go use for boolean parameters.
pub(crate) fn parse_go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A decimal integer with an optional sign (`strconv.ParseInt(s, 10, 64)`).
fn parse_go_int(v: &str) -> Option<i64> {
    let digits = v.strip_prefix(['+', '-']).unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<i64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn api(doc: Value) -> OpenApi {
        OpenApi::from_documents(&[(Api::Kratos, &doc)]).unwrap()
    }

    fn segs(p: &str) -> Vec<String> {
        p.trim_start_matches('/')
            .split('/')
            .map(str::to_string)
            .collect()
    }

    /// One POST operation whose body is `schema`, with `components` beside it.
    fn body_doc(schema: Value, components: Value) -> OpenApi {
        api(json!({
            "paths": {"/admin/x": {"post": {
                "operationId": "x",
                "requestBody": {"content": {"application/json": {"schema": schema}}, "required": true}
            }}},
            "components": {"schemas": components}
        }))
    }

    fn check_body(a: &OpenApi, body: Value) -> Result<(), String> {
        let op = a.find("POST", &segs("/admin/x")).unwrap();
        a.check(
            op,
            &segs("/admin/x"),
            &[],
            &serde_json::to_vec(&body).unwrap(),
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn matching_prefers_literal_segments_and_canonicalises() {
        let a = api(json!({"paths": {
            "/admin/identities/{id}": {"get": {"operationId": "getIdentity", "x-ory-ratelimit-bucket": "kratos-admin-high"}},
            "/admin/identities/by/external/{externalID}": {"get": {"operationId": "byExternal"}},
            "/admin/identities/{id}/credentials/{type}": {"delete": {"operationId": "delCred"}},
            "/version": {"get": {"operationId": "getVersion"}},
            "/self-service/login": {"get": {"operationId": "public"}},
        }}));
        assert_eq!(a.len(), 4, "public paths are not indexed");
        let op = a.find("GET", &segs("/admin/identities/abc")).unwrap();
        assert_eq!(op.operation_id, "getIdentity");
        assert_eq!(op.bucket.as_deref(), Some("kratos-admin-high"));
        assert_eq!(
            a.find("GET", &segs("/admin/identities/by/external/e"))
                .unwrap()
                .operation_id,
            "byExternal"
        );
        assert_eq!(
            a.find("GET", &segs("/admin/version")).unwrap().operation_id,
            "getVersion"
        );
        assert!(a.find("POST", &segs("/admin/identities/abc")).is_none());
        assert!(a.find("GET", &segs("/admin/identities/abc/x")).is_none());
    }

    #[test]
    fn query_parameters() {
        let a = api(
            json!({"paths": {"/admin/s": {"get": {"operationId": "s", "parameters": [
            {"name": "page_size", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
            {"name": "active", "in": "query", "schema": {"type": "boolean"}},
            {"name": "subject", "in": "query", "required": true, "schema": {"type": "string"}},
            {"name": "expand", "in": "query", "schema": {"type": "array", "items": {"type": "string", "enum": ["identity", "devices"]}}},
            {"name": "status", "in": "query", "schema": {"$ref": "#/components/schemas/status"}},
        ]}}}, "components": {"schemas": {"status": {"type": "string", "enum": ["queued", "sent"]}}}}),
        );
        let op = a.find("GET", &segs("/admin/s")).unwrap();
        let q = |pairs: &[(&str, &str)]| {
            let pairs: Vec<(String, String)> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            a.check(op, &segs("/admin/s"), &pairs, b"")
                .map_err(|e| e.to_string())
        };
        assert_eq!(q(&[("subject", "s")]), Ok(()));
        assert_eq!(
            q(&[]),
            Err("query parameter 'subject': required but missing (required)".into())
        );
        assert_eq!(
            q(&[("subject", "s"), ("page_size", "1000")]),
            Err("query parameter 'page_size': must be at most 500 (maximum), got 1000".into())
        );
        assert!(
            q(&[("subject", "s"), ("page_size", "0")])
                .unwrap_err()
                .contains("at least 1 (minimum)")
        );
        assert!(
            q(&[("subject", "s"), ("page_size", "ten")])
                .unwrap_err()
                .contains("must be an integer (type)")
        );
        assert_eq!(q(&[("subject", "s"), ("active", "1")]), Ok(()));
        assert!(
            q(&[("subject", "s"), ("active", "yes")])
                .unwrap_err()
                .contains("'active': must be a boolean")
        );
        assert_eq!(
            q(&[
                ("subject", "s"),
                ("expand", "identity"),
                ("expand", "devices")
            ]),
            Ok(())
        );
        assert_eq!(
            q(&[("subject", "s"), ("expand", "nope")]),
            Err(
                "query parameter 'expand'[0]: must be one of [\"identity\",\"devices\"] (enum), got \"nope\""
                    .into()
            )
        );
        assert!(
            q(&[("subject", "s"), ("status", "lost")])
                .unwrap_err()
                .contains("(enum)")
        );
        assert!(
            q(&[("subject", "s"), ("subject", "t")])
                .unwrap_err()
                .contains("given 2 times")
        );
        assert!(
            q(&[("subject", "s"), ("x", "1")])
                .unwrap_err()
                .starts_with("query parameter 'x': not declared by the operation s (GET /admin/s)")
        );
    }

    #[test]
    fn bodies_types_required_nullable_and_refs() {
        let a = body_doc(
            json!({"$ref": "#/components/schemas/body"}),
            json!({
                "body": {"type": "object", "required": ["traits"], "properties": {
                    "traits": {"type": "object"},
                    "external_id": {"type": "string"},
                    "org": {"$ref": "#/components/schemas/NullUUID"},
                    "state": {"type": "string", "enum": ["active", "inactive"]},
                    "n": {"type": "integer", "minimum": 0},
                    "any": {},
                    "list": {"type": "array", "items": {"$ref": "#/components/schemas/item"}},
                }},
                "NullUUID": {"type": "string", "nullable": true, "format": "uuid4"},
                "item": {"type": "object", "required": ["op"], "properties": {"op": {"type": "string"}, "next": {"$ref": "#/components/schemas/item"}}},
            }),
        );
        assert_eq!(check_body(&a, json!({"traits": {}})), Ok(()));
        assert_eq!(
            check_body(&a, json!({"traits": {}, "any": null, "org": null})),
            Ok(())
        );
        assert_eq!(
            check_body(&a, json!({"traits": {}, "external_id": null})),
            Err("request body field 'external_id': must be of type string (type), got null".into())
        );
        assert_eq!(
            check_body(&a, json!({})),
            Err("request body field 'traits': required property missing (required)".into())
        );
        assert_eq!(
            check_body(&a, json!([])),
            Err("request body: must be of type object (type), got array".into())
        );
        assert!(
            check_body(&a, json!({"traits": {}, "state": ""}))
                .unwrap_err()
                .contains("'state': must be one of [\"active\",\"inactive\"] (enum)")
        );
        assert!(
            check_body(&a, json!({"traits": {}, "n": 1.5}))
                .unwrap_err()
                .contains("must be of type integer")
        );
        assert_eq!(check_body(&a, json!({"traits": {}, "n": 2.0})), Ok(()));
        assert!(
            check_body(&a, json!({"traits": {}, "n": -1}))
                .unwrap_err()
                .contains("(minimum)")
        );
        assert_eq!(
            check_body(
                &a,
                json!({"traits": {}, "list": [{"op": "a", "next": {"op": "b"}}]})
            ),
            Ok(())
        );
        assert_eq!(
            check_body(&a, json!({"traits": {}, "list": [{"op": "a", "next": {}}]})),
            Err(
                "request body field 'list[0].next.op': required property missing (required)".into()
            )
        );
        // An empty body is refused when required; a body that is not JSON goes to the handler.
        let op = a.find("POST", &segs("/admin/x")).unwrap();
        assert!(
            a.check(op, &segs("/admin/x"), &[], b"  ")
                .unwrap_err()
                .to_string()
                .contains("requestBody.required")
        );
        assert_eq!(a.check(op, &segs("/admin/x"), &[], b"{nope"), Ok(()));
    }

    #[test]
    fn additional_properties_and_combinators() {
        let a = body_doc(
            json!({"type": "object", "properties": {
                "closed": {"type": "object", "additionalProperties": false, "properties": {"a": {"type": "string"}}},
                "map": {"type": "object", "additionalProperties": {"type": "integer"}},
                "all": {"allOf": [{"type": "object", "required": ["a"]}, {"type": "object", "required": ["b"]}]},
                "one": {"oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "number"}]},
                "any": {"anyOf": [{"type": "string"}, {"type": "boolean"}]},
            }}),
            json!({}),
        );
        assert_eq!(check_body(&a, json!({"closed": {"a": "x"}})), Ok(()));
        assert_eq!(
            check_body(&a, json!({"closed": {"b": 1}})),
            Err("request body field 'closed.b': not a declared property, and the schema forbids others (additionalProperties: false)".into())
        );
        assert_eq!(check_body(&a, json!({"map": {"x": 1, "y": 2}})), Ok(()));
        assert!(
            check_body(&a, json!({"map": {"x": "1"}}))
                .unwrap_err()
                .starts_with("request body field 'map.x': must be of type integer")
        );
        assert_eq!(check_body(&a, json!({"all": {"a": 1, "b": 2}})), Ok(()));
        assert!(
            check_body(&a, json!({"all": {"a": 1}}))
                .unwrap_err()
                .contains("'all.b': required property missing")
        );
        assert_eq!(check_body(&a, json!({"one": "s"})), Ok(()));
        // 1 is both an integer and a number: two matches.
        assert!(
            check_body(&a, json!({"one": 1}))
                .unwrap_err()
                .contains("matched 2")
        );
        assert!(
            check_body(&a, json!({"one": true}))
                .unwrap_err()
                .contains("matched 0")
        );
        assert_eq!(check_body(&a, json!({"any": false})), Ok(()));
        assert!(
            check_body(&a, json!({"any": 3}))
                .unwrap_err()
                .contains("(anyOf)")
        );
    }

    #[test]
    fn path_parameters() {
        let a = api(
            json!({"paths": {"/admin/identities/{id}/credentials/{type}": {"delete": {
                "operationId": "d",
                "parameters": [
                    {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                    {"name": "type", "in": "path", "required": true, "schema": {"type": "string", "enum": ["password", "totp"]}},
                ]
            }}}}),
        );
        let p = segs("/admin/identities/x/credentials/totp");
        let op = a.find("DELETE", &p).unwrap();
        assert_eq!(a.check(op, &p, &[], b""), Ok(()));
        let p = segs("/admin/identities/x/credentials/bogus");
        assert!(
            a.check(op, &p, &[], b"")
                .unwrap_err()
                .to_string()
                .starts_with("path parameter 'type': must be one of")
        );
    }

    #[test]
    fn the_real_documents_load_when_present() {
        let dir = default_dir();
        if !dir.join(KRATOS_FILE).exists() {
            eprintln!("skipped: no {}", dir.display());
            return;
        }
        let a = OpenApi::load(&dir).unwrap();
        let p = segs("/admin/identities/x/sessions");
        let op = a.find("GET", &p).unwrap();
        assert_eq!(op.operation_id, "listIdentitySessions");
        assert_eq!(op.bucket.as_deref(), Some("kratos-admin-medium"));
        let q = vec![("page_size".to_string(), "1000".to_string())];
        assert!(a.check(op, &p, &q, b"").is_err());
        let p = segs("/admin/oauth2/auth/sessions/consent");
        let op = a.find("GET", &p).unwrap();
        assert_eq!(op.api, Api::Hydra);
        assert_eq!(op.bucket.as_deref(), Some("hydra-admin-high"));
        let p = segs("/admin/health/alive");
        assert_eq!(a.find("GET", &p).unwrap().api, Api::Kratos);
    }
}
