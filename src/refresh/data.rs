//! Reading data sources through their units in the registry: per provider, the lookups one
//! listing can answer share it (the server listing for `data "server"`, the full image listing
//! for `data "image"` / `"images"` when they outnumber its pages), the rest run concurrently;
//! providers are read at the same time.

use super::cache::Cache;
use super::model::{Clients, RefreshError};
use crate::addr::InstanceAddr;
use crate::config::Config;
use crate::resources::{self, Answered, ReadError};
use crate::value::Map;
use std::collections::BTreeMap;

/// Reads each requested data source (address → evaluated arguments).
pub async fn read_data(
    cfg: &Config,
    requests: &BTreeMap<InstanceAddr, Map>,
    clients: &Clients,
) -> Result<BTreeMap<InstanceAddr, Map>, RefreshError> {
    read_data_with(cfg, requests, clients, &Cache::default()).await
}

/// [`read_data`] with the listings of the plan so far.
pub async fn read_data_with(
    cfg: &Config,
    requests: &BTreeMap<InstanceAddr, Map>,
    clients: &Clients,
    cache: &Cache,
) -> Result<BTreeMap<InstanceAddr, Map>, RefreshError> {
    // (provider key, address, kind, arguments)
    let mut by_provider: BTreeMap<
        String,
        Vec<(&InstanceAddr, &'static dyn resources::DataSource, &Map)>,
    > = BTreeMap::new();
    for (addr, args) in requests {
        let Some(block) = cfg.data.get(&addr.block) else {
            continue;
        };
        let Some(data) = resources::data_source(&block.kind) else {
            continue;
        };
        let key = cfg
            .provider(block.provider.as_deref())
            .map(|p| p.key())
            .unwrap_or_else(|| "rackspace".into());
        by_provider.entry(key).or_default().push((addr, data, args));
    }
    // Providers at once (each paced by its own client); merged in provider order.
    let per_provider =
        futures_util::future::join_all(by_provider.into_iter().map(|(key, reads)| async move {
            let client = clients.get(&key)?;
            let wanted = |a: Answered| {
                reads
                    .iter()
                    .filter(|(_, d, args)| d.answered_by(args) == a)
                    .count()
            };
            cache
                .servers(&key, client, wanted(Answered::Servers))
                .await?;
            cache.images(&key, client, wanted(Answered::Images)).await?;
            let views = cache.views(&key);
            let jobs = reads.into_iter().map(|(addr, data, args)| {
                let (client, views, args) = (client.clone(), views.clone(), args.clone());
                (addr.clone(), async move {
                    data.read(&client, &args, &views).await
                })
            });
            super::in_flight(jobs, "a data source read").await
        }))
        .await;
    let mut results = BTreeMap::new();
    for r in per_provider {
        results.extend(r?);
    }
    // In address order, so that the error reported does not depend on timing.
    let mut out = BTreeMap::new();
    for (addr, r) in results {
        let v = r.map_err(|e| match e {
            ReadError::Provider(p) => RefreshError::Provider(p),
            ReadError::Selection(message) => RefreshError::Data {
                address: addr.to_string(),
                message,
            },
        })?;
        out.insert(addr, v);
    }
    Ok(out)
}
