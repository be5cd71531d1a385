//! iperf3's JSON report (`iperf3 -J`, iperf 3.x), client or server side, TCP
//! or UDP.
//!
//! The totals come from `end.sum_sent` and `end.sum_received`. A failed run
//! still prints a document, with an `"error"` key and an empty `end`; it parses
//! to a report whose `error` is set.

use serde::Deserialize;

use super::{json_document, non_negative, ParseError, Tool};

const TOOL: Tool = Tool::Iperf3;

/// One iperf3 run, as seen by the side that printed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Iperf3Report {
    /// `end.sum_sent.bits_per_second`: what this side sent (0 on the server
    /// side of a normal test).
    pub bits_per_second_sent: Option<f64>,
    /// `end.sum_received.bits_per_second`: what the receiving side got.
    pub bits_per_second_received: Option<f64>,
    /// `end.sum_sent.retransmits`: TCP on the sending side only.
    pub retransmits: Option<u64>,
    /// `error`: set when iperf3 failed.
    pub error: Option<String>,
    /// `end.sum_sent.seconds`, else `end.sum_received.seconds`; 0 for a failed
    /// run that has neither.
    pub duration_s: f64,
}

#[derive(Debug, Deserialize)]
struct RawReport {
    end: Option<RawEnd>,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawEnd {
    sum_sent: Option<RawSum>,
    sum_received: Option<RawSum>,
}

#[derive(Debug, Deserialize)]
struct RawSum {
    seconds: f64,
    bits_per_second: f64,
    retransmits: Option<u64>,
}

/// A checked `RawSum`.
#[derive(Debug, Clone, Copy)]
struct Sum {
    seconds: f64,
    bits_per_second: f64,
    retransmits: Option<u64>,
}

/// Parses the stdout of `iperf3 -J`.
pub fn parse(stdout: &str) -> Result<Iperf3Report, ParseError> {
    let raw: RawReport = json_document(TOOL, stdout)?;
    let (sent, received) = match raw.end {
        Some(end) => (
            end.sum_sent
                .map(|s| check(&s, "end.sum_sent"))
                .transpose()?,
            end.sum_received
                .map(|s| check(&s, "end.sum_received"))
                .transpose()?,
        ),
        None => (None, None),
    };
    let duration_s = match (sent.or(received), &raw.error) {
        (Some(sum), _) => sum.seconds,
        (None, Some(_)) => 0.0,
        (None, None) => {
            return Err(ParseError::Missing {
                tool: TOOL,
                what: "end.sum_sent and end.sum_received (and no \"error\")".to_owned(),
            })
        }
    };
    Ok(Iperf3Report {
        bits_per_second_sent: sent.map(|s| s.bits_per_second),
        bits_per_second_received: received.map(|s| s.bits_per_second),
        retransmits: sent.and_then(|s| s.retransmits),
        error: raw.error,
        duration_s,
    })
}

fn check(raw: &RawSum, path: &str) -> Result<Sum, ParseError> {
    Ok(Sum {
        seconds: non_negative(TOOL, &format!("{path}.seconds"), raw.seconds)?,
        bits_per_second: non_negative(
            TOOL,
            &format!("{path}.bits_per_second"),
            raw.bits_per_second,
        )?,
        retransmits: raw.retransmits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::test_util::{half, prefixes, GARBAGE};
    use serde_json::{json, Value};

    const CLIENT: &str = include_str!("../../testdata/iperf3_client.json");
    const SERVER: &str = include_str!("../../testdata/iperf3_server.json");
    const CLIENT_UDP: &str = include_str!("../../testdata/iperf3_client_udp.json");
    const REFUSED: &str = include_str!("../../testdata/iperf3_client_refused.json");
    const ALL: [&str; 4] = [CLIENT, SERVER, CLIENT_UDP, REFUSED];

    /// CLIENT as a JSON value, changed by `change`, back to text.
    fn client_with(change: impl FnOnce(&mut Value)) -> String {
        let mut v: Value = serde_json::from_str(CLIENT).expect("sample is JSON");
        change(&mut v);
        v.to_string()
    }

    fn edit(src: &str, from: &str, to: &str) -> String {
        assert!(src.contains(from), "{from:?} not in the sample");
        src.replacen(from, to, 1)
    }

    #[test]
    #[allow(clippy::excessive_precision)] // the numbers as iperf3 printed them
    fn real_tcp_client() {
        assert_eq!(
            parse(CLIENT).expect("parses"),
            Iperf3Report {
                bits_per_second_sent: Some(26927551931.031864),
                bits_per_second_received: Some(26836828606.938648),
                retransmits: Some(2),
                error: None,
                duration_s: 1.000346,
            }
        );
    }

    #[test]
    #[allow(clippy::excessive_precision)] // the numbers as iperf3 printed them
    fn real_tcp_server() {
        assert_eq!(
            parse(SERVER).expect("parses"),
            Iperf3Report {
                bits_per_second_sent: Some(0.0),
                bits_per_second_received: Some(26836828606.938648),
                retransmits: None,
                error: None,
                duration_s: 1.003337,
            }
        );
    }

    #[test]
    fn real_udp_client() {
        assert_eq!(
            parse(CLIENT_UDP).expect("parses"),
            Iperf3Report {
                bits_per_second_sent: Some(10222767.510296645),
                bits_per_second_received: Some(10218945.941704642),
                retransmits: None,
                error: None,
                duration_s: 1.000083,
            }
        );
    }

    #[test]
    fn real_connection_refused() {
        assert_eq!(
            parse(REFUSED).expect("parses"),
            Iperf3Report {
                bits_per_second_sent: None,
                bits_per_second_received: None,
                retransmits: None,
                error: Some("unable to connect to server: Connection refused".into()),
                duration_s: 0.0,
            }
        );
    }

    #[test]
    fn falls_back_to_received_seconds() {
        let s = client_with(|v| {
            v["end"].as_object_mut().expect("end").remove("sum_sent");
        });
        let r = parse(&s).expect("parses");
        assert_eq!(r.duration_s, 1.003337);
        assert_eq!(r.bits_per_second_sent, None);
        assert_eq!(r.retransmits, None);
    }

    #[test]
    fn leading_and_trailing_lines_are_skipped() {
        let s = format!("warning: something\n{CLIENT}\niperf3: done\n");
        assert_eq!(parse(&s).expect("parses"), parse(CLIENT).expect("parses"));
    }

    #[test]
    fn empty_and_blank() {
        for s in ["", "\n \t"] {
            assert!(matches!(
                parse(s),
                Err(ParseError::Empty { tool: Tool::Iperf3 })
            ));
        }
        assert!(matches!(
            parse("iperf3: error\n"),
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
        assert!(parse(include_str!("../../testdata/fio_seqwrite.json")).is_err());
    }

    #[test]
    fn wrong_types_name_the_key() {
        for (path, value) in [
            ("end.sum_sent.bits_per_second", json!("fast")),
            ("end.sum_sent.seconds", json!([1])),
            ("end.sum_sent.retransmits", json!(2.5)),
            ("end.sum_received.bits_per_second", json!(true)),
        ] {
            let s = client_with(|v| {
                let keys: Vec<&str> = path.split('.').collect();
                v[keys[0]][keys[1]][keys[2]] = value.clone();
            });
            match parse(&s) {
                Err(ParseError::Json { path: p, .. }) => assert_eq!(p, path),
                other => panic!("{path}: expected a JSON error, got {other:?}"),
            }
        }
        for (key, value) in [("error", json!(1)), ("end", json!([]))] {
            let s = client_with(|v| v[key] = value);
            assert!(matches!(parse(&s), Err(ParseError::Json { .. })), "{key}");
        }
    }

    #[test]
    fn nan_and_infinity_are_rejected() {
        let from = "\"bits_per_second\":\t26927551931.031864,\n\t\t\t\"retransmits\"";
        for bad in ["nan", "NaN", "inf", "-Infinity", "1e999"] {
            let to = format!("\"bits_per_second\":\t{bad},\n\t\t\t\"retransmits\"");
            let s = edit(CLIENT, from, &to);
            assert!(matches!(parse(&s), Err(ParseError::Json { .. })), "{bad}");
        }
    }

    #[test]
    fn negative_numbers_are_rejected() {
        for (sum, key) in [
            ("sum_sent", "bits_per_second"),
            ("sum_sent", "seconds"),
            ("sum_received", "bits_per_second"),
            ("sum_received", "seconds"),
        ] {
            let s = client_with(|v| v["end"][sum][key] = json!(-1.5));
            match parse(&s) {
                Err(ParseError::OutOfRange { what, .. }) => {
                    assert_eq!(what, format!("end.{sum}.{key}"))
                }
                other => panic!("{sum}.{key}: expected OutOfRange, got {other:?}"),
            }
        }
        let s = client_with(|v| v["end"]["sum_sent"]["retransmits"] = json!(-1));
        assert!(matches!(parse(&s), Err(ParseError::Json { .. })));
    }

    #[test]
    fn missing_keys() {
        let s = client_with(|v| {
            v.as_object_mut().expect("doc").remove("end");
        });
        assert!(matches!(parse(&s), Err(ParseError::Missing { .. })));
        let s = client_with(|v| v["end"] = json!({}));
        assert!(matches!(parse(&s), Err(ParseError::Missing { .. })));
        for key in ["seconds", "bits_per_second"] {
            let s = client_with(|v| {
                v["end"]["sum_sent"]
                    .as_object_mut()
                    .expect("sum")
                    .remove(key);
            });
            match parse(&s) {
                Err(err @ ParseError::Json { .. }) => assert!(err.to_string().contains(key)),
                other => panic!("{key}: expected a JSON error, got {other:?}"),
            }
        }
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
