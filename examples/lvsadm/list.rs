//! Listings (`-L`, `-l`) and `-S`: read from the kernel with lvs-netlink, printed by
//! `lvs::ipvsadm::list` (pure, byte-identical to ipvsadm), or as JSON with `--json`.

use crate::compat::{Exit, Session, Status, message, out};
use lvs::ipvsadm::list::{self, Table};
use lvs::ipvsadm::{Format, ListWhat};
use lvs::rules::SaveOptions;
use lvs::{ServiceEntry, ServiceKey, VirtualServiceEntry};
use serde::Serialize;

/// A failed read: ipvsadm prints the message and exits 1.
fn failed(e: &lvs::netlink::Error) -> Exit {
    eprintln!("{}", message(e));
    Exit(1)
}

fn json<T: Serialize>(value: &T) -> Status {
    match serde_json::to_string_pretty(value) {
        Ok(text) => {
            out(&text);
            out("\n");
            Ok(0)
        }
        Err(e) => {
            eprintln!("cannot write JSON: {e}");
            Err(Exit(1))
        }
    }
}

/// The whole table, as one snapshot.
fn table(session: &mut Session) -> Result<Table, Exit> {
    let (ipvs, info) = session.ipvs()?;
    let snap = ipvs.snapshot().map_err(|e| failed(&e))?;
    Ok(Table::new(*info, snap.entries()))
}

/// One service with its real servers; "No such service" (exit 1) when it is missing.
fn one_service(session: &mut Session, key: &ServiceKey) -> Result<VirtualServiceEntry, Exit> {
    let (ipvs, _) = session.ipvs()?;
    let Some(ServiceEntry { service, state }) = ipvs.service(key).map_err(|e| failed(&e))? else {
        eprintln!(
            "{}",
            lvs::ipvsadm_message(lvs::Operation::GetService, lvs::errno::ESRCH)
        );
        return Err(Exit(1));
    };
    let destinations = ipvs.destinations(key).map_err(|e| failed(&e))?;
    Ok(VirtualServiceEntry {
        service,
        state,
        destinations,
    })
}

/// `-L [what] [format]`.
pub fn list(session: &mut Session, what: &ListWhat, format: &Format) -> Status {
    match what {
        ListWhat::All => {
            let t = table(session)?;
            if session.json {
                return json(&t.in_listing_order(format));
            }
            out(&t.list(format, &session.names));
        }
        ListWhat::Service(key) => {
            let vs = one_service(session, key)?;
            if session.json {
                let t = Table::new(session.ipvs()?.1, vec![vs]);
                return json(&t.in_listing_order(format).services[0]);
            }
            out(&list::list_service(&vs, format, &session.names));
        }
        ListWhat::Timeouts => {
            let t = session.ipvs()?.0.timeouts().map_err(|e| failed(&e))?;
            if session.json {
                return json(&t);
            }
            out(&list::timeouts(&t));
        }
        ListWhat::Daemons => {
            let d = session.ipvs()?.0.daemons().map_err(|e| failed(&e))?;
            if session.json {
                return json(&d);
            }
            out(&list::daemons(&d));
        }
        ListWhat::Connections => {
            let conns = match session.ipvs()?.0.connections() {
                Ok(c) => c,
                Err(_) => {
                    eprintln!("cannot open file /proc/net/ip_vs_conn");
                    return Err(Exit(1));
                }
            };
            if session.json {
                return json(&conns);
            }
            out(&list::connections(&conns, format, &session.names));
        }
    }
    Ok(0)
}

/// `-S [-n]`: the rules, with non-zero thresholds kept (lvs's lossless save; ipvsadm drops
/// them, and prints marks above 2^31 - 1 negative).
pub fn save(session: &mut Session, format: &Format) -> Status {
    let t = table(session)?;
    out(&t.rules(format, &session.names, SaveOptions::default()));
    Ok(0)
}
