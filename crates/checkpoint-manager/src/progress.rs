//! Progress of long steps, as typed events handed to [`ProgressSink`]: the library draws
//! nothing (the CLI maps the events to a bar on a terminal, after a second).

use std::fmt;
use std::sync::Arc;

/// A long step an operation goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// Reading the work tree (`git status` with every untracked file).
    ReadingWorkTree,
    /// Storing the files a snapshot or a checkpoint commit captures.
    CapturingFiles,
    /// Writing files back (a rollback, undo or redo, a restore of chosen paths).
    RestoringFiles,
    /// Git's own garbage collection.
    CollectingGarbage,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::ReadingWorkTree => "reading the work tree",
            Stage::CapturingFiles => "capturing files",
            Stage::RestoringFiles => "restoring files",
            Stage::CollectingGarbage => "collecting garbage",
        })
    }
}

/// One progress event. Every `Started` is followed by a `Finished` of the same stage, even
/// when the step fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// A stage began; `total` is how many items it will go through, when known.
    Started { stage: Stage, total: Option<u64> },
    /// `done` items of the stage are done (for stages that can count them; the snapshot's
    /// stages cannot: git hashes their files in one process, so they start with no total).
    Advanced { stage: Stage, done: u64 },
    /// The stage ended.
    Finished { stage: Stage },
}

/// A callback for [`Progress`] events, called on the thread doing the work.
#[derive(Clone)]
pub struct ProgressSink(pub(crate) Arc<dyn Fn(&Progress) + Send + Sync>);

impl ProgressSink {
    /// Wraps `f`, which is called once per event.
    pub fn new(f: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        ProgressSink(Arc::new(f))
    }
}

impl fmt::Debug for ProgressSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProgressSink")
    }
}

/// A stage in progress: says `Finished` when dropped, so a failing step ends its bar too.
#[derive(Debug)]
pub(crate) struct StageGuard<'a> {
    sink: Option<&'a ProgressSink>,
    stage: Stage,
}

impl<'a> StageGuard<'a> {
    /// Says `Started` to `sink` (when there is one).
    pub(crate) fn start(sink: Option<&'a ProgressSink>, stage: Stage, total: Option<u64>) -> Self {
        if let Some(sink) = sink {
            (sink.0)(&Progress::Started { stage, total });
        }
        StageGuard { sink, stage }
    }

    /// Says that `done` items are done.
    #[allow(dead_code)] // For stages that count: prune's gc, per-file restores.
    pub(crate) fn advance(&self, done: u64) {
        if let Some(sink) = self.sink {
            (sink.0)(&Progress::Advanced {
                stage: self.stage,
                done,
            });
        }
    }
}

impl Drop for StageGuard<'_> {
    fn drop(&mut self) {
        if let Some(sink) = self.sink {
            (sink.0)(&Progress::Finished { stage: self.stage });
        }
    }
}
