//! RabbitMQ definitions: the JSON that `rabbitmqctl export_definitions` and the management UI's
//! "Export definitions" write, to and from the broker part of a topology.
//!
//! Import reads one virtual host's exchanges (with their types and alternate exchanges), queues
//! (with `x-dead-letter-exchange`, `x-dead-letter-routing-key`, `x-message-ttl`,
//! `x-max-length`, `x-overflow`, `x-delivery-limit`, `x-queue-type`), bindings (to queues and
//! to exchanges, with routing keys and header arguments) and the policies that set those
//! arguments (the highest priority policy whose pattern matches, as RabbitMQ applies them; a
//! queue's own argument wins over a policy's, except `max-length` and `message-ttl`, where the
//! lower wins). The default exchange is implied: a dead-letter exchange of `""` dead-letters
//! straight to the queue its routing key names. A definitions file has no producers or
//! services: the import says so, and lays the broker out ready for them.
//!
//! Export writes a topology's exchanges, queues, bindings, dead-letter links and alternate
//! exchanges back as definitions of the virtual host `/`; a node's id is its name. Exchanges
//! named `amq.*` are the broker's own (the seed's scenario draws the default exchange as
//! `amq.default`): they and their bindings are implied, not written.

use serde_json::{Map, Value, json};

use crate::problem::Problem;

/// What an import made: a topology file, and what the user should know about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Imported {
    pub topology: Value,
    /// Notes (what was not imported, what to add), each a sentence.
    pub notes: Vec<String>,
}

/// The queue arguments a policy's definition may set, by their policy name.
const POLICY_KEYS: [(&str, &str); 7] = [
    ("dead-letter-exchange", "x-dead-letter-exchange"),
    ("dead-letter-routing-key", "x-dead-letter-routing-key"),
    ("message-ttl", "x-message-ttl"),
    ("max-length", "x-max-length"),
    ("overflow", "x-overflow"),
    ("delivery-limit", "x-delivery-limit"),
    ("alternate-exchange", "alternate-exchange"),
];

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A node id from a RabbitMQ name: ids allow `A-Z a-z 0-9 _ . -`, 1 to 64 of them; anything else
/// becomes `_`, and a name taken already gets a suffix.
fn node_id(name: &str, taken: &mut Vec<String>) -> String {
    let mut id: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || "_.-".contains(c) { c } else { '_' }).take(60).collect();
    if id.is_empty() {
        id = "amq_default".to_string();
    }
    let base = id.clone();
    let mut n = 2;
    while taken.contains(&id) {
        id = format!("{base}_{n}");
        n += 1;
    }
    taken.push(id.clone());
    id
}

/// The policy that applies to `name` of `kind` (`"queues"` or `"exchanges"`): the highest
/// priority one whose pattern matches (a pattern that is no valid regular expression matches
/// nothing, and is reported).
fn policy_for<'a>(policies: &'a [(Value, Option<regex::Regex>)], name: &str, kind: &str) -> Option<&'a Value> {
    policies
        .iter()
        .filter(|(p, re)| {
            let applies = str_of(p, "apply-to");
            (applies.is_empty() || applies == "all" || applies == kind)
                && re.as_ref().is_some_and(|re| re.is_match(name))
        })
        .max_by_key(|(p, _)| p.get("priority").and_then(Value::as_i64).unwrap_or(0))
        .map(|(p, _)| p)
}

/// A queue's or exchange's effective arguments: its own, and its policy's.
fn effective(own: &Value, policy: Option<&Value>) -> Map<String, Value> {
    let mut args = own.get("arguments").and_then(Value::as_object).cloned().unwrap_or_default();
    let Some(def) = policy.and_then(|p| p.get("definition")) else { return args };
    for (pkey, arg) in POLICY_KEYS {
        let Some(pv) = def.get(pkey) else { continue };
        match (args.get(arg), arg) {
            (Some(a), "x-max-length" | "x-message-ttl") => {
                // The lower of the two applies.
                if let (Some(a), Some(b)) = (a.as_f64(), pv.as_f64())
                    && b < a
                {
                    args.insert(arg.to_string(), pv.clone());
                }
            }
            (Some(_), _) => {}
            (None, _) => {
                args.insert(arg.to_string(), pv.clone());
            }
        }
    }
    args
}

/// Imports the virtual host `vhost` of a definitions file as a topology named `name`.
pub fn import(defs: &Value, name: &str, vhost: &str) -> Result<Imported, Vec<Problem>> {
    let mut problems = Vec::new();
    if !defs.is_object() || (defs.get("queues").is_none() && defs.get("exchanges").is_none()) {
        return Err(vec![Problem::error(
            "",
            "not RabbitMQ definitions: expected an object with \"exchanges\", \"queues\" and \"bindings\" (rabbitmqctl export_definitions)",
        )]);
    }
    let list = |key: &str| -> Vec<(usize, Value)> {
        defs.get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .enumerate()
                    .filter(|(_, v)| v.get("vhost").and_then(Value::as_str).unwrap_or("/") == vhost)
                    .map(|(i, v)| (i, v.clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut notes = Vec::new();
    let vhosts: Vec<&str> = defs
        .get("vhosts")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| v.get("name").and_then(Value::as_str)).collect())
        .unwrap_or_default();
    if vhosts.iter().any(|v| *v != vhost) {
        notes.push(format!(
            "only the virtual host \"{vhost}\" was imported; the file also has {}",
            vhosts.iter().filter(|v| **v != vhost).map(|v| format!("\"{v}\"")).collect::<Vec<_>>().join(", ")
        ));
    }
    let policies: Vec<(Value, Option<regex::Regex>)> = list("policies")
        .into_iter()
        .map(|(i, p)| {
            let re = regex::Regex::new(str_of(&p, "pattern")).ok();
            if re.is_none() {
                problems.push(Problem::warning(
                    format!("policies[{i}].pattern"),
                    format!(
                        "\"{}\" is no regular expression edasim reads: the policy applies to nothing",
                        str_of(&p, "pattern")
                    ),
                ));
            }
            (p, re)
        })
        .collect();

    let mut taken = Vec::new();
    let mut nodes = Vec::new();
    let mut links = Vec::new();
    // RabbitMQ name → node id, per kind.
    let mut exchange_ids: Vec<(String, String)> = Vec::new();
    let mut queue_ids: Vec<(String, String)> = Vec::new();
    let exchanges = list("exchanges");
    for (n, (i, x)) in exchanges.iter().enumerate() {
        let xname = str_of(x, "name");
        if xname.is_empty() || xname.starts_with("amq.") {
            continue; // the default and the predeclared exchanges: implied
        }
        let kind = str_of(x, "type");
        if !["direct", "fanout", "topic", "headers"].contains(&kind) {
            problems.push(Problem::error(
                format!("exchanges[{i}].type"),
                format!("exchange \"{xname}\" is of type \"{kind}\" (a plugin's); edasim has direct, fanout, topic and headers"),
            ));
            continue;
        }
        let id = node_id(xname, &mut taken);
        let mut node = json!({"id": id, "kind": "exchange", "type": kind, "pos": [340.0, 80.0 + 110.0 * n as f64]});
        if id != xname {
            node["label"] = json!(xname);
        }
        nodes.push(node);
        exchange_ids.push((xname.to_string(), id));
    }
    // Each queue with its effective arguments (its own and its policy's), worked out once.
    let queues: Vec<(usize, Value, Map<String, Value>)> = list("queues")
        .into_iter()
        .map(|(i, q)| {
            let args = effective(&q, policy_for(&policies, str_of(&q, "name"), "queues"));
            (i, q, args)
        })
        .collect();
    for (n, (i, q, args)) in queues.iter().enumerate() {
        let qname = str_of(q, "name");
        let id = node_id(qname, &mut taken);
        let mut node = json!({"id": id, "kind": "queue", "pos": [640.0, 80.0 + 110.0 * n as f64]});
        if id != qname {
            node["label"] = json!(qname);
        }
        if let Some(max) = args.get("x-max-length").and_then(Value::as_u64) {
            node["max_length"] = json!(max);
        }
        if let Some(ttl) = args.get("x-message-ttl").and_then(Value::as_f64) {
            node["message_ttl_ms"] = json!(ttl);
        }
        match args.get("x-overflow").and_then(Value::as_str) {
            Some(o @ ("drop-head" | "reject-publish" | "reject-publish-dlx")) => node["overflow"] = json!(o),
            Some(o) => problems.push(Problem::warning(
                format!("queues[{i}].arguments.x-overflow"),
                format!("unknown overflow \"{o}\": drop-head kept"),
            )),
            None => {}
        }
        let qtype = args.get("x-queue-type").and_then(Value::as_str).unwrap_or("classic");
        match args.get("x-delivery-limit").and_then(Value::as_u64) {
            Some(limit) if qtype == "quorum" => node["delivery_limit"] = json!(limit),
            Some(_) => problems.push(Problem::warning(
                format!("queues[{i}].arguments.x-delivery-limit"),
                format!("queue \"{qname}\" is a {qtype} queue: only quorum queues have a delivery limit"),
            )),
            None => {}
        }
        if qtype == "stream" {
            notes.push(format!(
                "\"{qname}\" is a stream: imported as a queue (a topic node models partitioned streams)"
            ));
        }
        nodes.push(node);
        queue_ids.push((qname.to_string(), id));
    }
    let exchange_id = |name: &str| exchange_ids.iter().find(|(n, _)| n == name).map(|(_, id)| id.clone());
    let queue_id = |name: &str| queue_ids.iter().find(|(n, _)| n == name).map(|(_, id)| id.clone());

    // Dead-letter links, from the queues' effective arguments.
    for (i, q, args) in &queues {
        let qname = str_of(q, "name");
        let Some(dlx) = args.get("x-dead-letter-exchange").and_then(Value::as_str) else { continue };
        let rk = args.get("x-dead-letter-routing-key").and_then(Value::as_str);
        let from = queue_id(qname).unwrap_or_default();
        let target = if dlx.is_empty() {
            // The default exchange: straight to the queue the routing key names.
            rk.and_then(queue_id)
        } else {
            exchange_id(dlx)
        };
        match target {
            Some(to) => {
                let mut link = json!({"from": from, "to": to, "dead_letter": true});
                if let (Some(rk), false) = (rk, dlx.is_empty()) {
                    link["routing_key"] = json!(rk);
                }
                links.push(link);
            }
            None => problems.push(Problem::warning(
                format!("queues[{i}].arguments.x-dead-letter-exchange"),
                format!("queue \"{qname}\" dead-letters to \"{dlx}\", which the file does not declare: its dead letters are dropped"),
            )),
        }
    }
    // Bindings.
    for (i, b) in list("bindings") {
        let (source, dest) = (str_of(&b, "source"), str_of(&b, "destination"));
        let Some(from) = exchange_id(source) else {
            if !source.is_empty() {
                problems.push(Problem::warning(
                    format!("bindings[{i}].source"),
                    format!("no exchange \"{source}\": binding left out"),
                ));
            }
            continue; // a binding of the default exchange is implied
        };
        let to = match str_of(&b, "destination_type") {
            "exchange" => exchange_id(dest),
            _ => queue_id(dest),
        };
        let Some(to) = to else {
            problems.push(Problem::warning(
                format!("bindings[{i}].destination"),
                format!("no destination \"{dest}\": binding left out"),
            ));
            continue;
        };
        let mut link = json!({"from": from, "to": to});
        let rk = str_of(&b, "routing_key");
        if !rk.is_empty() {
            link["binding_key"] = json!(rk);
        }
        if let Some(args) = b.get("arguments").and_then(Value::as_object).filter(|a| !a.is_empty()) {
            let mut headers = args.clone();
            if let Some(m) = headers.remove("x-match") {
                link["match"] = m;
            }
            if !headers.is_empty() {
                link["headers"] = Value::Object(headers);
            }
        }
        links.push(link);
    }
    // Alternate exchanges.
    for (i, x) in &exchanges {
        let xname = str_of(x, "name");
        let Some(from) = exchange_id(xname) else { continue };
        let args = effective(x, policy_for(&policies, xname, "exchanges"));
        let Some(ae) = args.get("alternate-exchange").and_then(Value::as_str) else { continue };
        match exchange_id(ae) {
            Some(to) => links.push(json!({"from": from, "to": to, "alternate": true})),
            None => problems.push(Problem::warning(
                format!("exchanges[{i}].arguments.alternate-exchange"),
                format!("no exchange \"{ae}\" to be the alternate of \"{xname}\""),
            )),
        }
    }
    if problems.iter().any(|p| p.severity == crate::Severity::Error) {
        return Err(problems);
    }
    notes.push(
        "a definitions file holds the broker only: add the producers that publish and the services that consume"
            .to_string(),
    );
    notes.extend(problems.into_iter().map(|p| format!("{}: {}", p.path, p.message)));
    let topology = json!({
        "version": 1,
        "name": name,
        "description": format!("Imported from RabbitMQ definitions (virtual host \"{vhost}\"): the broker, ready for producers and services."),
        "seed": 1,
        "nodes": nodes,
        "links": links,
    });
    Ok(Imported { topology, notes })
}

/// Whether a JSON document looks like RabbitMQ definitions (rather than a topology).
pub fn is_definitions(v: &Value) -> bool {
    v.get("version").is_none()
        && (v.get("queues").is_some_and(Value::is_array) || v.get("exchanges").is_some_and(Value::is_array))
}

/// The broker part of `topo` as definitions of the virtual host `/`.
pub fn export(topo: &crate::topology::Topology) -> Value {
    use crate::topology::{NodeKind, Overflow};
    // A node's id is its name at the broker, as a RabbitMQ name is its identity.
    let name_of = |id: &str| id.to_string();
    let kind_of = |id: &str| topo.nodes.iter().find(|n| n.id == id).map(|n| n.kind.kind());
    let mut exchanges = Vec::new();
    let mut queues = Vec::new();
    let mut bindings = Vec::new();
    for n in topo.nodes.iter().filter(|n| !n.id.starts_with("amq.")) {
        let name = n.id.clone();
        match &n.kind {
            NodeKind::Exchange(x) => {
                let mut arguments = Map::new();
                if let Some(ae) = topo.links.iter().find(|l| l.from == n.id && l.alternate) {
                    arguments.insert("alternate-exchange".into(), json!(name_of(&ae.to)));
                }
                let kind = serde_json::to_value(x.kind).unwrap_or(json!("direct"));
                exchanges.push(json!({"name": name, "vhost": "/", "type": kind, "durable": true,
                    "auto_delete": false, "internal": false, "arguments": arguments}));
            }
            NodeKind::Queue(q) => {
                let mut arguments = Map::new();
                if let Some(max) = q.max_length {
                    arguments.insert("x-max-length".into(), json!(max));
                }
                if q.overflow != Overflow::DropHead {
                    arguments.insert("x-overflow".into(), serde_json::to_value(q.overflow).unwrap_or(Value::Null));
                }
                if let Some(ttl) = q.message_ttl_ms {
                    arguments.insert("x-message-ttl".into(), json!(ttl.round() as u64));
                }
                if let Some(limit) = q.delivery_limit {
                    arguments.insert("x-delivery-limit".into(), json!(limit));
                    arguments.insert("x-queue-type".into(), json!("quorum"));
                }
                if let Some(dl) = topo.links.iter().find(|l| l.from == n.id && l.dead_letter) {
                    match kind_of(&dl.to) {
                        Some(crate::topology::Kind::Queue) => {
                            // Through the default exchange, by the target queue's name.
                            arguments.insert("x-dead-letter-exchange".into(), json!(""));
                            arguments.insert("x-dead-letter-routing-key".into(), json!(name_of(&dl.to)));
                        }
                        _ => {
                            arguments.insert("x-dead-letter-exchange".into(), json!(name_of(&dl.to)));
                            if let Some(rk) = &dl.routing_key {
                                arguments.insert("x-dead-letter-routing-key".into(), json!(rk));
                            }
                        }
                    }
                }
                queues.push(
                    json!({"name": name, "vhost": "/", "durable": true, "auto_delete": false, "arguments": arguments}),
                );
            }
            _ => {}
        }
    }
    for l in &topo.links {
        if l.dead_letter
            || l.alternate
            || l.from.starts_with("amq.")
            || kind_of(&l.from) != Some(crate::topology::Kind::Exchange)
        {
            continue;
        }
        let destination_type = match kind_of(&l.to) {
            Some(crate::topology::Kind::Queue) => "queue",
            Some(crate::topology::Kind::Exchange) => "exchange",
            _ => continue,
        };
        let mut arguments = l.headers.clone().map(|h| h.into_iter().collect::<Map<_, _>>()).unwrap_or_default();
        if let Some(m) = l.match_ {
            arguments.insert("x-match".into(), serde_json::to_value(m).unwrap_or(Value::Null));
        }
        bindings.push(json!({"source": name_of(&l.from), "vhost": "/", "destination": name_of(&l.to),
            "destination_type": destination_type, "routing_key": l.binding_key.clone().unwrap_or_default(),
            "arguments": arguments}));
    }
    json!({
        "rabbit_version": "3.13.0",
        "rabbitmq_version": "3.13.0",
        "product_name": "RabbitMQ",
        "product_version": "3.13.0",
        "users": [],
        "vhosts": [{"name": "/"}],
        "permissions": [],
        "topic_permissions": [],
        "parameters": [],
        "global_parameters": [],
        "policies": [],
        "queues": queues,
        "exchanges": exchanges,
        "bindings": bindings,
    })
}
