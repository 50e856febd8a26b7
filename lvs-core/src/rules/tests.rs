use super::*;
use crate::ipvsadm::options;
use crate::ipvsadm::split::tokenize;
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
fn reading_refuses_like_executing_on_an_empty_ruleset() {
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
        let two_pass = applied.execute_rules(text).map(|()| applied);
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
        "-A -t 10.0.0.1:80\n-A -x\n-A -t 10.0.0.2:80\n",
        // Services named again on the next lines, in the same text or not.
        "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.0.2 -m\n-a -t 10.0.0.1:8 -r 10.0.0.3 -m\n\
         -A -u 10.0.0.1:80\n-a -u 10.0.0.1:80 -r 10.0.0.4:1 -m\n-a -t 10.0.0.1:80 -r 10.0.0.5 -g\n\
         -a -t 10.0.0.1 -r 10.0.0.6 -m\n-D -t 10.0.0.1\n-A -t 10.0.0.1:65536\n-A -t 10.0.0.1:65536\n",
        "-A -t 010.0.0.1:80\n-A -t 010.0.0.1:80 -p\n-A -t 10.0.0.1:0\n-A -t 10.0.0.1:0 -p\n",
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
        // One at a time: the same rules, then the error, then nothing.
        let mut items: Vec<_> = by_line.iter().cloned().map(Ok).collect();
        items.extend(failed.clone().map(Err));
        let mut iter = parse_iter(text);
        assert_eq!(iter.by_ref().collect::<Vec<_>>(), items, "{text:?}");
        assert_eq!(iter.next(), None);
        let want = failed.map_or(Ok(by_line), Err);
        assert_eq!(parse(text), want, "{text:?}");
    }
    let mut bom = parse_iter("\u{feff}-A -t 10.0.0.1:80\n");
    assert_eq!(bom.next(), Some(Err(text::bom())));
    assert_eq!(bom.next(), None);
    assert!(matches!(
        parse("-A -t 10.0.0.1:80 é -s rr\n"),
        Err(RulesError::Syntax { column: 19, .. })
    ));
    assert!(matches!(
        parse("é\t-A -t 10.0.0.1:80 --bogus\n"),
        Err(RulesError::Syntax { column: 21, .. })
    ));
}

/// The tokenizer a byte at a time, with columns counted in characters: what `tokenize` and
/// `line_len` must agree with.
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
        for line_only in [false, true] {
            let end = if line_only {
                line_len(&text)
            } else {
                text.len()
            };
            let tokens = tokenize(&text[..end]);
            let got: Vec<(&str, usize)> = tokens.iter().map(|t| (t.text, t.column)).collect();
            assert_eq!(
                (got, end),
                tokens_one_byte_at_a_time(&text, line_only),
                "{text:?} line_only={line_only}"
            );
        }
    }
}

mod plain_lines {
    use super::super::plain::plain_rule;
    use super::*;
    use proptest::prelude::*;

    /// Tokens of rule lines, plain and not: commands, options, values good and bad.
    fn word() -> impl Strategy<Value = &'static str> {
        prop_oneof![
            8 => prop_oneof![
                Just("-A"), Just("-a"), Just("-E"), Just("-e"), Just("-D"), Just("-d"),
                Just("-Z"), Just("-C"), Just("-L"), Just("-S"), Just("-R"), Just("-h"),
                Just("-v"), Just("-l"), Just("--set"), Just("--stop-daemon"),
            ],
            20 => prop_oneof![
                Just("-t"), Just("-u"), Just("-f"), Just("-s"), Just("-p"), Just("-M"),
                Just("-r"), Just("-m"), Just("-g"), Just("-i"), Just("-w"), Just("-x"),
                Just("-y"), Just("-6"), Just("-o"), Just("-b"), Just("-n"), Just("-c"),
                Just("-X"), Just("-q"), Just("-At"), Just("-w3"), Just("--pe"), Just("--tun-type"),
                Just("--weight=2"), Just("--"), Just("-"), Just("-é"),
            ],
            30 => prop_oneof![
                Just("10.0.0.1:80"), Just("10.0.0.1"), Just("192.168.8.14:8080"), Just("10.0.0.1:0"),
                Just("010.0.0.1:80"), Just("10.1:80"), Just("[2001:db8::1]:80"), Just("2001:db8::1"),
                Just("[10.0.0.1]:80"), Just("10.0.0.1:http"), Just("10.0.0.1:65536"), Just("80"),
                Just("rr"), Just("wrr"), Just("sh"), Just("mh"), Just("fo2"), Just("wlc"),
                Just("sh-port"), Just("flag-3,sh-fallback"), Just("sip"), Just("gue"),
                Just("300"), Just("0"), Just("1"), Just("-5"), Just("+7"), Just("2147483648"),
                Just("255.255.255.0"), Just("64"), Just("master"), Just("ipvsadm"), Just("#"),
                Just("x\u{7f}"), Just("é"),
            ],
        ]
    }

    fn blank() -> impl Strategy<Value = &'static str> {
        prop_oneof![20 => Just(" "), 1 => Just("  "), 1 => Just("\t"), 1 => Just(" \r")]
    }

    fn line_end() -> impl Strategy<Value = &'static str> {
        prop_oneof![
            Just("\n"),
            Just(""),
            Just("\r\n"),
            Just(" \n"),
            Just("\n-A -t 10.0.0.2:80\n"),
            Just("\né ü\n")
        ]
    }

    /// Where the plain reader gives a rule, the general one gives the same rule and line;
    /// the last service address it keeps from an earlier line changes nothing.
    fn check(text: &str) -> Result<bool, TestCaseError> {
        let fresh = plain_rule(text, &NumericOnly, &mut PlainAddr::default());
        for earlier in [
            "-A -t 10.0.0.1:80\n",
            "-A -t 10.0.0.1\n",
            "-A -u 192.168.8.14:8080\n",
            "-A -t 10.0.0.1:0 -p\n",
            "-A -t 10.0.0.1:65536\n",
            "-A -t 010.0.0.1:80\n",
        ] {
            let mut last = PlainAddr::default();
            plain_rule(earlier, &NumericOnly, &mut last);
            prop_assert_eq!(&plain_rule(text, &NumericOnly, &mut last), &fresh);
            // Again, with what the line itself left.
            prop_assert_eq!(&plain_rule(text, &NumericOnly, &mut last), &fresh);
        }
        let Some((command, len)) = fresh else {
            return Ok(false);
        };
        let end = line_len(text);
        prop_assert_eq!(len, end);
        let want = Rule {
            line: 1,
            column: 1,
            command,
        };
        prop_assert_eq!(read_line(1, &text[..end], &NumericOnly), Ok(Some(want)));
        Ok(true)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn plain_lines_read_as_the_general_reader_reads_them(
            lead in prop_oneof![4 => Just(""), 1 => Just(" "), 1 => Just("ipvsadm ")],
            words in proptest::collection::vec((word(), blank()), 1..10),
            end in line_end(),
        ) {
            let mut text = lead.to_owned();
            for (i, (w, b)) in words.iter().enumerate() {
                if i > 0 {
                    text.push_str(b);
                }
                text.push_str(w);
            }
            text.push_str(end);
            check(&text)?;
        }

        /// The lines rule files are made of, most of them plain, with a word changed now and
        /// then.
        #[test]
        fn saved_lines_read_as_the_general_reader_reads_them(
            service in prop_oneof![
                Just("-t 10.0.0.1:80"), Just("-u 10.0.0.1:53"), Just("-f 7"), Just("-f 7 -6"),
                Just("-t 10.0.0.1:0"), Just("-u [2001:db8::1]:53"),
            ],
            add_service in any::<bool>(),
            options in proptest::collection::vec(prop_oneof![
                Just("-s rr"), Just("-s sh -b sh-port"), Just("-p 300"), Just("-p"),
                Just("-M 255.255.255.0"), Just("-M 64"), Just("-o"), Just("--pe sip"),
                Just("-r 192.168.8.14:8080"), Just("-r 192.168.8.14"), Just("-m"), Just("-g"),
                Just("-i"), Just("-w 3"), Just("-x 10"), Just("-y 5"), Just("-w 0"),
                Just("-r [2001:db8::2]:80"), Just("-s"), Just("-b flag-3"),
            ], 0..6),
            replace in proptest::option::of((0usize..8, word())),
        ) {
            let mut words: Vec<&str> = vec![if add_service { "-A" } else { "-a" }, service];
            words.extend(options);
            if let Some((i, w)) = replace {
                let i = i % words.len();
                words[i] = w;
            }
            let text = words.join(" ") + "\n";
            check(&text)?;
        }
    }

    /// Every saved line with one word inserted, replaced or dropped, for words that popt or the
    /// tokenizer treat specially.
    #[test]
    fn saved_lines_with_a_word_changed_read_as_the_general_reader_reads_them() {
        let lines = [
            "-A -t 10.0.0.1:80 -s wrr -p 300",
            "-A -u 10.0.0.1:53 -s sh -b sh-port -o -p -M 255.255.255.0 --pe sip",
            "-A -f 7 -6 -s rr -p 60 -M 64",
            "-E -t 10.0.0.1:0 -s mh -p",
            "-D -t 10.0.0.1:80",
            "-a -t 10.0.0.1:80 -r 192.168.0.1:8080 -m -w 1",
            "-a -u [2001:db8::1]:53 -r [2001:db8::2]:53 -g -w 0 -x 10 -y 5",
            "-e -f 7 -r 10.0.0.9 -i -w 3",
            "-d -t 10.0.0.1:80 -r 192.168.0.1:8080",
            "-Z -t 10.0.0.1:80",
            "-C",
        ];
        let words = [
            "ipvsadm",
            "-",
            "--",
            "-p",
            "-s",
            "-6",
            "-m",
            "-w",
            "-At",
            "-w3",
            "--ops",
            "300",
            "x",
            "-5",
            "rr",
            "10.0.0.2:80",
            "#",
            "é",
            "\t",
            "\r",
            "",
        ];
        let mut plain = 0;
        for line in lines {
            let base: Vec<&str> = line.split(' ').collect();
            let mut variants = vec![base.clone()];
            for i in 0..=base.len() {
                for w in words {
                    let mut v = base.clone();
                    v.insert(i, w);
                    variants.push(v);
                    if i < base.len() {
                        let mut v = base.clone();
                        v[i] = w;
                        variants.push(v);
                    }
                }
                if i < base.len() {
                    let mut v = base.clone();
                    v.remove(i);
                    variants.push(v);
                }
            }
            for v in variants {
                for end in ["\n", "", "\r\n"] {
                    let text = v.join(" ") + end;
                    if check(&text).unwrap_or_else(|e| panic!("{text:?}: {e}")) {
                        plain += 1;
                    }
                }
            }
        }
        assert!(plain > 150, "only {plain} plain lines");
    }

    #[test]
    fn the_plain_reader_takes_what_ipvsadm_saves() {
        let text = "-A -t 10.0.0.1:80 -s wrr -p 300\n-a -t 10.0.0.1:80 -r 192.168.0.1:8080 -m -w 1\n\
                    -A -u 10.0.0.1:53 -s rr\n-a -u 10.0.0.1:53 -r 192.168.0.1:53 -g -w 0\n\
                    -A -f 7 -s sh -b sh-port -p -M 255.255.255.0\n-a -f 7 -r 10.0.0.9:0 -i -w 1 -x 5 -y 2\n";
        let mut rest = text;
        while !rest.is_empty() {
            let (_, len) = plain_rule(rest, &NumericOnly, &mut PlainAddr::default())
                .unwrap_or_else(|| panic!("{rest}"));
            assert!(check(rest).expect("the readers agree"));
            rest = &rest[len + 1..];
        }
        for not_plain in [
            "-A  -t 10.0.0.1:80\n",
            "-A -t 10.0.0.1:80 \n",
            "-A\t-t 10.0.0.1:80\n",
            "-A -t 10.0.0.1:80\r\n",
            "-At 10.0.0.1:80\n",
            "-A --tcp-service 10.0.0.1:80\n",
            "ipvsadm -A -t 10.0.0.1:80\n",
            "-A -t 10.0.0.1:80 -s\n",
            "-A -t 10.0.0.1:80 x\n",
            "-A -t 10.0.0.1:80 -w 1\n",
            "-L -n\n",
            "# -A -t 10.0.0.1:80\n",
            "\n",
        ] {
            assert!(
                plain_rule(not_plain, &NumericOnly, &mut PlainAddr::default()).is_none(),
                "{not_plain:?}"
            );
        }
    }
}

/// Reading stops at the first error: the tokens after it are never taken.
#[test]
fn reading_stops_at_the_first_error() {
    let taken = std::cell::Cell::new(0);
    let line = format!("-A -A {}", "x ".repeat(100_000));
    let counted = tokens(&line).inspect(|_| taken.set(taken.get() + 1));
    let e = parse_args_from(counted, &NumericOnly).unwrap_err();
    assert_eq!(e.column, 4);
    assert_eq!(e.kind.to_string(), "invalid option `-A'");
    assert_eq!(taken.get(), 2);

    // A line with no option at all is read to its end, keeping only what messages need.
    let line = "x ".repeat(100_000);
    let mut scanner = options::Scanner::new(tokens(&line));
    assert!(scanner.next_opt().is_none());
    assert_eq!(scanner.positional().len(), options::POSITIONAL_KEPT);
    assert_eq!(
        parse(&line).unwrap_err().to_string(),
        "1:1: a rule must start with a command (-A -E -D -C -a -e -d -Z --set --start-daemon --stop-daemon), not `x'"
    );
    // The first token is named even when it is `--`.
    assert_eq!(
        parse("-- -A").unwrap_err().to_string(),
        "1:1: a rule must start with a command (-A -E -D -C -a -e -d -Z --set --start-daemon --stop-daemon), not `--'"
    );
}

/// Messages echo at most a few dozen characters of a token, with its length, and escape
/// control characters; short printable tokens are echoed as ipvsadm echoes them.
#[test]
fn messages_cap_and_escape_what_they_echo() {
    let long = "9".repeat(10 << 20);
    let head = "9".repeat(40);
    let cases = [
        (
            format!("-A -f {long}"),
            format!("1:7: invalid fwmark value `{head}...[10485760 bytes]' specified"),
        ),
        (
            format!("-A -t 10.0.0.1:80 --{long}"),
            format!(
                "1:19: --{}...[10485762 bytes]: unknown option",
                "9".repeat(38)
            ),
        ),
        (
            format!("{long} -Sn"),
            format!("1:1: unexpected argument {head}...[10485760 bytes]"),
        ),
        (
            format!("-t{long}"),
            format!(
                "1:1: a rule must start with a command (-A -E -D -C -a -e -d -Z --set --start-daemon --stop-daemon), not `-t{}...[10485762 bytes]'",
                "9".repeat(38)
            ),
        ),
        (
            format!("--set 1 2 3 {long}"),
            format!("1:13: unexpected argument {head}...[10485760 bytes]"),
        ),
        (
            "-A -f 1\u{1b}[31m".to_owned(),
            "1:7: invalid fwmark value `1\\u{1b}[31m' specified".to_owned(),
        ),
        (
            "-A -t 10.0.0.1:80 -\u{7}".to_owned(),
            "1:19: -\\u{7}: unknown option".to_owned(),
        ),
        (
            "-A -t 10.0.0.1:80 -s wrr -b sh-port\u{0}".to_owned(),
            "1:29: invalid scheduler flag `sh-port\\u{0}'".to_owned(),
        ),
        (
            "-A -f 7 -s rr\u{1}".to_owned(),
            "1:1: Scheduler or persistence engine not found (no scheduler module ip_vs_rr\\u{1})"
                .to_owned(),
        ),
    ];
    for (line, want) in cases {
        let e = Ruleset::from_rules(&line).unwrap_err().to_string();
        assert_eq!(e, want);
        assert!(e.len() < 300);
    }
    // ipvsadm's own words for a short token, unchanged.
    assert_eq!(message("-A -f x"), "invalid fwmark value `x' specified");
}

/// Bytes go through `decode`: not UTF-8, or a byte order mark, is an error with a place.
#[test]
fn bytes_that_are_not_a_rule_file() {
    let e =
        Ruleset::from_rules_bytes(b"-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r \xff\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "2:22: invalid UTF-8 (byte 0xff): rule files are UTF-8 text"
    );
    let bom = "1:1: the text starts with a UTF-8 byte order mark (EF BB BF), which ipvsadm reads as part of the first word: save the file without it";
    let with_bom = "\u{feff}-A -t 10.0.0.1:80\n";
    assert_eq!(
        Ruleset::from_rules_bytes(with_bom.as_bytes())
            .unwrap_err()
            .to_string(),
        bom
    );
    assert_eq!(Ruleset::from_rules(with_bom).unwrap_err().to_string(), bom);
    assert_eq!(parse(with_bom).unwrap_err().to_string(), bom);
    assert_eq!(
        parse_line(1, with_bom, &NumericOnly)
            .unwrap_err()
            .to_string(),
        bom
    );
    // Not on a later line: there it is a character of the line, shown escaped.
    assert_eq!(
        parse_line(2, "\u{feff}-A", &NumericOnly)
            .unwrap_err()
            .to_string(),
        "2:1: a rule must start with a command (-A -E -D -C -a -e -d -Z --set --start-daemon --stop-daemon), not `\\u{feff}-A'"
    );
    let ok = Ruleset::from_rules_bytes(b"-A -t 10.0.0.1:80 -s rr\n").unwrap();
    assert_eq!(ok.services.len(), 1);
}
