//! `collect guest-agent` (hidden): started by a guest's init, runs the job
//! the host wrote ([`crate::guest::agent`]).

use anyhow::Result;

use crate::cli::AgentArgs;

pub fn run(a: &AgentArgs) -> Result<()> {
    crate::guest::agent::run(a.job.as_deref(), a.results.as_deref(), &a.scratch)
}
