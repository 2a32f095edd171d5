//! The `snapform { backend "KIND" { ... } }` block: the schema of each state backend's settings
//! and their evaluation. Backend settings are read before variables exist, so they must be
//! literal values (functions of literals are fine); the CLI adds environment fallbacks.

use super::diag::Diagnostic;
use super::eval;
use super::model::BackendBlock;
use super::schema::{Attr, Schema, Ty};
use std::collections::BTreeMap;

const fn opt(name: &'static str) -> Attr {
    super::schema::arg(name, Ty::String)
}

const fn req(name: &'static str) -> Attr {
    super::schema::req(name, Ty::String)
}

pub static BACKEND_LOCAL: Schema = Schema {
    name: "local",
    attrs: &[opt("path")],
    blocks: &[],
};

pub static BACKEND_PG: Schema = Schema {
    name: "pg",
    attrs: &[opt("conn_str"), opt("schema_name"), opt("workspace")],
    blocks: &[],
};

pub static BACKEND_HTTP: Schema = Schema {
    name: "http",
    attrs: &[
        req("address"),
        opt("update_method"),
        opt("lock_address"),
        opt("unlock_address"),
        opt("lock_method"),
        opt("unlock_method"),
        opt("username"),
        opt("password"),
    ],
    blocks: &[],
};

/// `snapform { encryption { ... } }`: the key (a passphrase, or a key from the environment),
/// a fallback key for rotation, and the migration switch (src/state/crypt.rs).
pub static ENCRYPTION: Schema = Schema {
    name: "encryption",
    attrs: &[
        opt("passphrase"),
        opt("passphrase_env"),
        opt("key_env"),
        opt("fallback_passphrase"),
        opt("fallback_passphrase_env"),
        opt("fallback_key_env"),
        super::schema::arg("iterations", Ty::Number),
        super::schema::arg("allow_unencrypted_read", Ty::Bool),
        super::schema::arg("plans", Ty::Bool),
    ],
    blocks: &[],
};

/// Backend kinds, for "expected one of" messages.
pub const BACKEND_KINDS: &[&str] = &["local", "pg", "http"];

pub fn schema(kind: &str) -> Option<&'static Schema> {
    match kind {
        "local" => Some(&BACKEND_LOCAL),
        "pg" => Some(&BACKEND_PG),
        "http" => Some(&BACKEND_HTTP),
        _ => None,
    }
}

impl BackendBlock {
    /// `backend "pg"`, or `encryption`, for messages.
    fn title(&self) -> String {
        if self.kind == "encryption" {
            "encryption".into()
        } else {
            format!("backend \"{}\"", self.kind)
        }
    }

    /// The settings as strings. A reference (`var.x`) is an error with its location: backend
    /// settings are needed before anything else is evaluated.
    pub fn values(&self) -> Result<BTreeMap<String, String>, Vec<Diagnostic>> {
        let mut out = BTreeMap::new();
        let mut diags = Vec::new();
        let scope = super::eval::Empty;
        for (name, def) in &self.attrs {
            if let Some(r) = def.value.refs.first() {
                diags.push(Diagnostic::error(
                    format!(
                        "{}: \"{name}\" must be a literal value, found a reference to {}; these settings are read before variables (use the environment for secrets)",
                        self.title(),
                        r.root
                    ),
                    Some(r.span.clone()),
                ));
                continue;
            }
            match eval::eval(&def.value, &scope) {
                Ok(v) => match v.to_plain_string() {
                    Some(s) => {
                        out.insert(name.clone(), s);
                    }
                    None => diags.push(Diagnostic::error(
                        format!("{}: \"{name}\" must be a string, found {v}", self.title()),
                        Some(def.value.span.clone()),
                    )),
                },
                Err(d) => diags.push(d),
            }
        }
        if diags.is_empty() {
            Ok(out)
        } else {
            Err(diags)
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{SourceFile, Sources, load};

    fn backend(text: &str) -> (Option<super::BackendBlock>, Vec<String>) {
        let (cfg, diags) = load(Sources::new(vec![SourceFile {
            path: "main.snap.hcl".into(),
            text: text.into(),
        }]));
        (cfg.backend, diags.into_iter().map(|d| d.message).collect())
    }

    #[test]
    fn pg_and_http_blocks_parse_into_values() {
        let (b, d) = backend(
            "snapform {\n  backend \"pg\" {\n    conn_str = \"postgres://u@127.0.0.1:5/db\"\n    workspace = \"ci\"\n  }\n}\n",
        );
        assert!(d.is_empty(), "{d:?}");
        let b = b.unwrap();
        assert_eq!(b.kind, "pg");
        let v = b.values().unwrap();
        assert_eq!(v["workspace"], "ci");
        assert_eq!(v["conn_str"], "postgres://u@127.0.0.1:5/db");
        let (b, d) = backend(
            "snapform {\n  backend \"http\" {\n    address = \"http://127.0.0.1:1/s\"\n    lock_method = upper(\"lock\")\n  }\n}\n",
        );
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(b.unwrap().values().unwrap()["lock_method"], "LOCK");
    }

    #[test]
    fn unknown_kinds_attributes_and_references_are_located_errors() {
        let (_, d) = backend("snapform {\n  backend \"s3\" {}\n}\n");
        assert!(d[0].contains("expected one of local, pg, http"), "{d:?}");
        let (_, d) = backend("snapform {\n  backend \"pg\" {\n    conn = \"x\"\n  }\n}\n");
        assert!(d[0].contains("unknown attribute \"conn\""), "{d:?}");
        assert!(d[0].contains("conn_str"), "{d:?}");
        let (_, d) = backend("snapform {\n  backend \"http\" {}\n}\n");
        assert!(
            d[0].contains("missing the required attribute \"address\""),
            "{d:?}"
        );
        let (b, d) = backend(
            "variable \"p\" {}\nsnapform {\n  backend \"pg\" {\n    conn_str = var.p\n  }\n}\n",
        );
        assert!(d[0].contains("must be a literal value"), "{d:?}");
        let e = b.unwrap().values().unwrap_err();
        assert!(e[0].span.is_some());
        let (_, d) =
            backend("snapform {\n  backend \"local\" {}\n}\nsnapform {\n  backend \"pg\" {}\n}\n");
        assert!(d[0].contains("backend is configured twice"), "{d:?}");
    }
}
