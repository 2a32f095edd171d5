//! Identity: Rackspace v2.0 `POST /v2.0/tokens` (API key, password, token re-scope) with a
//! service catalog pointing back at the sandbox, and Keystone v3 `POST /v3/auth/tokens`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use chrono::{Duration, Utc};
use serde_json::{Value, json};

use super::app::{App, User};
use super::clock;
use super::faults::{ApiError, ApiResult, Shape, json_response, ok, parse_json};
use super::fixtures::REGIONS;
use super::store::Token;

const BAD_CREDENTIALS: &str = "Username or api key is invalid.";
/// Token lifetime (REFERENCE §2.2), counted in wall-clock time.
const TOKEN_HOURS: i64 = 24;

fn str_field<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.get(key).and_then(Value::as_str)
}

/// Issues and stores a token for `user`.
fn issue(app: &App, user: &User, method: &str) -> Token {
    let token = Token {
        id: uuid::Uuid::new_v4().simple().to_string(),
        user: user.name.clone(),
        tenant: user.tenant.clone(),
        method: method.into(),
        expires: Utc::now() + Duration::hours(TOKEN_HOURS),
    };
    let mut store = app.store();
    let now = store.data.now();
    store.data.prune(now);
    store.data.tokens.push(token.clone());
    store.commit();
    token
}

/// Looks a token up (wall-clock expiry).
pub(crate) fn find_token(app: &App, id: &str) -> Option<Token> {
    let store = app.store();
    let wall = Utc::now();
    store
        .data
        .tokens
        .iter()
        .find(|t| t.id == id && t.expires > wall)
        .cloned()
}

/// The tenant-scoping check of §2.1: accept the tenant id, or the username (pyrax quirk).
fn check_scope(user: &User, requested: Option<&str>) -> ApiResult<()> {
    match requested {
        None => Ok(()),
        Some(t) if t.is_empty() || t == user.tenant || t == user.name => Ok(()),
        Some(t) => Err(ApiError::unauthorized(format!(
            "Token doesn't belong to Tenant with Id/Name: '{t}'"
        ))),
    }
}

/// `POST /v2.0/tokens`.
pub(crate) async fn tokens_v2(
    State(app): State<Arc<App>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let body = parse_json(&body, Shape::Compute)
        .map_err(|_| ApiError::bad_request("Invalid json request body"))?;
    let auth = body
        .get("auth")
        .filter(|a| a.is_object())
        .ok_or_else(|| ApiError::bad_request("Invalid json request body"))?;
    let (user, method, creds) = if let Some(c) = auth.get("RAX-KSKEY:apiKeyCredentials") {
        let (Some(name), Some(key)) = (str_field(c, "username"), str_field(c, "apiKey")) else {
            return Err(ApiError::bad_request("Invalid json request body"));
        };
        let user = app.find_user(name).filter(|u| u.secret == key);
        (user.cloned(), "APIKEY".to_string(), c)
    } else if let Some(c) = auth.get("passwordCredentials") {
        let (Some(name), Some(pw)) = (str_field(c, "username"), str_field(c, "password")) else {
            return Err(ApiError::bad_request("Invalid json request body"));
        };
        let user = app.find_user(name).filter(|u| u.secret == pw);
        (user.cloned(), "PASSWORD".to_string(), c)
    } else if let Some(c) = auth.get("token") {
        let Some(id) = str_field(c, "id") else {
            return Err(ApiError::bad_request("Invalid json request body"));
        };
        let Some(old) = find_token(&app, id) else {
            return Err(ApiError::unauthorized("Token not authenticated."));
        };
        (app.find_user(&old.user).cloned(), old.method, c)
    } else {
        return Err(ApiError::bad_request("Invalid json request body"));
    };
    let tenant_id = str_field(auth, "tenantId").or_else(|| str_field(creds, "tenantId"));
    let tenant_name = str_field(auth, "tenantName").or_else(|| str_field(creds, "tenantName"));
    if tenant_id.is_some() && tenant_name.is_some() {
        return Err(ApiError::bad_request(
            "Invalid request. Specify tenantId OR tenantName, not both.",
        ));
    }
    let user = user.ok_or_else(|| ApiError::unauthorized(BAD_CREDENTIALS))?;
    check_scope(&user, tenant_id.or(tenant_name))?;
    let token = issue(&app, &user, &method);
    let include_catalog = !query
        .as_deref()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .any(|(k, v)| k == "include_endpoints" && v.eq_ignore_ascii_case("false"))
        })
        .unwrap_or(false);
    let root = app.base_url(&headers);
    let catalog = if include_catalog {
        catalog_v2(&root, &user.tenant)
    } else {
        json!([])
    };
    Ok(ok(json!({"access": {
        "token": {
            "id": token.id,
            "expires": clock::fmt_millis(token.expires),
            "tenant": {"id": user.tenant, "name": user.tenant},
            "RAX-AUTH:authenticatedBy": [token.method],
        },
        "user": {
            "id": user.user_id,
            "name": user.name,
            "RAX-AUTH:defaultRegion": "DFW",
            "roles": [
                {"id": "3", "name": "identity:user-admin", "description": "User Admin Role."},
                {"id": "6", "name": "compute:default", "tenantId": user.tenant,
                 "description": "A Role that allows a user access to keystone Service methods"},
            ],
        },
        "serviceCatalog": catalog,
    }})))
}

/// The v2.0 catalog: v2 compute per region, the first-gen entry clients must skip, images.
pub(crate) fn catalog_v2(root: &str, tenant: &str) -> Value {
    let compute: Vec<Value> = REGIONS
        .iter()
        .map(|r| {
            json!({
                "region": r, "tenantId": tenant,
                "publicURL": format!("{root}/{r}/compute/v2/{tenant}"),
                "versionId": "2",
                "versionInfo": format!("{root}/{r}/compute/v2"),
                "versionList": format!("{root}/{r}/compute/"),
            })
        })
        .collect();
    let images: Vec<Value> = REGIONS
        .iter()
        .map(|r| json!({"region": r, "tenantId": tenant, "publicURL": format!("{root}/{r}/image/v2")}))
        .collect();
    json!([
        {"name": "cloudServersOpenStack", "type": "compute", "endpoints": compute},
        {"name": "cloudServers", "type": "compute", "endpoints": [{
            "tenantId": tenant,
            "publicURL": format!("{root}/v1.0/{tenant}"),
            "versionId": "1.0",
            "versionInfo": format!("{root}/v1.0"),
            "versionList": format!("{root}/"),
        }]},
        {"name": "cloudImages", "type": "image", "endpoints": images},
    ])
}

fn v3_error(status: StatusCode, msg: &str) -> ApiError {
    ApiError::new(status, msg).shape(Shape::Keystone)
}

/// `POST /v3/auth/tokens`: password, application_credential or token methods.
pub(crate) async fn tokens_v3(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let bad = || {
        v3_error(
            StatusCode::BAD_REQUEST,
            "Expecting to find auth in request body.",
        )
    };
    let unauthorized = || {
        v3_error(
            StatusCode::UNAUTHORIZED,
            "The request you have made requires authentication.",
        )
    };
    let body = parse_json(&body, Shape::Keystone).map_err(|_| bad())?;
    let identity = body.pointer("/auth/identity").ok_or_else(bad)?;
    let methods: Vec<&str> = identity
        .get("methods")
        .and_then(Value::as_array)
        .map(|m| m.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let (user, method) = match methods.first().copied() {
        Some("password") => {
            let u = identity.pointer("/password/user").ok_or_else(bad)?;
            let name = str_field(u, "name")
                .or_else(|| str_field(u, "id"))
                .ok_or_else(bad)?;
            let pw = str_field(u, "password").ok_or_else(bad)?;
            let user = app.find_user(name).filter(|u| u.secret == pw);
            (user.cloned(), "password")
        }
        Some("application_credential") => {
            let c = identity.get("application_credential").ok_or_else(bad)?;
            let id = str_field(c, "id")
                .or_else(|| str_field(c, "name"))
                .ok_or_else(bad)?;
            let secret = str_field(c, "secret").ok_or_else(bad)?;
            let user = app.find_user(id).filter(|u| u.secret == secret);
            (user.cloned(), "application_credential")
        }
        Some("token") => {
            let id = identity
                .pointer("/token/id")
                .and_then(Value::as_str)
                .ok_or_else(bad)?;
            let old = find_token(&app, id).ok_or_else(unauthorized)?;
            (app.find_user(&old.user).cloned(), "token")
        }
        _ => return Err(bad()),
    };
    let user = user.ok_or_else(unauthorized)?;
    if let Some(project) = body.pointer("/auth/scope/project") {
        let requested = str_field(project, "id").or_else(|| str_field(project, "name"));
        if requested.is_some_and(|p| p != user.tenant && p != user.name) {
            return Err(unauthorized());
        }
    }
    let token = issue(
        &app,
        &user,
        if method == "password" {
            "PASSWORD"
        } else {
            "APIKEY"
        },
    );
    let root = app.base_url(&headers);
    let catalog = catalog_v3(&root, &user.tenant);
    let domain = json!({"id": "default", "name": "Default"});
    let body = json!({"token": {
        "methods": [method],
        "user": {"id": user.user_id, "name": user.name, "domain": domain, "password_expires_at": null},
        "audit_ids": [uuid::Uuid::new_v4().simple().to_string()[..22].to_string()],
        "expires_at": clock::fmt_micros(token.expires),
        "issued_at": clock::fmt_micros(Utc::now()),
        "project": {"id": user.tenant, "name": user.tenant, "domain": domain},
        "is_domain": false,
        "roles": [{"id": "9fe2ff9ee4384b1894a90878d3e92bab", "name": "member"},
                  {"id": "0a4e5bd3e0d14c4da64c4dba34b0d1ee", "name": "admin"}],
        "catalog": catalog,
    }});
    let mut resp = json_response(StatusCode::CREATED, &body);
    if let Ok(v) = HeaderValue::from_str(&token.id) {
        resp.headers_mut().insert("X-Subject-Token", v);
    }
    Ok(resp)
}

fn catalog_v3(root: &str, tenant: &str) -> Value {
    let endpoints = |path: &dyn Fn(&str) -> String| -> Vec<Value> {
        REGIONS
            .iter()
            .map(|r| {
                json!({"id": format!("{}-{}", r.to_lowercase(), path(r).len()), "interface": "public",
                       "region": r, "region_id": r, "url": path(r)})
            })
            .collect()
    };
    json!([
        {"id": "c0mpute0000000000000000000000001", "type": "compute", "name": "nova",
         "endpoints": endpoints(&|r| format!("{root}/{r}/compute/v2/{tenant}"))},
        {"id": "1mage000000000000000000000000001", "type": "image", "name": "glance",
         "endpoints": endpoints(&|r| format!("{root}/{r}/image/v2"))},
        {"id": "1dent1ty000000000000000000000001", "type": "identity", "name": "keystone",
         "endpoints": endpoints(&|_| format!("{root}/v3"))},
    ])
}

/// `GET /v2.0` and `GET /v3`: minimal version documents for discovery.
pub(crate) async fn version_v2(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let root = app.base_url(&headers);
    ok(
        json!({"version": {"id": "v2.0", "status": "stable", "updated": "2014-04-17T00:00:00Z",
        "links": [{"rel": "self", "href": format!("{root}/v2.0/")}]}}),
    )
}

pub(crate) async fn version_v3(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let root = app.base_url(&headers);
    ok(
        json!({"version": {"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": format!("{root}/v3/")}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]}}),
    )
}
