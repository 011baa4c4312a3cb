//! `summary`: the session's statistics.

use std::process::ExitCode;

use clap::Args;

use super::{open, session_id, CliError};
use crate::cli::GlobalArgs;
use crate::output;

/// Summarise a session: totals, counts by type, rollbacks, the latest checkpoint's commit.
///
/// Example: checkpoint-manager summary --session-id <UUID>
#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// The session (a UUID)
    #[arg(long, value_name = "UUID")]
    pub session_id: String,
}

pub fn run(global: &GlobalArgs, args: &SummaryArgs) -> Result<ExitCode, CliError> {
    let session = session_id(&args.session_id)?;
    let summary = open(global)?.summary(session)?;
    output::print(global.output, &summary, output::summary)?;
    Ok(ExitCode::SUCCESS)
}
