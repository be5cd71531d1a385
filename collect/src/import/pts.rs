//! Phoronix Test Suite result files (`composite.xml`): each `<Result>` (one
//! test with one set of arguments) and each of its `<Entry>`s (one system)
//! becomes rows of the metrics table (mapping in `collect/IMPORT.md`):
//!
//! - platform: the metadata's platform whose `pts_system` is the entry's
//!   `<Identifier>` (the `<System>` it belongs to);
//! - workload: the test profile (`pts/sysbench-1.1.0` -> `sysbench`);
//! - metric: the `<Description>` (`Test: CPU` -> `test_cpu`), else the
//!   `<Arguments>`, else `value`;
//! - unit: `<Scale>` mapped onto SPEC.md's units ([`SCALES`]), refused
//!   otherwise; direction: `<Proportion>` (`HIB` higher, `LIB` lower);
//! - repetitions: the colon-separated samples of `<RawString>`, else
//!   `<Value>` as repetition 1.

use std::collections::HashMap;

use benchvm_format::metrics::{Direction, MetricRow, Status, Unit};
use roxmltree::{Document, Node};

use super::error::{ImportError, Location};
use super::meta::ImportMeta;
use super::rows::{check_table, Key};

/// PTS `<Scale>` values (compared without regard to case) and the SPEC
/// unit each one is. A scale not listed is refused, never guessed.
pub const SCALES: &[(&str, Unit)] = &[
    ("seconds", Unit::Seconds),
    ("second", Unit::Seconds),
    ("sec", Unit::Seconds),
    ("s", Unit::Seconds),
    ("milliseconds", Unit::Milliseconds),
    ("ms", Unit::Milliseconds),
    ("mb/s", Unit::MegabytesPerSecond),
    ("megabytes per second", Unit::MegabytesPerSecond),
    ("events per second", Unit::EventsPerSecond),
    ("events/s", Unit::EventsPerSecond),
    ("events/sec", Unit::EventsPerSecond),
    ("requests per second", Unit::RequestsPerSecond),
    ("req/s", Unit::RequestsPerSecond),
    ("requests/sec", Unit::RequestsPerSecond),
    ("%", Unit::Percent),
    ("percent", Unit::Percent),
    ("bytes", Unit::Bytes),
];

/// Experiment of every imported PTS row.
pub const EXPERIMENT: &str = "overall";

/// Parses `composite.xml` text of `file` into validated rows whose `run` is
/// `run`, with the platforms described by the metadata file `meta_file`.
pub fn parse(
    file: &str,
    text: &str,
    (meta_file, meta): (&str, &ImportMeta),
    run: &str,
) -> Result<Vec<MetricRow>, ImportError> {
    let doc = Document::parse(text).map_err(|e| {
        let pos = e.pos();
        let at = Location {
            file: file.to_owned(),
            line: pos.row as usize,
            column: Some((pos.col as usize, String::new())),
        };
        ImportError::at(at, format!("not well-formed XML: {e}"))
    })?;
    let xml = Xml { file, doc: &doc };
    let root = doc.root_element();
    if root.tag_name().name() != "PhoronixTestSuite" {
        return Err(xml.fail(
            root,
            format!(
                "the root element is <{}>, not <PhoronixTestSuite>: not a PTS result file",
                root.tag_name().name()
            ),
        ));
    }
    let systems = systems(&xml, root, meta_file, meta)?;
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    let mut seen: HashMap<Key, usize> = HashMap::new();
    for result in children(root, "Result") {
        for (row, line) in result_rows(&xml, result, &systems, run)? {
            if let Some(first) = seen.insert(Key::of(&row), line) {
                return Err(xml.fail(
                    result,
                    format!("its entry on line {line} gives {} {} of platform {} repetition {} like the entry on line {first}: two results map to one workload and metric (make their <Description>s differ)", row.workload, row.metric, row.platform, row.repetition),
                ));
            }
            rows.push(row);
            lines.push(line);
        }
    }
    check_table(file, meta_file, &rows, &lines, meta)?;
    Ok(rows)
}

/// The document and its name, for errors that point into it.
struct Xml<'a, 'input> {
    file: &'a str,
    doc: &'a Document<'input>,
}

impl Xml<'_, '_> {
    fn line(&self, node: Node) -> usize {
        self.doc.text_pos_at(node.range().start).row as usize
    }

    fn fail(&self, node: Node, reason: impl Into<String>) -> ImportError {
        let pos = self.doc.text_pos_at(node.range().start);
        let at = Location {
            file: self.file.to_owned(),
            line: pos.row as usize,
            column: Some((pos.col as usize, format!("<{}>", node.tag_name().name()))),
        };
        ImportError::at(at, reason)
    }
}

/// The trimmed text of the child element `name` and the child, or `None`
/// when it is absent or empty.
fn text<'a, 'i>(node: Node<'a, 'i>, name: &'static str) -> Option<(Node<'a, 'i>, &'a str)> {
    children(node, name)
        .next()
        .and_then(|c| c.text().map(|t| (c, t.trim())))
        .filter(|(_, t)| !t.is_empty())
}

fn children<'a, 'input>(
    node: Node<'a, 'input>,
    name: &'static str,
) -> impl Iterator<Item = Node<'a, 'input>> {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

/// A platform as the metadata describes it: name, accel, emulated.
type Platform = (String, String, bool);

/// PTS system identifier -> platform, checked both ways against the
/// metadata.
fn systems(
    xml: &Xml,
    root: Node,
    meta_file: &str,
    meta: &ImportMeta,
) -> Result<HashMap<String, Platform>, ImportError> {
    let present: Vec<String> = children(root, "System")
        .filter_map(|s| text(s, "Identifier").map(|(_, t)| t.to_owned()))
        .collect();
    let mut map = HashMap::new();
    for (name, facts) in &meta.platforms {
        let key = format!("platforms.{name}.pts_system");
        let Some(system) = &facts.pts_system else {
            return Err(ImportError::file(
                meta_file,
                format!("key `{key}` is required for a PTS import: the <System><Identifier> of {} whose results are this platform", xml.file),
            ));
        };
        if !present.contains(system) {
            return Err(ImportError::file(
                meta_file,
                format!(
                    "key `{key}`: {} has no <System> with the identifier {system:?} (it has {present:?})",
                    xml.file
                ),
            ));
        }
        let platform = (name.clone(), facts.accel.clone(), facts.emulated);
        if let Some(other) = map.insert(system.clone(), platform) {
            return Err(ImportError::file(
                meta_file,
                format!(
                    "key `{key}`: system {system:?} is already platform `{}`",
                    other.0
                ),
            ));
        }
    }
    Ok(map)
}

/// The rows of one `<Result>`, each with the line of its `<Entry>`.
fn result_rows(
    xml: &Xml,
    result: Node,
    systems: &HashMap<String, Platform>,
    run: &str,
) -> Result<Vec<(MetricRow, usize)>, ImportError> {
    let test = text(result, "Identifier")
        .or_else(|| text(result, "Title"))
        .ok_or_else(|| xml.fail(result, "the result has neither <Identifier> nor <Title>"))?;
    let workload = workload_name(test.1);
    if workload.is_empty() {
        return Err(xml.fail(
            test.0,
            format!("no workload name can be made of {:?}", test.1),
        ));
    }
    let metric = [text(result, "Description"), text(result, "Arguments")]
        .into_iter()
        .flatten()
        .map(|(_, t)| slug(t))
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "value".to_owned());
    let (scale_node, scale) = text(result, "Scale")
        .ok_or_else(|| xml.fail(result, "the result has no <Scale> (its unit)"))?;
    let unit = unit_of(scale).ok_or_else(|| {
        let units: Vec<&str> = SCALES.iter().map(|(s, _)| *s).collect();
        xml.fail(
            scale_node,
            format!("scale {scale:?} has no unit in SPEC.md (s, ms, events/s, MB/s, req/s, %, count, bytes); known scales: {}", units.join(", ")),
        )
    })?;
    let (prop_node, proportion) = text(result, "Proportion")
        .ok_or_else(|| xml.fail(result, "the result has no <Proportion> (HIB or LIB)"))?;
    let direction = match proportion {
        "HIB" => Direction::Higher,
        "LIB" => Direction::Lower,
        other => {
            return Err(xml.fail(
                prop_node,
                format!(
                "proportion {other:?} is neither HIB (higher is better) nor LIB (lower is better)"
            ),
            ))
        }
    };
    let mut out = Vec::new();
    for data in children(result, "Data") {
        for entry in children(data, "Entry") {
            let (id_node, system) = text(entry, "Identifier")
                .ok_or_else(|| xml.fail(entry, "the entry has no <Identifier> (its system)"))?;
            let (platform, accel, emulated) = systems.get(system).ok_or_else(|| {
                xml.fail(
                    id_node,
                    format!("system {system:?} is not a platform of the metadata: set pts_system = {system:?} in one [platforms.<name>]"),
                )
            })?;
            for (i, value) in samples(xml, entry)?.into_iter().enumerate() {
                let row = MetricRow {
                    platform: platform.clone(),
                    accel: accel.clone(),
                    emulated: *emulated,
                    experiment: EXPERIMENT.to_owned(),
                    workload: workload.clone(),
                    metric: metric.clone(),
                    unit,
                    direction,
                    repetition: u32::try_from(i + 1).unwrap_or(u32::MAX),
                    guest: None,
                    n_guests: None,
                    stressor: None,
                    role: None,
                    status: Status::Ok,
                    value: Some(value),
                    run: run.to_owned(),
                };
                // The same rules as collected rows (a negative duration...).
                row.validate()
                    .map_err(|reason| xml.fail(entry, format!("sample {}: {reason}", i + 1)))?;
                out.push((row, xml.line(entry)));
            }
        }
    }
    Ok(out)
}

/// The entry's samples: `<RawString>` split at `:`, else `<Value>`.
fn samples(xml: &Xml, entry: Node) -> Result<Vec<f64>, ImportError> {
    let (node, body, raw) = match text(entry, "RawString") {
        Some((node, body)) => (node, body, true),
        None => {
            let (node, body) = text(entry, "Value")
                .ok_or_else(|| xml.fail(entry, "the entry has neither <RawString> nor <Value>"))?;
            (node, body, false)
        }
    };
    let parts: Vec<&str> = if raw {
        body.split(':').map(str::trim).collect()
    } else {
        vec![body]
    };
    parts
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let which = if raw {
                format!("sample {} of {body:?}", i + 1)
            } else {
                format!("{s:?}")
            };
            match s.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                Ok(_) => Err(xml.fail(node, format!("{which} is not a finite number"))),
                Err(_) => Err(xml.fail(node, format!("{which} is not a number"))),
            }
        })
        .collect()
}

/// SPEC unit of a PTS scale.
pub fn unit_of(scale: &str) -> Option<Unit> {
    let scale = scale.trim().to_ascii_lowercase();
    SCALES.iter().find(|(s, _)| *s == scale).map(|(_, u)| *u)
}

/// `pts/sysbench-1.1.0` -> `sysbench`: the test profile without its
/// repository and version.
pub fn workload_name(identifier: &str) -> String {
    let name = identifier.rsplit('/').next().unwrap_or(identifier);
    let name = match name.rsplit_once('-') {
        Some((base, version))
            if !base.is_empty()
                && version.starts_with(|c: char| c.is_ascii_digit())
                && version.chars().all(|c| c.is_ascii_digit() || c == '.') =>
        {
            base
        }
        _ => name,
    };
    slug(name)
}

/// A metrics-table name made of free text: lower case, every run of other
/// characters than `[a-z0-9.]` one `-` when it is only dashes, else one `_`;
/// none at either end; 64 characters at most.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for c in text.to_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' {
            if !run.is_empty() && !out.is_empty() {
                out.push(if run.chars().all(|d| d == '-') {
                    '-'
                } else {
                    '_'
                });
            }
            run.clear();
            out.push(c);
        } else {
            run.push(c);
        }
    }
    let cut = out.get(..64).unwrap_or(&out);
    cut.trim_end_matches(['_', '-']).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_pts_text() {
        assert_eq!(workload_name("pts/sysbench-1.1.0"), "sysbench");
        assert_eq!(
            workload_name("pts/build-linux-kernel-1.15.0"),
            "build-linux-kernel"
        );
        assert_eq!(workload_name("local/my-test"), "my-test");
        assert_eq!(slug("Test: CPU"), "test_cpu");
        assert_eq!(
            slug("Type: Sequential Read - Engine: IO_uring - Block Size: 1MB"),
            "type_sequential_read_engine_io_uring_block_size_1mb"
        );
        assert_eq!(slug("--x--y z"), "x-y_z");
        assert_eq!(slug(&"x".repeat(100)).len(), 64);
        assert_eq!(slug("  ::  "), "");
    }

    #[test]
    fn scales_map_or_are_refused() {
        assert_eq!(unit_of("Events Per Second"), Some(Unit::EventsPerSecond));
        assert_eq!(unit_of("seconds"), Some(Unit::Seconds));
        assert_eq!(unit_of("MB/s"), Some(Unit::MegabytesPerSecond));
        assert_eq!(unit_of("Frames Per Second"), None);
        assert_eq!(unit_of("MiB/s"), None);
    }
}

#[cfg(test)]
mod parse_tests {
    use super::*;
    use crate::import::meta;

    const META: &str = include_str!("../../tests/data/import/pts-meta.toml");

    /// A composite.xml with the fixture's two systems and `results`.
    fn doc(results: &str) -> String {
        format!(
            "<?xml version=\"1.0\"?>\n<PhoronixTestSuite>\n<System><Identifier>Bare Metal</Identifier></System>\n<System><Identifier>KVM Guest</Identifier></System>\n{results}</PhoronixTestSuite>\n"
        )
    }

    fn result(scale: &str, proportion: &str, entries: &str) -> String {
        format!("<Result>\n<Identifier>pts/t-1.0</Identifier>\n<Description>D</Description>\n<Scale>{scale}</Scale>\n<Proportion>{proportion}</Proportion>\n<Data>\n{entries}</Data>\n</Result>\n")
    }

    fn entry(system: &str, raw: &str) -> String {
        format!("<Entry><Identifier>{system}</Identifier><Value>1</Value><RawString>{raw}</RawString></Entry>\n")
    }

    fn import(xml: &str) -> Result<Vec<MetricRow>, ImportError> {
        let meta = meta::parse("m.toml", META).expect("fixture metadata");
        parse("c.xml", xml, ("m.toml", &meta), "import/composite.xml")
    }

    fn err(xml: &str) -> String {
        import(xml).expect_err("refused").to_string()
    }

    #[test]
    fn samples_become_repetitions() {
        let both = entry("Bare Metal", "2:4") + &entry("KVM Guest", "3");
        let rows = import(&doc(&result("Seconds", "LIB", &both))).expect("valid");
        let values: Vec<_> = rows
            .iter()
            .map(|r| (r.platform.as_str(), r.repetition, r.value))
            .collect();
        assert_eq!(
            values,
            [
                ("native", 1, Some(2.0)),
                ("native", 2, Some(4.0)),
                ("kvm", 1, Some(3.0))
            ]
        );
        assert_eq!(
            (rows[0].workload.as_str(), rows[0].metric.as_str()),
            ("t", "d")
        );
    }

    #[test]
    fn faults_name_the_element() {
        let ok = entry("KVM Guest", "1");
        let nan = err(&doc(&result(
            "Seconds",
            "LIB",
            &(entry("Bare Metal", "1:NaN") + &ok),
        )));
        assert!(
            nan.contains("c.xml line 11, column 59 (<RawString>)"),
            "{nan}"
        );
        assert!(
            nan.contains("sample 2 of \"1:NaN\" is not a finite number"),
            "{nan}"
        );
        let stranger = err(&doc(&result(
            "Seconds",
            "LIB",
            &(entry("Laptop", "1") + &ok),
        )));
        assert!(
            stranger.contains("(<Identifier>)") && stranger.contains("\"Laptop\""),
            "{stranger}"
        );
        let negative = err(&doc(&result(
            "Seconds",
            "LIB",
            &(entry("Bare Metal", "1:-2") + &ok),
        )));
        assert!(
            negative.contains("line 11, column 1 (<Entry>): sample 2: negative duration"),
            "{negative}"
        );
        let prop = err(&doc(&result("Seconds", "MIB", &ok)));
        assert!(prop.contains("line 9, column 1 (<Proportion>)"), "{prop}");
        let both = entry("Bare Metal", "1") + &ok;
        let twice = result("Seconds", "LIB", &both).repeat(2);
        let dup = err(&doc(&twice));
        assert!(
            dup.contains("c.xml line 15") && dup.contains("entry on line 21 gives t d of platform native repetition 1 like the entry on line 11"),
            "{dup}"
        );
        let root = err("<Other/>");
        assert!(root.contains("not a PTS result file"), "{root}");
    }
}
