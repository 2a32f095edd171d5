//! `moved`, `removed` and `import` blocks applied to the planner's view of state: moves rename
//! state entries, imports add the objects refresh read, removals forget instead of destroying.

use super::Refreshed;
use crate::addr::{InstanceAddr, Target};
use crate::config::{Config, Diagnostic};
use crate::state::State;

/// The state and refreshed view after `moved` blocks and imports, plus what was moved.
pub struct Steered<'a> {
    /// Copies only when something was steered (a move or an import); borrowed otherwise.
    pub state: std::borrow::Cow<'a, State>,
    pub refreshed: std::borrow::Cow<'a, Refreshed>,
    pub moves: Vec<(InstanceAddr, InstanceAddr)>,
    pub imported: Vec<InstanceAddr>,
}

/// Applies `moved` blocks (in order) and pending imports to copies of state and refreshed.
pub fn steer<'a>(
    cfg: &Config,
    state: &'a State,
    refreshed: &'a Refreshed,
    diags: &mut Vec<Diagnostic>,
) -> Steered<'a> {
    use std::borrow::Cow;
    let mut st = Cow::Borrowed(state);
    let mut rf = Cow::Borrowed(refreshed);
    let mut moves = Vec::new();
    for m in &cfg.moved {
        // A block address moves all its instances; an instance address moves one.
        let matching: Vec<InstanceAddr> = st
            .resources
            .keys()
            .filter(|a| m.from.matches(a))
            .cloned()
            .collect();
        for old in matching {
            let new = match &m.to {
                Target::Instance(i) => i.clone(),
                Target::Block(b) => b.instance(old.key.clone()),
            };
            if st.resources.contains_key(&new) {
                diags.push(Diagnostic::error(
                    format!("cannot move {old} to {new}: {new} is already in state"),
                    Some(m.span.clone()),
                ));
                continue;
            }
            let Some(mut rs) = st.to_mut().resources.remove(&old) else {
                continue;
            };
            rs.address = new.clone();
            rs.name = new.block.name.clone();
            st.to_mut().resources.insert(new.clone(), rs);
            if let Some(cur) = rf.to_mut().resources.remove(&old) {
                rf.to_mut().resources.insert(new.clone(), cur);
            }
            moves.push((old, new));
        }
    }
    let mut imported = Vec::new();
    for (addr, rs) in &refreshed.imports {
        if st.resources.contains_key(addr) {
            continue;
        }
        st.to_mut().resources.insert(addr.clone(), rs.clone());
        rf.to_mut()
            .resources
            .insert(addr.clone(), Some(rs.attributes.clone()));
        imported.push(addr.clone());
    }
    for r in &cfg.removed {
        if cfg.resources.contains_key(r.from.block()) {
            diags.push(Diagnostic::error(
                format!(
                    "removed block for {}, but the configuration still declares it; delete the resource block or the removed block",
                    r.from
                ),
                Some(r.span.clone()),
            ));
        }
    }
    Steered {
        state: st,
        refreshed: rf,
        moves,
        imported,
    }
}

/// True when a `removed` block says to forget `addr` rather than destroy it.
pub fn forget_only(cfg: &Config, addr: &InstanceAddr) -> bool {
    cfg.removed
        .iter()
        .any(|r| !r.destroy && r.from.matches(addr))
}
