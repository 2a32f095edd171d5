//! Scheduled images (RAX-SI): `/servers/{id}/rax-si-image-schedule` GET, POST, DELETE.

use reqwest::Method;
use serde_json::json;

use super::http::{Call, Service};
use super::types::{Schedule, schedule_from_wire, schedule_to_wire};
use super::{Client, ProviderError, found};

const PATH: &str = "rax-si-image-schedule";

impl Client {
    /// The schedule of a server; `None` when scheduled images are not enabled (404).
    pub async fn get_schedule(&self, server_id: &str) -> Result<Option<Schedule>, ProviderError> {
        let op = format!("get image schedule of server {server_id}");
        let call = Call::new(
            Method::GET,
            Service::Compute,
            &["servers", server_id, PATH],
            op.clone(),
        );
        let Some(reply) = found(self.inner.execute(&call).await)? else {
            return Ok(None);
        };
        read(&reply.json(&op)?, &op).map(Some)
    }

    /// Enables or overwrites the schedule (weekly when `day_of_week` is set, else daily) and
    /// returns what the cloud stored.
    pub async fn set_schedule(
        &self,
        server_id: &str,
        s: &Schedule,
    ) -> Result<Schedule, ProviderError> {
        let op = format!("set image schedule of server {server_id}");
        let call = Call::new(
            Method::POST,
            Service::Compute,
            &["servers", server_id, PATH],
            op.clone(),
        )
        .idempotent()
        .json(json!({ "image_schedule": schedule_to_wire(s) }));
        let reply = self.inner.execute(&call).await?;
        if reply.body.iter().all(u8::is_ascii_whitespace) {
            // Some deployments answer 202 with no body; the request was accepted as sent.
            return Ok(Schedule {
                retention: s.retention,
                day_of_week: s.day_of_week.as_ref().map(|d| d.to_ascii_uppercase()),
            });
        }
        read(&reply.json(&op)?, &op)
    }

    /// Disables scheduled images; `false` when they were not enabled (404).
    pub async fn delete_schedule(&self, server_id: &str) -> Result<bool, ProviderError> {
        let op = format!("delete image schedule of server {server_id}");
        let call = Call::new(
            Method::DELETE,
            Service::Compute,
            &["servers", server_id, PATH],
            op,
        );
        Ok(found(self.inner.execute(&call).await)?.is_some())
    }
}

fn read(body: &serde_json::Value, op: &str) -> Result<Schedule, ProviderError> {
    body.get("image_schedule")
        .and_then(schedule_from_wire)
        .ok_or_else(|| {
            ProviderError::transport(op, "the answer has no valid \"image_schedule\" object")
        })
}
