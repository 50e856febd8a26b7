//! A Prometheus exporter for IPVS: every service's and real server's counters and rates, the
//! weights and connection counts, from one [`Snapshot`] per scrape (feature `exporter`).
//!
//! [`encode`] turns a snapshot into the Prometheus text exposition format (version 0.0.4,
//! written by the `prometheus-client` crate); [`Exporter`] serves it over HTTP (`tiny_http`) at
//! `/metrics`, reading the kernel once per scrape. `lvsadm exporter --listen ADDR` is the same
//! as a command.
//!
//! The metrics, with the kernel's 64-bit counters (`ip_vs_stats64`), not the 32-bit ones of
//! `/proc/net/ip_vs_stats`:
//!
//! | metric | type | what |
//! |---|---|---|
//! | `ipvs_service_connections_total` | counter | connections scheduled |
//! | `ipvs_service_{incoming,outgoing}_packets_total` | counter | packets client to server, server to client |
//! | `ipvs_service_{incoming,outgoing}_bytes_total` | counter | bytes, the same ways |
//! | `ipvs_service_connections_per_second` and `..._{packets,bytes}_per_second` | gauge | the kernel's rate estimates |
//! | `ipvs_backend_*` | | the same ten per real server, and: |
//! | `ipvs_backend_weight` | gauge | the real server's weight |
//! | `ipvs_backend_connections_{active,inactive,persistent}` | gauge | ActiveConn, InActConn, persistence templates |
//! | `ipvs_services`, `ipvs_backends` | gauge | how many the table holds |
//! | `ipvs_up` | gauge | 1 when the scrape read the table, 0 when it failed |
//! | `ipvs_scrape_duration_seconds` | gauge | time spent reading the table and writing the text |
//!
//! A service's labels are those of node_exporter's ipvs collector, so that dashboards carry over:
//! `proto` (`TCP`, `UDP`, `SCTP`, or `FWM` for a firewall-mark service), `local_address` and
//! `local_port` (empty and `0` for a firewall-mark service), `local_mark` (the mark in decimal,
//! empty for an address service); then `family` (`inet` or `inet6`: an IPv4 and an IPv6
//! service may share a mark); a real server's add `remote_address` and `remote_port`.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Serve http://127.0.0.1:9588/metrics until the process ends.
//! let exporter = lvs::exporter::Exporter::bind("127.0.0.1:9588".parse()?, lvs::Ipvs::new()?)?;
//! exporter.serve(|e| eprintln!("scrape failed: {e}"))?;
//! # Ok(())
//! # }
//! ```

use crate::netlink::{Error, Ipvs, Snapshot};
use lvs_core::{ServiceKey, Stats};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The `Content-Type` of what [`encode`] writes.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The Prometheus text exposition of `snapshot`: every metric of the module's table, with
/// `ipvs_up 1` and `ipvs_scrape_duration_seconds` the time since `started`.
///
/// ```
/// use lvs::netlink::fake::FakeKernel;
/// use lvs::Ruleset;
/// use std::time::Instant;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let kernel = FakeKernel::new();
/// let ipvs = kernel.ipvs()?;
/// let rules = "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 192.168.1.2:80 -m -w 1\n";
/// ipvs.apply(&Ruleset::from_rules(rules)?, &Default::default())?;
///
/// let text = lvs::exporter::encode(ipvs.snapshot()?, Instant::now())?;
/// assert!(text.contains(
///     "ipvs_backend_weight{proto=\"TCP\",local_address=\"10.0.0.1\",local_port=\"80\",\
///      local_mark=\"\",family=\"inet\",remote_address=\"192.168.1.2\",remote_port=\"80\"} 1\n"
/// ));
/// # Ok(())
/// # }
/// ```
pub fn encode(snapshot: Snapshot, started: Instant) -> Result<String, fmt::Error> {
    render(Scrape {
        snapshot: Some(snapshot),
        started,
    })
}

/// The exposition of a scrape that could not read the table: `ipvs_up 0` and the time spent.
pub fn encode_failed(started: Instant) -> Result<String, fmt::Error> {
    render(Scrape {
        snapshot: None,
        started,
    })
}

fn render(scrape: Scrape) -> Result<String, fmt::Error> {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(scrape));
    let mut text = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)?;
    Ok(text)
}

/// An HTTP server answering `GET /metrics` with [`encode`] of a fresh snapshot.
///
/// One thread reads the kernel, one scrape at a time; each answer is written by a thread of its
/// own, so a client that does not read cannot hold the next scrape up. Every read of the kernel
/// has the client's deadline (see [`Ipvs::set_reply_timeout`]).
pub struct Exporter {
    server: tiny_http::Server,
    ipvs: Ipvs,
}

impl fmt::Debug for Exporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exporter")
            .field("listen", &self.local_addr())
            .finish_non_exhaustive()
    }
}

impl Exporter {
    /// Listens on `listen` (port 0 picks a free one: see [`Exporter::local_addr`]) and scrapes
    /// through `ipvs`.
    pub fn bind(listen: SocketAddr, ipvs: Ipvs) -> io::Result<Exporter> {
        let server = tiny_http::Server::http(listen).map_err(io::Error::other)?;
        Ok(Exporter { server, ipvs })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.server.server_addr().to_ip()
    }

    /// Answers requests until the listening socket fails; `on_error` hears of every scrape that
    /// could not read the table (the scrape itself answers `ipvs_up 0`).
    pub fn serve(&self, mut on_error: impl FnMut(&Error)) -> io::Result<()> {
        loop {
            let request = self.server.recv()?;
            self.answer(request, &mut on_error);
        }
    }

    /// Answers at most one request, waiting up to `timeout` for it; whether one came.
    pub fn serve_one(
        &self,
        timeout: Duration,
        mut on_error: impl FnMut(&Error),
    ) -> io::Result<bool> {
        match self.server.recv_timeout(timeout)? {
            Some(request) => {
                self.answer(request, &mut on_error);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn answer(&self, request: tiny_http::Request, on_error: &mut impl FnMut(&Error)) {
        let path = request.url().split('?').next().unwrap_or_default();
        let get = matches!(
            request.method(),
            tiny_http::Method::Get | tiny_http::Method::Head
        );
        let (status, content_type, body) = match (get, path) {
            (true, "/metrics") => match self.scrape(on_error) {
                Ok(text) => (200, CONTENT_TYPE, text),
                Err(e) => (500, "text/plain; charset=utf-8", format!("{e}\n")),
            },
            (true, "/") => (
                200,
                "text/html; charset=utf-8",
                "<html><head><title>IPVS exporter</title></head><body><h1>IPVS exporter \
                 (lvs)</h1><p><a href=\"/metrics\">Metrics</a></p></body></html>\n"
                    .to_owned(),
            ),
            (true, _) => (404, "text/plain; charset=utf-8", "not found\n".to_owned()),
            (false, _) => (405, "text/plain; charset=utf-8", "only GET\n".to_owned()),
        };
        let mut response = tiny_http::Response::from_string(body).with_status_code(status);
        if let Ok(header) = tiny_http::Header::from_bytes("Content-Type", content_type) {
            response.add_header(header);
        }
        // A client that stops reading holds only its own thread.
        std::thread::spawn(move || {
            let _ = request.respond(response);
        });
    }

    fn scrape(&self, on_error: &mut impl FnMut(&Error)) -> Result<String, fmt::Error> {
        let started = Instant::now();
        match self.ipvs.snapshot() {
            Ok(snapshot) => encode(snapshot, started),
            Err(e) => {
                on_error(&e);
                encode_failed(started)
            }
        }
    }
}

/// One scrape's data, handed to prometheus-client as a collector.
#[derive(Debug)]
struct Scrape {
    snapshot: Option<Snapshot>,
    started: Instant,
}

/// Which kind of object a family of metrics describes.
#[derive(Clone, Copy, PartialEq)]
enum Level {
    Service,
    Backend,
}

/// One of the ten counters of [`Stats`]: name (after `ipvs_service_`/`ipvs_backend_`), help,
/// type, value.
type StatsMetric = (&'static str, &'static str, MetricType, fn(&Stats) -> u64);
const STATS: [StatsMetric; 10] = [
    (
        "connections",
        "Connections scheduled",
        MetricType::Counter,
        |s| s.conns,
    ),
    (
        "incoming_packets",
        "Packets in (client to server)",
        MetricType::Counter,
        |s| s.inpkts,
    ),
    (
        "outgoing_packets",
        "Packets out (server to client)",
        MetricType::Counter,
        |s| s.outpkts,
    ),
    (
        "incoming_bytes",
        "Bytes in (client to server)",
        MetricType::Counter,
        |s| s.inbytes,
    ),
    (
        "outgoing_bytes",
        "Bytes out (server to client)",
        MetricType::Counter,
        |s| s.outbytes,
    ),
    (
        "connections_per_second",
        "Connections per second (the kernel's estimate)",
        MetricType::Gauge,
        |s| s.cps,
    ),
    (
        "incoming_packets_per_second",
        "Packets in per second (the kernel's estimate)",
        MetricType::Gauge,
        |s| s.inpps,
    ),
    (
        "outgoing_packets_per_second",
        "Packets out per second (the kernel's estimate)",
        MetricType::Gauge,
        |s| s.outpps,
    ),
    (
        "incoming_bytes_per_second",
        "Bytes in per second (the kernel's estimate)",
        MetricType::Gauge,
        |s| s.inbps,
    ),
    (
        "outgoing_bytes_per_second",
        "Bytes out per second (the kernel's estimate)",
        MetricType::Gauge,
        |s| s.outbps,
    ),
];

/// A real server's own gauges: name (after `ipvs_backend_`), help, value.
type BackendGauge = fn(&lvs_core::Destination, &lvs_core::DestinationState) -> i64;
const BACKEND: [(&str, &str, BackendGauge); 4] = [
    ("weight", "The real server's weight", |d, _| {
        i64::from(d.weight)
    }),
    (
        "connections_active",
        "Established connections (ActiveConn)",
        |_, s| i64::from(s.active_conns),
    ),
    (
        "connections_inactive",
        "Other connections (InActConn)",
        |_, s| i64::from(s.inactive_conns),
    ),
    (
        "connections_persistent",
        "Persistence templates pointing at the real server",
        |_, s| i64::from(s.persistent_conns),
    ),
];

impl Collector for Scrape {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        if let Some(snapshot) = &self.snapshot {
            let services = rows(snapshot);
            for (name, help, kind, value) in STATS {
                for level in [Level::Service, Level::Backend] {
                    let family = format!("{}_{name}", level.prefix());
                    let help = format!("{help}, per {}", level.noun());
                    let mut metric = encoder.encode_descriptor(&family, &help, None, kind)?;
                    for service in &services {
                        if level == Level::Service {
                            write_value(&mut metric, &service.labels, kind, value(&service.stats))?;
                            continue;
                        }
                        for backend in &service.backends {
                            let stats = &backend.state.stats;
                            write_value(&mut metric, &backend.labels, kind, value(stats))?;
                        }
                    }
                }
            }
            for (name, help, value) in BACKEND {
                let family = format!("ipvs_backend_{name}");
                let mut metric =
                    encoder.encode_descriptor(&family, help, None, MetricType::Gauge)?;
                for backend in services.iter().flat_map(|s| &s.backends) {
                    let v = value(backend.real, backend.state);
                    metric.encode_family(&backend.labels)?.encode_gauge(&v)?;
                }
            }
            let backends: usize = services.iter().map(|s| s.backends.len()).sum();
            let help = "Virtual services in the table";
            gauge(&mut encoder, "ipvs_services", help, services.len() as i64)?;
            let help = "Real servers in the table";
            gauge(&mut encoder, "ipvs_backends", help, backends as i64)?;
        }
        let up = i64::from(self.snapshot.is_some());
        gauge(
            &mut encoder,
            "ipvs_up",
            "Whether the scrape read the IPVS table",
            up,
        )?;
        let spent = self.started.elapsed().as_secs_f64();
        let help = "Time spent reading the IPVS table and writing these metrics";
        encoder
            .encode_descriptor(
                "ipvs_scrape_duration_seconds",
                help,
                None,
                MetricType::Gauge,
            )?
            .encode_gauge(&spent)
    }
}

impl Level {
    fn prefix(self) -> &'static str {
        match self {
            Level::Service => "ipvs_service",
            Level::Backend => "ipvs_backend",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Level::Service => "virtual service",
            Level::Backend => "real server",
        }
    }
}

type Labels = Vec<(&'static str, String)>;

/// A service's labels and counters, with its real servers'.
struct ServiceRow<'a> {
    labels: Labels,
    stats: Stats,
    backends: Vec<BackendRow<'a>>,
}

/// A real server's labels (its service's, then its own), configuration and counters.
struct BackendRow<'a> {
    labels: Labels,
    real: &'a lvs_core::Destination,
    state: &'a lvs_core::DestinationState,
}

/// The rows of the snapshot's services, in its order. A service or real server the kernel
/// reported no state for counts zero.
fn rows(snapshot: &Snapshot) -> Vec<ServiceRow<'_>> {
    static NO_STATE: lvs_core::DestinationState = lvs_core::DestinationState {
        active_conns: 0,
        inactive_conns: 0,
        persistent_conns: 0,
        stats: Stats {
            conns: 0,
            inpkts: 0,
            outpkts: 0,
            inbytes: 0,
            outbytes: 0,
            cps: 0,
            inpps: 0,
            outpps: 0,
            inbps: 0,
            outbps: 0,
        },
    };
    let rows = snapshot.ruleset.services.iter().map(|vs| {
        let key = vs.service.key;
        let labels = service_labels(key);
        let backends = vs.destinations.iter().map(|real| {
            let mut backend = labels.clone();
            backend.push(("remote_address", real.addr.ip().to_string()));
            backend.push(("remote_port", real.addr.port().to_string()));
            let state = snapshot.destination_state.get(&(key, real.addr));
            BackendRow {
                labels: backend,
                real,
                state: state.unwrap_or(&NO_STATE),
            }
        });
        let state = snapshot.service_state.get(&key);
        ServiceRow {
            backends: backends.collect(),
            labels,
            stats: state.map(|s| s.stats).unwrap_or_default(),
        }
    });
    rows.collect()
}

/// node_exporter's labels for a service.
fn service_labels(key: ServiceKey) -> Labels {
    match key {
        ServiceKey::Inet { protocol, addr } => vec![
            ("proto", protocol.to_string().to_uppercase()),
            ("local_address", addr.ip().to_string()),
            ("local_port", addr.port().to_string()),
            ("local_mark", String::new()),
            ("family", key.family().to_string()),
        ],
        ServiceKey::FwMark { mark, family } => vec![
            ("proto", "FWM".to_owned()),
            ("local_address", String::new()),
            ("local_port", "0".to_owned()),
            ("local_mark", mark.to_string()),
            ("family", family.to_string()),
        ],
    }
}

fn write_value(
    metric: &mut prometheus_client::encoding::MetricEncoder<'_>,
    labels: &Labels,
    kind: MetricType,
    value: u64,
) -> Result<(), fmt::Error> {
    let mut family = metric.encode_family(labels)?;
    match kind {
        MetricType::Counter => family.encode_counter::<NoLabelSet, _, u64>(&value, None),
        _ => family.encode_gauge(&value),
    }
}

fn gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: i64,
) -> Result<(), fmt::Error> {
    encoder
        .encode_descriptor(name, help, None, MetricType::Gauge)?
        .encode_gauge(&value)
}
