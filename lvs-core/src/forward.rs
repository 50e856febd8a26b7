//! Forwarding methods (`-m`, `-g`, `-i`) and tunnel settings (`--tun-*`).

use crate::UnknownName;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How packets reach a real server (`IP_VS_CONN_F_FWD_MASK` of `conn_flags`).
///
/// ```
/// use lvs_core::{Destination, Forward, Tunnel, TunnelChecksum};
///
/// // One real server per method: NAT, direct routing, and a gue tunnel with checksums.
/// let nat = Destination::new("192.168.8.14:80".parse()?).with_forward(Forward::Masquerade);
/// let dr = Destination::new("10.0.0.20:80".parse()?).with_forward(Forward::DirectRoute);
/// let gue = Forward::Tunnel(Tunnel::gue(6080, TunnelChecksum::Csum));
/// let far = Destination::new("198.51.100.7:80".parse()?).with_forward(gue);
/// let switches = [nat, dr, far].map(|d| d.forward.switch());
/// assert_eq!(switches, [Some("-m"), Some("-g"), Some("-i")]);
/// assert_eq!("Masq".parse::<Forward>()?, Forward::Masquerade);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Forward {
    /// NAT (`-m`, `Masq`): the director rewrites the destination and sees the replies.
    /// Written `masq` in JSON and TOML, as everywhere else.
    #[serde(rename = "masq")]
    Masquerade,
    /// The real server is the director itself (`Local`). ipvsadm has no switch for it and
    /// saves it as `-g`. (Debian's 6.1 kernel reports the configured method for local real
    /// servers, not this one.)
    Local,
    /// IP tunnelling (`-i`, `Tunnel`): ipip, gue or gre encapsulation.
    Tunnel(Tunnel),
    /// Direct routing (`-g`, `Route`), ipvsadm's default: only the MAC address is rewritten.
    /// Written `route` in JSON and TOML, as everywhere else.
    #[serde(rename = "route")]
    DirectRoute,
    /// Cache bypass (kernel value 4); ipvsadm cannot set or name it.
    Bypass,
    /// Another value of the 3-bit field from a newer kernel.
    Other(u32),
}

impl Default for Forward {
    /// Direct routing, as ipvsadm defaults.
    fn default() -> Self {
        Forward::DirectRoute
    }
}

impl Forward {
    /// The kernel's `IP_VS_CONN_F_*` value (`MASQ` 0, `LOCALNODE` 1, `TUNNEL` 2, `DROUTE` 3,
    /// `BYPASS` 4).
    ///
    /// ```
    /// assert_eq!(lvs_core::Forward::DirectRoute.kernel_value(), 3);
    /// ```
    pub const fn kernel_value(&self) -> u32 {
        match self {
            Forward::Masquerade => 0,
            Forward::Local => 1,
            Forward::Tunnel(_) => 2,
            Forward::DirectRoute => 3,
            Forward::Bypass => 4,
            Forward::Other(v) => *v,
        }
    }

    /// The method for a kernel value; a tunnel gets `tunnel` as its settings.
    ///
    /// ```
    /// use lvs_core::{Forward, Tunnel};
    /// assert_eq!(Forward::from_kernel(2, Tunnel::IPIP), Forward::Tunnel(Tunnel::IPIP));
    /// assert_eq!(Forward::from_kernel(6, Tunnel::IPIP), Forward::Other(6));
    /// ```
    pub const fn from_kernel(value: u32, tunnel: Tunnel) -> Forward {
        match value & 0x7 {
            0 => Forward::Masquerade,
            1 => Forward::Local,
            2 => Forward::Tunnel(tunnel),
            3 => Forward::DirectRoute,
            4 => Forward::Bypass,
            v => Forward::Other(v),
        }
    }

    /// The name ipvsadm's listing shows (`Masq`, `Local`, `Tunnel`, `Route`); ipvsadm has none
    /// for the others.
    ///
    /// ```
    /// assert_eq!(lvs_core::Forward::Masquerade.listing_name(), Some("Masq"));
    /// ```
    pub const fn listing_name(&self) -> Option<&'static str> {
        match self {
            Forward::Masquerade => Some("Masq"),
            Forward::Local => Some("Local"),
            Forward::Tunnel(_) => Some("Tunnel"),
            Forward::DirectRoute => Some("Route"),
            Forward::Bypass | Forward::Other(_) => None,
        }
    }

    /// The lower-case name lvs uses in JSON, Python and C (`masq`, `local`, `tunnel`, `route`,
    /// `bypass`); none for a value from a newer kernel.
    ///
    /// ```
    /// assert_eq!(lvs_core::Forward::DirectRoute.name(), Some("route"));
    /// ```
    pub const fn name(&self) -> Option<&'static str> {
        match self {
            Forward::Masquerade => Some("masq"),
            Forward::Local => Some("local"),
            Forward::Tunnel(_) => Some("tunnel"),
            Forward::DirectRoute => Some("route"),
            Forward::Bypass => Some("bypass"),
            Forward::Other(_) => None,
        }
    }

    /// The switch ipvsadm saves (`-m`, `-i`, `-g`; `Local` saves as `-g`).
    ///
    /// ```
    /// // ipvsadm has no switch of its own for a local real server.
    /// assert_eq!(lvs_core::Forward::Local.switch(), Some("-g"));
    /// ```
    pub const fn switch(&self) -> Option<&'static str> {
        match self {
            Forward::Masquerade => Some("-m"),
            Forward::Tunnel(_) => Some("-i"),
            Forward::Local | Forward::DirectRoute => Some("-g"),
            Forward::Bypass | Forward::Other(_) => None,
        }
    }

    /// The tunnel settings, for a tunnel.
    ///
    /// ```
    /// use lvs_core::{Forward, Tunnel, TunnelChecksum};
    /// let gre = Forward::Tunnel(Tunnel::gre(TunnelChecksum::None));
    /// assert_eq!(gre.tunnel().map(|t| t.port), Some(0));
    /// assert_eq!(Forward::Masquerade.tunnel(), None);
    /// ```
    pub const fn tunnel(&self) -> Option<&Tunnel> {
        match self {
            Forward::Tunnel(t) => Some(t),
            _ => None,
        }
    }
}

impl fmt::Display for Forward {
    /// [`Forward::name`], or `forward-N` for a kernel value lvs has no name for.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "forward-{}", self.kernel_value()),
        }
    }
}

impl FromStr for Forward {
    type Err = UnknownName;

    /// [`Forward::name`]'s spellings, or ipvsadm's listing names (`Masq`, `Route`...), in any
    /// case; `tunnel` is a plain ipip tunnel.
    fn from_str(s: &str) -> Result<Forward, UnknownName> {
        [
            Forward::Masquerade,
            Forward::Local,
            Forward::Tunnel(Tunnel::IPIP),
            Forward::DirectRoute,
            Forward::Bypass,
        ]
        .into_iter()
        .find(|f| f.name().is_some_and(|n| n.eq_ignore_ascii_case(s)))
        .ok_or_else(|| {
            UnknownName::new(
                "forwarding method",
                s,
                "masq, route, tunnel, local or bypass",
            )
        })
    }
}

/// The encapsulation of a tunnel (`--tun-type`).
///
/// ```
/// use lvs_core::TunnelType;
/// assert_eq!("gue".parse::<TunnelType>()?, TunnelType::Gue);
/// assert_eq!(TunnelType::from_kernel(7).to_string(), "type-7");
/// # Ok::<(), lvs_core::UnknownName>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum TunnelType {
    /// IP in IP (0), the default.
    #[default]
    Ipip,
    /// Generic UDP Encapsulation (1): needs a port.
    Gue,
    /// GRE (2).
    Gre,
    /// A type from a newer kernel.
    Other(u8),
}

impl TunnelType {
    /// The kernel's `IP_VS_CONN_F_TUNNEL_TYPE_*` value.
    ///
    /// ```
    /// assert_eq!(lvs_core::TunnelType::Gre.kernel_value(), 2);
    /// ```
    pub const fn kernel_value(self) -> u8 {
        match self {
            TunnelType::Ipip => 0,
            TunnelType::Gue => 1,
            TunnelType::Gre => 2,
            TunnelType::Other(v) => v,
        }
    }

    /// The type for a kernel value.
    ///
    /// ```
    /// assert_eq!(lvs_core::TunnelType::from_kernel(1), lvs_core::TunnelType::Gue);
    /// ```
    pub const fn from_kernel(v: u8) -> TunnelType {
        match v {
            0 => TunnelType::Ipip,
            1 => TunnelType::Gue,
            2 => TunnelType::Gre,
            v => TunnelType::Other(v),
        }
    }

    /// ipvsadm's name (`ipip`, `gue`, `gre`), if it has one.
    ///
    /// ```
    /// assert_eq!(lvs_core::TunnelType::Ipip.name(), Some("ipip"));
    /// ```
    pub const fn name(self) -> Option<&'static str> {
        match self {
            TunnelType::Ipip => Some("ipip"),
            TunnelType::Gue => Some("gue"),
            TunnelType::Gre => Some("gre"),
            TunnelType::Other(_) => None,
        }
    }

    /// Parses ipvsadm's name.
    ///
    /// ```
    /// assert_eq!(lvs_core::TunnelType::from_name("GUE"), None, "ipvsadm's names are lower case");
    /// ```
    pub fn from_name(name: &str) -> Option<TunnelType> {
        match name {
            "ipip" => Some(TunnelType::Ipip),
            "gue" => Some(TunnelType::Gue),
            "gre" => Some(TunnelType::Gre),
            _ => None,
        }
    }
}

impl fmt::Display for TunnelType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "type-{}", self.kernel_value()),
        }
    }
}

impl FromStr for TunnelType {
    type Err = UnknownName;

    /// ipvsadm's names (`ipip`, `gue`, `gre`) in any case, as every `FromStr` of lvs's names;
    /// [`TunnelType::from_name`] is ipvsadm's exact spelling.
    ///
    /// ```
    /// use lvs_core::TunnelType;
    /// assert_eq!("GUE".parse::<TunnelType>()?, TunnelType::Gue);
    /// assert!("vxlan".parse::<TunnelType>().is_err());
    /// # Ok::<(), lvs_core::UnknownName>(())
    /// ```
    fn from_str(s: &str) -> Result<TunnelType, UnknownName> {
        [TunnelType::Ipip, TunnelType::Gue, TunnelType::Gre]
            .into_iter()
            .find(|t| t.name().is_some_and(|n| n.eq_ignore_ascii_case(s)))
            .ok_or_else(|| UnknownName::new("tunnel type", s, "ipip, gue or gre"))
    }
}

/// Tunnel checksum mode (`--tun-nocsum`, `--tun-csum`, `--tun-remcsum`).
///
/// ```
/// use lvs_core::TunnelChecksum;
/// // `--tun-remcsum`, shown as `r+c` by `ipvsadm -L --tun-info`.
/// let c = TunnelChecksum::RemCsum;
/// assert_eq!((c.option(), c.info()), (Some("--tun-remcsum"), Some("r+c")));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum TunnelChecksum {
    /// No checksum (flags 0), the default.
    #[default]
    None,
    /// Outer checksum (`IP_VS_TUNNEL_ENCAP_FLAG_CSUM`, 1): gue and gre.
    Csum,
    /// Remote checksum offload (`IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM`, 2): gue only.
    RemCsum,
    /// Any other combination of flag bits from the kernel.
    Other(u16),
}

impl TunnelChecksum {
    /// The kernel's `tun_flags` value.
    ///
    /// ```
    /// assert_eq!(lvs_core::TunnelChecksum::Csum.kernel_value(), 1);
    /// ```
    pub const fn kernel_value(self) -> u16 {
        match self {
            TunnelChecksum::None => 0,
            TunnelChecksum::Csum => 1,
            TunnelChecksum::RemCsum => 2,
            TunnelChecksum::Other(v) => v,
        }
    }

    /// The mode for a kernel `tun_flags` value.
    ///
    /// ```
    /// assert_eq!(lvs_core::TunnelChecksum::from_kernel(3), lvs_core::TunnelChecksum::Other(3));
    /// ```
    pub const fn from_kernel(v: u16) -> TunnelChecksum {
        match v {
            0 => TunnelChecksum::None,
            1 => TunnelChecksum::Csum,
            2 => TunnelChecksum::RemCsum,
            v => TunnelChecksum::Other(v),
        }
    }

    /// The ipvsadm option that selects this mode.
    ///
    /// ```
    /// assert_eq!(lvs_core::TunnelChecksum::None.option(), Some("--tun-nocsum"));
    /// ```
    pub const fn option(self) -> Option<&'static str> {
        match self {
            TunnelChecksum::None => Some("--tun-nocsum"),
            TunnelChecksum::Csum => Some("--tun-csum"),
            TunnelChecksum::RemCsum => Some("--tun-remcsum"),
            TunnelChecksum::Other(_) => None,
        }
    }

    /// The option's name without `--tun-` (`nocsum`, `csum`, `remcsum`), if ipvsadm has one.
    ///
    /// ```
    /// assert_eq!(lvs_core::TunnelChecksum::Csum.name(), Some("csum"));
    /// ```
    pub const fn name(self) -> Option<&'static str> {
        match self {
            TunnelChecksum::None => Some("nocsum"),
            TunnelChecksum::Csum => Some("csum"),
            TunnelChecksum::RemCsum => Some("remcsum"),
            TunnelChecksum::Other(_) => None,
        }
    }

    /// The short form `--tun-info` shows (`-c`, `+c`, `r+c`).
    ///
    /// ```
    /// assert_eq!(lvs_core::TunnelChecksum::None.info(), Some("-c"));
    /// ```
    pub const fn info(self) -> Option<&'static str> {
        match self {
            TunnelChecksum::None => Some("-c"),
            TunnelChecksum::Csum => Some("+c"),
            TunnelChecksum::RemCsum => Some("r+c"),
            TunnelChecksum::Other(_) => None,
        }
    }
}

impl fmt::Display for TunnelChecksum {
    /// [`TunnelChecksum::name`], or `flags-N` for other flag bits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "flags-{}", self.kernel_value()),
        }
    }
}

impl FromStr for TunnelChecksum {
    type Err = UnknownName;

    /// `nocsum`, `csum`, `remcsum`, in any case.
    ///
    /// ```
    /// use lvs_core::TunnelChecksum;
    /// assert_eq!("RemCsum".parse::<TunnelChecksum>()?, TunnelChecksum::RemCsum);
    /// # Ok::<(), lvs_core::UnknownName>(())
    /// ```
    fn from_str(s: &str) -> Result<TunnelChecksum, UnknownName> {
        [
            TunnelChecksum::None,
            TunnelChecksum::Csum,
            TunnelChecksum::RemCsum,
        ]
        .into_iter()
        .find(|c| c.name().is_some_and(|n| n.eq_ignore_ascii_case(s)))
        .ok_or_else(|| UnknownName::new("tunnel checksum", s, "nocsum, csum or remcsum"))
    }
}

/// Tunnel settings of a tunnelling real server.
///
/// ```
/// use lvs_core::{Forward, Tunnel, TunnelChecksum, TunnelType};
///
/// // `-i --tun-type gue --tun-port 6080 --tun-csum`
/// let t = Tunnel { kind: TunnelType::Gue, port: 6080, checksum: TunnelChecksum::Csum };
/// assert_eq!(t, Tunnel::gue(6080, TunnelChecksum::Csum));
/// assert!(t.validate().is_ok());
/// assert_eq!(Forward::Tunnel(t).to_string(), "tunnel");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tunnel {
    /// The encapsulation.
    #[serde(rename = "type")]
    pub kind: TunnelType,
    /// The UDP port for gue (required there, 1 to 65535); 0 otherwise.
    #[serde(default)]
    pub port: u16,
    /// The checksum mode.
    #[serde(default)]
    pub checksum: TunnelChecksum,
}

impl Tunnel {
    /// Plain ipip, the default tunnel.
    pub const IPIP: Tunnel = Tunnel {
        kind: TunnelType::Ipip,
        port: 0,
        checksum: TunnelChecksum::None,
    };

    /// A gue tunnel to `port`.
    ///
    /// ```
    /// use lvs_core::{Tunnel, TunnelChecksum};
    /// assert!(Tunnel::gue(0, TunnelChecksum::None).validate().is_err(), "gue needs a port");
    /// ```
    pub const fn gue(port: u16, checksum: TunnelChecksum) -> Tunnel {
        Tunnel {
            kind: TunnelType::Gue,
            port,
            checksum,
        }
    }

    /// A gre tunnel.
    ///
    /// ```
    /// use lvs_core::{Tunnel, TunnelChecksum};
    /// // Remote checksum offload is gue's only.
    /// assert!(Tunnel::gre(TunnelChecksum::RemCsum).validate().is_err());
    /// ```
    pub const fn gre(checksum: TunnelChecksum) -> Tunnel {
        Tunnel {
            kind: TunnelType::Gre,
            port: 0,
            checksum,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        for f in [
            Forward::Masquerade,
            Forward::Local,
            Forward::Tunnel(Tunnel::IPIP),
            Forward::DirectRoute,
            Forward::Bypass,
        ] {
            assert_eq!(f.to_string().parse::<Forward>(), Ok(f));
        }
        assert_eq!("Masq".parse::<Forward>(), Ok(Forward::Masquerade));
        assert_eq!(Forward::Other(6).to_string(), "forward-6");
        let err = "nat".parse::<Forward>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown forwarding method \"nat\": expected masq, route, tunnel, local or bypass"
        );
        for c in [
            TunnelChecksum::None,
            TunnelChecksum::Csum,
            TunnelChecksum::RemCsum,
        ] {
            assert_eq!(c.to_string().parse::<TunnelChecksum>(), Ok(c));
        }
        assert_eq!("CSUM".parse::<TunnelChecksum>(), Ok(TunnelChecksum::Csum));
        assert_eq!("gue".parse::<TunnelType>(), Ok(TunnelType::Gue));
        assert!("vxlan".parse::<TunnelType>().is_err());
    }
}
