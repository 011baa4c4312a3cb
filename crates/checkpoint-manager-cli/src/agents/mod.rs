//! Where agents work: `hook` (run by Claude Code, Codex or Gemini CLI before each change),
//! `hooks install|uninstall|status` (their settings files) and `mcp` (a Model Context Protocol
//! server). Thin faces over [`CheckpointManager`](checkpoint_manager::CheckpointManager): no
//! rule of their own beyond reading the agents' formats.

pub mod hook;
pub mod install;
pub mod mcp;
mod ordered_json;

use checkpoint_manager::SessionId;
use clap::ValueEnum;

/// An agent whose hooks we know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Agent {
    /// Anthropic's Claude Code (.claude/settings.json)
    ClaudeCode,
    /// OpenAI's Codex CLI (.codex/config.toml)
    Codex,
    /// Google's Gemini CLI (.gemini/settings.json)
    Gemini,
}

impl Agent {
    pub const ALL: [Agent; 3] = [Agent::ClaudeCode, Agent::Codex, Agent::Gemini];

    /// The name on the command line (`claude-code`).
    pub fn name(self) -> &'static str {
        match self {
            Agent::ClaudeCode => "claude-code",
            Agent::Codex => "codex",
            Agent::Gemini => "gemini",
        }
    }
}

/// The namespace prefix of non-UUID session ids: `uuid5(NAMESPACE_URL, PREFIX + id)`.
pub const SESSION_NAME_PREFIX: &str = "checkpoint-manager:session:";

/// The checkpoint session of an agent's session id: a UUID as it is, anything else as a stable
/// UUID v5 (the same id always gives the same session, so hooks and MCP calls of one agent
/// session land in one checkpoint session).
pub fn session_for(agent_session: &str) -> SessionId {
    if let Ok(id) = SessionId::parse(agent_session.trim()) {
        return id;
    }
    let name = format!("{SESSION_NAME_PREFIX}{agent_session}");
    let uuid = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes());
    SessionId::parse(&uuid.to_string()).expect("a v5 UUID is a session id")
}

/// `text` on one line, at most `max` characters (an ellipsis marks a cut).
pub fn one_line(text: &str, max: usize) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if line.chars().count() <= max {
        return line.to_owned();
    }
    let mut cut: String = line.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_kept_and_other_ids_map_to_stable_v5() {
        let id = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
        assert_eq!(session_for(id).as_string(), id);
        let a = session_for("gemini-session-1");
        assert_eq!(a, session_for("gemini-session-1"));
        assert_ne!(a, session_for("gemini-session-2"));
        // Python: uuid.uuid5(uuid.NAMESPACE_URL, "checkpoint-manager:session:gemini-session-1")
        assert_eq!(a.as_string(), "be98de5a-3e3c-5ef6-8bb8-4ed7b012f50a");
    }

    #[test]
    fn one_line_takes_the_first_non_blank_line_and_caps_it() {
        assert_eq!(one_line("\n  fix the bug  \nmore", 80), "fix the bug");
        assert_eq!(one_line("abcdef", 4), "abc…");
        assert_eq!(one_line("", 4), "");
    }
}
