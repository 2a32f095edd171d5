//! Schemas: attribute names, types, required/computed flags and which changes force
//! replacement — the types, and the schemas of provider blocks. Each resource kind and data
//! source declares its own schema in its unit (`src/resources/`), where the registry finds it.

/// The type an attribute value must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    String,
    Number,
    Bool,
    /// Map of string to string.
    StringMap,
    /// List of strings.
    StringList,
    /// Anything (computed values).
    Any,
}

impl Ty {
    pub fn name(self) -> &'static str {
        match self {
            Ty::String => "string",
            Ty::Number => "number",
            Ty::Bool => "bool",
            Ty::StringMap => "map of string",
            Ty::StringList => "list of string",
            Ty::Any => "any",
        }
    }
}

/// One attribute of a schema.
#[derive(Clone, Copy, Debug)]
pub struct Attr {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    /// Set by the cloud; may not be written in configuration.
    pub computed: bool,
    /// Changing it destroys and re-creates the object.
    pub forces_new: bool,
    /// One or two sentences for the generated reference (docs/reference/).
    pub doc: &'static str,
    /// The value an unset optional argument stands for, as written in HCL (`false`), or "".
    pub default: &'static str,
}

impl Attr {
    /// This attribute with its reference text.
    pub const fn doc(mut self, doc: &'static str) -> Attr {
        self.doc = doc;
        self
    }

    /// This attribute with its default, as written in HCL.
    pub const fn default(mut self, default: &'static str) -> Attr {
        self.default = default;
        self
    }
}

pub const fn arg(name: &'static str, ty: Ty) -> Attr {
    Attr {
        name,
        ty,
        required: false,
        computed: false,
        forces_new: false,
        doc: "",
        default: "",
    }
}

pub const fn req(name: &'static str, ty: Ty) -> Attr {
    Attr {
        name,
        ty,
        required: true,
        computed: false,
        forces_new: false,
        doc: "",
        default: "",
    }
}

pub const fn req_new(name: &'static str, ty: Ty) -> Attr {
    Attr {
        name,
        ty,
        required: true,
        computed: false,
        forces_new: true,
        doc: "",
        default: "",
    }
}

pub const fn out(name: &'static str, ty: Ty) -> Attr {
    Attr {
        name,
        ty,
        required: false,
        computed: true,
        forces_new: false,
        doc: "",
        default: "",
    }
}

/// A nested block allowed in a schema (e.g. `timeouts`), with its own attributes.
#[derive(Clone, Copy, Debug)]
pub struct NestedBlock {
    pub name: &'static str,
    pub attrs: &'static [Attr],
}

/// The schema of a resource type or data source.
#[derive(Debug)]
pub struct Schema {
    pub name: &'static str,
    pub attrs: &'static [Attr],
    pub blocks: &'static [NestedBlock],
}

impl Schema {
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }

    pub fn block(&self, name: &str) -> Option<&NestedBlock> {
        self.blocks.iter().find(|b| b.name == name)
    }

    /// Names a user may write, for "expected one of" messages.
    pub fn writable_names(&self) -> Vec<&'static str> {
        self.attrs
            .iter()
            .filter(|a| !a.computed)
            .map(|a| a.name)
            .collect()
    }
}

pub static PROVIDER_RACKSPACE: Schema = Schema {
    name: "rackspace",
    attrs: &[
        arg("alias", Ty::String),
        arg("auth_url", Ty::String),
        arg("username", Ty::String),
        arg("api_key", Ty::String),
        arg("password", Ty::String),
        arg("region", Ty::String),
        arg("project", Ty::String),
        arg("interface", Ty::String),
        arg("compute_endpoint", Ty::String),
        arg("image_endpoint", Ty::String),
        arg("cacert", Ty::String),
        arg("insecure", Ty::Bool),
        arg("sandbox", Ty::String),
        arg("rate_limit_get", Ty::String),
        arg("rate_limit_post", Ty::String),
    ],
    blocks: &[],
};

pub static PROVIDER_OPENSTACK: Schema = Schema {
    name: "openstack",
    attrs: &[
        arg("alias", Ty::String),
        arg("cloud", Ty::String),
        arg("auth_type", Ty::String),
        arg("auth_url", Ty::String),
        arg("username", Ty::String),
        arg("user_id", Ty::String),
        arg("user_domain_name", Ty::String),
        arg("user_domain_id", Ty::String),
        arg("password", Ty::String),
        arg("project", Ty::String),
        arg("project_name", Ty::String),
        arg("project_id", Ty::String),
        arg("project_domain_name", Ty::String),
        arg("project_domain_id", Ty::String),
        arg("domain_name", Ty::String),
        arg("domain_id", Ty::String),
        arg("application_credential_id", Ty::String),
        arg("application_credential_name", Ty::String),
        arg("application_credential_secret", Ty::String),
        arg("token", Ty::String),
        arg("region", Ty::String),
        arg("interface", Ty::String),
        arg("compute_endpoint", Ty::String),
        arg("image_endpoint", Ty::String),
        arg("cacert", Ty::String),
        arg("insecure", Ty::Bool),
        arg("sandbox", Ty::String),
        arg("rate_limit_get", Ty::String),
        arg("rate_limit_post", Ty::String),
    ],
    blocks: &[],
};

pub fn provider(kind: &str) -> Option<&'static Schema> {
    match kind {
        "rackspace" => Some(&PROVIDER_RACKSPACE),
        "openstack" => Some(&PROVIDER_OPENSTACK),
        _ => None,
    }
}
