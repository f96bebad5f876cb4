//! Auto layout: a layered drawing (Sugiyama's method, simplified) for files saved without
//! positions and for the Auto layout button. Sources on the left, sinks on the right: each
//! node one column right of the furthest node feeding it, the links that close a cycle (a
//! dead-letter handler republishing upstream) left out of that count; within a column, nodes
//! ordered by their neighbours' rows to reduce crossings; notes kept beside the node they
//! annotated, clear of every node. Links then route round whatever is still in their way.

use crate::canvas::geometry::{NODE_H, NOTE_H, NOTE_W, ViewGraph};
use crate::canvas::route::{Point, Rect, crosses};

/// Space between columns, and between rows, beside the nodes' own size.
const GAP_X: f64 = 80.0;
const ROW: f64 = NODE_H + 54.0;
/// Ordering sweeps (down and up): crossings stop falling after a few.
const SWEEPS: usize = 6;

/// The links that keep the drawing acyclic, as (from, to): a depth-first search from the
/// sources (file order) drops each link back to a node still on the search's path.
fn forward_links(n: usize, links: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut out_of = vec![Vec::new(); n];
    let mut has_input = vec![false; n];
    for &(a, b) in links.iter().filter(|(a, b)| a != b && *a < n && *b < n) {
        out_of[a].push(b);
        has_input[b] = true;
    }
    // 0 unseen, 1 on the path, 2 done.
    let mut state = vec![0u8; n];
    let mut forward = Vec::new();
    let starts = (0..n).filter(|&i| !has_input[i]).chain(0..n);
    for start in starts {
        if state[start] != 0 {
            continue;
        }
        let mut stack = vec![(start, 0usize)];
        state[start] = 1;
        while let Some(&mut (v, ref mut next)) = stack.last_mut() {
            if let Some(&w) = out_of[v].get(*next) {
                *next += 1;
                match state[w] {
                    0 => {
                        forward.push((v, w));
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    2 => forward.push((v, w)),
                    _ => {} // back to the path: this link closes a cycle.
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }
    forward
}

/// Each node's column: the longest path to it over `forward` links (acyclic).
fn columns(n: usize, forward: &[(usize, usize)]) -> Vec<usize> {
    let mut layer = vec![0usize; n];
    // At most n rounds on an acyclic graph.
    for _ in 0..n {
        let mut changed = false;
        for &(a, b) in forward {
            if layer[b] < layer[a] + 1 {
                layer[b] = layer[a] + 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    layer
}

/// Orders each column by the mean row of its neighbours in the column before (sweeping right)
/// and after (sweeping left); ties keep the order they had (file order at first).
fn order(layer: &[usize], forward: &[(usize, usize)]) -> Vec<Vec<usize>> {
    let columns = layer.iter().copied().max().map_or(0, |m| m + 1);
    let mut cols: Vec<Vec<usize>> = vec![Vec::new(); columns];
    for (i, &l) in layer.iter().enumerate() {
        cols[l].push(i);
    }
    let mut row = vec![0.0f64; layer.len()];
    let place = |cols: &[Vec<usize>], row: &mut [f64]| {
        for col in cols {
            for (r, &i) in col.iter().enumerate() {
                row[i] = r as f64;
            }
        }
    };
    place(&cols, &mut row);
    for sweep in 0..SWEEPS {
        let right = sweep % 2 == 0;
        let range: Vec<usize> =
            if right { (1..columns).collect() } else { (0..columns.saturating_sub(1)).rev().collect() };
        for c in range {
            let key = |i: usize| {
                let near: Vec<f64> = forward
                    .iter()
                    .filter_map(|&(a, b)| match right {
                        true if b == i && layer[a] < c => Some(row[a]),
                        false if a == i && layer[b] > c => Some(row[b]),
                        _ => None,
                    })
                    .collect();
                if near.is_empty() { row[i] } else { near.iter().sum::<f64>() / near.len() as f64 }
            };
            let mut keyed: Vec<(f64, usize)> = cols[c].iter().map(|&i| (key(i), i)).collect();
            keyed.sort_by(|x, y| x.0.total_cmp(&y.0));
            cols[c] = keyed.into_iter().map(|(_, i)| i).collect();
            for (r, &i) in cols[c].iter().enumerate() {
                row[i] = r as f64;
            }
        }
    }
    cols
}

/// Lays out every node of `g` (and moves its notes along with the nodes they annotated).
pub fn layered(g: &mut ViewGraph) {
    let n = g.nodes.len();
    if n == 0 {
        return;
    }
    let before: Vec<(f64, f64)> = g.nodes.iter().map(|node| (node.x, node.y)).collect();
    let links: Vec<(usize, usize)> = g.links.iter().map(|l| (l.from, l.to)).collect();
    let forward = forward_links(n, &links);
    let layer = columns(n, &forward);
    let cols = order(&layer, &forward);
    // Each column as wide as its widest node; columns centred on the tallest.
    let mut x = 0.0;
    let tallest = cols.iter().map(Vec::len).max().unwrap_or(0);
    for col in &cols {
        let width = col.iter().map(|&i| g.nodes[i].w).fold(0.0, f64::max);
        let top = (tallest - col.len()) as f64 * ROW / 2.0;
        for (r, &i) in col.iter().enumerate() {
            g.nodes[i].x = x + (width - g.nodes[i].w) / 2.0;
            g.nodes[i].y = top + r as f64 * ROW;
        }
        x += width + GAP_X;
    }
    place_notes(g, &before);
}

/// Each note keeps its offset from the node it was nearest to (before the layout moved it),
/// then steps down until it covers no node and no note placed before it.
fn place_notes(g: &mut ViewGraph, before: &[(f64, f64)]) {
    let overlaps = |(x, y): (f64, f64), (bx, by, bw, bh): (f64, f64, f64, f64)| {
        x < bx + bw + 10.0 && x + NOTE_W + 10.0 > bx && y < by + bh + 10.0 && y + NOTE_H + 10.0 > by
    };
    let bottom = g.nodes.iter().map(|n| n.y + NODE_H).fold(0.0, f64::max);
    for k in 0..g.notes.len() {
        let (nx, ny) = (g.notes[k].x, g.notes[k].y);
        let nearest = before
            .iter()
            .enumerate()
            .filter(|(_, p)| p.0.is_finite() && p.1.is_finite())
            .min_by(|(_, a), (_, b)| (a.0 - nx).hypot(a.1 - ny).total_cmp(&(b.0 - nx).hypot(b.1 - ny)))
            .map(|(i, _)| i);
        let mut at = match nearest {
            Some(i) => (g.nodes[i].x + nx - before[i].0, g.nodes[i].y + ny - before[i].1),
            None => (0.0, bottom + 40.0),
        };
        let taken = |at: (f64, f64), g: &ViewGraph| {
            g.nodes.iter().any(|n| overlaps(at, (n.x, n.y, n.w, NODE_H)))
                || g.notes[..k].iter().any(|o| overlaps(at, (o.x, o.y, NOTE_W, NOTE_H)))
        };
        for _ in 0..(g.nodes.len() + k + 2) {
            if !taken(at, g) {
                break;
            }
            at.1 += ROW / 2.0;
        }
        g.notes[k].x = at.0;
        g.notes[k].y = at.1;
    }
}

/// The point nearest `centre` (on a spiral of grid steps) where a box of `size` centred there
/// covers no box of `taken` and no segment of `routes`: where a node placed from the keyboard
/// goes, so it lands on no link.
pub fn free_spot(centre: (f64, f64), size: (f64, f64), taken: &[Rect], routes: &[Vec<Point>]) -> (f64, f64) {
    const STEP: f64 = 40.0;
    let free = |(x, y): (f64, f64)| {
        let r = Rect::new(x - size.0 / 2.0 - 10.0, y - size.1 / 2.0 - 10.0, size.0 + 20.0, size.1 + 20.0);
        let clear_of = |t: &Rect| r.x + r.w <= t.x || t.x + t.w <= r.x || r.y + r.h <= t.y || t.y + t.h <= r.y;
        taken.iter().all(clear_of) && routes.iter().all(|p| p.windows(2).all(|s| !crosses(s[0], s[1], r)))
    };
    for ring in 0..30i32 {
        for i in -ring..=ring {
            for j in -ring..=ring {
                if i.abs() != ring && j.abs() != ring {
                    continue;
                }
                let at = (centre.0 + f64::from(i) * STEP, centre.1 + f64::from(j) * STEP);
                if free(at) {
                    return at;
                }
            }
        }
    }
    centre
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canvas::geometry::{ViewLink, ViewNode, ViewNote};
    use crate::canvas::route::Routes;

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

    fn link(from: usize, to: usize) -> ViewLink {
        ViewLink { from, to, ..ViewLink::default() }
    }

    #[test]
    fn a_free_spot_is_off_nodes_and_links() {
        let node = Rect::new(-100.0, -30.0, 200.0, 60.0);
        let link = vec![(-500.0, 80.0), (500.0, 80.0)];
        let at = free_spot((0.0, 0.0), (150.0, 56.0), &[node], std::slice::from_ref(&link));
        let r = Rect::new(at.0 - 75.0, at.1 - 28.0, 150.0, 56.0);
        assert!(!crosses(link[0], link[1], r), "on the link: {at:?}");
        assert!(
            r.y >= node.y + node.h || r.y + r.h <= node.y || r.x >= node.x + node.w || r.x + r.w <= node.x,
            "{at:?}"
        );
        assert_eq!(free_spot((0.0, 500.0), (150.0, 56.0), &[node], &[link]), (0.0, 500.0), "free already");
    }

    #[test]
    fn cycles_terminate_and_columns_follow_flow() {
        let mut g = ViewGraph {
            nodes: vec![node("a"), node("b"), node("c")],
            links: vec![link(0, 1), link(1, 2), link(2, 1)],
            ..ViewGraph::default()
        };
        layered(&mut g);
        assert!(g.nodes.iter().all(|n| n.x.is_finite() && n.y.is_finite()));
        assert!(g.nodes[0].x < g.nodes[1].x && g.nodes[1].x < g.nodes[2].x, "the cycle's back link is left out");
    }

    #[test]
    fn ordering_uncrosses_two_parallel_chains() {
        // a1 -> b2 and a2 -> b1 in file order cross; the sweep swaps b1 and b2.
        let mut g = ViewGraph {
            nodes: vec![node("a1"), node("a2"), node("b1"), node("b2")],
            links: vec![link(0, 3), link(1, 2)],
            ..ViewGraph::default()
        };
        layered(&mut g);
        let y = |i: usize| g.nodes[i].y;
        assert_eq!(y(0) < y(1), y(3) < y(2), "{:?}", g.nodes);
    }

    #[test]
    fn notes_follow_their_node_and_cover_none() {
        let mut g = ViewGraph {
            nodes: vec![node("a"), node("b")],
            links: vec![link(0, 1)],
            notes: vec![ViewNote { text: "about b".into(), x: 1000.0, y: 80.0 }],
            ..ViewGraph::default()
        };
        g.nodes[0].x = 0.0;
        g.nodes[0].y = 0.0;
        g.nodes[1].x = 1000.0;
        g.nodes[1].y = 0.0;
        layered(&mut g);
        let (note, b) = (&g.notes[0], &g.nodes[1]);
        assert!((note.x - b.x).abs() < 1.0, "beside b: {note:?} {b:?}");
        assert!(note.y >= b.y + NODE_H, "clear of b");
    }

    /// The shipped order pipeline laid out afresh: sources left of sinks, and every link's
    /// route clear of every node and note.
    #[test]
    fn the_order_pipeline_lays_out_and_routes_clear() {
        let text = include_str!("../../../scenarios/order-pipeline.json");
        let mut t: serde_json::Value = serde_json::from_str(text).unwrap();
        for n in t["nodes"].as_array_mut().unwrap() {
            n.as_object_mut().unwrap().remove("pos");
        }
        let g = ViewGraph::from_topology(&t);
        let x = |id: &str| g.nodes.iter().find(|n| n.id == id).unwrap().x;
        assert!(x("order_api") < x("orders_queue") && x("orders_queue") < x("payment_processing"));
        assert_clear(&g);
    }

    /// Every shipped scenario as it is drawn: no link through a node or a note.
    #[test]
    fn shipped_scenarios_route_clear() {
        for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let t: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                if t.get("nodes").is_some() {
                    assert_clear(&ViewGraph::from_topology(&t));
                }
            }
        }
    }

    /// Every link of `g` runs clear of the nodes and notes it does not join.
    pub fn assert_clear(g: &ViewGraph) {
        let nodes: Vec<Rect> = g.nodes.iter().map(|n| Rect::new(n.x, n.y, n.w, NODE_H)).collect();
        let notes: Vec<Rect> = g.notes.iter().map(|n| Rect::new(n.x, n.y, NOTE_W, NOTE_H)).collect();
        let links: Vec<(usize, usize)> = g.links.iter().map(|l| (l.from, l.to)).collect();
        let routes = Routes::new(&nodes, &notes, &links);
        for (k, &(a, b)) in links.iter().enumerate() {
            let others =
                nodes.iter().enumerate().filter(|&(j, _)| j != a && j != b).map(|(j, r)| (g.nodes[j].id.clone(), *r));
            let notes = notes.iter().map(|r| ("a note".to_string(), *r));
            for (what, r) in others.chain(notes) {
                let through = routes.paths[k].windows(2).any(|s| crosses(s[0], s[1], r));
                assert!(!through, "{} -> {} runs through {what}: {:?}", g.nodes[a].id, g.nodes[b].id, routes.paths[k]);
            }
        }
    }
}
