//! Tests of the isolation foundation: pure parts (schedule, classification,
//! parsing, percentiles) and the client against real servers: nginx, tiny
//! misbehaving servers written here, a closed port; and the namespace.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::client::{
    self, classify, FailReason, LoadConfig, LoadReport, Outcome, Percentiles, Qos, Response,
    Schedule, Target,
};
use super::fileset::FileSetSpec;
use super::http::{parse_head, Head};
use super::netns::{Netns, NetnsError};
use super::nginx::NginxConfig;
use crate::process::Owned;

const QOS: Qos = Qos::SPECWEB2005_SUPPORT;

fn ok(body_len: u64) -> Result<Response, FailReason> {
    Ok(Response {
        status: 200,
        body_len,
        complete: true,
    })
}

#[test]
fn schedule_is_evenly_spaced_from_zero() {
    let s = Schedule::constant(50.0, Duration::from_secs(3)).expect("schedule");
    assert_eq!(s.len(), 150);
    assert_eq!(s.offsets()[0], Duration::ZERO);
    for w in s.offsets().windows(2) {
        let gap = (w[1] - w[0]).as_secs_f64();
        assert!((gap - 0.02).abs() < 1e-6, "gap {gap}");
    }
    assert!(*s.offsets().last().expect("last") < Duration::from_secs(3));
    // Fractional products round down.
    let s = Schedule::constant(2.5, Duration::from_millis(1900)).expect("schedule");
    assert_eq!(s.len(), 4);
}

#[test]
fn schedule_refuses_nonsense() {
    for rate in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(Schedule::constant(rate, Duration::from_secs(1)).is_err());
    }
    assert!(Schedule::constant(10.0, Duration::ZERO).is_err());
}

#[test]
fn classification_follows_the_qos_bounds() {
    let ms = Duration::from_millis;
    assert_eq!(classify(ok(10), ms(3000), Some(10), &QOS), Outcome::Good);
    assert_eq!(
        classify(ok(10), ms(3001), Some(10), &QOS),
        Outcome::Tolerable
    );
    assert_eq!(classify(ok(10), ms(5000), None, &QOS), Outcome::Tolerable);
    assert_eq!(
        classify(ok(10), ms(5001), Some(10), &QOS),
        Outcome::Failed(FailReason::Late)
    );
    assert_eq!(
        classify(ok(9), ms(1), Some(10), &QOS),
        Outcome::Failed(FailReason::ShortBody)
    );
    assert_eq!(
        classify(ok(11), ms(1), Some(10), &QOS),
        Outcome::Failed(FailReason::Malformed)
    );
    let not_found = Ok(Response {
        status: 404,
        body_len: 10,
        complete: true,
    });
    assert_eq!(
        classify(not_found, ms(1), Some(10), &QOS),
        Outcome::Failed(FailReason::Status)
    );
    let cut = Ok(Response {
        status: 200,
        body_len: 10,
        complete: false,
    });
    assert_eq!(
        classify(cut, ms(1), None, &QOS),
        Outcome::Failed(FailReason::ShortBody)
    );
    assert_eq!(
        classify(Err(FailReason::Connect), ms(1), None, &QOS),
        Outcome::Failed(FailReason::Connect)
    );
}

#[test]
fn heads_are_parsed_or_refused() {
    let h = parse_head(b"HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 42\r\n\r\n");
    assert_eq!(
        h,
        Ok(Head {
            status: 200,
            content_length: Some(42)
        })
    );
    assert_eq!(
        parse_head(b"HTTP/1.0 404 Not Found\r\n\r\n").map(|h| h.status),
        Ok(404)
    );
    for bad in [
        &b"SSH-2.0-OpenSSH\r\n\r\n"[..],
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
    ] {
        assert_eq!(parse_head(bad), Err(FailReason::Malformed), "{bad:?}");
    }
}

#[test]
fn percentiles_use_nearest_rank() {
    let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
    let p = Percentiles::of(samples).expect("samples");
    assert_eq!((p.p50, p.p90, p.p99, p.max), (50.0, 90.0, 99.0, 100.0));
    let one = Percentiles::of(vec![Duration::from_millis(7)]).expect("one");
    assert_eq!((one.p50, one.max), (7.0, 7.0));
    assert!(Percentiles::of(Vec::new()).is_none());
}

#[test]
fn wheel_mixes_targets_by_weight() {
    let t = |w| Target {
        path: "/x".into(),
        expected_len: None,
        weight: w,
    };
    let wheel = client::target_wheel(&[t(3), t(1), t(0)]);
    assert_eq!(wheel.len(), 4);
    assert_eq!(wheel.iter().filter(|i| **i == 0).count(), 3);
    assert!(!wheel.contains(&2));
    // Smooth weighted round-robin interleaves instead of bunching.
    assert_eq!(wheel, vec![0, 0, 1, 0]);
    assert_eq!(client::target_wheel(&[t(1), t(1)]), vec![0, 1]);
    assert!(client::target_wheel(&[t(0)]).is_empty());
}

// ---- the client against real servers ----

fn config(addr: SocketAddr, rate: f64, secs: f64, targets: Vec<Target>) -> LoadConfig {
    LoadConfig {
        addr,
        rate_per_s: rate,
        duration: Duration::from_secs_f64(secs),
        max_in_flight: 256,
        qos: QOS,
        targets,
    }
}

fn one_target(len: u64) -> Vec<Target> {
    vec![Target {
        path: "/f".into(),
        expected_len: Some(len),
        weight: 1,
    }]
}

/// A server on 127.0.0.1 that hands every connection, after reading the
/// request head, to `answer` on its own thread.
fn tiny_server(answer: fn(&mut TcpStream)) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
                    match stream.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                answer(&mut stream);
            });
        }
    });
    addr
}

fn respond(stream: &mut TcpStream, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

fn run(cfg: &LoadConfig) -> LoadReport {
    let report = client::run(cfg).expect("valid config");
    assert_eq!(
        report.scheduled,
        report.good + report.tolerable + report.failed
    );
    report
}

#[test]
fn open_loop_keeps_the_rate_when_the_server_is_slow() {
    let addr = tiny_server(|s| {
        std::thread::sleep(Duration::from_millis(500));
        respond(s, b"0123456789");
    });
    let t0 = Instant::now();
    let report = run(&config(addr, 20.0, 2.0, one_target(10)));
    // A closed-loop client on one connection would have sent 4 requests in
    // these 2 s; this one sends all 40 on schedule.
    assert_eq!(report.scheduled, 40);
    assert_eq!(report.sent, 40);
    assert_eq!(report.good, 40, "{report:#?}");
    let lag = report.send_lag_ms.expect("lag");
    assert!(lag.p99 < 250.0, "sends were late: {lag:?}");
    let latency = report.latency_ms.expect("latency");
    assert!(latency.p50 >= 500.0, "{latency:?}");
    assert!(t0.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_server_that_never_answers_times_out() {
    let addr = tiny_server(|_| std::thread::sleep(Duration::from_secs(30)));
    let mut cfg = config(addr, 20.0, 0.5, one_target(10));
    cfg.qos.time_good_s = 0.2;
    cfg.qos.time_tolerable_s = 0.4;
    let report = run(&cfg);
    assert_eq!(report.scheduled, 10);
    assert_eq!(report.failures.timeout, 10, "{report:#?}");
    assert_eq!(report.good_rate_pct, 0.0);
    assert!(!report.meets_qos);
    assert!(report.latency_ms.is_none());
}

#[test]
fn a_late_answer_is_tolerable() {
    let addr = tiny_server(|s| {
        std::thread::sleep(Duration::from_millis(300));
        respond(s, b"0123456789");
    });
    let mut cfg = config(addr, 20.0, 0.5, one_target(10));
    cfg.qos.time_good_s = 0.1;
    cfg.qos.time_tolerable_s = 1.0;
    let report = run(&cfg);
    assert_eq!(report.tolerable, 10, "{report:#?}");
    assert_eq!(report.good, 0);
    assert_eq!(report.tolerable_rate_pct, 100.0);
}

#[test]
fn a_body_cut_short_fails_as_short_body() {
    let addr = tiny_server(|s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
        // Dropping the stream closes the connection 90 bytes early.
    });
    let report = run(&config(addr, 20.0, 0.5, one_target(100)));
    assert_eq!(report.failures.short_body, 10, "{report:#?}");
}

#[test]
fn the_cap_on_requests_in_flight_counts_unsent_requests() {
    let addr = tiny_server(|_| std::thread::sleep(Duration::from_secs(30)));
    let mut cfg = config(addr, 20.0, 0.5, one_target(10));
    cfg.max_in_flight = 3;
    cfg.qos.time_good_s = 1.0;
    cfg.qos.time_tolerable_s = 2.0;
    let report = run(&cfg);
    assert_eq!(report.sent, 3, "{report:#?}");
    assert_eq!(report.failures.not_sent, 7);
    assert_eq!(report.failures.timeout, 3);
}

#[test]
fn a_closed_port_fails_every_request_with_a_connection_error() {
    let addr = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let report = run(&config(addr, 50.0, 0.5, one_target(10)));
    assert_eq!(report.scheduled, 25);
    assert_eq!(report.failures.connect, 25, "{report:#?}");
    assert_eq!(report.good_rate_pct, 0.0);
}

#[test]
fn the_report_round_trips_through_json() {
    let addr = tiny_server(|s| respond(s, b"abc"));
    let report = run(&config(addr, 20.0, 0.2, one_target(3)));
    let json = serde_json::to_string(&report).expect("json");
    assert!(json.contains("\"good_rate_pct\""));
    let back: LoadReport = serde_json::from_str(&json).expect("parse");
    // serde_json (without its float_roundtrip feature) may read a float
    // back one ulp off, so latencies are compared within a tolerance.
    let close = |a: Option<Percentiles>, b: Option<Percentiles>| match (a, b) {
        (Some(a), Some(b)) => {
            a.samples == b.samples
                && [(a.p50, b.p50), (a.p99, b.p99), (a.max, b.max)]
                    .iter()
                    .all(|(x, y)| (x - y).abs() <= 1e-9 * x.abs().max(1.0))
        }
        (a, b) => a.is_none() && b.is_none(),
    };
    assert!(close(back.latency_ms, report.latency_ms));
    assert!(close(back.send_lag_ms, report.send_lag_ms));
    let exact = |r: &LoadReport| LoadReport {
        latency_ms: None,
        send_lag_ms: None,
        ..r.clone()
    };
    assert_eq!(exact(&back), exact(&report));
    assert_eq!(back.good, 4);
}

/// nginx from the host root, killed when dropped.
struct Nginx {
    _child: Owned,
    addr: SocketAddr,
}

fn start_nginx(root: &std::path::Path, state: &std::path::Path) -> Option<Nginx> {
    if std::process::Command::new("nginx")
        .arg("-v")
        .output()
        .is_err()
    {
        eprintln!("skipped: nginx is not installed");
        return None;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let cfg = NginxConfig::new(addr, root, state);
    cfg.write().expect("write config");
    let mut cmd = cfg.command();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = Owned::spawn(&mut cmd).expect("start nginx");
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        let log = std::fs::read_to_string(cfg.error_log_path()).unwrap_or_default();
        assert!(Instant::now() < deadline, "nginx did not listen: {log}");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(Nginx {
        _child: child,
        addr,
    })
}

#[test]
fn nginx_serves_the_file_set_with_nearly_all_responses_good() {
    let dir = tempfile::tempdir().expect("tempdir");
    let set = FileSetSpec::support_like()
        .write(&dir.path().join("www"))
        .expect("file set");
    let Some(nginx) = start_nginx(&set.dir, &dir.path().join("nginx")) else {
        return;
    };
    let mut targets = set.targets();
    let report = run(&config(nginx.addr, 100.0, 3.0, targets.clone()));
    eprintln!("{}", serde_json::to_string_pretty(&report).expect("json"));
    assert_eq!(report.scheduled, 300);
    assert_eq!(report.sent, 300);
    assert!(report.good_rate_pct >= 98.0, "{report:#?}");
    assert!(report.meets_qos, "{report:#?}");

    // A missing file is a 404: a status failure.
    targets.push(Target {
        path: "/missing.bin".into(),
        expected_len: Some(1),
        weight: 1,
    });
    let n = targets.len();
    for t in targets.iter_mut().take(n - 1) {
        t.weight = 0;
    }
    let report = run(&config(nginx.addr, 20.0, 0.5, targets));
    assert_eq!(report.failures.status, 10, "{report:#?}");
}

#[test]
fn netns_holds_its_bridge_and_taps_and_is_gone_after_drop() {
    let name = Netns::unique_name("benchvm-test");
    let ns = match Netns::create(&name, 2) {
        Ok(ns) => ns,
        Err(NetnsError::Ip { args, stderr }) if args.starts_with("netns add") => {
            eprintln!("skipped: `ip {args}` is not permitted here: {stderr}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    assert_eq!(ns.taps(), ["tap0", "tap1"]);
    for dev in ["br0", "tap0", "tap1"] {
        let shown = ns.ip_in(&["-o", "link", "show", dev]).expect("inside");
        assert!(shown.contains(dev), "{shown}");
    }
    let tap1 = ns.ip_in(&["-o", "link", "show", "tap1"]).expect("tap1");
    assert!(tap1.contains("master br0"), "{tap1}");
    let outside = std::process::Command::new("ip")
        .args(["-o", "addr", "show"])
        .output()
        .expect("ip addr");
    assert!(!String::from_utf8_lossy(&outside.stdout).contains("10.77.0.1/24"));
    // Only the private subnet is routable inside.
    let routes = ns.ip_in(&["route", "show"]).expect("routes");
    assert!(
        routes.trim().starts_with("10.77.0.0/24 dev br0"),
        "{routes}"
    );
    assert_eq!(routes.trim().lines().count(), 1, "{routes}");
    // Commands run inside.
    let out = ns
        .command("ip")
        .args(["-o", "addr", "show", "dev", "br0"])
        .output()
        .expect("exec");
    assert!(String::from_utf8_lossy(&out.stdout).contains("10.77.0.1/24"));

    drop(ns);
    let list = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    assert!(!String::from_utf8_lossy(&list.stdout).contains(&name));
    assert!(!std::path::Path::new("/run/netns").join(&name).exists());
}

#[test]
fn namespaces_of_dead_collectors_are_swept_and_live_ones_kept() {
    // A pid that was alive a moment ago and is not now.
    let mut child = std::process::Command::new("true").spawn().expect("true");
    let dead = child.id();
    child.wait().expect("wait");
    let stale = format!("benchvm-sweep-{dead}-0");
    let live = format!("benchvm-sweep-{}-0", std::os::unix::process::parent_id());
    let add = |name: &str| {
        std::process::Command::new("ip")
            .args(["netns", "add", name])
            .output()
            .expect("ip")
    };
    let out = add(&stale);
    if !out.status.success() {
        eprintln!(
            "skipped: `ip netns add` is not permitted here: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        return;
    }
    assert!(add(&live).status.success());
    let alive = |pid: u32| std::path::Path::new("/proc").join(pid.to_string()).exists();
    let swept = super::netns::sweep_stale(std::path::Path::new("/run/netns"), alive);
    let live_kept = std::path::Path::new("/run/netns").join(&live).exists();
    let _ = std::process::Command::new("ip")
        .args(["netns", "del", &live])
        .output();
    assert!(swept.contains(&stale), "{swept:?}");
    assert!(!swept.contains(&live), "{swept:?}");
    assert!(!std::path::Path::new("/run/netns").join(&stale).exists());
    assert!(live_kept, "the namespace of a running process was deleted");
}
