//! Rule text that is not UTF-8, or starts with a byte order mark, is refused with EINVAL
//! and the line and column in `lvs_last_error`, before any kernel is needed (so this runs on
//! the host).

use ipvs::{lvs_batch, lvs_last_error, lvs_plan_text, lvs_restore_file, lvs_restore_text};
use std::ffi::{CStr, CString, c_char};

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn last_error() -> String {
    let p = lvs_last_error();
    assert!(!p.is_null());
    // SAFETY: a malloc'ed NUL-terminated string, freed once here.
    let text = unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
    unsafe { libc::free(p.cast()) };
    text
}

const NOT_UTF8: &[u8] = b"-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r \xff\n";
const NOT_UTF8_ERROR: &str = "2:22: invalid UTF-8 (byte 0xff): rule files are UTF-8 text";
const BOM: &[u8] = b"\xef\xbb\xbf-A -t 10.0.0.1:80\n";
const BOM_ERROR: &str = "1:1: the text starts with a UTF-8 byte order mark (EF BB BF), which ipvsadm reads as part of the first word: save the file without it";

#[test]
fn restore_file_says_where_the_text_is_bad() {
    let dir = std::env::temp_dir().join(format!("lvs-capi-rules-text-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes, want) in [
        ("bad.rules", NOT_UTF8, NOT_UTF8_ERROR),
        ("bom.rules", BOM, BOM_ERROR),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let c_path = CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: a NUL-terminated string.
        assert_eq!(unsafe { lvs_restore_file(c_path.as_ptr()) }, -1);
        assert_eq!(errno(), libc::EINVAL, "{name}");
        assert_eq!(last_error(), want);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn texts_say_where_they_are_bad() {
    let text = CString::new(NOT_UTF8).unwrap();
    // SAFETY: NUL-terminated strings.
    assert_eq!(unsafe { lvs_restore_text(text.as_ptr()) }, -1);
    assert_eq!(errno(), libc::EINVAL);
    assert_eq!(last_error(), NOT_UTF8_ERROR);

    let bom = CString::new(BOM).unwrap();
    assert!(unsafe { lvs_plan_text(bom.as_ptr(), 0) }.is_null());
    assert_eq!(errno(), libc::EINVAL);
    assert_eq!(last_error(), BOM_ERROR);

    // lvs_batch: one line a string, numbered from 1.
    let lines = [
        CString::new("-A -t 10.0.0.1:80").unwrap(),
        CString::new(&b"-a -t 10.0.0.1:80 -r 10.0.0.2 -w \xe2\x82"[..]).unwrap(),
    ];
    let ptrs: Vec<*const c_char> = lines.iter().map(|l| l.as_ptr()).collect();
    assert_eq!(
        unsafe { lvs_batch(ptrs.as_ptr(), 2, std::ptr::null_mut()) },
        -1
    );
    assert_eq!(errno(), libc::EINVAL);
    assert_eq!(
        last_error(),
        "2:34: the text ends inside a UTF-8 character (bytes 0xe2 0x82): rule files are UTF-8 text"
    );
}
