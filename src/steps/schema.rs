//! `schema`: the DDL of the audit tables atoctl reads (issue 3).

use crate::context::Ctx;
use crate::error::{AppError, Exit, Result};

pub fn run(_ctx: &Ctx) -> Result<Exit> {
    Err(AppError::failed("`schema` is not built yet"))
}
