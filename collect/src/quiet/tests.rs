use super::*;

fn snap(uptime_s: f64, cpu: CpuTimes, self_s: f64, children_s: f64) -> Snapshot {
    Snapshot {
        uptime_s,
        loadavg: [0.5, 0.4, 0.3],
        runnable: 1,
        tasks: 100,
        cpu,
        cpus: 2,
        freq_mhz: vec![2400.0, 2600.0],
        freq_source: "cpufreq".into(),
        governor: Some("performance".into()),
        self_cpu_s: self_s,
        children_cpu_s: children_s,
    }
}

/// 10 s on 2 CPUs (2000 ticks): the measured command used 9.5 s of
/// CPU; the CPUs were busy 12 s, stolen 1.2 s, waiting for I/O 0.4 s.
fn ten_seconds(scope: Scope, steal: u64) -> Evidence {
    let before = CpuTimes {
        user: 1000,
        idle: 5000,
        ..CpuTimes::default()
    };
    let after = CpuTimes {
        user: 1000 + 1100,
        system: 100,
        idle: 5000 + 2000 - 1200 - 40 - steal,
        iowait: 40,
        steal,
        ..CpuTimes::default()
    };
    Evidence {
        scope,
        before: snap(100.0, before, 1.0, 2.0),
        after: snap(110.0, after, 1.5, 11.0),
    }
}

#[test]
fn figures_are_differences_of_the_counters() {
    let f = ten_seconds(Scope::Step, 120).figures();
    assert_eq!(f.seconds, 10.0);
    assert_eq!(f.steal_pct, Some(6.0));
    assert_eq!(f.iowait_pct, Some(2.0));
    // busy 12 s - ours (0.5 + 9 s) = 2.5 s of 20 s.
    let others = f.others_pct.expect("ticks passed");
    assert!((others - 12.5).abs() < 1e-9, "{others}");
    assert_eq!(
        (f.freq_mhz_before, f.governor.as_deref()),
        (Some(2500.0), Some("performance"))
    );
    let busy = ten_seconds(Scope::Step, 120).busy();
    assert_eq!(busy.len(), 2, "{busy:?}");
    assert!(busy[0].starts_with("steal 6.0% of the CPU time during the measured step"));
    assert!(busy[1].contains("other processes used 12.5%"));
    // Below both limits: quiet.
    assert!(
        ten_seconds(Scope::Step, 80).busy().len() == 1,
        "others alone"
    );
    // On the host's side of a guest's block only steal counts.
    let host = ten_seconds(Scope::Block, 120).busy();
    assert_eq!(host.len(), 1);
    assert!(
        host[0].contains("the guest's block, on the host"),
        "{host:?}"
    );
    assert!(ten_seconds(Scope::Block, 60).busy().is_empty());
}

#[test]
fn no_tick_no_shares() {
    let e = Evidence {
        scope: Scope::Step,
        before: snap(1.0, CpuTimes::default(), 0.0, 0.0),
        after: snap(1.001, CpuTimes::default(), 0.0, 0.0),
    };
    let f = e.figures();
    assert_eq!((f.steal_pct, f.others_pct), (None, None));
    assert!(e.busy().is_empty());
    assert_eq!(claim(None, None), None);
    let c = claim(Some(&e), None).expect("evidence");
    assert!(c.host.is_none() && c.busy.is_empty());
}

#[test]
fn proc_files_parse() {
    assert_eq!(
        parse_loadavg("5.85 7.09 6.24 7/178 31649\n"),
        ([5.85, 7.09, 6.24], 7, 178)
    );
    let (t, cpus) = parse_stat(
        "cpu  367347 496996 149295 70703 4251 0 1282 1965 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\ncpu1 1 2 3 4 5 6 7 8 0 0\nintr 1 2\nctxt 5\n",
    );
    assert_eq!(cpus, 2);
    assert_eq!(
        (t.user, t.iowait, t.softirq, t.steal),
        (367347, 4251, 1282, 1965)
    );
    assert_eq!(
        parse_cpuinfo_mhz(
            "processor\t: 0\ncpu MHz\t\t: 2445.430\nprocessor\t: 1\ncpu MHz\t\t: 2445.430\n"
        ),
        [2445.43, 2445.43]
    );
}

#[test]
fn this_machine_gives_a_snapshot() {
    let a = snapshot();
    let b = snapshot();
    assert!(a.cpus >= 1 && a.uptime_s > 0.0, "{a:?}");
    assert!(b.cpu.total() >= a.cpu.total());
    assert!(["cpufreq", "cpuinfo", "none"].contains(&a.freq_source.as_str()));
}
