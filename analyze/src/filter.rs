//! Filters on the combined frame: `--label`, `--host`, `--platform`,
//! `--experiment`, each repeatable. Values of one filter are alternatives
//! (any may match); different filters must all match.

use polars::prelude::*;

/// Which rows to keep; an empty list keeps every value of that column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub labels: Vec<String>,
    pub hosts: Vec<String>,
    pub platforms: Vec<String>,
    pub experiments: Vec<String>,
}

impl Filters {
    fn by_column(&self) -> [(&'static str, &Vec<String>); 4] {
        [
            ("label", &self.labels),
            ("host", &self.hosts),
            ("platform", &self.platforms),
            ("experiment", &self.experiments),
        ]
    }

    pub fn is_empty(&self) -> bool {
        self.by_column().iter().all(|(_, v)| v.is_empty())
    }

    /// The rows of `df` that pass every filter.
    pub fn apply(&self, df: DataFrame) -> PolarsResult<DataFrame> {
        let predicate = self
            .by_column()
            .into_iter()
            .filter_map(|(column, wanted)| {
                wanted
                    .iter()
                    .map(|v| col(column).eq(lit(v.clone())))
                    .reduce(Expr::or)
            })
            .reduce(Expr::and);
        match predicate {
            Some(p) => df.lazy().filter(p).collect(),
            None => Ok(df),
        }
    }

    /// The filters as the report states them, e.g. `platform = kvm or xen`.
    pub fn describe(&self) -> Vec<String> {
        self.by_column()
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(name, v)| format!("{name} = {}", v.join(" or ")))
            .collect()
    }
}
