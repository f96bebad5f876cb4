//! The editor's state and how the canvas and the run stay in step.
//!
//! The canvas is a [`Doc`]: the user's topology. The run plays the topology the server last
//! loaded. After every edit the canvas is checked by the engine's own model (compiled to wasm)
//! and compared with what the run plays ([`reconcile::plan`]): moves and labels change
//! nothing, parameters the engine changes live are sent as `set_param`, and a new structure
//! is loaded at once if the run has not started, or waits for "Restart with changes".

use edasim_protocol::ClientMsg;
use edasim_sim::{Model, Problem};
use leptos::prelude::*;
use serde_json::Value;

use std::collections::BTreeSet;

use crate::canvas::camera::Camera;
use crate::canvas::geometry::{NODE_H, NODE_W, NOTE_H, NOTE_W, ViewGraph};
use crate::canvas::gestures::Gesture;
use crate::canvas::route::{Rect, Routes};
use crate::panels::palette::Item;
use crate::state::connection::Live;
use crate::state::doc::{Clip, Doc, Selection, moved_to};
use crate::state::reconcile::{Plan, plan};

/// The canvas as the engine's model reads it.
#[derive(Clone, Debug, PartialEq)]
pub enum Checked {
    /// Nothing on the canvas yet.
    Empty,
    /// Valid: the normalised topology (as the server would echo it) and its warnings.
    Valid {
        normal: Value,
        warnings: Vec<Problem>,
    },
    Invalid(Vec<Problem>),
}

/// A drag in progress, drawn without touching the document: what moves (canvas indices) and
/// by how much. Releasing it makes one edit of the document.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DragPreview {
    pub nodes: BTreeSet<usize>,
    pub notes: BTreeSet<usize>,
    pub dx: f64,
    pub dy: f64,
    pub to_grid: bool,
}

impl DragPreview {
    pub fn new(ed: Editor, sel: &Selection, dx: f64, dy: f64, to_grid: bool) -> DragPreview {
        let nodes = ed.graph.with_untracked(|g| {
            g.nodes.iter().enumerate().filter(|(_, n)| sel.nodes.contains(&n.id)).map(|(i, _)| i).collect()
        });
        DragPreview { nodes, notes: sel.notes.clone(), dx, dy, to_grid }
    }
}

/// A live change the run refused, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Refusal {
    pub node: String,
    pub field: String,
    pub message: String,
}

/// Live changes remembered for a roll-back: enough for any burst of edits a person makes.
const INFLIGHT: usize = 64;

/// The panels around the canvas, each shown or folded away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Panels {
    pub palette: bool,
    pub inspector: bool,
    pub dock: bool,
}

impl Default for Panels {
    fn default() -> Self {
        Panels { palette: true, inspector: true, dock: true }
    }
}

/// A panel that folds away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Panel {
    Palette,
    Inspector,
    Dock,
}

impl Panels {
    pub fn shown(self, p: Panel) -> bool {
        match p {
            Panel::Palette => self.palette,
            Panel::Inspector => self.inspector,
            Panel::Dock => self.dock,
        }
    }

    pub fn show(&mut self, p: Panel) {
        if !self.shown(p) {
            self.toggle(p);
        }
    }

    pub fn toggle(&mut self, p: Panel) {
        let f = match p {
            Panel::Palette => &mut self.palette,
            Panel::Inspector => &mut self.inspector,
            Panel::Dock => &mut self.dock,
        };
        *f = !*f;
    }
}

#[derive(Clone, Copy)]
pub struct Editor {
    /// The connection this editor's edits go to.
    pub live: Live,
    pub doc: RwSignal<Doc>,
    pub selection: RwSignal<Selection>,
    pub camera: RwSignal<Camera>,
    /// The stage's size in CSS pixels.
    pub stage: RwSignal<(f64, f64)>,
    pub check: Memo<Checked>,
    /// The canvas drawn, related to the running topology.
    pub graph: Memo<ViewGraph>,
    /// Where each link runs (around nodes and notes), a drag in progress included.
    pub routes: Memo<Routes>,
    /// Structural edits that wait for a restart of the run.
    pub pending: RwSignal<bool>,
    /// A message next to the pointer (a refused link): text, screen x, y.
    pub tip: RwSignal<Option<(String, f64, f64)>>,
    /// The shortcuts overlay.
    pub help: RwSignal<bool>,
    /// Local storage could not keep the canvas: closing the tab would lose it.
    pub storage_failed: RwSignal<bool>,
    /// The pointer gesture in progress.
    pub gesture: StoredValue<Gesture>,
    /// The dark theme is on (the canvas's own colours follow it).
    pub dark: RwSignal<bool>,
    /// Which panels are shown around the canvas.
    pub panels: RwSignal<Panels>,
    /// The scenario's description ("what to watch") is shown on the canvas.
    pub about: RwSignal<bool>,
    /// Presenter mode (a walkthrough on a projector): the canvas full width, no legend, one
    /// row of top bar, the step in large type beneath.
    pub presenting: RwSignal<bool>,
    /// The node whose charts are drawn dashed over the selected node's (a comparison).
    pub compare: RwSignal<Option<String>>,
    /// The last live change the run refused: the field shows why, next to it.
    pub refused: RwSignal<Option<Refusal>>,
    /// Live changes sent and not refused (yet): node, parameter, and the value before, to put
    /// back if the run refuses (the newest last; the oldest are forgotten).
    inflight: StoredValue<Vec<(String, String, Value)>>,
    /// A drag's preview: where what is being moved is drawn until it is released.
    pub drag: RwSignal<Option<DragPreview>>,
    clip: StoredValue<Option<Clip>>,
    /// The next `loaded` replaces the canvas (a scenario picked from the server's list).
    adopt: StoredValue<bool>,
    /// What the engine runs: the server's topology plus the live changes sent since.
    applied: StoredValue<Option<Value>>,
    /// The last topology sent to be loaded (a restart is not asked twice for the same).
    last_sent: StoredValue<Option<Value>>,
    /// The document as last exported (for the warning before closing the tab).
    pub exported: StoredValue<Value>,
    /// The view was fitted and the user has not panned or zoomed since: a resized stage refits.
    auto_fit: StoredValue<bool>,
}

/// Where the canvas is kept between page loads.
pub const STORAGE_KEY: &str = "edasim.topology";

pub fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

/// The boxes of a graph's nodes and notes as drawn, with what a drag moves where it is dragged.
fn boxes_of(g: &ViewGraph, drag: Option<&DragPreview>) -> (Vec<Rect>, Vec<Rect>) {
    let at = |(x, y): (f64, f64), moving: bool| match drag {
        Some(d) if moving => moved_to((x, y), d.dx, d.dy, d.to_grid),
        _ => (x, y),
    };
    let nodes: Vec<Rect> = (g.nodes.iter().enumerate())
        .map(|(i, n)| {
            let (x, y) = at((n.x, n.y), drag.is_some_and(|d| d.nodes.contains(&i)));
            Rect::new(x, y, n.w, NODE_H)
        })
        .collect();
    let notes: Vec<Rect> = (g.notes.iter().enumerate())
        .map(|(i, n)| {
            let (x, y) = at((n.x, n.y), drag.is_some_and(|d| d.notes.contains(&i)));
            Rect::new(x, y, NOTE_W, NOTE_H)
        })
        .collect();
    (nodes, notes)
}

/// The routes of a graph's links, around its boxes as drawn.
fn routes_of(g: &ViewGraph, drag: Option<&DragPreview>) -> Routes {
    let (nodes, notes) = boxes_of(g, drag);
    let links: Vec<(usize, usize)> = g.links.iter().map(|l| (l.from, l.to)).collect();
    Routes::new(&nodes, &notes, &links)
}

pub fn check(value: &Value) -> Checked {
    if value.is_null() {
        return Checked::Empty;
    }
    match Model::from_value(value) {
        Ok(model) => Checked::Valid {
            normal: serde_json::to_value(model.topology()).unwrap_or_default(),
            warnings: model.warnings().to_vec(),
        },
        Err(invalid) => Checked::Invalid(invalid.problems),
    }
}

impl Editor {
    pub fn new(live: Live) -> Editor {
        let doc = RwSignal::new(Doc::new(Value::Null));
        let check = Memo::new(move |_| doc.with(|d| check(&d.value)));
        let graph = Memo::new(move |_| {
            let mut g = doc.with(|d| ViewGraph::from_topology(&d.value));
            live.topology.with(|t| g.attach(t.as_ref().unwrap_or(&Value::Null)));
            g
        });
        let drag = RwSignal::new(None::<DragPreview>);
        let routes = Memo::new(move |_| graph.with(|g| drag.with(|d| routes_of(g, d.as_ref()))));
        let ed = Editor {
            live,
            doc,
            selection: RwSignal::new(Selection::default()),
            camera: RwSignal::new(Camera::default()),
            stage: RwSignal::new((0.0, 0.0)),
            check,
            graph,
            routes,
            pending: RwSignal::new(false),
            tip: RwSignal::new(None),
            help: RwSignal::new(false),
            storage_failed: RwSignal::new(false),
            gesture: StoredValue::new(Gesture::Idle),
            dark: RwSignal::new(crate::panels::theme::initially_dark()),
            panels: RwSignal::new(Panels::default()),
            about: RwSignal::new(false),
            presenting: RwSignal::new(false),
            compare: RwSignal::new(None),
            refused: RwSignal::new(None),
            inflight: StoredValue::new(Vec::new()),
            drag,
            clip: StoredValue::new(None),
            adopt: StoredValue::new(false),
            applied: StoredValue::new(None),
            last_sent: StoredValue::new(None),
            exported: StoredValue::new(Value::Null),
            auto_fit: StoredValue::new(true),
        };
        ed.keep_in_step(live);
        ed.keep_in_storage();
        ed
    }

    /// After every edit and every load: bring the run to the canvas where it can be.
    fn keep_in_step(self, live: Live) {
        Effect::new(move |_| {
            let checked = self.check.get();
            if live.topology.with(Option::is_none) {
                return;
            }
            match checked {
                Checked::Empty => {}
                Checked::Invalid(_) => self.pending.set(true),
                Checked::Valid { normal, .. } => self.apply(live, normal),
            }
        });
    }

    fn apply(self, live: Live, normal: Value) {
        let Some(applied) = self.applied.get_value().or_else(|| live.topology.get_untracked()) else { return };
        match plan(&applied, &normal) {
            Plan::Same => self.pending.set(false),
            Plan::Live(changes) => {
                for (node, change) in changes {
                    let before = node_field(&applied, &node, change.name());
                    self.inflight.update_value(|f| {
                        f.push((node.clone(), change.name().to_string(), before));
                        let over = f.len().saturating_sub(INFLIGHT);
                        f.drain(..over);
                    });
                    live.send(&ClientMsg::SetParam { node, change });
                }
                self.applied.set_value(Some(normal));
                self.pending.set(false);
            }
            Plan::Restart => {
                let at_start = !live.playing.get_untracked()
                    && live.frame.with_untracked(|f| f.as_ref().is_none_or(|f| f.t_ms == 0.0));
                let asked = self.last_sent.with_value(|s| s.as_ref() == Some(&normal));
                if at_start && !asked {
                    self.load(normal);
                } else {
                    self.pending.set(true);
                }
            }
        }
    }

    /// Whether the run plays exactly the canvas.
    pub fn in_sync(self) -> bool {
        match self.check.get_untracked() {
            Checked::Valid { normal, .. } => self.applied.with_value(|a| a.as_ref() == Some(&normal)),
            _ => false,
        }
    }

    /// Loads the canvas into the run (a restart with the changes).
    pub fn restart_with_changes(self) {
        if let Checked::Valid { normal, .. } = self.check.get_untracked() {
            self.load(normal);
        }
    }

    fn load(self, normal: Value) {
        self.last_sent.set_value(Some(normal.clone()));
        self.live.send(&ClientMsg::LoadTopology { topology: normal });
    }

    /// The server loaded `topology` (ours, a scenario, or its default at connection).
    pub fn on_loaded(self, live: Live, topology: Value) {
        self.applied.set_value(Some(topology.clone()));
        let adopt = self.adopt.get_value() || self.doc.with_untracked(|d| d.value.is_null());
        if adopt {
            self.adopt.set_value(false);
            let first = self.doc.with_untracked(|d| d.value.is_null());
            let value = with_positions(topology.clone());
            self.doc.update(|d| if first { *d = Doc::new(value) } else { d.replace(value) });
            self.selection.set(Selection::default());
            self.fit_later();
            // A scenario that opens says what to watch.
            self.about.set(topology.get("description").is_some_and(|d| d.as_str().is_some_and(|d| !d.is_empty())));
        }
        live.topology.set(Some(topology));
    }

    /// The run refused a live change of `param` of `node`: the field goes back to what the run
    /// plays, and says why next to it.
    pub fn on_refused(self, node: &str, param: &str, message: String) {
        let mut before = None;
        self.inflight.update_value(|f| {
            if let Some(i) = f.iter().rposition(|(n, p, _)| n == node && p == param) {
                before = Some(f.remove(i).2);
            }
        });
        let Some(before) = before else { return };
        let old = (!before.is_null()).then_some(before);
        if let Some(i) = self.doc.with_untracked(|d| d.node_index(node)) {
            self.doc.update(|d| d.revert_field("nodes", i, param, old.clone()));
        }
        self.applied.update_value(|a| {
            if let Some(a) = a.as_mut()
                && let Some(i) = a["nodes"].as_array().and_then(|ns| ns.iter().position(|n| n["id"] == node))
            {
                crate::state::doc::put(a, "nodes", i, param, old);
            }
        });
        self.refused.set(Some(Refusal { node: node.to_string(), field: param.to_string(), message }));
    }

    /// The server refused a load: a scenario is not adopted after all.
    pub fn on_load_refused(self) {
        self.adopt.set_value(false);
    }

    /// Starts the run again from zero, with the canvas's live values applied over it.
    pub fn reset(self, live: Live) {
        live.send(&ClientMsg::Reset {});
        // The engine is back to the loaded topology: the canvas's live values go again.
        self.applied.set_value(live.topology.get_untracked());
        if let Checked::Valid { normal, .. } = self.check.get_untracked() {
            self.apply(live, normal);
        }
    }

    /// Picks a shipped scenario: the server loads it and the canvas becomes it.
    pub fn open_scenario(self, name: String) {
        self.adopt.set_value(true);
        self.live.send(&ClientMsg::LoadScenario { name });
    }

    /// The next topology the server loads replaces the canvas (a watcher's, a fork's).
    pub fn adopt_next(self) {
        self.adopt.set_value(true);
    }

    /// Opens a shipped walkthrough: the server loads its scenario (adopted as a scenario is)
    /// and sends the file.
    pub fn open_walkthrough(self, name: String) {
        self.adopt.set_value(true);
        self.live.send(&ClientMsg::OpenWalkthrough { name });
    }

    /// Opens a topology the user brought (a file, pasted text, a share link): checked here
    /// first, so a bad one changes nothing and lists every problem with its path.
    pub fn open(self, live: Live, value: Value, source: &str) -> bool {
        match check(&value) {
            Checked::Valid { .. } => {
                self.doc.update(|d| d.replace(with_positions(value)));
                self.selection.set(Selection::default());
                self.fit_later();
                self.restart_with_changes();
                true
            }
            Checked::Invalid(problems) => {
                live.problems.update(|p| {
                    p.push(format!("{source}: the topology has problems; the canvas is unchanged"));
                    p.extend(problems.iter().map(ToString::to_string));
                });
                false
            }
            Checked::Empty => false,
        }
    }

    /// Starts over on an empty canvas (and an empty run: starting over is what New means,
    /// so it does not wait for "Restart with changes").
    pub fn new_canvas(self) {
        let blank = serde_json::json!({"version": 1, "name": "Untitled", "seed": 1, "nodes": [], "links": []});
        self.doc.update(|d| d.replace(blank));
        self.selection.set(Selection::default());
        self.camera.set(Camera::default());
        self.auto_fit.set_value(true);
        self.restart_with_changes();
    }

    /// Fits the view once the stage has a size (now, if it has one).
    pub fn fit_later(self) {
        let (w, _) = self.stage.get_untracked();
        if w > 0.0 {
            self.fit();
        } else {
            request_animation_frame(move || self.fit());
        }
    }

    /// The user moved the view: keep it where they put it.
    pub fn view_moved(self) {
        self.auto_fit.set_value(false);
    }

    /// The stage has a new size.
    pub fn resized(self, w: f64, h: f64) {
        if self.stage.get_untracked() != (w, h) {
            self.stage.set((w, h));
            if self.auto_fit.get_value() {
                self.fit();
            }
        }
    }

    pub fn fit(self) {
        self.auto_fit.set_value(true);
        let (w, h) = self.stage.get_untracked();
        let bounds = self.graph.with_untracked(ViewGraph::bounds);
        // Clear of the zoom buttons and search box above, and of the legend below (folded away
        // in presenter mode).
        let (top, bottom) = if self.presenting.get_untracked() { (8.0, 8.0) } else { (40.0, 48.0) };
        self.camera.set(Camera::fit_between(bounds, w, h, top, bottom));
    }

    pub fn copy(self) {
        let clip = self.selection.with_untracked(|s| self.doc.with_untracked(|d| d.copy(s)));
        self.clip.set_value(Some(clip));
    }

    pub fn cut(self) {
        self.copy();
        self.delete();
    }

    pub fn paste(self) {
        let Some(clip) = self.clip.get_value() else { return };
        let mut sel = Selection::default();
        self.doc.update(|d| {
            let (dx, dy) = d.clear_offset(&clip);
            sel = d.paste(&clip, dx, dy);
        });
        self.selection.set(sel);
    }

    pub fn delete(self) {
        let sel = self.selection.get_untracked();
        if !sel.is_empty() {
            self.doc.update(|d| d.delete(&sel));
            self.selection.set(Selection::default());
        }
    }

    /// Links node `from` to node `to` (from a drag between ports or from the keyboard) and
    /// selects the new link. Returns what it means, or why it was refused.
    pub fn link(self, from: &str, to: &str) -> Result<&'static str, String> {
        let mut result = Ok("");
        self.doc.update(|d| result = d.add_link(from, to));
        if result.is_ok() {
            let count = self.doc.with_untracked(|d| d.value["links"].as_array().map_or(0, Vec::len));
            self.selection.set(Selection { links: [count.saturating_sub(1)].into(), ..Selection::default() });
        }
        result
    }

    /// Lays the whole canvas out afresh (sources left, sinks right; one step of history) and
    /// fits it in view.
    pub fn auto_layout(self) {
        let (nodes, notes) = self.graph.with_untracked(|g| {
            let mut g = g.clone();
            crate::canvas::layout::layered(&mut g);
            (
                g.nodes.iter().map(|n| (n.x, n.y)).collect::<Vec<_>>(),
                g.notes.iter().map(|n| (n.x, n.y)).collect::<Vec<_>>(),
            )
        });
        self.doc.update(|d| d.set_positions(&nodes, &notes));
        self.fit();
    }

    pub fn undo(self) {
        self.doc.update(|d| {
            d.undo();
        });
        self.drop_stale_selection();
    }

    pub fn redo(self) {
        self.doc.update(|d| {
            d.redo();
        });
        self.drop_stale_selection();
    }

    fn drop_stale_selection(self) {
        let sel = self.selection.get_untracked();
        let kept = self.doc.with_untracked(|d| {
            let links = d.value["links"].as_array().map_or(0, Vec::len);
            let notes = d.value["notes"].as_array().map_or(0, Vec::len);
            Selection {
                nodes: sel.nodes.iter().filter(|id| d.node_index(id).is_some()).cloned().collect(),
                links: sel.links.iter().copied().filter(|i| *i < links).collect(),
                notes: sel.notes.iter().copied().filter(|i| *i < notes).collect(),
            }
        });
        if kept != sel {
            self.selection.set(kept);
        }
    }

    pub fn select_all(self) {
        let sel = self.doc.with_untracked(|d| Selection {
            nodes: d.value["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|n| n["id"].as_str().map(str::to_string))
                .collect(),
            links: (0..d.value["links"].as_array().map_or(0, Vec::len)).collect(),
            notes: (0..d.value["notes"].as_array().map_or(0, Vec::len)).collect(),
        });
        self.selection.set(sel);
    }

    pub fn nudge(self, dx: f64, dy: f64) {
        let sel = self.selection.get_untracked();
        if !sel.nodes.is_empty() || !sel.notes.is_empty() {
            self.doc.update(|d| d.nudge(&sel, dx, dy));
        }
    }

    pub fn set_gesture(self, g: Gesture) {
        self.gesture.set_value(g);
    }

    /// Ends the gesture in progress, returning it.
    pub fn take_gesture(self) -> Gesture {
        let mut g = Gesture::Idle;
        self.gesture.update_value(|cur| g = std::mem::take(cur));
        g
    }

    /// Where node `i` of the canvas is drawn: its place in the document, or where the drag in
    /// progress puts it.
    pub fn node_pos(self, i: usize) -> Option<(f64, f64)> {
        let at = self.graph.with(|g| g.nodes.get(i).map(|n| (n.x, n.y)))?;
        Some(self.dragged(at, |d| d.nodes.contains(&i)))
    }

    /// `at`, or where the drag in progress puts it if `moving` says the drag moves it.
    fn dragged(self, at: (f64, f64), moving: impl Fn(&DragPreview) -> bool) -> (f64, f64) {
        self.drag.with(|d| match d {
            Some(d) if moving(d) => moved_to(at, d.dx, d.dy, d.to_grid),
            _ => at,
        })
    }

    /// Where note `i` is drawn (see [`Editor::node_pos`]).
    pub fn note_pos(self, i: usize) -> Option<(f64, f64)> {
        let at = self.graph.with(|g| g.notes.get(i).map(|n| (n.x, n.y)))?;
        Some(self.dragged(at, |d| d.notes.contains(&i)))
    }

    /// Places a palette item centred on the world point `at` and selects it: the one way a node
    /// or a note is added, whether dropped on the canvas or placed from the keyboard.
    pub fn place(self, item: Item, at: (f64, f64)) {
        match item {
            Item::Note => {
                let mut i = 0;
                self.doc.update(|d| i = d.add_note("A note", (at.0 - NOTE_W / 2.0, at.1 - NOTE_H / 2.0)));
                self.selection.set(Selection { notes: [i].into(), ..Selection::default() });
            }
            Item::Node(kind) => {
                let mut id = String::new();
                self.doc.update(|d| id = d.add_node(kind, (at.0 - NODE_W / 2.0, at.1 - NODE_H / 2.0)));
                self.selection.set(Selection::node(&id));
            }
        }
    }

    /// Where an item placed from the keyboard goes: the free spot nearest the middle of the
    /// view, on no node, note or link.
    pub fn free_spot(self, item: Item) -> (f64, f64) {
        let (w, h) = self.stage.get_untracked();
        let centre = self.camera.get_untracked().to_world(w / 2.0, h / 2.0);
        let size = if item == Item::Note { (NOTE_W, NOTE_H) } else { (NODE_W, NODE_H) };
        let taken: Vec<Rect> = self.graph.with_untracked(|g| {
            let (mut nodes, notes) = boxes_of(g, None);
            nodes.extend(notes);
            nodes
        });
        self.routes.with_untracked(|r| crate::canvas::layout::free_spot(centre, size, &taken, &r.paths))
    }

    /// Selects a node and brings it to the middle of the view.
    pub fn reveal(self, id: &str) {
        let Some((x, y)) = self
            .graph
            .with_untracked(|g| g.nodes.iter().find(|n| n.id == id).map(|n| (n.x + NODE_W / 2.0, n.y + NODE_H / 2.0)))
        else {
            return;
        };
        let (w, h) = self.stage.get_untracked();
        self.view_moved();
        self.camera.update(|c| *c = c.centre_on(x, y, w, h));
        self.selection.set(Selection::node(id));
    }

    /// The canvas is kept in local storage after every edit (not a watcher's: the teacher's
    /// canvas is not the student's own, until a fork makes it so); if the browser refuses, the
    /// tab warns before closing with changes not exported.
    fn keep_in_storage(self) {
        Effect::new(move |_| {
            if self.live.watching.with(Option::is_some) {
                return;
            }
            let text = self.doc.with(|d| (!d.value.is_null()).then(|| d.value.to_string()));
            let Some(text) = text else { return };
            let saved = storage().is_some_and(|s| s.set_item(STORAGE_KEY, &text).is_ok());
            self.storage_failed.set(!saved);
        });
        let _ = window_event_listener(leptos::ev::beforeunload, move |e| {
            let unexported = self.doc.with_untracked(|d| self.exported.with_value(|x| *x != d.value));
            if self.storage_failed.get_untracked() && unexported {
                e.prevent_default();
                e.set_return_value("The canvas could not be kept in this browser and has changes not exported.");
            }
        });
    }
}

/// The value of `field` of node `id` in a topology (`null` when it has none).
fn node_field(topology: &Value, id: &str, field: &str) -> Value {
    topology["nodes"]
        .as_array()
        .and_then(|ns| ns.iter().find(|n| n["id"] == id))
        .and_then(|n| n.get(field))
        .cloned()
        .unwrap_or(Value::Null)
}

/// A topology with a position for every node (laid out where the file gives none), so that
/// what Export saves has them.
pub fn with_positions(mut value: Value) -> Value {
    let missing = value["nodes"].as_array().is_some_and(|ns| ns.iter().any(|n| n.get("pos").is_none()));
    if missing {
        let g = ViewGraph::from_topology(&value);
        let layout: Vec<(f64, f64)> = g.nodes.iter().map(|n| (n.x, n.y)).collect();
        let mut d = Doc::new(value);
        d.fill_positions(&layout);
        value = d.value;
    }
    value
}
