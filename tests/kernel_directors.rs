//! The tutorial's high-availability section with real packets: two directors with the kernel's
//! sync daemon and keepalived's VRRP (active/backup), and three directors behind an ECMP route
//! (scale-out). The scenes are `support::directors`; the demo prints the same narration.

mod support;

use support::directors::{self, server_name};

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn active_backup_connection_survives_failover() {
    let f = directors::active_backup().unwrap_or_else(|e| panic!("active-backup: {e}"));

    // The sync daemons lvs started, as lvs reads them back.
    assert_eq!(
        f.master_daemons.len(),
        1,
        "d1's daemons: {:?}",
        f.master_daemons
    );
    assert_eq!(
        f.backup_daemons.len(),
        1,
        "d2's daemons: {:?}",
        f.backup_daemons
    );
    assert_eq!(f.master_daemons[0].role, lvs::DaemonRole::Master);
    assert_eq!(f.backup_daemons[0].role, lvs::DaemonRole::Backup);

    // VRRP moved the VIP from d1 to d2.
    assert_eq!(
        (f.vip_on_master_before, f.vip_on_backup_before),
        (true, false),
        "the VIP before the failover (d1, d2)"
    );
    assert_eq!(
        (f.vip_on_master_after, f.vip_on_backup_after),
        (false, true),
        "the VIP after the failover (d1, d2)"
    );

    // The backup held the connection before the failover, bound to the master's real server.
    assert_eq!(f.backup_entry.client.port(), f.client_port);
    assert_eq!(
        f.backup_entry.destination, f.master_entry.destination,
        "the backup's entry names the master's real server"
    );

    // Zero failed lines; every answer from the one real server; answers after the failover.
    assert!(f.failures.is_empty(), "failed lines: {:?}", f.failures);
    assert!(
        f.answers_after_failover >= 5,
        "{} answers after the failover",
        f.answers_after_failover
    );
    let server = server_name(&f.master_entry.destination);
    for (i, answer) in f.answers.iter().enumerate() {
        assert_eq!(answer, &format!("{server} line {i}"), "answer {i}");
    }

    // The backup's service counted the packets it forwarded after the failover.
    assert_eq!(
        f.backup_inpkts_before, 0,
        "d2 carried nothing before the failover"
    );
    assert!(
        f.backup_inpkts_after >= f.answers_after_failover as u64,
        "d2's service counted {} packets in for {} lines",
        f.backup_inpkts_after,
        f.answers_after_failover
    );
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn scale_out_transfer_survives_losing_its_director() {
    let f = directors::scale_out().unwrap_or_else(|e| panic!("scale-out: {e}"));

    assert_ne!(f.first_director, f.second_director);
    assert_eq!(
        f.second_entry.destination, f.first_entry.destination,
        "both directors' entries name the same real server"
    );
    assert!(f.bytes_at_takeaway < f.expected, "taken away mid-transfer");
    assert_eq!(f.curl_status, 0, "curl's exit status");
    assert_eq!(f.received, f.expected, "bytes received");
    assert!(f.intact, "the download equals the served file");
    assert!(f.second_inpkts > 0, "{} carried packets", f.second_director);
}
