//! The rows of the results table, their targets (issue 4) and `bench/RESULTS.md`.

use std::fmt::Write;

use super::cases::Stats;

/// What a row must achieve.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// ours / git at most this.
    Ratio(f64),
    /// SMALL: ours / git at most `ratio` and ours - git at most `overhead_ms`.
    Small { ratio: f64, overhead_ms: f64 },
    /// At most `ms` and `rss_mib` peak memory, whatever the baseline.
    Absolute { ms: f64, rss_mib: f64 },
    /// At most `ms` slower than the baseline.
    Delta { ms: f64 },
    /// Measured for reference; no target.
    Info,
}

impl Target {
    fn describe(self) -> String {
        match self {
            Target::Ratio(r) => format!("≤ {r:.2}x"),
            Target::Small { ratio, overhead_ms } => {
                format!("≤ {ratio:.1}x and ≤ +{overhead_ms:.0} ms")
            }
            Target::Absolute { ms, rss_mib } => format!("< {ms:.0} ms, < {rss_mib:.0} MB"),
            Target::Delta { ms } => format!("≤ +{ms:.0} ms"),
            Target::Info => "—".to_owned(),
        }
    }

    fn met(self, ours: &Stats, base: &Stats) -> Option<bool> {
        let (o, b) = (ours.median_ms(), base.median_ms());
        match self {
            Target::Ratio(r) => Some(o <= r * b),
            Target::Small { ratio, overhead_ms } => Some(o <= ratio * b && o - b <= overhead_ms),
            Target::Absolute { ms, rss_mib } => Some(o < ms && ours.peak_rss_mib() < rss_mib),
            Target::Delta { ms } => Some(o - b <= ms),
            Target::Info => None,
        }
    }
}

/// One line of the table: one of our commands against its baseline.
#[derive(Debug, Clone)]
pub struct Row {
    pub repo: &'static str,
    pub operation: String,
    pub baseline: String,
    pub ours: Stats,
    pub base: Stats,
    pub target: Target,
}

impl Row {
    fn ratio(&self) -> f64 {
        self.ours.median_ms() / self.base.median_ms()
    }
}

/// Facts about the run printed above the table.
#[derive(Debug)]
pub struct Context {
    pub date: String,
    pub cores: usize,
    pub cpu: String,
    pub kernel: String,
    pub git_version: String,
    pub ours_version: String,
    /// Which code was measured.
    pub build: String,
    pub runs: usize,
    pub quick: bool,
    pub note: Option<String>,
}

/// Returns the Markdown table alone (also printed on the terminal).
pub fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str(
        "| Repo | Operation (ours) | Compared with | Ours median ms | Git median ms | Ratio | Target | Met? | Ours peak RSS MB | Git peak RSS MB |\n",
    );
    out.push_str("|---|---|---|---:|---:|---:|---|---|---:|---:|\n");
    for row in rows {
        let met = match row.target.met(&row.ours, &row.base) {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "—",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.1} | {:.1} | {:.2}x | {} | {} | {:.1} | {:.1} |",
            row.repo,
            row.operation,
            row.baseline,
            row.ours.median_ms(),
            row.base.median_ms(),
            row.ratio(),
            row.target.describe(),
            met,
            row.ours.peak_rss_mib(),
            row.base.peak_rss_mib(),
        );
    }
    out
}

/// Returns the "where the time goes" section: every git process of one traced run per side.
fn timelines(rows: &[Row]) -> String {
    let mut out = String::from(
        "\n## Where the time goes\n\n\
         One extra run of each side with `GIT_TRACE2_EVENT` set (our binary passes it on to the \
         gits it runs): every git process, when it started from the start of the run, and how \
         long it ran by its own clock. \"Outside git\" is the rest of the run: process start-up, \
         our own work, and the harness's spawn and wait.\n",
    );
    let mut seen = std::collections::HashSet::new();
    for row in rows {
        let sides = [
            (format!("{} — ours", row.operation), &row.ours),
            (
                if row.baseline.starts_with("same") {
                    format!("{} — {}", row.operation, row.baseline)
                } else {
                    format!("{} — plain git", row.baseline)
                },
                &row.base,
            ),
        ];
        for (title, stats) in sides {
            let Some(trace) = &stats.trace else { continue };
            if !seen.insert((row.repo, title.clone())) {
                continue;
            }
            let _ = writeln!(
                out,
                "\n**{} {title}**: {:.1} ms, {} git process{}, {:.1} ms outside git\n",
                row.repo,
                trace.total_ms,
                trace.spans.len(),
                if trace.spans.len() == 1 { "" } else { "es" },
                trace.outside_git_ms(),
            );
            if trace.spans.is_empty() {
                continue;
            }
            out.push_str("| start ms | ran ms | git |\n|---:|---:|---|\n");
            for span in &trace.spans {
                let _ = writeln!(
                    out,
                    "| {:.1} | {:.1} | `{}` |",
                    span.start_ms,
                    span.elapsed_ms,
                    span.args.replace('|', "\\|")
                );
            }
        }
    }
    out
}

/// Returns the whole `RESULTS.md`.
pub fn markdown(ctx: &Context, rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str("# Benchmark: checkpoint-manager against plain git\n\n");
    let _ = writeln!(
        out,
        "Generated by `cargo run --release -p xtask -- bench{}` (issue 4) on {}.\n",
        if ctx.quick { " --quick" } else { "" },
        ctx.date
    );
    if let Some(note) = &ctx.note {
        let _ = writeln!(out, "> {note}\n");
    }
    let _ = writeln!(
        out,
        "- Machine: {} cores ({}), Linux {}",
        ctx.cores, ctx.cpu, ctx.kernel
    );
    let _ = writeln!(out, "- {}", ctx.git_version);
    let _ = writeln!(out, "- {}: {}", ctx.ours_version, ctx.build);
    let _ = writeln!(
        out,
        "- Each figure is the median of {} timed runs after one warm-up; the sides of a comparison \
         run in turn (A B A B ...), each after the same reset to the base commit and the same \
         dirty state (plain git, not timed). Times are wall time of whole processes; git's side \
         runs its commands one after the other, timed together.\n",
        ctx.runs
    );
    out.push_str(&table(rows));
    out.push_str(
        "\nRatio = ours / git. For the 10,000-checkpoint rows, \"git\" is the same command of ours \
         with a one-checkpoint log. Peak RSS comes from one more, untimed run of each side \
         under `xtask rss-probe`, a small process that reports its child's `ru_maxrss` from \
         `wait4(2)`: the largest single process of the tree (for ours, often a git it runs).\n\n",
    );
    out.push_str(
        "## What is measured\n\n\
         - SMALL: 200 files (~2 MB) in 10 folders. LARGE: 60,000 files in 3,000 folders, ~300 MB \
         of 1-9 KiB text files. Both have a `.gitignore` (with a negated rule), a symlink and an \
         executable script, and are generated from a seed and committed with one \
         `git add -A && git commit` (hermetic: `GIT_CONFIG_GLOBAL=/dev/null`, \
         `GIT_CONFIG_NOSYSTEM=1`, fixed identity and dates), objects packed. LARGE is cached \
         under `target/bench-repos/`, keyed by the generator version.\n\
         - Dirty state before every run: 20 files modified, 5 deleted, 16 new untracked files \
         (one kept by `!keep.log`), 18 ignored files (`build/`, `node_modules/`, `*.log`, \
         `*.tmp`).\n\
         - `create` = `checkpoint-manager create` (commit mode) vs `git add -A`, \
         `git commit -q -m x`, `git tag t`.\n\
         - `create --snapshot` vs the ghost commit: `.git/index` copied to a temporary index, \
         `GIT_INDEX_FILE=tmp git add -A`, `git write-tree`, `git commit-tree -p HEAD`, \
         `git update-ref`; and vs `git status --porcelain=v2 -uall` (the floor).\n\
         - `rollback --hard-reset` (to a checkpoint of the base commit, safety snapshot \
         included) vs the ghost commit followed by `git reset --hard` (the same work), and vs \
         `git reset --hard` alone.\n\
         - `list`, `get` (a checkpoint in the middle), `create` with a 10,000-checkpoint \
         `checkpoints.json` vs the same with 1 (SMALL repository, so that git's share is small; \
         the log is generated in the tool's layout).\n\n",
    );
    out.push_str("## All runs (min / median / max ms)\n\n");
    out.push_str("| Repo | Operation | Ours | Git |\n|---|---|---|---|\n");
    for row in rows {
        let (omin, omax) = row.ours.range_ms();
        let (bmin, bmax) = row.base.range_ms();
        let _ = writeln!(
            out,
            "| {} | {} vs {} | {omin:.1} / {:.1} / {omax:.1} | {bmin:.1} / {:.1} / {bmax:.1} |",
            row.repo,
            row.operation,
            row.baseline,
            row.ours.median_ms(),
            row.base.median_ms(),
        );
    }
    out.push_str(&timelines(rows));
    out.push_str(
        "\n## Rerun\n\n\
         ```sh\n\
         cargo run --release -p xtask -- bench            # SMALL and LARGE, writes bench/RESULTS.md\n\
         cargo run --release -p xtask -- bench --quick    # SMALL only, a few seconds (CI)\n\
         cargo run --release -p xtask -- prepare --large  # a LARGE repo in the dirty state, to profile by hand\n\
         ```\n",
    );
    out
}
