//! Property test: for generated configurations (variables, some sensitive; chains of locals
//! over functions, templates, conditionals and `for` expressions; resources single, with
//! `count` and with `for_each`, reading locals, `count.index` / `each.key` and a resource
//! known only after apply), the arguments apply evaluates — through the same code apply runs,
//! in the plan's execution order, after its dependencies got their cloud values — are fully
//! known and equal every value the plan already knew.

use super::walk::{late_args, seeded_evaluator};
use crate::addr::InstanceAddr;
use crate::config::{SourceFile, Sources};
use crate::plan::{self, Action};
use crate::state::State;
use crate::value::{Map, Value};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// A string-valued expression over what is declared before it.
fn expr(names: Vec<String>) -> impl Strategy<Value = String> {
    let pick = proptest::sample::select(names);
    let lit = "[a-z]{1,6}".prop_map(|s| format!("\"{s}\""));
    let atom = prop_oneof![pick.clone(), lit];
    (atom.clone(), atom, 0..10usize).prop_map(|(x, y, shape)| match shape {
        0 => format!("\"${{{x}}}-${{{y}}}\""),
        1 => format!("upper({x})"),
        2 => format!("tostring(length({x}))"),
        3 => format!("{x} == {y} ? {x} : {y}"),
        4 => format!("join(\"-\", [{x}, {y}])"),
        5 => format!("format(\"%s.%s\", {x}, {y})"),
        6 => format!("lookup({{ k = {x} }}, \"k\")"),
        7 => format!("[for c in [{x}, {y}] : lower(c)][1]"),
        8 => format!("coalesce(\"\", {x})"),
        _ => format!("trimspace(\" ${{{x}}} \")"),
    })
}

#[derive(Debug, Clone)]
struct Generated {
    text: String,
    vars: BTreeMap<String, Value>,
}

fn configuration() -> impl Strategy<Value = Generated> {
    (
        proptest::collection::vec(("[a-z]{2,8}", any::<bool>()), 1..4),
        1..6usize,
        proptest::collection::vec((0..3usize, any::<bool>()), 1..4),
    )
        .prop_flat_map(|(vars, nlocals, resources)| {
            let var_names: Vec<String> = (0..vars.len()).map(|i| format!("var.v{i}")).collect();
            // Each local may use the variables and the locals before it.
            let locals: Vec<BoxedStrategy<String>> = (0..nlocals)
                .map(|i| {
                    let mut names = var_names.clone();
                    names.extend((0..i).map(|j| format!("local.l{j}")));
                    // Known only after apply: the local must be evaluated again then.
                    names.push("image.base.id".into());
                    expr(names).boxed()
                })
                .collect();
            let mut all = var_names.clone();
            all.extend((0..nlocals).map(|j| format!("local.l{j}")));
            let res: Vec<BoxedStrategy<(usize, bool, String, String)>> = resources
                .iter()
                .map(|(mode, unknown_image)| {
                    let mut names = all.clone();
                    names.push(match mode {
                        1 => "tostring(count.index)".to_string(),
                        2 => "each.key".to_string(),
                        _ => "\"single\"".to_string(),
                    });
                    names.push("image.base.name".to_string());
                    (
                        Just(*mode),
                        Just(*unknown_image),
                        expr(names.clone()),
                        expr(names),
                    )
                        .boxed()
                })
                .collect();
            (Just(vars), locals, res)
        })
        .prop_map(|(vars, locals, res)| {
            let mut text = String::from(
                "resource \"image\" \"base\" {\n  server_id = \"srv\"\n  name      = \"base\"\n}\n",
            );
            let mut values = BTreeMap::new();
            for (i, (v, sensitive)) in vars.iter().enumerate() {
                text.push_str(&format!(
                    "variable \"v{i}\" {{\n  type      = string\n  sensitive = {sensitive}\n}}\n"
                ));
                values.insert(format!("v{i}"), Value::str(v.clone()));
            }
            if !locals.is_empty() {
                text.push_str("locals {\n");
                for (i, l) in locals.iter().enumerate() {
                    text.push_str(&format!("  l{i} = {l}\n"));
                }
                text.push_str("}\n");
            }
            for (i, (mode, unknown_image, a, b)) in res.iter().enumerate() {
                let meta = match mode {
                    1 => "  count    = 2\n",
                    2 => "  for_each = toset([\"a\", \"b\"])\n",
                    _ => "",
                };
                let image = if *unknown_image {
                    "image.base.id"
                } else {
                    "\"fixed-image\""
                };
                text.push_str(&format!(
                    "resource \"image_metadata\" \"r{i}\" {{\n{meta}  image_id = {image}\n  metadata = {{\n    a = {a}\n    b = {b}\n  }}\n}}\n"
                ));
            }
            Generated { text, vars: values }
        })
}

/// What the cloud answers for a planned value that was unknown.
fn applied(addr: &InstanceAddr, after: &Map) -> Map {
    after
        .iter()
        .map(|(k, v)| {
            let v = if v.contains_unknown() {
                Value::str(format!("{k}-of-{addr}"))
            } else {
                v.unmarked()
            };
            (k.clone(), v)
        })
        .collect()
}

fn check(g: &Generated) -> Result<(), String> {
    let (cfg, d) = crate::config::load(Sources::new(vec![SourceFile {
        path: "gen.snap.hcl".into(),
        text: g.text.clone(),
    }]));
    if !d.is_empty() {
        return Err(format!("load: {d:?}"));
    }
    let (graph, d) = crate::graph::build(&cfg);
    if !d.is_empty() {
        return Err(format!("graph: {d:?}"));
    }
    let state = State::new();
    let (p, d) = plan::plan(
        &cfg,
        &graph,
        &g.vars,
        &state,
        &plan::Refreshed::default(),
        &plan::Options::default(),
    );
    if !d.is_empty() {
        return Err(format!("plan: {d:?}"));
    }
    let ev = seeded_evaluator(&p, &cfg, &graph, &g.vars, &state);
    // Walk the plan's execution graph the way apply does.
    let mut done: BTreeSet<InstanceAddr> = BTreeSet::new();
    let mut pending: Vec<&plan::Change> = p
        .changes
        .iter()
        .filter(|c| c.action == Action::Create)
        .collect();
    while !pending.is_empty() {
        let ready = pending
            .iter()
            .position(|c| {
                p.edges
                    .get(&c.address)
                    .is_none_or(|deps| deps.iter().all(|d| done.contains(d)))
            })
            .ok_or("the execution graph has a cycle")?;
        let c = pending.remove(ready);
        let args = late_args(&cfg, &ev, c).map_err(|e| format!("{}: {e}", c.address))?;
        let after = c.after.as_ref().ok_or("a create without planned values")?;
        for (k, v) in &args {
            if v.contains_unknown() {
                return Err(format!("{}.{k} is still unknown", c.address));
            }
            if let Some(planned) = after.get(k)
                && !planned.contains_unknown()
                && planned.unmarked() != *v
            {
                return Err(format!(
                    "{}.{k}: planned {planned:?}, applied {v:?}",
                    c.address
                ));
            }
        }
        let mut result = applied(&c.address, after);
        result.extend(args);
        ev.set_instance(&c.address, Value::Map(result));
        done.insert(c.address.clone());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn apply_evaluates_what_the_plan_knew(g in configuration()) {
        if let Err(e) = check(&g) {
            prop_assert!(false, "{e}\n--- configuration\n{}", g.text);
        }
    }
}
