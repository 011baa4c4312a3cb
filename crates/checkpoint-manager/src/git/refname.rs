//! Branch names as git accepts them (`git check-ref-format --branch`), checked in process: a
//! branch read from the log must never make us write `refs/heads/HEAD` or `refs/heads/-x`.

/// Returns true when `name` (without `refs/heads/`) is a name `git check-ref-format --branch`
/// accepts, with no `@{...}` shorthand to expand.
pub fn is_valid_branch_name(name: &str) -> bool {
    // `git branch` refuses these two although the ref format allows them.
    if name.starts_with('-') || name == "HEAD" {
        return false;
    }
    is_valid_ref_tail(name)
}

/// Returns true for `refs/heads/<name>` with a valid branch name.
pub fn is_valid_branch_ref(full: &str) -> bool {
    full.strip_prefix("refs/heads/")
        .is_some_and(is_valid_branch_name)
}

/// The rules of git's `check_refname_format` for the part after `refs/heads/`.
fn is_valid_ref_tail(name: &str) -> bool {
    let forbidden = |c: char| {
        c.is_ascii_control() || matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\')
    };
    !name.is_empty()
        && !name.chars().any(forbidden)
        && !name.contains("..")
        && !name.contains("@{")
        && !name.ends_with('.')
        && name.split('/').all(|component| {
            !component.is_empty() && !component.starts_with('.') && !component.ends_with(".lock")
        })
}

#[cfg(test)]
mod tests {
    use super::{is_valid_branch_name, is_valid_branch_ref};

    const TRICKY: &[&str] = &[
        "HEAD",
        "-x",
        "-",
        "@",
        "@@",
        "a@b",
        "a@{b",
        "@{-1}",
        "a..b",
        ".a",
        "a/.b",
        "a.lock",
        "a/b.lock",
        "x.lock/y",
        "lock.lock",
        ".lock",
        "a b",
        "a~",
        "a^",
        "a:",
        "a?",
        "a*",
        "a[",
        "a]",
        "a\\b",
        "a/",
        "/a",
        "a//b",
        "a.",
        "ab/c.",
        "ok",
        "foo/bar",
        "é",
        "",
        "a/./b",
        "a/../b",
        "refs/heads/x",
        "HEAD/x",
        "x/HEAD",
        "a-",
        "a\tb",
        "a\nb",
        "a\u{7f}",
        "a/@",
        "a.b",
        ".",
        "..",
        "main",
        "feature/x-1_2",
        "a{b}",
        "a}",
        "#x",
        "a'b\"",
        "a!b",
        "a|b",
        "a;b",
        "a$b",
        "a%b",
        "a=b",
        "a,b",
        "a<b>",
        "\u{1F600}",
        "v1.0",
        "a.lock.b",
        "a/.",
    ];

    /// Every name gets the answer git itself gives.
    #[test]
    fn agrees_with_git_check_ref_format() {
        let dir = tempfile::tempdir().expect("ok");
        for name in TRICKY {
            let git = std::process::Command::new("git")
                .current_dir(dir.path())
                .args(["check-ref-format", "--branch", name])
                .output()
                .expect("ok");
            assert_eq!(
                is_valid_branch_name(name),
                git.status.success(),
                "{name:?}: git says {}",
                String::from_utf8_lossy(&git.stderr)
            );
        }
    }

    #[test]
    fn full_refs_must_be_under_refs_heads() {
        assert!(is_valid_branch_ref("refs/heads/main"));
        assert!(!is_valid_branch_ref("refs/heads/HEAD"));
        assert!(!is_valid_branch_ref("refs/heads/-x"));
        assert!(!is_valid_branch_ref("refs/tags/v1"));
        assert!(!is_valid_branch_ref("main"));
        assert!(!is_valid_branch_ref("refs/heads/"));
    }
}
