//! Opening the kernel's IPVS: a socket, the family lookup, and `modprobe ip_vs` when the
//! family is missing (as ipvsadm does: the module may just not be loaded yet).

use crate::Error;
use crate::client::link::Link;
use crate::netns::Netns;
use crate::proto::Limits;
use crate::transport::socket::{Purpose, SocketTransport};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

/// A link to the IPVS of `netns` (the calling thread's without one), its family resolved,
/// loading `ip_vs` once if the kernel has no "IPVS" family yet.
pub(crate) fn connect(netns: Option<&Netns>, timeout: Duration) -> Result<Link, Error> {
    connect_socket(netns, timeout).map(Link::boxed)
}

/// [`connect`], with the socket itself under the link (the async client takes it over).
pub(crate) fn connect_socket(
    netns: Option<&Netns>,
    timeout: Duration,
) -> Result<Link<SocketTransport>, Error> {
    let socket = SocketTransport::open(netns, Purpose::Main)?;
    let limits = Limits::for_buffers(socket.sndbuf, socket.rcvbuf);
    let mut link = Link::new(socket, 0, limits);
    if let Some(id) = link.resolve_family(timeout)? {
        link.set_family(id);
        return Ok(link);
    }
    let modprobe = Command::new("modprobe")
        .args(["--", "ip_vs"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match link.resolve_family(timeout)? {
        Some(id) => {
            link.set_family(id);
            Ok(link)
        }
        None => Err(not_available(modprobe)),
    }
}

/// A second socket of the same kernel, for small dumps (see [`Purpose::SmallDumps`]).
pub(crate) fn connect_small_dumps(netns: Option<&Netns>, family: u16) -> Result<Link, Error> {
    connect_small_dumps_socket(netns, family).map(Link::boxed)
}

/// [`connect_small_dumps`], with the socket itself under the link.
pub(crate) fn connect_small_dumps_socket(
    netns: Option<&Netns>,
    family: u16,
) -> Result<Link<SocketTransport>, Error> {
    let socket = SocketTransport::open(netns, Purpose::SmallDumps)?;
    let limits = Limits::for_buffers(socket.sndbuf, socket.rcvbuf);
    Ok(Link::new(socket, family, limits))
}

const NO_FAMILY: &str = "the kernel has no \"IPVS\" generic-netlink family";

/// The error for a kernel (or a transport) that answers without the family.
pub(crate) fn no_family() -> Error {
    Error::NotAvailable {
        reason: NO_FAMILY.to_owned(),
    }
}

/// The error for a kernel without the family, saying what `modprobe` told.
pub(crate) fn not_available(modprobe: std::io::Result<ExitStatus>) -> Error {
    let reason = match modprobe {
        Ok(status) if status.success() => return no_family(),
        Ok(_) => format!(
            "{NO_FAMILY} and `modprobe ip_vs` failed: this kernel is built without IPVS \
             (CONFIG_IP_VS)"
        ),
        Err(e) => {
            format!("{NO_FAMILY} and `modprobe ip_vs` could not run ({e}); load the ip_vs module")
        }
    };
    Error::NotAvailable { reason }
}
