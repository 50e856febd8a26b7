//! `AsyncIpvs` (feature `tokio`) against the real kernel: every operation, cross-checked with
//! `ipvsadm -Sn`; declarative apply; a pipelined batch; many tasks on one handle and several
//! handles at once; another network namespace.

mod support;

use lvs_core::{
    Command, DaemonRole, Destination, Forward, Operation, RefusalKind, Ruleset, Service,
    ServiceKey, SyncDaemon, Timeouts, errno,
};
use lvs_netlink::{ApplyOptions, AsyncIpvs};
use std::sync::Arc;
use support::*;

/// Services and real servers of every kind: IPv4 and IPv6, TCP, UDP, SCTP, firewall marks,
/// persistence, netmasks, scheduler flags, every forwarding method and tunnel type.
const RULES: &str = "\
-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 192.168.1.1:80 -m -w 1
-a -t 10.0.0.1:80 -r 192.168.1.2:8080 -g -w 0
-a -t 10.0.0.1:80 -r 192.168.1.3:80 -i -w 5 -x 100 -y 10
-A -u 10.0.0.2:53 -s wrr -o
-a -u 10.0.0.2:53 -r 192.168.1.4:53 -m -w 3
-A --sctp-service 10.0.0.3:5000 -s lc
-a --sctp-service 10.0.0.3:5000 -r 192.168.1.5:5000 -m -w 2
-A -t [2001:db8::1]:443 -s wlc -p 300 -M 64
-a -t [2001:db8::1]:443 -r [2001:db8:1::1]:443 -m -w 1
-A -f 1 -s sh -b sh-fallback,sh-port
-a -f 1 -r 192.168.1.6:0 -g -w 1
-A -f 2 -6 -s mh -b mh-fallback,mh-port
-A -u 10.0.0.5:5060 -s ovf -p 120 --pe sip
-A -t 10.0.0.11:80 -s rr
-a -t 10.0.0.11:80 -r 192.168.2.2:80 -i --tun-type gue --tun-port 6080 --tun-nocsum
-a -t 10.0.0.11:80 -r 192.168.2.5:80 -i --tun-type gre --tun-csum
";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

async fn open() -> AsyncIpvs {
    AsyncIpvs::new()
        .await
        .unwrap_or_else(|e| panic!("AsyncIpvs::new: {e}"))
}

fn kind(r: Result<(), lvs_netlink::Error>) -> Option<RefusalKind> {
    r.err().and_then(|e| e.refusal().map(|r| r.kind()))
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn every_change_round_trips_and_ipvsadm_reads_it() {
    runtime().block_on(async {
        let ipvs = open().await;
        let want = model(RULES);
        for c in commands(RULES) {
            ipvs.execute(&c)
                .await
                .unwrap_or_else(|e| panic!("{c:?}: {e}"));
        }
        let snap = ipvs.snapshot().await.expect("snapshot");
        assert_eq!(snap.services(), want, "lvs reads back what it wrote");
        assert_eq!(ipvsadm_save(), expected_save(&want), "ipvsadm -Sn reads it");
        // The blocking handle reads the same table, state included.
        assert_eq!(support::ipvs().snapshot().expect("blocking snapshot"), snap);

        // Each read and change, one at a time, with ipvsadm as the witness.
        let key = ServiceKey::tcp("10.0.0.1:80".parse().unwrap());
        let svc = ipvs
            .service(&key)
            .await
            .expect("service")
            .expect("there")
            .service;
        ipvs.edit_service(&svc.clone().with_scheduler("wlc"))
            .await
            .expect("edit");
        let real = Destination::new("192.168.1.1:80".parse().unwrap())
            .with_forward(Forward::Masquerade)
            .with_weight(7);
        ipvs.edit_destination(&key, &real).await.expect("edit real");
        ipvs.delete_destination(&key, &"192.168.1.3:80".parse().unwrap())
            .await
            .expect("delete real");
        let added =
            Destination::new("192.168.1.9:80".parse().unwrap()).with_forward(Forward::Masquerade);
        ipvs.add_destination(&key, &added).await.expect("add real");
        ipvs.delete_service(&ServiceKey::fwmark(lvs_core::Family::Inet6, 2))
            .await
            .expect("delete service");
        let mut expected = want.clone();
        let edits = [
            Command::EditService(svc.with_scheduler("wlc")),
            Command::EditDestination {
                service: key,
                destination: real,
            },
            Command::DeleteDestination {
                service: key,
                addr: "192.168.1.3:80".parse().unwrap(),
            },
            Command::AddDestination {
                service: key,
                destination: added,
            },
            Command::DeleteService(ServiceKey::fwmark(lvs_core::Family::Inet6, 2)),
        ];
        expected
            .execute_all(&edits, &lvs_core::KernelProfile::ANY)
            .unwrap_or_else(|(i, e)| panic!("edit {i}: {e}"));
        assert_eq!(
            ipvs.snapshot().await.expect("snapshot").services(),
            expected
        );
        assert_eq!(ipvsadm_save(), expected_save(&expected));
        let reals = ipvs.destinations(&key).await.expect("real servers");
        assert_eq!(reals.len(), 3);

        // What the kernel refuses comes back as its refusal, and changes nothing.
        assert_eq!(
            kind(ipvs.add_service(&Service::new(key)).await),
            Some(RefusalKind::ServiceExists)
        );
        let gone = ServiceKey::udp("10.9.9.9:53".parse().unwrap());
        assert_eq!(ipvs.service(&gone).await.expect("lookup"), None);
        let missing = ipvs.destinations(&gone).await.expect_err("no such service");
        assert_eq!(
            missing.refusal().map(|r| r.kind()),
            Some(RefusalKind::NoSuchService)
        );
        assert_eq!(ipvsadm_save(), expected_save(&expected));

        ipvs.zero(Some(&key)).await.expect("zero one");
        ipvs.zero(None).await.expect("zero all");
        assert!(
            ipvs.connections()
                .await
                .expect("connection table")
                .is_empty()
        );
        ipvs.flush().await.expect("flush");
        assert_eq!(ipvsadm_save(), "");
    });
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn written_by_ipvsadm_read_by_the_async_client() {
    runtime().block_on(async {
        let ipvs = open().await;
        ipvsadm_restore(RULES);
        assert_eq!(
            ipvs.snapshot().await.expect("snapshot").services(),
            model(RULES)
        );
        let info = ipvs.info().await.expect("info");
        assert_eq!(info.version.to_string(), "1.2.1");
        let features = ipvs.features().await.expect("features");
        assert!(
            features.tunnel_flags,
            "every kernel of the matrix has them: {features:?}"
        );
        let raw = ipvs
            .query_raw(&lvs_netlink::wire::request::get_services())
            .await
            .expect("raw");
        assert_eq!(raw.len(), model(RULES).services.len());
    });
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn timeouts_and_daemons() {
    runtime().block_on(async {
        let ipvs = open().await;
        assert_eq!(
            ipvs.timeouts().await.expect("get"),
            Timeouts::KERNEL_DEFAULT
        );
        let t = Timeouts {
            tcp: 1000,
            tcp_fin: 20,
            udp: 30,
        };
        ipvs.set_timeouts(&t).await.expect("set");
        assert_eq!(ipvs.timeouts().await.expect("get"), t);
        assert_eq!(
            run_ok("ipvsadm", &["-L", "--timeout"], None),
            "Timeout (tcp tcpfin udp): 1000 20 30\n"
        );
        let d = SyncDaemon::new(DaemonRole::Backup, "lo", 5);
        ipvs.start_daemon(&d).await.expect("start");
        let running = ipvs.daemons().await.expect("daemons");
        assert_eq!(running.len(), 1, "{running:?}");
        assert_eq!(
            (running[0].role, running[0].syncid),
            (DaemonRole::Backup, 5)
        );
        let out = run_ok("ipvsadm", &["-L", "--daemon"], None);
        assert!(
            out.contains("backup sync daemon (mcast=lo, syncid=5"),
            "{out}"
        );
        let twice = ipvs.start_daemon(&d).await.expect_err("twice");
        assert_eq!(
            twice.refusal().map(|r| (r.op, r.kind())),
            Some((Operation::StartDaemon, RefusalKind::DaemonExists))
        );
        assert_eq!(
            ipvs.snapshot().await.expect("snapshot").daemons(),
            running.as_slice()
        );
        ipvs.stop_daemon(DaemonRole::Backup).await.expect("stop");
        assert!(ipvs.daemons().await.expect("daemons").is_empty());
    });
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn apply_converges_and_ipvsadm_agrees() {
    runtime().block_on(async {
        let ipvs = open().await;
        // Something to replace: a service the desired rules do not have.
        ipvsadm_restore("-A -t 10.0.0.99:80 -s rr\n-a -t 10.0.0.99:80 -r 192.168.9.9:80 -m\n");
        let desired = model(RULES);
        let options = ApplyOptions::default();
        let report = ipvs.apply(&desired, &options).await.expect("apply");
        assert!(report.is_success(), "{report}");
        assert_eq!(ipvsadm_save(), expected_save(&desired));
        assert!(
            ipvs.plan(&desired, &options)
                .await
                .expect("plan")
                .is_empty(),
            "applying again sends nothing"
        );
        // A change: one service edited, one real server gone, one service gone.
        let changed = Ruleset::from_rules(
            &RULES
                .replace(
                    "-A -u 10.0.0.2:53 -s wrr -o\n-a -u 10.0.0.2:53 -r 192.168.1.4:53 -m -w 3\n",
                    "",
                )
                .replace("-A -t 10.0.0.1:80 -s rr", "-A -t 10.0.0.1:80 -s wlc"),
        )
        .expect("rules");
        let plan = ipvs.plan(&changed, &options).await.expect("plan");
        assert!(!plan.is_empty());
        let report = ipvs.execute_plan(plan).await;
        assert!(report.is_success(), "{report}");
        assert_eq!(ipvsadm_save(), expected_save(&changed));
        // A step the kernel refuses is reported, and nothing else changes.
        let refused = model_unchecked(&format!(
            "-A -t 10.0.0.50:80 -s {}\n-a -t 10.0.0.50:80 -r 192.168.5.5:80 -m\n",
            missing_scheduler()
        ));
        let report = ipvs
            .apply(
                &refused,
                &ApplyOptions {
                    keep_unlisted: true,
                    ..options
                },
            )
            .await
            .expect("apply");
        // The real server went in the same batch, right after its service (as the kernel
        // finds it fastest), and is refused in its turn.
        let failed: Vec<String> = report.failed().map(|(_, e)| e.to_string()).collect();
        assert_eq!(failed.len(), 2, "{report}");
        assert!(
            failed[0].contains("Scheduler or persistence engine not found"),
            "{report}"
        );
        assert!(failed[1].contains("Service not defined"), "{report}");
        assert_eq!(
            ipvsadm_save(),
            expected_save(&changed),
            "nothing else changed"
        );
    });
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn a_batch_of_a_thousand_services_matches_each_refusal() {
    runtime().block_on(async {
        let ipvs = open().await;
        let mut commands = Vec::new();
        for i in 0..1000u32 {
            let key = ServiceKey::tcp(format!("10.{}.{}.1:80", i >> 8, i & 0xff).parse().unwrap());
            commands.push(Command::AddService(Service::new(key).with_scheduler("rr")));
            commands.push(Command::AddDestination {
                service: key,
                destination: Destination::new("192.168.1.1:8080".parse().unwrap())
                    .with_forward(Forward::Masquerade),
            });
        }
        // Two the kernel refuses (an existing service, a missing one's real server), in the
        // middle of a datagram.
        commands[501] = commands[500].clone();
        commands[1003] = Command::AddDestination {
            service: ServiceKey::tcp("10.250.0.1:80".parse().unwrap()),
            destination: Destination::new("192.168.1.1:8080".parse().unwrap()),
        };
        let results = ipvs.batch(&commands).await;
        let failed: Vec<(usize, Option<i32>)> = results
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.as_ref().err().map(|e| (i, e.errno())))
            .collect();
        assert_eq!(
            failed,
            [(501, Some(errno::EEXIST)), (1003, Some(errno::ESRCH))]
        );
        let mut want = Ruleset::new();
        for (c, r) in commands.iter().zip(&results) {
            if r.is_ok() {
                want.execute(c).expect("the model takes it");
            }
        }
        assert_eq!(ipvs.snapshot().await.expect("snapshot").services(), want);
        assert_eq!(ipvsadm_save(), expected_save(&want));
    });
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn tasks_share_a_handle_and_handles_run_side_by_side() {
    runtime().block_on(async {
        let shared = Arc::new(open().await);
        let mut tasks = Vec::new();
        // Eight tasks on one handle, four on handles of their own, all at once: each adds its
        // services with real servers, reads each back, then snapshots the whole table.
        for t in 0..12u8 {
            let ipvs = if t < 8 {
                Arc::clone(&shared)
            } else {
                Arc::new(open().await)
            };
            tasks.push(tokio::spawn(async move {
                for i in 0..25u8 {
                    let key = ServiceKey::tcp(([10, 3, t, i + 1], 80).into());
                    ipvs.add_service(&Service::new(key).with_scheduler("rr"))
                        .await?;
                    let real = Destination::new(([192, 168, t, i + 1], 80).into())
                        .with_forward(Forward::Masquerade);
                    ipvs.add_destination(&key, &real).await?;
                    let reals = ipvs.destinations(&key).await?;
                    assert_eq!(reals.len(), 1, "{key}");
                }
                ipvs.snapshot().await?;
                Ok::<(), lvs_netlink::Error>(())
            }));
        }
        for t in tasks {
            t.await
                .expect("the task ran")
                .expect("every call succeeded");
        }
        let snap = shared.snapshot().await.expect("snapshot");
        assert_eq!(snap.ruleset.services.len(), 12 * 25);
        assert_eq!(snap.object_count(), 12 * 25 * 2);
        assert_eq!(ipvsadm_save(), expected_save(&snap.services()));
    });
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn a_handle_in_another_namespace_never_touches_this_one() {
    run_ok("ip", &["netns", "add", "lvs-async-b"], None);
    runtime().block_on(async {
        let here = open().await;
        let b = AsyncIpvs::in_netns("lvs-async-b")
            .await
            .expect("open lvs-async-b");
        let x = ServiceKey::tcp("10.1.0.1:80".parse().unwrap());
        b.add_service(&Service::new(x)).await.expect("add in B");
        assert!(here.services().await.expect("here").is_empty());
        assert_eq!(ipvsadm_save(), "", "ipvsadm here sees nothing");
        let in_b = run_ok(
            "ip",
            &["netns", "exec", "lvs-async-b", "ipvsadm", "-S", "-n"],
            None,
        );
        assert_eq!(in_b, "-A -t 10.1.0.1:80 -s wlc\n");
        // The dump socket and the connection table are B's too.
        assert!(
            b.destinations(&x)
                .await
                .expect("B's real servers")
                .is_empty()
        );
        assert_eq!(b.snapshot().await.expect("B").ruleset.services.len(), 1);
        assert!(b.connections().await.expect("conns in B").is_empty());
        // Many tasks on B's handle, on whichever runtime thread: all land in B.
        let b = Arc::new(b);
        let tasks: Vec<_> = (1..=20u8)
            .map(|i| {
                let b = Arc::clone(&b);
                tokio::spawn(async move {
                    b.add_service(&Service::new(ServiceKey::udp(([10, 2, 0, i], 53).into())))
                        .await
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("ran").expect("added in B");
        }
        assert_eq!(b.services().await.expect("B").len(), 21);
        assert!(here.services().await.expect("here").is_empty());
    });
    run_ok("ip", &["netns", "del", "lvs-async-b"], None);
}
