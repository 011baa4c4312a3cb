//! Long text for people goes through the user's pager, as git does: only when stdout is a
//! terminal, with the pager git would choose (`GIT_PAGER`, `core.pager`, `PAGER`, `less`), and
//! `LESS=FRX` unless set, so short text prints and exits and colours pass through.

use std::io::{self, IsTerminal, Write};
use std::process::{Child, Command, Stdio};

use checkpoint_manager::CheckpointManager;

use crate::cli::{GlobalArgs, OutputFormat};

/// Where pretty output goes: the pager's stdin, or stdout.
pub struct Paged {
    child: Option<Child>,
}

impl Paged {
    /// Starts the pager when output is pretty, stdout is a terminal and paging is not turned
    /// off (`--no-pager`, a pager of `cat`); otherwise output goes straight to stdout.
    pub fn start(global: &GlobalArgs, manager: &CheckpointManager) -> Paged {
        let wanted =
            global.output == OutputFormat::Pretty && !global.no_pager && io::stdout().is_terminal();
        let command = wanted.then(|| manager.pager().ok().flatten()).flatten();
        Paged {
            child: command.and_then(|command| spawn(&command)),
        }
    }

    /// Writes `text` and waits for the pager to be closed. A reader who quits early (`q`)
    /// closes the pipe; that is their choice, not an error.
    pub fn show(mut self, text: &[u8]) -> io::Result<()> {
        let Some(child) = self.child.as_mut() else {
            let mut out = io::stdout().lock();
            out.write_all(text)?;
            return out.flush();
        };
        let written = match child.stdin.take() {
            Some(mut stdin) => stdin.write_all(text),
            None => Ok(()),
        };
        child.wait()?;
        match written {
            Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e),
            _ => Ok(()),
        }
    }
}

/// Runs the pager through `sh -c`, as git does: the user's own configured command line.
fn spawn(command: &str) -> Option<Child> {
    let mut pager = Command::new("sh");
    pager.args(["-c", command]).stdin(Stdio::piped());
    if std::env::var_os("LESS").is_none() {
        pager.env("LESS", "FRX");
    }
    if std::env::var_os("LV").is_none() {
        pager.env("LV", "-c");
    }
    pager.spawn().ok()
}
