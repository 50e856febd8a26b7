//! ipvsadm's command line, emulated byte for byte: what the `lvsadm` example (a drop-in
//! `ipvsadm`) and the C API's text helpers need, and nothing a program driving IPVS needs.
//!
//! - [`parse_args_from`] reads one command line into an [`Invocation`]: a change ([`Command`]), a
//!   listing (`-L`, with its [`Format`] and [`ListWhat`]), `-S`, `-R`, `-h` or `-v`, refusing
//!   what ipvsadm refuses with ipvsadm's message ([`ArgError`]).
//! - [`tokens`] splits a line as `ipvsadm -R` does.
//! - [`list`] prints the table as `ipvsadm -L` does (a [`list::Table`] of the model's
//!   [`VirtualServiceEntry`](crate::VirtualServiceEntry)s).
//! - [`cmp_services`] and [`cmp_dests`] are libipvs's sort orders, as the C API exports them.
//!
//! Rule files (what `ipvsadm -S` writes and `ipvsadm -R` reads) are [`crate::rules`]: a rule
//! file's line is an ipvsadm command line, read with the same grammar.
//!
//! ```
//! use lvs_core::ipvsadm::{Invocation, ListWhat, parse_args_from, tokens};
//! use lvs_core::rules::NumericOnly;
//!
//! let invocation = parse_args_from(tokens("-L -n --timeout"), &NumericOnly)?;
//! assert!(matches!(invocation, Invocation::List { what: ListWhat::Timeouts, .. }));
//! # Ok::<(), lvs_core::ipvsadm::ArgError>(())
//! ```
//!
//! [`Command`]: crate::Command

pub(crate) mod addr;
pub mod list;
pub(crate) mod options;
pub(crate) mod parse;
pub(crate) mod sort;
pub(crate) mod split;

pub use options::Token;
pub use parse::{ArgError, Format, Invocation, ListWhat, parse_args_from};
pub use sort::{cmp_dests, cmp_services};

/// Splits a line into tokens as ipvsadm's `config_stream_read` does for `ipvsadm -R`: on
/// spaces, tabs, carriage returns and line feeds, dropping every `ipvsadm` token, with each
/// token's 1-based column (in characters). The tokens are found one at a time: a reader that
/// stops at an error never looks at the rest of the line.
pub fn tokens(line: &str) -> impl Iterator<Item = Token<'_>> + Clone {
    split::tokens(line)
}

/// Whether popt finds no option in the tokens, or fails on the first one: ipvsadm then sends
/// the user to `-h` instead of giving [`parse_args_from`]'s message.
pub fn sends_to_help<'a>(tokens: impl IntoIterator<Item = Token<'a>>) -> bool {
    !matches!(options::Scanner::new(tokens).next_opt(), Some(Ok(_)))
}
