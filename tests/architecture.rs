//! The layout is the architecture: checks on the source tree itself.
//!
//! Properties checked:
//! - the pure core (`src/domain`) imports no module outside it and uses no
//!   IO: no tokio, sqlx, tantivy, teloxide, axum, std::fs, std::env,
//!   std::net or std::process;
//! - the layers depend only downwards: domain < state < knowledge <
//!   frontends;
//! - no import cycle between the layers' modules (each file or folder
//!   directly inside a layer is one module; test code is left out);
//! - the checker itself catches a forbidden import and a cycle when one is
//!   added to a copy of the tree.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LAYERS: [&str; 4] = ["domain", "state", "knowledge", "frontends"];
const FORBIDDEN_IN_CORE: [&str; 9] = [
    "tokio::",
    "sqlx::",
    "tantivy::",
    "teloxide::",
    "axum::",
    "std::fs",
    "std::env",
    "std::net",
    "std::process",
];

/// One source file: its module path (`domain::answer`) and its code with
/// comments and `#[cfg(test)]` items left out.
struct Source {
    module: Vec<String>,
    path: PathBuf,
    code: String,
}

fn sources(root: &Path) -> Vec<Source> {
    let mut files = Vec::new();
    collect(root, &mut files);
    files
        .into_iter()
        .map(|path| {
            let rel = path.strip_prefix(root).unwrap();
            let mut module: Vec<String> = rel
                .with_extension("")
                .iter()
                .map(|c| c.to_string_lossy().into_owned())
                .collect();
            if module.last().is_some_and(|m| m == "mod" || m == "lib") {
                module.pop();
            }
            let text = std::fs::read_to_string(&path).unwrap();
            Source {
                module,
                code: without_tests(&without_comments(&text)),
                path,
            }
        })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn without_comments(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Drops each `#[cfg(test)]` item: from the attribute to the end of the
/// braces it opens.
fn without_tests(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(i) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let Some(open) = after.find('{') else {
            return out;
        };
        let semicolon = after.find(';').unwrap_or(usize::MAX);
        if semicolon < open {
            rest = &after[semicolon + 1..];
            continue;
        }
        let mut depth = 0usize;
        let mut end = after.len();
        for (j, c) in after[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + j + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// The layer module (`domain::answer`, `frontends::telegram`) a path names.
fn unit(path: &[String]) -> Option<String> {
    match path {
        [layer, module, ..] if LAYERS.contains(&layer.as_str()) => {
            Some(format!("{layer}::{module}"))
        }
        _ => None,
    }
}

/// Every `crate::…` and `super::…` path in a file, resolved to module
/// segments from the crate root.
fn referenced_paths(source: &Source) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let code = &source.code;
    for (start, _) in code
        .match_indices("crate::")
        .chain(code.match_indices("super::"))
    {
        if start > 0
            && code[..start].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$')
        {
            continue;
        }
        let tail: String = code[start..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let mut segments: Vec<String> = tail
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let mut base: Vec<String> = Vec::new();
        if segments.first().is_some_and(|s| s == "crate") {
            segments.remove(0);
        } else {
            // `super` from module a::b is a; from a (a/mod.rs) the root.
            base = source.module.clone();
            while segments.first().is_some_and(|s| s == "super") {
                segments.remove(0);
                base.pop();
            }
        }
        base.extend(segments);
        paths.push(base);
    }
    paths
}

/// Edges between layer modules: (from, to, file).
fn edges(sources: &[Source]) -> Vec<(String, String, PathBuf)> {
    let mut out = Vec::new();
    for s in sources {
        let Some(from) = unit(&s.module) else {
            continue;
        };
        for p in referenced_paths(s) {
            if let Some(to) = unit(&p) {
                if to != from {
                    out.push((from.clone(), to, s.path.clone()));
                }
            }
        }
    }
    out
}

fn rank(unit: &str) -> usize {
    let layer = unit.split("::").next().unwrap_or_default();
    LAYERS
        .iter()
        .position(|l| *l == layer)
        .unwrap_or(usize::MAX)
}

/// Everything wrong with the tree at `root`, one line each.
fn violations(root: &Path) -> Vec<String> {
    let sources = sources(root);
    let mut found = Vec::new();
    for s in sources
        .iter()
        .filter(|s| s.module.first().is_some_and(|l| l == "domain"))
    {
        for word in FORBIDDEN_IN_CORE {
            if s.code.contains(word) || uses_grouped_std(&s.code, word) {
                found.push(format!("{}: the core uses {word}", s.path.display()));
            }
        }
    }
    let edges = edges(&sources);
    for (from, to, path) in &edges {
        if rank(to) > rank(from) {
            found.push(format!(
                "{}: {from} imports {to}, a layer above it",
                path.display()
            ));
        }
    }
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, to, _) in &edges {
        graph.entry(from.clone()).or_default().insert(to.clone());
    }
    if let Some(cycle) = find_cycle(&graph) {
        found.push(format!("import cycle: {}", cycle.join(" → ")));
    }
    found
}

/// `use std::{fs, …}` written as a group.
fn uses_grouped_std(code: &str, word: &str) -> bool {
    let Some(name) = word.strip_prefix("std::") else {
        return false;
    };
    code.match_indices("std::{").any(|(i, _)| {
        let group = &code[i..code[i..].find('}').map_or(code.len(), |e| i + e)];
        group
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|w| w == name)
    })
}

fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

fn append(path: &Path, text: &str) {
    let mut code = std::fs::read_to_string(path).unwrap();
    code.push_str(text);
    std::fs::write(path, code).unwrap();
}

#[test]
fn the_core_is_pure_the_layers_depend_downwards_and_no_module_cycle() {
    let found = violations(&src());
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_layers_and_their_modules_are_the_folders() {
    let sources = sources(&src());
    let units: BTreeSet<String> = sources.iter().filter_map(|s| unit(&s.module)).collect();
    for layer in LAYERS {
        assert!(
            units.iter().any(|u| u.starts_with(&format!("{layer}::"))),
            "no modules in src/{layer}: {units:?}"
        );
    }
    let loose: Vec<&Source> = sources
        .iter()
        .filter(|s| s.module.len() == 1 && !LAYERS.contains(&s.module[0].as_str()))
        .filter(|s| {
            !["main", "lib"]
                .iter()
                .any(|f| s.path.ends_with(format!("{f}.rs")))
        })
        .collect();
    assert!(
        loose.is_empty(),
        "modules outside the layer folders: {:?}",
        loose.iter().map(|s| &s.path).collect::<Vec<_>>()
    );
}

#[test]
fn the_checker_catches_a_forbidden_import_an_upward_import_and_a_cycle() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("src");
    copy_tree(&src(), &copy);
    assert!(violations(&copy).is_empty());

    let answer = copy.join("domain").join("answer.rs");
    append(
        &answer,
        "\nfn peek() -> bool { std::fs::metadata(\"x\").is_ok() }\n",
    );
    let found = violations(&copy);
    assert!(
        found.iter().any(|v| v.contains("the core uses std::fs")),
        "{found:?}"
    );

    copy_tree(&src(), &copy);
    append(&answer, "\nuse crate::knowledge::snapshot::Snapshot;\n");
    let found = violations(&copy);
    assert!(
        found
            .iter()
            .any(|v| v.contains("domain::answer imports knowledge::snapshot")),
        "{found:?}"
    );

    copy_tree(&src(), &copy);
    append(
        &copy.join("knowledge").join("index.rs"),
        "\n#[allow(unused_imports)]\nuse crate::knowledge::snapshot::Snapshot;\n",
    );
    let found = violations(&copy);
    assert!(
        found.iter().any(|v| v.starts_with("import cycle:")),
        "{found:?}"
    );
}
