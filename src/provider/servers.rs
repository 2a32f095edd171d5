//! Compute API servers: list (paginated detail), show, find by exact name.

use reqwest::Method;
use serde_json::Value;

use super::http::{Call, Service};
use super::paging::{self, Next};
use super::types::{Server, schedule_from_wire, str_field};
use super::{Client, ProviderError, found};

impl Client {
    /// Every server, from `GET /servers/detail`, following `servers_links` if the cloud pages.
    pub async fn list_servers(&self) -> Result<Vec<Server>, ProviderError> {
        let call = Call::new(
            Method::GET,
            Service::Compute,
            &["servers", "detail"],
            "GET /servers/detail",
        )
        .query("limit", self.inner.page_size());
        self.servers(call).await
    }

    /// `GET /servers/{id}`; `None` when the server does not exist.
    pub async fn get_server(&self, id: &str) -> Result<Option<Server>, ProviderError> {
        let op = format!("get server {id}");
        let call = Call::new(Method::GET, Service::Compute, &["servers", id], op.clone());
        let Some(reply) = found(self.inner.execute(&call).await)? else {
            return Ok(None);
        };
        let body = reply.json(&op)?;
        let server = body
            .get("server")
            .ok_or_else(|| ProviderError::transport(&op, "the answer has no \"server\" object"))?;
        parse_server(server, &op).map(Some)
    }

    /// Servers named exactly `name`. nova's `name` filter is a regular-expression search, so
    /// its answer is narrowed to exact matches here; a name that would not match itself as a
    /// regular expression (`a+b`, `web(1)`) is not sent as a filter at all.
    pub async fn find_servers_by_name(&self, name: &str) -> Result<Vec<Server>, ProviderError> {
        let mut call = Call::new(
            Method::GET,
            Service::Compute,
            &["servers", "detail"],
            format!("find servers named {name:?}"),
        );
        if matches_itself_as_regex(name) {
            call = call.query("name", name);
        }
        let call = call.query("limit", self.inner.page_size());
        let mut servers = self.servers(call).await?;
        servers.retain(|s| s.name == name);
        Ok(servers)
    }

    async fn servers(&self, call: Call) -> Result<Vec<Server>, ProviderError> {
        let op = call.operation.clone();
        let items = paging::collect(
            &self.inner,
            call,
            "servers",
            Next::ComputeLinks("servers_links"),
        )
        .await?;
        items.iter().map(|v| parse_server(v, &op)).collect()
    }
}

/// True when `name`, read as a regular expression, matches the literal `name`. A `.` does;
/// anchors, quantifiers, groups, classes, alternation and backslashes may not.
fn matches_itself_as_regex(name: &str) -> bool {
    !name.contains([
        '^', '$', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|', '\\',
    ])
}

/// Reads one server of the detail view. `image` is an object, or `""` for boot-from-volume.
pub(crate) fn parse_server(v: &Value, operation: &str) -> Result<Server, ProviderError> {
    let obj = v
        .as_object()
        .ok_or_else(|| ProviderError::transport(operation, "a server is not a JSON object"))?;
    let id = str_field(obj, "id")
        .ok_or_else(|| ProviderError::transport(operation, "a server has no id"))?;
    let image_id = match obj.get("image") {
        Some(Value::Object(img)) => str_field(img, "id"),
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    let schedule = obj
        .get("RAX-SI:image_schedule")
        .or_else(|| obj.get("OS-SI:image_schedule"))
        .and_then(schedule_from_wire);
    Ok(Server {
        id,
        name: str_field(obj, "name").unwrap_or_default(),
        status: str_field(obj, "status").unwrap_or_default(),
        image_id,
        schedule,
        task_state: str_field(obj, "OS-EXT-STS:task_state"),
        shows_task_state: obj.contains_key("OS-EXT-STS:task_state"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Schedule;
    use serde_json::json;

    #[test]
    fn names_with_regex_syntax_are_not_sent_as_filters() {
        assert!(matches_itself_as_regex("web-01.example.com"));
        assert!(!matches_itself_as_regex("a+b"));
        assert!(!matches_itself_as_regex("web(1)"));
    }

    #[test]
    fn parses_servers_with_and_without_schedule() {
        let s = parse_server(
            &json!({"id": "s1", "name": "web", "status": "ACTIVE", "image": {"id": "i1", "links": []},
                    "RAX-SI:image_schedule": {"retention": 7, "day_of_week": "saturday"}}),
            "t",
        )
        .unwrap();
        assert_eq!(s.image_id.as_deref(), Some("i1"));
        assert_eq!(
            s.schedule,
            Some(Schedule {
                retention: 7,
                day_of_week: Some("SATURDAY".into())
            })
        );
        let vol = parse_server(
            &json!({"id": "s2", "name": "db", "status": "BUILD", "image": ""}),
            "t",
        )
        .unwrap();
        assert_eq!(vol.image_id, None);
        assert_eq!(vol.schedule, None);
    }
}
