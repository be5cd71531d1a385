#!/usr/bin/env python3
"""Checks that a report of the main job holds the whole comparison.

    scripts/check-main-job.py REPORT_DIR [BUNDLE...]

CI runs the main job's path (scripts/quick.sh, at the `ci` suite's size)
and then this: Table 1 must have a Native, a KVM and a Xen value for every
workload, Table 2 the stressed and normal guests of KVM and Xen for every
stressor, the scalability results every N on KVM and Xen, and the report
its HTML page and figures. The bundles, when given, must say how their
numbers were obtained: kvm's accelerator, Xen 4.17 with its command line
and `xl info`, and an emulated Xen host marked as the lab. Each failed
check is named; exit 1 if any.
"""

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

PLATFORMS = ("KVM", "Xen")


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def family(column):
    """Native, KVM or Xen, from a report column such as "KVM (TCG)"."""
    for name in ("Native",) + PLATFORMS:
        if column.startswith(name):
            return name
    return None


def check_table1(report, problems):
    table = rows(report / "table1.csv")
    workloads = sorted({r["workload"] for r in table})
    if not workloads:
        problems.append("table1.csv has no rows")
    for w in workloads:
        for fam in ("Native",) + PLATFORMS:
            cells = [r for r in table if r["workload"] == w and family(r["column"]) == fam]
            good = [
                r
                for r in cells
                if r["status"] in ("ok", "native")
                and int(r["n"] or 0) >= 2
                and math.isfinite(float(r["mean"] or "nan"))
            ]
            if not good:
                problems.append(f"table1.csv: {w} has no {fam} value with n >= 2 ({cells})")
    return f"Table 1: {len(workloads)} workloads x Native, KVM, Xen"


def check_table2(report, problems):
    path = report / "table2.csv"
    if not path.exists():
        problems.append("no table2.csv")
        return "Table 2: missing"
    table = rows(path)
    stressors = sorted({r["stressor"] for r in table})
    for s in stressors:
        for fam in PLATFORMS:
            for role in ("stressed", "normal"):
                found = [
                    r
                    for r in table
                    if r["stressor"] == s and family(r["column"]) == fam and r["role"] == role
                ]
                if not found or found[0]["status"] not in ("ok", "dnr"):
                    problems.append(f"table2.csv: no {fam} {role} row for stressor {s}: {found}")
    if not stressors:
        problems.append("table2.csv has no stressor rows")
    return f"Table 2: stressors {', '.join(stressors)} x KVM, Xen"


def check_scalability(report, problems):
    path = report / "scalability_summary.csv"
    if not path.exists():
        problems.append("no scalability_summary.csv")
        return "scalability: missing"
    table = rows(path)
    ns = sorted({int(r["n_guests"]) for r in table})
    for fam in PLATFORMS:
        for n in ns:
            found = [r for r in table if family(r["column"]) == fam and int(r["n_guests"]) == n]
            if not found or int(found[0]["n_ok"]) + int(found[0]["dnr"]) < n:
                problems.append(f"scalability_summary.csv: {fam} N={n}: {found}")
    if len(ns) < 2:
        problems.append(f"scalability: N = {ns}, want at least two values")
    return f"scalability: N = {ns} x KVM, Xen"


def check_files(report, problems):
    figures = report / "figures"
    want = [report / "report.html", report / "report.md"]
    for stem in ("table1", "table2"):
        want += [figures / f"{stem}.{ext}" for ext in ("svg", "png", "pdf")]
    for path in want:
        if not path.is_file() or path.stat().st_size == 0:
            problems.append(f"missing or empty: {path}")
    for prefix in ("scalability-kvm", "scalability-xen"):
        if not list(figures.glob(f"{prefix}*.svg")):
            problems.append(f"no figures/{prefix}*.svg")
    return f"files: report.html, figures ({len(list(figures.iterdir()))})"


def bundle_file(bundle, name):
    out = subprocess.run(
        ["tar", "-I", "zstd", "-xOf", str(bundle), name], capture_output=True, check=False
    )
    return out.stdout if out.returncode == 0 else None


def check_bundles(bundles, problems):
    seen = []
    for bundle in bundles:
        summary = bundle_file(bundle, "env/summary.json")
        if summary is None:
            problems.append(f"{bundle}: no env/summary.json")
            continue
        platforms = json.loads(summary).get("platforms", {})
        seen += list(platforms)
        kvm = platforms.get("kvm")
        if kvm is not None and kvm.get("accel") not in ("kvm", "tcg"):
            problems.append(f"{bundle}: kvm's accel is {kvm.get('accel')!r}")
        xen = platforms.get("xen")
        if xen is None:
            continue
        if not str(xen.get("xen_version", "")).startswith("4.17."):
            problems.append(f"{bundle}: xen_version {xen.get('xen_version')!r}")
        if "dom0_mem=" not in str(xen.get("xen_commandline", "")):
            problems.append(f"{bundle}: xen_commandline {xen.get('xen_commandline')!r}")
        if xen.get("accel") != "xen-pv" or xen.get("lab") != "qemu-tcg":
            problems.append(f"{bundle}: xen accel {xen.get('accel')!r}, lab {xen.get('lab')!r}")
        if not bundle_file(bundle, "config/xen/xl-info.txt"):
            problems.append(f"{bundle}: no config/xen/xl-info.txt")
    for want in ("native", "kvm", "xen"):
        if want not in seen:
            problems.append(f"no bundle has platform {want} (bundles: {bundles})")
    return f"bundles: {len(bundles)}, platforms {', '.join(sorted(set(seen)))}"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__.strip().splitlines()[2].strip())
    report = Path(sys.argv[1])
    if not (report / "table1.csv").is_file():
        sys.exit(f"check-main-job: {report} is no report folder (no table1.csv)")
    problems = []
    for check in (check_table1, check_table2, check_scalability, check_files):
        print(f"check-main-job: {check(report, problems)}")
    if len(sys.argv) > 2:
        print(f"check-main-job: {check_bundles([Path(b) for b in sys.argv[2:]], problems)}")
    for p in problems:
        print(f"check-main-job: FAILED: {p}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"check-main-job: {report} holds the whole comparison")


if __name__ == "__main__":
    main()
