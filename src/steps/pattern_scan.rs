//! `pattern-scan`: other identities hit from the same IPs or user agents (issue 3).

use crate::cli::PatternScanArgs;
use crate::context::Ctx;
use crate::error::{AppError, Exit, Result};

pub async fn run(_ctx: &Ctx, _a: &PatternScanArgs) -> Result<Exit> {
    Err(AppError::failed("`pattern-scan` is not built yet"))
}
