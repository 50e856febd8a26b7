//! lvsadm's own subcommands (`fmt`, `apply`, `diff`, `exporter`, `completions`, `man`), read
//! with clap.
//!
//! A command line comes here when its first word, after lvsadm's own options (`--json`,
//! `--netns NAME`), is one of [`SUBCOMMANDS`]; every other command line is ipvsadm's, read by
//! `compat.rs` exactly as ipvsadm 1.31 reads it (its `-h` included). Options written before the
//! subcommand are moved after it: `lvsadm --json fmt FILE` is `lvsadm fmt --json FILE`, and a
//! subcommand that has no such option refuses it as clap refuses any unknown option (status 2).
//!
//! The shell completions and the manual page are generated from these definitions
//! (`clap_complete`, `clap_mangen`), so they always say what this file accepts.

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::process::ExitCode;

/// The words that start one of lvsadm's own subcommands rather than an ipvsadm command line.
pub const SUBCOMMANDS: [&str; 6] = ["fmt", "apply", "diff", "exporter", "completions", "man"];

/// lvsadm's own command line (ipvsadm's is read by `compat.rs`).
#[derive(Debug, Parser)]
#[command(
    name = "lvsadm",
    version,
    about = "ipvsadm 1.31's command line on the lvs library, plus declarative apply and offline rule files",
    long_about = "lvsadm takes every ipvsadm 1.31 command line (ipvsadm's -h lists them) and answers \
                  it with the same bytes and exit status, working on the IPVS table through the lvs \
                  library. lvsadm adds --netns NAME (the table of /run/netns/NAME) and --json (-L \
                  listings as JSON) anywhere on such a command line, and the subcommands below.",
    disable_help_subcommand = true,
    // `lvsadm -v`/`--version` are ipvsadm's (compat.rs); clap's -V would be refused there.
    disable_version_flag = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a rule file offline and print it normalised, or convert it between rules, JSON and TOML
    #[command(
        long_about = "Check a ruleset offline and print it normalised, or convert it.\n\n\
        Rules are printed as `ipvsadm -Sn` would print them after `ipvsadm -C; ipvsadm -R < FILE` \
        on a fresh kernel, followed by the `--set` and `--start-daemon` lines the file sets (so \
        that nothing is lost), with non-zero connection thresholds written as -x/-y (ipvsadm drops \
        them); --ipvsadm prints exactly what ipvsadm -Sn would. JSON and TOML are lvs's ruleset \
        documents, as `apply` reads them. A ruleset converted to any format and back prints the \
        same. A file that breaks a rule is reported as FILE:LINE:COL: why, with status 2 and \
        nothing on standard output."
    )]
    Fmt(FmtArgs),
    /// Bring the kernel's table to FILE with the fewest changes
    Apply(ApplyArgs),
    /// Show what `apply` would change: status 0 when nothing, 1 when something would, 2 on error
    Diff(DiffArgs),
    /// Serve the table's counters, rates, weights and connection counts to Prometheus
    #[command(
        long_about = "Serve the IPVS table's metrics in the Prometheus text format at \
        http://ADDR/metrics: every virtual service's and real server's 64-bit counters and rates, \
        the real servers' weights and connection counts, ipvs_up and the scrape's duration, from \
        one read of the table per scrape (the metrics and their labels: the lvs crate's \
        `exporter` module). Runs until killed; a scrape that cannot read the table answers \
        ipvs_up 0 and says why on standard error."
    )]
    Exporter(ExporterArgs),
    /// Print a completion script for lvsadm's subcommands (bash, zsh, fish, elvish, powershell)
    #[command(
        long_about = "Print a completion script for lvsadm's own subcommands and their \
        options.\n\nbash: lvsadm completions bash > /etc/bash_completion.d/lvsadm\n\
        zsh: lvsadm completions zsh > \"${fpath[1]}/_lvsadm\"\n\
        fish: lvsadm completions fish > ~/.config/fish/completions/lvsadm.fish"
    )]
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) of lvsadm, or of one of its subcommands
    #[command(
        long_about = "Print the manual page (roff) of lvsadm, or of one of its \
        subcommands (lvsadm-fmt(1) ...).\n\n\
        lvsadm man | man -l -\n\
        lvsadm man > /usr/local/share/man/man1/lvsadm.1"
    )]
    Man {
        /// The subcommand whose page to print (default: lvsadm's own)
        #[arg(value_parser = SUBCOMMANDS)]
        subcommand: Option<String>,
    },
}

/// A ruleset's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// ipvsadm rules, as ipvsadm-save -n writes them
    Rules,
    /// lvs's ruleset as a JSON document
    Json,
    /// lvs's ruleset as a TOML document
    Toml,
}

#[derive(Debug, Args)]
struct FmtArgs {
    /// The format to print [default: rules]
    #[arg(long, value_enum, value_name = "FORMAT")]
    to: Option<Format>,
    /// FILE's format [default: from its extension (.rules, .json, .toml), else from its content]
    #[arg(long, value_enum, value_name = "FORMAT")]
    from: Option<Format>,
    /// Print JSON (as --to json)
    #[arg(long)]
    json: bool,
    /// Print rules exactly as ipvsadm -Sn would: no thresholds, no --set, no daemons
    #[arg(long)]
    ipvsadm: bool,
    /// The ruleset to read, or - for standard input
    #[arg(value_name = "FILE", default_value = "-")]
    file: String,
}

#[derive(Debug, Args)]
struct ExporterArgs {
    /// The address and port to listen on, e.g. 127.0.0.1:9588 or [::1]:9588
    // The text is clap's help, printed as it is: `[::1]` is an address, not a link.
    #[allow(rustdoc::broken_intra_doc_links)]
    #[arg(long, value_name = "ADDR:PORT")]
    listen: std::net::SocketAddr,
    /// Read the IPVS table of the network namespace /run/netns/NAME
    #[arg(long, value_name = "NAME")]
    netns: Option<String>,
}

/// What `apply` and `diff` share.
#[derive(Debug, Args)]
struct TargetArgs {
    /// Leave the services FILE does not list alone (by default they are deleted)
    #[arg(long)]
    keep_unlisted: bool,
    /// Drain real servers that go (weight 0) and delete them once idle, on a later apply
    #[arg(long)]
    drain: bool,
    /// Work on the IPVS table of the network namespace /run/netns/NAME
    #[arg(long, value_name = "NAME")]
    netns: Option<String>,
    /// FILE's format [default: from its extension (.rules, .json, .toml), else from its content]
    #[arg(long, visible_alias = "from", value_enum, value_name = "FORMAT")]
    format: Option<Format>,
    /// The desired ruleset (rules, JSON or TOML), or - for standard input
    #[arg(value_name = "FILE")]
    file: String,
    /// Refused with a message saying where --json goes (`lvsadm --json apply` would otherwise
    /// read as if it printed JSON)
    #[arg(long, hide = true)]
    json: bool,
}

#[derive(Debug, Args)]
struct ApplyArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Print the plan and send nothing
    #[arg(long)]
    dry_run: bool,
    /// Keep the kernel at FILE: apply it again whenever it changes, until SIGTERM or SIGINT
    #[arg(long, conflicts_with = "dry_run")]
    watch: bool,
    /// With --watch: read the whole table again every SECS seconds and repair it
    #[arg(long, value_name = "SECS", requires = "watch", value_parser = clap::value_parser!(u64).range(1..))]
    resync: Option<u64>,
}

#[derive(Debug, Args)]
struct DiffArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Print the changes as ipvsadm rules (what `lvsadm -R` would replay)
    #[arg(long)]
    rules: bool,
}

/// Whether `args` (without the program name) is one of lvsadm's own subcommands: its first word
/// after lvsadm's own options names one.
pub fn is_own(args: &[String]) -> bool {
    subcommand_at(args).is_some()
}

/// Where the subcommand's name is in `args`: the first word after lvsadm's own options
/// (`--json`, `--netns NAME`, `--netns=NAME`), when it names one.
fn subcommand_at(args: &[String]) -> Option<usize> {
    let mut i = 0;
    while let Some(a) = args.get(i) {
        match a.as_str() {
            "--json" => i += 1,
            "--netns" => i += 2,
            a if a.starts_with("--netns=") => i += 1,
            a => return SUBCOMMANDS.contains(&a).then_some(i),
        }
    }
    None
}

/// `args` with lvsadm's own options moved after the subcommand's name.
fn reordered(mut args: Vec<String>) -> Vec<String> {
    let Some(at) = subcommand_at(&args) else {
        return args;
    };
    let mut rest = args.split_off(at).into_iter();
    let mut out: Vec<String> = rest.next().into_iter().collect();
    out.extend(args);
    out.extend(rest);
    out
}

/// Runs one of lvsadm's own subcommands (`args` without the program name).
pub fn run(args: Vec<String>) -> ExitCode {
    let argv = std::iter::once("lvsadm".to_owned()).chain(reordered(args));
    // Usage errors exit 2 and --help 0, as clap does.
    let cli = Cli::parse_from(argv);
    if let Command::Apply(ApplyArgs { target, .. }) | Command::Diff(DiffArgs { target, .. }) =
        &cli.command
    {
        if target.json {
            let name = if matches!(cli.command, Command::Apply(_)) {
                "apply"
            } else {
                "diff"
            };
            usage_error(
                name,
                "--json is for -L listings and `lvsadm fmt`; apply and diff print text \
                 (diff --rules prints ipvsadm rules)",
            );
        }
    }
    match cli.command {
        Command::Fmt(a) => {
            let to = match (a.json, a.to) {
                (true, Some(to)) if to != Format::Json => usage_error(
                    "fmt",
                    &format!("--json is --to json, not --to {}", to.name()),
                ),
                (true, _) => Format::Json,
                (false, to) => to.unwrap_or(Format::Rules),
            };
            if a.ipvsadm && to != Format::Rules {
                usage_error("fmt", "--ipvsadm prints rules, not JSON or TOML");
            }
            crate::fmt::run(&a.file, a.from, to, a.ipvsadm)
        }
        Command::Apply(a) => {
            if a.watch && a.target.file == "-" {
                usage_error("apply", "--watch needs a FILE, not standard input");
            }
            let request = crate::apply::Request {
                options: a.target.options(a.dry_run),
                netns: a.target.netns,
                format: a.target.format,
                path: a.target.file,
                rules_output: false,
                watch: a.watch,
                resync: a.resync.map(std::time::Duration::from_secs),
            };
            crate::apply::run(request, false)
        }
        Command::Diff(a) => {
            let request = crate::apply::Request {
                options: a.target.options(false),
                netns: a.target.netns,
                format: a.target.format,
                path: a.target.file,
                rules_output: a.rules,
                watch: false,
                resync: None,
            };
            crate::apply::run(request, true)
        }
        Command::Exporter(a) => crate::exporter::run(a.listen, a.netns.as_deref()),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "lvsadm", &mut out);
            write_out(&out)
        }
        Command::Man { subcommand } => {
            let mut command = Cli::command();
            command.build();
            let top = subcommand.is_none();
            let page = match subcommand {
                None => command,
                Some(name) => match command.find_subcommand(&name) {
                    // Named lvsadm-NAME, as git and cargo name their subcommands' pages.
                    Some(sub) => sub.clone().name(format!("lvsadm-{name}")),
                    None => usage_error("man", &format!("no subcommand `{name}'")),
                },
            };
            match man_page(page, top) {
                Ok(text) => write_out(text.as_bytes()),
                Err(e) => {
                    eprintln!("lvsadm man: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}

impl TargetArgs {
    fn options(&self, dry_run: bool) -> lvs::netlink::ApplyOptions {
        lvs::netlink::ApplyOptions {
            keep_unlisted: self.keep_unlisted,
            drain: self.drain,
            dry_run,
        }
    }
}

impl Format {
    /// The format's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Rules => "rules",
            Format::Json => "json",
            Format::Toml => "toml",
        }
    }
}

/// Refuses the command line as clap refuses one (the message, the subcommand's usage, status 2).
fn usage_error(subcommand: &str, message: &str) -> ! {
    let mut command = Cli::command();
    command.build();
    let sub = command
        .find_subcommand_mut(subcommand)
        .map_or_else(Cli::command, |s| s.clone());
    sub.bin_name(format!("lvsadm {subcommand}"))
        .error(clap::error::ErrorKind::ArgumentConflict, message)
        .exit()
}

/// Writes bytes to standard output; a closed pipe is not an error worth reporting.
fn write_out(bytes: &[u8]) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(bytes);
    let _ = stdout.flush();
    ExitCode::SUCCESS
}

/// The manual page of `command`, generated by clap_mangen; lvsadm's own (`top`) also carries
/// ipvsadm's command lines, as `lvsadm -h` prints them, before its VERSION section.
fn man_page(command: clap::Command, top: bool) -> std::io::Result<String> {
    use clap_mangen::roff::{Roff, roman};
    let mut page = Vec::new();
    clap_mangen::Man::new(command).render(&mut page)?;
    let mut page = String::from_utf8_lossy(&page).into_owned();
    if top {
        let mut ipvsadm = Roff::new();
        ipvsadm.control("SH", ["IPVSADM COMMAND LINES"]);
        ipvsadm.text([roman(
            "Every command line that does not start with one of the subcommands above is \
             ipvsadm's (lvsadm -h):",
        )]);
        ipvsadm.control("PP", []).control("nf", []);
        for line in crate::usage::usage("lvsadm").lines() {
            ipvsadm.text([roman(line)]);
        }
        ipvsadm.control("fi", []);
        let at = page.find(".SH VERSION").unwrap_or(page.len());
        page.insert_str(at, &ipvsadm.to_roff());
    }
    Ok(page)
}
