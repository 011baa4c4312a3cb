//! The command line: global flags and one sub-command per operation. The `///` comments are the
//! help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::commands;

/// Git checkpoints for AI coding-agent sessions: create, list, roll back, and undo any rollback,
/// without ever losing work.
///
/// Output is JSON on stdout unless `--output pretty`. Exit codes: 0 success, 2 usage,
/// 3 invalid input or repository state, 4 session or checkpoint not found, 5 git failed,
/// 6 a lock stayed busy, 1 a file could not be read or written.
#[derive(Debug, Parser)]
#[command(name = "checkpoint-manager", version, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The repository to work in (any folder inside it); default: the current folder
    #[arg(long, global = true, value_name = "PATH")]
    pub repo: Option<PathBuf>,

    /// How to print results
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Json)]
    pub output: OutputFormat,

    /// Seconds to wait for another checkpoint-manager process to release its lock
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 60.0)]
    pub lock_timeout: f64,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Machine-readable JSON (the default)
    Json,
    /// Text for people
    Pretty,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Create(commands::create::CreateArgs),
    List(commands::list::ListArgs),
    Get(commands::get::GetArgs),
    Rollback(commands::rollback::RollbackArgs),
    Undo(commands::undo::UndoArgs),
    Summary(commands::summary::SummaryArgs),
    Delete(commands::delete::DeleteArgs),
    Validate(commands::validate::ValidateArgs),
    Repair(commands::repair::RepairArgs),
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
