//! `mcp` (issue 11): the real binary spoken to over stdio with a real MCP JSON-RPC exchange
//! (initialize, notifications/initialized, tools/list, tools/call), checking the files on disk
//! after create, rollback and undo, and that a failing call is a tool error, not a crash.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{json, Value};

use crate::support::repo_with_commit;

struct Server {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
}

impl Server {
    fn start(repo: &std::path::Path) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_checkpoint-manager"));
        cmd.args(["mcp", "--repo"]).arg(repo);
        for (key, value) in testutil::hermetic_env() {
            cmd.env(key, value);
        }
        cmd.env("HOME", repo)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Server {
            child,
            stdin,
            stdout,
            next_id: 1,
        }
    }

    fn send(&mut self, message: &Value) {
        writeln!(self.stdin, "{message}").unwrap();
        self.stdin.flush().unwrap();
    }

    /// Sends a request and returns its response (skipping any notification the server sends).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let mut line = String::new();
            assert!(
                self.stdout.read_line(&mut line).unwrap() > 0,
                "the server closed stdout"
            );
            let message: Value = serde_json::from_str(&line).unwrap();
            if message["id"] == json!(id) {
                return message;
            }
        }
    }

    /// Calls a tool; returns (is_error, structured content, text).
    fn call(&mut self, tool: &str, arguments: Value) -> (bool, Value, String) {
        let response = self.request("tools/call", json!({"name": tool, "arguments": arguments}));
        let result = &response["result"];
        assert!(result.is_object(), "{tool}: {response}");
        let text = result["content"][0]["text"].as_str().unwrap().to_owned();
        (
            result["isError"] == json!(true),
            result["structuredContent"].clone(),
            text,
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn an_mcp_client_creates_lists_rolls_back_and_undoes_with_files_checked_on_disk() {
    let repo = repo_with_commit();
    let mut server = Server::start(repo.path());

    let init = server.request(
        "initialize",
        json!({
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "checkpoint-manager-tests", "version": "1"}
        }),
    );
    assert_eq!(init["result"]["serverInfo"]["name"], "checkpoint-manager");
    assert!(
        init["result"]["capabilities"]["tools"].is_object(),
        "{init}"
    );
    server.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));

    let tools = server.request("tools/list", json!({}));
    let mut names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "checkpoint_create",
            "checkpoint_diff",
            "checkpoint_get",
            "checkpoint_list",
            "checkpoint_restore",
            "checkpoint_rollback",
            "checkpoint_summary",
            "checkpoint_undo"
        ]
    );
    let create_schema = &tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "checkpoint_create")
        .unwrap()["inputSchema"];
    assert_eq!(create_schema["required"], json!(["description"]));

    repo.write("README.md", "version one\n");
    repo.write("draft.txt", "draft\n");
    let (error, created, text) = server.call(
        "checkpoint_create",
        json!({"description": "before the refactor"}),
    );
    assert!(!error, "{text}");
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), created);
    let session = created["session_id"].as_str().unwrap().to_owned();
    let checkpoint = created["checkpoint"]["checkpoint_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(created["checkpoint"]["mode"], "snapshot");
    // The same JSON the command line prints for that checkpoint.
    let cli = crate::support::ok_json(
        repo.path(),
        &[
            "get",
            "--session-id",
            &session,
            "--checkpoint-id",
            &checkpoint,
        ],
    );
    assert_eq!(created["checkpoint"], cli);

    repo.write("README.md", "version two\n");
    std::fs::remove_file(repo.join("draft.txt")).unwrap();
    repo.write("new.txt", "created after\n");

    let (_, listed, _) = server.call("checkpoint_list", json!({}));
    assert_eq!(listed["session_id"], session.as_str());
    assert_eq!(listed["checkpoints"].as_array().unwrap().len(), 1);

    let (error, rolled, text) = server.call(
        "checkpoint_rollback",
        json!({"checkpoint_id": checkpoint, "hard_reset": true}),
    );
    assert!(!error, "{text}");
    assert_eq!(rolled["session_id"], session.as_str());
    assert_eq!(repo.read("README.md"), b"version one\n");
    assert_eq!(repo.read("draft.txt"), b"draft\n");
    assert!(!repo.exists("new.txt"));

    let (error, undone, text) = server.call("checkpoint_undo", json!({}));
    assert!(!error, "{text}");
    assert_eq!(undone["session_id"], session.as_str());
    assert_eq!(repo.read("README.md"), b"version two\n");
    assert_eq!(repo.read("new.txt"), b"created after\n");
    assert!(!repo.exists("draft.txt"));

    // Issue 10: what changed since the checkpoint, as the command line's `diff` says it.
    let (error, diffed, text) = server.call(
        "checkpoint_diff",
        json!({"from_checkpoint_id": checkpoint, "patch": true}),
    );
    assert!(!error, "{text}");
    let changes: Vec<(&str, &str)> = diffed["diff"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        changes,
        [
            ("README.md", "modified"),
            ("draft.txt", "deleted"),
            ("new.txt", "added")
        ]
    );
    let cli = crate::support::ok_json(
        repo.path(),
        &[
            "diff",
            "--session-id",
            &session,
            "--from",
            &checkpoint,
            "--patch",
        ],
    );
    assert_eq!(diffed["diff"], cli);

    let (_, summary, _) = server.call("checkpoint_summary", json!({}));
    // The checkpoint rolled back to (safety snapshots are not in the spec's summary).
    assert_eq!(summary["summary"]["checkpoints_used_for_rollback"], 1);

    // Failures are tool errors with the one-line message; the server keeps serving.
    let (error, _, text) = server.call("checkpoint_get", json!({"checkpoint_id": "nope"}));
    assert!(error);
    assert!(text.starts_with("invalid checkpoint id \"nope\""), "{text}");
    assert!(!text.contains('\n'));
    let (error, _, text) = server.call(
        "checkpoint_rollback",
        json!({"checkpoint_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7"}),
    );
    assert!(error);
    assert!(
        text.contains("7c9e6679-7425-40de-944b-e07fc1f90ae7"),
        "{text}"
    );
    let (error, _, text) = server.call("checkpoint_create", json!({"description": "  "}));
    assert!(error, "{text}");
    let (error, listed, _) = server.call("checkpoint_list", json!({}));
    assert!(!error);
    // The one checkpoint created (the refused create added none; safety snapshots are not listed).
    assert_eq!(
        listed["checkpoints"].as_array().unwrap().len(),
        1,
        "{listed}"
    );
    // Issue 10: a prefix of the id works as on the command line (3 ids in the session: 8
    // digits are unique but once in billions).
    let id = listed["checkpoints"][0]["checkpoint_id"].as_str().unwrap();
    let (error, got, text) = server.call("checkpoint_get", json!({"checkpoint_id": &id[..8]}));
    assert!(!error, "{text}");
    assert_eq!(got["checkpoint"]["checkpoint_id"], id);
}

#[test]
fn a_session_id_argument_names_the_session_and_any_id_maps_to_a_uuid() {
    let repo = repo_with_commit();
    let mut server = Server::start(repo.path());
    server.request(
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {},
               "clientInfo": {"name": "t", "version": "1"}}),
    );
    server.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    let (error, created, text) = server.call(
        "checkpoint_create",
        json!({"description": "named", "session_id": "gemini-2f1c9a7e-session"}),
    );
    assert!(!error, "{text}");
    // The same session the Gemini hook fixture lands in.
    assert_eq!(
        created["session_id"],
        "b081b3a6-3d0d-57ba-9911-84a37f7e8065"
    );
    assert!(repo
        .log_path("b081b3a6-3d0d-57ba-9911-84a37f7e8065")
        .exists());
}

// Issue 10: restore of chosen paths.
#[test]
fn checkpoint_restore_brings_back_named_paths_and_undo_takes_it_back() {
    let repo = repo_with_commit();
    let mut server = Server::start(repo.path());
    server.request(
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {},
               "clientInfo": {"name": "t", "version": "1"}}),
    );
    server.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    repo.write("src/app.txt", "app one\n");
    repo.write("notes.txt", "notes one\n");
    let (_, created, _) = server.call("checkpoint_create", json!({"description": "one"}));
    let checkpoint = created["checkpoint"]["checkpoint_id"].clone();
    repo.write("src/app.txt", "app two\n");
    repo.write("src/extra.txt", "created after\n");
    repo.write("notes.txt", "notes two\n");

    let (error, restored, text) = server.call(
        "checkpoint_restore",
        json!({"checkpoint_id": checkpoint, "paths": ["src"]}),
    );
    assert!(!error, "{text}");
    assert_eq!(
        restored["restore"]["restored_paths"],
        json!(["src/app.txt"])
    );
    assert_eq!(
        restored["restore"]["removed_paths"],
        json!(["src/extra.txt"])
    );
    assert_eq!(repo.read("src/app.txt"), b"app one\n");
    assert!(!repo.exists("src/extra.txt"));
    assert_eq!(
        repo.read("notes.txt"),
        b"notes two\n",
        "not named: untouched"
    );

    let (error, _, text) = server.call("checkpoint_undo", json!({}));
    assert!(!error, "{text}");
    assert_eq!(repo.read("src/app.txt"), b"app two\n");
    assert_eq!(repo.read("src/extra.txt"), b"created after\n");

    let (error, _, text) = server.call(
        "checkpoint_restore",
        json!({"checkpoint_id": checkpoint, "paths": ["../outside.txt"]}),
    );
    assert!(error, "{text}");
    assert!(text.contains("outside the work tree"), "{text}");
    assert_eq!(repo.read("src/app.txt"), b"app two\n");
}
