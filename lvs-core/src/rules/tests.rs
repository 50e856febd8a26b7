use super::*;
use crate::{
    Command, DaemonRole, Destination, Family, Forward, Netmask, Protocol, Ruleset, Scheduler,
    ServiceFlags, ServiceKey, TunnelChecksum, TunnelType,
};

fn one(line: &str) -> Command {
    let rules = parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
    assert_eq!(rules.len(), 1, "{line}");
    rules.into_iter().next().unwrap().command
}

fn err(line: &str) -> RulesError {
    parse(line).expect_err(line)
}

fn message(line: &str) -> String {
    match err(line) {
        RulesError::Syntax { kind, .. } => kind.to_string(),
        e => panic!("{e}"),
    }
}

#[test]
fn tokens_drop_ipvsadm_and_keep_columns() {
    let t = tokenize("ipvsadm  -A\t-t 1.2.3.4:80 ipvsadm");
    let texts: Vec<_> = t.iter().map(|t| (t.text, t.column)).collect();
    assert_eq!(texts, [("-A", 10), ("-t", 13), ("1.2.3.4:80", 16)]);
}

#[test]
fn comments_blank_lines_and_leading_ipvsadm() {
    let rules = parse("# saved\n\n   \nipvsadm -A -t 10.0.0.13:80 -s rr\n  # indented\n").unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].line, 4);
    assert_eq!(rules[0].column, 9);
}

#[test]
fn service_defaults_follow_ipvsadm() {
    let Command::AddService(s) = one("-A -t 10.0.0.13:80") else {
        panic!()
    };
    assert_eq!(s.key, ServiceKey::tcp("10.0.0.13:80".parse().unwrap()));
    assert_eq!(s.scheduler, Scheduler::WeightedLeastConnection);
    assert!(s.persistence.is_none());
    let Command::AddService(s) = one("-A -u 10.0.0.13:0 -p") else {
        panic!()
    };
    let p = s.persistence.unwrap();
    assert_eq!(p.timeout, 360);
    assert!(p.netmask.is_host());
    let Command::AddService(s) = one("-A --sctp-service [2001:db8::1]:80 -p 60 -M 64 --pe sip")
    else {
        panic!()
    };
    assert_eq!(s.key.protocol(), Protocol::Sctp);
    assert_eq!(s.persistence.unwrap().netmask, Netmask::V6(64));
    assert_eq!(s.pe.as_deref(), Some("sip"));
}

#[test]
fn fwmark_and_ipv6_flag() {
    let Command::AddService(s) = one("-A -f 10 -6 -s sh -b sh-fallback,sh-port") else {
        panic!()
    };
    assert_eq!(s.key, ServiceKey::fwmark(Family::Inet6, 10));
    assert_eq!(s.flags, ServiceFlags::SCHED_1 | ServiceFlags::SCHED_2);
    assert_eq!(message("-A -6 -f 10"), "-6 used before -f");
    assert_eq!(message("-A -f 0"), "invalid fwmark value `0' specified");
}

#[test]
fn destinations_take_the_service_port_and_forwarding() {
    let Command::AddDestination { destination: d, .. } =
        one("-a -t 10.0.0.13:80 -r 192.168.8.14 -m -w 3")
    else {
        panic!()
    };
    assert_eq!(d.addr, "192.168.8.14:80".parse().unwrap());
    assert_eq!(d.forward, Forward::Masquerade);
    assert_eq!(d.weight, 3);
    // -g and -i force the service port.
    let Command::AddDestination { destination: d, .. } =
        one("-a -t 10.0.0.13:80 -r 192.168.8.14:8080")
    else {
        panic!()
    };
    assert_eq!(d.addr.port(), 80);
    assert_eq!(d.forward, Forward::DirectRoute);
    let Command::AddDestination { destination: d, .. } =
        one("-a -t 10.0.0.13:80 -r 192.168.8.14 -i --tun-type gue --tun-port 6080 --tun-remcsum")
    else {
        panic!()
    };
    let t = d.forward.tunnel().copied().unwrap();
    assert_eq!(
        (t.kind, t.port, t.checksum),
        (TunnelType::Gue, 6080, TunnelChecksum::RemCsum)
    );
}

#[test]
fn ipvsadm_refusals_with_columns() {
    let e = err("-A -t 10.0.0.13:80 -w 3");
    assert_eq!(
        e.to_string(),
        "1:1: Illegal 'weight' option with the 'add-service' command"
    );
    let e = err("-a -t 10.0.0.13:80 -r 192.168.8.14 -w 2147483648");
    assert_eq!(e.to_string(), "1:39: illegal weight specified");
    assert_eq!(
        message("-A -t 10.0.0.13:0"),
        "Zero port specified for non-persistent service"
    );
    assert_eq!(
        message("-A -t 10.0.0.13:53 -o"),
        "One-Packet Scheduling is only for UDP virtual services"
    );
    assert_eq!(
        message("-A -t 10.0.0.13:80 -b sh-port"),
        "incompatible scheduler flag `sh-port'"
    );
    assert_eq!(
        message("-A -t 10.0.0.13:80 -s mh -b mh-port,bogus"),
        "invalid scheduler flag `bogus'"
    );
    assert_eq!(
        message("-a -t 10.0.0.13:80 -r 192.168.8.14 -m --tun-type gre"),
        "Tunnel options conflict with forward method"
    );
    assert_eq!(
        message("-a -t 10.0.0.13:80 -r 192.168.8.14 -i --tun-type gue"),
        "You need to supply the 'tun-port' option for the 'gue' tunnel type"
    );
    assert_eq!(
        message("-a -t 10.0.0.13:80 -r [2001:db8::1]:80 -m"),
        "Different address family is allowed only for tunneling servers"
    );
    assert_eq!(
        message("-A -t 10.0.0.13:80 -s rr -s wrr"),
        "multiple 'scheduler' options specified"
    );
    assert_eq!(
        message("-A -t 10.0.0.13:80 extra"),
        "unexpected argument extra"
    );
    assert_eq!(
        message("-A -t www.example:80"),
        "illegal virtual server address[:port] specified"
    );
    assert_eq!(
        message("-A -t 10.0.0.13:80 --bogus"),
        "--bogus: unknown option"
    );
    assert!(matches!(
        err("-t 10.0.0.13:80 -A"),
        RulesError::Syntax {
            kind: ArgErrorKind::NoCommand(_),
            ..
        }
    ));
    assert!(matches!(
        err("-L -n"),
        RulesError::Syntax {
            kind: ArgErrorKind::NotARule(_),
            ..
        }
    ));
    assert_eq!(message("-A -t 10.0.0.13:80 -D"), "invalid option `-D'");
}

#[test]
fn set_and_daemons() {
    assert_eq!(
        one("--set 10 0 30"),
        Command::SetTimeouts(crate::Timeouts {
            tcp: 10,
            tcp_fin: 0,
            udp: 30
        })
    );
    assert_eq!(
        message("--set 10 20"),
        "--set option requires 3 timeout values"
    );
    let Command::StartDaemon(d) = one("--start-daemon backup --syncid 7 --mcast-group 239.1.1.1")
    else {
        panic!()
    };
    assert_eq!(
        (d.role, d.interface.as_str(), d.syncid),
        (DaemonRole::Backup, "eth0", 7)
    );
    assert_eq!(
        one("--stop-daemon master"),
        Command::StopDaemon(DaemonRole::Master)
    );
    assert_eq!(
        message("--start-daemon primary"),
        "illegal start-daemon parameter specified"
    );
    assert_eq!(
        message("--start-daemon master --mcast-group 10.0.0.1"),
        "invalid IPv4 mcast-group `10.0.0.1'"
    );
}

#[test]
fn kernel_refusals_carry_line_and_column() {
    let text = "-A -t 10.0.0.13:80\n  -A -t 10.0.0.13:80\n";
    let e = Ruleset::from_rules(text).unwrap_err();
    assert_eq!(e.to_string(), "2:3: Service already exists");
    let e = Ruleset::from_rules("-a -t 10.0.0.13:80 -r 192.168.8.14").unwrap_err();
    assert_eq!(e.to_string(), "1:1: Service not defined");
    let e = Ruleset::from_rules("-A -t 10.0.0.13:80\n-a -t 10.0.0.13:80 -r 192.168.8.14 -y 5")
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("2:1: Numerical result out of range"),
        "{e}"
    );
}

#[test]
fn save_writes_thresholds_unless_asked_like_ipvsadm() {
    let r = Ruleset::from_rules(
        "-A -t 10.0.0.13:80 -s rr\n-a -t 10.0.0.13:80 -r 192.168.8.14 -m -x 10 -y 5\n",
    )
    .unwrap();
    let vs = &r.services[0];
    assert_eq!(vs.destinations[0].upper_threshold, 10);
    assert!(
        r.to_rules()
            .lines()
            .nth(1)
            .unwrap()
            .ends_with(" -m -w 1 -x 10 -y 5")
    );
    assert!(
        save(&r, SaveOptions::IPVSADM)
            .lines()
            .nth(1)
            .unwrap()
            .ends_with(" -m -w 1")
    );
    assert_eq!(Ruleset::from_rules(&r.to_rules()).unwrap(), r);
}

#[test]
fn destinations_sort_like_libipvs() {
    let mut r = Ruleset::from_rules("-A -t 10.0.0.13:80 -s rr").unwrap();
    for a in ["192.168.8.16:80", "192.168.8.14:80", "192.168.8.15:80"] {
        let d = Destination::new(a.parse().unwrap()).with_forward(Forward::Masquerade);
        r.services[0].destinations.push(d);
    }
    let printed = r.to_rules();
    let addrs: Vec<_> = printed
        .lines()
        .skip(1)
        .map(|l| l.split(' ').nth(4).unwrap())
        .collect();
    assert_eq!(
        addrs,
        ["192.168.8.14:80", "192.168.8.15:80", "192.168.8.16:80"]
    );
}

#[test]
fn reading_refuses_like_applying_to_an_empty_ruleset() {
    let twice = "-A -t 10.0.0.1:80\n-A -t 10.0.0.1:80\n";
    let cases = [
        // A refusal, then a syntax error further on: the syntax error wins.
        format!("{twice}-a -t 10.0.0.1:80 -r 10.0.0.2 -w x\n"),
        // A refusal alone, with good lines after it.
        format!("{twice}-a -t 10.0.0.1:80 -r 10.0.0.2\n"),
        // Two refusals: the first counts.
        format!("-a -t 10.0.0.9:80 -r 10.0.0.2\n{twice}"),
        // Every line good.
        "-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.0.0.2\n-a -t 10.0.0.1:80 -r 10.0.0.3\n"
            .to_owned(),
    ];
    for text in &cases {
        let mut applied = Ruleset::new();
        let two_pass = applied.apply_rules(text).map(|()| applied);
        assert_eq!(Ruleset::from_rules(text), two_pass, "{text}");
    }
    assert!(matches!(
        Ruleset::from_rules(&cases[0]),
        Err(RulesError::Syntax { line: 3, .. })
    ));
    assert!(matches!(
        Ruleset::from_rules(&cases[1]),
        Err(RulesError::Refused { line: 2, .. })
    ));
    assert!(matches!(
        Ruleset::from_rules(&cases[2]),
        Err(RulesError::Refused { line: 1, .. })
    ));
}

#[test]
fn one_pass_reading_agrees_with_reading_line_by_line() {
    let texts = [
        "-A -t 10.0.0.1:80 -s rr\r\n-a -t 10.0.0.1:80 -r 10.0.0.2 -m\r\n",
        "-A -t 10.0.0.1:80\n\n   \n\t# note\n-a -t 10.0.0.1:80 -r 10.0.0.2",
        "\u{b}\n# not reached\n",
        "\u{a0}# a comment to trim_start\n-A -t 10.0.0.1:80 é\n",
        "ipvsadm #x\n",
        "-A -t 10.0.0.1:80 -s ü -p x\n",
        "é\t ipvsadm -A --tcp-service=10.0.0.1:80 --bogus\n",
        "-A -t 10.0.0.1:80\r",
        "\n\n\n-Z -t 10.0.0.1:81\n",
    ];
    for text in texts {
        let mut by_line = Vec::new();
        let mut failed = None;
        for (i, line) in text.lines().enumerate() {
            match parse_line(i + 1, line, &NumericOnly) {
                Ok(Some(rule)) => by_line.push(rule),
                Ok(None) => {}
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let want = failed.map_or(Ok(by_line), Err);
        assert_eq!(parse(text), want, "{text:?}");
    }
    assert!(matches!(
        parse("-A -t 10.0.0.1:80 é -s rr\n"),
        Err(RulesError::Syntax { column: 19, .. })
    ));
    assert!(matches!(
        parse("é\t-A -t 10.0.0.1:80 --bogus\n"),
        Err(RulesError::Syntax { column: 21, .. })
    ));
}

/// The tokenizer a byte at a time, with columns counted in characters: what `tokenize_into`
/// must agree with.
fn tokens_one_byte_at_a_time(text: &str, line_only: bool) -> (Vec<(&str, usize)>, usize) {
    let blank = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    let end = if line_only {
        text.find('\n').unwrap_or(text.len())
    } else {
        text.len()
    };
    let line = &text[..end];
    let mut tokens = Vec::new();
    let mut start: Option<(usize, usize)> = None;
    for (column, (i, c)) in line.char_indices().chain([(end, ' ')]).enumerate() {
        match (blank(c), start) {
            (false, None) => start = Some((i, column + 1)),
            (true, Some((s, col))) => {
                if &line[s..i] != "ipvsadm" {
                    tokens.push((&line[s..i], col));
                }
                start = None;
            }
            _ => {}
        }
    }
    (tokens, end)
}

#[test]
fn word_at_a_time_tokens_agree_with_byte_at_a_time() {
    let pieces = [
        " ",
        "  ",
        "\t",
        "\r",
        "\n",
        "\u{b}",
        "\u{c}",
        "\0",
        "\u{1f}",
        "!",
        "-a",
        "-t",
        "10.0.0.1:80",
        "ipvsadm",
        "ipvsadmx",
        "é",
        "ü",
        "\u{a0}",
        "€",
        "#",
        "x",
        "--weight=3",
        "0123456789abcdef",
    ];
    let mut x: u64 = 0x243f_6a88_85a3_08d3;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let count = (x % 16) as usize;
        let text: String = (0..count)
            .map(|i| pieces[(x >> (4 + 3 * i)) as usize % pieces.len()])
            .collect();
        let mut tokens = Vec::new();
        for line_only in [false, true] {
            let end = tokenize_into(&text, line_only, &mut tokens);
            let got: Vec<(&str, usize)> = tokens.iter().map(|t| (t.text, t.column)).collect();
            assert_eq!(
                (got, end),
                tokens_one_byte_at_a_time(&text, line_only),
                "{text:?} line_only={line_only}"
            );
        }
    }
}
