//! The 25 functions of ipvsadm 1.31's `libipvs.h`, with its signatures and conventions.
//!
//! Changes go to the kernel as libipvs sends them, with no checks of lvs's own
//! ([`lvs_netlink::Ipvs::execute_unchecked`]): C callers branch on the kernel's errno, and
//! libipvs never refused anything itself.

use crate::convert;
use crate::ffi::{
    self, Failure, calloc_table, deref, ffi_boundary, pointer, static_message, status, with_ipvs,
};
use crate::types::*;
use lvs_core::{Command, Operation, Timeouts, ipvsadm, ipvsadm_message};
use lvs_netlink::Ipvs;
use std::ffi::{c_char, c_int, c_uint, c_void};
use std::mem::{offset_of, size_of};

/// The IPVS version and connection table size, filled by `ipvs_init` and `ipvs_getinfo`
/// (`num_services` stays 0 over netlink, as with libipvs).
#[unsafe(no_mangle)]
pub static mut ipvs_info: ip_vs_getinfo = ip_vs_getinfo {
    version: 0,
    size: 0,
    num_services: 0,
};

pub(crate) fn getinfo() -> ffi::Result<()> {
    let info = with_ipvs(Ipvs::info)?;
    // SAFETY: C reads ipvs_info; libipvs is not thread-safe here either, and the write is two
    // plain stores made while the handle's lock is not held by anyone else in this call.
    unsafe {
        let p = &raw mut ipvs_info;
        (*p).version = info.version.0;
        (*p).size = info.conn_table_size;
    }
    Ok(())
}

/// Opens the handle on the caller's network namespace (loading `ip_vs` if needed) and fills
/// `ipvs_info`. Returns 0, or -1 with errno (`ENOPROTOOPT` when the kernel has no IPVS).
#[unsafe(no_mangle)]
pub extern "C" fn ipvs_init() -> c_int {
    ffi_boundary! {
        status(Some(Operation::GetInfo), || {
            ffi::open(Ipvs::new()?);
            getinfo()
        })
    }
}

/// Reads the IPVS version and connection table size into `ipvs_info`.
#[unsafe(no_mangle)]
pub extern "C" fn ipvs_getinfo() -> c_int {
    ffi_boundary! { status(None, getinfo) }
}

/// `ipvs_info.version`: `(major << 16) + (minor << 8) + patch`.
#[unsafe(no_mangle)]
pub extern "C" fn ipvs_version() -> c_uint {
    // SAFETY: a plain read of a static C may also write.
    ffi_boundary! { unsafe { ipvs_info.version } }
}

fn execute(command: Command) -> ffi::Result<()> {
    with_ipvs(|ipvs| ipvs.execute_unchecked(&command))
}

/// Deletes every service (`ipvsadm -C`).
#[unsafe(no_mangle)]
pub extern "C" fn ipvs_flush() -> c_int {
    ffi_boundary! { status(None, || execute(Command::Flush)) }
}

/// Adds a virtual service. `EEXIST`: "Service already exists".
///
/// # Safety
/// `svc` is NULL or points to an `ipvs_service_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipvs_add_service(svc: *mut ipvs_service_t) -> c_int {
    ffi_boundary! {
        status(Some(Operation::AddService), || {
            // SAFETY: the caller's contract.
            let svc = convert::service(unsafe { deref(svc, "svc") }?)?;
            execute(Command::AddService(svc))
        })
    }
}

/// Replaces a virtual service's configuration. `ESRCH`: "No such service".
///
/// # Safety
/// `svc` is NULL or points to an `ipvs_service_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipvs_update_service(svc: *mut ipvs_service_t) -> c_int {
    ffi_boundary! {
        status(Some(Operation::EditService), || {
            // SAFETY: the caller's contract.
            let svc = convert::service(unsafe { deref(svc, "svc") }?)?;
            execute(Command::EditService(svc))
        })
    }
}

/// Deletes a virtual service and its real servers. `ESRCH`: "No such service".
///
/// # Safety
/// `svc` is NULL or points to an `ipvs_service_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipvs_del_service(svc: *mut ipvs_service_t) -> c_int {
    ffi_boundary! {
        status(Some(Operation::DeleteService), || {
            // SAFETY: the caller's contract.
            let key = convert::service_key(unsafe { deref(svc, "svc") }?)?;
            execute(Command::DeleteService(key))
        })
    }
}

/// Zeroes the counters of one service, or of every service when `svc` has no firewall mark,
/// a zero address and port 0 (as libipvs decides).
///
/// # Safety
/// `svc` is NULL or points to an `ipvs_service_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipvs_zero_service(svc: *mut ipvs_service_t) -> c_int {
    ffi_boundary! {
        status(Some(Operation::Zero), || {
            // SAFETY: the caller's contract.
            let s = unsafe { deref(svc, "svc") }?;
            // SAFETY: every field of the union is plain bytes.
            let any_addr = unsafe { s.addr.all } == [0; 4];
            let key = if s.fwmark != 0 || !any_addr || s.port != 0 {
                Some(convert::service_key(s)?)
            } else {
                None
            };
            execute(Command::Zero(key))
        })
    }
}

/// The model service and destination of a libipvs pair.
///
/// # Safety
/// Each pointer is NULL or valid.
unsafe fn service_and_dest(
    svc: *const ipvs_service_t,
    dest: *const ipvs_dest_t,
) -> ffi::Result<(lvs_core::ServiceKey, lvs_core::Destination)> {
    // SAFETY: the caller's contract.
    let (svc, dest) = unsafe { (deref(svc, "svc")?, deref(dest, "dest")?) };
    let key = convert::service_key(svc)?;
    let dest = convert::destination(dest, key.family())?;
    Ok((key, dest))
}

/// Adds a real server. `ESRCH`: "Service not defined"; `EEXIST`: "Destination already exists".
///
/// # Safety
/// `svc` and `dest` are NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipvs_add_dest(svc: *mut ipvs_service_t, dest: *mut ipvs_dest_t) -> c_int {
    ffi_boundary! {
        status(Some(Operation::AddDestination), || {
            // SAFETY: the caller's contract.
            let (service, destination) = unsafe { service_and_dest(svc, dest) }?;
            execute(Command::AddDestination { service, destination })
        })
    }
}

/// Replaces a real server's configuration. `ENOENT`: "No such destination".
///
/// # Safety
/// `svc` and `dest` are NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipvs_update_dest(
    svc: *mut ipvs_service_t,
    dest: *mut ipvs_dest_t,
) -> c_int {
    ffi_boundary! {
        status(Some(Operation::EditDestination), || {
            // SAFETY: the caller's contract.
            let (service, destination) = unsafe { service_and_dest(svc, dest) }?;
            execute(Command::EditDestination { service, destination })
        })
    }
}

/// Removes a real server. `ENOENT`: "No such destination".
///
/// # Safety
/// `svc` and `dest` are NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipvs_del_dest(svc: *mut ipvs_service_t, dest: *mut ipvs_dest_t) -> c_int {
    ffi_boundary! {
        status(Some(Operation::DeleteDestination), || {
            // SAFETY: the caller's contract.
            let (service, d) = unsafe { service_and_dest(svc, dest) }?;
            execute(Command::DeleteDestination { service, addr: d.addr })
        })
    }
}

/// Sets the connection timeouts; 0 keeps a value.
///
/// # Safety
/// `to` is NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipvs_set_timeout(to: *mut ipvs_timeout_t) -> c_int {
    ffi_boundary! {
        status(Some(Operation::SetTimeouts), || {
            // SAFETY: the caller's contract.
            let to = unsafe { deref(to, "to") }?;
            // The kernel reads the values as u32, as libipvs sends them.
            execute(Command::SetTimeouts(Timeouts {
                tcp: to.tcp_timeout as u32,
                tcp_fin: to.tcp_fin_timeout as u32,
                udp: to.udp_timeout as u32,
            }))
        })
    }
}

/// Starts a sync daemon. `EEXIST`: "Daemon has already run".
///
/// # Safety
/// `dm` is NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipvs_start_daemon(dm: *mut ipvs_daemon_t) -> c_int {
    ffi_boundary! {
        status(Some(Operation::StartDaemon), || {
            // SAFETY: the caller's contract.
            let d = convert::daemon(unsafe { deref(dm, "dm") }?)?;
            execute(Command::StartDaemon(d))
        })
    }
}

/// Stops the sync daemon of `dm->state`. `ESRCH`: "No daemon is running".
///
/// # Safety
/// `dm` is NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipvs_stop_daemon(dm: *mut ipvs_daemon_t) -> c_int {
    ffi_boundary! {
        status(Some(Operation::StopDaemon), || {
            // SAFETY: the caller's contract.
            let role = convert::role_of(unsafe { deref(dm, "dm") }?.state)?;
            execute(Command::StopDaemon(role))
        })
    }
}

/// Every virtual service, in the kernel's order, in one `malloc`ed block the caller frees.
#[unsafe(no_mangle)]
pub extern "C" fn ipvs_get_services() -> *mut ip_vs_get_services {
    ffi_boundary! {
        pointer(Some(Operation::GetServices), || {
            let services = with_ipvs(Ipvs::services)?;
            let head = offset_of!(ip_vs_get_services, entrytable);
            let get = calloc_table::<ipvs_service_entry_t>(head, services.len())?
                .cast::<ip_vs_get_services>();
            // SAFETY: get holds the header and services.len() zeroed entries.
            unsafe {
                (*get).num_services = services.len() as c_uint;
                let table = (&raw mut (*get).entrytable).cast::<ipvs_service_entry_t>();
                for (i, s) in services.iter().enumerate() {
                    convert::service_entry(&s.service, &s.state, &mut *table.add(i));
                }
            }
            Ok(get)
        })
    }
}

/// libipvs's service order (`ipvs_cmp_services`): firewall mark, family, protocol, address,
/// port, each as a difference read as a signed int (lvs-core's `ipvsadm::cmp_services`).
/// Firewall-mark entries compare with protocol and address 0, as the kernel reports them.
///
/// # Safety
/// `s1` and `s2` are NULL or valid. NULL compares as EINVAL and 0.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipvs_cmp_services(
    s1: *mut ipvs_service_entry_t,
    s2: *mut ipvs_service_entry_t,
) -> c_int {
    ffi_boundary! {
        // SAFETY: the caller's contract.
        let pair = unsafe { (deref(s1, "s1"), deref(s2, "s2")) };
        match pair {
            (Ok(a), Ok(b)) => match (cmp_key(a), cmp_key(b)) {
                (Ok(ka), Ok(kb)) => ipvsadm::cmp_services(&ka, &kb),
                (Err(e), _) | (_, Err(e)) => fail(e, 0),
            },
            (Err(e), _) | (_, Err(e)) => fail(e, 0),
        }
    }
}

/// The key the comparison sees: libipvs reads any family but `AF_INET6` as IPv4.
fn cmp_key(e: &ipvs_service_entry_t) -> ffi::Result<lvs_core::ServiceKey> {
    let mut e = *e;
    if e.af != libc::AF_INET6 as u16 {
        e.af = libc::AF_INET as u16;
    }
    convert::entry_key(&e)
}

fn fail<T>(e: Failure, value: T) -> T {
    ffi::fail_with(e.errno, &e.message);
    value
}

type QsortCmp = unsafe extern "C" fn(*const c_void, *const c_void) -> c_int;

/// Sorts the entries with `f` under the C library's `qsort`, as libipvs does.
///
/// # Safety
/// `s` is NULL or a table from `ipvs_get_services`; `f` is NULL or a comparator.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipvs_sort_services(s: *mut ip_vs_get_services, f: ipvs_service_cmp_t) {
    ffi_boundary! {
        match (s.is_null(), f) {
            (false, Some(f)) => {
                // SAFETY: the comparator takes two entry pointers, which is what qsort passes
                // (the same cast libipvs makes); s holds num_services entries.
                unsafe {
                    let f: QsortCmp = std::mem::transmute::<
                        unsafe extern "C" fn(*mut ipvs_service_entry_t, *mut ipvs_service_entry_t) -> c_int,
                        QsortCmp,
                    >(f);
                    let table = (&raw mut (*s).entrytable).cast::<c_void>();
                    libc::qsort(table, (*s).num_services as usize, size_of::<ipvs_service_entry_t>(), Some(f));
                }
            }
            _ => ffi::fail_with(libc::EINVAL, "ipvs_sort_services: NULL argument"),
        }
    }
}

/// The real servers of the service `svc` names, in the kernel's order, in one `malloc`ed block
/// the caller frees. `svc->num_dests` is not used.
///
/// # Safety
/// `svc` is NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipvs_get_dests(svc: *mut ipvs_service_entry_t) -> *mut ip_vs_get_dests {
    ffi_boundary! {
        pointer(Some(Operation::GetDestinations), || {
            // SAFETY: the caller's contract.
            let svc = unsafe { deref(svc, "svc") }?;
            let key = convert::entry_key(svc)?;
            let dests = with_ipvs(|ipvs| ipvs.destinations(&key))?;
            let head = offset_of!(ip_vs_get_dests, entrytable);
            let get = calloc_table::<ipvs_dest_entry_t>(head, dests.len())?.cast::<ip_vs_get_dests>();
            // SAFETY: get holds the header and dests.len() zeroed entries.
            unsafe {
                convert::dests_header(svc, dests.len(), &mut *get);
                let table = (&raw mut (*get).entrytable).cast::<ipvs_dest_entry_t>();
                for (i, d) in dests.iter().enumerate() {
                    convert::dest_entry(&d.destination, &d.state, &mut *table.add(i));
                }
            }
            Ok(get)
        })
    }
}

/// libipvs's real-server order (`ipvs_cmp_dests`): address (as IPv6 when `d1` is), then port
/// (lvs-core's `ipvsadm::cmp_dests`).
///
/// # Safety
/// `d1` and `d2` are NULL or valid. NULL compares as EINVAL and 0.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipvs_cmp_dests(
    d1: *mut ipvs_dest_entry_t,
    d2: *mut ipvs_dest_entry_t,
) -> c_int {
    ffi_boundary! {
        // SAFETY: the caller's contract.
        match unsafe { (deref(d1, "d1"), deref(d2, "d2")) } {
            (Ok(a), Ok(b)) => {
                // libipvs reads both addresses in d1's family.
                let family = if a.af == libc::AF_INET6 as u16 {
                    lvs_core::Family::Inet6
                } else {
                    lvs_core::Family::Inet
                };
                let dest = |e: &ipvs_dest_entry_t| {
                    lvs_core::Destination::new(std::net::SocketAddr::new(
                        convert::ip_of(family, &e.addr),
                        u16::from_be(e.port),
                    ))
                };
                ipvsadm::cmp_dests(&dest(a), &dest(b))
            }
            (Err(e), _) | (_, Err(e)) => fail(e, 0),
        }
    }
}

/// Sorts the entries with `f` under the C library's `qsort`, as libipvs does.
///
/// # Safety
/// `d` is NULL or a table from `ipvs_get_dests`; `f` is NULL or a comparator.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipvs_sort_dests(d: *mut ip_vs_get_dests, f: ipvs_dest_cmp_t) {
    ffi_boundary! {
        match (d.is_null(), f) {
            (false, Some(f)) => {
                // SAFETY: as in ipvs_sort_services.
                unsafe {
                    let f: QsortCmp = std::mem::transmute::<
                        unsafe extern "C" fn(*mut ipvs_dest_entry_t, *mut ipvs_dest_entry_t) -> c_int,
                        QsortCmp,
                    >(f);
                    let table = (&raw mut (*d).entrytable).cast::<c_void>();
                    libc::qsort(table, (*d).num_dests as usize, size_of::<ipvs_dest_entry_t>(), Some(f));
                }
            }
            _ => ffi::fail_with(libc::EINVAL, "ipvs_sort_dests: NULL argument"),
        }
    }
}

/// One service, in a `malloc`ed entry the caller frees; NULL with `ESRCH` when there is none.
/// `addr` is passed by value, `port` in network order.
#[unsafe(no_mangle)]
pub extern "C" fn ipvs_get_service(
    fwmark: __u32,
    af: __u16,
    protocol: __u16,
    addr: nf_inet_addr,
    port: __u16,
) -> *mut ipvs_service_entry_t {
    ffi_boundary! {
        pointer(Some(Operation::GetService), || {
            let key = convert::key_of(fwmark, af, protocol, &addr, port)?;
            let found = with_ipvs(|ipvs| ipvs.service(&key))?
                .ok_or_else(|| Failure::new(libc::ESRCH, ipvsadm_message(Operation::GetService, libc::ESRCH)))?;
            let e = calloc_table::<ipvs_service_entry_t>(0, 1)?.cast::<ipvs_service_entry_t>();
            // SAFETY: e is one zeroed entry.
            convert::service_entry(&found.service, &found.state, unsafe { &mut *e });
            Ok(e)
        })
    }
}

/// The connection timeouts, in a `malloc`ed struct the caller frees.
#[unsafe(no_mangle)]
pub extern "C" fn ipvs_get_timeout() -> *mut ipvs_timeout_t {
    ffi_boundary! {
        pointer(Some(Operation::GetTimeouts), || {
            let t = with_ipvs(Ipvs::timeouts)?;
            let p = calloc_table::<ipvs_timeout_t>(0, 1)?.cast::<ipvs_timeout_t>();
            // SAFETY: p is one zeroed struct.
            unsafe {
                (*p).tcp_timeout = t.tcp as c_int;
                (*p).tcp_fin_timeout = t.tcp_fin as c_int;
                (*p).udp_timeout = t.udp as c_int;
            }
            Ok(p)
        })
    }
}

/// The sync daemons: a `calloc`ed array of two (the caller frees it), in the kernel's order;
/// an unused slot has state `IP_VS_STATE_NONE`.
#[unsafe(no_mangle)]
pub extern "C" fn ipvs_get_daemon() -> *mut ipvs_daemon_t {
    ffi_boundary! {
        pointer(Some(Operation::GetDaemons), || {
            let daemons = with_ipvs(Ipvs::daemons)?;
            let p = calloc_table::<ipvs_daemon_t>(0, 2)?.cast::<ipvs_daemon_t>();
            for (i, d) in daemons.iter().take(2).enumerate() {
                // SAFETY: p holds two zeroed structs.
                convert::daemon_entry(d, unsafe { &mut *p.add(i) });
            }
            Ok(p)
        })
    }
}

/// Closes the handle. Later calls open a new one, as libipvs's netlink calls keep working.
#[unsafe(no_mangle)]
pub extern "C" fn ipvs_close() {
    ffi_boundary! { ffi::close() }
}

/// ipvsadm's message for `err` after the last libipvs call (`ipvs_strerror`'s table, lvs-core's
/// `ipvsadm_message`), or the C library's `strerror(err)`. The text is static.
#[unsafe(no_mangle)]
pub extern "C" fn ipvs_strerror(err: c_int) -> *const c_char {
    ffi_boundary! {
        let text = ipvsadm_message(ffi::last_op(), err);
        if text == lvs_core::errno::strerror(err) {
            // No libipvs entry: the C library's own text, in its locale, as libipvs returns.
            // SAFETY: strerror returns a valid string.
            unsafe { libc::strerror(err) }.cast_const()
        } else {
            static_message(&text)
        }
    }
}
