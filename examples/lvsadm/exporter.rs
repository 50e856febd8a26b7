//! `lvsadm exporter --listen ADDR [--netns NAME]`: the lvs crate's Prometheus exporter as a
//! command.

use std::net::SocketAddr;
use std::process::ExitCode;

/// Serves the table's metrics on `listen` until killed; status 1 when the table cannot be read
/// at the start (no IPVS, no CAP_NET_ADMIN) or the address cannot be bound.
pub fn run(listen: SocketAddr, netns: Option<&str>) -> ExitCode {
    let fail = |msg: String| {
        eprintln!("lvsadm exporter: {msg}");
        ExitCode::from(1)
    };
    let ipvs = match crate::apply::open(netns) {
        Ok(ipvs) => ipvs,
        Err(msg) => return fail(msg),
    };
    // One read first, so that a table that cannot be read is said now, not at the first scrape.
    if let Err(e) = ipvs.snapshot() {
        return fail(format!("cannot read the IPVS table: {e}"));
    }
    let exporter = match lvs::exporter::Exporter::bind(listen, ipvs) {
        Ok(exporter) => exporter,
        Err(e) => return fail(format!("cannot listen on {listen}: {e}")),
    };
    let at = exporter.local_addr().unwrap_or(listen);
    eprintln!("lvsadm exporter: serving http://{at}/metrics");
    match exporter.serve(|e| eprintln!("lvsadm exporter: scrape failed: {e}")) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("{at}: {e}")),
    }
}
