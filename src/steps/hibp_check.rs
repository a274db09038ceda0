//! `hibp-check`: a password against Have I Been Pwned, without revealing it (issue 4).

use crate::cli::HibpCheckArgs;
use crate::context::Ctx;
use crate::error::{AppError, Exit, Result};

pub async fn run(_ctx: &Ctx, _a: &HibpCheckArgs) -> Result<Exit> {
    Err(AppError::failed("`hibp-check` is not built yet"))
}
