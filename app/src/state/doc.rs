//! The canvas document: the topology file the user edits, as JSON (so that whatever the file
//! holds survives an edit untouched), with the edits the editor makes and their history.
//!
//! Every edit goes through [`Doc::edit`], which keeps the state before it for undo; a drag is
//! previewed without touching the document and lands as one step on release ([`Doc::begin`],
//! [`Doc::shift`], [`Doc::commit`]). Nothing here touches the browser, so it is tested natively.

use std::collections::BTreeSet;

use edasim_sim::topology::{Kind, LinkShape, link_role};
use serde_json::{Value, json};

use crate::canvas::geometry::{NODE_H, NOTE_H, NOTE_W, node_width};
use crate::canvas::route::Rect;

/// Steps of undo kept.
const HISTORY: usize = 200;

/// Positions snap to this grid (world units).
pub const GRID: f64 = 20.0;

pub fn snap(v: f64) -> f64 {
    (v / GRID).round() * GRID
}

/// Where something at `(x, y)` lands when moved by `(dx, dy)`: on the grid unless moved
/// freely. A drag's preview and its final edit both place things with this.
pub fn moved_to((x, y): (f64, f64), dx: f64, dy: f64, to_grid: bool) -> (f64, f64) {
    let (x, y) = (x + dx, y + dy);
    if to_grid { (snap(x), snap(y)) } else { (x, y) }
}

/// What is selected on the canvas: nodes by id, links and notes by index.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Selection {
    pub nodes: BTreeSet<String>,
    pub links: BTreeSet<usize>,
    pub notes: BTreeSet<usize>,
}

impl Selection {
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty() && self.links.is_empty() && self.notes.is_empty()
    }

    pub fn node(id: &str) -> Selection {
        Selection { nodes: BTreeSet::from([id.to_string()]), ..Selection::default() }
    }

    /// The one node selected, if exactly one thing is.
    pub fn single_node(&self) -> Option<&str> {
        (self.nodes.len() == 1 && self.links.is_empty() && self.notes.is_empty())
            .then(|| self.nodes.first().map(String::as_str))
            .flatten()
    }
}

/// What Copy keeps: nodes, the links among them, notes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Clip {
    nodes: Vec<Value>,
    links: Vec<Value>,
    notes: Vec<Value>,
}

#[derive(Clone, Debug, Default)]
pub struct Doc {
    pub value: Value,
    undo: Vec<Value>,
    redo: Vec<Value>,
}

/// Fields a node of each kind starts with when placed from the palette: enough to run.
fn defaults(kind: Kind) -> Value {
    match kind {
        Kind::Producer => json!({"rate_per_s": 5, "arrival": "poisson"}),
        Kind::Exchange => json!({"type": "direct"}),
        Kind::Queue => json!({}),
        Kind::Service => {
            json!({"replicas": 1, "concurrency": 1, "processing": {"dist": "exponential", "mean_ms": 100}})
        }
        Kind::Store => json!({"latency": {"dist": "constant", "ms": 2}}),
        Kind::Gateway => json!({"average": 100, "period_s": 1, "burst": 50}),
        Kind::Topic => json!({"partitions": 3}),
    }
}

/// Sets (or, with `None`, removes) `field` of entry `index` of `section`.
pub fn put(v: &mut Value, section: &str, index: usize, field: &str, value: Option<Value>) {
    let Some(obj) = v.get_mut(section).and_then(|s| s.get_mut(index)).and_then(Value::as_object_mut) else {
        return;
    };
    match value {
        Some(value) => obj.insert(field.to_string(), value),
        None => obj.remove(field),
    };
}

fn arr<'a>(v: &'a mut Value, key: &str) -> &'a mut Vec<Value> {
    if !v.get(key).is_some_and(Value::is_array) {
        v[key] = json!([]);
    }
    match v.get_mut(key) {
        Some(Value::Array(a)) => a,
        _ => unreachable!("just made an array"),
    }
}

fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn pos_of(v: &Value) -> (f64, f64) {
    let p = |i: usize| v.get("pos").and_then(|p| p.get(i)).and_then(Value::as_f64).unwrap_or(0.0);
    (p(0), p(1))
}

/// The boxes of nodes and notes as drawn (a node as wide as its name).
fn boxes(nodes: &[Value], notes: &[Value]) -> Vec<Rect> {
    let node = |n: &Value| {
        let (x, y) = pos_of(n);
        let label = n.get("label").and_then(Value::as_str).unwrap_or(str_at(n, "id"));
        Rect::new(x, y, node_width(label), NODE_H)
    };
    let note = |n: &Value| {
        let (x, y) = pos_of(n);
        Rect::new(x, y, NOTE_W, NOTE_H)
    };
    nodes.iter().map(node).chain(notes.iter().map(note)).collect()
}

impl Doc {
    pub fn new(value: Value) -> Doc {
        Doc { value, undo: Vec::new(), redo: Vec::new() }
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    /// Replaces the document (a load, an import), as one step that can be undone.
    pub fn replace(&mut self, value: Value) {
        if value != self.value {
            let before = std::mem::replace(&mut self.value, value);
            self.record(before);
        }
    }

    /// Applies one edit as one step of history; an edit that changes nothing records nothing.
    pub fn edit<R>(&mut self, f: impl FnOnce(&mut Value) -> R) -> R {
        let before = self.value.clone();
        let r = f(&mut self.value);
        if self.value != before {
            self.record(before);
        }
        r
    }

    /// The state before a gesture (a drag) that ends in one edit.
    pub fn begin(&self) -> Value {
        self.value.clone()
    }

    /// Ends a gesture begun at `before`: one step of history if anything changed.
    pub fn commit(&mut self, before: Value) {
        if before != self.value {
            self.record(before);
        }
    }

    fn record(&mut self, before: Value) {
        self.undo.push(before);
        if self.undo.len() > HISTORY {
            self.undo.remove(0);
        }
        self.redo.clear();
    }

    pub fn undo(&mut self) -> bool {
        let Some(before) = self.undo.pop() else { return false };
        self.redo.push(std::mem::replace(&mut self.value, before));
        true
    }

    pub fn redo(&mut self) -> bool {
        let Some(after) = self.redo.pop() else { return false };
        self.undo.push(std::mem::replace(&mut self.value, after));
        true
    }

    pub fn node_index(&self, id: &str) -> Option<usize> {
        self.value["nodes"].as_array()?.iter().position(|n| str_at(n, "id") == id)
    }

    pub fn kind_of(&self, id: &str) -> Option<Kind> {
        let i = self.node_index(id)?;
        self.value["nodes"][i]["kind"].as_str().and_then(Kind::from_name)
    }

    /// An id not yet used, from a stem: `queue_1`, `queue_2`...
    pub fn fresh_id(&self, stem: &str) -> String {
        (1..).map(|n| format!("{stem}_{n}")).find(|id| self.node_index(id).is_none()).unwrap_or_default()
    }

    /// Places a node of `kind` with its top-left corner at `pos` (snapped); returns its id.
    pub fn add_node(&mut self, kind: Kind, pos: (f64, f64)) -> String {
        let id = self.fresh_id(kind.name());
        let mut node = defaults(kind);
        node["id"] = json!(id);
        node["kind"] = json!(kind.name());
        node["pos"] = json!([snap(pos.0), snap(pos.1)]);
        self.edit(|v| arr(v, "nodes").push(node));
        id
    }

    /// Whether `from` may be linked to `to`, and what the link would mean. A queue's only link
    /// to an exchange or a queue is a dead-letter link. Refused, with the reason, when the link
    /// means nothing or exists already.
    pub fn link_check(&self, from: &str, to: &str) -> Result<(&'static str, bool), String> {
        let (Some(f), Some(t)) = (self.kind_of(from), self.kind_of(to)) else {
            return Err("no such node".into());
        };
        let dead_letter = f == Kind::Queue && t.is_messaging();
        let role = link_role(f, t, LinkShape { dead_letter, ..LinkShape::default() })?;
        let exists = self.value["links"]
            .as_array()
            .is_some_and(|ls| ls.iter().any(|l| str_at(l, "from") == from && str_at(l, "to") == to));
        if exists {
            return Err(format!("\"{from}\" is already linked to \"{to}\""));
        }
        Ok((role.describe(), dead_letter))
    }

    /// Links `from` to `to` (see [`Doc::link_check`]). Returns what the link means.
    pub fn add_link(&mut self, from: &str, to: &str) -> Result<&'static str, String> {
        let (role, dead_letter) = self.link_check(from, to)?;
        let mut link = json!({"from": from, "to": to});
        if dead_letter {
            link["dead_letter"] = json!(true);
        }
        self.edit(|v| arr(v, "links").push(link));
        Ok(role)
    }

    /// The nodes `from` may be linked to, as (id, what the link would mean), in file order.
    pub fn link_targets(&self, from: &str) -> Vec<(String, &'static str)> {
        let ids: Vec<String> = self.value["nodes"]
            .as_array()
            .map(|ns| ns.iter().map(|n| str_at(n, "id").to_string()).collect())
            .unwrap_or_default();
        ids.into_iter().filter_map(|to| self.link_check(from, &to).ok().map(|(role, _)| (to, role))).collect()
    }

    /// Moves every node and note to the positions given (in file order), as one edit.
    pub fn set_positions(&mut self, nodes: &[(f64, f64)], notes: &[(f64, f64)]) {
        self.edit(|v| {
            for (section, at) in [("nodes", nodes), ("notes", notes)] {
                if let Some(items) = v[section].as_array_mut() {
                    for (item, &(x, y)) in items.iter_mut().zip(at) {
                        item["pos"] = json!([x.round(), y.round()]);
                    }
                }
            }
        });
    }

    pub fn add_note(&mut self, text: &str, pos: (f64, f64)) -> usize {
        self.edit(|v| {
            let notes = arr(v, "notes");
            notes.push(json!({"text": text, "pos": [snap(pos.0), snap(pos.1)]}));
            notes.len() - 1
        })
    }

    /// Removes the selection; a removed node takes its links with it.
    pub fn delete(&mut self, sel: &Selection) {
        self.edit(|v| {
            let gone = |l: &Value| sel.nodes.contains(str_at(l, "from")) || sel.nodes.contains(str_at(l, "to"));
            let mut i = 0;
            arr(v, "links").retain(|l| {
                let keep = !sel.links.contains(&i) && !gone(l);
                i += 1;
                keep
            });
            arr(v, "nodes").retain(|n| !sel.nodes.contains(str_at(n, "id")));
            let mut i = 0;
            arr(v, "notes").retain(|_| {
                let keep = !sel.notes.contains(&i);
                i += 1;
                keep
            });
            if v["notes"].as_array().is_some_and(Vec::is_empty) {
                v.as_object_mut().map(|o| o.remove("notes"));
            }
        });
    }

    /// Moves the selected nodes and notes by (dx, dy) without recording history (a drag
    /// records once at its end); `to_grid` snaps each to the grid.
    pub fn shift(&mut self, sel: &Selection, from: &Value, dx: f64, dy: f64, to_grid: bool) {
        let place = |p: (f64, f64)| {
            let (x, y) = moved_to(p, dx, dy, to_grid);
            json!([x, y])
        };
        for (i, n) in from["nodes"].as_array().into_iter().flatten().enumerate() {
            if sel.nodes.contains(str_at(n, "id")) {
                self.value["nodes"][i]["pos"] = place(pos_of(n));
            }
        }
        for (i, n) in from["notes"].as_array().into_iter().flatten().enumerate() {
            if sel.notes.contains(&i) {
                self.value["notes"][i]["pos"] = place(pos_of(n));
            }
        }
    }

    /// Moves the selection by (dx, dy) as one step (arrow keys).
    pub fn nudge(&mut self, sel: &Selection, dx: f64, dy: f64) {
        let from = self.value.clone();
        self.shift(sel, &from, dx, dy, false);
        self.commit(from);
    }

    pub fn copy(&self, sel: &Selection) -> Clip {
        let nodes: Vec<Value> = self.value["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|n| sel.nodes.contains(str_at(n, "id")))
            .cloned()
            .collect();
        let links = self.value["links"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|l| sel.nodes.contains(str_at(l, "from")) && sel.nodes.contains(str_at(l, "to")))
            .cloned()
            .collect();
        let notes = self.value["notes"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .filter(|(i, _)| sel.notes.contains(i))
            .map(|(_, n)| n.clone())
            .collect();
        Clip { nodes, links, notes }
    }

    /// Pastes a clip offset by (dx, dy), with fresh ids; returns the new selection.
    /// How far to move `clip` for its copy to land clear of everything on the canvas (the
    /// original included): below it, beside it, or further down, on the grid.
    pub fn clear_offset(&self, clip: &Clip) -> (f64, f64) {
        let list = |k: &str| self.value[k].as_array().map(Vec::as_slice).unwrap_or_default();
        let there = boxes(list("nodes"), list("notes"));
        let pasted = boxes(&clip.nodes, &clip.notes);
        let Some(first) = pasted.first() else { return (GRID * 2.0, GRID * 2.0) };
        let (x0, y0, x1, y1) = pasted.iter().fold((first.x, first.y, first.x, first.y), |(a, b, c, d), r| {
            (a.min(r.x), b.min(r.y), c.max(r.x + r.w), d.max(r.y + r.h))
        });
        let (w, h) = (snap(x1 - x0 + GRID * 2.0), snap(y1 - y0 + GRID * 2.0));
        let clear = |(dx, dy): (f64, f64)| {
            pasted.iter().all(|p| {
                let p = Rect::new(p.x + dx - GRID / 2.0, p.y + dy - GRID / 2.0, p.w + GRID, p.h + GRID);
                there.iter().all(|t| p.x + p.w <= t.x || t.x + t.w <= p.x || p.y + p.h <= t.y || t.y + t.h <= p.y)
            })
        };
        let tries = (1..=40).flat_map(|k| [(0.0, h * f64::from(k)), (w * f64::from(k), 0.0)]);
        tries.into_iter().find(|&o| clear(o)).unwrap_or((0.0, h))
    }

    pub fn paste(&mut self, clip: &Clip, dx: f64, dy: f64) -> Selection {
        let mut sel = Selection::default();
        let mut renamed = Vec::new();
        let mut nodes = Vec::new();
        let mut taken = self.clone();
        for n in &clip.nodes {
            let old = str_at(n, "id").to_string();
            let stem = old.trim_end_matches(|c: char| c.is_ascii_digit()).trim_end_matches('_');
            let id = taken.fresh_id(if stem.is_empty() { "node" } else { stem });
            let mut n = n.clone();
            n["id"] = json!(id);
            let (x, y) = pos_of(&n);
            n["pos"] = json!([x + dx, y + dy]);
            arr(&mut taken.value, "nodes").push(n.clone());
            sel.nodes.insert(id.clone());
            renamed.push((old, id));
            nodes.push(n);
        }
        let new_id = |old: &str| renamed.iter().find(|(o, _)| o == old).map(|(_, n)| n.clone());
        let links: Vec<Value> = clip
            .links
            .iter()
            .filter_map(|l| {
                let mut l = l.clone();
                l["from"] = json!(new_id(str_at(&l, "from"))?);
                l["to"] = json!(new_id(str_at(&l, "to"))?);
                Some(l)
            })
            .collect();
        let base = self.value["notes"].as_array().map_or(0, Vec::len);
        let notes: Vec<Value> = clip
            .notes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                sel.notes.insert(base + i);
                let mut n = n.clone();
                let (x, y) = pos_of(&n);
                n["pos"] = json!([x + dx, y + dy]);
                n
            })
            .collect();
        self.edit(|v| {
            arr(v, "nodes").extend(nodes);
            arr(v, "links").extend(links);
            if !notes.is_empty() {
                arr(v, "notes").extend(notes);
            }
        });
        sel
    }

    /// Renames a node, and every link that names it; refused, with the reason, for an id the
    /// file format does not allow or one already taken.
    pub fn rename(&mut self, old: &str, new: &str) -> Result<(), String> {
        let valid = !new.is_empty()
            && new.len() <= 64
            && new.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !valid {
            return Err("an id is 1 to 64 letters, digits, '_', '.' or '-'".into());
        }
        if new == old {
            return Ok(());
        }
        if self.node_index(new).is_some() {
            return Err(format!("\"{new}\" is already the id of a node"));
        }
        let Some(i) = self.node_index(old) else { return Err(format!("no node \"{old}\"")) };
        self.edit(|v| {
            v["nodes"][i]["id"] = json!(new);
            for link in v["links"].as_array_mut().into_iter().flatten() {
                for end in ["from", "to"] {
                    if link[end] == old {
                        link[end] = json!(new);
                    }
                }
            }
        });
        Ok(())
    }

    /// Sets (or, with `None`, removes) one field of the object at `path` (`nodes[2]`, `links[0]`,
    /// `notes[1]`): the inspector's edit.
    pub fn set_field(&mut self, section: &str, index: usize, field: &str, value: Option<Value>) {
        self.edit(|v| put(v, section, index, field, value));
    }

    /// Puts a field back as it was, outside the history: the run refused the value it was given
    /// (a live change past the server's limit), so the canvas shows what the run plays.
    pub fn revert_field(&mut self, section: &str, index: usize, field: &str, value: Option<Value>) {
        put(&mut self.value, section, index, field, value);
    }

    /// Writes positions for nodes that have none (a file saved without them), from `layout`.
    pub fn fill_positions(&mut self, layout: &[(f64, f64)]) {
        let Some(nodes) = self.value["nodes"].as_array_mut() else { return };
        for (n, &(x, y)) in nodes.iter_mut().zip(layout) {
            if n.get("pos").is_none() {
                n["pos"] = json!([x, y]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Doc {
        Doc::new(json!({"version": 1, "name": "t", "seed": 1, "nodes": [
            {"id": "p", "kind": "producer", "rate_per_s": 5, "pos": [0, 0]},
            {"id": "q", "kind": "queue", "pos": [200, 0]}],
            "links": [{"from": "p", "to": "q"}]}))
    }

    fn valid(d: &Doc) -> bool {
        edasim_sim::Model::from_value(&d.value).is_ok()
    }

    #[test]
    fn placed_nodes_run_and_undo_redo_walk_the_history() {
        let mut d = doc();
        let s = d.add_node(Kind::Service, (413.0, 9.0));
        assert_eq!(s, "service_1");
        assert_eq!(d.value["nodes"][2]["pos"], json!([420.0, 0.0]), "snapped to the grid");
        assert_eq!(d.add_link("q", &s), Ok("a consume link"));
        assert!(valid(&d), "{}", d.value);
        assert!(d.undo() && d.undo());
        assert_eq!(d.value, doc().value);
        assert!(!d.undo());
        assert!(d.redo());
        assert_eq!(d.value["nodes"].as_array().unwrap().len(), 3);
        d.add_node(Kind::Store, (0.0, 0.0));
        assert!(!d.can_redo(), "a new edit drops the redo steps");
    }

    #[test]
    fn links_that_mean_nothing_are_refused_with_the_reason() {
        let mut d = doc();
        let st = d.add_node(Kind::Store, (0.0, 100.0));
        let err = d.add_link("p", &st).unwrap_err();
        assert!(err.contains("a link from a producer to a store means nothing"), "{err}");
        assert!(d.add_link("p", "q").unwrap_err().contains("already linked"));
        let x = d.add_node(Kind::Exchange, (0.0, 200.0));
        assert_eq!(d.add_link("q", &x), Ok("a dead-letter link"));
        assert_eq!(d.value["links"][1]["dead_letter"], json!(true));
        // What the keyboard's "Link to" offers: only links that mean something and are new.
        let targets: Vec<String> = d.link_targets("q").into_iter().map(|(id, _)| id).collect();
        assert!(!targets.contains(&"p".to_string()) && !targets.contains(&x), "{targets:?}");
        let svc = d.add_node(Kind::Service, (0.0, 300.0));
        assert!(d.link_targets("q").contains(&(svc, "a consume link")), "{:?}", d.link_targets("q"));
    }

    #[test]
    fn a_paste_lands_clear_of_the_original_and_of_earlier_pastes() {
        let mut d = doc();
        let clip = d.copy(&Selection::node("p"));
        let before = boxes(d.value["nodes"].as_array().unwrap(), &[]);
        let (dx, dy) = d.clear_offset(&clip);
        let sel = d.paste(&clip, dx, dy);
        let (x, y) = pos_of(&d.value["nodes"][2]);
        assert!(sel.nodes.contains("p_1"));
        let new = Rect::new(x, y, 150.0, NODE_H);
        for b in &before {
            assert!(new.y >= b.y + b.h || new.x >= b.x + b.w, "{new:?} overlaps {b:?}");
        }
        let again = d.clear_offset(&clip);
        assert_ne!(again, (dx, dy), "a second paste goes clear of the first");
    }

    #[test]
    fn set_positions_moves_everything_in_one_step() {
        let mut d = doc();
        d.add_note("hi", (0.0, 0.0));
        let steps = d.undo.len();
        d.set_positions(&[(10.4, 20.0), (30.0, 40.6)], &[(50.0, 60.0)]);
        assert_eq!(
            (d.value["nodes"][0]["pos"].clone(), d.value["nodes"][1]["pos"].clone()),
            (json!([10.0, 20.0]), json!([30.0, 41.0]))
        );
        assert_eq!(d.value["notes"][0]["pos"], json!([50.0, 60.0]));
        assert_eq!(d.undo.len(), steps + 1);
    }

    #[test]
    fn delete_takes_links_along_and_copy_paste_renames() {
        let mut d = doc();
        let mut sel = Selection::node("p");
        sel.nodes.insert("q".into());
        let clip = d.copy(&sel);
        let pasted = d.paste(&clip, 40.0, 40.0);
        assert_eq!(pasted.nodes.iter().cloned().collect::<Vec<_>>(), ["p_1", "q_1"]);
        assert_eq!(d.value["links"][1], json!({"from": "p_1", "to": "q_1"}));
        assert_eq!(d.value["nodes"][3]["pos"], json!([240.0, 40.0]));
        assert!(valid(&d));
        d.delete(&Selection::node("q"));
        assert_eq!(d.value["links"].as_array().unwrap().len(), 1, "p→q went with q");
        assert!(valid(&d));
    }

    #[test]
    fn renames_carry_the_links_along() {
        let mut d = doc();
        assert_eq!(d.rename("q", "orders"), Ok(()));
        assert_eq!(d.value["links"][0], json!({"from": "p", "to": "orders"}));
        assert!(valid(&d));
        assert!(d.rename("orders", "p").unwrap_err().contains("already"));
        assert!(d.rename("orders", "has space").unwrap_err().contains("letters, digits"));
        assert!(d.undo());
        assert_eq!(d.value, doc().value, "one step");
    }

    #[test]
    fn a_drag_is_one_step_and_notes_move_with_nodes() {
        let mut d = doc();
        d.add_note("retries live here", (0.0, 300.0));
        let sel =
            Selection { nodes: BTreeSet::from(["q".to_string()]), notes: BTreeSet::from([0]), ..Default::default() };
        let before = d.begin();
        for step in 1..=10 {
            d.shift(&sel, &before, f64::from(step) * 3.3, 0.0, true);
        }
        d.commit(before);
        assert_eq!(d.value["nodes"][1]["pos"], json!([240.0, 0.0]));
        assert_eq!(d.value["notes"][0]["pos"], json!([40.0, 300.0]));
        assert!(d.undo());
        assert_eq!(d.value["nodes"][1]["pos"], json!([200, 0]));
        assert!(valid(&d));
    }
}
