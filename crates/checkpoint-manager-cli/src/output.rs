//! JSON and human renderings of library values. Results go to stdout; JSON stays parseable
//! because nothing else is ever printed there.

use std::io::{self, IsTerminal, Write};

use checkpoint_manager::{
    BranchMove, Checkpoint, CheckpointSummary, DeleteOutcome, Operation, OperationKind,
    PullOutcome, PushOutcome, RepairReport, RollbackOutcome, ValidationResult,
};
use serde::Serialize;

use crate::cli::OutputFormat;

mod ids;
mod timeline;

use ids::id_column;
pub use ids::{pad, visible_len, Ids};
pub use timeline::timeline;

/// Prints `value` as JSON, or through `human` for `--output pretty`.
pub fn print<T: Serialize>(
    format: OutputFormat,
    value: &T,
    human: fn(&mut dyn Write, &Style, &T) -> io::Result<()>,
) -> io::Result<()> {
    print_styled(format, Style::detect, value, human)
}

fn print_styled<T: Serialize>(
    format: OutputFormat,
    style: impl FnOnce() -> Style,
    value: &T,
    human: fn(&mut dyn Write, &Style, &T) -> io::Result<()>,
) -> io::Result<()> {
    let stdout = io::stdout();
    // 64 KiB: a list of 10,000 checkpoints is 7 MB of JSON, 900 writes with the default 8 KiB.
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    match format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, value).map_err(io::Error::from)?;
            writeln!(out)?;
        }
        OutputFormat::Pretty => human(&mut out, &style(), value)?,
    }
    out.flush()
}

/// [`print`] for text people may scroll (lists, timelines, diffs): pretty output goes through
/// the user's pager on a terminal (see `pager.rs`); JSON and piped output print as they are.
pub fn print_paged<T: Serialize>(
    global: &crate::cli::GlobalArgs,
    manager: &checkpoint_manager::CheckpointManager,
    value: &T,
    human: fn(&mut dyn Write, &Style, &T) -> io::Result<()>,
) -> io::Result<()> {
    if global.output == OutputFormat::Json {
        return print(global.output, value, human);
    }
    paged_styled(global, manager, Style::detect(), value, human)
}

fn paged_styled<T: Serialize>(
    global: &crate::cli::GlobalArgs,
    manager: &checkpoint_manager::CheckpointManager,
    style: Style,
    value: &T,
    human: fn(&mut dyn Write, &Style, &T) -> io::Result<()>,
) -> io::Result<()> {
    let pager = crate::pager::Paged::start(global, manager);
    let mut text = Vec::new();
    human(&mut text, &style, value)?;
    pager.show(&text)
}

/// Colour, only on a terminal and only when `NO_COLOR` is unset.
#[derive(Debug)]
pub struct Style {
    color: bool,
    /// The session's checkpoint ids, which [`Style::id`] abbreviates against.
    ids: Ids,
}

impl Style {
    fn detect() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            color: io::stdout().is_terminal() && !no_color,
            ids: Ids::default(),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    fn good(&self, text: &str) -> String {
        self.paint("32", text)
    }

    fn bad(&self, text: &str) -> String {
        self.paint("31", text)
    }

    /// A checkpoint id for people: its shortest unique prefix in the session, highlighted.
    pub fn id(&self, id: &impl std::fmt::Display) -> String {
        self.ids.short(self, id)
    }

    /// A full checkpoint id with its shortest unique prefix highlighted.
    pub fn full_id(&self, id: &impl std::fmt::Display) -> String {
        self.ids.full(self, id)
    }
}

/// Prints a warning or a note on stderr, one line, like errors are.
pub fn warn(label: &str, text: &str) {
    let one_line = text.replace('\n', " ");
    let _ = writeln!(io::stderr(), "checkpoint-manager: {label}: {one_line}");
}

/// Returns the JSON spelling of a value that serializes as a string (`too_large`).
fn json_word<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(word)) => word,
        _ => String::from("?"),
    }
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

pub fn checkpoint(out: &mut dyn Write, style: &Style, cp: &Checkpoint) -> io::Result<()> {
    writeln!(
        out,
        "{} {}",
        style.bold("checkpoint"),
        style.full_id(&cp.checkpoint_id)
    )?;
    checkpoint_fields(out, cp)?;
    checkpoint_skipped(out, style, cp)?;
    if let Some(state) = &cp.state_snapshot {
        state_line(out, state)?;
    }
    Ok(())
}

/// The checkpoint's recorded fields, one per line, values in one column.
fn checkpoint_fields(out: &mut dyn Write, cp: &Checkpoint) -> io::Result<()> {
    // Later lines of a multi-line description stay in the value column.
    let description = cp.description.replace('\n', &format!("\n{:15}", ""));
    writeln!(out, "  description  {description}")?;
    writeln!(out, "  commit       {}", cp.commit_sha)?;
    writeln!(out, "  time         {}", cp.timestamp)?;
    writeln!(out, "  phase        {}", cp.phase)?;
    writeln!(out, "  type         {}", cp.checkpoint_type)?;
    writeln!(out, "  mode         {}", cp.mode)?;
    if !cp.tags.is_empty() {
        writeln!(out, "  tags         {}", cp.tags.join(", "))?;
    }
    writeln!(
        out,
        "  rollbacks    {}{}",
        cp.rollback_count,
        if cp.rollback_used { " (used)" } else { "" }
    )?;
    if let Some(snapshot) = &cp.snapshot {
        let on = snapshot.branch.as_deref().unwrap_or("detached HEAD");
        let base = snapshot.base_commit.as_deref().map_or("no commit", short);
        writeln!(out, "  taken on     {on} at {base}")?;
    }
    Ok(())
}

/// One line per path the snapshot or the checkpoint left out, with why and how big.
fn checkpoint_skipped(out: &mut dyn Write, style: &Style, cp: &Checkpoint) -> io::Result<()> {
    let skipped_by_snapshot = cp.snapshot.iter().flat_map(|s| &s.skipped);
    for skipped in skipped_by_snapshot.chain(&cp.skipped) {
        let size = skipped
            .size
            .map_or_else(String::new, |n| format!(", {n} bytes"));
        let size = match skipped.files {
            Some(n) => format!("{size}, {n} files"),
            None => size,
        };
        writeln!(
            out,
            "  {}      {} ({}{size})",
            style.bad("skipped"),
            skipped.path,
            json_word(&skipped.reason)
        )?;
    }
    Ok(())
}

fn state_line(out: &mut dyn Write, state: &checkpoint_manager::StateSnapshot) -> io::Result<()> {
    writeln!(
        out,
        "  state        tasks {} decisions {} files +{} ~{} tests {} passing / {} failing",
        state.tasks_completed,
        state.decisions_made,
        state.files_created,
        state.files_modified,
        state.tests_passing,
        state.tests_failing
    )
}

// The renderer of a printed `Vec` (its JSON form), so it takes the `Vec` itself.
#[allow(clippy::ptr_arg)]
pub fn checkpoint_table(
    out: &mut dyn Write,
    style: &Style,
    checkpoints: &Vec<Checkpoint>,
) -> io::Result<()> {
    if checkpoints.is_empty() {
        return writeln!(out, "no checkpoints");
    }
    let (ids, id_width) = id_column(
        checkpoints
            .iter()
            .map(|cp| style.id(&cp.checkpoint_id))
            .collect(),
        "ID",
    );
    writeln!(
        out,
        "{}",
        style.bold(&format!(
            "{:<id_width$}  {:<27}  {:<14}  {:<19}  {:<8}  {:>3}  DESCRIPTION",
            "ID", "TIME", "PHASE", "TYPE", "MODE", "RB"
        ))
    )?;
    for (cp, id) in checkpoints.iter().zip(&ids) {
        writeln!(
            out,
            "{}  {:<27}  {:<14}  {:<19}  {:<8}  {:>3}  {}",
            pad(id, id_width),
            cp.timestamp,
            cp.phase.as_str(),
            cp.checkpoint_type.as_str(),
            if cp.is_safety_snapshot() {
                "safety"
            } else {
                cp.mode.as_str()
            },
            cp.rollback_count,
            cp.description.lines().next().unwrap_or("")
        )?;
    }
    writeln!(
        out,
        "{}",
        style.dim(&format!("{} checkpoint(s)", checkpoints.len()))
    )
}

pub fn summary(out: &mut dyn Write, style: &Style, s: &CheckpointSummary) -> io::Result<()> {
    writeln!(out, "{} {}", style.bold("checkpoints"), s.total_checkpoints)?;
    for (kind, count) in &s.checkpoints_by_type {
        writeln!(out, "  {:<20} {count}", kind.as_str())?;
    }
    writeln!(
        out,
        "used for rollback  {}",
        s.checkpoints_used_for_rollback
    )?;
    writeln!(
        out,
        "latest             {}",
        s.latest_checkpoint.as_deref().unwrap_or("-")
    )
}

/// What a rollback, undo or redo did, in words.
pub fn rollback(out: &mut dyn Write, style: &Style, r: &RollbackOutcome) -> io::Result<()> {
    rollback_headline(out, style, r)?;
    if let Some(moved) = &r.branch_moved {
        branch_move(out, moved)?;
    }
    if !r.removed_paths.is_empty() {
        writeln!(
            out,
            "removed {} file(s) created since",
            r.removed_paths.len()
        )?;
    }
    let back = match r.operation.kind {
        OperationKind::Undo => "`checkpoint-manager redo` returns to it",
        _ => "`checkpoint-manager undo` returns to it",
    };
    writeln!(
        out,
        "safety snapshot {} holds the previous state; {back}",
        style.id(&r.safety_checkpoint_id)
    )
}

/// The first line: which kind of operation went back to what.
fn rollback_headline(out: &mut dyn Write, style: &Style, r: &RollbackOutcome) -> io::Result<()> {
    match (r.operation.kind, r.undone.as_ref()) {
        (OperationKind::Rollback | OperationKind::Restore, _) => writeln!(
            out,
            "{} to checkpoint {} ({}, commit {})",
            style.good("rolled back"),
            style.id(&r.checkpoint_id),
            r.mode,
            short(&r.commit_sha)
        ),
        (OperationKind::Undo, Some(op)) => writeln!(
            out,
            "{} the {} to checkpoint {} (operation {}): branch, HEAD, index and files are as they were before it",
            style.good("undid"),
            op.kind,
            style.id(&op.target_checkpoint_id),
            op.operation_id
        ),
        (OperationKind::Redo, Some(op)) => writeln!(
            out,
            "{} the undo {}: branch, HEAD, index and files are as they were before it",
            style.good("took back"),
            op.operation_id
        ),
        (_, None) => writeln!(
            out,
            "{} to safety snapshot {}: branch, HEAD, index and files are as they were when it was taken",
            style.good("returned"),
            style.id(&r.checkpoint_id)
        ),
    }
}

fn branch_move(out: &mut dyn Write, m: &BranchMove) -> io::Result<()> {
    let new = short(&m.new_commit);
    match m.old_commit.as_deref() {
        None => writeln!(out, "branch {} created at {new}", m.branch),
        Some(old) if m.in_history => writeln!(
            out,
            "branch {} moved back from {} to {new}",
            m.branch,
            short(old)
        ),
        Some(old) => writeln!(
            out,
            "branch {} moved from {} to {new}, which is not in its history (the checkpoint was taken on another branch or a detached HEAD); {} stays in the safety snapshot",
            m.branch,
            short(old),
            short(old)
        ),
    }
}

/// The operation history, newest first.
#[allow(clippy::ptr_arg)] // the renderer of a printed `Vec`, as `checkpoint_table`
pub fn operations(out: &mut dyn Write, style: &Style, ops: &Vec<Operation>) -> io::Result<()> {
    if ops.is_empty() {
        return writeln!(out, "no operations");
    }
    // Operation ids are abbreviated against each other, targets against the checkpoints.
    let op_ids = Ids::new(ops.iter().map(|op| op.operation_id));
    let op_id = |id| op_ids.short(style, &id);
    let (names, op_width) = id_column(
        ops.iter().map(|op| op_id(op.operation_id)).collect(),
        "OPERATION",
    );
    let (targets, target_width) = id_column(
        ops.iter()
            .map(|op| style.id(&op.target_checkpoint_id))
            .collect(),
        "TARGET",
    );
    writeln!(
        out,
        "{}",
        style.bold(&format!(
            "{:<op_width$}  {:<27}  {:<8}  {:<5}  {:<7}  {:<target_width$}  UNDID",
            "OPERATION", "TIME", "KIND", "MODE", "STATE", "TARGET"
        ))
    )?;
    for ((op, name), target) in ops.iter().zip(&names).zip(&targets) {
        writeln!(
            out,
            "{}  {:<27}  {:<8}  {:<5}  {:<7}  {}  {}",
            pad(name, op_width),
            op.timestamp,
            op.kind.as_str(),
            op.mode.as_str(),
            op.state.as_str(),
            pad(target, target_width),
            op.undid.map_or_else(|| "-".to_owned(), op_id)
        )?;
    }
    writeln!(out, "{}", style.dim(&format!("{} operation(s)", ops.len())))
}

pub fn delete(out: &mut dyn Write, style: &Style, d: &DeleteOutcome) -> io::Result<()> {
    writeln!(
        out,
        "{} checkpoint {}",
        style.good("deleted"),
        style.id(&d.checkpoint_id)
    )?;
    if let Some(tag) = &d.removed_tag {
        writeln!(out, "removed tag {tag}")?;
    }
    if let Some(kept) = &d.kept_ref {
        writeln!(out, "its commit stays reachable at {kept}")?;
    }
    Ok(())
}

pub fn push(out: &mut dyn Write, style: &Style, p: &PushOutcome) -> io::Result<()> {
    if p.up_to_date {
        writeln!(
            out,
            "{} {} already has every checkpoint",
            style.good("up to date:"),
            p.remote
        )?;
    }
    for name in &p.pushed {
        writeln!(out, "pushed {name} to {}", p.remote)?;
    }
    for c in &p.conflicts {
        writeln!(
            out,
            "{} {}: {}",
            style.bad("conflict"),
            style.id(&c.checkpoint_id),
            c.detail
        )?;
    }
    Ok(())
}

pub fn pull(out: &mut dyn Write, style: &Style, p: &PullOutcome) -> io::Result<()> {
    if p.up_to_date {
        writeln!(
            out,
            "{} nothing new from {}",
            style.good("up to date:"),
            p.remote
        )?;
    }
    for c in &p.pulled {
        writeln!(
            out,
            "pulled {} (session {})",
            style.id(&c.checkpoint_id),
            c.session_id
        )?;
    }
    for c in &p.skipped_deleted {
        writeln!(
            out,
            "skipped {} (deleted here; --include-deleted brings it back)",
            style.id(&c.checkpoint_id)
        )?;
    }
    for c in &p.conflicts {
        writeln!(
            out,
            "{} {}: {}",
            style.bad("conflict"),
            style.id(&c.checkpoint_id),
            c.detail
        )?;
    }
    Ok(())
}

pub fn validation(out: &mut dyn Write, style: &Style, v: &ValidationResult) -> io::Result<()> {
    if v.is_valid {
        writeln!(out, "{}", style.good("valid: a checkpoint can be made"))?;
    } else {
        writeln!(out, "{}", style.bad("not valid"))?;
    }
    for e in &v.errors {
        writeln!(out, "  error: {e}")?;
    }
    for w in &v.warnings {
        writeln!(out, "  warning: {w}")?;
    }
    if let Some(passing) = v.tests_passing {
        writeln!(
            out,
            "  tests: {}",
            if passing { "passing" } else { "failing" }
        )?;
    }
    if let (Some(false), Some(tail)) = (v.tests_passing, &v.test_output) {
        if !tail.is_empty() {
            writeln!(out, "{}", style.dim("test output (last 4 KiB):"))?;
            write!(out, "{tail}")?;
            if !tail.ends_with('\n') {
                writeln!(out)?;
            }
        }
    }
    if !v.git_status.is_empty() {
        writeln!(out, "{}", style.dim("git status:"))?;
        write!(out, "{}", v.git_status)?;
    }
    Ok(())
}

pub fn repair(out: &mut dyn Write, style: &Style, r: &RepairReport) -> io::Result<()> {
    writeln!(
        out,
        "{} {} checkpoint(s), {} safety snapshot(s) and {} operation(s) in the log",
        style.good("repaired:"),
        r.total_checkpoints,
        r.total_safety_snapshots,
        r.total_operations
    )?;
    if let Some(aside) = &r.moved_aside {
        writeln!(out, "corrupt log moved to {aside}")?;
    }
    for id in &r.restored {
        writeln!(out, "  restored {id}")?;
    }
    for id in &r.dropped {
        writeln!(out, "  dropped {id} (its commit is gone)")?;
    }
    Ok(())
}

/// `create --if-changed`: the checkpoint made, or the newest one when nothing changed.
#[derive(Debug, Serialize)]
pub struct MaybeCreated<'a> {
    #[serde(flatten)]
    pub checkpoint: &'a Checkpoint,
    pub unchanged: bool,
}

pub fn maybe_created(out: &mut dyn Write, style: &Style, m: &MaybeCreated<'_>) -> io::Result<()> {
    if m.unchanged {
        writeln!(
            out,
            "{}: the files are those of the newest checkpoint",
            style.dim("nothing changed")
        )?;
    }
    checkpoint(out, style, m.checkpoint)
}

// Short ids (issue 10).

/// [`print`] with ids abbreviated against the checkpoints of `session` ([`Style::id`]); the
/// session's log is read only for pretty output.
pub fn print_in_session<T: Serialize>(
    global: &crate::cli::GlobalArgs,
    manager: &checkpoint_manager::CheckpointManager,
    session: checkpoint_manager::SessionId,
    value: &T,
    human: fn(&mut dyn Write, &Style, &T) -> io::Result<()>,
) -> io::Result<()> {
    let style = || Style::detect().with_ids(Ids::of_session(manager, session));
    print_styled(global.output, style, value, human)
}

/// [`print_paged`] with ids abbreviated against the checkpoints of `session`.
pub fn print_paged_in_session<T: Serialize>(
    global: &crate::cli::GlobalArgs,
    manager: &checkpoint_manager::CheckpointManager,
    session: checkpoint_manager::SessionId,
    value: &T,
    human: fn(&mut dyn Write, &Style, &T) -> io::Result<()>,
) -> io::Result<()> {
    if global.output == OutputFormat::Json {
        return print(global.output, value, human);
    }
    let style = Style::detect().with_ids(Ids::of_session(manager, session));
    paged_styled(global, manager, style, value, human)
}

/// [`print`] with ids abbreviated against `ids()`, called only for pretty output: for outcomes
/// over several sessions, or naming checkpoints that left the log ([`Ids::of_sessions`]).
pub fn print_with_ids<T: Serialize>(
    format: OutputFormat,
    ids: impl FnOnce() -> Ids,
    value: &T,
    human: fn(&mut dyn Write, &Style, &T) -> io::Result<()>,
) -> io::Result<()> {
    print_styled(format, || Style::detect().with_ids(ids()), value, human)
}

impl Style {
    fn with_ids(mut self, ids: Ids) -> Self {
        self.ids = ids;
        self
    }
}

// The sessions list (issue 10).

/// Every session, newest first: one row each.
pub fn sessions(
    out: &mut dyn Write,
    style: &Style,
    sessions: &Vec<checkpoint_manager::SessionInfo>,
) -> io::Result<()> {
    if sessions.is_empty() {
        return writeln!(out, "no sessions");
    }
    writeln!(
        out,
        "{}",
        style.bold(&format!(
            "{:<36}  {:>11}  {:<27}  {:<27}  {:<14}  {:>3}",
            "SESSION", "CHECKPOINTS", "FIRST", "LAST", "LATEST PHASE", "RB"
        ))
    )?;
    for s in sessions {
        writeln!(
            out,
            "{:<36}  {:>11}  {:<27}  {:<27}  {:<14}  {:>3}",
            s.session_id,
            s.checkpoints,
            s.first.as_deref().unwrap_or("-"),
            s.last.as_deref().unwrap_or("-"),
            s.latest_phase.map_or("-", |p| p.as_str()),
            s.rollbacks
        )?;
    }
    writeln!(
        out,
        "{}",
        style.dim(&format!("{} session(s)", sessions.len()))
    )
}

// Issue 10: diff and the log timeline.

/// True when pretty output is coloured here (stdout a terminal, `NO_COLOR` unset); git's own
/// text is then asked for in colour.
pub fn color_wanted() -> bool {
    Style::detect().color
}

/// What a restore of chosen paths did, in words.
pub fn path_restore(
    out: &mut dyn Write,
    style: &Style,
    r: &checkpoint_manager::PathRestoreOutcome,
) -> io::Result<()> {
    let staged = if r.staged { " (index entries too)" } else { "" };
    let Some(safety) = r.safety_checkpoint_id else {
        return writeln!(
            out,
            "{}: the named paths already hold checkpoint {}'s files{staged}; nothing was recorded",
            style.dim("nothing to restore"),
            style.id(&r.checkpoint_id)
        );
    };
    writeln!(
        out,
        "{} {} file(s) and removed {} from checkpoint {}{staged}",
        style.good("restored"),
        r.restored_paths.len(),
        r.removed_paths.len(),
        style.id(&r.checkpoint_id)
    )?;
    for path in &r.restored_paths {
        writeln!(out, "  {}  {path}", style.good("restored"))?;
    }
    for path in &r.removed_paths {
        writeln!(out, "  {}   {path}", style.bad("removed"))?;
    }
    writeln!(
        out,
        "safety snapshot {} holds the previous state; `checkpoint-manager undo` returns to it",
        style.id(&safety)
    )
}
