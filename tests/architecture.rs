//! The house rules of `src/` (DESIGN.md, "Architecture v3"), checked on the source itself:
//! layers point one way, no module imports in a cycle, the built-ins use the public API only, no file over 600 lines, no function
//! over 80; metric and model names, memory mappings and test hooks each written in their one
//! place. What is not yet true is listed in `DEBTS` by name: a new breach fails, and so
//! does a debt that has been paid but is still listed (the list only shrinks).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module's layer: a module may import its own layer and those below.
const LAYERS: [(&str, u32); 18] = [
    // The table of models is a fact every layer reads (results name their models): it
    // imports nothing of threadfork's.
    ("api::model", 0),
    ("error", 0),
    ("sys", 0),
    ("stats", 0),
    ("units", 0),
    ("machine", 0),
    ("results", 1),
    ("measure", 2),
    ("api", 3),
    ("builtin", 4),
    ("exec", 4),
    ("runtime", 5),
    ("sweep", 5),
    ("host", 5),
    ("compare", 6),
    ("export", 6),
    ("options", 7),
    ("cli", 7),
];

const MAX_FILE_LINES: usize = 600;
const MAX_FN_LINES: usize = 80;

/// Words that only some files may write, with those files (path prefixes) and why.
const SITES: &[(&[&str], &[&str], &str)] = &[
    (
        &["mmap(", "mmap_anonymous(", "munmap("],
        &["src/sys/mmap.rs"],
        "a memory mapping is made by sys::mmap::Mapping only",
    ),
    (
        &["inject::", "fault::"],
        &["src/exec/testing/"],
        "test hooks are reached through exec::testing only",
    ),
];

/// Files that may write a model's name as a string: the table, the options that read one in,
/// the runtimes naming themselves, and the bare OS loops naming their call.
const MODEL_NAME_SITES: &[&str] = &[
    "src/api/model.rs",
    "src/options/",
    "src/runtime/",
    "src/exec/bare.rs",
];

/// Folders that read the command line: they know parameters and flags by the workloads'
/// declarations only, never a built-in's by name.
const OPTIONS_SITES: &[&str] = &["src/options/", "src/cli/"];

/// The built-ins' parameter names and flags as written in their declarations
/// (`Param::new("work", …)`, `.flag("work")`).
fn builtin_params() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/builtin");
    let mut files = Vec::new();
    walk_rs(&root, &mut files);
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        for (pat, dashes) in [("Param::new(\"", ""), (".flag(\"", "--")] {
            for (i, _) in text.match_indices(pat) {
                let rest = &text[i + pat.len()..];
                let name = rest.split('"').next().unwrap_or("");
                out.push(format!("\"{dashes}{name}\""));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Breaches not yet mended: ("file", path) or ("fn", "path::name").
const DEBTS: &[(&str, &str)] = &[];

struct Source {
    /// `src/a/b.rs`
    path: String,
    /// `a::b`
    module: String,
    lines: usize,
    /// The code before the unit tests, without comment lines.
    code: Vec<String>,
}

/// Every `.rs` file under `dir`.
fn walk_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk_rs(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk_rs(&root.join("src"), &mut files);
    files.sort();
    files
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            let path = p
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let module = path
                .trim_start_matches("src/")
                .trim_end_matches(".rs")
                .trim_end_matches("/mod")
                .replace('/', "::");
            let before_tests = text.split("#[cfg(test)]\nmod tests").next().unwrap();
            let code = before_tests
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .map(str::to_string)
                .collect();
            Source {
                path,
                module,
                lines: text.lines().count(),
                code,
            }
        })
        .collect()
}

/// A module's layer: its own entry, or its top-level module's.
fn layer(module: &str) -> Option<u32> {
    let top = module.split("::").next().unwrap_or(module);
    LAYERS
        .iter()
        .find(|(m, _)| *m == module)
        .or_else(|| LAYERS.iter().find(|(m, _)| *m == top))
        .map(|(_, l)| *l)
}

/// The modules of `src/` that `s` names (`crate::x::y` or `super::y`), resolved to files.
fn imports(s: &Source, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let parent: Vec<&str> = match s.module.rsplit_once("::") {
        Some((p, _)) => p.split("::").collect(),
        None => Vec::new(),
    };
    let mut out = BTreeSet::new();
    for line in &s.code {
        for (start, base) in [("crate::", None), ("super::", Some(&parent))] {
            for (i, _) in line.match_indices(start) {
                if i > 0 && line.as_bytes()[i - 1] == b'$' {
                    continue;
                }
                let rest = &line[i + start.len()..];
                let path: Vec<&str> = rest
                    .split("::")
                    .map(|p| {
                        p.split(|c: char| !c.is_alphanumeric() && c != '_')
                            .next()
                            .unwrap()
                    })
                    .take_while(|p| !p.is_empty())
                    .collect();
                let mut full: Vec<&str> = base.map(|b| b.to_vec()).unwrap_or_default();
                full.extend(path);
                for k in (1..=full.len()).rev() {
                    let m = full[..k].join("::");
                    if modules.contains(&m) {
                        if m != s.module && !s.module.starts_with(&format!("{m}::")) {
                            out.insert(m);
                        }
                        break;
                    }
                }
            }
        }
    }
    out
}

fn breaches() -> BTreeMap<(String, String), String> {
    let src = sources();
    let modules: BTreeSet<String> = src.iter().map(|s| s.module.clone()).collect();
    let mut found = BTreeMap::new();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in &src {
        if s.lines > MAX_FILE_LINES {
            found.insert(
                ("file".into(), s.path.clone()),
                format!("{} lines", s.lines),
            );
        }
        for (name, n) in long_functions(&s.code) {
            found.insert(
                ("fn".into(), format!("{}::{name}", s.path)),
                format!("{n} lines"),
            );
        }
        let deps = imports(s, &modules);
        let top = s.module.split("::").next().unwrap();
        for d in &deps {
            if let (Some(a), Some(b)) = (layer(&s.module), layer(d))
                && b > a
            {
                found.insert(
                    ("upward".into(), format!("{} -> {d}", s.path)),
                    format!("layer {a} imports layer {b}"),
                );
            }
        }
        // The built-ins are written as a user writes a workload: on the public API alone.
        if top == "builtin" {
            for d in deps
                .iter()
                .filter(|d| !d.starts_with("api") && !d.starts_with("builtin"))
            {
                found.insert(
                    ("private".into(), format!("{} -> {d}", s.path)),
                    "a built-in uses more than the public API".into(),
                );
            }
        }
        graph.insert(s.module.clone(), deps);
    }
    for (what, why) in words_out_of_place(&src) {
        found.insert(("site".into(), what), why);
    }
    for cycle in cycles(&graph) {
        found.insert(
            ("cycle".into(), cycle.join(" ")),
            "modules in a cycle".into(),
        );
    }
    found
}

/// The quoted `name: "..."` entries of a table file.
fn table_names(path: &str) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join(path)).unwrap();
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("name: \""))
        .filter_map(|l| l.split('"').next())
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether `line` writes `word` as a word of its own (`fault::`, not `Default::`).
fn writes(line: &str, word: &str) -> bool {
    line.match_indices(word).any(|(i, _)| {
        !line[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// Words written outside the files allowed to write them: the `SITES`, a metric's name as a
/// string outside `results/metric.rs`, a model's outside `MODEL_NAME_SITES`; and a built-in's
/// parameter or flag in the `OPTIONS_SITES`.
fn words_out_of_place(src: &[Source]) -> Vec<(String, String)> {
    let metrics = table_names("src/results/metric.rs");
    let models = table_names("src/api/model.rs");
    assert!(
        metrics.len() > 10 && models.len() > 10,
        "the tables are read"
    );
    let mut rules: Vec<(Vec<String>, Vec<&str>, String)> = SITES
        .iter()
        .map(|(w, at, why)| {
            let w = w.iter().map(|x| x.to_string()).collect();
            (w, at.to_vec(), why.to_string())
        })
        .collect();
    rules.push((
        metrics.iter().map(|n| format!("\"{n}\"")).collect(),
        vec!["src/results/metric.rs"],
        "a metric is named in results/metric.rs only".into(),
    ));
    rules.push((
        models.iter().map(|n| format!("\"{n}\"")).collect(),
        MODEL_NAME_SITES.to_vec(),
        "a model is named in the table, the options and the loader only".into(),
    ));
    let mut out = Vec::new();
    let builtin = builtin_params();
    assert!(builtin.len() >= 8, "the built-ins' parameters are read");
    for s in src
        .iter()
        .filter(|s| OPTIONS_SITES.iter().any(|a| s.path.starts_with(a)))
    {
        for w in builtin.iter().chain([&"builtin::".to_string()]) {
            if s.code.iter().any(|l| writes(l, w)) {
                let why = "the options know a built-in's parameters by its declarations only";
                out.push((format!("{} writes {w}", s.path), why.to_string()));
            }
        }
    }
    for (words, at, why) in &rules {
        for s in src
            .iter()
            .filter(|s| !at.iter().any(|a| s.path.starts_with(a)))
        {
            for w in words {
                if s.code.iter().any(|l| writes(l, w)) {
                    out.push((format!("{} writes {w}", s.path), why.clone()));
                }
            }
        }
    }
    out
}

/// Functions longer than the limit: (name, lines), from `fn` to the brace closing it at the
/// same indentation (rustfmt's layout).
fn long_functions(code: &[String]) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for (i, line) in code.iter().enumerate() {
        let t = line.trim_start();
        let indent = &line[..line.len() - t.len()];
        let mut words = t.split_whitespace().skip_while(|w| {
            w.starts_with("pub") || ["const", "unsafe", "async", "extern"].contains(w)
        });
        if words.next() != Some("fn") || line.trim_end().ends_with(';') {
            continue;
        }
        let name: String = words
            .next()
            .unwrap_or("")
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let close = format!("{indent}}}");
        if let Some(j) = code[i + 1..].iter().position(|l| *l == close) {
            if j + 2 > MAX_FN_LINES {
                out.push((name, j + 2));
            }
        }
    }
    out
}

/// The strongly connected groups of two or more modules (Tarjan).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(st: &mut State<'a>, v: &'a str) {
        let i = st.index.len();
        st.index.insert(v, i);
        st.low.insert(v, i);
        st.stack.push(v);
        for w in st.graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !st.index.contains_key(w) {
                visit(st, w);
                let lw = st.low[w];
                let lv = st.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if st.stack.contains(&w) {
                let iw = st.index[w];
                let lv = st.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if st.low[v] == st.index[v] {
            let at = st.stack.iter().position(|x| *x == v).unwrap();
            let group: Vec<String> = st.stack.drain(at..).map(str::to_string).collect();
            if group.len() > 1 {
                st.found.push(group);
            }
        }
    }
    let mut st = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !st.index.contains_key(v.as_str()) {
            visit(&mut st, v);
        }
    }
    for g in &mut st.found {
        g.sort();
    }
    st.found
}

#[test]
fn the_source_keeps_the_house_rules_except_the_listed_debts() {
    let found = breaches();
    let debts: BTreeSet<(String, String)> = DEBTS
        .iter()
        .map(|(k, w)| (k.to_string(), w.to_string()))
        .collect();
    let new: Vec<String> = found
        .iter()
        .filter(|(k, _)| !debts.contains(*k))
        .map(|((k, w), why)| format!("{k} {w}: {why}"))
        .collect();
    assert!(new.is_empty(), "house rules broken:\n{}", new.join("\n"));
    let paid: Vec<String> = debts
        .iter()
        .filter(|k| !found.contains_key(*k))
        .map(|(k, w)| format!("{k} {w}"))
        .collect();
    assert!(
        paid.is_empty(),
        "mended, so take these off DEBTS in tests/architecture.rs:\n{}",
        paid.join("\n")
    );
}

#[test]
fn the_checks_see_a_cycle_an_upward_import_and_a_long_function() {
    let mut g = BTreeMap::new();
    g.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    g.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    g.insert("c".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(cycles(&g), vec![vec!["a".to_string(), "b".to_string()]]);

    let s = Source {
        path: "src/sys/x.rs".into(),
        module: "sys::x".into(),
        lines: 3,
        code: vec![
            "use crate::cli::run;".into(),
            "use super::futex::Lock;".into(),
        ],
    };
    let modules = BTreeSet::from(["cli".to_string(), "sys::futex".to_string()]);
    assert_eq!(
        imports(&s, &modules),
        BTreeSet::from(["cli".to_string(), "sys::futex".to_string()])
    );
    assert!(layer("cli") > layer("sys"));

    let misplaced = Source {
        path: "src/compare/x.rs".into(),
        module: "compare::x".into(),
        lines: 1,
        code: vec![
            "if m.metric == \"throughput\" || model == \"fork\" { mmap(p) }".into(),
            "let x = Default::default();".into(),
        ],
    };
    let seen: Vec<String> = words_out_of_place(&[misplaced])
        .into_iter()
        .map(|(w, _)| w)
        .collect();
    assert_eq!(
        seen,
        [
            "src/compare/x.rs writes mmap(",
            "src/compare/x.rs writes \"throughput\"",
            "src/compare/x.rs writes \"fork\"",
        ]
    );

    let mut body = vec!["    pub fn long(x: u32) -> u32 {".to_string()];
    body.extend((0..90).map(|_| "        x;".to_string()));
    body.push("    }".into());
    assert_eq!(long_functions(&body), vec![("long".to_string(), 92)]);
}
