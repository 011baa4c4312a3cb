//! `prune`: remove checkpoints beyond a count or an age (recoverably, through the trash).

use std::io::{self, Write};
use std::process::ExitCode;

use checkpoint_manager::{
    parse_duration, CheckpointManager, Error, PruneOutcome, PruneRequest, PrunedCheckpoint,
};
use clap::Args;

use super::remote::SessionChoice;
use super::{open, CliError};
use crate::cli::GlobalArgs;
use crate::output::{self, Ids, Style};

/// Remove checkpoints beyond --keep-last N or older than --older-than, keeping each session's newest.
///
/// What leaves the log goes to refs/checkpoint-trash/ (recoverable, like delete); deleted
/// checkpoints already there and beyond the same limits are deleted for good, and --gc reclaims
/// their bytes. Safety snapshots that undo or redo still need stay unless --include-safety.
/// Without a limit, git config checkpoint-manager.keepLast / checkpoint-manager.maxAge apply
/// (create also prunes beyond them).
///
/// Example: checkpoint-manager prune --session-id <UUID> --keep-last 20 --older-than 7d --dry-run
#[derive(Debug, Args)]
pub struct PruneArgs {
    #[command(flatten)]
    pub sessions: SessionChoice,

    /// Keep this many of the newest checkpoints of each session (0: no count limit)
    #[arg(long, value_name = "N")]
    pub keep_last: Option<u64>,

    /// Remove checkpoints older than this: 90s, 30m, 12h, 7d, 2w (0: no age limit)
    #[arg(long, value_name = "DURATION")]
    pub older_than: Option<String>,

    /// Also remove safety snapshots that undo or redo still return to
    #[arg(long)]
    pub include_safety: bool,

    /// Print what would be removed; change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Run `git gc --prune=now` afterwards, so the bytes are really reclaimed
    #[arg(long)]
    pub gc: bool,

    /// Also delete the removed checkpoints' refs and tags on this git remote
    #[arg(long, value_name = "NAME")]
    pub remote: Option<String>,
}

pub fn run(global: &GlobalArgs, args: &PruneArgs) -> Result<ExitCode, CliError> {
    let sessions = args.sessions.sessions()?;
    let older_than = args
        .older_than
        .as_deref()
        .map(|raw| parse_duration("--older-than", raw))
        .transpose()?;
    let manager = open(global)?;
    if args.keep_last.is_none() && older_than.is_none() {
        let settings = manager.settings()?;
        if settings.keep_last.is_none() && settings.max_age.is_none() {
            return Err(CliError::Usage(
                "prune needs a limit: give --keep-last N and/or --older-than DURATION (such as \
                 7d), or set git config checkpoint-manager.keepLast / checkpoint-manager.maxAge"
                    .to_owned(),
            ));
        }
    }
    let request = PruneRequest::new()
        .with_keep_last(args.keep_last)
        .with_older_than(older_than)
        .with_include_safety(args.include_safety)
        .with_dry_run(args.dry_run)
        .with_gc(args.gc)
        .with_remote(args.remote.clone());
    match manager.prune(sessions, &request) {
        Ok(outcome) => {
            output::print_with_ids(
                global.output,
                || pruned_ids(&manager, &outcome),
                &outcome,
                pruned,
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            // The prune here happened: say what it did before the remote's error line.
            if let Error::PruneRemoteFailed { outcome, .. } = &e {
                let ids = || pruned_ids(&manager, outcome);
                output::print_with_ids(global.output, ids, outcome.as_ref(), pruned)?;
            }
            Err(e.into())
        }
    }
}

/// Ids abbreviated against the pruned checkpoints (which left the logs) and those the pruned
/// sessions keep: one 8-digit width over several sessions, each prefix unique in its session.
fn pruned_ids(manager: &CheckpointManager, p: &PruneOutcome) -> Ids {
    let pruned = p.removed.iter().chain(&p.purged);
    let sessions = pruned.clone().map(|cp| cp.session_id);
    Ids::of_sessions(manager, sessions, pruned.map(|cp| cp.checkpoint_id))
}

/// The pretty summary: what left (or would leave), what git can reclaim, the remote's part.
fn pruned(out: &mut dyn Write, style: &Style, p: &PruneOutcome) -> io::Result<()> {
    let (moved, purged) = if p.dry_run {
        ("would move to the trash", "would delete from the trash")
    } else {
        ("moved to the trash", "deleted from the trash")
    };
    if p.dry_run {
        writeln!(out, "dry run: nothing was changed")?;
    }
    if p.removed.is_empty() && p.purged.is_empty() {
        writeln!(out, "nothing to prune")?;
    }
    // One session: named once; several (--all-sessions): on each line.
    let sessions: std::collections::BTreeSet<_> = p
        .removed
        .iter()
        .chain(&p.purged)
        .map(|cp| cp.session_id)
        .collect();
    let per_line = sessions.len() > 1;
    if let (false, Some(session)) = (per_line, sessions.first()) {
        writeln!(out, "session {session}")?;
    }
    for (what, list) in [(moved, &p.removed), (purged, &p.purged)] {
        if !list.is_empty() {
            writeln!(out, "{what} ({}):", list.len())?;
            let ids: Vec<String> = list.iter().map(|cp| style.id(&cp.checkpoint_id)).collect();
            let width = ids.iter().map(|id| output::visible_len(id)).max();
            for (cp, id) in list.iter().zip(&ids) {
                let id = output::pad(id, width.unwrap_or(0));
                writeln!(out, "  {}", one_line(cp, &id, per_line))?;
            }
        }
    }
    let removes = if p.dry_run { "would remove" } else { "removed" };
    for tag in &p.removed_tags {
        writeln!(out, "{removes} tag {tag}")?;
    }
    let bytes = human_bytes(p.reclaimable_bytes);
    match (p.gc, p.reclaimable_bytes) {
        (true, _) => writeln!(out, "git gc --prune=now reclaimed {bytes}")?,
        (false, 0) => {}
        (false, _) => writeln!(out, "git gc --prune=now can reclaim {bytes} (--gc runs it)")?,
    }
    if let Some(remote) = &p.remote {
        let deletes = if p.dry_run { "would delete" } else { "deleted" };
        for name in &p.remote_removed {
            writeln!(out, "{deletes} {name} on {remote}")?;
        }
    }
    Ok(())
}

fn one_line(cp: &PrunedCheckpoint, id: &str, with_session: bool) -> String {
    let word = |v: Option<String>| v.unwrap_or_else(|| "-".to_owned());
    let kind = if cp.safety {
        "safety snapshot".to_owned()
    } else {
        word(cp.checkpoint_type.map(|t| t.to_string()))
    };
    let line = format!(
        "{id}  {:<15}  {:<19}  {}",
        word(cp.phase.map(|p| p.to_string())),
        kind,
        word(cp.created.clone()),
    );
    if with_session {
        format!("{line}  session {}", cp.session_id)
    } else {
        line
    }
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}
