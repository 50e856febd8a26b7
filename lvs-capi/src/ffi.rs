//! The FFI boundary: the panic-catching macro, errno, the process-global handle, the last
//! operation (for `ipvs_strerror`), the last error's full text, and C memory.

use lvs_core::Operation;
use lvs_netlink::Ipvs;
use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char, c_int, c_uint};
use std::sync::{Mutex, MutexGuard};

/// The value an export returns when it fails or panics: -1, NULL, 0 or nothing.
pub(crate) trait FailureValue {
    fn failure() -> Self;
}

impl FailureValue for c_int {
    fn failure() -> Self {
        -1
    }
}

impl FailureValue for c_uint {
    fn failure() -> Self {
        0
    }
}

impl FailureValue for () {
    fn failure() -> Self {}
}

impl<T> FailureValue for *mut T {
    fn failure() -> Self {
        std::ptr::null_mut()
    }
}

impl<T> FailureValue for *const T {
    fn failure() -> Self {
        std::ptr::null()
    }
}

/// Runs an export's body, turning a panic into the export's failure value with errno `EIO`:
/// nothing unwinds into C. Every `extern "C"` function of this crate is written
/// `{ ffi_boundary! { ... } }`, so that cbindgen still sees a plain function.
macro_rules! ffi_boundary {
    ($($body:tt)*) => {
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| { $($body)* })) {
            Ok(value) => value,
            Err(_) => {
                $crate::ffi::fail_with(::libc::EIO, "lvs-capi: internal error (panic caught at the C boundary)");
                $crate::ffi::FailureValue::failure()
            }
        }
    };
}
pub(crate) use ffi_boundary;

/// Why a call failed: the errno C sees, and the full text `lvs_last_error` gives.
#[derive(Debug)]
pub(crate) struct Failure {
    pub errno: c_int,
    pub message: String,
}

impl Failure {
    pub fn new(errno: c_int, message: impl Into<String>) -> Self {
        Failure {
            errno,
            message: message.into(),
        }
    }

    /// A NULL pointer, an unterminated string or a value the model cannot hold.
    pub fn invalid(message: impl Into<String>) -> Self {
        Failure::new(libc::EINVAL, message)
    }
}

impl From<lvs_netlink::Error> for Failure {
    fn from(e: lvs_netlink::Error) -> Self {
        use lvs_netlink::Error as E;
        let errno = match &e {
            // What libipvs's sockopt fallback reports when IPVS is missing; ipvsadm then says
            // "Protocol not available".
            E::NotAvailable { .. } => libc::ENOPROTOOPT,
            E::NotSupported { .. } => libc::EOPNOTSUPP,
            E::Invalid(_) => libc::EINVAL,
            E::Decode { .. } | E::ConnTable(_) => libc::EBADMSG,
            E::MissingReply { .. } => libc::EPROTO,
            // The kernel's errno, the OS error's, ETIMEDOUT for a timeout.
            e => e.errno().unwrap_or(libc::EIO),
        };
        Failure::new(errno, e.to_string())
    }
}

pub(crate) type Result<T> = std::result::Result<T, Failure>;

pub(crate) fn set_errno(errno: c_int) {
    // SAFETY: __errno_location returns this thread's errno.
    unsafe { *libc::__errno_location() = errno };
}

thread_local! {
    static LAST_ERROR: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Sets errno and remembers the message for `lvs_last_error`.
pub(crate) fn fail_with(errno: c_int, message: &str) {
    LAST_ERROR.with(|e| *e.borrow_mut() = Some(message.to_owned()));
    set_errno(errno);
}

pub(crate) fn last_error() -> Option<String> {
    LAST_ERROR.with(|e| e.borrow().clone())
}

/// The process-global handle, as libipvs's is: `ipvs_init` (or the first call) opens it,
/// `ipvs_close` drops it.
static HANDLE: Mutex<Option<Ipvs>> = Mutex::new(None);

/// The last libipvs operation, which `ipvs_strerror` keys its messages on (libipvs's
/// `ipvs_func`). `GetInfo` has no operation-specific message, like `ipvs_init`.
static LAST_OP: Mutex<Operation> = Mutex::new(Operation::GetInfo);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic caught at the boundary may poison a lock; the data stays consistent (a handle or
    // an operation), so go on.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn set_last_op(op: Operation) {
    *lock(&LAST_OP) = op;
}

pub(crate) fn last_op() -> Operation {
    *lock(&LAST_OP)
}

/// Replaces the handle (`ipvs_init`, `lvs_init_netns`).
pub(crate) fn open(ipvs: Ipvs) {
    *lock(&HANDLE) = Some(ipvs);
}

/// Drops the handle (`ipvs_close`); the next call opens a new one.
pub(crate) fn close() {
    *lock(&HANDLE) = None;
}

/// Runs `f` on the handle, opening it in the caller's namespace first if needed (libipvs too
/// works without `ipvs_init` over netlink).
pub(crate) fn with_ipvs<T>(
    f: impl FnOnce(&Ipvs) -> std::result::Result<T, lvs_netlink::Error>,
) -> Result<T> {
    let mut handle = lock(&HANDLE);
    let ipvs = match &mut *handle {
        Some(ipvs) => ipvs,
        empty => empty.insert(Ipvs::new()?),
    };
    Ok(f(ipvs)?)
}

/// libipvs's `int` convention: records `op`, runs `f`, returns 0, or -1 with errno set.
pub(crate) fn status(op: Option<Operation>, f: impl FnOnce() -> Result<()>) -> c_int {
    if let Some(op) = op {
        set_last_op(op);
    }
    match f() {
        Ok(()) => 0,
        Err(e) => {
            fail_with(e.errno, &e.message);
            -1
        }
    }
}

/// libipvs's pointer convention: records `op`, runs `f`, returns its pointer, or NULL with
/// errno set.
pub(crate) fn pointer<T>(op: Option<Operation>, f: impl FnOnce() -> Result<*mut T>) -> *mut T {
    if let Some(op) = op {
        set_last_op(op);
    }
    match f() {
        Ok(p) => p,
        Err(e) => {
            fail_with(e.errno, &e.message);
            std::ptr::null_mut()
        }
    }
}

/// `&*p`, or EINVAL for NULL.
///
/// # Safety
/// `p` is NULL or points to a valid `T` for the call.
pub(crate) unsafe fn deref<'a, T>(p: *const T, what: &str) -> Result<&'a T> {
    // SAFETY: the caller's contract.
    unsafe { p.as_ref() }.ok_or_else(|| Failure::invalid(format!("{what} is NULL")))
}

/// A NUL-terminated C string as UTF-8, or EINVAL.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string.
pub(crate) unsafe fn c_str<'a>(p: *const c_char, what: &str) -> Result<&'a str> {
    if p.is_null() {
        return Err(Failure::invalid(format!("{what} is NULL")));
    }
    // SAFETY: the caller's contract.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| Failure::invalid(format!("{what} is not UTF-8")))
}

/// A NUL-terminated C string holding ipvsadm rules, decoded as a rule file is
/// ([`lvs_core::rules::decode`]): not UTF-8, or a leading byte order mark, is EINVAL with
/// `LINE:COL: why`, as a rule that does not parse. `first_line` is the line number of its
/// first line (for `lvs_batch`, whose strings are one line each).
///
/// # Safety
/// `p` is NULL or a NUL-terminated string.
pub(crate) unsafe fn c_rules<'a>(
    p: *const c_char,
    what: &str,
    first_line: usize,
) -> Result<&'a str> {
    if p.is_null() {
        return Err(Failure::invalid(format!("{what} is NULL")));
    }
    // SAFETY: the caller's contract.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    rules_text(bytes, first_line)
}

/// [`c_rules`] of bytes.
pub(crate) fn rules_text(bytes: &[u8], first_line: usize) -> Result<&str> {
    use lvs_core::rules::{RulesError, decode};
    decode(bytes).map_err(|e| {
        let e = match e {
            RulesError::Text {
                line,
                column,
                problem,
            } => RulesError::Text {
                line: line + first_line - 1,
                column,
                problem,
            },
            other => other,
        };
        Failure::invalid(e.to_string())
    })
}

/// A fixed `char` array field as UTF-8, up to its first NUL (or its end).
pub(crate) fn field_str<'a>(field: &'a [c_char], what: &str) -> Result<&'a str> {
    // SAFETY: c_char and u8 have the same size and alignment.
    let bytes: &[u8] = unsafe { std::slice::from_raw_parts(field.as_ptr().cast(), field.len()) };
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    std::str::from_utf8(&bytes[..end]).map_err(|_| Failure::invalid(format!("{what} is not UTF-8")))
}

/// Copies `s` into a fixed `char` array, truncated so that a NUL always follows.
pub(crate) fn set_field(field: &mut [c_char], s: &str) {
    field.fill(0);
    let n = s.len().min(field.len().saturating_sub(1));
    for (dst, src) in field.iter_mut().zip(&s.as_bytes()[..n]) {
        *dst = *src as c_char;
    }
}

/// `calloc`s a header of `head` bytes followed by `count` entries of `T`: memory C frees with
/// `free()`. Never a Rust allocation.
pub(crate) fn calloc_table<T>(head: usize, count: usize) -> Result<*mut u8> {
    let size = count
        .checked_mul(std::mem::size_of::<T>())
        .and_then(|n| n.checked_add(head))
        .ok_or_else(|| Failure::new(libc::ENOMEM, "table too large"))?;
    // SAFETY: calloc with a non-zero size; NULL is handled.
    let p = unsafe { libc::calloc(1, size.max(1)) }.cast::<u8>();
    if p.is_null() {
        return Err(Failure::new(libc::ENOMEM, "out of memory"));
    }
    Ok(p)
}

/// `malloc`s a NUL-terminated copy of `s` (C frees it with `free()`). Interior NULs cut it.
pub(crate) fn malloc_string(s: &str) -> Result<*mut c_char> {
    let bytes = s.as_bytes();
    let n = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let p = calloc_table::<u8>(0, n + 1)?;
    // SAFETY: p has n + 1 zeroed bytes.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, n) };
    Ok(p.cast())
}

/// Messages handed out by `ipvs_strerror` stay valid for the life of the process, like
/// libipvs's static table; each distinct text is kept once (there are about twenty).
static MESSAGES: Mutex<Vec<CString>> = Mutex::new(Vec::new());

pub(crate) fn static_message(text: &str) -> *const c_char {
    let mut messages = lock(&MESSAGES);
    if let Some(m) = messages.iter().find(|m| m.as_bytes() == text.as_bytes()) {
        return m.as_ptr();
    }
    let owned = CString::new(text.replace('\0', "")).unwrap_or_default();
    // The CString's buffer does not move when the Vec grows.
    let p = owned.as_ptr();
    messages.push(owned);
    p
}
