//! What an edit of the canvas means for the run that is playing: nothing (a node moved, a
//! label or a note changed), parameters the engine changes live (rates, replicas, times,
//! failure rates, queue limits), or a new structure that needs the run restarted.
//!
//! Both sides are topologies normalised by the engine's own model (the server sends its copy
//! that way, and the editor normalises the canvas the same way in wasm), so comparing values
//! compares meanings.

use edasim_sim::engine::Change;
use edasim_sim::topology::Kind;
use serde_json::{Map, Value, json};

#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// Nothing the engine reads has changed.
    Same,
    /// Only parameters the engine changes live: (node id, change), in node order.
    Live(Vec<(String, Change)>),
    /// Nodes, links or fields the engine cannot change while it runs: a restart is needed.
    Restart,
}

/// Node fields the engine changes live, by kind: the engine's own list (`Kind::live_params`).
fn live_fields(kind: &str) -> &'static [&'static str] {
    Kind::from_name(kind).map_or(&[], Kind::live_params)
}

/// Fields that only the canvas reads.
const COSMETIC_TOP: &[&str] = &["name", "description", "notes"];
const COSMETIC_NODE: &[&str] = &["label", "pos"];

fn without(map: &Map<String, Value>, keys: &[&str]) -> Map<String, Value> {
    map.iter().filter(|(k, _)| !keys.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// How to bring the run from `applied` (what the engine runs) to `wanted` (the canvas).
pub fn plan(applied: &Value, wanted: &Value) -> Plan {
    let (Some(a), Some(w)) = (applied.as_object(), wanted.as_object()) else { return Plan::Restart };
    let top = |m: &Map<String, Value>| without(m, &[COSMETIC_TOP, &["nodes"]].concat());
    if top(a) != top(w) {
        return Plan::Restart;
    }
    let nodes = |v: &Value| v.as_array().cloned().unwrap_or_default();
    let (an, wn) = (nodes(&a["nodes"]), nodes(&w["nodes"]));
    if an.len() != wn.len() {
        return Plan::Restart;
    }
    let mut changes = Vec::new();
    for (x, y) in an.iter().zip(&wn) {
        let (Some(x), Some(y)) = (x.as_object(), y.as_object()) else { return Plan::Restart };
        if x.get("id") != y.get("id") || x.get("kind") != y.get("kind") {
            return Plan::Restart;
        }
        let kind = x.get("kind").and_then(Value::as_str).unwrap_or("");
        let id = x.get("id").and_then(Value::as_str).unwrap_or("").to_string();
        let live = live_fields(kind);
        let fixed = |m: &Map<String, Value>| without(m, &[COSMETIC_NODE, live].concat());
        if fixed(x) != fixed(y) {
            return Plan::Restart;
        }
        for field in live {
            let (before, after) = (x.get(*field), y.get(*field));
            if before == after {
                continue;
            }
            let value = after.cloned().unwrap_or(Value::Null);
            match serde_json::from_value::<Change>(json!({"param": field, "value": value})) {
                Ok(change) => changes.push((id.clone(), change)),
                // A value the live change cannot carry (a removed replica count...): restart.
                Err(_) => return Plan::Restart,
            }
        }
    }
    if changes.is_empty() { Plan::Same } else { Plan::Live(changes) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edasim_sim::Model;

    fn normal(v: Value) -> Value {
        serde_json::to_value(Model::from_value(&v).expect("valid").topology()).unwrap()
    }

    fn base() -> Value {
        json!({"version": 1, "name": "t", "seed": 1, "nodes": [
            {"id": "p", "kind": "producer", "rate_per_s": 5, "pos": [0, 0]},
            {"id": "q", "kind": "queue"},
            {"id": "s", "kind": "service", "processing": {"dist": "exponential", "mean_ms": 50}}],
            "links": [{"from": "p", "to": "q"}, {"from": "q", "to": "s"}]})
    }

    #[test]
    fn moves_labels_and_notes_change_nothing() {
        let mut w = base();
        w["nodes"][0]["pos"] = json!([300, 40]);
        w["nodes"][1]["label"] = json!("Orders");
        w["name"] = json!("renamed");
        w["notes"] = json!([{"text": "hi", "pos": [1, 2]}]);
        assert_eq!(plan(&normal(base()), &normal(w)), Plan::Same);
    }

    #[test]
    fn rates_replicas_and_times_are_live() {
        let mut w = base();
        w["nodes"][0]["rate_per_s"] = json!(150);
        w["nodes"][2]["replicas"] = json!(3);
        w["nodes"][2]["processing"] = json!({"dist": "constant", "ms": 7});
        w["nodes"][1]["max_length"] = json!(10);
        let Plan::Live(changes) = plan(&normal(base()), &normal(w)) else { panic!("live") };
        let names: Vec<_> = changes.iter().map(|(id, c)| format!("{id}.{}", c.name())).collect();
        assert_eq!(names, ["p.rate_per_s", "q.max_length", "s.replicas", "s.processing"]);
        assert_eq!(changes[0].1, Change::RatePerS(150.0));
        assert_eq!(changes[1].1, Change::MaxLength(Some(10)));
    }

    #[test]
    fn removing_a_queue_limit_is_live_too() {
        let mut a = base();
        a["nodes"][1]["max_length"] = json!(10);
        let Plan::Live(changes) = plan(&normal(a), &normal(base())) else { panic!("live") };
        assert_eq!(changes, [("q".to_string(), Change::MaxLength(None))]);
    }

    #[test]
    fn new_nodes_links_and_fixed_fields_need_a_restart() {
        let mut w = base();
        w["nodes"].as_array_mut().unwrap().push(json!({"id": "x", "kind": "queue"}));
        assert_eq!(plan(&normal(base()), &normal(w)), Plan::Restart);
        let mut w = base();
        w["links"].as_array_mut().unwrap().pop();
        assert_eq!(plan(&normal(base()), &normal(w)), Plan::Restart);
        let mut w = base();
        w["nodes"][2]["on_failure"] = json!("requeue");
        assert_eq!(plan(&normal(base()), &normal(w)), Plan::Restart);
        let mut w = base();
        w["seed"] = json!(2);
        assert_eq!(plan(&normal(base()), &normal(w)), Plan::Restart);
    }
}

#[cfg(test)]
mod scenario_tests {
    use super::*;
    use edasim_sim::Model;

    /// The server's copy of a scenario, normalised again in the browser, means the same: no
    /// edit, no restart; a rate changed in it is a live change.
    #[test]
    fn the_servers_copy_round_trips() {
        let text = include_str!("../../../scenarios/order-pipeline.json");
        let once = serde_json::to_value(Model::from_json_str(text).unwrap().topology()).unwrap();
        let twice = serde_json::to_value(Model::from_value(&once).unwrap().topology()).unwrap();
        assert_eq!(plan(&once, &twice), Plan::Same);
        let mut edited = once.clone();
        edited["nodes"][0]["rate_per_s"] = json!(150.0);
        let edited = serde_json::to_value(Model::from_value(&edited).unwrap().topology()).unwrap();
        assert!(matches!(plan(&once, &edited), Plan::Live(_)), "{:?}", plan(&once, &edited));
    }
}
