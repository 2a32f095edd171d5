//! Shared helpers for the sandbox integration tests: spawn a sandbox on 127.0.0.1:0,
//! authenticate as demo, and send raw HTTP with reqwest.
#![allow(dead_code)]

use reqwest::header::HeaderMap;
use reqwest::{Client, Method};
use serde_json::{Value, json};
use snapform::sandbox::{self, Sandbox, SandboxOptions};

pub const WEB01: &str = "a3902a98-1da9-46bd-8b67-388f2b5dd1cb";
pub const WEB02: &str = "0ed4b642-6dc2-44ac-bdcb-b6854f28e9cb";
pub const DB01: &str = "da3a9e3e-7f9d-4ad9-af71-6f89f2113acf";
pub const WEB03: &str = "9e90684a-e638-45a6-aea9-a8823afe59b6";
pub const CENTOS7: &str = "cd5a4063-c1ba-4514-b57b-5091dd1edb63";
pub const GOLDEN: &str = "59efc252-9f1c-4d78-8db2-562937c835d4";
pub const TENANT: &str = "123456";

pub fn opts() -> SandboxOptions {
    SandboxOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..SandboxOptions::default()
    }
}

pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

pub struct Env {
    pub sb: Sandbox,
    pub http: Client,
    pub token: String,
    pub base: String,
}

pub async fn start() -> Env {
    start_with(opts()).await
}

pub async fn start_with(opts: SandboxOptions) -> Env {
    // reqwest is built with `rustls-no-provider`: install one (plain http needs no TLS, but
    // the client builder insists). A second install in the same process is a harmless error.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let has_demo = opts.users.is_empty() || opts.users.iter().any(|u| u.starts_with("demo:"));
    let sb = sandbox::spawn(opts).await.expect("spawn sandbox");
    let http = Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("client");
    let base = format!("http://{}", sb.addr());
    let mut env = Env {
        sb,
        http,
        token: String::new(),
        base,
    };
    if has_demo {
        env.token = env.login("demo", "demo").await;
    }
    env
}

impl Env {
    pub async fn login(&self, user: &str, key: &str) -> String {
        let r = self
            .raw(Method::POST, &format!("{}/tokens", self.sb.auth_url()), None,
                 Some(json!({"auth": {"RAX-KSKEY:apiKeyCredentials": {"username": user, "apiKey": key}}})))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["access"]["token"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Compute URL for DFW: `c("/images")`.
    pub fn c(&self, path: &str) -> String {
        format!("{}/DFW/compute/v2/{TENANT}{path}", self.base)
    }
    pub fn c_ord(&self, path: &str) -> String {
        format!("{}/ORD/compute/v2/{TENANT}{path}", self.base)
    }
    /// Image API URL for DFW: `g("/images")`.
    pub fn g(&self, path: &str) -> String {
        format!("{}/DFW/image/v2{path}", self.base)
    }
    /// Control API URL: `ctl("/clock")`.
    pub fn ctl(&self, path: &str) -> String {
        format!("{}/sandbox/v1{path}", self.base)
    }

    pub async fn raw(
        &self,
        method: Method,
        url: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut req = self.http.request(method, url);
        if let Some(t) = token {
            req = req.header("X-Auth-Token", t);
        }
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()))
        };
        Resp {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, url: &str) -> Resp {
        self.raw(Method::GET, url, Some(&self.token), None).await
    }
    pub async fn post(&self, url: &str, body: Value) -> Resp {
        self.raw(Method::POST, url, Some(&self.token), Some(body))
            .await
    }
    pub async fn put(&self, url: &str, body: Value) -> Resp {
        self.raw(Method::PUT, url, Some(&self.token), Some(body))
            .await
    }
    pub async fn delete(&self, url: &str) -> Resp {
        self.raw(Method::DELETE, url, Some(&self.token), None).await
    }
    pub async fn ctl_post(&self, path: &str, body: Value) -> Resp {
        self.raw(Method::POST, &self.ctl(path), None, Some(body))
            .await
    }

    /// Advances the sandbox clock.
    pub async fn advance(&self, seconds: f64) -> Resp {
        let r = self
            .ctl_post("/clock", json!({"advance_seconds": seconds}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r
    }

    /// createImage on a DFW server; returns the new image id.
    pub async fn snapshot(&self, server: &str, name: &str, metadata: Value) -> String {
        let r = self
            .post(
                &self.c(&format!("/servers/{server}/action")),
                json!({"createImage": {"name": name, "metadata": metadata}}),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.text);
        let loc = r.header("location").expect("Location");
        loc.rsplit('/').next().unwrap().to_string()
    }

    pub async fn image(&self, id: &str) -> Value {
        let r = self.get(&self.c(&format!("/images/{id}"))).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["image"].clone()
    }
}
