//! What this build of collect is, and which tools' versions it records:
//! a leaf every part may read (the run folder's tool record, the
//! environment capture, imports).

/// Version of this build.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git commit it was built from (empty when unknown, see build.rs).
pub const COMMIT: &str = env!("BENCHVM_GIT_COMMIT");

/// The git commit, when known.
pub fn commit() -> Option<String> {
    (!COMMIT.is_empty()).then(|| COMMIT.to_owned())
}

/// A tool whose version the capture records: `argv` is run and the first
/// line of its output kept, e.g. `("sysbench", &["sysbench", "--version"])`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolProbe {
    pub name: &'static str,
    pub argv: &'static [&'static str],
}

/// Versions recorded in the environment capture.
pub const PROBES: &[ToolProbe] = &[
    ToolProbe {
        name: "sysbench",
        argv: &["sysbench", "--version"],
    },
    ToolProbe {
        name: "fio",
        argv: &["fio", "--version"],
    },
    ToolProbe {
        name: "gcc",
        argv: &["gcc", "--version"],
    },
    ToolProbe {
        name: "make",
        argv: &["make", "--version"],
    },
    ToolProbe {
        name: "qemu",
        argv: &["qemu-system-x86_64", "--version"],
    },
    ToolProbe {
        name: "xl",
        argv: &["xl", "info", "xen_version"],
    },
    ToolProbe {
        name: "stress-ng",
        argv: &["stress-ng", "--version"],
    },
    ToolProbe {
        name: "iperf3",
        argv: &["iperf3", "--version"],
    },
    ToolProbe {
        name: "nginx",
        argv: &["nginx", "-v"],
    },
];
