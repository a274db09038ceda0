//! `audit-query`: an identity's security events in a window, flagged (issue 3).

use crate::cli::AuditQueryArgs;
use crate::context::Ctx;
use crate::error::{AppError, Exit, Result};

pub async fn run(_ctx: &Ctx, _a: &AuditQueryArgs) -> Result<Exit> {
    Err(AppError::failed("`audit-query` is not built yet"))
}
