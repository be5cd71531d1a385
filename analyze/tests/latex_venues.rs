//! Every LaTeX table and the `--paper` folder compile in the venue
//! templates a paper uses: ACM `acmart` (sigconf) and IEEEtran
//! (conference), with pdflatex and bibtex (Debian texlive-latex-recommended,
//! texlive-latex-extra, texlive-fonts-recommended, texlive-publishers;
//! scripts/install-deps.sh installs them). A table that runs into the
//! margin (an Overfull \hbox), a float taller than a page, an undefined
//! citation or reference, or an acmart figure without a description fails.
//!
//! Data: the paper's Tables 1 and 2 as numbers (tests/data/paper) and a
//! native+kvm smoke-like bundle with scalability rows (tests/data/smoke),
//! imported as `collect import csv` does, reported in both LaTeX forms.

use std::path::{Path, PathBuf};
use std::process::Command;

use analyze::render::latex::Form;
use analyze::report::{run, ReportSettings};

/// Preamble and bibliography style of each template.
const TEMPLATES: [(&str, &str, &str); 2] = [
    (
        "acm",
        "\\documentclass[sigconf]{acmart}\n\\settopmatter{printacmref=false}\n\\setcopyright{none}\n\\renewcommand\\footnotetextcopyrightpermission[1]{}\n",
        "ACM-Reference-Format",
    ),
    (
        "ieee",
        "\\documentclass[conference]{IEEEtran}\n\\usepackage{booktabs}\n",
        "IEEEtran",
    ),
];

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Imports a fixture and writes its report and paper folder in `form`.
fn report(tmp: &Path, fixture: &str, form: Form) -> (PathBuf, PathBuf) {
    let dir = tmp.join(format!("{fixture}-{}", form.as_str()));
    let source = if fixture == "paper" {
        "tables.csv"
    } else {
        "rows.csv"
    };
    let packed = collect::import::import_files(
        collect::import::Format::Csv,
        &data(fixture).join(source),
        Some(&data(fixture).join("meta.toml")),
        &dir.join("bundles"),
        collect::import::Options::default(),
    )
    .expect("import")
    .remove(0)
    .packed;
    let (out, paper) = (dir.join("report"), dir.join("paper"));
    run(&ReportSettings {
        bundles: vec![packed.path],
        out: Some(out.clone()),
        reports_dir: dir.clone(),
        strict: true,
        load: Default::default(),
        filters: Default::default(),
        latex: form,
        paper: Some(paper.clone()),
    })
    .expect("report");
    (out, paper)
}

fn tool(name: &str, dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(name)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("{name} could not run ({e}): install TeX Live (scripts/install-deps.sh)")
        })
}

/// Compiles `body` in each template inside `dir` (with bibtex when it
/// cites); returns every problem found in the logs.
fn compile(dir: &Path, stem: &str, body: &str, bib: bool) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, preamble, style) in TEMPLATES {
        let job = format!("{stem}-{name}");
        let bibliography = if bib {
            format!("\\bibliographystyle{{{style}}}\n\\bibliography{{references}}\n")
        } else {
            String::new()
        };
        let doc = format!(
            "{preamble}\\usepackage{{graphicx}}\n\\begin{{document}}\n\\title{{Evaluation}}\n\\author{{A. Author}}\n\\maketitle\n\\section{{Evaluation}}\n{body}\n{bibliography}\\end{{document}}\n"
        );
        std::fs::write(dir.join(format!("{job}.tex")), doc).expect("write tex");
        let pdflatex = || {
            tool(
                "pdflatex",
                dir,
                &["-interaction=nonstopmode", "-halt-on-error", &job],
            )
        };
        let mut out = pdflatex();
        if bib && out.status.success() {
            let b = tool("bibtex", dir, &[&job]);
            assert!(
                b.status.success(),
                "bibtex {job}: {}",
                String::from_utf8_lossy(&b.stdout)
            );
            pdflatex();
        }
        if out.status.success() {
            out = pdflatex();
        }
        let log = std::fs::read_to_string(dir.join(format!("{job}.log"))).unwrap_or_default();
        if !out.status.success() {
            let tail: Vec<&str> = log.lines().filter(|l| l.starts_with('!')).collect();
            problems.push(format!("{job}: pdflatex failed: {tail:?}"));
        }
        for line in log.lines() {
            let bad = line.starts_with("Overfull \\hbox")
                || line.contains("Float too large")
                || line.contains("undefined")
                || line.contains("image without description");
            if bad {
                problems.push(format!("{job}: {line}"));
            }
        }
    }
    problems
}

/// `\input` lines for every table of a report folder, one page each.
fn every_table(out: &Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(out)
        .expect("report dir")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".tex").map(str::to_owned)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 5, "{names:?}");
    names
        .iter()
        .map(|n| format!("\\input{{{n}}}\n\\clearpage\n"))
        .collect()
}

fn check(fixture: &str, expect_tables: &[&str]) {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut problems = Vec::new();
    for form in [Form::Compact, Form::Full] {
        let (out, paper) = report(tmp.path(), fixture, form);
        problems.extend(compile(&out, "tables", &every_table(&out), false));
        for t in expect_tables {
            assert!(
                paper.join(format!("{t}.tex")).exists(),
                "{t}.tex in the paper folder"
            );
        }
        let mut body = String::from("\\input{methods}\n");
        for t in expect_tables {
            body.push_str(&format!("\\input{{{t}}}\n"));
        }
        body.push_str("\\input{figures}\n");
        problems.extend(compile(&paper, "paper", &body, true));
        let figures = std::fs::read_to_string(paper.join("figures.tex")).expect("figures.tex");
        assert!(
            figures.matches("\\includegraphics").count() >= 2,
            "{figures}"
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_papers_tables_compile_in_acm_and_ieee_templates() {
    check("paper", &["table1", "table2"]);
}

#[test]
fn a_native_kvm_smoke_report_compiles_in_acm_and_ieee_templates() {
    check("smoke", &["table1", "scaling"]);
}
