//! RabbitMQ definitions to and from topologies: a realistic definitions file (policies, a quorum
//! queue, a delay queue through the default exchange, a headers binding, an alternate exchange,
//! a second virtual host) imported exactly; every shipped scenario's broker kept through a round
//! trip; bad input refused with its path.

use edasim_sim::Model;
use edasim_sim::formats::rabbitmq::{export, import, is_definitions};
use edasim_sim::topology::{Link, NodeKind, Topology};
use serde_json::{Value, json};

fn fixture() -> Value {
    let path = format!("{}/tests/data/rabbitmq-definitions.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn node<'a>(t: &'a Value, id: &str) -> &'a Value {
    t["nodes"].as_array().unwrap().iter().find(|n| n["id"] == id).unwrap_or_else(|| panic!("no node {id}"))
}

fn has_link(t: &Value, want: Value) -> bool {
    t["links"].as_array().unwrap().iter().any(|l| l == &want)
}

#[test]
fn a_definitions_file_imports_with_its_policies_and_arguments() {
    let defs = fixture();
    assert!(is_definitions(&defs));
    let imported = import(&defs, "orders", "/").expect("it imports");
    let t = &imported.topology;
    let model = Model::from_value(t).expect("a valid topology");
    // The predeclared amq.* exchanges are implied; the staging vhost's queue is left out.
    assert_eq!(model.topology().nodes.len(), 10);
    assert!(imported.notes.iter().any(|n| n.contains("\"staging\"")), "{:?}", imported.notes);
    assert!(imported.notes.iter().any(|n| n.contains("add the producers")));
    // A quorum queue's delivery limit; its own TTL (30 s) under the policy's (60 s); the policy's
    // dead-letter exchange. One policy applies to a queue, the highest priority one that
    // matches: not the catch-all's max length.
    let created = node(t, "order.created");
    assert_eq!((created["delivery_limit"].clone(), created["message_ttl_ms"].clone()), (json!(5), json!(30000.0)));
    assert_eq!(created["max_length"], Value::Null);
    assert!(has_link(t, json!({"from": "order.created", "to": "dlx", "dead_letter": true})));
    // Its own max length and overflow; the policy's TTL.
    let paid = node(t, "order.paid");
    assert_eq!((paid["max_length"].clone(), paid["overflow"].clone()), (json!(500), json!("reject-publish-dlx")));
    assert_eq!(paid["message_ttl_ms"], json!(60000.0));
    // The catch-all policy, where it is the only one.
    assert_eq!(node(t, "dead-letters")["max_length"], json!(10000));
    // A delay queue dead-lettering through the default exchange: straight to the queue named.
    assert!(has_link(t, json!({"from": "retry-5s", "to": "order.created", "dead_letter": true})));
    assert_eq!(node(t, "retry-5s")["message_ttl_ms"], json!(5000.0));
    // Bindings: topic keys, an exchange-to-exchange binding, a headers binding with x-match.
    assert!(has_link(t, json!({"from": "events", "to": "order.paid", "binding_key": "order.*.paid"})));
    assert!(has_link(t, json!({"from": "events", "to": "regions", "binding_key": "#"})));
    assert!(has_link(
        t,
        json!({"from": "regions", "to": "eu-orders", "match": "any", "headers": {"region": "eu", "priority": 1}})
    ));
    // The policy's alternate exchange.
    assert!(has_link(t, json!({"from": "events", "to": "unrouted", "alternate": true})));
    assert_eq!(node(t, "events")["type"], "topic");
}

#[test]
fn bad_definitions_are_refused_with_their_paths() {
    let not = import(&json!({"version": 1, "nodes": []}), "x", "/").unwrap_err();
    assert!(not[0].message.contains("not RabbitMQ definitions"), "{not:?}");
    let mut defs = fixture();
    defs["exchanges"][0]["type"] = json!("x-consistent-hash");
    let e = import(&defs, "x", "/").unwrap_err();
    assert!(e.iter().any(|p| p.path == "exchanges[0].type" && p.message.contains("x-consistent-hash")), "{e:?}");
    // A dead-letter exchange the file does not declare: imported, with a note.
    let mut defs = fixture();
    defs["queues"][2]["arguments"] = json!({"x-dead-letter-exchange": "nowhere"});
    let ok = import(&defs, "x", "/").unwrap();
    assert!(ok.notes.iter().any(|n| n.starts_with("queues[2].arguments.x-dead-letter-exchange")), "{:?}", ok.notes);
}

/// The broker part of a topology, comparable: exchanges with their types, queues with their
/// limits, and the links between broker nodes with what routes over them. The default exchange
/// (a node named `amq.default`, as the seed's scenario draws it) is implied, not exported.
fn broker(t: &Topology) -> (Vec<String>, Vec<String>) {
    let is_broker =
        |id: &str| !id.starts_with("amq.") && t.nodes.iter().any(|n| n.id == id && n.kind.kind().is_messaging());
    let mut nodes: Vec<String> = t
        .nodes
        .iter()
        .filter(|n| is_broker(&n.id))
        .filter_map(|n| match &n.kind {
            NodeKind::Exchange(x) => Some(format!("exchange {} {:?}", n.id, x.kind)),
            NodeKind::Queue(q) => Some(format!(
                "queue {} {:?} {:?} {:?} {:?}",
                n.id, q.max_length, q.overflow, q.message_ttl_ms, q.delivery_limit
            )),
            _ => None,
        })
        .collect();
    let mut links: Vec<String> = t
        .links
        .iter()
        .filter(|l| is_broker(&l.from) && is_broker(&l.to))
        .map(|l: &Link| {
            // A dead letter through the default exchange keeps no routing key of its own.
            let to_queue = t.nodes.iter().any(|n| n.id == l.to && matches!(n.kind, NodeKind::Queue(_)));
            let rk = if l.dead_letter && !to_queue { l.routing_key.clone() } else { None };
            format!(
                "{} -> {} key {:?} dl {} ae {} rk {rk:?} headers {:?} match {:?}",
                l.from, l.to, l.binding_key, l.dead_letter, l.alternate, l.headers, l.match_
            )
        })
        .collect();
    nodes.sort();
    links.sort();
    (nodes, links)
}

#[test]
fn every_shipped_scenarios_broker_survives_a_round_trip() {
    let dir = format!("{}/../scenarios", env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let model = Model::from_json_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let defs = export(model.topology());
        assert!(is_definitions(&defs));
        let back = import(&defs, "back", "/").unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
        let back = Model::from_value(&back.topology).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(broker(back.topology()), broker(model.topology()), "{}", path.display());
        checked += 1;
    }
    assert!(checked >= 12, "{checked} scenarios");
}
