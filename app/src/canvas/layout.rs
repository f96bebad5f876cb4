//! A layered layout for topologies saved without positions: each node one column to the right
//! of what feeds it (longest path from the sources), rows in file order within a column.

use crate::canvas::geometry::ViewGraph;

/// Space between columns, and between rows, beside the nodes' own size.
const GAP_X: f64 = 70.0;
const ROW: f64 = 110.0;

pub fn layered(g: &mut ViewGraph) {
    let n = g.nodes.len();
    let mut layer = vec![0usize; n];
    // Longest path by relaxation; dead-letter links and cycles do not push nodes right
    // for ever (at most n rounds).
    for _ in 0..n {
        let mut changed = false;
        for l in g.links.iter().filter(|l| !l.dead_letter && l.from != l.to) {
            if layer[l.to] < layer[l.from] + 1 && layer[l.from] + 1 < n {
                layer[l.to] = layer[l.from] + 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // Each column as wide as its widest node.
    let columns = layer.iter().copied().max().map_or(0, |m| m + 1);
    let mut width = vec![0.0f64; columns];
    for (i, node) in g.nodes.iter().enumerate() {
        width[layer[i]] = width[layer[i]].max(node.w);
    }
    let mut x = vec![0.0; columns];
    for c in 1..columns {
        x[c] = x[c - 1] + width[c - 1] + GAP_X;
    }
    let mut rows = vec![0usize; n.max(1)];
    for (i, node) in g.nodes.iter_mut().enumerate() {
        node.x = x[layer[i]];
        node.y = rows[layer[i]] as f64 * ROW;
        rows[layer[i]] += 1;
    }
}

#[cfg(test)]
mod tests {
    use crate::canvas::geometry::{ViewGraph, ViewLink, ViewNode};

    fn node(id: &str) -> ViewNode {
        ViewNode {
            id: id.into(),
            label: id.into(),
            kind: Some(edasim_sim::topology::Kind::Queue),
            x: f64::NAN,
            y: f64::NAN,
            w: 150.0,
        }
    }

    #[test]
    fn cycles_terminate_and_columns_follow_flow() {
        let link = |from, to| ViewLink { from, to, ..ViewLink::default() };
        let mut g = ViewGraph {
            nodes: vec![node("a"), node("b"), node("c")],
            links: vec![link(0, 1), link(1, 2), link(2, 1)],
            ..ViewGraph::default()
        };
        super::layered(&mut g);
        assert!(g.nodes.iter().all(|n| n.x.is_finite() && n.y.is_finite()));
        assert!(g.nodes[0].x < g.nodes[1].x);
    }
}
