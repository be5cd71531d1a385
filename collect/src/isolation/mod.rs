//! Foundation of the isolation experiment (the paper's section 3, issue 6
//! item 2): every guest serves a static file set with nginx on a private
//! network, and an open-loop client measures the share of good responses.
//!
//! - [`client`]: the open-loop HTTP/1.1 load generator and its report
//!   (metric `good_rate`, unit %, higher is better).
//! - [`http`]: one request and its response, read against a deadline.
//! - [`fileset`]: a static file set in the spirit of SPECweb2005 Support.
//! - [`nginx`]: the nginx configuration each server runs with.
//! - [`control`]: the host's `go`/`stop` to each guest's phase command.
//! - [`phase`]: the host's part of one phase (readiness, go, load, stop).
//! - [`stressor`]: the six stressors and their host parts.
//! - [`guest`]: `collect guest-phase`, the guests' part.
//! - [`netns`]: a network namespace with a bridge and tap devices, torn
//!   down on drop and on Ctrl-C.

pub mod client;
pub mod control;
pub mod fileset;
pub mod guest;
pub mod http;
pub mod netns;
pub mod nginx;
pub mod phase;
pub mod stressor;

#[cfg(test)]
mod tests;
