//! Host and service names through the C library, as ipvsadm looks them up: `gethostbyname`
//! and `getservbyname` when reading arguments, `gethostbyaddr` and `getservbyport` when
//! listing without `-n`. So `/etc/hosts`, DNS and `/etc/services` answer exactly as they answer
//! ipvsadm (same NSS configuration, same first answer).

use lvs::Protocol;
use lvs::ipvsadm::list::Names;
use lvs::rules::Resolver;
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::net::{IpAddr, Ipv4Addr};

unsafe extern "C" {
    // In glibc, not declared by the libc crate.
    fn gethostbyaddr(addr: *const c_void, len: libc::socklen_t, kind: c_int) -> *mut libc::hostent;
    fn gethostbyname(name: *const c_char) -> *mut libc::hostent;
}

/// The C library's resolver.
#[derive(Debug, Clone, Copy, Default)]
pub struct LibcNames;

fn protocol_name(p: Protocol) -> Option<&'static CStr> {
    match p {
        Protocol::Tcp => Some(c"tcp"),
        Protocol::Udp => Some(c"udp"),
        Protocol::Sctp => Some(c"sctp"),
        _ => None,
    }
}

impl Names for LibcNames {
    fn host_name(&self, addr: &IpAddr) -> Option<String> {
        let (bytes, af): (Vec<u8>, c_int) = match addr {
            IpAddr::V4(a) => (a.octets().to_vec(), libc::AF_INET),
            IpAddr::V6(a) => (a.octets().to_vec(), libc::AF_INET6),
        };
        // SAFETY: bytes outlives the call; the result points into glibc's static storage and
        // is copied out before any other lookup.
        unsafe {
            let h = gethostbyaddr(bytes.as_ptr().cast(), bytes.len() as libc::socklen_t, af);
            if h.is_null() || (*h).h_name.is_null() {
                return None;
            }
            Some(CStr::from_ptr((*h).h_name).to_string_lossy().into_owned())
        }
    }

    fn service_name(&self, port: u16, protocol: Protocol) -> Option<String> {
        let proto = protocol_name(protocol)?;
        // SAFETY: as above; getservbyport takes the port in network order.
        unsafe {
            let s = libc::getservbyport(c_int::from(port.to_be()), proto.as_ptr());
            if s.is_null() || (*s).s_name.is_null() {
                return None;
            }
            Some(CStr::from_ptr((*s).s_name).to_string_lossy().into_owned())
        }
    }
}

impl Resolver for LibcNames {
    fn host(&self, name: &str) -> Option<Ipv4Addr> {
        let name = CString::new(name).ok()?;
        // SAFETY: as above; ipvsadm takes the first address, and only an IPv4 one.
        unsafe {
            let h = gethostbyname(name.as_ptr());
            if h.is_null()
                || (*h).h_addrtype != libc::AF_INET
                || (*h).h_length != 4
                || (*h).h_addr_list.is_null()
                || (*(*h).h_addr_list).is_null()
            {
                return None;
            }
            let p = (*(*h).h_addr_list).cast::<u8>();
            let b = std::slice::from_raw_parts(p, 4);
            Some(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
        }
    }

    fn service(&self, name: &str, protocol: Protocol) -> Option<u16> {
        let proto = protocol_name(protocol)?;
        let name = CString::new(name).ok()?;
        // SAFETY: as above; s_port is in network order.
        unsafe {
            let s = libc::getservbyname(name.as_ptr(), proto.as_ptr());
            if s.is_null() {
                return None;
            }
            Some(u16::from_be((*s).s_port as u16))
        }
    }
}
