//! Progress bars on stderr for the library's long steps ([`Progress`] events): only when stderr
//! is a terminal, never with `--quiet`, and only once a step has run for a second, so quick
//! commands print nothing more.

use std::io::{self, IsTerminal};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use checkpoint_manager::{Progress, ProgressSink, Stage};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::GlobalArgs;

/// How long a step runs before its bar appears.
const DELAY: Duration = Duration::from_secs(1);

/// The sink that draws bars, or `None` when nothing may be drawn (stderr is not a terminal,
/// or `--quiet`).
pub fn sink(global: &GlobalArgs) -> Option<ProgressSink> {
    (!global.quiet && io::stderr().is_terminal()).then(|| drawing_after(DELAY))
}

/// A sink keeping one hidden bar per stage in progress, shown once it has run for `delay`.
fn drawing_after(delay: Duration) -> ProgressSink {
    let bars: Arc<Mutex<Vec<(Stage, ProgressBar)>>> = Arc::default();
    ProgressSink::new(move |event| {
        let Ok(mut bars) = bars.lock() else {
            return;
        };
        match *event {
            Progress::Started { stage, total } => {
                let bar = hidden_bar(stage, total);
                reveal_after(bar.clone(), delay);
                bars.push((stage, bar));
            }
            Progress::Advanced { stage, done } => {
                if let Some((_, bar)) = bars.iter().rev().find(|(s, _)| *s == stage) {
                    bar.set_position(done);
                }
            }
            Progress::Finished { stage } => {
                if let Some(i) = bars.iter().rposition(|(s, _)| *s == stage) {
                    bars.remove(i).1.finish_and_clear();
                }
            }
            _ => {}
        }
    })
}

/// A bar (a spinner when the total is unknown) that draws nothing yet.
fn hidden_bar(stage: Stage, total: Option<u64>) -> ProgressBar {
    let (bar, template) = match total {
        Some(total) => (
            ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden()),
            "checkpoint-manager: {msg} [{bar:30}] {pos}/{len} ({elapsed})",
        ),
        None => (
            ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden()),
            "checkpoint-manager: {spinner} {msg} ({elapsed})",
        ),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(stage.to_string());
    bar
}

/// Shows `bar` on stderr after `delay`, unless its stage has finished by then.
fn reveal_after(bar: ProgressBar, delay: Duration) {
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        if !bar.is_finished() {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            bar.enable_steady_tick(Duration::from_millis(120));
        }
    });
}
