//! Unit tests of the parsers, over real captures and over malformed text.

use super::parsers::*;
use super::test_samples::*;

/// Inputs no parser may panic on.
const MALFORMED: &[&str] = &[
    "",
    "\n\n\n",
    ":",
    "::::",
    "garbage without any structure",
    "key:\nvalue\n: orphan value\n",
    "processor\t:\nmodel name\t:\nmicrocode\t:\nflags\t:\n",
    "MemTotal:\nMemTotal: lots kB\nMemFree: -5 kB\n",
    "=\n==\n\"=\"\nNAME=\"unterminated\nPRETTY_NAME='\n",
    "Filesystem Type\n",
    "{\"filesystems\": []}",
    "{\"filesystems\": [{\"fstype\": 7}]}",
    "\u{0}\u{ffff}é€ \t:\t\u{1F600}",
];

#[test]
fn cpuinfo_real() {
    let info = parse_cpuinfo(CPUINFO);
    assert_eq!(info.processors, 2);
    assert_eq!(info.model_name.as_deref(), Some("AMD EPYC"));
    assert_eq!(info.microcode.as_deref(), Some("0x1000065"));
    assert!(info.hypervisor_flag);
    assert_eq!(
        cpuinfo_microcode_lines(CPUINFO),
        vec!["processor 0: 0x1000065", "processor 1: 0x1000065"]
    );
}

#[test]
fn cpuinfo_without_hypervisor_flag_and_arm_style() {
    let x86 = "processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu vme hypervisor_not sse\n";
    let info = parse_cpuinfo(x86);
    assert!(!info.hypervisor_flag);
    assert_eq!(info.microcode, None);

    // aarch64 has no "model name" nor "microcode"; flags are "Features".
    let arm = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm\nCPU implementer\t: 0x41\n\n\
               processor\t: 1\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm\n";
    let info = parse_cpuinfo(arm);
    assert_eq!(info.processors, 2);
    assert_eq!(info.model_name, None);
    assert!(!info.hypervisor_flag);
}

#[test]
fn cpuinfo_malformed() {
    for text in MALFORMED {
        let info = parse_cpuinfo(text);
        assert_eq!(info.model_name, None, "{text:?}");
        assert_eq!(info.microcode, None, "{text:?}");
        let _ = cpuinfo_microcode_lines(text);
    }
    assert_eq!(parse_cpuinfo(""), CpuInfo::default());
}

#[test]
fn lscpu_real() {
    let lscpu = parse_lscpu(LSCPU);
    assert_eq!(lscpu.model_name().as_deref(), Some("AMD EPYC"));
    assert_eq!(lscpu.cpus(), Some(2));
    assert_eq!(lscpu.online_cpus(), Some(2));
    assert_eq!(lscpu.sockets(), Some(1));
    assert_eq!(lscpu.cores_per_socket(), Some(2));
    assert_eq!(lscpu.threads_per_core(), Some(1));
    assert_eq!(lscpu.numa_nodes(), Some(1));
    assert_eq!(lscpu.hypervisor_vendor().as_deref(), Some("KVM"));
    assert_eq!(lscpu.get("Architecture"), Some("x86_64"));
    // A value holding colons is kept whole.
    assert_eq!(
        lscpu.get("Vulnerability Spectre v1"),
        Some("Mitigation; usercopy/swapgs barriers and __user pointer sanitization")
    );
    assert_eq!(
        lscpu.numa_lines(),
        vec!["NUMA node(s): 1", "NUMA node0 CPU(s): 0,1"]
    );
}

#[test]
fn lscpu_odd_values() {
    // Some arm64 hosts print "-" for sockets and a second "Model name".
    let text =
        "Model name:  Neoverse-N1\nSocket(s):   -\nModel name:  BIOS name\nCore(s) per socket: x\n";
    let lscpu = parse_lscpu(text);
    assert_eq!(lscpu.model_name().as_deref(), Some("Neoverse-N1"));
    assert_eq!(lscpu.sockets(), None);
    assert_eq!(lscpu.cores_per_socket(), None);
}

#[test]
fn lscpu_malformed() {
    for text in MALFORMED {
        let lscpu = parse_lscpu(text);
        assert_eq!(lscpu.cpus(), None, "{text:?}");
        assert_eq!(lscpu.sockets(), None, "{text:?}");
        assert_eq!(lscpu.model_name(), None, "{text:?}");
        let _ = lscpu.numa_lines();
        let _ = lscpu.online_cpus();
    }
}

#[test]
fn meminfo_real() {
    assert_eq!(mem_total_kib(MEMINFO), Some(24_684_092));
    let all = parse_meminfo(MEMINFO);
    assert_eq!(all.get("SwapTotal"), Some(&0));
    assert_eq!(all.get("Hugepagesize"), Some(&2048));
    assert_eq!(all.get("HugePages_Total"), Some(&0));
    assert_eq!(all.get("Active(anon)"), Some(&1556));
}

#[test]
fn meminfo_malformed() {
    for text in MALFORMED {
        assert_eq!(mem_total_kib(text), None, "{text:?}");
    }
    assert_eq!(mem_total_kib("MemTotal: 99999999999999999999999 kB"), None);
}

#[test]
fn os_release_real() {
    assert_eq!(
        os_pretty_name(OS_RELEASE).as_deref(),
        Some("Debian GNU/Linux 12 (bookworm)")
    );
    let fields = parse_os_release(OS_RELEASE);
    assert_eq!(fields.get("ID").map(String::as_str), Some("debian"));
    assert_eq!(fields.get("VERSION_ID").map(String::as_str), Some("12"));
    assert_eq!(
        fields.get("HOME_URL").map(String::as_str),
        Some("https://www.debian.org/")
    );
}

#[test]
fn os_release_quoting_and_fallbacks() {
    let text = "# comment\nNAME='Some OS'\nVERSION=\"1 \\\"beta\\\"\"\nBAD LINE\nID=x=y\n";
    let fields = parse_os_release(text);
    assert_eq!(fields.get("NAME").map(String::as_str), Some("Some OS"));
    assert_eq!(
        fields.get("VERSION").map(String::as_str),
        Some("1 \"beta\"")
    );
    assert_eq!(fields.get("ID").map(String::as_str), Some("x=y"));
    assert_eq!(os_pretty_name(text).as_deref(), Some("Some OS 1 \"beta\""));
    assert_eq!(os_pretty_name("NAME=Alpine").as_deref(), Some("Alpine"));
    assert_eq!(
        os_pretty_name("PRETTY_NAME=\"\"\nNAME=Alpine").as_deref(),
        Some("Alpine")
    );
}

#[test]
fn os_release_malformed() {
    for text in MALFORMED {
        let _ = parse_os_release(text);
        let _ = os_pretty_name(text);
    }
    for text in ["", "=\n==", "garbage", "ID=debian", "PRETTY_NAME=\"\""] {
        assert_eq!(os_pretty_name(text), None, "{text:?}");
    }
    // An unterminated quote is kept as written rather than lost.
    assert_eq!(os_pretty_name("NAME=\"Odd").as_deref(), Some("\"Odd"));
}

#[test]
fn cpulists() {
    assert_eq!(count_cpulist("0-1\n"), Some(2));
    assert_eq!(count_cpulist("0"), Some(1));
    assert_eq!(count_cpulist("0-3,8,10-11"), Some(7));
    assert_eq!(count_cpulist(""), None);
    assert_eq!(count_cpulist("3-1"), None);
    assert_eq!(count_cpulist("a-b"), None);
    assert_eq!(count_cpulist("0,,1"), None);
    assert_eq!(count_cpulist("0-4294967295"), None);
}

#[test]
fn scratch_fs_real() {
    assert_eq!(df_fs_type(DF_T).as_deref(), Some("ext4"));
    assert_eq!(findmnt_fs_type(FINDMNT_J).as_deref(), Some("ext4"));
    // A long device name wraps the rest of the line.
    let wrapped = "Filesystem     Type 1K-blocks Used Available Use% Mounted on\n\
                   /dev/mapper/a-very-long-volume-name\n               xfs  100 1 99 1% /scratch\n";
    assert_eq!(df_fs_type(wrapped).as_deref(), Some("xfs"));
}

#[test]
fn scratch_fs_malformed() {
    for text in MALFORMED {
        assert_eq!(df_fs_type(text), None, "{text:?}");
        assert_eq!(findmnt_fs_type(text), None, "{text:?}");
    }
    assert_eq!(df_fs_type("df: /x: No such file or directory\n"), None);
}

#[test]
fn first_lines() {
    assert_eq!(first_line("\n  6.1.0 \nmore").as_deref(), Some("6.1.0"));
    assert_eq!(first_line(" \n\t\n"), None);
}
