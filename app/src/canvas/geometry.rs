//! The drawable view of a topology: nodes with positions and kinds, links with their ends,
//! sticky notes, and how they relate to the topology the run plays.

use edasim_sim::topology::Kind;
use serde_json::Value;

#[derive(Clone, Debug, PartialEq)]
pub struct ViewNode {
    pub id: String,
    pub label: String,
    /// `None` for a kind the engine does not know (a canvas with problems).
    pub kind: Option<Kind>,
    pub x: f64,
    pub y: f64,
    /// Its width: enough for its whole name (`node_width`).
    pub w: f64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ViewLink {
    pub from: usize,
    pub to: usize,
    pub dead_letter: bool,
    /// Its index in the running topology's links (frames count crossings in that order).
    pub running: Option<usize>,
}

/// A sticky note: a teacher's annotation on the canvas.
#[derive(Clone, Debug, PartialEq)]
pub struct ViewNote {
    pub text: String,
    pub x: f64,
    pub y: f64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ViewGraph {
    pub name: String,
    pub nodes: Vec<ViewNode>,
    pub links: Vec<ViewLink>,
    pub notes: Vec<ViewNote>,
    /// Per node of the canvas, its index in the running topology (what frames and series
    /// index), when the run has it.
    pub running: Vec<Option<usize>>,
    /// Per node of the running topology, its index on the canvas.
    pub from_running: Vec<Option<usize>>,
}

pub const NOTE_W: f64 = 180.0;
pub const NOTE_H: f64 = 90.0;

/// A node's size in world units: at least `NODE_W` wide, wider for a long name (every name is
/// drawn whole), and `NODE_H` tall.
pub const NODE_W: f64 = 150.0;
pub const NODE_H: f64 = 56.0;
/// The size of a node's name (CSS `.node .label`), in world units.
pub const LABEL_PX: f64 = 15.0;

/// The width of a node named `label`: its icon, its name in bold at `LABEL_PX` (up to 0.7 of the
/// size per character in the UI's sans-serif: "shipment_management" renders 10.4 px a character),
/// and margins. The browser test measures the rendered names against it.
pub fn node_width(label: &str) -> f64 {
    (label.chars().count() as f64 * LABEL_PX * 0.7 + 40.0).clamp(NODE_W, 560.0).ceil()
}

/// The entries of a topology's `nodes`, `links` or `notes` (none when it has none).
fn items<'a>(t: &'a Value, key: &str) -> &'a [Value] {
    t[key].as_array().map(Vec::as_slice).unwrap_or_default()
}

/// The node ids of a topology, in its order (what frames, series and hops index).
pub fn node_ids(t: Option<&Value>) -> Vec<String> {
    t.map(|t| items(t, "nodes").iter().map(|n| n["id"].as_str().unwrap_or("").to_string()).collect())
        .unwrap_or_default()
}

impl ViewGraph {
    /// Reads a topology as the server sends it (already validated there).
    pub fn from_topology(t: &Value) -> ViewGraph {
        let str_of = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let nodes: Vec<ViewNode> = items(t, "nodes")
            .iter()
            .map(|n| {
                let id = str_of(n, "id");
                let label = n.get("label").and_then(Value::as_str).map_or_else(|| id.clone(), str::to_string);
                let pos = n
                    .get("pos")
                    .and_then(Value::as_array)
                    .and_then(|p| Some((p.first()?.as_f64()?, p.get(1)?.as_f64()?)));
                let (x, y) = pos.unwrap_or((f64::NAN, f64::NAN));
                let w = node_width(&label);
                ViewNode { id, label, kind: Kind::from_name(&str_of(n, "kind")), x, y, w }
            })
            .collect();
        // Rebuilt on every move of a drag: link ends are looked up by hash, not by scan.
        let by_id: std::collections::HashMap<&str, usize> =
            nodes.iter().enumerate().map(|(i, n)| (n.id.as_str(), i)).collect();
        let index = |id: &str| by_id.get(id).copied();
        let links = items(t, "links")
            .iter()
            .filter_map(|l| {
                Some(ViewLink {
                    from: index(l.get("from")?.as_str()?)?,
                    to: index(l.get("to")?.as_str()?)?,
                    dead_letter: l.get("dead_letter").and_then(Value::as_bool).unwrap_or(false),
                    running: None,
                })
            })
            .collect();
        let notes = items(t, "notes")
            .iter()
            .map(|n| {
                let p = |i: usize| n.get("pos").and_then(|p| p.get(i)).and_then(Value::as_f64).unwrap_or(0.0);
                ViewNote { text: str_of(n, "text"), x: p(0), y: p(1) }
            })
            .collect();
        let count = nodes.len();
        let mut g = ViewGraph {
            name: str_of(t, "name"),
            nodes,
            links,
            notes,
            running: vec![None; count],
            from_running: vec![],
        };
        if g.nodes.iter().any(|n| n.x.is_nan()) {
            crate::canvas::layout::layered(&mut g);
        }
        g
    }

    /// Relates the canvas to the topology the run plays (by node id, and by the ids at a
    /// link's ends), so live figures land on the right shapes while the two differ.
    pub fn attach(&mut self, running: &Value) {
        let id_at = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let run_nodes = node_ids(Some(running));
        let by_id: std::collections::HashMap<&str, usize> =
            self.nodes.iter().enumerate().map(|(i, n)| (n.id.as_str(), i)).collect();
        self.from_running = run_nodes.iter().map(|id| by_id.get(id.as_str()).copied()).collect();
        self.running = vec![None; self.nodes.len()];
        for (r, v) in self.from_running.iter().enumerate() {
            if let Some(v) = v {
                self.running[*v] = Some(r);
            }
        }
        let run_links: std::collections::HashMap<(String, String), usize> =
            items(running, "links").iter().enumerate().map(|(i, l)| ((id_at(l, "from"), id_at(l, "to")), i)).collect();
        for l in &mut self.links {
            let key = (self.nodes[l.from].id.clone(), self.nodes[l.to].id.clone());
            l.running = run_links.get(&key).copied();
        }
    }

    /// The node whose box holds the world point, the topmost (last drawn) first.
    pub fn hit(&self, x: f64, y: f64) -> Option<usize> {
        self.nodes.iter().rposition(|n| x >= n.x && x <= n.x + n.w && y >= n.y && y <= n.y + NODE_H)
    }

    /// The world rectangle that holds every node, with a margin: (x, y, width, height).
    pub fn bounds(&self) -> (f64, f64, f64, f64) {
        if self.nodes.is_empty() && self.notes.is_empty() {
            return (0.0, 0.0, 800.0, 600.0);
        }
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        let boxes = self.nodes.iter().map(|n| (n.x, n.y, n.w, NODE_H));
        for (x, y, w, h) in boxes.chain(self.notes.iter().map(|n| (n.x, n.y, NOTE_W, NOTE_H))) {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x + w);
            y1 = y1.max(y + h);
        }
        let m = 40.0;
        (x0 - m, y0 - m, x1 - x0 + 2.0 * m, y1 - y0 + 2.0 * m)
    }

    /// The centre of a node.
    pub fn centre(&self, i: usize) -> (f64, f64) {
        let n = &self.nodes[i];
        (n.x + n.w / 2.0, n.y + NODE_H / 2.0)
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

    #[test]
    fn attach_maps_canvas_and_run_by_id() {
        let canvas = json!({"name": "t", "nodes": [
            {"id": "new", "kind": "queue", "pos": [0, 0]}, {"id": "p", "kind": "producer", "pos": [0, 100]},
            {"id": "q", "kind": "queue", "pos": [300, 100]}],
            "links": [{"from": "p", "to": "q"}, {"from": "p", "to": "new"}],
            "notes": [{"text": "hello", "pos": [10, 300]}]});
        let running = json!({"nodes": [{"id": "p"}, {"id": "q"}, {"id": "gone"}], "links": [{"from": "p", "to": "q"}]});
        let mut g = ViewGraph::from_topology(&canvas);
        g.attach(&running);
        assert_eq!(g.running, [None, Some(0), Some(1)]);
        assert_eq!(g.from_running, [Some(1), Some(2), None]);
        assert_eq!(g.links.iter().map(|l| l.running).collect::<Vec<_>>(), [Some(0), None]);
        assert_eq!(g.notes[0].text, "hello");
        assert_eq!(g.hit(310.0, 120.0), Some(2));
        assert_eq!(g.hit(-5.0, 0.0), None);
        assert!(g.bounds().1 + g.bounds().3 >= 300.0 + NOTE_H, "notes count in the bounds");
    }
}
