//! The metrics of many bundles as one polars DataFrame, each row keeping its
//! lineage (bundle id, label, host).

use benchvm_format::metrics::METRICS_PATH;
use polars::prelude::*;

use crate::load::Loaded;

/// Schema of `metrics.ndjson` (benchvm-format SPEC.md §7).
pub fn metrics_schema() -> Schema {
    Schema::from_iter([
        Field::new("platform".into(), DataType::String),
        Field::new("accel".into(), DataType::String),
        Field::new("emulated".into(), DataType::Boolean),
        Field::new("experiment".into(), DataType::String),
        Field::new("workload".into(), DataType::String),
        Field::new("metric".into(), DataType::String),
        Field::new("unit".into(), DataType::String),
        Field::new("direction".into(), DataType::String),
        Field::new("repetition".into(), DataType::UInt32),
        Field::new("guest".into(), DataType::UInt32),
        Field::new("n_guests".into(), DataType::UInt32),
        Field::new("stressor".into(), DataType::String),
        Field::new("role".into(), DataType::String),
        Field::new("status".into(), DataType::String),
        Field::new("value".into(), DataType::Float64),
        Field::new("run".into(), DataType::String),
    ])
}

/// Names of the lineage columns every row carries.
pub const LINEAGE: [&str; 3] = ["bundle_id", "label", "host"];

/// Schema of the combined frame: the metrics columns, then lineage.
pub fn combined_schema() -> Schema {
    let mut schema = metrics_schema();
    for name in LINEAGE {
        schema.with_column(name.into(), DataType::String);
    }
    schema
}

/// A bundle's `metrics.ndjson` (already validated by the reader, SPEC.md
/// §9.8) as a frame with the lineage columns added.
pub fn from_ndjson(
    bytes: &[u8],
    bundle_id: &str,
    label: &str,
    host: &str,
) -> PolarsResult<DataFrame> {
    let columns = crate::columns::parse(bytes, bundle_id, label, host)
        .map_err(|e| PolarsError::ComputeError(format!("{METRICS_PATH}: {e}").into()))?;
    crate::columns::assemble(&[columns])
}

/// One bundle's metrics with lineage columns added.
pub fn bundle_frame(loaded: &Loaded) -> PolarsResult<DataFrame> {
    combine(std::slice::from_ref(loaded))
}

/// All bundles' metrics, in order, in one frame.
pub fn combine(loaded: &[Loaded]) -> PolarsResult<DataFrame> {
    let parts = loaded
        .iter()
        .map(|l| {
            let m = &l.bundle.manifest;
            crate::columns::from_rows(&l.rows, &l.bundle.id.hex(), &m.label, &m.host)
        })
        .collect::<Vec<_>>();
    crate::columns::assemble(&parts)
}

/// The column a platform gets in tables: what ran, and how.
pub fn column_label(platform: &str, accel: &str, emulated: bool) -> String {
    let name = match platform {
        "native" => "Native".to_owned(),
        "kvm" => "KVM".to_owned(),
        "xen" => "Xen".to_owned(),
        other => other.to_owned(),
    };
    let mut how = Vec::new();
    match (platform, accel) {
        ("native", _) | ("kvm", "kvm") => {}
        (_, "tcg") => how.push("TCG".to_owned()),
        (_, a) if a.starts_with("xen-") => how.push(a.trim_start_matches("xen-").to_uppercase()),
        (_, "none") => {}
        (_, a) => how.push(a.to_owned()),
    }
    if emulated && accel != "tcg" {
        how.push("emulated host".into());
    }
    if how.is_empty() {
        name
    } else {
        format!("{name} ({})", how.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::column_label;

    #[test]
    fn labels_say_how_numbers_were_obtained() {
        assert_eq!(column_label("native", "none", false), "Native");
        assert_eq!(column_label("kvm", "kvm", false), "KVM");
        assert_eq!(column_label("kvm", "tcg", true), "KVM (TCG)");
        assert_eq!(
            column_label("xen", "xen-pv", true),
            "Xen (PV, emulated host)"
        );
        assert_eq!(column_label("xen", "xen-pv", false), "Xen (PV)");
    }
}
