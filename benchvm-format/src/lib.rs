//! The benchvm bundle format, version 1.
//!
//! A bundle is one `.tar.zst` file holding everything about one benchmark
//! run: `manifest.json` first, then the environment capture (`env/`), the
//! configurations (`config/`), the raw logs (`runs/`) and the metrics table
//! (`metrics.ndjson`). The normative description is `SPEC.md` beside this
//! crate; this crate is its reference implementation:
//!
//! - [`write`] builds a bundle deterministically from a list of files, and
//!   [`rundir`] from a run folder as `collect` leaves it;
//! - [`read`] verifies a bundle while streaming it, treating it as hostile;
//! - [`manifest`] and [`metrics`] hold the serde types of the two structured
//!   entries.

pub mod env;
pub mod error;
pub mod frame;
pub mod input;
pub mod limits;
pub mod manifest;
pub mod metrics;
pub mod path;
pub mod read;
pub mod rundir;
pub mod sign;
pub mod stressor;
pub mod table;
pub mod unit;
pub mod ustar;
pub mod write;

pub use env::EnvSummary;
pub use error::{BundleError, ManifestError, MetricsError, PackError};
pub use manifest::{BundleId, FileEntry, Manifest, RunMeta, Tool};
pub use metrics::MetricRow;
pub use read::{Bundle, Limits};
