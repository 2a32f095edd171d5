//! `moved`, `removed` and `import` blocks applied to the planner's view of state: moves rename
//! state entries, imports add the objects refresh read, removals forget instead of destroying.

use super::Refreshed;
use crate::config::{Config, Diagnostic, base_address};
use crate::state::State;

/// The state and refreshed view after `moved` blocks and imports, plus what was moved.
pub struct Steered {
    pub state: State,
    pub refreshed: Refreshed,
    pub moves: Vec<(String, String)>,
    pub imported: Vec<String>,
}

/// Applies `moved` blocks (in order) and pending imports to copies of state and refreshed.
pub fn steer(
    cfg: &Config,
    state: &State,
    refreshed: &Refreshed,
    diags: &mut Vec<Diagnostic>,
) -> Steered {
    let mut st = state.clone();
    let mut rf = refreshed.clone();
    let mut moves = Vec::new();
    for m in &cfg.moved {
        // A block address moves all its instances; an instance address moves one.
        let matching: Vec<String> = st
            .resources
            .keys()
            .filter(|a| *a == &m.from || (base_address(a) == m.from && !m.from.contains('[')))
            .cloned()
            .collect();
        for old in matching {
            let new = format!("{}{}", m.to, &old[m.from.len()..]);
            if st.resources.contains_key(&new) {
                diags.push(Diagnostic::error(
                    format!("cannot move {old} to {new}: {new} is already in state"),
                    Some(m.span.clone()),
                ));
                continue;
            }
            let Some(mut rs) = st.resources.remove(&old) else {
                continue;
            };
            rs.address = new.clone();
            if let Some((_, name)) = base_address(&new).split_once('.') {
                rs.name = name.to_string();
            }
            st.resources.insert(new.clone(), rs);
            if let Some(cur) = rf.resources.remove(&old) {
                rf.resources.insert(new.clone(), cur);
            }
            moves.push((old, new));
        }
    }
    let mut imported = Vec::new();
    for (addr, rs) in &refreshed.imports {
        if st.resources.contains_key(addr) {
            continue;
        }
        st.resources.insert(addr.clone(), rs.clone());
        rf.resources
            .insert(addr.clone(), Some(rs.attributes.clone()));
        imported.push(addr.clone());
    }
    for r in &cfg.removed {
        if cfg.resources.contains_key(base_address(&r.from)) {
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
pub fn forget_only(cfg: &Config, addr: &str) -> bool {
    cfg.removed
        .iter()
        .any(|r| !r.destroy && (r.from == addr || (r.from == base_address(addr))))
}
