//! Schemas of the resource types, data sources and provider blocks: attribute names, types,
//! required/computed flags and which changes force replacement.
//!
//! Adding a resource type starts here (see CONTRIBUTING.md).

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
}

const fn arg(name: &'static str, ty: Ty) -> Attr {
    Attr {
        name,
        ty,
        required: false,
        computed: false,
        forces_new: false,
    }
}

const fn req(name: &'static str, ty: Ty) -> Attr {
    Attr {
        name,
        ty,
        required: true,
        computed: false,
        forces_new: false,
    }
}

const fn req_new(name: &'static str, ty: Ty) -> Attr {
    Attr {
        name,
        ty,
        required: true,
        computed: false,
        forces_new: true,
    }
}

const fn out(name: &'static str, ty: Ty) -> Attr {
    Attr {
        name,
        ty,
        required: false,
        computed: true,
        forces_new: false,
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

pub static IMAGE: Schema = Schema {
    name: "image",
    attrs: &[
        req_new("server_id", Ty::String),
        req("name", Ty::String),
        arg("metadata", Ty::StringMap),
        arg("deactivated", Ty::Bool),
        out("id", Ty::String),
        out("status", Ty::String),
        out("progress", Ty::Number),
        out("min_disk", Ty::Number),
        out("min_ram", Ty::Number),
        out("size", Ty::Number),
        out("disk_config", Ty::String),
        out("created", Ty::String),
        out("updated", Ty::String),
        out("all_metadata", Ty::StringMap),
    ],
    blocks: &[NestedBlock {
        name: "timeouts",
        attrs: &[arg("create", Ty::String)],
    }],
};

pub static IMAGE_METADATA: Schema = Schema {
    name: "image_metadata",
    attrs: &[
        req_new("image_id", Ty::String),
        arg("metadata", Ty::StringMap),
        arg("absent_keys", Ty::StringList),
        out("id", Ty::String),
        out("all_metadata", Ty::StringMap),
    ],
    blocks: &[],
};

pub static IMAGE_SCHEDULE: Schema = Schema {
    name: "image_schedule",
    attrs: &[
        req_new("server_id", Ty::String),
        req("retention", Ty::Number),
        arg("day_of_week", Ty::String),
        out("id", Ty::String),
    ],
    blocks: &[],
};

pub static DATA_SERVER: Schema = Schema {
    name: "server",
    attrs: &[
        arg("id", Ty::String),
        arg("name", Ty::String),
        out("status", Ty::String),
        out("image_id", Ty::String),
    ],
    blocks: &[],
};

pub static DATA_IMAGE: Schema = Schema {
    name: "image",
    attrs: &[
        arg("id", Ty::String),
        arg("name", Ty::String),
        arg("status", Ty::String),
        arg("type", Ty::String),
        arg("server_id", Ty::String),
        arg("metadata", Ty::StringMap),
        arg("most_recent", Ty::Bool),
        out("created", Ty::String),
        out("min_disk", Ty::Number),
        out("min_ram", Ty::Number),
    ],
    blocks: &[],
};

pub static DATA_IMAGES: Schema = Schema {
    name: "images",
    attrs: &[
        arg("name", Ty::String),
        arg("status", Ty::String),
        arg("type", Ty::String),
        arg("server_id", Ty::String),
        arg("metadata", Ty::StringMap),
        out("ids", Ty::StringList),
        out("images", Ty::Any),
    ],
    blocks: &[],
};

pub static PROVIDER_RACKSPACE: Schema = Schema {
    name: "rackspace",
    attrs: &[
        arg("alias", Ty::String),
        arg("auth_url", Ty::String),
        arg("username", Ty::String),
        arg("api_key", Ty::String),
        arg("password", Ty::String),
        arg("region", Ty::String),
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
        arg("auth_url", Ty::String),
        arg("username", Ty::String),
        arg("password", Ty::String),
        arg("project", Ty::String),
        arg("region", Ty::String),
        arg("sandbox", Ty::String),
        arg("rate_limit_get", Ty::String),
        arg("rate_limit_post", Ty::String),
    ],
    blocks: &[],
};

pub fn resource(kind: &str) -> Option<&'static Schema> {
    match kind {
        "image" => Some(&IMAGE),
        "image_metadata" => Some(&IMAGE_METADATA),
        "image_schedule" => Some(&IMAGE_SCHEDULE),
        _ => None,
    }
}

pub fn data(kind: &str) -> Option<&'static Schema> {
    match kind {
        "server" => Some(&DATA_SERVER),
        "image" => Some(&DATA_IMAGE),
        "images" => Some(&DATA_IMAGES),
        _ => None,
    }
}

pub fn provider(kind: &str) -> Option<&'static Schema> {
    match kind {
        "rackspace" => Some(&PROVIDER_RACKSPACE),
        "openstack" => Some(&PROVIDER_OPENSTACK),
        _ => None,
    }
}

pub const RESOURCE_TYPES: &[&str] = &["image", "image_metadata", "image_schedule"];
pub const DATA_TYPES: &[&str] = &["server", "image", "images"];

/// Days accepted by `image_schedule.day_of_week` (compared case-insensitively).
pub const DAYS: &[&str] = &[
    "SUNDAY",
    "MONDAY",
    "TUESDAY",
    "WEDNESDAY",
    "THURSDAY",
    "FRIDAY",
    "SATURDAY",
];
