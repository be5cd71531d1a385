//! Run order, a design choice recorded in the plan (`config/plan.json`).
//!
//! The unit of order is a *block*: runs of one workload on one platform
//! that follow each other, its warm-ups first. A block is what a guest
//! platform boots one guest for, so the order never costs extra boots: a
//! fixed workload has one block per platform (its warm-ups and all its
//! repetitions), an adaptive one a block per round of its stopping rule
//! ([`crate::stopping`]). A *lane* is one workload on one platform.
//!
//! - `blocked`: platform after platform, each running every workload's
//!   lane to its end (how the paper ran): drift over the whole suite falls
//!   between platforms.
//! - `interleaved`: workload after workload; for each, the platforms'
//!   blocks alternate round by round (A B, A B, ... with adaptive rounds),
//!   and the first platform rotates with the workload (A B for the first
//!   workload, B A for the second, ...), so each platform's blocks sit
//!   beside the others' and drift falls on all platforms alike.
//! - `random`: as interleaved, but the order of the workloads and of the
//!   platforms in each round are drawn from `seed` (SplitMix64, Steele et
//!   al. 2014, with a Fisher-Yates shuffle), after Mytkowicz et al. 2009
//!   ("Producing wrong data without doing anything obviously wrong!").
//!
//! The multi-guest experiments (isolation phases, scalability steps) keep
//! their own order after the overall experiment: per platform, each
//! repetition of isolation measures its baseline right before its
//! stressors, and scalability steps go by N.

use serde::{Deserialize, Serialize};

/// How the blocks of a run are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderKind {
    Blocked,
    Interleaved,
    Random,
}

impl OrderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderKind::Blocked => "blocked",
            OrderKind::Interleaved => "interleaved",
            OrderKind::Random => "random",
        }
    }
}

/// The order of a plan, as recorded in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunOrder {
    pub kind: OrderKind,
    /// The seed of `random`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

impl RunOrder {
    pub const BLOCKED: RunOrder = RunOrder {
        kind: OrderKind::Blocked,
        seed: None,
    };
    pub const INTERLEAVED: RunOrder = RunOrder {
        kind: OrderKind::Interleaved,
        seed: None,
    };

    pub fn random(seed: u64) -> Self {
        RunOrder {
            kind: OrderKind::Random,
            seed: Some(seed),
        }
    }

    /// The default: interleaved when several platforms run on one host,
    /// else blocked (one platform: both are the same order).
    pub fn default_for(platforms: usize) -> Self {
        if platforms > 1 {
            Self::INTERLEAVED
        } else {
            Self::BLOCKED
        }
    }

    /// `interleaved`, `random (seed 42)`.
    pub fn describe(&self) -> String {
        match self.seed {
            Some(seed) => format!("{} (seed {seed})", self.kind.as_str()),
            None => self.kind.as_str().to_owned(),
        }
    }

    /// The overall experiment's lanes in groups, each group's lanes in
    /// their first round's order: `(workload, platform)` indices into the
    /// suite's workloads and the plan's platforms. A group's lanes take
    /// turns round by round; groups run one after the other.
    pub fn groups(&self, workloads: &[&str], platforms: usize) -> Vec<Vec<(usize, usize)>> {
        match self.kind {
            OrderKind::Blocked => (0..platforms)
                .flat_map(|p| (0..workloads.len()).map(move |w| vec![(w, p)]))
                .collect(),
            OrderKind::Interleaved | OrderKind::Random => {
                let order: Vec<usize> = match self.kind {
                    OrderKind::Random => shuffle(
                        workloads.len(),
                        &mut SplitMix64::new(self.seed.unwrap_or(0)),
                    ),
                    _ => (0..workloads.len()).collect(),
                };
                order
                    .iter()
                    .enumerate()
                    .map(|(position, &w)| {
                        self.round(position, workloads[w], 1, platforms)
                            .into_iter()
                            .map(|p| (w, p))
                            .collect()
                    })
                    .collect()
            }
        }
    }

    /// The order of the platforms (indices) in round `round` (1-based) of
    /// the group at `position` (0-based), whose workload is `workload`.
    pub fn round(
        &self,
        position: usize,
        workload: &str,
        round: u32,
        platforms: usize,
    ) -> Vec<usize> {
        let mut all: Vec<usize> = (0..platforms).collect();
        match self.kind {
            OrderKind::Blocked => all,
            OrderKind::Interleaved => {
                all.rotate_left(position % platforms.max(1));
                all
            }
            OrderKind::Random => {
                let seed =
                    self.seed.unwrap_or(0) ^ fnv1a(workload) ^ u64::from(round).rotate_left(32);
                shuffle(platforms, &mut SplitMix64::new(seed))
            }
        }
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014, "Fast splittable pseudorandom
/// number generators"): a fixed, documented generator, so an order drawn
/// from a seed is the same in every version and in `analyze`.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (multiply-shift; n > 0).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

/// `0..n` shuffled by Fisher-Yates.
fn shuffle(n: usize, rng: &mut SplitMix64) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.below(i + 1);
        v.swap(i, j);
    }
    v
}

/// FNV-1a of a name: mixes the workload into its rounds' seeds.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: [&str; 4] = ["cpu", "kernel-compile", "disk-write", "disk-read"];

    #[test]
    fn blocked_is_platform_major_and_interleaved_flips_the_first_platform() {
        let blocked = RunOrder::BLOCKED.groups(&W[..2], 2);
        assert_eq!(
            blocked,
            vec![vec![(0, 0)], vec![(1, 0)], vec![(0, 1)], vec![(1, 1)]]
        );
        let inter = RunOrder::INTERLEAVED.groups(&W, 2);
        assert_eq!(
            inter,
            vec![
                vec![(0, 0), (0, 1)],
                vec![(1, 1), (1, 0)],
                vec![(2, 0), (2, 1)],
                vec![(3, 1), (3, 0)]
            ]
        );
        // Three platforms: each goes first once in three workloads.
        let firsts: Vec<usize> = RunOrder::INTERLEAVED
            .groups(&W[..3], 3)
            .iter()
            .map(|g| g[0].1)
            .collect();
        assert_eq!(firsts, [0, 1, 2]);
        // Every round of a workload keeps its first round's order.
        assert_eq!(RunOrder::INTERLEAVED.round(1, "x", 4, 2), [1, 0]);
    }

    #[test]
    fn random_is_a_function_of_its_seed() {
        let a = RunOrder::random(42);
        assert_eq!(a.groups(&W, 3), a.groups(&W, 3));
        let seeds: std::collections::BTreeSet<Vec<Vec<(usize, usize)>>> =
            (0..20).map(|s| RunOrder::random(s).groups(&W, 2)).collect();
        assert!(seeds.len() > 5, "20 seeds gave {} orders", seeds.len());
        for g in a.groups(&W, 3) {
            let mut p: Vec<usize> = g.iter().map(|l| l.1).collect();
            p.sort_unstable();
            assert_eq!(p, [0, 1, 2], "every platform once per workload");
        }
        // The generator is SplitMix64: its first output for seed 0.
        assert_eq!(SplitMix64::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }
}
