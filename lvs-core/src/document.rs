//! Rulesets as JSON and TOML documents, read strictly.
//!
//! A document has the shape of [`Ruleset`]'s serde form. Reading one refuses, with the line,
//! the column and the path of the value at fault:
//!
//! - unknown keys anywhere (`"persistance"`, `"destinatons"`, `"servces"`), and a key given
//!   twice;
//! - a top-level value that is not a table, and a document without `services`: an empty
//!   ruleset is written `{"services": []}` (TOML: `services = []`), never implied, because an
//!   apply of "no services" deletes every service in the kernel;
//! - values of the wrong type;
//!
//! and then checks the ruleset as [`Ruleset::validate`] does (duplicates, values that cannot
//! be written back as a rule, every rule of ipvsadm and the kernel).
//!
//! ```
//! use lvs_core::Ruleset;
//!
//! let e = Ruleset::from_json(r#"{"servces": []}"#).unwrap_err();
//! assert_eq!(
//!     e.to_string(),
//!     "1:10: servces: unknown field `servces`, expected one of `services`, `timeouts`, `daemons`"
//! );
//! let empty = Ruleset::from_toml("services = []\n")?;
//! assert_eq!(empty, Ruleset::new());
//! # Ok::<(), lvs_core::document::DocumentError>(())
//! ```

use crate::Ruleset;
use crate::error::InvalidRuleset;
use serde::de::DeserializeOwned;
use std::fmt;
use thiserror::Error;

/// The document formats a ruleset is read from and written to, besides rule files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DocumentFormat {
    /// JSON.
    Json,
    /// TOML.
    Toml,
}

impl fmt::Display for DocumentFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DocumentFormat::Json => "JSON",
            DocumentFormat::Toml => "TOML",
        })
    }
}

/// Why a document was refused, and where.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// The text is not a document of the expected shape.
    #[error("{line}:{column}: {}{message}", path_prefix(.path))]
    Syntax {
        /// The format being read.
        format: DocumentFormat,
        /// The 1-based line (0 when the format does not say).
        line: usize,
        /// The 1-based column (0 when the format does not say).
        column: usize,
        /// The path of the value at fault (`services[0].service.persistence`), empty for the
        /// whole document.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The document is well formed, but the ruleset breaks a rule.
    #[error(transparent)]
    Invalid(#[from] InvalidRuleset),
    /// The value cannot be written in this format.
    #[error("cannot write {format}: {message}")]
    Unwritable {
        /// The format being written.
        format: DocumentFormat,
        /// Why.
        message: String,
    },
}

fn path_prefix(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    }
}

impl DocumentError {
    /// The 1-based line and column, for a syntax error whose format says.
    ///
    /// ```
    /// let e = lvs_core::Ruleset::from_toml("services = []\nservces = []\n").unwrap_err();
    /// assert_eq!(e.position(), Some((2, 1)));
    /// ```
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            DocumentError::Syntax { line, column, .. } if *line > 0 => Some((*line, *column)),
            _ => None,
        }
    }
}

impl Ruleset {
    /// Reads and checks a ruleset written in JSON (see [the module](crate::document)).
    ///
    /// ```
    /// use lvs_core::Ruleset;
    ///
    /// let text = r#"{"services": [{
    ///     "service": {"key": {"inet": {"protocol": "tcp", "addr": "10.0.0.13:80"}}, "scheduler": "rr"},
    ///     "destinations": [{"addr": "192.168.8.14:80", "forward": "masq", "weight": -1}]
    /// }]}"#;
    /// let e = Ruleset::from_json(text).unwrap_err();
    /// assert_eq!(
    ///     e.to_string(),
    ///     "services[0].destinations[0] (-t 10.0.0.13:80 -r 192.168.8.14:80): \
    ///      illegal weight specified: -1 (weights are 0 or more)"
    /// );
    /// ```
    #[cfg(feature = "json")]
    pub fn from_json(text: &str) -> Result<Ruleset, DocumentError> {
        // serde's derive also reads a struct from an array of its fields in order; a ruleset
        // must say what it is, so the document itself must be an object.
        let start = text.trim_start_matches([' ', '\t', '\r', '\n']);
        if !start.is_empty() && !start.starts_with('{') {
            let (line, column) = line_column(text, text.len() - start.len());
            let message = "a ruleset is a JSON object: {\"services\": [...]}".to_owned();
            return Err(syntax(
                DocumentFormat::Json,
                line,
                column,
                String::new(),
                message,
            ));
        }
        checked(from_json(text)?)
    }

    /// Reads and checks a ruleset written in TOML (see [the module](crate::document)).
    ///
    /// ```
    /// use lvs_core::Ruleset;
    ///
    /// let text = "[[services]]\nservice = { key = { fwmark = { family = \"inet\", mark = 10 } }, scheduler = \"rr\" }\n";
    /// assert_eq!(Ruleset::from_toml(text)?.to_rules(), "-A -f 10 -s rr\n");
    /// # Ok::<(), lvs_core::document::DocumentError>(())
    /// ```
    #[cfg(feature = "toml")]
    pub fn from_toml(text: &str) -> Result<Ruleset, DocumentError> {
        checked(from_toml(text)?)
    }

    /// The ruleset as a JSON document that [`Ruleset::from_json`] reads back.
    ///
    /// ```
    /// use lvs_core::Ruleset;
    /// let r = Ruleset::from_rules("-A -u 10.0.0.13:53 -s rr\n")?;
    /// assert_eq!(Ruleset::from_json(&r.to_json()?)?, r);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "json")]
    pub fn to_json(&self) -> Result<String, DocumentError> {
        let mut text =
            serde_json::to_string_pretty(self).map_err(|e| DocumentError::Unwritable {
                format: DocumentFormat::Json,
                message: e.to_string(),
            })?;
        text.push('\n');
        Ok(text)
    }

    /// The ruleset as a TOML document that [`Ruleset::from_toml`] reads back.
    ///
    /// ```
    /// use lvs_core::Ruleset;
    /// let r = Ruleset::from_rules("-A -u 10.0.0.13:53 -s rr\n--set 900 60 300\n")?;
    /// assert_eq!(Ruleset::from_toml(&r.to_toml()?)?, r);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "toml")]
    pub fn to_toml(&self) -> Result<String, DocumentError> {
        toml::to_string(self).map_err(|e| DocumentError::Unwritable {
            format: DocumentFormat::Toml,
            message: e.to_string(),
        })
    }
}

fn checked(ruleset: Ruleset) -> Result<Ruleset, DocumentError> {
    ruleset.validate()?;
    Ok(ruleset)
}

/// Reads any value of lvs's model from JSON with the same strictness as
/// [`Ruleset::from_json`] (unknown keys, duplicates and wrong types refused, with a path),
/// without [`Ruleset::validate`]'s checks: for the parts of a ruleset (a service, a real
/// server) that bindings read on their own.
///
/// ```
/// use lvs_core::{Destination, document};
/// let e = document::from_json::<Destination>(r#"{"addr": "192.168.8.14:80", "wieght": 3}"#)
///     .unwrap_err();
/// assert!(e.to_string().starts_with("1:36: wieght: unknown field `wieght`"), "{e}");
/// ```
#[cfg(feature = "json")]
pub fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, DocumentError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| json_error(path_of(e.path()), e.into_inner()))?;
    // Trailing text after the document is an error too.
    de.end().map_err(|e| json_error(String::new(), e))?;
    Ok(value)
}

#[cfg(feature = "json")]
fn json_error(path: String, e: serde_json::Error) -> DocumentError {
    let (line, column) = (e.line(), e.column());
    let mut message = e.to_string();
    // serde_json appends the position, which the error carries apart.
    let suffix = format!(" at line {line} column {column}");
    if message.ends_with(&suffix) {
        message.truncate(message.len() - suffix.len());
    }
    syntax(DocumentFormat::Json, line, column, path, message)
}

/// [`from_json`] for TOML.
///
/// ```
/// use lvs_core::{Timeouts, document};
/// let e = document::from_toml::<Timeouts>("tcp = 900\ntcp_fin = 120\n").unwrap_err();
/// assert_eq!(e.to_string(), "1:1: missing field `udp`");
/// ```
#[cfg(feature = "toml")]
pub fn from_toml<T: DeserializeOwned>(text: &str) -> Result<T, DocumentError> {
    let de = toml::Deserializer::parse(text).map_err(|e| toml_error(text, String::new(), e))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = path_of(e.path());
        toml_error(text, path, e.into_inner())
    })
}

#[cfg(feature = "toml")]
fn toml_error(text: &str, path: String, e: toml::de::Error) -> DocumentError {
    let (line, column) = match e.span() {
        Some(span) => line_column(text, span.start),
        None => (0, 0),
    };
    syntax(
        DocumentFormat::Toml,
        line,
        column,
        path,
        e.message().to_owned(),
    )
}

/// The 1-based line and column (in characters) of byte `offset` of `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    (line, before[line_start..].chars().count() + 1)
}

fn path_of(path: &serde_path_to_error::Path) -> String {
    let shown = path.to_string();
    if shown == "." { String::new() } else { shown }
}

fn syntax(
    format: DocumentFormat,
    line: usize,
    column: usize,
    path: String,
    mut message: String,
) -> DocumentError {
    if path.is_empty() && message == "missing field `services`" {
        message.push_str(" (an empty ruleset says so: {\"services\": []} or services = [])");
    }
    DocumentError::Syntax {
        format,
        line,
        column,
        path,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) const NAT: &str = "-A -t 10.0.0.13:80 -s rr -p 30\n\
        -a -t 10.0.0.13:80 -r 192.168.8.14:80 -m -w 3 -x 10 -y 2\n\
        -a -t 10.0.0.13:80 -r 192.168.8.15:80 -i --tun-type gue --tun-port 6080 --tun-csum\n\
        -A -f 7 -6 -s sh -b sh-port\n\
        --set 900 60 300\n\
        --start-daemon master --mcast-interface lo --syncid 3\n";

    fn err_json(text: &str) -> String {
        Ruleset::from_json(text).unwrap_err().to_string()
    }

    fn err_toml(text: &str) -> String {
        Ruleset::from_toml(text).unwrap_err().to_string()
    }

    #[test]
    fn documents_round_trip() {
        let r = Ruleset::from_rules(NAT).unwrap();
        assert_eq!(Ruleset::from_json(&r.to_json().unwrap()).unwrap(), r);
        assert_eq!(Ruleset::from_toml(&r.to_toml().unwrap()).unwrap(), r);
        assert_eq!(
            Ruleset::new().to_json().unwrap(),
            "{\n  \"services\": []\n}\n"
        );
        assert_eq!(Ruleset::new().to_toml().unwrap(), "services = []\n");
    }

    #[test]
    fn misspelt_keys_are_refused_with_their_path() {
        let r = Ruleset::from_rules(NAT).unwrap();
        let json = r.to_json().unwrap();
        let cases = [
            ("\"services\"", "\"servces\"", "unknown field `servces`"),
            (
                "\"destinations\"",
                "\"destinatons\"",
                "services[0].destinatons: unknown field `destinatons`",
            ),
            (
                "\"persistence\"",
                "\"persistance\"",
                "services[0].service.persistance: unknown field `persistance`",
            ),
            (
                "\"weight\": 3",
                "\"wieght\": 3",
                "services[0].destinations[1].wieght: unknown field `wieght`",
            ),
            (
                "\"syncid\"",
                "\"sync_id\"",
                "daemons[0].sync_id: unknown field `sync_id`",
            ),
            (
                "\"tcp_fin\"",
                "\"tcpfin\"",
                "timeouts.tcpfin: unknown field `tcpfin`",
            ),
        ];
        for (from, to, expected) in cases {
            assert!(json.contains(from), "{from}");
            let e = err_json(&json.replacen(from, to, 1));
            assert!(e.contains(expected), "{e}");
            let toml = r.to_toml().unwrap();
            let key = |s: &str| s.split('"').nth(1).unwrap_or_default().to_owned();
            let toml_bad = toml.replace(&key(from), &key(to));
            let e = err_toml(&toml_bad);
            assert!(e.contains(&format!("unknown field `{}`", key(to))), "{e}");
        }
    }

    #[test]
    fn empty_and_wrong_shapes_are_refused() {
        assert!(err_json("{}").starts_with("1:2: missing field `services` (an empty"));
        assert!(err_toml("").contains("missing field `services`"));
        let not_object = "a ruleset is a JSON object: {\"services\": [...]}";
        assert_eq!(err_json("[]"), format!("1:1: {not_object}"));
        assert_eq!(err_json("\n  [[]]"), format!("2:3: {not_object}"));
        assert!(err_json("").contains("EOF while parsing"));
        assert!(err_json("{\"services\": []} x").contains("trailing characters"));
        assert!(err_json("{\"services\": [], \"services\": []}").contains("duplicate field"));
        assert!(err_toml("services = []\nservices = []\n").contains("duplicate key"));
        let e = err_json("{\"services\": {}}");
        assert_eq!(e, "1:13: services: invalid type: map, expected a sequence");
        assert_eq!(
            Ruleset::from_json("{\"services\": []}").unwrap(),
            Ruleset::new()
        );
    }

    #[test]
    fn duplicates_are_refused() {
        let r = Ruleset::from_rules(NAT).unwrap();
        let mut twice = r.clone();
        twice.services.push(r.services[1].clone());
        assert_eq!(
            err_json(&twice.to_json().unwrap()),
            "services[2] (-f 7 -6): listed twice: the same service as services[1]"
        );
        let mut twice = r.clone();
        let mut d = r.services[0].destinations[0];
        d.weight = 9;
        twice.services[0].destinations.push(d);
        assert!(err_toml(&twice.to_toml().unwrap()).starts_with(
            "services[0].destinations[2] (-t 10.0.0.13:80 -r 192.168.8.15:80): listed twice"
        ));
        let mut twice = r.clone();
        twice.daemons.push(r.daemons[0].clone());
        assert!(err_json(&twice.to_json().unwrap()).starts_with("daemons[1]"));
    }

    #[test]
    fn values_that_cannot_be_rules_are_refused() {
        let r = Ruleset::from_rules("-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.1.1.1 -m\n")
            .unwrap();
        let json = r.to_json().unwrap();
        let bad = [
            (
                "\"protocol\": \"tcp\"",
                "\"protocol\": {\"other\": 99}",
                "protocol 99 cannot be written",
            ),
            (
                "\"scheduler\": \"rr\"",
                "\"scheduler\": \"rr\", \"flags\": \"SCHED_1 | 0x8000\"",
                "flag bits 0x8000",
            ),
            (
                "\"scheduler\": \"rr\"",
                "\"scheduler\": \"r\\u0000r\"",
                "invalid scheduler name `r\\u{0}r'",
            ),
            (
                "\"forward\": \"masq\"",
                "\"forward\": \"bypass\"",
                "forwarding method bypass",
            ),
            (
                "\"forward\": \"masq\"",
                "\"forward\": {\"other\": 6}",
                "forwarding method forward-6",
            ),
            (
                "\"addr\": \"10.1.1.1:80\"",
                "\"addr\": \"224.0.0.1:80\"",
                "224.0.0.1 is not a unicast address",
            ),
            (
                "\"addr\": \"10.0.0.1:80\"",
                "\"addr\": \"10.0.0.1:0\"",
                "Zero port specified for non-persistent service",
            ),
        ];
        for (from, to, expected) in bad {
            assert!(json.contains(from), "{from}");
            let e = err_json(&json.replacen(from, to, 1));
            assert!(e.contains(expected), "{e}");
        }
        // ipvsadm gives -g and -i real servers the service's port (found by fuzzing).
        let routed =
            json.replacen("\"masq\"", "\"route\"", 1)
                .replacen("10.1.1.1:80", "10.1.1.1:8080", 1);
        assert_eq!(
            err_json(&routed),
            "services[0].destinations[0] (-t 10.0.0.1:80 -r 10.1.1.1:8080): real server port \
             8080 cannot be written as a rule: ipvsadm gives -g and -i real servers the \
             service's port (80)"
        );
        let big = Ruleset::from_rules("-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.1.1.1 -x 9\n")
            .unwrap()
            .to_json()
            .unwrap()
            .replace("\"upper_threshold\": 9", "\"upper_threshold\": 2147483648");
        assert_eq!(
            err_json(&big),
            "services[0].destinations[0] (-t 10.0.0.1:80 -r 10.1.1.1:80): illegal u_threshold \
             specified: 2147483648 (0 to 2147483647)"
        );
        let v6 = Ruleset::from_rules(
            "-A -t [2001:db8::1]:80\n-a -t [2001:db8::1]:80 -r [2001:db8::2]:80 -m\n",
        )
        .unwrap()
        .to_json()
        .unwrap();
        assert_eq!(
            err_json(&v6.replace("[2001:db8::2]:80", "[2001:db8::2%2]:80")),
            "services[0].destinations[0] (-t [2001:db8::1]:80 -r [2001:db8::2]:80): \
             [2001:db8::2%2]:80: IPVS addresses have no scope id or flow label (write the \
             address without %)"
        );
        let e = err_json(&v6.replace("[2001:db8::1]:80", "[2001:db8::1%7]:80"));
        assert!(
            e.starts_with("services[0] (-t [2001:db8::1]:80): [2001:db8::1%7]:80: IPVS"),
            "{e}"
        );
        let fwmark = Ruleset::from_rules("-A -f 1 -s rr\n-a -f 1 -r 10.1.1.1:8080 -g\n").unwrap();
        assert_eq!(Ruleset::from_json(&fwmark.to_json().unwrap()), Ok(fwmark));
        let long = "x".repeat(100_000);
        let e = err_json(&json.replacen("\"rr\"", &format!("\"{long}\""), 1));
        assert!(e.len() < 300, "{e}");
        assert!(e.contains("...[100000 bytes]'"), "{e}");
    }

    #[test]
    fn toml_errors_have_positions() {
        let e = Ruleset::from_toml("services = []\n[timeouts]\ntcp = 1\ntcp_fin = 2\nudp = -3\n")
            .unwrap_err();
        assert_eq!(e.position(), Some((5, 7)), "{e}");
        assert!(e.to_string().starts_with("5:7: timeouts.udp: "), "{e}");
    }
}
