//! Where the time goes: the git processes of one run, read back from git's own trace
//! (`GIT_TRACE2_EVENT`): when each started, how long it ran and what it was asked.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// One git process of a traced run.
#[derive(Debug, Clone)]
pub struct Span {
    /// When it started, from the start of the run.
    pub start_ms: f64,
    /// How long it ran, as git measured itself.
    pub elapsed_ms: f64,
    /// Its arguments, without the `-c key=value` pairs.
    pub args: String,
}

/// One traced run of a side: its total wall time and its git processes.
#[derive(Debug, Clone)]
pub struct Trace {
    pub total_ms: f64,
    pub spans: Vec<Span>,
}

impl Trace {
    /// Returns the time of the run that no git process accounts for (start-up of our binary,
    /// waiting between processes, our own work); processes that ran side by side count once.
    pub fn outside_git_ms(&self) -> f64 {
        let mut covered = 0.0;
        let mut reach: f64 = 0.0;
        let mut spans = self.spans.clone();
        spans.sort_by(|a, b| a.start_ms.total_cmp(&b.start_ms));
        for span in &spans {
            let end = span.start_ms + span.elapsed_ms;
            if end > reach {
                covered += end - span.start_ms.max(reach);
                reach = end;
            }
        }
        (self.total_ms - covered).max(0.0)
    }
}

/// Reads the trace git wrote to `path` during a run that started at `started` and took
/// `total_ms`.
pub fn read(path: &Path, started: SystemTime, total_ms: f64) -> Result<Trace> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        // No git process ran.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read the git trace {}", path.display()))
        }
    };
    let origin = DateTime::<Utc>::from(started);
    // Keyed by session id: a process's `start` and `exit` events share it.
    let mut by_sid: BTreeMap<String, (Option<Span>, Option<f64>)> = BTreeMap::new();
    for line in text.lines() {
        let Ok(event) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let sid = event["sid"].as_str().unwrap_or_default().to_owned();
        match event["event"].as_str() {
            Some("start") => {
                let time = event["time"]
                    .as_str()
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.to_utc())
                    .context("a trace2 start event without a time")?;
                let start_ms = (time - origin).num_microseconds().unwrap_or(0) as f64 / 1000.0;
                let args = strip_config(event["argv"].as_array().map_or(&[][..], Vec::as_slice));
                by_sid.entry(sid).or_default().0 = Some(Span {
                    start_ms,
                    elapsed_ms: 0.0,
                    args,
                });
            }
            Some("exit") => {
                by_sid.entry(sid).or_default().1 = event["t_abs"].as_f64();
            }
            _ => {}
        }
    }
    let mut spans: Vec<Span> = by_sid
        .into_values()
        .filter_map(|(span, elapsed)| {
            span.map(|mut span| {
                span.elapsed_ms = elapsed.unwrap_or(0.0) * 1000.0;
                span
            })
        })
        .collect();
    spans.sort_by(|a, b| a.start_ms.total_cmp(&b.start_ms));
    Ok(Trace { total_ms, spans })
}

/// Returns `argv` after `git`, without `-c key=value` pairs, shortened to stay readable.
fn strip_config(argv: &[Value]) -> String {
    let mut out = Vec::new();
    let mut args = argv.iter().skip(1).filter_map(Value::as_str);
    while let Some(arg) = args.next() {
        if arg == "-c" {
            args.next();
            continue;
        }
        out.push(arg);
    }
    let text = out.join(" ");
    match text.char_indices().nth(90) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_outside_git_counts_overlaps_once() {
        let span = |start_ms, elapsed_ms| Span {
            start_ms,
            elapsed_ms,
            args: String::new(),
        };
        let trace = Trace {
            total_ms: 100.0,
            spans: vec![span(10.0, 50.0), span(20.0, 10.0), span(70.0, 20.0)],
        };
        assert!((trace.outside_git_ms() - 30.0).abs() < 1e-9);
    }

    #[test]
    fn config_pairs_are_left_out() {
        let argv: Vec<Value> = ["git", "-c", "gc.auto=0", "status", "-z"]
            .iter()
            .map(|s| Value::from(*s))
            .collect();
        assert_eq!(strip_config(&argv), "status -z");
    }
}
