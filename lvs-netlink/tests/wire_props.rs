//! Property tests of the wire layer: `decode(encode(x)) == x` for services and real servers,
//! and decoding arbitrary bytes never panics.

use lvs_core::{
    Destination, Family, Forward, Netmask, Persistence, Protocol, Service, ServiceFlags,
    ServiceKey, Tunnel, TunnelChecksum, TunnelType,
};
use lvs_netlink::wire::attr::AttrWriter;
use lvs_netlink::wire::{daemon, dest, service, stats};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

fn ip(v6: bool) -> BoxedStrategy<IpAddr> {
    if v6 {
        any::<u128>()
            .prop_map(|v| IpAddr::V6(Ipv6Addr::from(v)))
            .boxed()
    } else {
        any::<u32>()
            .prop_map(|v| IpAddr::V4(Ipv4Addr::from(v)))
            .boxed()
    }
}

fn key() -> impl Strategy<Value = ServiceKey> {
    prop_oneof![
        (any::<bool>(), any::<u16>(), 0..3u8)
            .prop_flat_map(|(v6, port, p)| (ip(v6), Just(port), Just(p)))
            .prop_map(|(ip, port, p)| ServiceKey::Inet {
                protocol: [Protocol::Tcp, Protocol::Udp, Protocol::Sctp][usize::from(p)],
                addr: SocketAddr::new(ip, port),
            }),
        (any::<bool>(), 1..u32::MAX).prop_map(|(v6, mark)| ServiceKey::FwMark {
            family: if v6 { Family::Inet6 } else { Family::Inet },
            mark,
        }),
    ]
}

fn service() -> impl Strategy<Value = Service> {
    (
        key(),
        "[a-z]{1,15}",
        any::<u32>(),
        proptest::option::of((1..2_678_400u32, any::<u32>(), 1..=128u8)),
        proptest::option::of("[a-z]{1,16}"),
    )
        .prop_map(|(key, sched, flags, persistence, pe)| {
            let family = key.family();
            Service {
                key,
                scheduler: sched.into(),
                flags: ServiceFlags::from_bits_retain(flags & !3),
                persistence: persistence.map(|(timeout, v4, v6)| Persistence {
                    timeout,
                    netmask: match family {
                        Family::Inet => Netmask::V4(Ipv4Addr::from(v4)),
                        Family::Inet6 => Netmask::V6(v6),
                    },
                }),
                pe,
            }
        })
}

fn destination() -> impl Strategy<Value = Destination> {
    (
        any::<bool>(),
        any::<u16>(),
        0..5u32,
        any::<u8>(),
        any::<u16>(),
        any::<u16>(),
        any::<i32>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_flat_map(|(v6, port, f, tt, tp, tf, w, u, l)| {
            (ip(v6), Just((port, f, tt, tp, tf, w, u, l)))
        })
        .prop_map(|(ip, (port, f, tt, tp, tf, weight, u, l))| {
            let tunnel = Tunnel {
                kind: TunnelType::from_kernel(tt),
                port: tp,
                checksum: TunnelChecksum::from_kernel(tf),
            };
            Destination {
                addr: SocketAddr::new(ip, port),
                forward: Forward::from_kernel(f, tunnel),
                weight,
                upper_threshold: u,
                lower_threshold: l,
            }
        })
}

proptest! {
    #[test]
    fn services_round_trip(s in service()) {
        let mut w = AttrWriter::new();
        service::encode(&mut w, &s);
        w.nest(service::STATS64, |n| stats::encode64(n, &Default::default()));
        let r = service::decode(&w.finish()).expect("decodes");
        prop_assert_eq!(r.service, s);
    }

    #[test]
    fn destinations_round_trip(d in destination(), v6 in any::<bool>()) {
        let mut w = AttrWriter::new();
        dest::encode(&mut w, &d);
        let family = if v6 { Family::Inet6 } else { Family::Inet };
        let r = dest::decode(&w.finish(), family).expect("decodes");
        prop_assert_eq!(r.destination, d);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = service::decode(&bytes);
        let _ = dest::decode(&bytes, Family::Inet);
        let _ = daemon::decode(&bytes);
        let _ = stats::decode(&bytes);
    }
}
