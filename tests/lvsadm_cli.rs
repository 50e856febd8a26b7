//! lvsadm's own subcommands (host tests, no kernel): `fmt` converting every rule file of the
//! repository to JSON and TOML and back without a byte of difference, `--json` where the help
//! says it works and a usage error (status 2) where it does not, `--help` for each subcommand
//! while `-h` stays ipvsadm's, and the generated completions and manual pages.

mod support;

use std::path::{Path, PathBuf};
use support::Output;

fn lvsadm(args: &[&str], stdin: &[u8]) -> Output {
    let exe = support::built_lvsadm();
    support::run(exe.to_str().expect("a UTF-8 path"), args, Some(stdin))
}

/// Runs lvsadm and returns its standard output, which must come with status 0 and nothing on
/// standard error.
fn ok(args: &[&str], stdin: &str) -> String {
    let out = lvsadm(args, stdin.as_bytes());
    assert_eq!(
        (out.status, out.stderr.as_str()),
        (0, ""),
        "lvsadm {args:?}: {out:?}"
    );
    out.stdout
}

/// A usage error: status 2, nothing on standard output, `want` in the message.
fn refused(args: &[&str], want: &str) {
    let out = lvsadm(args, b"");
    assert!(
        out.status == 2 && out.stdout.is_empty() && out.stderr.contains(want),
        "lvsadm {args:?}: expected status 2 and `{want}' on stderr, got {out:?}"
    );
}

/// Every rule file in the repository: tests/golden/*.rules (ipvsadm's own test inputs, errors
/// included) and examples/rules.
fn rule_files() -> Vec<PathBuf> {
    let root = support::repo_dir();
    let mut files: Vec<PathBuf> = ["tests/golden", "examples/rules"]
        .iter()
        .flat_map(|dir| {
            std::fs::read_dir(root.join(dir))
                .unwrap_or_else(|e| panic!("{dir}: {e}"))
                .map(|entry| entry.expect("a directory entry").path())
        })
        .filter(|p| p.extension().is_some_and(|e| e == "rules"))
        .collect();
    files.sort();
    assert!(files.len() >= 60, "only {} rule files", files.len());
    files
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// rules -> JSON -> rules and rules -> TOML -> rules print exactly what `fmt` prints; JSON and
/// TOML convert into each other and back unchanged; a file `fmt` refuses is refused the same
/// whatever the output format. The input format comes from `--from` or, on standard input, is
/// detected from the content.
#[test]
fn fmt_converts_every_rule_file_both_ways_losslessly() {
    let (mut converted, mut refused_files) = (0, 0);
    for file in rule_files() {
        let file = path(&file);
        let rules = lvsadm(&["fmt", file], b"");
        if rules.status != 0 {
            assert!(
                rules.status == 2 && rules.stdout.is_empty(),
                "{file}: {rules:?}"
            );
            for to in ["json", "toml"] {
                assert_eq!(
                    lvsadm(&["fmt", "--to", to, file], b""),
                    rules,
                    "{file} --to {to}"
                );
            }
            refused_files += 1;
            continue;
        }
        let rules = rules.stdout;
        let json = ok(&["fmt", "--to", "json", file], "");
        let toml = ok(&["fmt", "--to", "toml", file], "");
        let context = format!("{file}\n--- rules:\n{rules}--- json:\n{json}--- toml:\n{toml}");
        // Back to rules, with the format given and detected.
        assert_eq!(
            ok(&["fmt", "--from", "json", "-"], &json),
            rules,
            "{context}"
        );
        assert_eq!(
            ok(&["fmt", "--from", "toml", "-"], &toml),
            rules,
            "{context}"
        );
        assert_eq!(
            ok(&["fmt", "--to", "rules", "-"], &json),
            rules,
            "{context}"
        );
        assert_eq!(ok(&["fmt", "-"], &toml), rules, "{context}");
        // (fmt's output is not always a fixed point, nor is ipvsadm -Sn's after -R of it:
        // ipvsadm's sort is not a total order and sort-order.rules shows it.)
        // JSON and TOML into each other.
        assert_eq!(ok(&["fmt", "--to", "toml"], &json), toml, "{context}");
        assert_eq!(ok(&["fmt", "--to", "json"], &toml), json, "{context}");
        assert_eq!(ok(&["--json", "fmt", "-"], &toml), json, "{context}");
        converted += 1;
    }
    assert!(
        converted >= 20 && refused_files >= 20,
        "{converted} converted, {refused_files} refused"
    );
}

/// `fmt --ipvsadm` prints what the real ipvsadm 1.31 saved (`ipvsadm -Sn`, captured in
/// tests/golden) after restoring each file it restored without error; plain `fmt` differs only
/// where README.md says (thresholds, `flag-3`, unsigned marks) and adds `--set` and
/// `--start-daemon` lines.
#[test]
fn fmt_ipvsadm_prints_what_ipvsadm_saved() {
    let mut checked = 0;
    for file in rule_files() {
        let status = file.with_extension("restore-status");
        let Ok(status) = std::fs::read_to_string(&status) else {
            continue;
        };
        if status.lines().next() != Some("0") {
            continue;
        }
        let saved = std::fs::read_to_string(file.with_extension("save")).expect("NAME.save");
        let file = path(&file);
        assert_eq!(ok(&["fmt", "--ipvsadm", file], ""), saved, "{file}");
        let rules = ok(&["fmt", file], "");
        let extra: Vec<&str> = rules.lines().filter(|l| !saved.contains(l)).collect();
        assert!(
            extra.iter().all(|l| l.contains(" -x ")
                || l.contains("flag-3")
                || l.contains(" -f ")
                || l.starts_with("--set ")
                || l.starts_with("--start-daemon ")),
            "{file}: {extra:?}"
        );
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} golden files checked");
}

/// A file in a temporary folder, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, text: &str) -> TempFile {
        let dir = std::env::temp_dir().join(format!("lvsadm-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create a temporary folder");
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write a temporary file");
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The input format: `--from`, else the extension, else the content (`{` JSON, `[` or
/// `key =` TOML, anything else rules), comments and blank lines skipped.
#[test]
fn fmt_finds_the_input_format() {
    let rules =
        "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 2\n--set 900 120 300\n";
    assert_eq!(ok(&["fmt"], rules), rules);
    let json = ok(&["fmt", "--to", "json"], rules);
    let toml = ok(&["fmt", "--to", "toml"], rules);
    assert!(
        json.starts_with('{') && toml.contains("[[services]]"),
        "{json}\n{toml}"
    );
    // The extension wins over the content, --from over both.
    let misnamed = TempFile::new("table.json", &toml);
    let out = lvsadm(&["fmt", path(&misnamed.0)], b"");
    assert!(
        out.status == 2 && out.stderr.starts_with(path(&misnamed.0)),
        "{out:?}"
    );
    assert_eq!(ok(&["fmt", "--from", "toml", path(&misnamed.0)], ""), rules);
    for (name, text) in [("a.rules", rules), ("b.toml", &toml), ("c.conf", &json)] {
        let file = TempFile::new(name, text);
        assert_eq!(ok(&["fmt", path(&file.0)], ""), rules, "{name}");
    }
    // Content: comments and blank lines first, a TOML key line, an empty table.
    assert_eq!(ok(&["fmt"], &format!("# lb\n\n{toml}")), rules);
    assert_eq!(
        ok(&["fmt", "--to", "json"], "services = []\n"),
        "{\n  \"services\": []\n}\n"
    );
    assert_eq!(ok(&["fmt"], "{\"services\": []}"), "");
    // A document that is not a ruleset is refused with its place.
    let out = lvsadm(
        &["fmt", "--from", "json", "-"],
        b"{\"services\": [], \"bogus\": 1}",
    );
    assert_eq!(out.status, 2, "{out:?}");
    assert!(out.stderr.starts_with("<stdin>:1:"), "{out:?}");
    assert!(out.stderr.contains("bogus"), "{out:?}");
}

/// The help says `--json` prints `-L` listings (checked in the VM) and, before `fmt`, the
/// ruleset as JSON: it does, wherever it is written. Anywhere else it is a usage error.
#[test]
fn json_works_where_the_help_says_and_is_refused_elsewhere() {
    let rules = "-A -u 10.0.0.13:53 -s rr\n";
    let json = ok(&["fmt", "--to", "json"], rules);
    assert_eq!(ok(&["--json", "fmt"], rules), json);
    assert_eq!(ok(&["fmt", "--json", "-"], rules), json);
    assert_eq!(ok(&["--json", "fmt", "--to", "json", "-"], rules), json);
    let help = ok(&["-h"], "");
    assert!(
        help.contains("--json") && help.contains("fmt --to json"),
        "{help}"
    );

    refused(
        &["--json", "fmt", "--to", "toml", "-"],
        "--json is --to json",
    );
    refused(
        &["fmt", "--ipvsadm", "--to", "json", "-"],
        "--ipvsadm prints rules",
    );
    for sub in ["apply", "diff"] {
        refused(&["--json", sub, "x.rules"], "--json is for -L listings");
        refused(&[sub, "--json", "x.rules"], "--json is for -L listings");
    }
    refused(&["--json", "completions", "bash"], "--json");
    refused(&["--netns", "blue", "fmt", "-"], "--netns");
    refused(&["fmt", "--to", "yaml", "-"], "yaml");
    refused(&["apply", "--resync", "5", "x.rules"], "--watch");
    refused(&["apply", "--watch", "-"], "--watch needs a FILE");
    refused(&["apply"], "<FILE>");
}

/// Each of lvsadm's own subcommands answers `--help` (and `-h`) with status 0; `lvsadm -h` and
/// `--help` stay ipvsadm's usage, and a word lvsadm does not know stays ipvsadm's error.
#[test]
fn each_subcommand_has_its_help_and_ipvsadm_keeps_its_own() {
    for sub in ["fmt", "apply", "diff", "completions", "man"] {
        for flag in ["--help", "-h"] {
            let help = ok(&[sub, flag], "");
            assert!(
                help.contains(&format!("Usage: lvsadm {sub}")),
                "{sub} {flag}: {help}"
            );
        }
    }
    // lvsadm's options before the subcommand are the subcommand's.
    assert!(ok(&["--json", "fmt", "--help"], "").contains("Usage: lvsadm fmt"));
    assert!(ok(&["--netns", "x", "apply", "--help"], "").contains("Usage: lvsadm apply"));
    assert!(ok(&["--netns", "fmt", "diff", "--help"], "").contains("Usage: lvsadm diff"));
    assert!(ok(&["--netns=man", "apply", "-h"], "").contains("Usage: lvsadm apply"));
    assert!(ok(&["apply", "--help"], "").contains("--watch"));
    assert!(ok(&["diff", "--help"], "").contains("--rules"));
    assert!(ok(&["fmt", "--help"], "").contains("--to <FORMAT>"));
    for flag in ["-h", "--help"] {
        let usage = ok(&[flag], "");
        assert!(
            usage.starts_with("lvsadm v")
                && usage.contains("lvsadm -A|E virtual-service [-s scheduler]"),
            "{usage}"
        );
    }
    // Not a subcommand: ipvsadm's "Try" and 255, as before.
    let out = lvsadm(&["help"], b"");
    assert_eq!(out.status, 255, "{out:?}");
    assert!(out.stderr.starts_with("Try `"), "{out:?}");
}

/// The completion scripts are generated for every shell clap_complete knows, name every
/// subcommand, and the bash one is valid bash.
#[test]
fn completions_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = ok(&["completions", shell], "");
        for word in [
            "fmt",
            "apply",
            "diff",
            "completions",
            "man",
            "keep-unlisted",
        ] {
            assert!(script.contains(word), "{shell} lacks {word}:\n{script}");
        }
    }
    let bash = TempFile::new("lvsadm.bash", &ok(&["completions", "bash"], ""));
    let out = support::run("bash", &["-n", path(&bash.0)], None);
    assert_eq!(
        (out.status, out.stderr.as_str()),
        (0, ""),
        "bash -n: {out:?}"
    );
    refused(&["completions", "tcsh"], "tcsh");
}

/// The manual pages are generated roff: lvsadm(1) lists every subcommand and carries ipvsadm's
/// usage; lvsadm-SUB(1) documents SUB's options. groff, when installed, reads them without a
/// warning.
#[test]
fn man_pages_are_generated_for_lvsadm_and_each_subcommand() {
    let page = ok(&["man"], "");
    assert!(page.contains(".TH lvsadm 1"), "{page}");
    // Only what lvsadm takes: its version option is ipvsadm's -v, not clap's -V.
    assert!(!page.contains("\\-V"), "{page}");
    for sub in ["fmt", "apply", "diff", "completions", "man"] {
        assert!(page.contains(sub), "lvsadm(1) lacks {sub}");
        let sub_page = ok(&["man", sub], "");
        assert!(
            sub_page.contains(&format!(".TH lvsadm-{sub} 1")),
            "{sub_page}"
        );
    }
    assert!(
        page.contains("virtual\\-service") || page.contains("virtual-service"),
        "{page}"
    );
    assert!(ok(&["man", "fmt"], "").contains("\\-\\-to"));
    refused(&["man", "bogus"], "bogus");
    let groff = support::run("sh", &["-c", "command -v groff"], None);
    if groff.success() {
        let file = TempFile::new("lvsadm.1", &page);
        let out = support::run(
            "groff",
            &["-man", "-Tutf8", "-ww", "-z", path(&file.0)],
            None,
        );
        assert_eq!((out.status, out.stderr.as_str()), (0, ""), "groff: {out:?}");
    }
}
