//! The validated model: a topology whose links all mean something, held in a petgraph graph
//! (node `i` of the graph is `topology.nodes[i]`, each edge is one link with its role).

use std::collections::HashMap;

use petgraph::graph::{DiGraph, NodeIndex};
use serde_json::Value;

use super::check::check;
use super::decode::{decode, too_large};
use super::types::Topology;
use crate::problem::{Invalid, Problem};

/// What a link does, which follows from the kinds at its ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkRole {
    /// producer/service → exchange/queue.
    Publish,
    /// exchange → queue.
    Bind,
    /// exchange → exchange (an exchange-to-exchange binding).
    ExchangeBind,
    /// exchange → exchange with `alternate: true`: where what the source cannot route goes.
    Alternate,
    /// queue → service, or gateway → service (requests routed to it).
    Consume,
    /// producer → gateway: a client's requests.
    Request,
    /// queue → exchange/queue with `dead_letter: true`.
    DeadLetter,
    /// service → store, `purpose: "call"`.
    Call,
    /// service → store, `purpose: "dedup"`.
    Dedup,
}

impl LinkRole {
    pub fn describe(self) -> &'static str {
        match self {
            LinkRole::Publish => "a publish link",
            LinkRole::Bind => "a binding",
            LinkRole::ExchangeBind => "an exchange-to-exchange binding",
            LinkRole::Alternate => "an alternate-exchange link",
            LinkRole::Consume => "a consume link",
            LinkRole::Request => "a request link",
            LinkRole::DeadLetter => "a dead-letter link",
            LinkRole::Call => "a store call",
            LinkRole::Dedup => "a dedup store link",
        }
    }

    /// Whether messages travel along it (as opposed to a store call).
    pub fn carries_messages(self) -> bool {
        !matches!(self, LinkRole::Call | LinkRole::Dedup)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EdgeInfo {
    /// Index into `topology.links`.
    pub link: usize,
    pub role: LinkRole,
}

/// A topology that can be run.
#[derive(Clone, Debug)]
pub struct Model {
    topology: Topology,
    graph: DiGraph<usize, EdgeInfo>,
    index: HashMap<String, NodeIndex>,
    warnings: Vec<Problem>,
}

impl Model {
    /// Parses and validates a topology file's text.
    pub fn from_json_str(text: &str) -> Result<Model, Invalid> {
        if let Some(why) = too_large(text.len() as u64) {
            return Err(Invalid { problems: vec![Problem::error("", why)] });
        }
        if text.trim().is_empty() {
            return Err(Invalid {
                problems: vec![Problem::error("", "the file is empty; expected a topology (a JSON object)")],
            });
        }
        let value: Value = serde_json::from_str(text).map_err(|e| Invalid {
            problems: vec![Problem::error(
                format!("line {}, column {}", e.line(), e.column()),
                format!("invalid JSON: {}", json_reason(&e)),
            )],
        })?;
        Model::from_value(&value)
    }

    /// Validates a topology given as a JSON value.
    pub fn from_value(value: &Value) -> Result<Model, Invalid> {
        let (topology, mut problems) = decode(value);
        let (graph, more) = check(&topology);
        problems.extend(more);
        if problems.iter().any(Problem::is_error) {
            problems.sort_by_key(|p| !p.is_error());
            return Err(Invalid { problems });
        }
        let index = topology.nodes.iter().enumerate().map(|(i, n)| (n.id.clone(), NodeIndex::new(i))).collect();
        Ok(Model { topology, graph, index, warnings: problems })
    }

    /// Validates a topology built in memory (by the editor), by the same rules as a file.
    pub fn from_topology(topology: &Topology) -> Result<Model, Invalid> {
        let value = serde_json::to_value(topology)
            .map_err(|e| Invalid { problems: vec![Problem::error("", e.to_string())] })?;
        Model::from_value(&value)
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    pub fn graph(&self) -> &DiGraph<usize, EdgeInfo> {
        &self.graph
    }

    /// Problems that do not stop a run.
    pub fn warnings(&self) -> &[Problem] {
        &self.warnings
    }

    /// The link from node `from` to node `to` (its index in `links`) and its role.
    pub fn link_between(&self, from: &str, to: &str) -> Option<(usize, LinkRole)> {
        let (a, b) = (*self.index.get(from)?, *self.index.get(to)?);
        self.graph.edges_connecting(a, b).next().map(|e| (e.weight().link, e.weight().role))
    }

    pub fn node_index(&self, id: &str) -> Option<usize> {
        self.index.get(id).map(|i| i.index())
    }
}

fn json_reason(e: &serde_json::Error) -> String {
    // serde_json appends " at line L column C"; the path already says where.
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
