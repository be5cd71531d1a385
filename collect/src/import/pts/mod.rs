//! Phoronix Test Suite result files (`composite.xml`): each `<Result>` (one
//! test with one set of arguments) and each of its `<Entry>`s (one system)
//! becomes rows of the metrics table (mapping in `collect/IMPORT.md`):
//!
//! - platform: the metadata's platform whose `pts_system` is the entry's
//!   `<Identifier>`, else one named after the `<System>` itself;
//! - workload: the test profile (`pts/sysbench-1.1.0` -> `sysbench`), or
//!   its `<Title>` when the identifier is empty; PTS's install-time and
//!   install-size pseudo-results go to the workload `pts-install`;
//! - metric: the `<Description>` (`Test: CPU` -> `test_cpu`), else the
//!   `<Arguments>`, else `value`, made unique within the workload;
//! - unit: `<Scale>`, as written or in its canonical spelling (SPEC.md
//!   §7.1), never converted; direction: `<Proportion>`;
//! - repetitions: the colon-separated samples of `<RawString>`, else
//!   `<Value>`; an entry with neither is a `failed` row.
//!
//! Results that are not numbers (PASS_FAIL, LINE_GRAPH, ...) are skipped
//! and counted. Each system's `<Hardware>`, `<Software>` and `<JSON>` give
//! host facts ([`system`]). Samples are parsed in one pass and every line
//! number comes from an index of line starts, so time is linear in the
//! file's size.

mod platforms;
pub mod system;

use std::collections::{BTreeMap, HashMap};

use benchvm_format::metrics::{Direction, MetricRow, Status, Unit};
use roxmltree::{Document, Node};

use super::error::{ImportError, Location};
use super::meta::ImportMeta;
use super::names::{is_name, slug, with_suffix};
use super::table::Table;
use super::{utf8, Described};

/// Experiment of every imported PTS row.
pub const EXPERIMENT: &str = "overall";
/// Workload of PTS's install-time and install-size pseudo-results.
pub const INSTALL_WORKLOAD: &str = "pts-install";

/// The `<Identifier>`s of the file's systems, in order (for `--split`).
pub fn system_ids(file: &str, bytes: &[u8]) -> Result<Vec<String>, ImportError> {
    let text = utf8(file, bytes)?;
    let doc = document(file, text)?;
    let mut ids: Vec<String> = Vec::new();
    for s in children(doc.root_element(), "System") {
        let id = text_of(s, "Identifier").unwrap_or_default().to_owned();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

fn document<'a>(file: &str, text: &'a str) -> Result<Document<'a>, ImportError> {
    let doc = Document::parse(text).map_err(|e| {
        let pos = e.pos();
        let at = Location {
            file: file.to_owned(),
            line: pos.row as usize,
            column: Some((pos.col as usize, String::new())),
        };
        ImportError::at(at, format!("not well-formed XML: {e}"))
    })?;
    let root = doc.root_element();
    if root.tag_name().name() != "PhoronixTestSuite" {
        return Err(ImportError::file(
            file,
            format!(
                "the root element is <{}>, not <PhoronixTestSuite>: not a PTS result file",
                root.tag_name().name()
            ),
        ));
    }
    Ok(doc)
}

/// Parses `composite.xml` bytes of `file` into `table`, with the metadata
/// when given; `only` keeps one system's entries (`--split`).
pub fn parse(
    file: &str,
    bytes: &[u8],
    meta: Option<(&str, &ImportMeta)>,
    only: Option<&str>,
    run: &str,
    table: &mut Table,
) -> Result<Described, ImportError> {
    let text = utf8(file, bytes)?;
    let doc = document(file, text)?;
    let xml = Xml {
        file,
        lines: line_starts(text),
    };
    let root = doc.root_element();
    let platforms = platforms::platforms(&xml, root, meta)?;
    if let Some(id) = only {
        if !platforms.contains_key(id) {
            return Err(ImportError::file(file, format!("no <System> {id:?}")));
        }
    }
    let mut counts = Counts::default();
    let mut measures: HashMap<(String, String), usize> = HashMap::new();
    let mut repetitions: HashMap<(String, String, String), u32> = HashMap::new();
    for (k, result) in children(root, "Result").enumerate() {
        let Some(r) = result_of(&xml, result, k + 1, &mut measures, &mut counts)? else {
            continue;
        };
        for data in children(result, "Data") {
            for entry in children(data, "Entry") {
                let system = text_of(entry, "Identifier").unwrap_or_default();
                if only.is_some_and(|o| o != system) {
                    continue;
                }
                let p = platforms.get(system).ok_or_else(|| {
                    xml.fail(
                        entry,
                        format!("system {system:?} has no <System> in the file"),
                    )
                })?;
                let line = xml.line(entry);
                let key = (p.name.clone(), r.workload.clone(), r.metric.clone());
                let next = repetitions.entry(key).or_insert(0);
                let values = samples(&xml, entry)?;
                if values.is_empty() {
                    counts.failed += 1;
                }
                let statuses: Vec<(Status, Option<f64>)> = if values.is_empty() {
                    vec![(Status::Failed, None)]
                } else {
                    values.into_iter().map(|v| (Status::Ok, Some(v))).collect()
                };
                for (status, value) in statuses {
                    *next += 1;
                    let row = MetricRow {
                        platform: p.name.clone(),
                        accel: p.accel.clone(),
                        emulated: p.emulated,
                        experiment: EXPERIMENT.to_owned(),
                        workload: r.workload.clone(),
                        metric: r.metric.clone(),
                        unit: r.unit.clone(),
                        direction: r.direction,
                        repetition: *next,
                        guest: None,
                        n_guests: None,
                        stressor: None,
                        role: None,
                        status,
                        value,
                        run: run.to_owned(),
                    };
                    table.push(row, line)?;
                }
            }
        }
    }
    Ok(platforms::describe(root, &platforms, only, counts))
}

/// The results kept apart, skipped or empty.
#[derive(Debug, Default)]
pub(super) struct Counts {
    pub(super) install: usize,
    pub(super) skipped: BTreeMap<String, usize>,
    pub(super) failed: usize,
}

/// A `<Result>` as rows see it.
#[derive(Debug)]
struct ResultOf {
    workload: String,
    metric: String,
    unit: Unit,
    direction: Direction,
}

/// The workload, metric, unit and direction of result number `k`; `None`
/// for a result that is not numbers (counted in `counts`).
fn result_of(
    xml: &Xml,
    result: Node,
    k: usize,
    measures: &mut HashMap<(String, String), usize>,
    counts: &mut Counts,
) -> Result<Option<ResultOf>, ImportError> {
    let format = text_of(result, "DisplayFormat").unwrap_or("BAR_GRAPH");
    if !matches!(format, "BAR_GRAPH" | "HORIZONTAL_BAR_GRAPH") {
        *counts.skipped.entry(format.to_owned()).or_default() += 1;
        return Ok(None);
    }
    let identifier = text_of(result, "Identifier").unwrap_or_default();
    let title = text_of(result, "Title").unwrap_or_default();
    let description = text_of(result, "Description").unwrap_or_default();
    let arguments = text_of(result, "Arguments").unwrap_or_default();
    let install = identifier
        .is_empty()
        .then(|| install_kind(description, arguments))
        .flatten();
    let (workload, mut metric) = match install {
        Some(kind) => {
            counts.install += 1;
            let test = Some(slug(title)).filter(|s| !s.is_empty());
            let test = test.unwrap_or_else(|| "test".into());
            (INSTALL_WORKLOAD.to_owned(), with_suffix(&test, kind))
        }
        None => {
            let workload = [workload_name(identifier), slug(title)]
                .into_iter()
                .find(|w| !w.is_empty())
                .unwrap_or_else(|| format!("result-{k}"));
            let metric = [slug(description), slug(arguments)]
                .into_iter()
                .find(|m| !m.is_empty())
                .unwrap_or_else(|| "value".into());
            (workload, metric)
        }
    };
    // Two results of one test and one description stay two measures; an
    // install pseudo-result of the same test adds repetitions to the first.
    // Tried in order: the scale (OpenSSL's sign/s and verify/s results share
    // a description), the arguments, the result's place in the file.
    if install.is_none() && measures.contains_key(&(workload.clone(), metric.clone())) {
        let scale = text_of(result, "Scale").map(slug).unwrap_or_default();
        let free = |m: &String| !measures.contains_key(&(workload.clone(), m.clone()));
        metric = [scale, slug(arguments)]
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| with_suffix(&metric, s))
            .find(free)
            .unwrap_or_else(|| with_suffix(&metric, &format!("r{k}")));
    }
    measures
        .entry((workload.clone(), metric.clone()))
        .or_insert(k);
    let scale = text_node(result, "Scale")
        .ok_or_else(|| xml.fail(result, "the result has no <Scale> (its unit)"))?;
    let unit = match Unit::normalise(scale.1) {
        Ok(u) => u,
        // A long scale with a qualifier (`usec, 99.9th Latency Percentile`):
        // the unit is before the comma, the qualifier names the metric.
        Err(e) => match scale.1.split_once(", ") {
            Some((head, tail)) => {
                metric = with_suffix(&metric, &slug(tail));
                Unit::normalise(head).map_err(|_| xml.fail(scale.0, e.to_string()))?
            }
            None => return Err(xml.fail(scale.0, e.to_string())),
        },
    };
    let (prop_node, proportion) = text_node(result, "Proportion")
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
    if !is_name(&workload) || !is_name(&metric) {
        return Err(xml.fail(
            result,
            format!("no name can be made of {workload:?} {metric:?}"),
        ));
    }
    Ok(Some(ResultOf {
        workload,
        metric,
        unit,
        direction,
    }))
}

/// PTS's report_test_run_times module writes `Test Install Time` and
/// `Test Install Size` results with an empty identifier.
fn install_kind(description: &str, arguments: &str) -> Option<&'static str> {
    let said = |s: &str| {
        let s = s.trim().to_ascii_lowercase();
        if s.starts_with("test install time") {
            Some("install_time")
        } else if s.starts_with("test install size") {
            Some("install_size")
        } else {
            None
        }
    };
    said(description).or_else(|| said(arguments))
}

/// The entry's samples: `<RawString>` split at `:`, else `<Value>`; none
/// when both are empty.
fn samples(xml: &Xml, entry: Node) -> Result<Vec<f64>, ImportError> {
    let (node, body, raw) = match text_node(entry, "RawString") {
        Some((node, body)) => (node, body, true),
        None => match text_node(entry, "Value") {
            Some((node, body)) => (node, body, false),
            None => return Ok(Vec::new()),
        },
    };
    let mut out = Vec::new();
    let parts: Box<dyn Iterator<Item = &str>> = if raw {
        Box::new(body.split(':'))
    } else {
        Box::new(std::iter::once(body))
    };
    for (i, s) in parts.enumerate() {
        let s = s.trim();
        match s.parse::<f64>() {
            Ok(v) if v.is_finite() => out.push(v),
            parsed => {
                let which = if raw {
                    format!("sample {} ({s:?})", i + 1)
                } else {
                    format!("{s:?}")
                };
                let why = if parsed.is_ok() {
                    "is not a finite number"
                } else {
                    "is not a number"
                };
                return Err(xml.fail(node, format!("{which} {why}")));
            }
        }
    }
    Ok(out)
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

/// The file's name and the byte offset of each line's start, for errors.
pub(super) struct Xml<'a> {
    pub(super) file: &'a str,
    lines: Vec<usize>,
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .collect()
}

impl Xml<'_> {
    /// 1-based line and column (in bytes) of `node`'s start.
    fn pos(&self, node: Node) -> (usize, usize) {
        let offset = node.range().start;
        let line = self.lines.partition_point(|&start| start <= offset);
        let start = self.lines.get(line.saturating_sub(1)).copied().unwrap_or(0);
        (line, offset - start + 1)
    }

    fn line(&self, node: Node) -> usize {
        self.pos(node).0
    }

    pub(super) fn fail(&self, node: Node, reason: impl Into<String>) -> ImportError {
        let (line, column) = self.pos(node);
        let at = Location {
            file: self.file.to_owned(),
            line,
            column: Some((column, format!("<{}>", node.tag_name().name()))),
        };
        ImportError::at(at, reason)
    }
}

/// The trimmed text of the child element `name` and the child, or `None`
/// when it is absent or empty.
fn text_node<'a, 'i>(node: Node<'a, 'i>, name: &'static str) -> Option<(Node<'a, 'i>, &'a str)> {
    children(node, name)
        .next()
        .and_then(|c| c.text().map(|t| (c, t.trim())))
        .filter(|(_, t)| !t.is_empty())
}

pub(super) fn text_of<'a>(node: Node<'a, '_>, name: &'static str) -> Option<&'a str> {
    text_node(node, name).map(|(_, t)| t)
}

pub(super) fn children<'a, 'input>(
    node: Node<'a, 'input>,
    name: &'static str,
) -> impl Iterator<Item = Node<'a, 'input>> {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}
