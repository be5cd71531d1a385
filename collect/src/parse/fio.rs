//! fio's JSON report (`fio --output-format=json`, fio 3.x).
//!
//! fio may print warning lines (`fio: ...`, `note: ...`) on stdout before the
//! JSON document, and sometimes lines after it; both are skipped.

use serde::Deserialize;

use super::{json_document, non_negative, ParseError, Tool};

const TOOL: Tool = Tool::Fio;

/// One fio run.
#[derive(Debug, Clone, PartialEq)]
pub struct FioReport {
    /// `"fio version"`, like `fio-3.33`.
    pub version: String,
    /// The jobs, in fio's order; never empty.
    pub jobs: Vec<FioJob>,
}

/// One job of a fio run. A job with a non-zero `error` is returned as is: the
/// caller decides how to report it.
#[derive(Debug, Clone, PartialEq)]
pub struct FioJob {
    /// `jobname`.
    pub name: String,
    /// `error`: 0 when the job succeeded, else an errno (never negative).
    pub error: i64,
    /// The read direction.
    pub read: FioDir,
    /// The write direction.
    pub write: FioDir,
    /// `job_runtime` (ms) / 1000; without it, the longer of the read and
    /// write runtimes / 1000.
    pub elapsed_s: f64,
}

/// One direction (read or write) of a fio job.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FioDir {
    /// `io_bytes`: bytes transferred.
    pub io_bytes: u64,
    /// `bw_bytes`: bandwidth in bytes per second.
    pub bw_bytes: u64,
    /// `iops`.
    pub iops: f64,
    /// `runtime`, in milliseconds.
    pub runtime_ms: u64,
}

impl FioDir {
    /// Bandwidth in decimal megabytes per second (`bw_bytes / 1e6`).
    pub fn mb_per_s(&self) -> f64 {
        self.bw_bytes as f64 / 1e6
    }
}

#[derive(Debug, Deserialize)]
struct RawReport {
    #[serde(rename = "fio version")]
    version: String,
    jobs: Vec<RawJob>,
}

#[derive(Debug, Deserialize)]
struct RawJob {
    jobname: String,
    error: i64,
    read: RawDir,
    write: RawDir,
    job_runtime: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct RawDir {
    io_bytes: u64,
    bw_bytes: u64,
    iops: f64,
    runtime: u64,
}

/// Parses the stdout of `fio --output-format=json`.
pub fn parse(stdout: &str) -> Result<FioReport, ParseError> {
    let raw: RawReport = json_document(TOOL, stdout)?;
    if raw.version.trim().is_empty() {
        return Err(ParseError::Malformed {
            tool: TOOL,
            what: "\"fio version\"".to_owned(),
            found: raw.version,
        });
    }
    if raw.jobs.is_empty() {
        return Err(ParseError::Missing {
            tool: TOOL,
            what: "jobs (the list is empty)".to_owned(),
        });
    }
    let jobs = raw
        .jobs
        .into_iter()
        .enumerate()
        .map(|(i, job)| convert_job(i, job))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(FioReport {
        version: raw.version,
        jobs,
    })
}

fn convert_job(index: usize, job: RawJob) -> Result<FioJob, ParseError> {
    if job.error < 0 {
        return Err(ParseError::OutOfRange {
            tool: TOOL,
            what: format!("jobs[{index}].error"),
            found: job.error.to_string(),
        });
    }
    let read = convert_dir(index, "read", &job.read)?;
    let write = convert_dir(index, "write", &job.write)?;
    let elapsed_ms = job
        .job_runtime
        .unwrap_or(read.runtime_ms.max(write.runtime_ms));
    Ok(FioJob {
        name: job.jobname,
        error: job.error,
        read,
        write,
        elapsed_s: elapsed_ms as f64 / 1000.0,
    })
}

fn convert_dir(index: usize, dir: &str, raw: &RawDir) -> Result<FioDir, ParseError> {
    Ok(FioDir {
        io_bytes: raw.io_bytes,
        bw_bytes: raw.bw_bytes,
        iops: non_negative(TOOL, &format!("jobs[{index}].{dir}.iops"), raw.iops)?,
        runtime_ms: raw.runtime,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::test_util::{half, prefixes, GARBAGE};
    use serde_json::{json, Value};

    const SEQWRITE: &str = include_str!("../../testdata/fio_seqwrite.json");
    const SEQREAD: &str = include_str!("../../testdata/fio_seqread.json");
    const TWO_JOBS: &str = include_str!("../../testdata/fio_two_jobs.json");
    const WARNINGS: &str = include_str!("../../testdata/fio_warning_lines.txt");
    const ERROR_JOB: &str = include_str!("../../testdata/fio_error_job.json");
    const ALL: [&str; 5] = [SEQWRITE, SEQREAD, TWO_JOBS, WARNINGS, ERROR_JOB];

    const IDLE: FioDir = FioDir {
        io_bytes: 0,
        bw_bytes: 0,
        iops: 0.0,
        runtime_ms: 0,
    };

    /// SEQWRITE as a JSON value, changed by `change`, back to text.
    fn seqwrite_with(change: impl FnOnce(&mut Value)) -> String {
        let mut v: Value = serde_json::from_str(SEQWRITE).expect("sample is JSON");
        change(&mut v);
        v.to_string()
    }

    fn edit(src: &str, from: &str, to: &str) -> String {
        assert!(src.contains(from), "{from:?} not in the sample");
        src.replacen(from, to, 1)
    }

    #[test]
    fn real_sequential_write() {
        let r = parse(SEQWRITE).expect("parses");
        assert_eq!(r.version, "fio-3.33");
        assert_eq!(
            r.jobs,
            vec![FioJob {
                name: "seqwrite".into(),
                error: 0,
                read: IDLE,
                write: FioDir {
                    io_bytes: 67108864,
                    bw_bytes: 6710886400,
                    iops: 6400.0,
                    runtime_ms: 10,
                },
                elapsed_s: 0.009,
            }]
        );
        assert_eq!(r.jobs[0].write.mb_per_s(), 6710.8864);
    }

    #[test]
    fn real_sequential_read() {
        let r = parse(SEQREAD).expect("parses");
        assert_eq!(r.version, "fio-3.33");
        assert_eq!(
            r.jobs,
            vec![FioJob {
                name: "seqread".into(),
                error: 0,
                read: FioDir {
                    io_bytes: 67108864,
                    bw_bytes: 1525201454,
                    iops: 1454.545455,
                    runtime_ms: 44,
                },
                write: IDLE,
                elapsed_s: 0.043,
            }]
        );
        assert_eq!(r.jobs[0].read.mb_per_s(), 1525.201454);
    }

    #[test]
    fn real_two_jobs() {
        let r = parse(TWO_JOBS).expect("parses");
        assert_eq!(r.version, "fio-3.33");
        assert_eq!(
            r.jobs,
            vec![
                FioJob {
                    name: "w1".into(),
                    error: 0,
                    read: IDLE,
                    write: FioDir {
                        io_bytes: 33554432,
                        bw_bytes: 8388608000,
                        iops: 8000.0,
                        runtime_ms: 4,
                    },
                    elapsed_s: 0.003,
                },
                FioJob {
                    name: "r2".into(),
                    error: 0,
                    read: FioDir {
                        io_bytes: 33554432,
                        bw_bytes: 2581110153,
                        iops: 2461.538462,
                        runtime_ms: 13,
                    },
                    write: IDLE,
                    elapsed_s: 0.012,
                },
            ]
        );
    }

    #[test]
    fn real_warning_lines_before_json() {
        assert!(WARNINGS.starts_with("fio: verification read phase"));
        assert!(WARNINGS.contains("\nnote: both iodepth >= 1"));
        let r = parse(WARNINGS).expect("parses");
        assert_eq!(r.version, "fio-3.33");
        assert_eq!(
            r.jobs,
            vec![FioJob {
                name: "vt".into(),
                error: 0,
                read: IDLE,
                write: FioDir {
                    io_bytes: 1035993088,
                    bw_bytes: 3441837501,
                    iops: 3282.392027,
                    runtime_ms: 301,
                },
                elapsed_s: 0.3,
            }]
        );
    }

    #[test]
    fn real_failed_job_is_returned_with_its_error() {
        let r = parse(ERROR_JOB).expect("parses");
        assert_eq!(
            r.jobs,
            vec![FioJob {
                name: "errjob".into(),
                error: 1,
                read: IDLE,
                write: IDLE,
                elapsed_s: 0.0,
            }]
        );
    }

    #[test]
    fn warnings_and_trailing_lines_around_json() {
        let s = format!("fio: one\nnote: two {{\n{SEQWRITE}fio: file hash not empty on exit\n");
        assert_eq!(parse(&s).expect("parses"), parse(SEQWRITE).expect("parses"));
    }

    #[test]
    fn elapsed_falls_back_to_the_longest_direction() {
        let s = seqwrite_with(|v| {
            v["jobs"][0]
                .as_object_mut()
                .expect("job object")
                .remove("job_runtime");
        });
        assert_eq!(parse(&s).expect("parses").jobs[0].elapsed_s, 0.01);
    }

    #[test]
    fn empty_blank_and_warnings_only() {
        for s in ["", "  \n"] {
            assert!(matches!(
                parse(s),
                Err(ParseError::Empty { tool: Tool::Fio })
            ));
        }
        let only_warnings = &WARNINGS[..WARNINGS.find("\n{").expect("JSON start") + 1];
        assert!(matches!(
            parse(only_warnings),
            Err(ParseError::NoJson { .. })
        ));
    }

    #[test]
    fn truncated_in_half() {
        for s in ALL {
            assert!(matches!(parse(half(s)), Err(ParseError::Json { .. })));
        }
    }

    #[test]
    fn garbage() {
        for s in GARBAGE {
            assert!(parse(s).is_err(), "{s:?}");
        }
        let iperf = include_str!("../../testdata/iperf3_client.json");
        assert!(parse(iperf).is_err());
    }

    #[test]
    fn wrong_types_name_the_key() {
        for (path, value) in [
            ("jobs[0].read.iops", json!("fast")),
            ("jobs[0].write.io_bytes", json!(1.5)),
            ("jobs[0].write.bw_bytes", json!(null)),
            ("jobs[0].error", json!("0")),
            ("jobs[0].jobname", json!(7)),
        ] {
            let s = seqwrite_with(|v| {
                let (_, rest) = path.split_once('.').expect("path");
                let (dir_or_key, key) = rest.split_once('.').unwrap_or((rest, ""));
                let job = &mut v["jobs"][0];
                if key.is_empty() {
                    job[dir_or_key] = value.clone();
                } else {
                    job[dir_or_key][key] = value.clone();
                }
            });
            match parse(&s) {
                Err(ParseError::Json { path: p, .. }) => assert_eq!(p, path),
                other => panic!("{path}: expected a JSON error, got {other:?}"),
            }
        }
        let s = seqwrite_with(|v| v["jobs"] = json!({}));
        assert!(matches!(parse(&s), Err(ParseError::Json { .. })));
    }

    #[test]
    fn nan_and_infinity_are_rejected() {
        for bad in ["nan", "NaN", "inf", "-inf", "Infinity", "1e999", "-1e999"] {
            let s = edit(
                SEQWRITE,
                "\"iops\" : 6400.000000",
                &format!("\"iops\" : {bad}"),
            );
            assert!(matches!(parse(&s), Err(ParseError::Json { .. })), "{bad}");
            let s = edit(
                SEQWRITE,
                "\"bw_bytes\" : 6710886400",
                &format!("\"bw_bytes\" : {bad}"),
            );
            assert!(matches!(parse(&s), Err(ParseError::Json { .. })), "{bad}");
        }
    }

    #[test]
    fn negative_numbers_are_rejected() {
        let s = edit(SEQWRITE, "\"iops\" : 6400.000000", "\"iops\" : -6400.0");
        match parse(&s) {
            Err(ParseError::OutOfRange { what, .. }) => assert_eq!(what, "jobs[0].write.iops"),
            other => panic!("expected OutOfRange, got {other:?}"),
        }
        let s = edit(SEQWRITE, "\"error\" : 0", "\"error\" : -5");
        assert!(matches!(parse(&s), Err(ParseError::OutOfRange { .. })));
        for key in ["io_bytes", "bw_bytes", "runtime"] {
            let s = seqwrite_with(|v| v["jobs"][0]["write"][key] = json!(-1));
            match parse(&s) {
                Err(ParseError::Json { path, .. }) => {
                    assert_eq!(path, format!("jobs[0].write.{key}"))
                }
                other => panic!("{key}: expected a JSON error, got {other:?}"),
            }
        }
        let s = seqwrite_with(|v| v["jobs"][0]["job_runtime"] = json!(-9));
        assert!(matches!(parse(&s), Err(ParseError::Json { .. })));
    }

    #[test]
    fn missing_keys() {
        for key in ["fio version", "jobs"] {
            let s = seqwrite_with(|v| {
                v.as_object_mut().expect("object").remove(key);
            });
            match parse(&s) {
                Err(err @ ParseError::Json { .. }) => assert!(err.to_string().contains(key)),
                other => panic!("{key}: expected a JSON error, got {other:?}"),
            }
        }
        for key in ["jobname", "error", "read", "write"] {
            let s = seqwrite_with(|v| {
                v["jobs"][0].as_object_mut().expect("job").remove(key);
            });
            match parse(&s) {
                Err(err @ ParseError::Json { .. }) => assert!(err.to_string().contains(key)),
                other => panic!("{key}: expected a JSON error, got {other:?}"),
            }
        }
        for key in ["io_bytes", "bw_bytes", "iops", "runtime"] {
            let s = seqwrite_with(|v| {
                v["jobs"][0]["read"]
                    .as_object_mut()
                    .expect("dir")
                    .remove(key);
            });
            match parse(&s) {
                Err(err @ ParseError::Json { .. }) => assert!(err.to_string().contains(key)),
                other => panic!("{key}: expected a JSON error, got {other:?}"),
            }
        }
        let s = seqwrite_with(|v| v["jobs"] = json!([]));
        assert!(matches!(parse(&s), Err(ParseError::Missing { .. })));
        let s = seqwrite_with(|v| v["fio version"] = json!(""));
        assert!(matches!(parse(&s), Err(ParseError::Malformed { .. })));
    }

    #[test]
    fn every_prefix_is_err_until_the_closing_brace_then_ok() {
        for full in ALL {
            let expected = parse(full).expect("full output parses");
            let end = full.trim_end().len();
            for prefix in prefixes(full) {
                let r = parse(prefix);
                if prefix.len() < end {
                    assert!(r.is_err(), "prefix of {} bytes parsed", prefix.len());
                } else {
                    assert_eq!(r.ok().as_ref(), Some(&expected));
                }
            }
        }
    }
}
