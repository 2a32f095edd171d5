//! Reading data sources through their units in the registry.

use super::model::{Clients, RefreshError};
use crate::addr::InstanceAddr;
use crate::config::Config;
use crate::resources::{self, ReadError};
use crate::value::Map;
use std::collections::BTreeMap;

/// Reads each requested data source (address → evaluated arguments).
pub async fn read_data(
    cfg: &Config,
    requests: &BTreeMap<InstanceAddr, Map>,
    clients: &Clients,
) -> Result<BTreeMap<InstanceAddr, Map>, RefreshError> {
    let mut out = BTreeMap::new();
    for (addr, args) in requests {
        let Some(block) = cfg.data.get(&addr.block) else {
            continue;
        };
        let key = cfg
            .provider(block.provider.as_deref())
            .map(|p| p.key())
            .unwrap_or_else(|| "rackspace".into());
        let client = clients.get(&key)?;
        let Some(data) = resources::data_source(&block.kind) else {
            continue;
        };
        let v = data.read(client, args).await.map_err(|e| match e {
            ReadError::Provider(p) => RefreshError::Provider(p),
            ReadError::Selection(message) => RefreshError::Data {
                address: addr.to_string(),
                message,
            },
        })?;
        out.insert(addr.clone(), v);
    }
    Ok(out)
}
