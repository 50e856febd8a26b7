//! Many changes, pipelined (the protocol's [`crate::proto::Pipeline`] over the handle's link).

use super::Ipvs;
use crate::Error;
use lvs_core::Command;

impl Ipvs {
    /// Carries out many commands, pipelined: each is checked (as [`Ipvs::execute`] does), then
    /// as many requests as the socket buffers hold go out in one datagram, each with its own
    /// sequence number. Only the datagram's last request asks for an ack (`NLM_F_ACK`): the
    /// kernel answers the others only when it refuses them, and those answers are matched back
    /// by sequence number. The kernel applies them in order and goes on after a failure, so
    /// the result for each command is its own; there is no transaction.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::{Command, Destination, Service, ServiceKey};
    ///
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// let mut commands = Vec::new();
    /// for i in 0..1000u16 {
    ///     let key = ServiceKey::tcp(format!("10.0.{}.{}:80", i / 250, i % 250 + 1).parse()?);
    ///     commands.push(Command::AddService(Service::new(key)));
    ///     commands.push(Command::AddDestination {
    ///         service: key,
    ///         destination: Destination::new("192.168.1.1:80".parse()?),
    ///     });
    /// }
    /// let results = ipvs.batch(&commands);
    /// let failed = results.iter().filter(|r| r.is_err()).count();
    /// println!("{failed} of {} failed", commands.len());
    /// # Ok(())
    /// # }
    /// ```
    pub fn batch(&self, commands: &[Command]) -> Vec<Result<(), Error>> {
        let mut batch = self.common.prepare_batch(commands);
        let timeout = self.reply_timeout();
        self.link()
            .batch(&batch.requests, timeout, &mut batch.results);
        let mut results = batch.finish(commands);
        self.confirm_stops(commands, &mut results);
        results
    }
}
