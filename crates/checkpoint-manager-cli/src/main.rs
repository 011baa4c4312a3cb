//! `checkpoint-manager`: the command-line face of the checkpoint-manager library. Everything but
//! the call lives in the crate's library, which the Python package runs too.

use std::process::ExitCode;

fn main() -> ExitCode {
    checkpoint_manager_cli::run(std::env::args_os())
}
