//! `collect guest-phase` (hidden): an isolation guest's part of a phase
//! ([`crate::isolation::guest`]), started by the guest agent.

use std::time::Duration;

use anyhow::Result;

use crate::cli::PhaseArgs;

pub fn run(a: &PhaseArgs) -> Result<()> {
    crate::isolation::guest::run(
        a.serve,
        Duration::from_secs(a.wait_s),
        Duration::from_secs(a.phase_s),
        &a.stressor,
    )?;
    Ok(())
}
