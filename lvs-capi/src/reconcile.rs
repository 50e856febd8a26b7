//! `lvs_reconciler_*`: lvs-netlink's [`Reconciler`] for C. A reconciler owns its own handle
//! (apart from the process-global one of the libipvs functions), reads the table once, and
//! each `lvs_reconciler_apply_text` sends only what differs from its model of the kernel.

use crate::ext::{apply_options, desired, first_failure};
use crate::ffi::{self, Failure, c_rules, c_str, ffi_boundary, status};
use lvs_netlink::{Ipvs, Reconciler};
use std::ffi::{c_char, c_int, c_uint};
use std::time::Duration;

/// A reconciler, opaque to C: made by `lvs_reconciler_new`, freed by `lvs_reconciler_free`.
#[allow(non_camel_case_types)] // the C name
pub struct lvs_reconciler {
    inner: Reconciler,
}

/// Opens a reconciler on the caller's network namespace (`netns` NULL) or another one (a
/// name under `/run/netns` or a path such as `/proc/PID/ns/net`), and reads the table once.
/// Returns NULL with errno set (and `lvs_last_error`) when IPVS cannot be opened or read.
///
/// # Safety
/// `netns` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lvs_reconciler_new(netns: *const c_char) -> *mut lvs_reconciler {
    ffi_boundary! {
        ffi::pointer(None, || {
            let ipvs = if netns.is_null() {
                Ipvs::new()?
            } else {
                // SAFETY: the caller's contract.
                Ipvs::in_netns(unsafe { c_str(netns, "netns") }?)?
            };
            let inner = Reconciler::new(ipvs)?;
            Ok(Box::into_raw(Box::new(lvs_reconciler { inner })))
        })
    }
}

/// Frees a reconciler and closes its socket. NULL is ignored.
///
/// # Safety
/// `r` is NULL or a pointer `lvs_reconciler_new` returned, not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lvs_reconciler_free(r: *mut lvs_reconciler) {
    ffi_boundary! {
        if !r.is_null() {
            // SAFETY: the caller's contract: a pointer from Box::into_raw, freed once.
            drop(unsafe { Box::from_raw(r) });
        }
    }
}

/// `&mut *r`, or EINVAL for NULL.
///
/// # Safety
/// `r` is NULL or a live reconciler used by one thread at a time.
unsafe fn reconciler<'a>(r: *mut lvs_reconciler) -> ffi::Result<&'a mut Reconciler> {
    // SAFETY: the caller's contract.
    unsafe { r.as_mut() }
        .map(|r| &mut r.inner)
        .ok_or_else(|| Failure::invalid("reconciler is NULL"))
}

/// Brings the kernel to what `text` describes (ipvsadm rules, or a JSON or TOML ruleset with
/// `LVS_APPLY_JSON`/`LVS_APPLY_TOML`; `LVS_APPLY_KEEP_UNLISTED` and `LVS_APPLY_DRAIN` as for
/// `lvs_apply_text`), sending only what differs from the reconciler's model: no read when
/// nothing else changed the table. A change another writer contradicts (a real server it
/// edits was deleted meanwhile) is repaired in the same call. Returns 0, or -1 with errno and
/// `lvs_last_error` of the first refused change (EINVAL, and nothing sent, for text that does
/// not parse or breaks a rule; ETIMEDOUT when the kernel did not answer in time, after which
/// the next call reads the whole table).
///
/// # Safety
/// `r` is a live reconciler (not used by another thread during the call); `text` is NULL or
/// a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lvs_reconciler_apply_text(
    r: *mut lvs_reconciler,
    text: *const c_char,
    flags: c_int,
) -> c_int {
    ffi_boundary! {
        status(None, || {
            // SAFETY: the caller's contract.
            let r = unsafe { reconciler(r) }?;
            let options = apply_options(flags)?;
            // SAFETY: the caller's contract.
            let desired = desired(unsafe { c_rules(text, "text", 1) }?, flags)?;
            first_failure(r.apply(&desired, &options)?)
        })
    }
}

/// Reads the whole table again (after other writers changed it). Returns 0, or -1 with errno.
///
/// # Safety
/// `r` is a live reconciler (not used by another thread during the call).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lvs_reconciler_resync(r: *mut lvs_reconciler) -> c_int {
    ffi_boundary! {
        status(None, || {
            // SAFETY: the caller's contract.
            Ok(unsafe { reconciler(r) }?.resync()?)
        })
    }
}

/// Reads the whole table again in the first apply after `seconds` have passed since the last
/// read (0: only when needed). Returns 0, or -1 with EINVAL for a NULL reconciler.
///
/// # Safety
/// `r` is a live reconciler (not used by another thread during the call).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lvs_reconciler_set_resync_interval(
    r: *mut lvs_reconciler,
    seconds: c_uint,
) -> c_int {
    ffi_boundary! {
        status(None, || {
            // SAFETY: the caller's contract.
            let r = unsafe { reconciler(r) }?;
            let every = (seconds > 0).then(|| Duration::from_secs(u64::from(seconds)));
            r.set_resync_interval(every);
            Ok(())
        })
    }
}

/// How long the reconciler waits for each answer of the kernel, in milliseconds (default
/// 5000); a late answer is ETIMEDOUT. Returns 0, or -1 with EINVAL for a NULL reconciler or 0.
///
/// # Safety
/// `r` is a live reconciler (not used by another thread during the call).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lvs_reconciler_set_reply_timeout(
    r: *mut lvs_reconciler,
    milliseconds: c_uint,
) -> c_int {
    ffi_boundary! {
        status(None, || {
            // SAFETY: the caller's contract.
            let r = unsafe { reconciler(r) }?;
            if milliseconds == 0 {
                return Err(Failure::invalid("a reply timeout of 0 ms"));
            }
            r.ipvs()
                .set_reply_timeout(Duration::from_millis(u64::from(milliseconds)));
            Ok(())
        })
    }
}

/// How long the process-global handle of the libipvs functions waits for each answer of the
/// kernel, in milliseconds (default 5000); a late answer is ETIMEDOUT. Returns 0, or -1 with
/// errno (EINVAL for 0).
#[unsafe(no_mangle)]
pub extern "C" fn lvs_set_reply_timeout(milliseconds: c_uint) -> c_int {
    ffi_boundary! {
        status(None, || {
            if milliseconds == 0 {
                return Err(Failure::invalid("a reply timeout of 0 ms"));
            }
            let timeout = Duration::from_millis(u64::from(milliseconds));
            ffi::with_ipvs(|ipvs| {
                ipvs.set_reply_timeout(timeout);
                Ok(())
            })
        })
    }
}
