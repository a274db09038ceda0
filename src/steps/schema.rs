//! `schema`: the DDL of the audit table atoctl reads and the indexes its queries need. Every
//! statement is `IF NOT EXISTS`, so `atoctl schema | psql` can run any number of times.

use crate::audit::SCHEMA;
use crate::context::Ctx;
use crate::error::{Exit, Result};
use crate::output;

pub fn run(ctx: &Ctx) -> Result<Exit> {
    ctx.reject_ids_output("schema")?;
    if ctx.json() {
        output::print_json(&serde_json::json!({ "schema": SCHEMA }))?;
    } else {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        out.write_all(SCHEMA.as_bytes())
            .and_then(|_| out.flush())
            .map_err(crate::error::AppError::from)?;
    }
    Ok(Exit::Ok)
}
