//! How one run ended, as its platform saw it: in every run's `run.json`,
//! in the guest agent's records, and read back by `analyze verify
//! --rederive`.

use benchvm_format::metrics::Status;
use serde::{Deserialize, Serialize};

/// How one run ended, as the platform saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    pub status: Status,
    /// Wall time of the measured command (monotonic clock), when it ran to the end.
    pub wall_s: Option<f64>,
    /// What went wrong, for failed and dnr runs.
    pub reason: Option<String>,
    /// Exit code of the measured command.
    pub exit_code: Option<i32>,
}

impl RunOutcome {
    /// A failed outcome.
    pub fn failed(reason: String, exit_code: Option<i32>) -> RunOutcome {
        RunOutcome {
            status: Status::Failed,
            wall_s: None,
            reason: Some(reason),
            exit_code,
        }
    }
}
