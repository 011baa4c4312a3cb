//! `hooks install|uninstall|status` (issue 11): our entries merged into real settings files
//! that already hold other hooks, keys and comments; everything else keeps its bytes, running
//! install twice changes nothing, uninstall removes only ours. `--scope user` writes under
//! `$HOME`, which each test points at a temporary folder.

use std::path::Path;

use serde_json::Value;

use crate::support::{cm, repo_with_commit};

/// Runs `hooks <args>` in `dir` with `home` as `$HOME`; it must succeed. Returns its JSON.
fn hooks(dir: &Path, home: &Path, args: &[&str]) -> Value {
    let out = cm(dir)
        .arg("hooks")
        .args(args)
        .env("HOME", home)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "hooks {args:?}: {stderr}");
    assert_eq!(stderr, "", "hooks {args:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Claude Code settings someone already has: keys in no sorted order, another tool's hooks.
const CLAUDE_SETTINGS: &str = r#"{
  "permissions": {
    "allow": [
      "Bash(npm run lint)"
    ],
    "deny": []
  },
  "hooks": {
    "PreToolUse": [
      {
        "matcher": "Bash",
        "hooks": [
          {
            "type": "command",
            "command": "/usr/local/bin/audit-bash"
          }
        ]
      }
    ],
    "Stop": [
      {
        "hooks": [
          {
            "type": "command",
            "command": "notify-send done"
          }
        ]
      }
    ]
  },
  "env": {
    "ZED": "1",
    "ALPHA": "2"
  },
  "model": "opus"
}
"#;

#[test]
fn claude_code_project_install_is_merged_idempotent_and_uninstalled_to_the_same_bytes() {
    let repo = repo_with_commit();
    let home = tempfile::tempdir().unwrap();
    let settings = repo.path().join(".claude/settings.json");
    repo.write(".claude/settings.json", CLAUDE_SETTINGS);

    let report = hooks(repo.path(), home.path(), &["install", "claude-code"]);
    assert_eq!(report[0]["changed"], true);
    assert_eq!(
        report[0]["events"],
        serde_json::json!(["PreToolUse", "UserPromptSubmit"])
    );
    let installed = std::fs::read_to_string(&settings).unwrap();
    // Everything that was there is there, in its order; ours come after.
    let keys: Vec<&str> = [
        "\"permissions\"",
        "\"hooks\"",
        "\"env\"",
        "\"ZED\"",
        "\"ALPHA\"",
        "\"model\"",
    ]
    .into_iter()
    .collect();
    let positions: Vec<usize> = keys.iter().map(|k| installed.find(k).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{installed}");
    let parsed: Value = serde_json::from_str(&installed).unwrap();
    let pre = parsed["hooks"]["PreToolUse"].as_array().unwrap();
    assert_eq!(pre.len(), 2);
    assert_eq!(pre[0]["hooks"][0]["command"], "/usr/local/bin/audit-bash");
    assert_eq!(pre[1]["matcher"], "Bash|Edit|MultiEdit|Write|NotebookEdit");
    assert_eq!(
        pre[1]["hooks"][0]["command"],
        "checkpoint-manager hook claude-code"
    );
    assert_eq!(
        parsed["hooks"]["UserPromptSubmit"][0]["hooks"][0]["command"],
        "checkpoint-manager hook claude-code"
    );
    assert_eq!(
        parsed["hooks"]["Stop"][0]["hooks"][0]["command"],
        "notify-send done"
    );

    let again = hooks(repo.path(), home.path(), &["install", "claude-code"]);
    assert_eq!(again[0]["changed"], false);
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), installed);

    let status = hooks(repo.path(), home.path(), &["status", "claude-code"]);
    assert_eq!(status[0]["scope"], "project");
    assert_eq!(
        status[0]["events"],
        serde_json::json!(["PreToolUse", "UserPromptSubmit"])
    );
    assert_eq!(status[1]["scope"], "user");
    assert_eq!(status[1]["events"], serde_json::json!([]));

    let removed = hooks(repo.path(), home.path(), &["uninstall", "claude-code"]);
    assert_eq!(removed[0]["changed"], true);
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), CLAUDE_SETTINGS);
    // Nothing of ours left: uninstalling again writes nothing.
    let again = hooks(repo.path(), home.path(), &["uninstall", "claude-code"]);
    assert_eq!(again[0]["changed"], false);
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), CLAUDE_SETTINGS);
}

#[test]
fn gemini_user_scope_writes_under_home_and_nowhere_else() {
    let repo = repo_with_commit();
    let home = tempfile::tempdir().unwrap();
    let report = hooks(
        repo.path(),
        home.path(),
        &["install", "gemini", "--scope", "user"],
    );
    let settings = home.path().join(".gemini/settings.json");
    assert_eq!(report[0]["path"], settings.to_str().unwrap());
    assert!(!repo.path().join(".gemini").exists());
    let parsed: Value = serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
    let before_tool = &parsed["hooks"]["BeforeTool"][0];
    assert_eq!(
        before_tool["matcher"],
        "write_file|replace|run_shell_command"
    );
    assert_eq!(
        before_tool["hooks"][0]["command"],
        "checkpoint-manager hook gemini"
    );
    assert_eq!(before_tool["hooks"][0]["timeout"], 30000);
    assert_eq!(
        parsed["hooks"]["BeforeAgent"][0]["hooks"][0]["command"],
        "checkpoint-manager hook gemini"
    );
    let status = hooks(repo.path(), home.path(), &["status"]);
    let installed: Vec<(String, String)> = status
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["events"].as_array().unwrap().is_empty())
        .map(|r| {
            (
                r["agent"].as_str().unwrap().into(),
                r["scope"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(installed, [("gemini".to_owned(), "user".to_owned())]);
    hooks(
        repo.path(),
        home.path(),
        &["uninstall", "gemini", "--scope", "user"],
    );
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), "{}\n");
}

/// A Codex config with comments, settings and another tool's hook.
const CODEX_CONFIG: &str = r#"# my Codex settings
model = "gpt-5-codex"   # the default model

[features]
hooks = true

# audit every shell command
[[hooks.PreToolUse]]
matcher = "Bash"

[[hooks.PreToolUse.hooks]]
type = "command"
command = "/usr/local/bin/audit-bash"

[mcp_servers.docs]
command = "docs-server"
"#;

#[test]
fn codex_config_toml_keeps_its_comments_and_order_and_uninstall_restores_its_bytes() {
    let repo = repo_with_commit();
    let home = tempfile::tempdir().unwrap();
    let config = repo.path().join(".codex/config.toml");
    repo.write(".codex/config.toml", CODEX_CONFIG);

    hooks(repo.path(), home.path(), &["install", "codex"]);
    let installed = std::fs::read_to_string(&config).unwrap();
    for line in CODEX_CONFIG.lines() {
        assert!(installed.contains(line), "lost {line:?}:\n{installed}");
    }
    let doc: toml_edit::DocumentMut = installed.parse().unwrap();
    let pre = doc["hooks"]["PreToolUse"].as_array_of_tables().unwrap();
    assert_eq!(pre.len(), 2);
    let ours = pre.get(1).unwrap();
    assert_eq!(ours["matcher"].as_str(), Some("Bash|apply_patch"));
    let handler = ours["hooks"].as_array_of_tables().unwrap().get(0).unwrap();
    assert_eq!(
        handler["command"].as_str(),
        Some("checkpoint-manager hook codex")
    );
    let prompt = doc["hooks"]["UserPromptSubmit"]
        .as_array_of_tables()
        .unwrap();
    assert_eq!(prompt.len(), 1);

    hooks(repo.path(), home.path(), &["install", "codex"]);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), installed);

    hooks(repo.path(), home.path(), &["uninstall", "codex"]);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), CODEX_CONFIG);
}

#[test]
fn settings_we_cannot_edit_are_refused_and_left_as_they_are() {
    let repo = repo_with_commit();
    let with_comment = "{\n  // mine\n  \"model\": \"opus\"\n}\n";
    repo.write(".claude/settings.json", with_comment);
    let message = crate::support::fails(repo.path(), &["hooks", "install", "claude-code"], 3);
    assert!(
        message.contains(".claude/settings.json: not JSON we can edit"),
        "{message}"
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join(".claude/settings.json")).unwrap(),
        with_comment
    );
    repo.write(".codex/config.toml", "hooks = \"not a table\"\n");
    let message = crate::support::fails(repo.path(), &["hooks", "install", "codex"], 3);
    assert!(message.contains("[hooks] is not in the shape"), "{message}");
}

#[test]
fn status_outside_a_repository_reports_the_user_settings_only() {
    let plain = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    hooks(
        plain.path(),
        home.path(),
        &["install", "codex", "--scope", "user"],
    );
    let status = hooks(plain.path(), home.path(), &["status", "codex"]);
    let rows = status.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{status}");
    assert_eq!(rows[0]["scope"], "user");
    assert_eq!(
        rows[0]["events"],
        serde_json::json!(["PreToolUse", "UserPromptSubmit"])
    );
    // Installing for the project needs one.
    let message = crate::support::fails(plain.path(), &["hooks", "install", "codex"], 3);
    assert!(message.contains("not inside a git work tree"), "{message}");
}
