//! The command line: global flags and one sub-command per operation. The `///` comments are the
//! help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::{agents, commands};

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
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = checkpoint_manager::DEFAULT_LOCK_TIMEOUT.as_secs_f64())]
    pub lock_timeout: f64,

    /// Print no progress, notes or warnings on stderr (errors are still printed)
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// Print long text straight to stdout instead of through the pager
    #[arg(long, global = true)]
    pub no_pager: bool,
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
    Redo(commands::redo::RedoArgs),
    OpLog(commands::op_log::OpLogArgs),
    Summary(commands::summary::SummaryArgs),
    Delete(commands::delete::DeleteArgs),
    Push(commands::remote::PushArgs),
    Pull(commands::remote::PullArgs),
    Validate(commands::validate::ValidateArgs),
    Repair(commands::repair::RepairArgs),
    Schema(commands::schema::SchemaArgs),
    Completions(commands::completions::CompletionsArgs),
    Man(commands::man::ManArgs),
    Hook(agents::hook::HookArgs),
    Hooks(agents::install::HooksArgs),
    Mcp(agents::mcp::McpArgs),
    Sessions(commands::sessions::SessionsArgs),
    // Issue 10: diff and the log timeline.
    Diff(commands::diff::DiffArgs),
    Log(commands::log::LogArgs),
    // Issue 10: restore of chosen paths.
    Restore(commands::restore::RestoreArgs),
    Prune(commands::prune::PruneArgs),
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }

    /// `checkpoint-manager <command> --help` opens with a one-line summary (one sentence, which
    /// the terminal may wrap) and shows an example of that very command; `-h` shows the summary.
    #[test]
    fn every_subcommand_has_a_summary_and_an_example() {
        let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut cli = super::Cli::command();
        cli.build();
        let mut checked = Vec::new();
        for sub in cli.get_subcommands().filter(|s| s.get_name() != "help") {
            let name = sub.get_name();
            let summary = sub.get_about().map(|s| s.to_string()).unwrap_or_default();
            assert!(!summary.trim().is_empty(), "{name}: no summary");
            assert!(!summary.contains('\n'), "{name}: summary is not one line");
            let long = words(&sub.clone().render_long_help().to_string());
            assert!(
                long.starts_with(&words(&summary)),
                "{name}: --help starts {long:?}"
            );
            let example = format!("Example: checkpoint-manager {name}");
            assert!(long.contains(&example), "{name}: --help has no {example:?}");
            let short = words(&sub.clone().render_help().to_string());
            assert!(
                short.starts_with(&words(&summary)),
                "{name}: -h starts {short:?}"
            );
            checked.push(name.to_owned());
        }
        assert_eq!(
            checked,
            [
                "create",
                "list",
                "get",
                "rollback",
                "undo",
                "redo",
                "op-log",
                "summary",
                "delete",
                "push",
                "pull",
                "validate",
                "repair",
                "schema",
                "completions",
                "man",
                "hook",
                "hooks",
                "mcp",
                "sessions",
                // Issue 10: diff and the log timeline.
                "diff",
                "log",
                "restore",
                "prune"
            ]
        );
    }
}
