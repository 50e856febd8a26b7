//! Network namespaces: a handle works on one namespace's IPVS table, whatever namespace the
//! thread that calls it is in. Sockets and `/proc/thread-self/net` files are opened from a
//! short-lived thread that joined the namespace, so the calling thread never moves.

use crate::Error;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// An open namespace file (`/proc/thread-self/ns/net`, `/run/netns/NAME`, ...), kept open so
/// that the namespace stays reachable for as long as a handle needs it.
#[derive(Debug, Clone)]
pub(crate) struct Netns {
    file: Arc<File>,
    path: PathBuf,
}

impl Netns {
    /// The calling thread's namespace, or `None` if `/proc` cannot tell (then everything is
    /// opened in the calling thread, as before namespaces existed).
    pub(crate) fn current() -> Option<Netns> {
        Netns::open(Path::new("/proc/thread-self/ns/net")).ok()
    }

    /// A namespace by name (under `/run/netns`, what `ip netns add` creates) or path.
    pub(crate) fn open(ns: &Path) -> Result<Netns, Error> {
        let path = netns_path(ns);
        match File::open(&path) {
            Ok(file) => Ok(Netns {
                file: Arc::new(file),
                path,
            }),
            Err(source) => Err(Error::Namespace { path, source }),
        }
    }

    /// Runs `f` inside this namespace: in the calling thread when it is there already, else
    /// on a scoped thread that joins it first.
    pub(crate) fn run<T: Send>(
        &self,
        f: impl FnOnce() -> Result<T, Error> + Send,
    ) -> Result<T, Error> {
        if self.is_current() {
            return f();
        }
        let fd = self.file.as_raw_fd();
        let path = &self.path;
        std::thread::scope(|s| {
            s.spawn(move || {
                // SAFETY: fd is a namespace file that `self` keeps open for this scope.
                if unsafe { libc::setns(fd, libc::CLONE_NEWNET) } != 0 {
                    return Err(Error::Namespace {
                        path: path.clone(),
                        source: io::Error::last_os_error(),
                    });
                }
                f()
            })
            .join()
            .unwrap_or_else(|_| {
                Err(Error::Namespace {
                    path: path.clone(),
                    source: io::Error::other("the thread that joined the namespace panicked"),
                })
            })
        })
    }

    /// Whether the calling thread is in this namespace.
    fn is_current(&self) -> bool {
        use std::os::unix::fs::MetadataExt;
        match (
            self.file.metadata(),
            std::fs::metadata("/proc/thread-self/ns/net"),
        ) {
            (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
            _ => false,
        }
    }
}

/// Runs `f` in `ns`, or in the calling thread without one.
pub(crate) fn run_in<T: Send>(
    ns: Option<&Netns>,
    f: impl FnOnce() -> Result<T, Error> + Send,
) -> Result<T, Error> {
    match ns {
        Some(ns) => ns.run(f),
        None => f(),
    }
}

/// `/run/netns/NAME` for a bare name, the path itself otherwise.
fn netns_path(ns: &Path) -> PathBuf {
    if ns.components().count() == 1 && !ns.has_root() {
        Path::new("/run/netns").join(ns)
    } else {
        ns.to_path_buf()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        assert_eq!(netns_path(Path::new("blue")), Path::new("/run/netns/blue"));
        assert_eq!(
            netns_path(Path::new("/proc/1/ns/net")),
            Path::new("/proc/1/ns/net")
        );
        assert_eq!(netns_path(Path::new("a/b")), Path::new("a/b"));
    }

    #[test]
    fn a_missing_namespace_keeps_its_errno() {
        match Netns::open(Path::new("lvs-no-such-netns")) {
            Err(e @ Error::Namespace { .. }) => {
                assert_eq!(e.errno(), Some(libc::ENOENT));
                assert!(
                    e.to_string().contains("/run/netns/lvs-no-such-netns"),
                    "{e}"
                );
            }
            other => panic!("expected a namespace error, got {other:?}"),
        }
    }

    #[test]
    fn the_current_namespace_runs_in_place() {
        let Some(here) = Netns::current() else {
            panic!("/proc/thread-self/ns/net cannot be opened on this host");
        };
        let me = std::thread::current().id();
        assert_eq!(here.run(|| Ok(std::thread::current().id())).unwrap(), me);
    }
}
