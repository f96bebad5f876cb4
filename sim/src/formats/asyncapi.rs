//! AsyncAPI 3.0 documents, to and from topologies.
//!
//! Export describes a topology as AsyncAPI describes event-driven systems: a **channel** per
//! exchange, queue and topic, with its AMQP binding (`is: routingKey` and the exchange's name and
//! type; `is: queue` and the queue's name) or its Kafka binding (partitions, retention); an
//! **operation** per service and channel it receives from, and per producer or service and
//! channel it sends to; a **message** per event type, referenced by the channels that carry it.
//! AsyncAPI has no place for what only a simulation needs (processing times, bindings' keys,
//! faults), so the whole topology also rides along as the extension `x-edasim-topology`:
//! importing an export gives back exactly what was exported.
//!
//! Import of a document without that extension derives a topology from its channels and
//! operations: exchanges, queues and topics from the channels' bindings (a channel without one is
//! a queue); the application the document describes (its `info.title`, or an operation's
//! `x-edasim-node`) as a service receiving from the channels it receives from and sending to the
//! others (a producer if it only sends), with default timings to edit. AMQP bindings do not
//! say how exchanges route to queues: the import says so.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::problem::Problem;
use crate::topology::{Kind, LinkRole, Model, NodeKind, Topology};

/// What an import made, and what the user should know.
#[derive(Clone, Debug, PartialEq)]
pub struct Imported {
    pub topology: Value,
    pub notes: Vec<String>,
}

/// Whether a JSON document is an AsyncAPI document.
pub fn is_asyncapi(v: &Value) -> bool {
    v.get("asyncapi").is_some_and(Value::is_string)
}

/// The event types each node may send, as far as the file says: a producer's event, a link's.
fn events_into(topo: &Topology, model: &Model) -> BTreeMap<String, Vec<String>> {
    fn add(into: &mut BTreeMap<String, Vec<String>>, to: &str, e: &str) {
        let v = into.entry(to.to_string()).or_default();
        if !v.iter().any(|x| x == e) {
            v.push(e.to_string());
        }
    }
    let mut into: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for l in &topo.links {
        let from = topo.nodes.iter().find(|n| n.id == l.from);
        let event = l.event.clone().or_else(|| match from.map(|n| &n.kind) {
            Some(NodeKind::Producer(p)) => Some(p.event.clone().unwrap_or_else(|| l.from.clone())),
            _ => None,
        });
        if let Some(e) = event {
            add(&mut into, &l.to, &e);
        }
    }
    // What an exchange receives reaches what it routes to (one level is what AsyncAPI readers
    // expect to see on a queue's channel).
    for l in &topo.links {
        if model.link_between(&l.from, &l.to).map(|x| x.1) == Some(LinkRole::Bind) {
            for e in into.get(&l.from).cloned().unwrap_or_default() {
                add(&mut into, &l.to, &e);
            }
        }
    }
    into
}

/// `topo` as an AsyncAPI 3.0.0 document.
pub fn export(model: &Model) -> Value {
    let topo = model.topology();
    let events = events_into(topo, model);
    let mut channels = Map::new();
    let mut messages = Map::new();
    let message_ref = |e: &str| json!({"$ref": format!("#/components/messages/{}", key(e))});
    for n in &topo.nodes {
        let binding = match &n.kind {
            NodeKind::Exchange(x) => json!({"amqp": {"is": "routingKey", "exchange": {"name": n.id,
                "type": serde_json::to_value(x.kind).unwrap_or(json!("direct")), "durable": true, "autoDelete": false, "vhost": "/"},
                "bindingVersion": "0.3.0"}}),
            NodeKind::Queue(_) => json!({"amqp": {"is": "queue", "queue": {"name": n.id, "durable": true,
                "exclusive": false, "autoDelete": false, "vhost": "/"}, "bindingVersion": "0.3.0"}}),
            NodeKind::Topic(t) => {
                let mut k = json!({"topic": n.id, "partitions": t.partitions, "bindingVersion": "0.5.0"});
                if let Some(r) = t.retention_ms {
                    k["topicConfiguration"] = json!({"retention.ms": r.round() as i64});
                }
                json!({"kafka": k})
            }
            _ => continue,
        };
        let mut ch = json!({"address": n.id, "title": n.label(), "bindings": binding});
        let carried = events.get(&n.id).cloned().unwrap_or_default();
        if !carried.is_empty() {
            let mut m = Map::new();
            for e in &carried {
                m.insert(key(e), message_ref(e));
                messages.insert(key(e), json!({"name": e, "title": e, "payload": {"type": "object"}}));
            }
            ch["messages"] = Value::Object(m);
        }
        channels.insert(key(&n.id), ch);
    }
    let mut operations = Map::new();
    for l in &topo.links {
        let role = model.link_between(&l.from, &l.to).map(|x| x.1);
        let (app, channel, action) = match role {
            Some(LinkRole::Publish) if channels.contains_key(&key(&l.to)) => (&l.from, &l.to, "send"),
            Some(LinkRole::Consume) if channels.contains_key(&key(&l.from)) => (&l.to, &l.from, "receive"),
            _ => continue,
        };
        let id = key(&format!("{app}_{action}_{channel}"));
        if operations.contains_key(&id) {
            continue;
        }
        let mut op = json!({"action": action, "channel": {"$ref": format!("#/channels/{}", key(channel))},
            "title": format!("{app} {action}s {}", if action == "send" { format!("to {channel}") } else { format!("from {channel}") }),
            "x-edasim-node": app});
        let carried = events.get(channel).cloned().unwrap_or_default();
        let sent: Vec<String> = match (action, &l.event) {
            ("send", Some(e)) => vec![e.clone()],
            _ => carried,
        };
        if !sent.is_empty() {
            op["messages"] = Value::Array(
                sent.iter()
                    .map(|e| json!({"$ref": format!("#/channels/{}/messages/{}", key(channel), key(e))}))
                    .collect(),
            );
        }
        operations.insert(id, op);
    }
    let mut doc = json!({
        "asyncapi": "3.0.0",
        "info": {"title": topo.name, "version": "1.0.0"},
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
        "x-edasim-topology": serde_json::to_value(topo).unwrap_or(Value::Null),
    });
    if let Some(d) = &topo.description {
        doc["info"]["description"] = json!(d);
    }
    doc
}

/// A component key: AsyncAPI keys match `^[a-zA-Z0-9\.\-_]+$`.
fn key(s: &str) -> String {
    let k: String = s.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect();
    if k.is_empty() { "_".to_string() } else { k }
}

/// The channel a `$ref` (`#/channels/NAME`) names.
fn channel_of(r: &Value) -> Option<String> {
    r.get("$ref")?.as_str()?.strip_prefix("#/channels/").map(|s| s.split('/').next().unwrap_or(s).to_string())
}

/// A topology from an AsyncAPI 3 document: exactly the exported one when it carries
/// `x-edasim-topology`, else derived from its channels and operations.
pub fn import(doc: &Value, name: &str) -> Result<Imported, Vec<Problem>> {
    let Some(version) = doc.get("asyncapi").and_then(Value::as_str) else {
        return Err(vec![Problem::error("asyncapi", "not an AsyncAPI document: expected \"asyncapi\": \"3.0.0\"")]);
    };
    if !version.starts_with("3.") {
        return Err(vec![Problem::error("asyncapi", format!("AsyncAPI {version}: edasim reads AsyncAPI 3"))]);
    }
    if let Some(t) = doc.get("x-edasim-topology").filter(|t| t.is_object()) {
        return Ok(Imported { topology: t.clone(), notes: vec![] });
    }
    let mut notes = Vec::new();
    let mut nodes: Vec<Value> = Vec::new();
    let mut links: Vec<Value> = Vec::new();
    let channels = doc.get("channels").and_then(Value::as_object).cloned().unwrap_or_default();
    let mut n = 0.0;
    for (k, ch) in &channels {
        let id = key(k);
        let b = ch.get("bindings");
        let amqp = b.and_then(|b| b.get("amqp"));
        let node = if let Some(kafka) = b.and_then(|b| b.get("kafka")) {
            let mut t = json!({"id": id, "kind": "topic", "partitions": kafka.get("partitions").and_then(Value::as_u64).unwrap_or(3)});
            if let Some(r) =
                kafka.pointer("/topicConfiguration/retention.ms").and_then(Value::as_f64).filter(|r| *r > 0.0)
            {
                t["retention_ms"] = json!(r);
            }
            t
        } else if amqp.and_then(|a| a.get("is")).and_then(Value::as_str) == Some("routingKey") {
            let kind = amqp.and_then(|a| a.pointer("/exchange/type")).and_then(Value::as_str).unwrap_or("topic");
            let kind = if ["direct", "fanout", "topic", "headers"].contains(&kind) {
                kind
            } else {
                notes.push(format!("channels.{k}: exchange type \"{kind}\" read as topic"));
                "topic"
            };
            json!({"id": id, "kind": "exchange", "type": kind})
        } else {
            json!({"id": id, "kind": "queue"})
        };
        let mut node = node;
        node["pos"] = json!([360.0, 80.0 + 110.0 * n]);
        n += 1.0;
        nodes.push(node);
    }
    // The applications: an operation's `x-edasim-node`, else the document's own.
    let app_default = key(doc.pointer("/info/title").and_then(Value::as_str).unwrap_or(name));
    let mut apps: BTreeMap<String, (bool, bool)> = BTreeMap::new();
    let ops = doc.get("operations").and_then(Value::as_object).cloned().unwrap_or_default();
    for (k, op) in &ops {
        let app = op.get("x-edasim-node").and_then(Value::as_str).map_or(app_default.clone(), key);
        let Some(ch) = op.get("channel").and_then(channel_of) else {
            notes.push(format!("operations.{k}: no channel $ref: left out"));
            continue;
        };
        if !channels.contains_key(&ch) {
            notes.push(format!("operations.{k}: no channel \"{ch}\": left out"));
            continue;
        }
        let entry = apps.entry(app.clone()).or_default();
        match op.get("action").and_then(Value::as_str) {
            Some("receive") => {
                entry.0 = true;
                links.push(json!({"from": key(&ch), "to": app}));
            }
            Some("send") => {
                entry.1 = true;
                let mut l = json!({"from": app, "to": key(&ch)});
                let sent: Vec<&str> = op
                    .get("messages")
                    .and_then(Value::as_array)
                    .map(|m| m.iter().filter_map(|r| r.get("$ref")?.as_str()?.rsplit('/').next()).collect())
                    .unwrap_or_default();
                if let [one] = sent[..] {
                    let name =
                        doc.pointer(&format!("/components/messages/{one}/name")).and_then(Value::as_str).unwrap_or(one);
                    l["event"] = json!(name);
                }
                links.push(l);
            }
            other => notes.push(format!("operations.{k}: action {other:?} is neither send nor receive: left out")),
        }
    }
    let mut m = 0.0;
    for (app, (receives, _)) in &apps {
        let x = if *receives { 640.0 } else { 60.0 };
        let node = if *receives {
            json!({"id": app, "kind": "service", "replicas": 1, "concurrency": 1, "processing": {"dist": "exponential", "mean_ms": 10}, "pos": [x, 80.0 + 110.0 * m]})
        } else {
            json!({"id": app, "kind": "producer", "rate_per_s": 1, "pos": [x, 80.0 + 110.0 * m]})
        };
        m += 1.0;
        nodes.push(node);
    }
    if nodes.iter().any(|n| n["kind"] == "exchange") {
        notes.push(
            "AsyncAPI does not say how exchanges route to queues: link them (bindings) on the canvas".to_string(),
        );
    }
    notes
        .push("timings are defaults (a service's processing, a producer's rate): set them to the system's".to_string());
    Ok(Imported {
        topology: json!({"version": 1, "name": doc.pointer("/info/title").and_then(Value::as_str).unwrap_or(name),
            "seed": 1, "nodes": nodes, "links": links}),
        notes,
    })
}

/// What kind of node a channel of an exported document stands for.
pub fn channel_kinds(doc: &Value) -> Vec<(String, Kind)> {
    doc.get("channels")
        .and_then(Value::as_object)
        .map(|c| {
            c.iter()
                .map(|(k, ch)| {
                    let b = ch.get("bindings");
                    let kind = if b.and_then(|b| b.get("kafka")).is_some() {
                        Kind::Topic
                    } else if b.and_then(|b| b.pointer("/amqp/is")).and_then(Value::as_str) == Some("routingKey") {
                        Kind::Exchange
                    } else {
                        Kind::Queue
                    };
                    (k.clone(), kind)
                })
                .collect()
        })
        .unwrap_or_default()
}
