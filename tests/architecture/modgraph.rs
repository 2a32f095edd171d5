//! A model of the crate's module tree, parsed with `syn`: which file defines which items, and
//! what every path in a file (in `use` trees and in code) resolves to — an item in another file
//! of the crate, or an external path such as `std::fs::read`. Re-exports (`pub use`, globs) are
//! followed to the file that defines the item.
//!
//! The checks in `main.rs` are written against this model, so `use std::{fs}`, `use std::fs as
//! f; f::read(…)` and `std::fs::read(…)` are all seen as the same thing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use syn::visit::Visit;

/// One `use` leaf: `use a::b::c as d` → path [a, b, c], name d.
#[derive(Clone, Debug)]
pub struct UseEntry {
    pub path: Vec<String>,
    pub name: String,
    pub glob: bool,
    pub public: bool,
}

#[derive(Debug)]
pub struct SourceFile {
    /// Relative to the crate root: `src/plan/mod.rs`.
    pub path: PathBuf,
    /// `["plan"]`; the crate root is `[]`.
    pub module: Vec<String>,
    /// Declared under `#[cfg(test)]` (itself or a parent).
    pub test_only: bool,
    /// Items defined at the top of the file (and of inline non-test modules, by module).
    pub items: BTreeMap<Vec<String>, BTreeSet<String>>,
    pub uses: BTreeMap<Vec<String>, Vec<UseEntry>>,
    /// Every path written in code (outside `#[cfg(test)]` items), by the module it is in.
    pub paths: Vec<(Vec<String>, Vec<String>)>,
    /// Macros invoked outside tests (`println`, `tokio::select`).
    pub macros: Vec<(Vec<String>, Vec<String>)>,
    pub text: String,
}

/// What a path resolves to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// Defined in this file of the crate (item name; empty for a module itself).
    Internal { file: usize, item: String },
    /// Outside the crate: the path as written after expanding imports (`std::fs::read`).
    External(Vec<String>),
}

pub struct Crate {
    pub root: PathBuf,
    pub files: Vec<SourceFile>,
    /// Module path → the file that holds it.
    modules: BTreeMap<Vec<String>, usize>,
    /// The name code outside the crate uses for it (`snapform`).
    pub name: String,
}

fn has_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.meta
                .require_list()
                .map(|l| l.tokens.to_string().split_whitespace().any(|t| t == "test"))
                .unwrap_or(false)
    })
}

fn path_attr(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| {
        if !a.path().is_ident("path") {
            return None;
        }
        match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        }
    })
}

fn flatten_use(
    tree: &syn::UseTree,
    prefix: &mut Vec<String>,
    public: bool,
    out: &mut Vec<UseEntry>,
) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten_use(&p.tree, prefix, public, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let mut path = prefix.clone();
            let name = n.ident.to_string();
            // `use a::b::{self}` names the module `b`.
            if name == "self" {
                let last = path.last().cloned().unwrap_or_default();
                out.push(UseEntry {
                    path,
                    name: last,
                    glob: false,
                    public,
                });
                return;
            }
            path.push(name.clone());
            out.push(UseEntry {
                path,
                name,
                glob: false,
                public,
            });
        }
        syn::UseTree::Rename(r) => {
            let mut path = prefix.clone();
            path.push(r.ident.to_string());
            out.push(UseEntry {
                path,
                name: r.rename.to_string(),
                glob: false,
                public,
            });
        }
        syn::UseTree::Glob(_) => out.push(UseEntry {
            path: prefix.clone(),
            name: String::new(),
            glob: true,
            public,
        }),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                flatten_use(t, prefix, public, out);
            }
        }
    }
}

/// Collects items, uses, paths and macros of one file, module by module.
struct Collector<'f> {
    file: &'f mut SourceFile,
    module: Vec<String>,
}

impl Collector<'_> {
    fn items(&mut self, items: &[syn::Item]) {
        for item in items {
            if let Some(attrs) = item_attrs(item)
                && has_cfg_test(attrs)
            {
                continue;
            }
            if let Some(name) = item_name(item) {
                self.file
                    .items
                    .entry(self.module.clone())
                    .or_default()
                    .insert(name);
            }
            match item {
                syn::Item::Use(u) => {
                    let mut out = Vec::new();
                    let public = !matches!(u.vis, syn::Visibility::Inherited);
                    flatten_use(&u.tree, &mut Vec::new(), public, &mut out);
                    self.file
                        .uses
                        .entry(self.module.clone())
                        .or_default()
                        .extend(out);
                }
                syn::Item::Mod(m) => {
                    if let Some((_, inner)) = &m.content {
                        self.module.push(m.ident.to_string());
                        self.items(inner);
                        self.module.pop();
                    }
                }
                other => self.visit_item(other),
            }
        }
    }
}

fn item_attrs(item: &syn::Item) -> Option<&Vec<syn::Attribute>> {
    Some(match item {
        syn::Item::Const(i) => &i.attrs,
        syn::Item::Enum(i) => &i.attrs,
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Macro(i) => &i.attrs,
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Static(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Trait(i) => &i.attrs,
        syn::Item::Type(i) => &i.attrs,
        syn::Item::Union(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        _ => return None,
    })
}

fn item_name(item: &syn::Item) -> Option<String> {
    Some(match item {
        syn::Item::Const(i) => i.ident.to_string(),
        syn::Item::Enum(i) => i.ident.to_string(),
        syn::Item::Fn(i) => i.sig.ident.to_string(),
        syn::Item::Macro(i) => i.ident.as_ref()?.to_string(),
        syn::Item::Mod(i) => i.ident.to_string(),
        syn::Item::Static(i) => i.ident.to_string(),
        syn::Item::Struct(i) => i.ident.to_string(),
        syn::Item::Trait(i) => i.ident.to_string(),
        syn::Item::Type(i) => i.ident.to_string(),
        syn::Item::Union(i) => i.ident.to_string(),
        _ => return None,
    })
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        self.file.paths.push((self.module.clone(), segs));
        syn::visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        let segs: Vec<String> = m
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        self.file.macros.push((self.module.clone(), segs));
        // Macro bodies are token streams; read the paths in them as well as we can.
        let mut tokens: Vec<String> = Vec::new();
        for t in m.tokens.clone() {
            collect_idents(t, &mut tokens);
        }
        // `a::b::c` sequences become paths; anything else separates them.
        let mut cur: Vec<String> = Vec::new();
        let mut joined = false;
        let flush = |cur: &mut Vec<String>, file: &mut SourceFile, module: &Vec<String>| {
            if cur.len() > 1 {
                file.paths.push((module.clone(), std::mem::take(cur)));
            }
            cur.clear();
        };
        for t in tokens {
            if t == "::" {
                joined = true;
                continue;
            }
            if t.starts_with(|c: char| c.is_alphabetic() || c == '_') {
                if !joined || cur.is_empty() {
                    flush(&mut cur, self.file, &self.module);
                }
                cur.push(t);
            } else {
                flush(&mut cur, self.file, &self.module);
            }
            joined = false;
        }
        flush(&mut cur, self.file, &self.module);
        syn::visit::visit_macro(self, m);
    }

    /// `pub(super)` is a visibility, not a use of the parent module.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if !has_cfg_test(&f.attrs) {
            syn::visit::visit_impl_item_fn(self, f);
        }
    }

    fn visit_item_mod(&mut self, _: &'ast syn::ItemMod) {}
}

/// Identifiers of a token stream, with `::` kept as a separator token and anything else as a
/// break.
fn collect_idents(t: proc_macro2::TokenTree, out: &mut Vec<String>) {
    match t {
        proc_macro2::TokenTree::Ident(i) => out.push(i.to_string()),
        proc_macro2::TokenTree::Punct(p) if p.as_char() == ':' => {
            if out.last().map(String::as_str) != Some("::") {
                out.push("::".into());
            }
        }
        proc_macro2::TokenTree::Group(g) => {
            out.push(".".into());
            for t in g.stream() {
                collect_idents(t, out);
            }
            out.push(".".into());
        }
        _ => out.push(".".into()),
    }
}

impl Crate {
    /// Loads the crate whose root file is `root/src/lib.rs`.
    pub fn load(root: &Path, name: &str) -> Crate {
        let mut c = Crate {
            root: root.to_path_buf(),
            files: Vec::new(),
            modules: BTreeMap::new(),
            name: name.to_string(),
        };
        c.visit(PathBuf::from("src/lib.rs"), Vec::new(), false);
        c
    }

    /// Loads a crate from in-memory files (for testing the checks themselves).
    pub fn from_sources(files: &[(&str, &str)]) -> Crate {
        let dir = std::env::temp_dir().join(format!(
            "snapform-arch-{}-{}",
            std::process::id(),
            files.len()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for (p, text) in files {
            let full = dir.join(p);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, text).unwrap();
        }
        let c = Crate::load(&dir, "fixture");
        let _ = std::fs::remove_dir_all(&dir);
        c
    }

    fn visit(&mut self, rel: PathBuf, module: Vec<String>, test_only: bool) {
        let full = self.root.join(&rel);
        let Ok(text) = std::fs::read_to_string(&full) else {
            return;
        };
        let ast = syn::parse_file(&text)
            .unwrap_or_else(|e| panic!("{} does not parse: {e}", rel.display()));
        let idx = self.files.len();
        self.files.push(SourceFile {
            path: rel.clone(),
            module: module.clone(),
            test_only,
            items: BTreeMap::new(),
            uses: BTreeMap::new(),
            paths: Vec::new(),
            macros: Vec::new(),
            text,
        });
        self.modules.insert(module.clone(), idx);
        {
            let file = &mut self.files[idx];
            let mut col = Collector {
                file,
                module: module.clone(),
            };
            col.items(&ast.items);
        }
        // Inline modules share the file.
        let inline: Vec<Vec<String>> = self.files[idx]
            .items
            .keys()
            .filter(|m| m.len() > module.len())
            .cloned()
            .collect();
        for m in inline {
            self.modules.entry(m).or_insert(idx);
        }
        let stem = rel.file_stem().unwrap().to_string_lossy().to_string();
        let dir = rel.parent().unwrap().to_path_buf();
        let base = if matches!(stem.as_str(), "mod" | "lib" | "main") {
            dir
        } else {
            dir.join(&stem)
        };
        for item in &ast.items {
            let syn::Item::Mod(m) = item else { continue };
            if m.content.is_some() {
                continue;
            }
            let name = m.ident.to_string();
            let test = test_only || has_cfg_test(&m.attrs);
            let child = match path_attr(&m.attrs) {
                Some(p) => rel.parent().unwrap().join(p),
                None => {
                    let a = base.join(format!("{name}.rs"));
                    if self.root.join(&a).exists() {
                        a
                    } else {
                        base.join(&name).join("mod.rs")
                    }
                }
            };
            let mut cm = module.clone();
            cm.push(name);
            self.visit(child, cm, test);
        }
    }

    fn is_module(&self, m: &[String]) -> bool {
        self.modules.contains_key(m)
    }

    fn file_of(&self, m: &[String]) -> Option<usize> {
        self.modules.get(m).copied()
    }

    /// Resolves `path` as written in module `module` of file `file`.
    pub fn resolve(&self, module: &[String], path: &[String]) -> Option<Target> {
        self.resolve_depth(module, path, 0)
    }

    fn resolve_depth(&self, module: &[String], path: &[String], depth: usize) -> Option<Target> {
        if depth > 16 || path.is_empty() {
            return None;
        }
        let first = path[0].as_str();
        let (start, rest): (Vec<String>, &[String]) = match first {
            "crate" => (Vec::new(), &path[1..]),
            n if n == self.name => (Vec::new(), &path[1..]),
            "self" => (module.to_vec(), &path[1..]),
            "super" => {
                let mut m = module.to_vec();
                let mut i = 0;
                while path.get(i).map(String::as_str) == Some("super") {
                    m.pop();
                    i += 1;
                }
                (m, &path[i..])
            }
            "Self" => return None,
            name => {
                let file = self.file_of(module)?;
                let f = &self.files[file];
                let uses = f.uses.get(module).map(Vec::as_slice).unwrap_or(&[]);
                if let Some(u) = uses.iter().find(|u| !u.glob && u.name == name) {
                    let mut full = u.path.clone();
                    full.extend_from_slice(&path[1..]);
                    // A `use` path is relative to the module it is written in.
                    let external = Target::External(full.clone());
                    return self
                        .resolve_depth(module, &full, depth + 1)
                        .or(Some(external));
                }
                let mut child = module.to_vec();
                child.push(name.to_string());
                if self.is_module(&child) {
                    (child, &path[1..])
                } else if f
                    .items
                    .get(module)
                    .is_some_and(|items| items.contains(name))
                {
                    return Some(Target::Internal {
                        file,
                        item: name.to_string(),
                    });
                } else {
                    for g in uses.iter().filter(|u| u.glob) {
                        let mut full = g.path.clone();
                        full.extend_from_slice(path);
                        if let Some(t @ Target::Internal { .. }) =
                            self.resolve_depth(module, &full, depth + 1)
                        {
                            return Some(t);
                        }
                    }
                    if path.len() == 1 {
                        // A local variable, a generic, a prelude item.
                        return None;
                    }
                    return Some(Target::External(path.to_vec()));
                }
            }
        };
        self.walk(start, rest, depth)
    }

    /// Walks `rest` from module `m` (an absolute module path of this crate).
    fn walk(&self, mut m: Vec<String>, rest: &[String], depth: usize) -> Option<Target> {
        for (i, seg) in rest.iter().enumerate() {
            let mut child = m.clone();
            child.push(seg.clone());
            if self.is_module(&child) {
                m = child;
                continue;
            }
            let file = self.file_of(&m)?;
            let f = &self.files[file];
            if f.items.get(&m).is_some_and(|items| items.contains(seg)) {
                return Some(Target::Internal {
                    file,
                    item: seg.clone(),
                });
            }
            let uses = f.uses.get(&m).map(Vec::as_slice).unwrap_or(&[]);
            if let Some(u) = uses.iter().find(|u| !u.glob && &u.name == seg) {
                let mut full = u.path.clone();
                full.extend_from_slice(&rest[i + 1..]);
                return self.resolve_depth(&m, &full, depth + 1);
            }
            for g in uses.iter().filter(|u| u.glob) {
                let mut full = g.path.clone();
                full.extend_from_slice(&rest[i..]);
                if let Some(t @ Target::Internal { .. }) = self.resolve_depth(&m, &full, depth + 1)
                {
                    return Some(t);
                }
            }
            return Some(Target::Internal {
                file,
                item: seg.clone(),
            });
        }
        Some(Target::Internal {
            file: self.file_of(&m)?,
            item: String::new(),
        })
    }

    /// Every reference of file `idx`: (the path as written, what it resolves to, whether it
    /// is a `pub use` of a descendant module — a facade, not a dependency).
    pub fn references(&self, idx: usize) -> Vec<(Vec<String>, Target, bool)> {
        let f = &self.files[idx];
        let mut out = Vec::new();
        for (module, uses) in &f.uses {
            for u in uses {
                let Some(t) = self
                    .resolve(module, &u.path)
                    .or_else(|| Some(Target::External(u.path.clone())))
                else {
                    continue;
                };
                let facade = u.public
                    && match &t {
                        Target::Internal { file, .. } => {
                            let target = &self.files[*file].module;
                            target.len() > module.len() && target.starts_with(module)
                        }
                        _ => false,
                    };
                out.push((u.path.clone(), t, facade));
            }
        }
        for (module, p) in f.paths.iter().chain(f.macros.iter()) {
            if let Some(t) = self.resolve(module, p) {
                out.push((p.clone(), t, false));
            }
        }
        out
    }

    /// The external paths a file reaches (after expanding its imports), as `a::b::c` strings.
    pub fn external(&self, idx: usize) -> BTreeSet<String> {
        self.references(idx)
            .into_iter()
            .filter_map(|(_, t, _)| match t {
                Target::External(p) => Some(p.join("::")),
                _ => None,
            })
            .collect()
    }

    /// File-to-file dependencies (facades and tests excluded).
    pub fn edges(&self) -> BTreeSet<(usize, usize)> {
        let mut out = BTreeSet::new();
        for (i, f) in self.files.iter().enumerate() {
            if f.test_only {
                continue;
            }
            for (_, t, facade) in self.references(i) {
                if let Target::Internal { file, .. } = t
                    && file != i
                    && !facade
                    && !self.files[file].test_only
                {
                    out.insert((i, file));
                }
            }
        }
        out
    }

    /// Files (outside tests) whose path starts with `prefix` (`src/plan`).
    pub fn under<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (usize, &'a SourceFile)> + 'a {
        self.files
            .iter()
            .enumerate()
            .filter(move |(_, f)| !f.test_only && f.path.starts_with(prefix))
    }

    pub fn name_of(&self, idx: usize) -> String {
        self.files[idx].path.display().to_string()
    }
}
