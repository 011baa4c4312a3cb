//! The session's timeline (`log`, issue 10), newest first, like `jj op log`.

use std::io::{self, Write};

use checkpoint_manager::{Operation, OperationKind};

use super::{short, Style};

/// The session's timeline, newest first, like `jj op log`: one block per checkpoint (safety
/// snapshots dimmed) and per operation.
pub fn timeline(
    out: &mut dyn Write,
    style: &Style,
    entries: &Vec<checkpoint_manager::TimelineEntry>,
) -> io::Result<()> {
    use checkpoint_manager::TimelineEntry;
    if entries.is_empty() {
        return writeln!(out, "no checkpoints");
    }
    let now = chrono::Utc::now();
    for entry in entries {
        let lines = match entry {
            TimelineEntry::Checkpoint(c) => timeline_checkpoint(style, c, now),
            TimelineEntry::Operation(op) => timeline_operation(style, op, now),
        };
        for line in lines {
            writeln!(out, "{line}")?;
        }
        writeln!(out, "│")?;
    }
    Ok(())
}

fn timeline_checkpoint(
    style: &Style,
    c: &checkpoint_manager::TimelineCheckpoint,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<String> {
    let head = format!(
        "{}  {}  {}",
        style.id(&c.checkpoint_id),
        short(&c.commit_sha),
        when(&c.timestamp, now)
    );
    let kind = if c.safety { "safety" } else { c.mode.as_str() };
    let mut body = vec![
        format!("{} · {} · {kind}", c.phase, c.checkpoint_type),
        c.description.lines().next().unwrap_or("").to_owned(),
    ];
    if let Some(changes) = &c.changes {
        body.push(change_stat(changes));
    }
    if c.safety {
        let mut lines = vec![style.dim(&format!("◌  {head}"))];
        lines.extend(body.iter().map(|l| style.dim(&format!("│  {l}"))));
        return lines;
    }
    let mut lines = vec![format!("○  {}", style.bold(&head))];
    lines.extend(body.iter().map(|l| format!("│  {l}")));
    lines
}

fn timeline_operation(
    style: &Style,
    op: &Operation,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<String> {
    let what = match op.kind {
        OperationKind::Rollback => format!(
            "rollback ({}) to {}",
            op.mode,
            style.id(&op.target_checkpoint_id)
        ),
        kind => format!(
            "{kind}: back to the state of {}",
            style.id(&op.target_checkpoint_id)
        ),
    };
    vec![
        format!(
            "↺  {}  {}  {}",
            style.good(&what),
            op.state.as_str(),
            when(&op.timestamp, now)
        ),
        format!(
            "│  the state before it is in safety snapshot {}",
            style.id(&op.safety_checkpoint_id)
        ),
    ]
}

/// `3 files changed, 10 insertions(+), 2 deletions(-)`, worded as git words it.
fn change_stat(s: &checkpoint_manager::ChangeStat) -> String {
    if s.files_changed == 0 {
        return "no changes".to_owned();
    }
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut parts = vec![plural(s.files_changed, "file changed", "files changed")];
    if s.insertions > 0 {
        parts.push(plural(s.insertions, "insertion(+)", "insertions(+)"));
    }
    if s.deletions > 0 {
        parts.push(plural(s.deletions, "deletion(-)", "deletions(-)"));
    }
    parts.join(", ")
}

/// `3 minutes ago (2026-12-04 17:46:40 UTC)`; a time that does not parse is shown as it is.
fn when(timestamp: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    match chrono::DateTime::parse_from_rfc3339(timestamp) {
        Ok(at) => {
            let at = at.with_timezone(&chrono::Utc);
            let ago = relative((now - at).num_seconds());
            format!("{ago} ({})", at.format("%Y-%m-%d %H:%M:%S UTC"))
        }
        Err(_) => timestamp.to_owned(),
    }
}

/// How long ago, in the largest unit that fits, as git's `--date=relative` says it.
fn relative(seconds: i64) -> String {
    if seconds < 0 {
        return "in the future".to_owned();
    }
    let units = [
        (365 * 86_400, "year"),
        (30 * 86_400, "month"),
        (7 * 86_400, "week"),
        (86_400, "day"),
        (3_600, "hour"),
        (60, "minute"),
        (1, "second"),
    ];
    for (size, name) in units {
        let n = seconds / size;
        if n >= 1 {
            return format!("{n} {name}{} ago", if n == 1 { "" } else { "s" });
        }
    }
    "just now".to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn relative_times_use_the_largest_unit_that_fits() {
        assert_eq!(super::relative(0), "just now");
        assert_eq!(super::relative(1), "1 second ago");
        assert_eq!(super::relative(180), "3 minutes ago");
        assert_eq!(super::relative(2 * 86_400 + 5), "2 days ago");
        assert_eq!(super::relative(-5), "in the future");
    }

    #[test]
    fn diffstats_are_worded_as_git_words_them() {
        let stat = |files_changed, insertions, deletions| {
            super::change_stat(&checkpoint_manager::ChangeStat {
                files_changed,
                insertions,
                deletions,
            })
        };
        assert_eq!(stat(1, 1, 0), "1 file changed, 1 insertion(+)");
        assert_eq!(
            stat(3, 10, 2),
            "3 files changed, 10 insertions(+), 2 deletions(-)"
        );
        assert_eq!(stat(0, 0, 0), "no changes");
    }
}
