//! Checks that involve more than one field: unique ids, what each link means for the kinds at
//! its ends, the fields each kind of link takes, and warnings about the graph as a whole
//! (queues nobody consumes, dead-letter cycles).

use std::collections::{HashMap, HashSet, VecDeque};

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use super::kind::Kind;
use super::model::{EdgeInfo, LinkRole};
use super::types::*;
use crate::amqp::topic_matches;
use crate::problem::Problem;

pub(super) fn check(topo: &Topology) -> (DiGraph<usize, EdgeInfo>, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut graph = DiGraph::with_capacity(topo.nodes.len(), topo.links.len());
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for (i, node) in topo.nodes.iter().enumerate() {
        graph.add_node(i);
        if let Some(first) = ids.insert(&node.id, i) {
            ids.insert(&topo.nodes[first].id, first);
            problems.push(Problem::error(
                format!("nodes[{i}].id"),
                format!("duplicate id \"{}\" (first used by nodes[{first}])", node.id),
            ));
        }
    }

    for (i, link) in topo.links.iter().enumerate() {
        let path = format!("links[{i}]");
        let (Some(&from), Some(&to)) = (ids.get(link.from.as_str()), ids.get(link.to.as_str())) else {
            for (end, id) in [("from", &link.from), ("to", &link.to)] {
                if !id.is_empty() && !ids.contains_key(id.as_str()) {
                    problems.push(Problem::error(format!("{path}.{end}"), format!("no node has the id \"{id}\"")));
                }
            }
            continue;
        };
        match role_of(&topo.nodes[from].kind, &topo.nodes[to].kind, link) {
            Ok(role) => {
                check_fields(link, role, &topo.nodes[from].kind, &path, &mut problems);
                graph.add_edge(NodeIndex::new(from), NodeIndex::new(to), EdgeInfo { link: i, role });
            }
            Err(why) => problems.push(Problem::error(path, why)),
        }
    }

    for (i, fault) in topo.faults.iter().enumerate() {
        let Some(&n) = ids.get(fault.node.as_str()) else {
            problems
                .push(Problem::error(format!("faults[{i}].node"), format!("no node has the id \"{}\"", fault.node)));
            continue;
        };
        if let Some(to) = &fault.to {
            let Some(&t) = ids.get(to.as_str()) else {
                problems.push(Problem::error(format!("faults[{i}].to"), format!("no node has the id \"{to}\"")));
                continue;
            };
            let found = graph.edges_connecting(NodeIndex::new(n), NodeIndex::new(t)).next().map(|e| e.weight().role);
            let Some(role) = found else {
                problems.push(Problem::error(
                    format!("faults[{i}].to"),
                    format!("no link from \"{}\" to \"{to}\"", fault.node),
                ));
                continue;
            };
            let fits = fault.kind.strikes_links();
            if !fits.contains(&role) {
                let what = if fits.is_empty() {
                    "no link".to_string()
                } else {
                    fits.iter().map(|r| r.describe()).collect::<Vec<_>>().join(", ")
                };
                problems.push(Problem::error(
                    format!("faults[{i}].kind"),
                    format!("a {} fault strikes {what}, not {}", fault.kind.name(), role.describe()),
                ));
            }
            continue;
        }
        let kind = topo.nodes[n].kind.kind();
        let fits = fault.kind.applies_to();
        if fits.is_empty() {
            problems.push(Problem::error(
                format!("faults[{i}].to"),
                format!("a {} fault strikes a link: name it with node and to", fault.kind.name()),
            ));
            continue;
        }
        if !fits.contains(&kind) {
            let names: Vec<&str> = fits.iter().map(|k| k.name()).collect();
            problems.push(Problem::error(
                format!("faults[{i}].kind"),
                format!(
                    "a {} fault strikes a {}, not a {kind} (\"{}\")",
                    fault.kind.name(),
                    names.join(" or a "),
                    fault.node
                ),
            ));
        }
    }

    check_nodes(topo, &graph, &mut problems);
    check_dead_letter_cycles(topo, &graph, &mut problems);
    (graph, problems)
}

/// What a link between these kinds means, or why it means nothing.
fn role_of(from: &NodeKind, to: &NodeKind, link: &Link) -> Result<LinkRole, String> {
    let shape = LinkShape {
        dead_letter: link.dead_letter,
        alternate: link.alternate,
        dedup: link.purpose == Some(Purpose::Dedup),
    };
    link_role(from.kind(), to.kind(), shape)
}

/// The flags of a link that change what it means, beside the kinds at its ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkShape {
    pub dead_letter: bool,
    pub alternate: bool,
    /// `purpose: "dedup"` on a service → store link.
    pub dedup: bool,
}

/// What a link from a node of kind `from` to one of kind `to` means, or a sentence saying why
/// it means nothing and what the source can link to. The editor asks this while a link is
/// being drawn, the checker for every link of a file.
pub fn link_role(from: Kind, to: Kind, shape: LinkShape) -> Result<LinkRole, String> {
    use Kind::*;
    if shape.dead_letter {
        return if from == Queue && to.is_messaging() {
            Ok(LinkRole::DeadLetter)
        } else {
            Err(format!("a dead-letter link goes from a queue to an exchange or a queue, not from a {from} to a {to}"))
        };
    }
    if shape.alternate {
        return if from == Exchange && to == Exchange {
            Ok(LinkRole::Alternate)
        } else {
            Err(format!("an alternate-exchange link goes from an exchange to an exchange, not from a {from} to a {to}"))
        };
    }
    Ok(match (from, to) {
        (Producer | Service, Exchange | Queue | Topic) => LinkRole::Publish,
        (Exchange, Queue) => LinkRole::Bind,
        (Exchange, Exchange) => LinkRole::ExchangeBind,
        (Queue | Gateway | Topic, Service) => LinkRole::Consume,
        (Producer, Gateway) => LinkRole::Request,
        (Service, Store) if shape.dedup => LinkRole::Dedup,
        (Service, Store) => LinkRole::Call,
        (Queue, Exchange | Queue) => {
            return Err(format!(
                "a queue passes messages to a {to} only as dead letters; add \"dead_letter\": true, or link the queue to a service that consumes it"
            ));
        }
        _ => {
            let can = match from {
                Producer => "an exchange, a queue or a topic (publish), or a gateway (requests)",
                Gateway => "a service (the requests it routes there)",
                Exchange => "a queue (binding) or an exchange (exchange-to-exchange binding)",
                Queue => "a service (consume), or an exchange or queue with \"dead_letter\": true",
                Service => "an exchange, a queue or a topic (publish) or a store (call)",
                Topic => "a service (a consumer group)",
                Store => "nothing: stores are called by services (link the service to the store)",
            };
            return Err(format!(
                "a link from {} to {} means nothing; {} links to {can}",
                from.article(),
                to.article(),
                from.article()
            ));
        }
    })
}

/// Every optional field a link has, by name.
fn present_fields(link: &Link) -> Vec<&'static str> {
    let mut v = Vec::new();
    let mut add = |name, present: bool| {
        if present {
            v.push(name);
        }
    };
    add("routing_key", link.routing_key.is_some());
    add("event", link.event.is_some());
    add("when", link.when.is_some());
    add("probability", link.probability.is_some());
    add("binding_key", link.binding_key.is_some());
    add("purpose", link.purpose.is_some());
    add("headers", link.headers.is_some());
    add("match", link.match_.is_some());
    add("message_id", link.message_id.is_some());
    add("timeout_ms", link.timeout_ms.is_some());
    add("breaker", link.breaker.is_some());
    add("unreliable", link.unreliable);
    v
}

/// A field that a link of its role does not read would be silently ignored: refuse it.
fn check_fields(link: &Link, role: LinkRole, from: &NodeKind, path: &str, problems: &mut Vec<Problem>) {
    let allowed: &[&str] = match (role, from) {
        (LinkRole::Publish, NodeKind::Producer(_)) => &["routing_key", "event", "probability", "headers", "unreliable"],
        (LinkRole::Publish, _) => {
            &["routing_key", "event", "when", "probability", "headers", "message_id", "unreliable"]
        }
        (LinkRole::Bind | LinkRole::ExchangeBind, _) => &["binding_key", "headers", "match"],
        (LinkRole::Alternate | LinkRole::Consume, _) => &[],
        (LinkRole::Request, _) => &["event", "probability", "unreliable"],
        (LinkRole::DeadLetter, _) => &["routing_key"],
        (LinkRole::Call | LinkRole::Dedup, _) => &["purpose", "timeout_ms", "breaker"],
    };
    for field in present_fields(link) {
        if !allowed.contains(&field) {
            let takes = if allowed.is_empty() {
                "only latency".to_string()
            } else {
                format!("{}, latency", allowed.join(", "))
            };
            problems.push(Problem::error(
                format!("{path}.{field}"),
                format!("{} takes no {field}; it takes {takes}", role.describe()),
            ));
        }
    }
}

fn check_nodes(topo: &Topology, graph: &DiGraph<usize, EdgeInfo>, problems: &mut Vec<Problem>) {
    for (i, node) in topo.nodes.iter().enumerate() {
        let n = NodeIndex::new(i);
        let out = |role: LinkRole| graph.edges(n).filter(|e| e.weight().role == role).count();
        let inc = |role: LinkRole| {
            graph.edges_directed(n, petgraph::Direction::Incoming).filter(|e| e.weight().role == role).count()
        };
        let path = format!("nodes[{i}]");
        let id = &node.id;
        let too_many = |role: LinkRole, what: &str, problems: &mut Vec<Problem>| {
            let extra: Vec<usize> =
                graph.edges(n).filter(|e| e.weight().role == role).map(|e| e.weight().link).skip(1).collect();
            for link in extra {
                problems.push(Problem::error(
                    format!("links[{link}]"),
                    format!("\"{id}\" already has {what}; a {} has at most one", node.kind.name()),
                ));
            }
        };
        match &node.kind {
            NodeKind::Producer(p) => {
                if (p.is_client() || p.idempotency_key) && (out(LinkRole::Request) == 0 || out(LinkRole::Publish) > 0) {
                    let field = if p.users.is_some() {
                        "users"
                    } else if p.timeout_ms.is_some() {
                        "timeout_ms"
                    } else if p.retries.is_some() {
                        "retries"
                    } else {
                        "idempotency_key"
                    };
                    problems.push(Problem::error(
                        format!("{path}.{field}"),
                        format!("producer \"{id}\" waits for answers only from gateways: link it to gateways only (a broker does not answer a publish)"),
                    ));
                }
                if out(LinkRole::Publish) + out(LinkRole::Request) == 0 {
                    problems.push(Problem::warning(
                        path,
                        format!("producer \"{id}\" publishes nowhere: link it to an exchange or a queue"),
                    ));
                } else if p.rate_per_s == 0.0 && p.schedule.iter().all(|s| s.rate_per_s == 0.0) {
                    problems.push(Problem::warning(
                        format!("{path}.rate_per_s"),
                        format!("producer \"{id}\" has rate 0 and emits nothing"),
                    ));
                }
            }
            NodeKind::Exchange(_) => {
                too_many(LinkRole::Alternate, "an alternate exchange", problems);
                if out(LinkRole::Bind) + out(LinkRole::ExchangeBind) + out(LinkRole::Alternate) == 0 {
                    problems.push(Problem::warning(
                        path,
                        format!("exchange \"{id}\" has no bindings: everything published to it is unroutable"),
                    ));
                }
            }
            NodeKind::Queue(q) => {
                too_many(LinkRole::DeadLetter, "a dead-letter link", problems);
                if inc(LinkRole::Consume) + out(LinkRole::Consume) == 0 {
                    problems.push(Problem::warning(
                        path.clone(),
                        format!("queue \"{id}\" has no consumer: its messages pile up"),
                    ));
                }
                if q.overflow == Overflow::RejectPublishDlx && out(LinkRole::DeadLetter) == 0 {
                    problems.push(Problem::warning(format!("{path}.overflow"), format!("queue \"{id}\" overflows with reject-publish-dlx but has no dead-letter link: rejected messages are dropped")));
                }
            }
            NodeKind::Service(svc) => {
                too_many(LinkRole::Dedup, "a dedup store", problems);
                let publishes_when = |when: When| {
                    graph
                        .edges(n)
                        .any(|e| e.weight().role == LinkRole::Publish && topo.links[e.weight().link].when == Some(when))
                };
                if publishes_when(When::Retry) && !matches!(svc.on_failure, OnFailure::Retry(_)) {
                    problems.push(Problem::warning(
                        format!("{path}.on_failure"),
                        format!("service \"{id}\" has a retry link but does not retry: its on_failure is not {{\"retry\": ...}}"),
                    ));
                }
                if publishes_when(When::Parked) && svc.redrive.is_none() {
                    problems.push(Problem::warning(
                        format!("{path}.redrive"),
                        format!("service \"{id}\" has a parked link but no redrive bound: nothing is ever parked"),
                    ));
                }
                if svc.outbox.is_some() && out(LinkRole::Call) == 0 {
                    problems.push(Problem::error(
                        format!("{path}.outbox"),
                        format!(
                            "service \"{id}\" has an outbox but no store to keep it in: give it a call link to a store"
                        ),
                    ));
                }
                if let Some(saga) = &svc.saga {
                    check_saga(topo, graph, n, svc, saga, &path, problems);
                }
                if inc(LinkRole::Consume) == 0 {
                    problems.push(Problem::warning(path, format!("service \"{id}\" consumes no queue and never runs")));
                }
            }
            NodeKind::Gateway(_) => {
                if out(LinkRole::Consume) == 0 {
                    problems.push(Problem::warning(
                        path.clone(),
                        format!("gateway \"{id}\" routes to no service: its requests pile up"),
                    ));
                }
                if inc(LinkRole::Request) == 0 {
                    problems.push(Problem::warning(path, format!("gateway \"{id}\" has no client")));
                }
            }
            NodeKind::Topic(_) => {
                if out(LinkRole::Consume) == 0 {
                    problems.push(Problem::warning(
                        path.clone(),
                        format!("topic \"{id}\" has no consumer group: its events are kept and read by no one"),
                    ));
                }
                if inc(LinkRole::Publish) == 0 {
                    problems.push(Problem::warning(path, format!("topic \"{id}\" has nothing publishing to it")));
                }
            }
            NodeKind::Store(_) => {
                if inc(LinkRole::Call) + inc(LinkRole::Dedup) == 0 {
                    problems.push(Problem::warning(path, format!("store \"{id}\" is called by no service")));
                }
            }
        }
    }
}

/// An orchestrator sends each command and compensation over publish links that carry it (their
/// `event`), and keeps its sagas in memory unless it has a saga log (a call link to a store): a
/// replica set without a log would each hold different sagas, so it runs one replica.
fn check_saga(
    topo: &Topology,
    graph: &DiGraph<usize, EdgeInfo>,
    n: NodeIndex,
    svc: &crate::topology::Service,
    saga: &crate::topology::Saga,
    path: &str,
    problems: &mut Vec<Problem>,
) {
    let id = &topo.nodes[n.index()].id;
    let carries = |event: &str| {
        graph.edges(n).any(|e| {
            e.weight().role == LinkRole::Publish && topo.links[e.weight().link].event.as_deref() == Some(event)
        })
    };
    let reaches = |channel: &str| {
        graph.edges(n).any(|e| e.weight().role == LinkRole::Publish && topo.nodes[e.target().index()].id == channel)
    };
    for (i, step) in saga.steps.iter().enumerate() {
        if let Some(channel) = &step.channel {
            if !reaches(channel) {
                problems.push(Problem::error(
                    format!("{path}.saga.steps.{i}.channel"),
                    format!("orchestrator \"{id}\" has no publish link to \"{channel}\": link it there"),
                ));
            }
            continue;
        }
        for (field, event) in [("command", Some(&step.command)), ("compensation", step.compensation.as_ref())] {
            if let Some(event) = event
                && !carries(event)
            {
                problems.push(Problem::error(
                    format!("{path}.saga.steps.{i}.{field}"),
                    format!("orchestrator \"{id}\" has no publish link that sends \"{event}\": give the step a channel, or add a link with \"event\": \"{event}\""),
                ));
            }
        }
    }
    let logged = graph.edges(n).any(|e| e.weight().role == LinkRole::Call);
    if !logged && svc.replicas > 1 {
        problems.push(Problem::error(
            format!("{path}.replicas"),
            format!("orchestrator \"{id}\" keeps its sagas in memory: it runs one replica, or give it a saga log (a call link to a store)"),
        ));
    }
}

/// A dead-letter link whose target leads back to its queue lets a message that keeps failing
/// loop for ever (the seed system's failed-order handler does exactly that). Paths follow
/// routing keys, so a direct exchange that would not route a key back is not a cycle; a path
/// through a handler with a redrive bound is bounded, and not warned about.
fn check_dead_letter_cycles(topo: &Topology, graph: &DiGraph<usize, EdgeInfo>, problems: &mut Vec<Problem>) {
    for edge in graph.edge_references().filter(|e| e.weight().role == LinkRole::DeadLetter) {
        let (queue, target) = (edge.source(), edge.target());
        let key = topo.links[edge.weight().link].routing_key.clone();
        if let Some(path) = message_path(topo, graph, (target, key), queue) {
            let bounded =
                path.iter().any(|n| matches!(&topo.nodes[n.index()].kind, NodeKind::Service(s) if s.redrive.is_some()));
            if bounded {
                continue;
            }
            let names: Vec<&str> =
                std::iter::once(queue).chain(path).map(|n| topo.nodes[n.index()].id.as_str()).collect();
            problems.push(Problem::warning(
                format!("links[{}]", edge.weight().link),
                format!(
                    "dead-letter cycle: {}; a message that keeps failing can loop here for ever",
                    names.join(" → ")
                ),
            ));
        }
    }
}

/// Where a message is in the search: a node, and its routing key (`None`: not known, so any).
type State = (NodeIndex, Option<String>);

/// The nodes on a shortest path a message could take from `start` to `goal`, both included.
fn message_path(
    topo: &Topology,
    graph: &DiGraph<usize, EdgeInfo>,
    start: State,
    goal: NodeIndex,
) -> Option<Vec<NodeIndex>> {
    let mut prev: HashMap<State, State> = HashMap::new();
    let mut seen: HashSet<State> = HashSet::from([start.clone()]);
    let mut queue = VecDeque::from([start]);
    while let Some(state) = queue.pop_front() {
        let (n, key) = &state;
        if *n == goal {
            let mut path = vec![*n];
            let mut cur = &state;
            while let Some(p) = prev.get(cur) {
                path.push(p.0);
                cur = p;
            }
            path.reverse();
            return Some(path);
        }
        for e in graph.edges(*n).filter(|e| e.weight().role.carries_messages()) {
            let link = &topo.links[e.weight().link];
            let next_key = match e.weight().role {
                // Through the default exchange, a message to a queue carries the queue's name.
                LinkRole::Publish | LinkRole::DeadLetter
                    if matches!(topo.nodes[e.target().index()].kind, NodeKind::Queue(_)) =>
                {
                    Some(topo.nodes[e.target().index()].id.clone())
                }
                LinkRole::Publish => Some(link.routing_key.clone().unwrap_or_default()),
                LinkRole::DeadLetter => link.routing_key.clone().or_else(|| key.clone()),
                LinkRole::Bind | LinkRole::ExchangeBind => {
                    let NodeKind::Exchange(x) = &topo.nodes[n.index()].kind else { continue };
                    let binding = link.binding_key.as_deref().unwrap_or("");
                    let routes = match (x.kind, key) {
                        (_, None) | (ExchangeType::Fanout | ExchangeType::Headers, _) => true,
                        (ExchangeType::Direct, Some(k)) => binding == k,
                        (ExchangeType::Topic, Some(k)) => topic_matches(binding, k),
                    };
                    if !routes {
                        continue;
                    }
                    key.clone()
                }
                _ => key.clone(),
            };
            let next = (e.target(), next_key);
            if seen.insert(next.clone()) {
                prev.insert(next.clone(), state.clone());
                queue.push_back(next);
            }
        }
    }
    None
}
