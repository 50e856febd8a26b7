//! Pipelining: many requests in as few datagrams as the socket's buffers allow.

use crate::wire::request::Request;

/// The most requests lvs keeps in flight per datagram.
const MAX_CHUNK: usize = 4096;

/// How much one pipelined datagram may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Requests per datagram.
    pub(crate) max_count: usize,
    /// Bytes per datagram (the last request may go past it).
    pub(crate) max_bytes: usize,
}

impl Limits {
    /// The limits for a socket whose send and receive buffers the kernel sized so: should
    /// every request of a datagram fail, each error's skb takes under 2 KiB of the receive
    /// budget; a datagram must stay below the send buffer.
    pub(crate) fn for_buffers(sndbuf: usize, rcvbuf: usize) -> Limits {
        Limits {
            max_count: (rcvbuf / 2048).clamp(16, MAX_CHUNK),
            max_bytes: (sndbuf / 2).clamp(16 << 10, 4 << 20),
        }
    }
}

impl Default for Limits {
    /// For a transport with no socket buffers to respect.
    fn default() -> Limits {
        Limits {
            max_count: MAX_CHUNK,
            max_bytes: 4 << 20,
        }
    }
}

/// Splits a batch of requests into datagrams. `None` stands for a command that is not sent
/// (it failed lvs's own checks); it takes no room.
pub(crate) struct Pipeline<'r> {
    requests: &'r [Option<Request>],
    next: usize,
    limits: Limits,
}

impl<'r> Pipeline<'r> {
    pub(crate) fn new(requests: &'r [Option<Request>], limits: Limits) -> Pipeline<'r> {
        Pipeline {
            requests,
            next: 0,
            limits,
        }
    }
}

impl<'r> Iterator for Pipeline<'r> {
    /// The next datagram's requests, with their indices, and about how many bytes they take.
    type Item = (Vec<(usize, &'r Request)>, usize);

    fn next(&mut self) -> Option<Self::Item> {
        let mut chunk = Vec::new();
        let mut bytes = 0;
        while self.next < self.requests.len()
            && chunk.len() < self.limits.max_count
            && bytes < self.limits.max_bytes
        {
            if let Some(req) = &self.requests[self.next] {
                chunk.push((self.next, req));
                // nlmsghdr, genlmsghdr and padding.
                bytes += req.msg.attrs.len() + 32;
            }
            self.next += 1;
        }
        (!chunk.is_empty()).then_some((chunk, bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::request;
    use std::ops::Range;

    /// The caller indices a chunk covers.
    fn indices(chunk: &[(usize, &Request)]) -> Range<usize> {
        chunk.first().map_or(0, |c| c.0)..chunk.last().map_or(0, |c| c.0 + 1)
    }

    #[test]
    fn chunks_respect_the_count_and_skip_unsent_commands() {
        let mut reqs: Vec<Option<Request>> = (0..40).map(|_| Some(request::get_info())).collect();
        reqs[3] = None;
        let limits = Limits {
            max_count: 16,
            max_bytes: 1 << 20,
        };
        let chunks: Vec<_> = Pipeline::new(&reqs, limits).collect();
        let ranges: Vec<Range<usize>> = chunks.iter().map(|(c, _)| indices(c)).collect();
        assert_eq!(ranges, [0..17, 17..33, 33..40]);
        assert_eq!(chunks[0].0.len(), 16);
        assert!(chunks[0].0.iter().all(|(i, _)| *i != 3));
        assert_eq!(Pipeline::new(&[None, None], limits).count(), 0);
    }

    #[test]
    fn chunks_respect_the_bytes() {
        let reqs: Vec<Option<Request>> = (0..10).map(|_| Some(request::get_info())).collect();
        let limits = Limits {
            max_count: 100,
            max_bytes: 64,
        };
        let sizes: Vec<usize> = Pipeline::new(&reqs, limits).map(|(c, _)| c.len()).collect();
        assert_eq!(
            sizes,
            [2, 2, 2, 2, 2],
            "32 bytes each, a datagram closes at 64"
        );
    }

    #[test]
    fn socket_buffers_give_the_limits() {
        let l = Limits::for_buffers(16 << 20, 16 << 20);
        assert_eq!((l.max_count, l.max_bytes), (4096, 4 << 20));
        let l = Limits::for_buffers(1, 1);
        assert_eq!((l.max_count, l.max_bytes), (16, 16 << 10));
    }
}
