//! `AsyncIpvs` (feature `tokio`) against the fake kernel, on the host: every operation, batch,
//! snapshot, declarative apply, deadlines and cancellation, and several tasks on one handle.
//! The async client runs the blocking one's protocol code, so these check what differs: that
//! every operation goes through, and agrees with what `Ipvs` reads of the same kernel.

use lvs_core::{
    Command, DaemonRole, Destination, DestinationState, Forward, Operation, RefusalKind, Ruleset,
    Service, ServiceKey, SyncDaemon, Timeouts, ValidationError, errno,
};
use lvs_netlink::fake::{FakeKernel, Fault};
use lvs_netlink::wire::request;
use lvs_netlink::{ApplyOptions, AsyncIpvs, DEFAULT_REPLY_TIMEOUT, Error, Outcome};
use std::sync::Arc;
use std::time::Duration;

fn key() -> ServiceKey {
    ServiceKey::tcp("10.0.0.13:80".parse().unwrap())
}

fn real(addr: &str) -> Destination {
    Destination::new(addr.parse().unwrap()).with_forward(Forward::Masquerade)
}

fn kind(r: Result<(), Error>) -> Option<RefusalKind> {
    r.err().and_then(|e| e.refusal().map(|r| r.kind()))
}

async fn open() -> (FakeKernel, AsyncIpvs) {
    let kernel = FakeKernel::new();
    let ipvs = kernel.async_ipvs().await.expect("an async handle");
    (kernel, ipvs)
}

#[tokio::test]
async fn opening_looks_the_family_up_and_a_kernel_without_ipvs_says_so() {
    let (kernel, ipvs) = open().await;
    assert_eq!(kernel.requests(), [Operation::GetFamily]);
    assert_eq!(ipvs.reply_timeout(), DEFAULT_REPLY_TIMEOUT);
    ipvs.set_reply_timeout(Duration::from_millis(1500));
    assert!(format!("{ipvs:?}").contains("1.5s"));
    match FakeKernel::without_ipvs().async_ipvs().await {
        Err(Error::NotAvailable { reason }) => assert!(reason.contains("IPVS"), "{reason}"),
        other => panic!("expected NotAvailable, got {other:?}"),
    }
    match AsyncIpvs::in_netns("lvs-fake-test-no-such-netns").await {
        Err(e @ Error::Namespace { .. }) => assert_eq!(e.errno(), Some(libc::ENOENT)),
        other => panic!("expected a namespace error, got {other:?}"),
    }
}

#[tokio::test]
async fn reads_and_changes_of_services_and_real_servers() {
    let (kernel, ipvs) = open().await;
    assert_eq!(ipvs.info().await.unwrap().version.to_string(), "1.2.1");
    let web = Service::new(key())
        .with_scheduler("wlc")
        .with_persistence(300);
    ipvs.add_service(&web).await.unwrap();
    assert_eq!(
        kind(ipvs.add_service(&web).await),
        Some(RefusalKind::ServiceExists)
    );
    assert_eq!(
        ipvs.service(&key()).await.unwrap().map(|e| e.service),
        Some(web.clone())
    );
    ipvs.edit_service(&web.clone().with_scheduler("wrr"))
        .await
        .unwrap();
    let a = real("192.168.8.14:80").with_weight(3);
    let b = real("192.168.8.15:80");
    ipvs.add_destination(&key(), &a).await.unwrap();
    ipvs.add_destination(&key(), &b).await.unwrap();
    ipvs.edit_destination(&key(), &a.with_weight(0))
        .await
        .unwrap();
    assert!(kernel.set_destination_state(
        &key(),
        &a.addr,
        DestinationState {
            active_conns: 4,
            ..DestinationState::default()
        }
    ));
    let dests = ipvs.destinations(&key()).await.unwrap();
    let read: Vec<(Destination, u32)> = dests
        .iter()
        .map(|d| (d.destination, d.state.active_conns))
        .collect();
    assert_eq!(
        read,
        [(b, 0), (a.with_weight(0), 4)],
        "newest first, with the state"
    );
    let f = ipvs.features().await.unwrap();
    assert!(
        f.addr_family && f.stats64 && f.tunnel_flags,
        "seen in the replies: {f:?}"
    );
    ipvs.delete_destination(&key(), &b.addr).await.unwrap();
    assert_eq!(
        kind(ipvs.delete_destination(&key(), &b.addr).await),
        Some(RefusalKind::NoSuchDestination)
    );
    ipvs.zero(Some(&key())).await.unwrap();
    ipvs.zero(None).await.unwrap();
    // What the async handle wrote, the blocking one reads.
    let blocking = kernel.ipvs().unwrap();
    assert_eq!(blocking.snapshot().unwrap(), ipvs.snapshot().await.unwrap());
    ipvs.delete_service(&key()).await.unwrap();
    assert_eq!(ipvs.service(&key()).await.unwrap(), None);
    match ipvs.destinations(&key()).await {
        Err(e) => assert_eq!(
            e.refusal().map(|r| r.kind()),
            Some(RefusalKind::NoSuchService)
        ),
        Ok(d) => panic!("real servers of a missing service: {d:?}"),
    }
    ipvs.add_service(&web).await.unwrap();
    ipvs.flush().await.unwrap();
    assert!(ipvs.services().await.unwrap().is_empty());
}

#[tokio::test]
async fn timeouts_daemons_connections_and_raw_queries() {
    let (kernel, ipvs) = open().await;
    let t = Timeouts {
        tcp: 3600,
        tcp_fin: 30,
        udp: 60,
    };
    ipvs.set_timeouts(&t).await.unwrap();
    assert_eq!(ipvs.timeouts().await.unwrap(), t);
    let master = SyncDaemon::new(DaemonRole::Master, "eth1", 7);
    ipvs.start_daemon(&master).await.unwrap();
    let running = ipvs.daemons().await.unwrap();
    assert_eq!(
        running
            .iter()
            .map(|d| (d.role, d.syncid))
            .collect::<Vec<_>>(),
        [(DaemonRole::Master, 7)]
    );
    ipvs.stop_daemon(DaemonRole::Master).await.unwrap();
    assert!(ipvs.daemons().await.unwrap().is_empty());
    kernel.set_conn_table(
        "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n\
         TCP 0A000001 A1C2 0A00000D 0050 C0A8080E 0050 ESTABLISHED     899\n",
    );
    let conns = ipvs.connections().await.unwrap();
    assert_eq!(conns.len(), 1);
    assert_eq!(conns[0].state, "ESTABLISHED");
    let replies = ipvs.query_raw(&request::get_info()).await.unwrap();
    assert_eq!(replies.len(), 1);
}

#[tokio::test]
async fn invalid_input_is_refused_before_anything_is_sent() {
    let (kernel, ipvs) = open().await;
    ipvs.add_service(&Service::new(key())).await.unwrap();
    kernel.clear_requests();
    let negative = real("192.168.8.14:80").with_weight(-1);
    match ipvs.add_destination(&key(), &negative).await {
        Err(Error::Invalid(v)) => assert_eq!(v, ValidationError::NegativeWeight(-1)),
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert!(kernel.requests().is_empty(), "nothing was sent");
    let command = Command::AddDestination {
        service: key(),
        destination: negative,
    };
    assert_eq!(
        kind(ipvs.execute_unchecked(&command).await),
        Some(RefusalKind::OutOfRange)
    );
}

#[tokio::test]
async fn a_batch_is_pipelined_and_each_refusal_comes_back_to_its_command() {
    let (kernel, ipvs) = open().await;
    let mut commands = Vec::new();
    for i in 0..2000u32 {
        let key = ServiceKey::tcp(
            format!("10.1.{}.{}:80", i / 250, i % 250 + 1)
                .parse()
                .unwrap(),
        );
        commands.push(Command::AddService(Service::new(key)));
        commands.push(Command::AddDestination {
            service: key,
            destination: real("192.168.8.14:80"),
        });
    }
    commands[7] = commands[5].clone(); // exists already
    commands[9] = Command::AddDestination {
        service: key(),
        destination: real("192.168.8.14:80").with_weight(-1), // invalid: never sent
    };
    kernel.clear_requests();
    let results = ipvs.batch(&commands).await;
    assert_eq!(results.len(), commands.len());
    let failed: Vec<usize> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_err())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(failed, [7, 9]);
    assert_eq!(
        results[7].as_ref().unwrap_err().errno(),
        Some(errno::EEXIST)
    );
    assert!(matches!(results[9], Err(Error::Invalid(_))));
    assert_eq!(
        kernel.requests().len(),
        commands.len() - 1,
        "one request per valid command"
    );
    assert_eq!(kernel.ruleset().object_count(), commands.len() - 2);
}

#[tokio::test]
async fn apply_plans_from_one_snapshot_and_converges() {
    let (kernel, ipvs) = open().await;
    kernel
        .execute(&Command::AddService(Service::new(ServiceKey::tcp(
            "10.0.0.9:80".parse().unwrap(),
        ))))
        .unwrap();
    let desired = Ruleset::from_rules(
        "-A -t 10.0.0.13:80 -s rr\n-a -t 10.0.0.13:80 -r 192.168.8.14 -m\n\
         -a -t 10.0.0.13:80 -r 192.168.8.15 -m -w 2\n-A -u 10.0.0.13:53 -s sh\n",
    )
    .unwrap();
    let options = ApplyOptions::default();
    let plan = ipvs.plan(&desired, &options).await.unwrap();
    assert_eq!(plan.steps.len(), 5, "{plan}");
    let dry = ipvs
        .apply(
            &desired,
            &ApplyOptions {
                dry_run: true,
                ..options
            },
        )
        .await
        .unwrap();
    assert!(dry.outcomes.iter().all(|o| matches!(o, Outcome::NotTried)));
    assert_eq!(
        kernel.ruleset().services.len(),
        1,
        "a dry run sends nothing"
    );
    let report = ipvs.apply(&desired, &options).await.unwrap();
    assert!(report.is_success(), "{report}");
    assert_eq!(kernel.ruleset().services, desired.services);
    assert!(ipvs.plan(&desired, &options).await.unwrap().is_empty());
    // A refused step is reported; the removal that depends on it is not tried.
    let changed =
        Ruleset::from_rules("-A -t 10.0.0.14:80 -s rr\n-a -t 10.0.0.14:80 -r 192.168.8.16 -m\n")
            .unwrap();
    kernel.inject(Operation::AddService, Fault::Refuse(errno::ENOMEM));
    let report = ipvs
        .execute_plan(ipvs.plan(&changed, &options).await.unwrap())
        .await;
    assert!(!report.is_success());
    assert!(
        report.failed().count() >= 1 && report.not_tried().count() >= 1,
        "{report}"
    );
    kernel.clear_faults();
    assert!(ipvs.apply(&changed, &options).await.unwrap().is_success());
    assert_eq!(kernel.ruleset().services, changed.services);
}

#[tokio::test]
async fn a_kernel_that_never_answers_times_out_and_the_handle_recovers() {
    let (kernel, ipvs) = open().await;
    ipvs.set_reply_timeout(Duration::from_millis(50));
    kernel.inject(Operation::GetServices, Fault::Drop);
    assert!(matches!(
        ipvs.services().await,
        Err(Error::Timeout {
            op: Operation::GetServices,
            ..
        })
    ));
    assert!(matches!(ipvs.snapshot().await, Err(Error::Timeout { .. })));
    kernel.clear_faults();
    // A late answer to an abandoned request is never taken for the next one's.
    kernel.inject_once(Command::AddService(Service::new(key())), Fault::Delay);
    assert!(matches!(
        ipvs.add_service(&Service::new(key())).await,
        Err(Error::Timeout { .. })
    ));
    assert_eq!(
        kind(ipvs.add_service(&Service::new(key())).await),
        Some(RefusalKind::ServiceExists)
    );
    assert_eq!(ipvs.services().await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_tasks_share_one_handle() {
    let (kernel, ipvs) = open().await;
    let ipvs = Arc::new(ipvs);
    let mut tasks = Vec::new();
    for t in 0..8u8 {
        let ipvs = Arc::clone(&ipvs);
        tasks.push(tokio::spawn(async move {
            for i in 0..10u8 {
                let key = ServiceKey::tcp(([10, 2, t, i + 1], 80).into());
                ipvs.add_service(&Service::new(key)).await?;
                ipvs.add_destination(&key, &real("192.168.8.14:80")).await?;
                ipvs.service(&key).await?.ok_or(Error::MissingReply {
                    op: Operation::GetService,
                })?;
            }
            ipvs.snapshot().await?;
            Ok::<(), Error>(())
        }));
    }
    for t in tasks {
        t.await
            .expect("the task ran")
            .expect("every call succeeded");
    }
    assert_eq!(kernel.ruleset().object_count(), 8 * 10 * 2);
    assert_eq!(ipvs.snapshot().await.unwrap().object_count(), 8 * 10 * 2);
}
