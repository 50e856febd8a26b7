//! The C types and constants of ipvsadm 1.31's `libipvs.h` and `ip_vs.h`, field for field.
//!
//! These are libipvs's own extended structs (with `af`, the `nf_inet_addr` union, `pe_name`,
//! the 64-bit counters and the tunnel fields), not the kernel UAPI structs of the same names.
//! Every layout is pinned below with compile-time size and offset assertions (the numbers come
//! from gcc on x86_64 with ipvsadm's own header); `tests/c/layout.c` asserts the same numbers
//! with `_Static_assert` against the generated `libipvs.h`.
//!
//! The kernel's fixed-width typedefs (`__u32`, `__be16`, `u_int16_t`, ...) are aliases here and
//! are not emitted into the header: it includes `<linux/types.h>` and `<sys/types.h>`, as
//! libipvs's does, so the fields keep libipvs's exact C types.

#![allow(non_camel_case_types, non_snake_case)]

use libc::{c_char, c_int, c_uint};

/// `__u16` of `<linux/types.h>`.
pub type __u16 = u16;
/// `__u32` of `<linux/types.h>`.
pub type __u32 = u32;
/// `__u64` of `<linux/types.h>`.
pub type __u64 = u64;
/// `__be16` of `<linux/types.h>`: network byte order.
pub type __be16 = u16;
/// `__be32` of `<linux/types.h>`: network byte order.
pub type __be32 = u32;
/// `u_int16_t` of `<sys/types.h>`.
pub type u_int16_t = u16;
/// `u_int32_t` of `<sys/types.h>`.
pub type u_int32_t = u32;

/// `ip_vs.h`'s `IP_VS_VERSION_CODE`: the IPVS version this header describes (1.2.1).
pub const IP_VS_VERSION_CODE: c_uint = 0x010201;

/// Lowest IPVS version libipvs works with: major.
pub const MINIMUM_IPVS_VERSION_MAJOR: c_int = 1;
/// Lowest IPVS version libipvs works with: minor.
pub const MINIMUM_IPVS_VERSION_MINOR: c_int = 1;
/// Lowest IPVS version libipvs works with: patch.
pub const MINIMUM_IPVS_VERSION_PATCH: c_int = 4;

/// The persistence timeout `ipvsadm -p` means without a value, in seconds (6 minutes).
pub const IPVS_SVC_PERSISTENT_TIMEOUT: c_int = 6 * 60;

/// Service flag: persistent port.
pub const IP_VS_SVC_F_PERSISTENT: c_uint = 0x0001;
/// Service flag: hashed entry (set by the kernel).
pub const IP_VS_SVC_F_HASHED: c_uint = 0x0002;
/// Service flag: one-packet scheduling.
pub const IP_VS_SVC_F_ONEPACKET: c_uint = 0x0004;
/// Service flag: scheduler flag 1.
pub const IP_VS_SVC_F_SCHED1: c_uint = 0x0008;
/// Service flag: scheduler flag 2.
pub const IP_VS_SVC_F_SCHED2: c_uint = 0x0010;
/// Service flag: scheduler flag 3.
pub const IP_VS_SVC_F_SCHED3: c_uint = 0x0020;
/// sh scheduler: fall back to another server when the chosen one is unavailable.
pub const IP_VS_SVC_F_SCHED_SH_FALLBACK: c_uint = IP_VS_SVC_F_SCHED1;
/// sh scheduler: hash the source port too.
pub const IP_VS_SVC_F_SCHED_SH_PORT: c_uint = IP_VS_SVC_F_SCHED2;
/// mh scheduler: fall back to another server when the chosen one is unavailable.
pub const IP_VS_SVC_F_SCHED_MH_FALLBACK: c_uint = IP_VS_SVC_F_SCHED1;
/// mh scheduler: hash the source port too.
pub const IP_VS_SVC_F_SCHED_MH_PORT: c_uint = IP_VS_SVC_F_SCHED2;

/// Sync daemon state: stopped.
pub const IP_VS_STATE_NONE: c_int = 0x0000;
/// Sync daemon state: master.
pub const IP_VS_STATE_MASTER: c_int = 0x0001;
/// Sync daemon state: backup.
pub const IP_VS_STATE_BACKUP: c_int = 0x0002;

/// Connection flags: mask of the forwarding method.
pub const IP_VS_CONN_F_FWD_MASK: c_uint = 0x0007;
/// Forwarding: masquerading (NAT).
pub const IP_VS_CONN_F_MASQ: c_uint = 0x0000;
/// Forwarding: local node.
pub const IP_VS_CONN_F_LOCALNODE: c_uint = 0x0001;
/// Forwarding: tunnelling.
pub const IP_VS_CONN_F_TUNNEL: c_uint = 0x0002;
/// Forwarding: direct routing.
pub const IP_VS_CONN_F_DROUTE: c_uint = 0x0003;
/// Forwarding: cache bypass.
pub const IP_VS_CONN_F_BYPASS: c_uint = 0x0004;
/// Connection created by the sync daemon.
pub const IP_VS_CONN_F_SYNC: c_uint = 0x0020;
/// Hashed connection.
pub const IP_VS_CONN_F_HASHED: c_uint = 0x0040;
/// No output packets.
pub const IP_VS_CONN_F_NOOUTPUT: c_uint = 0x0080;
/// Not established.
pub const IP_VS_CONN_F_INACTIVE: c_uint = 0x0100;
/// Output sequence adjustment needed.
pub const IP_VS_CONN_F_OUT_SEQ: c_uint = 0x0200;
/// Input sequence adjustment needed.
pub const IP_VS_CONN_F_IN_SEQ: c_uint = 0x0400;
/// In/out sequence mask.
pub const IP_VS_CONN_F_SEQ_MASK: c_uint = 0x0600;
/// No client port set yet.
pub const IP_VS_CONN_F_NO_CPORT: c_uint = 0x0800;
/// Template, not a connection.
pub const IP_VS_CONN_F_TEMPLATE: c_uint = 0x1000;
/// Forward only one packet.
pub const IP_VS_CONN_F_ONE_PACKET: c_uint = 0x2000;

/// Longest scheduler name, with its NUL.
pub const IP_VS_SCHEDNAME_MAXLEN: usize = 16;
/// Longest persistence-engine name, without its NUL.
pub const IP_VS_PENAME_MAXLEN: usize = 16;
/// Longest interface name, with its NUL.
pub const IP_VS_IFNAME_MAXLEN: usize = 16;
/// Longest persistence-engine data.
pub const IP_VS_PEDATA_MAXLEN: usize = 255;

/// Tunnel type: IP in IP.
pub const IP_VS_CONN_F_TUNNEL_TYPE_IPIP: c_int = 0;
/// Tunnel type: Generic UDP Encapsulation.
pub const IP_VS_CONN_F_TUNNEL_TYPE_GUE: c_int = 1;
/// Tunnel type: GRE.
pub const IP_VS_CONN_F_TUNNEL_TYPE_GRE: c_int = 2;
/// One past the last tunnel type.
pub const IP_VS_CONN_F_TUNNEL_TYPE_MAX: c_int = 3;

/// Tunnel encapsulation: no checksum.
pub const IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM: c_int = 0;
/// Tunnel encapsulation: outer checksum.
pub const IP_VS_TUNNEL_ENCAP_FLAG_CSUM: c_int = 1 << 0;
/// Tunnel encapsulation: remote checksum offload.
pub const IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM: c_int = 1 << 1;

/// An IPv4 or IPv6 address, IPv4 in the first four bytes. Network byte order.
/// cbindgen:field-names=[all, ip, ip6, in, in6]
#[repr(C)]
#[derive(Clone, Copy)]
pub union nf_inet_addr {
    /// The four 32-bit words.
    pub all: [__u32; 4],
    /// The IPv4 address.
    pub ip: __be32,
    /// The IPv6 address as words.
    pub ip6: [__be32; 4],
    /// The IPv4 address as `struct in_addr`.
    pub in_: libc::in_addr,
    /// The IPv6 address as `struct in6_addr`.
    pub in6: libc::in6_addr,
}

/// A virtual service to add, edit, delete or zero (`ipvs_service_t`). `port` is in network
/// byte order; a non-zero `fwmark` makes it a firewall-mark service (then `protocol`, `addr`
/// and `port` are ignored).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ip_vs_service_user {
    /// IP protocol number (`IPPROTO_TCP`, `IPPROTO_UDP`, `IPPROTO_SCTP`).
    pub protocol: u_int16_t,
    /// libipvs-internal (the old IPv4-only interface); unused.
    pub __addr_v4: __be32,
    /// Virtual port, network byte order.
    pub port: __be16,
    /// Firewall mark, or 0.
    pub fwmark: u_int32_t,
    /// Scheduler name, NUL-terminated.
    pub sched_name: [c_char; IP_VS_SCHEDNAME_MAXLEN],
    /// `IP_VS_SVC_F_*`.
    pub flags: c_uint,
    /// Persistence timeout in seconds (with `IP_VS_SVC_F_PERSISTENT`).
    pub timeout: c_uint,
    /// Persistence netmask: mask bytes in network order for IPv4, prefix length for IPv6.
    pub netmask: __be32,
    /// `AF_INET` or `AF_INET6`.
    pub af: u_int16_t,
    /// Virtual address.
    pub addr: nf_inet_addr,
    /// Persistence engine name, NUL-terminated, or empty.
    pub pe_name: [c_char; 17],
}

/// A real server to add, edit or delete (`ipvs_dest_t`). `port` and `tun_port` are in network
/// byte order.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ip_vs_dest_user {
    /// libipvs-internal; unused.
    pub __addr_v4: __be32,
    /// Real port, network byte order.
    pub port: __be16,
    /// Forwarding method in the low bits (`IP_VS_CONN_F_MASQ`, ...).
    pub conn_flags: c_uint,
    /// Weight, 0 or more.
    pub weight: c_int,
    /// Upper connection threshold, 0 for none.
    pub u_threshold: u_int32_t,
    /// Lower connection threshold.
    pub l_threshold: u_int32_t,
    /// `AF_INET` or `AF_INET6` (0: the service's family, as the kernel takes it).
    pub af: u_int16_t,
    /// Real address.
    pub addr: nf_inet_addr,
    /// `IP_VS_CONN_F_TUNNEL_TYPE_*`.
    pub tun_type: u_int16_t,
    /// Tunnel port (gue), network byte order.
    pub tun_port: __be16,
    /// `IP_VS_TUNNEL_ENCAP_FLAG_*`.
    pub tun_flags: u_int16_t,
}

/// Counters, 32-bit rates.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct ip_vs_stats_user {
    /// Connections scheduled.
    pub conns: __u32,
    /// Incoming packets.
    pub inpkts: __u32,
    /// Outgoing packets.
    pub outpkts: __u32,
    /// Incoming bytes.
    pub inbytes: __u64,
    /// Outgoing bytes.
    pub outbytes: __u64,
    /// Connection rate.
    pub cps: __u32,
    /// Incoming packet rate.
    pub inpps: __u32,
    /// Outgoing packet rate.
    pub outpps: __u32,
    /// Incoming byte rate.
    pub inbps: __u32,
    /// Outgoing byte rate.
    pub outbps: __u32,
}

/// Counters, all 64-bit.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct ip_vs_stats64 {
    /// Connections scheduled.
    pub conns: __u64,
    /// Incoming packets.
    pub inpkts: __u64,
    /// Outgoing packets.
    pub outpkts: __u64,
    /// Incoming bytes.
    pub inbytes: __u64,
    /// Outgoing bytes.
    pub outbytes: __u64,
    /// Connection rate.
    pub cps: __u64,
    /// Incoming packet rate.
    pub inpps: __u64,
    /// Outgoing packet rate.
    pub outpps: __u64,
    /// Incoming byte rate.
    pub inbps: __u64,
    /// Outgoing byte rate.
    pub outbps: __u64,
}

/// What `ipvs_init` and `ipvs_getinfo` fill in `ipvs_info`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ip_vs_getinfo {
    /// IPVS version, `(major << 16) + (minor << 8) + patch`.
    pub version: c_uint,
    /// Size of the connection hash table.
    pub size: c_uint,
    /// Not filled over netlink (as with libipvs): always 0.
    pub num_services: c_uint,
}

/// A virtual service as the kernel reports it (`ipvs_service_entry_t`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ip_vs_service_entry {
    /// IP protocol number (0 for firewall-mark services).
    pub protocol: u_int16_t,
    /// libipvs-internal; 0.
    pub __addr_v4: __be32,
    /// Virtual port, network byte order.
    pub port: __be16,
    /// Firewall mark, or 0.
    pub fwmark: u_int32_t,
    /// Scheduler name.
    pub sched_name: [c_char; IP_VS_SCHEDNAME_MAXLEN],
    /// `IP_VS_SVC_F_*`, `HASHED` included.
    pub flags: c_uint,
    /// Persistence timeout in seconds.
    pub timeout: c_uint,
    /// Persistence netmask (see [`ip_vs_service_user::netmask`]).
    pub netmask: __be32,
    /// Number of real servers: 0 over netlink, as with libipvs (the kernel does not say).
    pub num_dests: c_uint,
    /// Counters.
    pub stats: ip_vs_stats_user,
    /// `AF_INET` or `AF_INET6`.
    pub af: u_int16_t,
    /// Virtual address.
    pub addr: nf_inet_addr,
    /// Persistence engine name, or empty.
    pub pe_name: [c_char; 17],
    /// Counters, 64-bit.
    pub stats64: ip_vs_stats64,
}

/// A real server as the kernel reports it (`ipvs_dest_entry_t`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ip_vs_dest_entry {
    /// libipvs-internal; 0.
    pub __addr_v4: __be32,
    /// Real port, network byte order.
    pub port: __be16,
    /// Forwarding method (`IP_VS_CONN_F_MASQ`, ...).
    pub conn_flags: c_uint,
    /// Weight.
    pub weight: c_int,
    /// Upper connection threshold.
    pub u_threshold: u_int32_t,
    /// Lower connection threshold.
    pub l_threshold: u_int32_t,
    /// Active connections.
    pub activeconns: u_int32_t,
    /// Inactive connections.
    pub inactconns: u_int32_t,
    /// Persistence templates.
    pub persistconns: u_int32_t,
    /// Counters.
    pub stats: ip_vs_stats_user,
    /// `AF_INET` or `AF_INET6`.
    pub af: u_int16_t,
    /// Real address.
    pub addr: nf_inet_addr,
    /// Counters, 64-bit.
    pub stats64: ip_vs_stats64,
    /// `IP_VS_CONN_F_TUNNEL_TYPE_*`.
    pub tun_type: u_int16_t,
    /// Tunnel port, network byte order.
    pub tun_port: __be16,
    /// `IP_VS_TUNNEL_ENCAP_FLAG_*`.
    pub tun_flags: u_int16_t,
}

/// The real servers of one service (`ipvs_get_dests`), followed by `num_dests` entries.
#[repr(C)]
pub struct ip_vs_get_dests {
    /// The service's protocol.
    pub protocol: u_int16_t,
    /// libipvs-internal; 0.
    pub __addr_v4: __be32,
    /// The service's port, network byte order.
    pub port: __be16,
    /// The service's firewall mark.
    pub fwmark: u_int32_t,
    /// Number of entries in `entrytable`.
    pub num_dests: c_uint,
    /// The service's family.
    pub af: u_int16_t,
    /// The service's address.
    pub addr: nf_inet_addr,
    /// The real servers.
    pub entrytable: [ip_vs_dest_entry; 0],
}

/// Every virtual service (`ipvs_get_services`), followed by `num_services` entries.
#[repr(C)]
pub struct ip_vs_get_services {
    /// Number of entries in `entrytable`.
    pub num_services: c_uint,
    /// The services.
    pub entrytable: [ip_vs_service_entry; 0],
}

/// Connection timeouts in seconds (`ipvs_timeout_t`); 0 in `ipvs_set_timeout` keeps a value.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ip_vs_timeout_user {
    /// Established TCP.
    pub tcp_timeout: c_int,
    /// TCP after FIN.
    pub tcp_fin_timeout: c_int,
    /// UDP.
    pub udp_timeout: c_int,
}

/// A connection-synchronisation daemon (`ipvs_daemon_t`). `mcast_port` is in host order.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ip_vs_daemon_user {
    /// `IP_VS_STATE_MASTER` or `IP_VS_STATE_BACKUP` (`IP_VS_STATE_NONE` for an empty slot).
    pub state: c_int,
    /// Multicast interface, NUL-terminated.
    pub mcast_ifn: [c_char; IP_VS_IFNAME_MAXLEN],
    /// Sync id, 0 to 255.
    pub syncid: c_int,
    /// Largest sync message payload (0: the kernel's default).
    pub sync_maxlen: c_int,
    /// Multicast port (0: the kernel's default).
    pub mcast_port: u_int16_t,
    /// Multicast TTL (0: the kernel's default).
    pub mcast_ttl: u_int16_t,
    /// Family of `mcast_group` (0: the kernel's default group).
    pub mcast_af: u_int16_t,
    /// Multicast group.
    pub mcast_group: nf_inet_addr,
}

/// `ipvs_service_t`.
pub type ipvs_service_t = ip_vs_service_user;
/// `ipvs_dest_t`.
pub type ipvs_dest_t = ip_vs_dest_user;
/// `ipvs_timeout_t`.
pub type ipvs_timeout_t = ip_vs_timeout_user;
/// `ipvs_daemon_t`.
pub type ipvs_daemon_t = ip_vs_daemon_user;
/// `ipvs_service_entry_t`.
pub type ipvs_service_entry_t = ip_vs_service_entry;
/// `ipvs_dest_entry_t`.
pub type ipvs_dest_entry_t = ip_vs_dest_entry;

/// A service comparator for `ipvs_sort_services` (`qsort` semantics).
pub type ipvs_service_cmp_t =
    Option<unsafe extern "C" fn(*mut ipvs_service_entry_t, *mut ipvs_service_entry_t) -> c_int>;
/// A real-server comparator for `ipvs_sort_dests` (`qsort` semantics).
pub type ipvs_dest_cmp_t =
    Option<unsafe extern "C" fn(*mut ipvs_dest_entry_t, *mut ipvs_dest_entry_t) -> c_int>;

/// `lvs_apply_text`/`lvs_plan_text` flag: leave services the rules do not name alone (by
/// default they are deleted, so that the kernel ends up exactly equal to the rules).
pub const LVS_APPLY_KEEP_UNLISTED: c_int = 1;
/// `lvs_apply_text`/`lvs_plan_text` flag: drain real servers that go (weight 0) instead of
/// deleting them; a later apply deletes them once they have no connections.
pub const LVS_APPLY_DRAIN: c_int = 2;
/// `lvs_apply_text`/`lvs_plan_text` flag: the text is a JSON ruleset document (lvs-core's
/// `Ruleset::from_json`: unknown keys, duplicates and values a rule cannot carry are refused
/// with EINVAL and the path in `lvs_last_error`), not ipvsadm rules.
pub const LVS_APPLY_JSON: c_int = 4;
/// `lvs_apply_text`/`lvs_plan_text` flag: the text is a TOML ruleset document.
pub const LVS_APPLY_TOML: c_int = 8;

/// Longest protocol state name in `struct lvs_connection`, with its NUL.
pub const LVS_CONN_STATE_MAXLEN: usize = 16;

/// One entry of the connection table (an lvs extension; `/proc/net/ip_vs_conn`). Ports are in
/// network byte order, as everywhere in libipvs.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct lvs_connection {
    /// IP protocol number.
    pub protocol: u_int16_t,
    /// Family of `client_addr`.
    pub client_af: u_int16_t,
    /// The client's address.
    pub client_addr: nf_inet_addr,
    /// The client's port, network byte order.
    pub client_port: __be16,
    /// Family of `virtual_addr`.
    pub virtual_af: u_int16_t,
    /// The virtual address the client used.
    pub virtual_addr: nf_inet_addr,
    /// The virtual port, network byte order.
    pub virtual_port: __be16,
    /// Family of `dest_addr` (may differ from the others for tunnels).
    pub dest_af: u_int16_t,
    /// The real server's address.
    pub dest_addr: nf_inet_addr,
    /// The real server's port, network byte order.
    pub dest_port: __be16,
    /// Protocol state (`ESTABLISHED`, `SYN_RECV`, `NONE` for templates, ...), NUL-terminated.
    pub state: [c_char; LVS_CONN_STATE_MAXLEN],
    /// Seconds until the entry expires.
    pub expires: __u64,
    /// Persistence engine name, or empty.
    pub pe_name: [c_char; 17],
    /// Persistence engine data (a SIP Call-ID), or empty.
    pub pe_data: [c_char; 256],
}

/// The connection table (`lvs_get_connections`), followed by `num_conns` entries.
#[repr(C)]
pub struct lvs_connections {
    /// Number of entries in `entrytable`.
    pub num_conns: c_uint,
    /// The connections.
    pub entrytable: [lvs_connection; 0],
}

/// Compile-time checks that the layouts are libipvs's (x86_64 and every LP64/ILP32 Linux ABI
/// where `__u64` is 8-aligned; the numbers come from gcc with ipvsadm 1.31's `ip_vs.h`).
mod layout {
    use super::*;
    use std::mem::{align_of, offset_of, size_of};

    const _: () = assert!(size_of::<nf_inet_addr>() == 16 && align_of::<nf_inet_addr>() == 4);

    // cbindgen cannot write `[IP_VS_PENAME_MAXLEN + 1]`, so the arrays say 17 and 256.
    const _: () = assert!(IP_VS_PENAME_MAXLEN + 1 == 17 && IP_VS_PEDATA_MAXLEN + 1 == 256);

    const _: () = {
        type S = ip_vs_service_user;
        assert!(size_of::<S>() == 84);
        assert!(offset_of!(S, protocol) == 0);
        assert!(offset_of!(S, __addr_v4) == 4);
        assert!(offset_of!(S, port) == 8);
        assert!(offset_of!(S, fwmark) == 12);
        assert!(offset_of!(S, sched_name) == 16);
        assert!(offset_of!(S, flags) == 32);
        assert!(offset_of!(S, timeout) == 36);
        assert!(offset_of!(S, netmask) == 40);
        assert!(offset_of!(S, af) == 44);
        assert!(offset_of!(S, addr) == 48);
        assert!(offset_of!(S, pe_name) == 64);
    };

    const _: () = {
        type D = ip_vs_dest_user;
        assert!(size_of::<D>() == 52);
        assert!(offset_of!(D, __addr_v4) == 0);
        assert!(offset_of!(D, port) == 4);
        assert!(offset_of!(D, conn_flags) == 8);
        assert!(offset_of!(D, weight) == 12);
        assert!(offset_of!(D, u_threshold) == 16);
        assert!(offset_of!(D, l_threshold) == 20);
        assert!(offset_of!(D, af) == 24);
        assert!(offset_of!(D, addr) == 28);
        assert!(offset_of!(D, tun_type) == 44);
        assert!(offset_of!(D, tun_port) == 46);
        assert!(offset_of!(D, tun_flags) == 48);
    };

    const _: () = {
        assert!(size_of::<ip_vs_stats_user>() == 56);
        assert!(offset_of!(ip_vs_stats_user, inbytes) == 16);
        assert!(offset_of!(ip_vs_stats_user, cps) == 32);
        assert!(offset_of!(ip_vs_stats_user, outbps) == 48);
        assert!(size_of::<ip_vs_stats64>() == 80);
        assert!(size_of::<ip_vs_getinfo>() == 12);
        assert!(size_of::<ip_vs_timeout_user>() == 12);
    };

    const _: () = {
        type E = ip_vs_service_entry;
        assert!(size_of::<E>() == 224);
        assert!(offset_of!(E, flags) == 32);
        assert!(offset_of!(E, netmask) == 40);
        assert!(offset_of!(E, num_dests) == 44);
        assert!(offset_of!(E, stats) == 48);
        assert!(offset_of!(E, af) == 104);
        assert!(offset_of!(E, addr) == 108);
        assert!(offset_of!(E, pe_name) == 124);
        assert!(offset_of!(E, stats64) == 144);
    };

    const _: () = {
        type E = ip_vs_dest_entry;
        assert!(size_of::<E>() == 208);
        assert!(offset_of!(E, activeconns) == 24);
        assert!(offset_of!(E, inactconns) == 28);
        assert!(offset_of!(E, persistconns) == 32);
        assert!(offset_of!(E, stats) == 40);
        assert!(offset_of!(E, af) == 96);
        assert!(offset_of!(E, addr) == 100);
        assert!(offset_of!(E, stats64) == 120);
        assert!(offset_of!(E, tun_type) == 200);
        assert!(offset_of!(E, tun_port) == 202);
        assert!(offset_of!(E, tun_flags) == 204);
    };

    const _: () = {
        type G = ip_vs_get_dests;
        assert!(size_of::<G>() == 40);
        assert!(offset_of!(G, fwmark) == 12);
        assert!(offset_of!(G, num_dests) == 16);
        assert!(offset_of!(G, af) == 20);
        assert!(offset_of!(G, addr) == 24);
        assert!(offset_of!(G, entrytable) == 40);
        assert!(size_of::<ip_vs_get_services>() == 8);
        assert!(offset_of!(ip_vs_get_services, entrytable) == 8);
    };

    const _: () = {
        type M = ip_vs_daemon_user;
        assert!(size_of::<M>() == 52);
        assert!(offset_of!(M, mcast_ifn) == 4);
        assert!(offset_of!(M, syncid) == 20);
        assert!(offset_of!(M, sync_maxlen) == 24);
        assert!(offset_of!(M, mcast_port) == 28);
        assert!(offset_of!(M, mcast_ttl) == 30);
        assert!(offset_of!(M, mcast_af) == 32);
        assert!(offset_of!(M, mcast_group) == 36);
    };
}
