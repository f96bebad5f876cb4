//! The drawable view of a topology: nodes with positions and kinds, links with their ends.

use serde_json::Value;

#[derive(Clone, Debug, PartialEq)]
pub struct ViewNode {
    pub id: String,
    pub label: String,
    pub kind: String,
    pub x: f64,
    pub y: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ViewLink {
    pub from: usize,
    pub to: usize,
    pub dead_letter: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ViewGraph {
    pub name: String,
    pub nodes: Vec<ViewNode>,
    pub links: Vec<ViewLink>,
}

/// Node half-size in world units, for drawing and for where links end.
pub const NODE_W: f64 = 150.0;
pub const NODE_H: f64 = 56.0;

impl ViewGraph {
    /// Reads a topology as the server sends it (already validated there).
    pub fn from_topology(t: &Value) -> ViewGraph {
        let str_of = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let nodes: Vec<ViewNode> = t["nodes"]
            .as_array()
            .map(|a| a.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|n| {
                let id = str_of(n, "id");
                let label = n.get("label").and_then(Value::as_str).map_or_else(|| id.clone(), str::to_string);
                let pos = n
                    .get("pos")
                    .and_then(Value::as_array)
                    .and_then(|p| Some((p.first()?.as_f64()?, p.get(1)?.as_f64()?)));
                let (x, y) = pos.unwrap_or((f64::NAN, f64::NAN));
                ViewNode { id, label, kind: str_of(n, "kind"), x, y }
            })
            .collect();
        let index = |id: &str| nodes.iter().position(|n| n.id == id);
        let links = t["links"]
            .as_array()
            .map(|a| a.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|l| {
                Some(ViewLink {
                    from: index(l.get("from")?.as_str()?)?,
                    to: index(l.get("to")?.as_str()?)?,
                    dead_letter: l.get("dead_letter").and_then(Value::as_bool).unwrap_or(false),
                })
            })
            .collect();
        let mut g = ViewGraph { name: str_of(t, "name"), nodes, links };
        if g.nodes.iter().any(|n| n.x.is_nan()) {
            crate::layout::layered(&mut g);
        }
        g
    }

    /// The world rectangle that holds every node, with a margin: (x, y, width, height).
    pub fn bounds(&self) -> (f64, f64, f64, f64) {
        if self.nodes.is_empty() {
            return (0.0, 0.0, 800.0, 600.0);
        }
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for n in &self.nodes {
            x0 = x0.min(n.x);
            y0 = y0.min(n.y);
            x1 = x1.max(n.x + NODE_W);
            y1 = y1.max(n.y + NODE_H);
        }
        let m = 40.0;
        (x0 - m, y0 - m, x1 - x0 + 2.0 * m, y1 - y0 + 2.0 * m)
    }

    /// The centre of a node.
    pub fn centre(&self, i: usize) -> (f64, f64) {
        let n = &self.nodes[i];
        (n.x + NODE_W / 2.0, n.y + NODE_H / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_nodes_links_and_lays_out_what_has_no_position() {
        let t = json!({"name": "t", "nodes": [
            {"id": "p", "kind": "producer"}, {"id": "q", "kind": "queue", "label": "Orders"}, {"id": "s", "kind": "service"}],
            "links": [{"from": "p", "to": "q"}, {"from": "q", "to": "s"}, {"from": "q", "to": "q", "dead_letter": true}]});
        let g = ViewGraph::from_topology(&t);
        assert_eq!(g.nodes[1].label, "Orders");
        assert_eq!(g.links.len(), 3);
        assert!(g.links[2].dead_letter);
        assert!(g.nodes[0].x < g.nodes[1].x && g.nodes[1].x < g.nodes[2].x, "left to right: {:?}", g.nodes);
        let (_, _, w, h) = g.bounds();
        assert!(w > 0.0 && h > 0.0);
    }
}
