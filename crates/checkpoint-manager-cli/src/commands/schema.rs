//! `schema`: the JSON Schema of `checkpoints.json`.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Args;

use super::CliError;

/// Print the JSON Schema (draft 2020-12) of a session's checkpoints.json, generated from the
/// types that read and write it (the repository's schemas/checkpoints.schema.json).
///
/// Example: checkpoint-manager schema > checkpoints.schema.json
#[derive(Debug, Args)]
pub struct SchemaArgs {}

pub fn run(_args: &SchemaArgs) -> Result<ExitCode, CliError> {
    let mut out = io::stdout().lock();
    out.write_all(schema_text().as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The schema as committed: pretty JSON and a final newline.
pub fn schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&checkpoint_manager::log_schema())
        .expect("a serde_json::Value always serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Fails when the model types and the committed schema disagree. To accept a change of the
    /// types: `cargo run -p checkpoint-manager-cli -- schema > schemas/checkpoints.schema.json`.
    #[test]
    fn the_committed_schema_is_the_types_schema() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/checkpoints.schema.json");
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == schema_text(),
            "schemas/checkpoints.schema.json is out of date: regenerate it with \
             `cargo run -p checkpoint-manager-cli -- schema > schemas/checkpoints.schema.json`"
        );
    }
}
