//! The stressors of the isolation experiment, after the paper's isolation
//! benchmark suite: each loads one resource of the stressed guest as hard
//! as it can for the whole phase. The guest runs its part between the
//! host's `go` and `stop` ([`super::control`]); the network stressors also
//! have a host part, run inside the run's network namespace.
//!
//! | stressor      | in the stressed guest                                   | on the host              |
//! |---------------|---------------------------------------------------------|--------------------------|
//! | `memory`      | `stress-ng --vm 2 --vm-bytes 90%` (touches and checks pages) | -                   |
//! | `fork`        | `stress-ng --fork 4 --fork-max 512` (a bounded fork bomb)     | -                   |
//! | `cpu`         | `stress-ng --cpu 0` (one worker per vCPU)                     | -                   |
//! | `disk`        | `stress-ng --hdd 2 --hdd-bytes 1g` on the scratch disk        | -                   |
//! | `net-receive` | `iperf3 -s` (receives)                                        | `iperf3 -c GUEST` sends |
//! | `net-send`    | `iperf3 -c HOST` (sends)                                      | `iperf3 -s` receives |
//!
//! Every guest command carries a `--timeout` (or `-t`) of the phase's
//! length as a second bound behind `stop`.

use std::fmt;
use std::net::Ipv4Addr;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Port of the network stressors' iperf3.
pub const IPERF_PORT: u16 = 5201;

/// A stressor, by its name in suites and metric rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stressor {
    Memory,
    Fork,
    Cpu,
    Disk,
    NetReceive,
    NetSend,
}

impl Stressor {
    /// All stressors, in the paper's Table 2 order.
    pub const ALL: [Stressor; 6] = [
        Stressor::Memory,
        Stressor::Fork,
        Stressor::Cpu,
        Stressor::Disk,
        Stressor::NetReceive,
        Stressor::NetSend,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stressor::Memory => "memory",
            Stressor::Fork => "fork",
            Stressor::Cpu => "cpu",
            Stressor::Disk => "disk",
            Stressor::NetReceive => "net-receive",
            Stressor::NetSend => "net-send",
        }
    }

    pub fn parse(name: &str) -> Option<Stressor> {
        Stressor::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The stressed guest's command, bounded to `phase_s` seconds;
    /// `scratch` is the guest's scratch disk mount.
    pub fn guest_argv(self, phase_s: u64, scratch: &Path) -> Vec<String> {
        let t = format!("{phase_s}s");
        let words: Vec<String> = match self {
            Stressor::Memory => words(&["stress-ng", "--vm", "2", "--vm-bytes", "90%"]),
            Stressor::Fork => words(&["stress-ng", "--fork", "4", "--fork-max", "512"]),
            Stressor::Cpu => words(&["stress-ng", "--cpu", "0"]),
            Stressor::Disk => {
                let mut w = words(&["stress-ng", "--hdd", "2", "--hdd-bytes", "1g"]);
                w.extend(["--temp-path".into(), scratch.display().to_string()]);
                w
            }
            Stressor::NetReceive => {
                return words(&["iperf3", "-s", "-p", &IPERF_PORT.to_string()]);
            }
            Stressor::NetSend => {
                let host = super::netns::BRIDGE_ADDR.to_string();
                return words(&[
                    "iperf3",
                    "-c",
                    &host,
                    "-p",
                    &IPERF_PORT.to_string(),
                    "-t",
                    &phase_s.to_string(),
                ]);
            }
        };
        let mut w = words;
        w.extend(["--timeout".into(), t, "--metrics-brief".into()]);
        w
    }

    /// The host's part, run in the namespace: `iperf3` sending to the
    /// stressed guest at `guest` for `seconds` (`net-receive`), or
    /// receiving from it (`net-send`); `None` for the others.
    pub fn host_argv(self, guest: Ipv4Addr, seconds: u64) -> Option<Vec<String>> {
        let port = IPERF_PORT.to_string();
        match self {
            Stressor::NetReceive => Some(words(&[
                "iperf3",
                "-c",
                &guest.to_string(),
                "-p",
                &port,
                "-t",
                &seconds.to_string(),
            ])),
            Stressor::NetSend => Some(words(&[
                "iperf3",
                "-s",
                "-B",
                &super::netns::BRIDGE_ADDR.to_string(),
                "-p",
                &port,
            ])),
            _ => None,
        }
    }

    /// Whether the host part must start before `go` (a server the guest
    /// connects to) rather than after it.
    pub fn host_part_first(self) -> bool {
        self == Stressor::NetSend
    }
}

impl fmt::Display for Stressor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn words(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| (*s).to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_in_table_order() {
        // The names are the bundle format's list, in its order.
        let names: Vec<_> = Stressor::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(names, benchvm_format::stressor::STRESSORS);
        for s in Stressor::ALL {
            assert_eq!(Stressor::parse(s.name()), Some(s));
        }
        assert_eq!(Stressor::parse("network"), None);
    }

    #[test]
    fn every_guest_command_is_bounded_by_the_phase() {
        for s in Stressor::ALL {
            let argv = guest(s);
            let bounded = argv
                .windows(2)
                .any(|w| (w[0] == "--timeout" && w[1] == "90s") || (w[0] == "-t" && w[1] == "90"));
            assert!(bounded || s == Stressor::NetReceive, "{s}: {argv:?}");
        }
        assert!(guest(Stressor::Disk).contains(&"/mnt/s".to_string()));
    }

    #[test]
    fn network_stressors_have_a_host_part_pointing_at_the_other_side() {
        let g = Ipv4Addr::new(10, 77, 0, 2);
        let rx = Stressor::NetReceive.host_argv(g, 30).expect("host part");
        assert!(rx.contains(&"10.77.0.2".to_string()) && rx.contains(&"-c".to_string()));
        let tx = Stressor::NetSend.host_argv(g, 30).expect("host part");
        assert!(tx.contains(&"-s".to_string()));
        assert!(guest(Stressor::NetSend).contains(&"10.77.0.1".to_string()));
        assert!(Stressor::Cpu.host_argv(g, 30).is_none());
    }

    fn guest(s: Stressor) -> Vec<String> {
        s.guest_argv(90, Path::new("/mnt/s"))
    }
}
