//! Reading every source, writing its raw capture file, and keeping the text
//! the summary is derived from.

use std::collections::BTreeMap;
use std::path::Path;

use super::command::{run_with_deadline, CommandOutcome, DEFAULT_DEADLINE};
use super::parsers::{cpuinfo_microcode_lines, first_line, parse_cpuinfo, parse_lscpu};
use super::summary::Inputs;
use super::sysfs::{self, read_text};
use super::{CaptureError, RawDir, ToolProbe};

fn run(argv: &[&str]) -> CommandOutcome {
    run_with_deadline(argv, DEFAULT_DEADLINE)
}

/// Text of a file, or the note of why it cannot be read, for a raw file.
fn file_or_note(path: &str) -> (String, Option<String>) {
    match read_text(path) {
        Ok(text) => (text.clone(), Some(text)),
        Err(note) => (format!("{note}\n"), None),
    }
}

/// A titled section of a raw file holding several sources.
fn section(title: &str, body: &str) -> String {
    let mut out = format!("== {title} ==\n{body}");
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// Reads every source, writing the raw files into `raw` as it goes.
pub fn gather(
    raw: &RawDir,
    scratch: &Path,
    tools: &[ToolProbe],
    collect_version: &str,
    collect_commit: Option<&str>,
) -> Result<Inputs, CaptureError> {
    let mut inputs = Inputs::default();

    // uname.txt: `uname -a`, plus the fields the summary uses.
    let mut text = String::new();
    let mut uname = |flag: &str| {
        let argv = ["uname", flag];
        let out = run(&argv);
        text.push_str(&out.render(&argv));
        out.ok_stdout().and_then(first_line)
    };
    uname("-a");
    inputs.kernel = uname("-r").or_else(|| sysfs::read_attr("/proc/sys/kernel/osrelease"));
    inputs.arch = uname("-m");
    let nodename = uname("-n");
    inputs.hostname = sysfs::hostname().or(nodename);
    raw.write("uname.txt", &text)?;

    let (text, os_release) = match read_text("/etc/os-release") {
        Ok(text) => (text.clone(), Some(text)),
        Err(note) => match read_text("/usr/lib/os-release") {
            Ok(text) => (text.clone(), Some(text)),
            Err(note2) => (format!("{note}\n{note2}\n"), None),
        },
    };
    inputs.os_release = os_release;
    raw.write("os-release.txt", &text)?;

    let (text, cmdline) = file_or_note("/proc/cmdline");
    inputs.cmdline = cmdline;
    raw.write("cmdline.txt", &text)?;

    let lscpu = run(&["lscpu"]);
    raw.write("lscpu.txt", &lscpu.render(&["lscpu"]))?;
    inputs.lscpu = lscpu.ok_stdout().map(str::to_string);
    let parsed_lscpu = parse_lscpu(inputs.lscpu.as_deref().unwrap_or(""));

    let lscpu_json = run(&["lscpu", "-J"]);
    let text = match lscpu_json.ok_stdout() {
        Some(json) if !json.trim().is_empty() => json.to_string(),
        _ => failure_json(&["lscpu", "-J"], &lscpu_json),
    };
    raw.write("lscpu.json", &text)?;

    let (text, cpuinfo) = file_or_note("/proc/cpuinfo");
    inputs.cpuinfo = cpuinfo;
    raw.write("cpuinfo.txt", &text)?;
    let cpuinfo = inputs.cpuinfo.as_deref().unwrap_or("");

    let (text, meminfo) = file_or_note("/proc/meminfo");
    inputs.meminfo = meminfo;
    raw.write("meminfo.txt", &text)?;

    // numa.txt
    let mut text = String::new();
    let lines = parsed_lscpu.numa_lines();
    let body = if lines.is_empty() {
        "no NUMA lines in lscpu output\n".to_string()
    } else {
        lines.join("\n") + "\n"
    };
    text.push_str(&section("lscpu", &body));
    let (nodes, count) = sysfs::numa_nodes();
    inputs.numa_node_dirs = count;
    text.push_str(&section(sysfs::NODE_DIR, &nodes));
    let numactl = ["numactl", "--hardware"];
    let out = run(&numactl);
    let body = if out.not_found {
        "numactl not installed\n".to_string()
    } else {
        out.render(&numactl)
    };
    text.push_str(&section("numactl", &body));
    raw.write("numa.txt", &text)?;

    raw.write("cpufreq.txt", &sysfs::cpufreq_report())?;
    inputs.governor = sysfs::governor_cpu0();
    inputs.online_cpulist = sysfs::online_cpulist();
    inputs.parallelism = std::thread::available_parallelism()
        .ok()
        .and_then(|n| u32::try_from(n.get()).ok());

    let (text, control) = sysfs::smt();
    inputs.smt_control = control;
    raw.write("smt.txt", &text)?;

    let (text, vulnerabilities) = sysfs::vulnerabilities();
    inputs.vulnerabilities = vulnerabilities;
    raw.write("vulnerabilities.txt", &text)?;

    // microcode.txt
    let lines = cpuinfo_microcode_lines(cpuinfo);
    let body = if lines.is_empty() {
        "no microcode field in /proc/cpuinfo\n".to_string()
    } else {
        lines.join("\n") + "\n"
    };
    let mut text = section("/proc/cpuinfo", &body);
    let version = sysfs::microcode_version_cpu0().unwrap_or_else(|| "not present".into());
    text.push_str(&section("cpu0/microcode/version", &version));
    raw.write("microcode.txt", &text)?;

    let dmidecode = ["dmidecode", "-t", "system", "-t", "bios", "-t", "processor"];
    raw.write("dmidecode.txt", &run(&dmidecode).render(&dmidecode))?;

    let lsblk_json = [
        "lsblk",
        "-J",
        "-o",
        "NAME,SIZE,TYPE,ROTA,MODEL,FSTYPE,MOUNTPOINT",
    ];
    let out = run(&lsblk_json);
    let mut text = out.render(&lsblk_json);
    if !out.success() {
        text.push_str(&run(&["lsblk"]).render(&["lsblk"]));
    }
    raw.write("lsblk.txt", &text)?;

    // scratch-fs.txt
    let scratch = scratch.to_string_lossy();
    let df = ["df", "-T", scratch.as_ref()];
    let findmnt = ["findmnt", "-T", scratch.as_ref(), "-J"];
    let (df_out, findmnt_out) = (run(&df), run(&findmnt));
    raw.write(
        "scratch-fs.txt",
        &(df_out.render(&df) + &findmnt_out.render(&findmnt)),
    )?;
    inputs.df = df_out.ok_stdout().map(str::to_string);
    inputs.findmnt = findmnt_out.ok_stdout().map(str::to_string);

    let (text, versions) = probe_tools(tools);
    inputs.tools = versions;
    raw.write("tools.txt", &text)?;

    // virt.txt
    let mut text = String::new();
    for argv in [
        &["systemd-detect-virt"][..],
        &["systemd-detect-virt", "--vm"],
    ] {
        let out = run(argv);
        text.push_str(&out.render(argv));
        if argv.len() == 2 && !out.not_found && !out.timed_out {
            // Exits 1 when it prints "none".
            inputs.detect_virt = first_line(&out.stdout);
        }
    }
    let flag = if parse_cpuinfo(cpuinfo).hypervisor_flag {
        "yes"
    } else {
        "no"
    };
    text.push_str(&format!("cpuinfo hypervisor flag: {flag}\n"));
    let vendor = parsed_lscpu.hypervisor_vendor();
    text.push_str(&format!(
        "lscpu Hypervisor vendor: {}\n",
        vendor.as_deref().unwrap_or("-")
    ));
    let (dmi_vendor, dmi_product) = sysfs::dmi();
    for (name, value) in [("sys_vendor", &dmi_vendor), ("product_name", &dmi_product)] {
        let value = value.as_deref().unwrap_or("not available");
        text.push_str(&format!("{}/{name}: {value}\n", sysfs::DMI_DIR));
    }
    (inputs.dmi_vendor, inputs.dmi_product) = (dmi_vendor, dmi_product);
    raw.write("virt.txt", &text)?;

    let text = format!(
        "collect_version: {collect_version}\ncollect_commit: {}\n",
        collect_commit.unwrap_or("unknown")
    );
    raw.write("collect.txt", &text)?;

    Ok(inputs)
}

/// A JSON object describing a failed command, so a `.json` raw file stays
/// JSON.
fn failure_json(argv: &[&str], out: &CommandOutcome) -> String {
    let value = serde_json::json!({
        "error": out.render(argv).trim_end(),
        "argv": argv,
        "status": out.status,
        "timed_out": out.timed_out,
        "not_found": out.not_found,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
}

/// Runs every probe: (tools.txt text, name → version line).
fn probe_tools(tools: &[ToolProbe]) -> (String, BTreeMap<String, String>) {
    let mut text = String::new();
    let mut versions = BTreeMap::new();
    // All at once: on an emulated host a probe can take seconds just to
    // load its libraries, and they are independent.
    let outs: Vec<CommandOutcome> = std::thread::scope(|scope| {
        let handles: Vec<_> = tools
            .iter()
            .map(|probe| scope.spawn(|| run(probe.argv)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    for (probe, out) in tools.iter().zip(outs) {
        let line = if out.not_found || probe.argv.is_empty() {
            "not found".to_string()
        } else if out.timed_out {
            "timed out".to_string()
        } else {
            first_line(&out.stdout)
                .or_else(|| first_line(&out.stderr))
                .unwrap_or_else(|| match out.status {
                    Some(code) => format!("no output (exit status {code})"),
                    None => "no output".to_string(),
                })
        };
        text.push_str(&format!(
            "{}: $ {}\n  {line}\n",
            probe.name,
            probe.argv.join(" ")
        ));
        versions.insert(probe.name.to_string(), line);
    }
    if tools.is_empty() {
        text.push_str("no tools probed\n");
    }
    (text, versions)
}
