//! Building the [`EnvSummary`] out of the captured text: pure, so the whole
//! derivation can be tested without the host.

use std::collections::BTreeMap;

use benchvm_format::env::EnvSummary;

use super::parsers::{
    count_cpulist, df_fs_type, findmnt_fs_type, first_line, mem_total_kib, os_pretty_name,
    parse_cpuinfo, parse_lscpu,
};

/// What the capture read, as text, before any interpretation. `None` means
/// the source was missing or its command failed.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub hostname: Option<String>,
    /// `uname -r`.
    pub kernel: Option<String>,
    /// `uname -m`.
    pub arch: Option<String>,
    pub os_release: Option<String>,
    pub cmdline: Option<String>,
    pub cpuinfo: Option<String>,
    /// Plain `lscpu` output.
    pub lscpu: Option<String>,
    pub meminfo: Option<String>,
    /// `/sys/devices/system/cpu/online`.
    pub online_cpulist: Option<String>,
    /// Last resort for the CPU count (`available_parallelism`).
    pub parallelism: Option<u32>,
    pub smt_control: Option<String>,
    pub governor: Option<String>,
    /// Count of `/sys/devices/system/node/node*`.
    pub numa_node_dirs: usize,
    /// Output of `systemd-detect-virt --vm`, when it ran.
    pub detect_virt: Option<String>,
    pub dmi_vendor: Option<String>,
    pub dmi_product: Option<String>,
    pub vulnerabilities: BTreeMap<String, String>,
    /// `df -T <scratch>` output.
    pub df: Option<String>,
    /// `findmnt -T <scratch> -J` output.
    pub findmnt: Option<String>,
    /// Tool name → first line of its probe's output (or `not found`...).
    pub tools: BTreeMap<String, String>,
}

fn trimmed(value: &Option<String>) -> Option<String> {
    value.as_deref().and_then(first_line)
}

/// Derives the summary; `platforms` is left empty.
pub fn build(inputs: &Inputs, collect_version: &str, collect_commit: Option<&str>) -> EnvSummary {
    let cpuinfo = parse_cpuinfo(inputs.cpuinfo.as_deref().unwrap_or(""));
    let lscpu = parse_lscpu(inputs.lscpu.as_deref().unwrap_or(""));

    let cpus = inputs
        .online_cpulist
        .as_deref()
        .and_then(count_cpulist)
        .or_else(|| lscpu.online_cpus())
        .or_else(|| lscpu.cpus())
        .or((cpuinfo.processors > 0).then_some(cpuinfo.processors))
        .or(inputs.parallelism);

    let numa_nodes = u32::try_from(inputs.numa_node_dirs)
        .ok()
        .filter(|n| *n > 0)
        .or_else(|| lscpu.numa_nodes())
        .filter(|n| *n > 0);

    let scratch_fs = inputs
        .df
        .as_deref()
        .and_then(df_fs_type)
        .or_else(|| inputs.findmnt.as_deref().and_then(findmnt_fs_type));

    EnvSummary {
        host: trimmed(&inputs.hostname).unwrap_or_default(),
        kernel: trimmed(&inputs.kernel),
        os: inputs.os_release.as_deref().and_then(os_pretty_name),
        arch: trimmed(&inputs.arch),
        cpu_model: cpuinfo.model_name.or_else(|| lscpu.model_name()),
        cpus,
        sockets: lscpu.sockets(),
        cores_per_socket: lscpu.cores_per_socket(),
        threads_per_core: lscpu.threads_per_core(),
        smt: trimmed(&inputs.smt_control),
        microcode: cpuinfo.microcode,
        governor: trimmed(&inputs.governor),
        mem_total_kib: inputs.meminfo.as_deref().and_then(mem_total_kib),
        numa_nodes,
        kernel_cmdline: inputs
            .cmdline
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string),
        host_virtualization: host_virtualization(
            inputs.detect_virt.as_deref(),
            inputs.dmi_vendor.as_deref(),
            inputs.dmi_product.as_deref(),
            cpuinfo.hypervisor_flag,
            lscpu.hypervisor_vendor().as_deref(),
        ),
        vulnerabilities: inputs.vulnerabilities.clone(),
        mitigations: None,
        transparent_hugepage: None,
        scratch_fs,
        tools: inputs.tools.clone(),
        collect_version: collect_version.to_string(),
        collect_commit: collect_commit.map(str::to_string),
        platforms: BTreeMap::new(),
    }
}

/// DMI vendor / product words that mean a virtual machine.
const DMI_VM_MARKERS: &[&str] = &[
    "qemu",
    "kvm",
    "vmware",
    "virtualbox",
    "innotek",
    "xen",
    "bochs",
    "parallels",
    "virtual machine",
    "amazon ec2",
    "google compute engine",
    "openstack",
    "cloud hypervisor",
    "firecracker",
    "bhyve",
    "hyper-v",
];

/// The hypervisor the host runs under: `systemd-detect-virt --vm` unless it
/// says `none`, else the DMI product when DMI names a VM, else
/// `hypervisor flag` (with lscpu's hypervisor vendor when known), else None.
pub fn host_virtualization(
    detect_virt: Option<&str>,
    dmi_vendor: Option<&str>,
    dmi_product: Option<&str>,
    hypervisor_flag: bool,
    lscpu_vendor: Option<&str>,
) -> Option<String> {
    if let Some(detected) = detect_virt.and_then(first_line) {
        if detected != "none" {
            return Some(detected);
        }
    }
    let dmi_text =
        format!("{} {}", dmi_vendor.unwrap_or(""), dmi_product.unwrap_or("")).to_lowercase();
    if DMI_VM_MARKERS.iter().any(|m| dmi_text.contains(m)) {
        let product = dmi_product.or(dmi_vendor).map(str::trim).unwrap_or("");
        return Some(product.to_string());
    }
    if hypervisor_flag {
        return Some(match lscpu_vendor {
            Some(vendor) => format!("hypervisor flag ({vendor})"),
            None => "hypervisor flag".to_string(),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::test_samples::{CPUINFO, DF_T, FINDMNT_J, LSCPU, MEMINFO, OS_RELEASE};
    use super::*;

    #[test]
    fn builds_from_real_samples() {
        let inputs = Inputs {
            hostname: Some("vm\n".into()),
            kernel: Some("6.18.44-fc-v657\n".into()),
            arch: Some("x86_64\n".into()),
            os_release: Some(OS_RELEASE.into()),
            cmdline: Some("console=ttyS0 quiet\n".into()),
            cpuinfo: Some(CPUINFO.into()),
            lscpu: Some(LSCPU.into()),
            meminfo: Some(MEMINFO.into()),
            online_cpulist: Some("0-1\n".into()),
            smt_control: Some("notsupported\n".into()),
            numa_node_dirs: 1,
            detect_virt: Some("kvm\n".into()),
            df: Some(DF_T.into()),
            ..Inputs::default()
        };
        let s = build(&inputs, "0.1.0", Some("abc123"));
        assert_eq!(s.host, "vm");
        assert_eq!(s.kernel.as_deref(), Some("6.18.44-fc-v657"));
        assert_eq!(s.arch.as_deref(), Some("x86_64"));
        assert_eq!(s.os.as_deref(), Some("Debian GNU/Linux 12 (bookworm)"));
        assert_eq!(s.cpu_model.as_deref(), Some("AMD EPYC"));
        assert_eq!(s.cpus, Some(2));
        assert_eq!(
            (s.sockets, s.cores_per_socket, s.threads_per_core),
            (Some(1), Some(2), Some(1))
        );
        assert_eq!(s.smt.as_deref(), Some("notsupported"));
        assert_eq!(s.microcode.as_deref(), Some("0x1000065"));
        assert_eq!(s.governor, None);
        assert_eq!(s.mem_total_kib, Some(24_684_092));
        assert_eq!(s.numa_nodes, Some(1));
        assert_eq!(s.kernel_cmdline.as_deref(), Some("console=ttyS0 quiet"));
        assert_eq!(s.host_virtualization.as_deref(), Some("kvm"));
        assert_eq!(s.scratch_fs.as_deref(), Some("ext4"));
        assert_eq!(s.collect_commit.as_deref(), Some("abc123"));
        assert!(s.platforms.is_empty());
    }

    #[test]
    fn fallbacks_when_sources_are_missing() {
        let s = build(&Inputs::default(), "v", None);
        // What no source said is unknown, not a number.
        assert_eq!(s.cpus, None);
        assert_eq!(s.numa_nodes, None);
        assert_eq!(s.mem_total_kib, None);
        assert_eq!(s.cpu_model, None);
        assert_eq!(s.host_virtualization, None);
        assert_eq!(s.scratch_fs, None);

        // cpu model and count from lscpu, fs type from findmnt.
        let inputs = Inputs {
            lscpu: Some(LSCPU.into()),
            findmnt: Some(FINDMNT_J.into()),
            df: Some("df: /nope: No such file or directory\n".into()),
            ..Inputs::default()
        };
        let s = build(&inputs, "v", None);
        assert_eq!(s.cpu_model.as_deref(), Some("AMD EPYC"));
        assert_eq!(s.cpus, Some(2));
        assert_eq!(s.scratch_fs.as_deref(), Some("ext4"));
    }

    #[test]
    fn virtualization_sources_in_order() {
        let hv = host_virtualization;
        assert_eq!(
            hv(Some("kvm\n"), None, None, true, None).as_deref(),
            Some("kvm")
        );
        assert_eq!(hv(Some("none\n"), None, None, false, None), None);
        assert_eq!(
            hv(
                Some("none"),
                Some("QEMU"),
                Some("Standard PC (Q35 + ICH9, 2009)"),
                true,
                None
            )
            .as_deref(),
            Some("Standard PC (Q35 + ICH9, 2009)")
        );
        assert_eq!(
            hv(
                None,
                Some("Microsoft Corporation"),
                Some("Virtual Machine"),
                false,
                None
            )
            .as_deref(),
            Some("Virtual Machine")
        );
        assert_eq!(
            hv(None, Some("Dell Inc."), Some("PowerEdge R650"), false, None),
            None
        );
        assert_eq!(
            hv(None, None, None, true, Some("KVM")).as_deref(),
            Some("hypervisor flag (KVM)")
        );
        assert_eq!(
            hv(Some(""), None, None, true, None).as_deref(),
            Some("hypervisor flag")
        );
    }
}
