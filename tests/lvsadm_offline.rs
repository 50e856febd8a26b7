//! lvsadm on input it must refuse before any kernel is involved (host tests): rule files that
//! are not UTF-8 text or start with a byte order mark, a 10 MB token, a network namespace that
//! does not exist. Each case asserts the exact message and exit status.
//!
//! The lvsadm binary is the `lvsadm` bin target (source in examples/lvsadm), which `cargo test`
//! builds with the `cli` feature.

mod support;

use std::path::PathBuf;
use support::Output;

fn lvsadm() -> PathBuf {
    support::built_lvsadm()
}

fn run(args: &[&str], stdin: &[u8]) -> Output {
    support::run(lvsadm().to_str().expect("a UTF-8 path"), args, Some(stdin))
}

/// A file of its own in a temporary folder, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> TempFile {
        let dir = std::env::temp_dir().join(format!("lvsadm-offline-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create a temporary folder");
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("write a temporary file");
        TempFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 path")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

const NOT_UTF8: &[u8] = b"-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.0.\xff\n";
const NOT_UTF8_ERROR: &str = "2:29: invalid UTF-8 (byte 0xff): rule files are UTF-8 text";
const BOM: &[u8] = b"\xef\xbb\xbf-A -t 10.0.0.1:80 -s rr\n";
const BOM_ERROR: &str = "1:1: the text starts with a UTF-8 byte order mark (EF BB BF), which ipvsadm reads as part of the first word: save the file without it";

fn assert_output(out: &Output, status: i32, stderr: &str) {
    assert_eq!(
        (out.status, out.stdout.as_str(), out.stderr.as_str()),
        (status, "", stderr),
        "{out:?}"
    );
}

#[test]
fn fmt_says_where_the_text_is_bad() {
    for (bytes, error) in [(NOT_UTF8, NOT_UTF8_ERROR), (BOM, BOM_ERROR)] {
        assert_output(&run(&["fmt"], bytes), 2, &format!("<stdin>:{error}\n"));
        let file = TempFile::new("rules", bytes);
        assert_output(
            &run(&["fmt", file.path()], b""),
            2,
            &format!("{}:{error}\n", file.path()),
        );
    }
}

/// `apply` and `diff` read the file before they open the kernel: these fail the same with or
/// without IPVS.
#[test]
fn apply_and_diff_say_where_the_text_is_bad() {
    for (bytes, error) in [(NOT_UTF8, NOT_UTF8_ERROR), (BOM, BOM_ERROR)] {
        let file = TempFile::new("apply.rules", bytes);
        for what in ["apply", "diff"] {
            assert_output(
                &run(&[what, file.path()], b""),
                2,
                &format!("lvsadm {what}: {}:{error}\n", file.path()),
            );
        }
        assert_output(
            &run(&["apply", "-"], bytes),
            2,
            &format!("lvsadm apply: <stdin>:{error}\n"),
        );
    }
}

/// A 10 MB token is echoed as its first 40 characters and its length, control bytes escaped.
#[test]
fn messages_echo_a_long_token_shortened() {
    let mut rules = b"-A -t 10.0.0.1:80 -s rr\n-A -f ".to_vec();
    rules.extend(std::iter::repeat_n(b'7', 10 << 20));
    rules.extend(b"\x1b[2J\n");
    let want = format!(
        "<stdin>:2:7: invalid fwmark value `{}...[10485764 bytes]' specified\n",
        "7".repeat(40)
    );
    assert_output(&run(&["fmt"], &rules), 2, &want);
    assert_output(
        &run(&["fmt"], b"-A -f 7\x1b[2J\n"),
        2,
        "<stdin>:1:7: invalid fwmark value `7\\u{1b}[2J' specified\n",
    );
}

/// A namespace that cannot be opened is the problem, not IPVS: no "Are you sure that IP
/// Virtual Server is built in the kernel" hint.
#[test]
fn a_missing_network_namespace_is_named() {
    let name = format!("lvs-no-such-namespace-{}", std::process::id());
    let out = run(&["--netns", &name, "-Ln"], b"");
    assert_output(
        &out,
        2,
        &format!(
            "--netns {name}: cannot use the network namespace /run/netns/{name}: No such file or directory\n"
        ),
    );
}
