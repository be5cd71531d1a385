//! Writes a synthetic run folder, as `collect run` leaves it, for benchmarks
//! of packing and verifying (`scripts/bench-bundle.sh`).
//!
//!     cargo run --release -p benchvm-format --example gen-run -- OUT_DIR [MIB]
//!
//! `MIB` (default 1024) is the total size of the files. The content is
//! deterministic (a fixed seed) and looks like real logs: a kernel build's
//! `CC`/`LD` lines with warnings, sysbench's per-second reports, fio's
//! progress and summaries, guest consoles with dmesg timestamps, plus the
//! environment capture, configs and a valid metrics table. Like real logs it
//! compresses about 5-10x with `zstd -3`: the text repeats, the numbers,
//! addresses and timestamps do not.
#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use benchvm_format::manifest::{RunMeta, Tool};
use benchvm_format::metrics::{self, Direction, MetricRow, Status, Unit};

/// splitmix64 (Steele, Lea, Flood: "Fast splittable pseudorandom number
/// generators", OOPSLA 2014): small, fast and good enough for fake logs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
    fn float(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const TOP: &[&str] = &[
    "drivers", "fs", "net", "kernel", "mm", "arch/x86", "sound", "crypto", "block", "lib",
    "security", "virt", "tools", "init", "ipc",
];
const SYLLABLES: &[&str] = &[
    "ac", "al", "bus", "cfg", "ctl", "dev", "dma", "en", "ext", "fb", "gpio", "hw", "i2c", "io",
    "irq", "key", "link", "mem", "mod", "net", "nv", "of", "pci", "phy", "pm", "port", "qos", "rx",
    "sched", "spi", "sys", "tx", "usb", "vm", "wq", "xfs", "zone", "core", "main", "util",
];
const WARNINGS: &[&str] = &[
    "unused variable 'ret' [-Wunused-variable]",
    "'len' may be used uninitialized [-Wmaybe-uninitialized]",
    "comparison of integer expressions of different signedness [-Wsign-compare]",
    "this statement may fall through [-Wimplicit-fallthrough=]",
];
const DMESG: &[&str] = &[
    "pci 0000:00:{:02x}.0: [1af4:1000] type 00 class 0x020000",
    "virtio_net virtio{}: eth0: link up",
    "EXT4-fs (vda{}): mounted filesystem with ordered data mode. Quota mode: none.",
    "random: crng init done, {} bits of entropy",
    "audit: type=1400 audit({}.123:2): apparmor=\"STATUS\" operation=\"profile_load\"",
    "systemd[1]: Started Journal Service (pid {}).",
    "clocksource: tsc: mask: 0xffffffffffffffff max_cycles: 0x{:x}, max_idle_ns: 440795 ns",
    "Memory: {}K/2096696K available (16384K kernel code, 2048K rwdata)",
];

fn component(rng: &mut Rng, out: &mut String) {
    for _ in 0..1 + rng.below(3) {
        out.push_str(rng.pick(SYLLABLES));
    }
}

/// The source tree a kernel build walks: folders, and file stems.
struct Tree {
    dirs: Vec<String>,
    stems: Vec<String>,
}

impl Tree {
    fn new(rng: &mut Rng) -> Tree {
        let dirs = (0..600)
            .map(|_| {
                let mut path = String::from(rng.pick(TOP));
                for _ in 0..1 + rng.below(3) {
                    path.push('/');
                    component(rng, &mut path);
                }
                path
            })
            .collect();
        let stems = (0..4000)
            .map(|_| {
                let mut stem = String::new();
                component(rng, &mut stem);
                stem.push('_');
                component(rng, &mut stem);
                stem
            })
            .collect();
        Tree { dirs, stems }
    }
}

/// Fills `out` with about `size` bytes of lines from `line`.
fn log(rng: &mut Rng, size: usize, mut line: impl FnMut(&mut Rng, u64, &mut String)) -> String {
    let mut out = String::with_capacity(size + 256);
    let mut n = 0;
    while out.len() < size {
        line(rng, n, &mut out);
        n += 1;
    }
    out.truncate(out[..size.min(out.len())].rfind('\n').map_or(0, |i| i + 1));
    out
}

fn kernel_build(rng: &mut Rng, tree: &Tree, size: usize) -> String {
    // A build goes folder by folder: runs of objects share their folder.
    let mut dir = "";
    let mut left = 0;
    log(rng, size, |rng, _, out| {
        if left == 0 {
            dir = &tree.dirs[rng.below(tree.dirs.len() as u64) as usize];
            left = 1 + rng.below(24);
        }
        left -= 1;
        let stem = &tree.stems[rng.below(tree.stems.len() as u64) as usize];
        match rng.below(60) {
            0 => {
                let (l, c) = (rng.below(3000), rng.below(80));
                let w = rng.pick(WARNINGS);
                writeln!(out, "{dir}/{stem}.c:{l}:{c}: warning: {w}").unwrap();
            }
            1..=3 => writeln!(out, "  LD [M]  {dir}/{stem}.ko").unwrap(),
            4 => writeln!(out, "  AR      {dir}/built-in.a").unwrap(),
            _ => writeln!(out, "  CC      {dir}/{stem}.o").unwrap(),
        }
    })
}

fn sysbench(rng: &mut Rng, size: usize) -> String {
    let mut out = String::from("sysbench 1.0.20 (using system LuaJIT 2.1.0-beta3)\n\n");
    out.push_str("Running the test with following options:\nNumber of threads: 2\n");
    out.push_str("Report intermediate results every 1 second(s)\n\n");
    out += &log(rng, size.saturating_sub(out.len()), |rng, n, out| {
        let eps = rng.float(1500.0, 1700.0);
        let lat = rng.float(1.1, 3.9);
        writeln!(
            out,
            "[ {}s ] thds: 2 eps: {eps:.2} lat (ms,95%): {lat:.2}",
            n + 1
        )
        .unwrap();
    });
    out
}

fn fio(rng: &mut Rng, size: usize) -> String {
    log(rng, size, |rng, n, out| {
        if n % 60 == 59 {
            let bw = rng.below(900) + 100;
            writeln!(
                out,
                "  write: IOPS={}, BW={bw}MiB/s ({}MB/s)",
                bw * 256,
                bw * 1048 / 1000
            )
            .unwrap();
            let (lo, hi, avg) = (rng.below(50), rng.below(9000) + 100, rng.float(20.0, 90.0));
            writeln!(
                out,
                "    clat (usec): min={lo}, max={hi}, avg={avg:.2}, stdev={:.2}",
                avg / 3.0
            )
            .unwrap();
            writeln!(
                out,
                "     lat (usec): min={}, max={}, avg={:.2}",
                lo + 2,
                hi + 7,
                avg + 1.5
            )
            .unwrap();
            let p: Vec<String> = [1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99]
                .iter()
                .map(|q| format!("{q:2}.00th=[{:5}]", rng.below(200) + 10))
                .collect();
            for chunk in p.chunks(4) {
                writeln!(out, "     | {}", chunk.join(", ")).unwrap();
            }
        } else {
            let pct = (n % 60) as f64 * 100.0 / 60.0;
            let bw = rng.below(900) + 100;
            writeln!(
                out,
                "Jobs: 1 (f=1): [W(1)][{pct:.1}%][w={bw}MiB/s][w={}k IOPS][eta 00m:{:02}s]",
                bw / 4,
                59 - n % 60
            )
            .unwrap();
        }
    })
}

fn console(rng: &mut Rng, size: usize) -> String {
    let mut clock = 0.0f64;
    log(rng, size, |rng, _, out| {
        clock += rng.float(0.0, 0.02);
        let text = rng
            .pick(DMESG)
            .replacen("{:02x}", &format!("{:02x}", rng.below(32)), 1)
            .replacen("{:x}", &format!("{:x}", rng.next() >> 20), 1)
            .replacen("{}", &rng.below(100_000).to_string(), 1);
        writeln!(out, "[{clock:12.6}] {text}").unwrap();
    })
}

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

fn row(run: &str, platform: &str, workload: &str, rep: u32, value: f64) -> MetricRow {
    let (metric, unit, direction) = match workload {
        "cpu" => ("events_per_sec", Unit::EVENTS_PER_SECOND, Direction::Higher),
        "kernel-compile" => ("wall_time", Unit::SECONDS, Direction::Lower),
        _ => ("bandwidth", Unit::MEGABYTES_PER_SECOND, Direction::Higher),
    };
    MetricRow {
        platform: platform.into(),
        accel: if platform == "native" {
            "none"
        } else {
            platform
        }
        .into(),
        emulated: false,
        experiment: "overall".into(),
        workload: workload.into(),
        metric: metric.into(),
        unit,
        direction,
        repetition: rep,
        guest: (platform != "native").then_some(1),
        n_guests: (platform != "native").then_some(1),
        stressor: None,
        role: None,
        status: Status::Ok,
        value: Some(value),
        run: run.into(),
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let root = args.next().expect("usage: gen-run OUT_DIR [MIB]");
    let mib: usize = args
        .next()
        .map_or(1024, |s| s.parse().expect("MIB: a number"));
    let root = Path::new(&root);
    let mut rng = Rng(0x6265_6e63_6876_6d21);
    let tree = Tree::new(&mut rng);

    let meta = RunMeta {
        tool: Tool {
            name: "collect".into(),
            version: "0.1.0".into(),
            git_commit: None,
        },
        created: "2026-11-25T18:00:00Z".into(),
        host: "lab-03".into(),
        suite: "bench".into(),
        platforms: vec!["native".into(), "kvm".into(), "xen".into()],
        label: "bench bundle".into(),
    };
    write(
        root,
        "meta.json",
        &serde_json::to_vec_pretty(&meta).unwrap(),
    );
    for name in ["uname", "lscpu", "cpuinfo", "meminfo", "dmidecode", "tools"] {
        write(
            root,
            &format!("env/{name}.txt"),
            console(&mut rng, 20_000).as_bytes(),
        );
    }
    write(root, "env/summary.json", b"{\"host\": \"lab-03\"}\n");
    write(
        root,
        "config/suite.toml",
        b"name = \"bench\"\nplatforms = [\"native\", \"kvm\", \"xen\"]\n",
    );

    // Weights of each run's logs; the kernel build dominates, as it does in
    // real suites. Scaled below so that the files add up to `mib` MiB.
    let workloads = [
        ("cpu", 3),
        ("kernel-compile", 40),
        ("disk-write", 4),
        ("disk-read", 4),
    ];
    let platforms = ["native", "kvm", "xen"];
    let reps = 4u32;
    // Each guest run also has a console log of 2 units.
    let guests = platforms.iter().filter(|p| **p != "native").count();
    let weights: usize = workloads.iter().map(|(_, w)| w).sum();
    let units = reps as usize * (platforms.len() * weights + guests * workloads.len() * 2);
    let unit = (mib << 20) / units;

    let mut rows = Vec::new();
    let mut plan = Vec::new();
    for platform in platforms {
        for (workload, weight) in workloads {
            for rep in 1..=reps {
                let run = format!("runs/{platform}/overall/{workload}/rep-{rep:02}");
                plan.push(run.clone());
                let size = unit * weight;
                let stdout = match workload {
                    "cpu" => sysbench(&mut rng, size),
                    "kernel-compile" => kernel_build(&mut rng, &tree, size),
                    _ => fio(&mut rng, size),
                };
                write(root, &format!("{run}/stdout.log"), stdout.as_bytes());
                let stderr = if rep == 1 {
                    kernel_build(&mut rng, &tree, 4096)
                } else {
                    String::new()
                };
                write(root, &format!("{run}/stderr.log"), stderr.as_bytes());
                if platform != "native" {
                    write(
                        root,
                        &format!("{run}/console.log"),
                        console(&mut rng, unit * 2).as_bytes(),
                    );
                }
                let value = rng.float(100.0, 2000.0);
                let json = format!("{{\"status\": \"ok\", \"exit\": 0, \"wall_s\": {value:.3}}}\n");
                write(root, &format!("{run}/run.json"), json.as_bytes());
                rows.push(row(&run, platform, workload, rep, value));
            }
        }
    }
    write(
        root,
        "config/plan.json",
        &serde_json::to_vec_pretty(&plan).unwrap(),
    );
    write(root, "metrics.ndjson", &metrics::to_ndjson(&rows));
}
