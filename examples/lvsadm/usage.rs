//! The help and version texts.
//!
//! The usage is ipvsadm 1.31's, word for word (scripts and people know it), followed by what
//! lvsadm adds: `--netns`, `--json`, its own commands, and how to save and restore.

/// `-v`: lvsadm's own version, and the ipvsadm it answers like.
pub fn version() -> String {
    format!(
        "lvsadm v{} (compatible with ipvsadm v1.31 2019/12/24, IPVS v1.2.1)\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// ipvsadm's "Try ..." line, printed before exiting 255 when the command line has no command.
pub fn tryhelp(program: &str) -> String {
    format!("Try `{program} -h' or '{program} --help' for more information.\n")
}

/// `-h`.
pub fn usage(program: &str) -> String {
    let p = program;
    let mut s = version();
    s.push_str(&format!(
        "Usage:\n\
         \x20 {p} -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]\n\
         \x20 {p} -D virtual-service\n\
         \x20 {p} -C\n\
         \x20 {p} -R\n\
         \x20 {p} -S [-n]\n\
         \x20 {p} -a|e virtual-service -r server-address [options]\n\
         \x20 {p} -d virtual-service -r server-address\n\
         \x20 {p} -L|l [virtual-service] [options]\n\
         \x20 {p} -Z [virtual-service]\n\
         \x20 {p} --set tcp tcpfin udp\n\
         \x20 {p} --start-daemon {{master|backup}} [daemon-options]\n\
         \x20 {p} --stop-daemon {{master|backup}}\n\
         \x20 {p} -h\n\n"
    ));
    s.push_str(
        "Commands:\n\
         Either long or short options are allowed.\n\
         \x20 --add-service     -A        add virtual service with options\n\
         \x20 --edit-service    -E        edit virtual service with options\n\
         \x20 --delete-service  -D        delete virtual service\n\
         \x20 --clear           -C        clear the whole table\n\
         \x20 --restore         -R        restore rules from stdin\n\
         \x20 --save            -S        save rules to stdout\n\
         \x20 --add-server      -a        add real server with options\n\
         \x20 --edit-server     -e        edit real server with options\n\
         \x20 --delete-server   -d        delete real server\n\
         \x20 --list            -L|-l     list the table\n\
         \x20 --zero            -Z        zero counters in a service or all services\n\
         \x20 --set tcp tcpfin udp        set connection timeout values\n\
         \x20 --start-daemon              start connection sync daemon\n\
         \x20 --stop-daemon               stop connection sync daemon\n\
         \x20 --help            -h        display this help message\n\n\
         virtual-service:\n\
         \x20 --tcp-service|-t  service-address   service-address is host[:port]\n\
         \x20 --udp-service|-u  service-address   service-address is host[:port]\n\
         \x20 --sctp-service    service-address   service-address is host[:port]\n\
         \x20 --fwmark-service|-f fwmark          fwmark is an integer greater than zero\n\
         \n\
         Options:\n\
         \x20 --ipv6         -6                   fwmark entry uses IPv6\n\
         \x20 --scheduler    -s scheduler         one of rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh,\n\
         \x20                                     the default scheduler is wlc.\n\
         \x20 --pe            engine              alternate persistence engine may be sip,\n\
         \x20                                     not set by default.\n\
         \x20 --persistent   -p [timeout]         persistent service\n\
         \x20 --netmask      -M netmask           persistent granularity mask\n\
         \x20 --real-server  -r server-address    server-address is host (and port)\n\
         \x20 --gatewaying   -g                   gatewaying (direct routing) (default)\n\
         \x20 --ipip         -i                   ipip encapsulation (tunneling)\n\
         \x20 --masquerading -m                   masquerading (NAT)\n\
         \x20 --tun-type      type                one of ipip|gue|gre,\n\
         \x20                                     the default tunnel type is ipip.\n\
         \x20 --tun-port      port                tunnel destination port\n\
         \x20 --tun-nocsum                        tunnel encapsulation without checksum\n\
         \x20 --tun-csum                          tunnel encapsulation with checksum\n\
         \x20 --tun-remcsum                       tunnel encapsulation with remote checksum\n\
         \x20 --weight       -w weight            capacity of real server\n\
         \x20 --u-threshold  -x uthreshold        upper threshold of connections\n\
         \x20 --l-threshold  -y lthreshold        lower threshold of connections\n\
         \x20 --connection   -c                   output of current IPVS connections\n\
         \x20 --timeout                           output of timeout (tcp tcpfin udp)\n\
         \x20 --daemon                            output of daemon information\n\
         \x20 --stats                             output of statistics information\n\
         \x20 --rate                              output of rate information\n\
         \x20 --exact                             expand numbers (display exact values)\n\
         \x20 --thresholds                        output of thresholds information\n\
         \x20 --persistent-conn                   output of persistent connection info\n\
         \x20 --tun-info                          output of tunnel information\n\
         \x20 --nosort                            disable sorting output of service/server entries\n\
         \x20 --sort                              does nothing, for backwards compatibility\n\
         \x20 --ops          -o                   one-packet scheduling\n\
         \x20 --numeric      -n                   numeric output of addresses and ports\n\
         \x20 --sched-flags  -b flags             scheduler flags (comma-separated)\n\
         Daemon Options:\n\
         \x20 --syncid sid                        syncid for connection sync (default=255)\n\
         \x20 --sync-maxlen length                Max sync message length (default=1472)\n\
         \x20 --mcast-interface interface         multicast interface for connection sync\n\
         \x20 --mcast-group address               IPv4/IPv6 group (default=224.0.0.81)\n\
         \x20 --mcast-port port                   UDP port (default=8848)\n\
         \x20 --mcast-ttl ttl                     Multicast TTL (default=1)\n",
    );
    s.push_str(&format!(
        "\n\
         lvsadm options (anywhere on the command line):\n\
         \x20 --netns NAME                        use the IPVS table of network namespace /run/netns/NAME\n\
         \x20 --json                              print -L listings as JSON (the lvs model and kernel state),\n\
         \x20                                     or, before fmt, the ruleset as JSON (fmt --to json)\n\
         \n\
         lvsadm commands (each with --help):\n\
         \x20 {p} fmt [--to rules|json|toml] [FILE|-]\n\
         \x20                                     check a ruleset offline, print it as -Sn would, or convert it\n\
         \x20 {p} apply [--dry-run] FILE      bring the table to FILE with the fewest changes\n\
         \x20 {p} diff FILE                   show what apply would change\n\
         \x20 {p} completions SHELL           print a shell completion script\n\
         \x20 {p} man [COMMAND]               print the manual page\n\
         \n\
         Saving and restoring (what ipvsadm-save and ipvsadm-restore do):\n\
         \x20 {p} -Sn > FILE                  save (like ipvsadm-save -n; non-zero -x/-y are kept)\n\
         \x20 {p} -C && {p} -R < FILE      restore: flush, then replay FILE line by line\n\
         \x20                                     (like ipvsadm-restore; not atomic, drops every connection)\n\
         \x20 {p} apply FILE                  the better restore: change only what differs from FILE,\n\
         \x20                                     keeping unchanged services and their connections\n"
    ));
    s
}
