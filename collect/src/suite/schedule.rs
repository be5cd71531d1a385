//! How often and how long a workload runs: `repetitions` (a count, or an
//! adaptive rule), `warmups` and `deadline_s`.

use serde::{Deserialize, Serialize};

use crate::stopping::Adaptive;

/// How often and how long a workload runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// Repetitions, or with an adaptive rule the most that may run (its
    /// `max`).
    pub repetitions: u32,
    /// Warm-ups before the repetitions of each block.
    pub warmups: u32,
    pub deadline_s: u64,
    /// `repetitions = { min, max, target_ci }`: repetitions run in blocks
    /// until each metric's interval is narrow enough ([`crate::stopping`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adaptive: Option<Adaptive>,
}

impl Schedule {
    /// Repetitions of a lane's first block.
    pub fn first_block(&self) -> u32 {
        self.adaptive.map_or(self.repetitions, |a| a.min)
    }

    /// Blocks a lane can need: 1 for a fixed count.
    pub fn max_blocks(&self) -> u32 {
        self.adaptive.map_or(1, |a| a.max_blocks())
    }

    /// Warm-ups a lane may run: `warmups` before each block.
    pub fn planned_warmups(&self) -> u32 {
        self.warmups * self.max_blocks()
    }
}

/// Sets `schedule`'s repetitions from a suite value: a count, or
/// `{ min, max, target_ci }`. Errors name the sub-key (`.min`) and why.
pub fn repetitions(value: &toml::Value, schedule: &mut Schedule) -> Result<(), (String, String)> {
    match value {
        toml::Value::Integer(n) => {
            schedule.repetitions = u32::try_from(*n)
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| (String::new(), format!("{n} is outside 1-1000")))?;
            schedule.adaptive = None;
            Ok(())
        }
        toml::Value::Table(_) => {
            let rule: Adaptive = value.clone().try_into().map_err(|e: toml::de::Error| {
                (
                    String::new(),
                    format!(
                        "{}; an adaptive count is {{ min = 5, max = 30, target_ci = 0.01 }}",
                        e.message()
                    ),
                )
            })?;
            rule.validate()
                .map_err(|(k, r)| (format!(".{k}"), r))?;
            schedule.repetitions = rule.max;
            schedule.adaptive = Some(rule);
            Ok(())
        }
        other => Err((
            String::new(),
            format!(
                "must be a count (10) or an adaptive rule ({{ min = 5, max = 30, target_ci = 0.01 }}), not {}",
                other.type_str()
            ),
        )),
    }
}

/// Checks the ranges of a schedule.
pub fn check_schedule(s: &Schedule) -> Result<(), (&'static str, String)> {
    if !(1..=1000).contains(&s.repetitions) {
        return Err((
            "repetitions",
            format!("{} is outside 1-1000", s.repetitions),
        ));
    }
    if s.warmups > 100 {
        return Err(("warmups", format!("{} is outside 0-100", s.warmups)));
    }
    if !(1..=86_400).contains(&s.deadline_s) {
        return Err(("deadline_s", format!("{} is outside 1-86400", s.deadline_s)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::suite::parse;

    const BASE: &str = r#"
name = "s"
platforms = ["native"]
[defaults]
repetitions = 3
warmups = 1
deadline_s = 60
[experiments.overall]
workloads = ["c"]
[workloads.c]
kind = "sysbench-cpu"
max_prime = 100
events = 10
threads = 1
"#;

    #[test]
    fn adaptive_repetitions_parse_per_workload_and_as_default() {
        let text = BASE.replace(
            "threads = 1",
            "threads = 1\nrepetitions = { min = 5, max = 30, target_ci = 0.01 }",
        );
        let suite = parse(&text, Path::new("s.toml")).expect("valid");
        let s = suite.overall[0].schedule;
        assert_eq!(s.repetitions, 30);
        assert_eq!(s.first_block(), 5);
        assert_eq!(
            s.planned_warmups(),
            6,
            "one warm-up before each of 6 blocks"
        );
        let text = BASE.replace(
            "repetitions = 3",
            "repetitions = { min = 3, max = 9, target_ci = 0.05 }",
        );
        let suite = parse(&text, Path::new("s.toml")).expect("valid");
        assert_eq!(
            suite.overall[0].schedule.adaptive.map(|a| (a.min, a.max)),
            Some((3, 9))
        );
    }

    #[test]
    fn bad_adaptive_rules_name_their_key() {
        for (rule, key) in [
            ("{ min = 1, max = 30, target_ci = 0.01 }", "repetitions.min"),
            ("{ min = 5, max = 3, target_ci = 0.01 }", "repetitions.max"),
            (
                "{ min = 5, max = 30, target_ci = 2.0 }",
                "repetitions.target_ci",
            ),
            ("{ min = 5, max = 30 }", "repetitions"),
            (
                "{ min = 5, max = 30, target_ci = 0.01, step = 2 }",
                "repetitions",
            ),
            ("\"many\"", "repetitions"),
            ("0", "repetitions"),
        ] {
            let text = BASE.replace("threads = 1", &format!("threads = 1\nrepetitions = {rule}"));
            let err = parse(&text, Path::new("s.toml"))
                .expect_err(rule)
                .to_string();
            assert!(
                err.contains(&format!("workloads.c.{key}:")),
                "{rule}: {err} (wanted {key})"
            );
        }
    }
}
