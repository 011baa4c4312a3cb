//! `diff`: what changed between two checkpoints, or from one to the files as they are now.

use std::process::ExitCode;

use checkpoint_manager::DiffFormat;
use clap::Args;

use super::{checkpoint_id, open, session_id, CliError};
use crate::cli::{GlobalArgs, OutputFormat};
use crate::output;
use crate::pager::Paged;

/// Show what changed from one checkpoint to another, or to the files as they are now.
///
/// Without --to, the other side is the work tree as a snapshot would capture it (tracked files
/// and untracked ones not ignored); nothing is written that you can see. JSON lists each file
/// (path, old_path for renames, status, additions, deletions, binary; --patch adds its unified
/// diff). `--output pretty` prints a unified diff as `git diff` does, coloured and through your
/// pager on a terminal; --stat and --name-status print what git prints for them.
///
/// Example: checkpoint-manager diff --session-id <UUID> --from <UUID> --output pretty
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The session (a UUID)
    #[arg(long, value_name = "UUID")]
    pub session_id: String,

    /// The checkpoint to compare from (its id, or a unique prefix of 4+ hex digits)
    #[arg(long, value_name = "UUID")]
    pub from: String,

    /// The checkpoint to compare to (id or unique prefix); default: the files as they are now
    #[arg(long, value_name = "UUID")]
    pub to: Option<String>,

    /// Include each file's unified diff in the JSON (`"patch"`)
    #[arg(long)]
    pub patch: bool,

    /// Print git's diffstat (text, whatever --output says)
    #[arg(long, conflicts_with = "name_status")]
    pub stat: bool,

    /// Print git's name and status of each changed file (text, whatever --output says)
    #[arg(long)]
    pub name_status: bool,
}

pub fn run(global: &GlobalArgs, args: &DiffArgs) -> Result<ExitCode, CliError> {
    let session = session_id(&args.session_id)?;
    let manager = open(global)?;
    let from = checkpoint_id(&manager, session, &args.from)?;
    let to = args
        .to
        .as_deref()
        .map(|to| checkpoint_id(&manager, session, to))
        .transpose()?;
    let format = if args.stat {
        DiffFormat::Stat
    } else if args.name_status {
        DiffFormat::NameStatus
    } else if global.output == OutputFormat::Pretty {
        DiffFormat::Patch
    } else {
        let report = manager.diff(session, from, to, args.patch)?;
        // Only JSON reaches here: pretty output is git's own text, below.
        output::print(global.output, &report, |_, _, _| Ok(()))?;
        return Ok(ExitCode::SUCCESS);
    };
    let text = manager.diff_text(session, from, to, format, output::color_wanted())?;
    Paged::start(global, &manager).show(&text)?;
    Ok(ExitCode::SUCCESS)
}
