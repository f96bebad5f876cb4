//! The canvas: nodes as shapes by kind with their live figures, links as arrows (dead-letter
//! links dashed, thickness from their rate), sticky notes; and the gestures that edit them:
//! drag to move (snapped to the grid), drag from a node's port to link, click and shift-click
//! to select, shift-drag a box, drag the background to pan, the wheel to zoom.

use edasim_protocol::{Health, NodeLive};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::PointerEvent;

use crate::camera::Camera;
use crate::connection::Live;
use crate::doc::{Doc, GRID, Selection};
use crate::editor::Editor;
use crate::model::{NODE_H, NODE_W, NOTE_H, NOTE_W, ViewGraph};

/// The figure a node shows under its name.
fn figure(kind: &str, live: Option<&NodeLive>) -> String {
    let Some(n) = live else { return String::new() };
    match kind {
        "queue" => format!("{} ready · {} unacked", n.depth, n.unacked),
        "service" => format!("{}/{} busy · {} up", n.busy, n.workers, n.replicas_up),
        _ => String::new(),
    }
}

pub fn icon(kind: &str) -> &'static str {
    match kind {
        "producer" => "⇢",
        "exchange" => "⋔",
        "queue" => "☰",
        "service" => "⚙",
        "store" => "⛁",
        "note" => "✎",
        _ => "?",
    }
}

/// The outline of a node of `kind` in its `NODE_W` × `NODE_H` box: a pill for producers, a
/// hexagon for exchanges, a box for queues, a rounded box for services, a cylinder for stores.
pub fn outline(kind: &str) -> String {
    let (w, h) = (NODE_W, NODE_H);
    let rounded = |r: f64| {
        format!(
            "M {r} 0 H {} A {r} {r} 0 0 1 {w} {r} V {} A {r} {r} 0 0 1 {} {h} H {r} A {r} {r} 0 0 1 0 {} V {r} A {r} {r} 0 0 1 {r} 0 Z",
            w - r,
            h - r,
            w - r,
            h - r
        )
    };
    match kind {
        "producer" => rounded(h / 2.0),
        "exchange" => format!("M 14 0 H {} L {w} {} L {} {h} H 14 L 0 {} Z", w - 14.0, h / 2.0, w - 14.0, h / 2.0),
        "store" => format!(
            "M 0 7 A {} 7 0 0 1 {w} 7 V {} A {} 7 0 0 1 0 {} Z M 0 7 A {} 7 0 0 0 {w} 7",
            w / 2.0,
            h - 7.0,
            w / 2.0,
            h - 7.0,
            w / 2.0
        ),
        "service" => rounded(10.0),
        _ => rounded(4.0),
    }
}

/// A label that fits its box (the whole one is the node's tooltip).
fn short(label: &str) -> String {
    const MAX: usize = 17;
    if label.chars().count() <= MAX {
        label.to_string()
    } else {
        format!("{}…", label.chars().take(MAX - 1).collect::<String>())
    }
}

/// Where the segment from `a` to `b` leaves the node box around `a`.
fn edge_point(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    if dx == 0.0 && dy == 0.0 {
        return a;
    }
    let sx = if dx != 0.0 { (NODE_W / 2.0) / dx.abs() } else { f64::MAX };
    let sy = if dy != 0.0 { (NODE_H / 2.0) / dy.abs() } else { f64::MAX };
    let s = sx.min(sy).min(1.0);
    (a.0 + dx * s, a.1 + dy * s)
}

/// The path of link `l` of `g`.
fn link_path(g: &ViewGraph, from: usize, to: usize) -> String {
    if from >= g.nodes.len() || to >= g.nodes.len() {
        return String::new();
    }
    let (a, b) = (g.centre(from), g.centre(to));
    if from == to {
        // A queue dead-lettering into itself: a loop above it.
        return format!("M {} {} c 40 -80 120 -80 160 0", a.0 - 80.0, a.1 - NODE_H / 2.0);
    }
    let (p, q) = (edge_point(a, b), edge_point(b, a));
    format!("M {} {} L {} {}", p.0, p.1, q.0, q.1)
}

/// Stroke width (world units) for a link carrying `rate` messages per simulated second:
/// logarithmic, so 1/s and 1,000/s are both readable.
pub fn thickness(rate: f64) -> f64 {
    if rate <= 0.0 { 1.5 } else { (1.5 + 2.0 * (1.0 + rate).log10()).min(9.0) }
}

/// A pointer gesture in progress.
#[derive(Clone, Debug, Default)]
pub enum Gesture {
    #[default]
    Idle,
    Pan {
        start: (f64, f64),
        camera: Camera,
        moved: bool,
    },
    Box {
        start: (f64, f64),
        base: Selection,
    },
    Move {
        start: (f64, f64),
        before: serde_json::Value,
        selection: Selection,
    },
    Link {
        from: String,
    },
    /// A kind dragged from the palette.
    Place {
        kind: String,
    },
}

thread_local! {
    pub static GESTURE: std::cell::RefCell<Gesture> = const { std::cell::RefCell::new(Gesture::Idle) };
}

pub fn set_gesture(g: Gesture) {
    GESTURE.with(|s| *s.borrow_mut() = g);
}

/// The stage's top-left corner on the page, and its size.
fn stage_rect() -> Option<web_sys::DomRect> {
    document().get_element_by_id("graph").map(|e| e.get_bounding_client_rect())
}

/// The pointer in stage coordinates, and whether it is over the stage.
pub fn stage_point(e: &PointerEvent) -> ((f64, f64), bool) {
    let Some(r) = stage_rect() else { return ((0.0, 0.0), false) };
    let (x, y) = (f64::from(e.client_x()) - r.left(), f64::from(e.client_y()) - r.top());
    ((x, y), x >= 0.0 && y >= 0.0 && x <= r.width() && y <= r.height())
}

/// Shows a short message next to the pointer for a few seconds.
pub fn tip(ed: Editor, text: String, at: (f64, f64)) {
    ed.tip.set(Some((text.clone(), at.0, at.1)));
    set_timeout(
        move || {
            if ed.tip.with_untracked(|t| t.as_ref().is_some_and(|t| t.0 == text)) {
                ed.tip.set(None);
            }
        },
        std::time::Duration::from_millis(3500),
    );
}

fn toggle<T: Ord + Clone>(set: &mut std::collections::BTreeSet<T>, item: &T) {
    if !set.remove(item) {
        set.insert(item.clone());
    }
}

/// Window-wide pointer moves and releases drive the gesture in progress (a drag that leaves
/// the stage keeps going).
fn track_gestures(ed: Editor, rubber: RwSignal<Option<(f64, f64)>>, marquee: RwSignal<Option<[f64; 4]>>) {
    let _ = window_event_listener(leptos::ev::pointermove, move |e| {
        let (p, _) = stage_point(&e);
        let cam = ed.camera.get_untracked();
        GESTURE.with(|g| match &mut *g.borrow_mut() {
            Gesture::Pan { start, camera, moved } => {
                let (dx, dy) = (p.0 - start.0, p.1 - start.1);
                *moved |= dx.abs() + dy.abs() > 3.0;
                ed.view_moved();
                ed.camera.set(Camera { x: camera.x - dx / camera.k, y: camera.y - dy / camera.k, k: camera.k });
            }
            Gesture::Box { start, .. } => {
                marquee.set(Some([start.0.min(p.0), start.1.min(p.1), (p.0 - start.0).abs(), (p.1 - start.1).abs()]))
            }
            Gesture::Move { start, before, selection } => {
                let w = cam.to_world(p.0, p.1);
                let (dx, dy) = (w.0 - start.0, w.1 - start.1);
                // Alt moves freely; otherwise every moved thing lands on the grid.
                ed.doc.update(|d| d.shift(selection, before, dx, dy, !e.alt_key()));
            }
            Gesture::Link { .. } => rubber.set(Some(cam.to_world(p.0, p.1))),
            Gesture::Place { .. } => ed.tip.set(None),
            Gesture::Idle => {}
        });
    });
    let _ = window_event_listener(leptos::ev::pointerup, move |e| {
        let gesture = GESTURE.with(|g| std::mem::take(&mut *g.borrow_mut()));
        let (p, inside) = stage_point(&e);
        let cam = ed.camera.get_untracked();
        let w = cam.to_world(p.0, p.1);
        match gesture {
            // A click on the background: on a moving message, its journey opens in the trace.
            Gesture::Pan { moved: false, .. } => match crate::dots::pick(p.0, p.1) {
                Some(root) => crate::connection::send(&edasim_protocol::ClientMsg::Trace { msg: root }),
                None => ed.selection.set(Selection::default()),
            },
            Gesture::Box { start, base } => {
                marquee.set(None);
                let (a, b) = (cam.to_world(start.0, start.1), w);
                let (x0, y0, x1, y1) = (a.0.min(b.0), a.1.min(b.1), a.0.max(b.0), a.1.max(b.1));
                let inside_box = |x: f64, y: f64, wd: f64, ht: f64| x >= x0 && y >= y0 && x + wd <= x1 && y + ht <= y1;
                let mut sel = base;
                ed.graph.with_untracked(|g| {
                    for n in g.nodes.iter().filter(|n| inside_box(n.x, n.y, NODE_W, NODE_H)) {
                        sel.nodes.insert(n.id.clone());
                    }
                    for (i, _) in g.notes.iter().enumerate().filter(|(_, n)| inside_box(n.x, n.y, NOTE_W, NOTE_H)) {
                        sel.notes.insert(i);
                    }
                });
                ed.selection.set(sel);
            }
            Gesture::Move { before, .. } => ed.doc.update(|d| d.commit(before)),
            Gesture::Link { from } => {
                rubber.set(None);
                let target = ed.graph.with_untracked(|g| g.hit(w.0, w.1).map(|i| g.nodes[i].id.clone()));
                if let Some(to) = target {
                    let mut result = Ok("");
                    ed.doc.update(|d| result = d.add_link(&from, &to));
                    match result {
                        Ok(role) => {
                            let count = ed.doc.with_untracked(|d| d.value["links"].as_array().map_or(0, Vec::len));
                            ed.selection.set(Selection { links: [count - 1].into(), ..Selection::default() });
                            tip(ed, format!("{from} → {to}: {role}"), p);
                        }
                        Err(why) => tip(ed, format!("Not linked: {why}"), p),
                    }
                }
            }
            Gesture::Place { kind } if inside => {
                if kind == "note" {
                    let mut i = 0;
                    ed.doc.update(|d| i = d.add_note("A note", (w.0 - NOTE_W / 2.0, w.1 - NOTE_H / 2.0)));
                    ed.selection.set(Selection { notes: [i].into(), ..Selection::default() });
                } else {
                    let mut id = String::new();
                    ed.doc.update(|d| id = d.add_node(&kind, (w.0 - NODE_W / 2.0, w.1 - NODE_H / 2.0)));
                    ed.selection.set(Selection::node(&id));
                }
            }
            _ => {}
        }
    });
}

#[component]
pub fn Graph() -> impl IntoView {
    let live = expect_context::<Live>();
    let ed = expect_context::<Editor>();
    let rubber = RwSignal::new(None::<(f64, f64)>);
    let marquee = RwSignal::new(None::<[f64; 4]>);
    track_gestures(ed, rubber, marquee);
    let svg = NodeRef::<leptos::svg::Svg>::new();
    // The stage's size follows the layout (the window, the panels), not only the window.
    Effect::new(move |_| {
        let Some(el) = svg.get() else { return };
        let measure = Closure::<dyn FnMut()>::new(move || {
            if let Some(r) = stage_rect() {
                ed.resized(r.width(), r.height());
            }
        });
        if let Ok(observer) = web_sys::ResizeObserver::new(measure.as_ref().unchecked_ref()) {
            observer.observe(&el);
        }
        measure.forget();
    });

    let background_down = move |e: PointerEvent| {
        if e.button() != 0 {
            return;
        }
        let (p, _) = stage_point(&e);
        if e.shift_key() {
            set_gesture(Gesture::Box { start: p, base: ed.selection.get_untracked() });
        } else {
            set_gesture(Gesture::Pan { start: p, camera: ed.camera.get_untracked(), moved: false });
        }
    };
    let wheel = move |e: web_sys::WheelEvent| {
        e.prevent_default();
        let Some(r) = stage_rect() else { return };
        let (sx, sy) = (f64::from(e.client_x()) - r.left(), f64::from(e.client_y()) - r.top());
        let factor = (-e.delta_y() * 0.0015).exp();
        ed.view_moved();
        ed.camera.update(|c| *c = c.zoom_at(sx, sy, factor));
    };

    let node_keys = move || {
        ed.graph
            .with(|g| g.nodes.iter().enumerate().map(|(i, n)| (i, n.id.clone(), n.kind.clone())).collect::<Vec<_>>())
    };
    let link_keys = move || {
        ed.graph.with(|g| g.links.iter().enumerate().map(|(i, l)| (i, l.from, l.to, l.dead_letter)).collect::<Vec<_>>())
    };
    let note_keys = move || (0..ed.graph.with(|g| g.notes.len())).collect::<Vec<_>>();

    view! {
        <svg id="graph" class="graph" node_ref=svg role="application"
            aria-label=move || ed.graph.with(|g| format!("Canvas of {}: {} nodes, {} links", g.name, g.nodes.len(), g.links.len()))
            on:pointerdown=background_down on:wheel=wheel>
            <defs>
                <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse" markerUnits="userSpaceOnUse">
                    <path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead" />
                </marker>
                <pattern id="grid" width=GRID height=GRID patternUnits="userSpaceOnUse">
                    <circle cx="1" cy="1" r="1" class="grid-dot" />
                </pattern>
            </defs>
            <g class="world" transform=move || ed.camera.get().transform()>
                <rect class="grid" x="-20000" y="-20000" width="40000" height="40000" fill="url(#grid)" pointer-events="none" />
                <g class="notes">
                    <For each=note_keys key=|i| *i let:i>
                        <NoteView i=i />
                    </For>
                </g>
                <g class="links">
                    <For each=link_keys key=|k| *k let:k>
                        <LinkView i=k.0 from=k.1 to=k.2 dead_letter=k.3 live=live />
                    </For>
                </g>
                <g class="nodes">
                    <For each=node_keys key=|k| k.clone() let:k>
                        <NodeView i=k.0 id=k.1 kind=k.2 live=live />
                    </For>
                </g>
                {move || rubber.get().and_then(|(x, y)| {
                    let from = GESTURE.with(|g| match &*g.borrow() { Gesture::Link { from } => Some(from.clone()), _ => None })?;
                    let (a, b) = ed.graph.with_untracked(|g| g.nodes.iter().find(|n| n.id == from).map(|n| (n.x + NODE_W, n.y + NODE_H / 2.0)))?;
                    Some(view! { <path class="rubber" d=format!("M {a} {b} L {x} {y}") /> })
                })}
            </g>
            {move || marquee.get().map(|[x, y, w, h]| view! { <rect class="marquee" x=x y=y width=w height=h /> })}
        </svg>
    }
}

/// A press on a node or a note: `select` updates the selection (Shift held or not), and a
/// drag of everything selected begins.
fn grab(ed: Editor, e: &PointerEvent, select: impl FnOnce(&mut Selection, bool)) {
    if e.button() != 0 {
        return;
    }
    e.stop_propagation();
    let (p, _) = stage_point(e);
    let shift = e.shift_key();
    ed.selection.update(|s| select(s, shift));
    let selection = ed.selection.get_untracked();
    let start = ed.camera.get_untracked().to_world(p.0, p.1);
    set_gesture(Gesture::Move { start, before: ed.doc.with_untracked(Doc::begin), selection });
}

#[component]
fn NodeView(i: usize, id: String, kind: String, live: Live) -> impl IntoView {
    let ed = expect_context::<Editor>();
    let node = move || ed.graph.with(|g| g.nodes.get(i).map(|n| (n.x, n.y, n.label.clone())));
    let running = move || ed.graph.with(|g| g.running.get(i).copied().flatten());
    let node_live = move || {
        let r = running()?;
        live.frame.with(|f| f.as_ref().and_then(|f| f.nodes.get(r).cloned()))
    };
    let health = move || node_live().map_or(Health::Ok, |l| l.health);
    // On the journey of the message the trace tab shows.
    let traced = move || {
        let Some(r) = running() else { return false };
        live.trace.with(|t| {
            t.as_ref().is_some_and(|(_, hops)| hops.iter().any(|h| h.from as usize == r || h.to as usize == r))
        })
    };
    let kind_fill = kind.clone();
    let fill = move || match (kind_fill.as_str(), node_live()) {
        ("queue", Some(l)) => (l.depth as f64 / 50.0).min(1.0) * (NODE_W - 12.0),
        _ => 0.0,
    };
    let id_sel = id.clone();
    let selected = Memo::new(move |_| ed.selection.with(|s| s.nodes.contains(&id_sel)));
    let id_down = id.clone();
    let down = move |e: PointerEvent| {
        grab(ed, &e, |s, shift| {
            if shift {
                toggle(&mut s.nodes, &id_down);
            } else if !s.nodes.contains(&id_down) {
                *s = Selection::node(&id_down);
            }
        })
    };
    let id_port = id.clone();
    let port_down = move |e: PointerEvent| {
        e.stop_propagation();
        set_gesture(Gesture::Link { from: id_port.clone() });
    };
    let id_key = id.clone();
    let key = move |e: web_sys::KeyboardEvent| {
        if e.key() == "Enter" || e.key() == " " {
            e.prevent_default();
            ed.selection.set(Selection::node(&id_key));
        }
    };
    let kind_fig = kind.clone();
    let kind_title = kind.clone();
    let label = move || node().map(|n| format!("{} ({kind_title})", n.2)).unwrap_or_default();
    let label_aria = label.clone();
    view! {
        <g class=format!("node {kind}") class:warning=move || health() == Health::Warning
            class:error=move || health() == Health::Error class:selected=move || selected.get()
            class:not-running=move || running().is_none() class:traced=traced
            on:pointerdown=down on:keydown=key
            tabindex="0" role="button" aria-label=label_aria aria-pressed=move || selected.get().to_string()
            transform=move || node().map(|(x, y, _)| format!("translate({x} {y})")).unwrap_or_default() data-id=id.clone()>
            <title>{label}</title>
            <path class="shape" d=outline(&kind) />
            <rect class="fill" x="6" y=NODE_H - 10.0 height="5" width=fill />
            <text class="icon" x="12" y="26">{icon(&kind)}</text>
            <text class="label" x="32" y="26">{move || node().map(|n| short(&n.2)).unwrap_or_default()}</text>
            <text class="figure" x="12" y="43">{move || figure(&kind_fig, node_live().as_ref())}</text>
            <circle class="port" cx=NODE_W cy=NODE_H / 2.0 r="7" on:pointerdown=port_down>
                <title>"Drag to another node to link"</title>
            </circle>
        </g>
    }
}

#[component]
fn LinkView(i: usize, from: usize, to: usize, dead_letter: bool, live: Live) -> impl IntoView {
    let ed = expect_context::<Editor>();
    let d = move || ed.graph.with(|g| link_path(g, from, to));
    let rate = move || {
        let r = ed.graph.with(|g| g.links.get(i).and_then(|l| l.running))?;
        live.link_rates.with(|rates| rates.get(r).copied())
    };
    let selected = move || ed.selection.with(|s| s.links.contains(&i));
    let down = move |e: PointerEvent| {
        e.stop_propagation();
        let shift = e.shift_key();
        ed.selection.update(|s| {
            if shift {
                toggle(&mut s.links, &i);
            } else {
                *s = Selection { links: [i].into(), ..Selection::default() };
            }
        });
    };
    view! {
        <g class="link-group" on:pointerdown=down>
            <path class="link-hit" d=d />
            <path class="link" class:dead-letter=dead_letter class:selected=selected d=d marker-end="url(#arrow)"
                stroke-width=move || thickness(rate().unwrap_or(0.0))>
                <title>{move || rate().map(|r| format!("{r:.1} msg/s")).unwrap_or_default()}</title>
            </path>
        </g>
    }
}

#[component]
fn NoteView(i: usize) -> impl IntoView {
    let ed = expect_context::<Editor>();
    let note = move || ed.graph.with(|g| g.notes.get(i).cloned());
    let selected = move || ed.selection.with(|s| s.notes.contains(&i));
    let down = move |e: PointerEvent| {
        grab(ed, &e, |s, shift| {
            if shift {
                toggle(&mut s.notes, &i);
            } else if !s.notes.contains(&i) {
                *s = Selection { notes: [i].into(), ..Selection::default() };
            }
        })
    };
    view! {
        <g class="note" class:selected=selected on:pointerdown=down tabindex="0" role="note"
            transform=move || note().map(|n| format!("translate({} {})", n.x, n.y)).unwrap_or_default()>
            <rect width=NOTE_W height=NOTE_H rx="3" />
            <foreignObject x="6" y="6" width=NOTE_W - 12.0 height=NOTE_H - 12.0>
                <div class="note-text">{move || note().map(|n| n.text).unwrap_or_default()}</div>
            </foreignObject>
        </g>
    }
}

/// The element under a pointer event, for handlers that must ignore typing in fields.
pub fn in_text_field(target: Option<web_sys::EventTarget>) -> bool {
    target.and_then(|t| t.dyn_into::<web_sys::Element>().ok()).is_some_and(|el| {
        let tag = el.tag_name().to_ascii_lowercase();
        tag == "input" || tag == "textarea" || tag == "select"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_leave_the_box_edge() {
        let p = edge_point((0.0, 0.0), (1000.0, 0.0));
        assert_eq!(p, (NODE_W / 2.0, 0.0));
        let p = edge_point((0.0, 0.0), (0.0, -500.0));
        assert_eq!(p, (0.0, -NODE_H / 2.0));
    }

    #[test]
    fn thickness_grows_with_rate_and_stays_bounded() {
        assert_eq!(thickness(0.0), 1.5);
        assert!(thickness(10.0) > thickness(1.0));
        assert!(thickness(1000.0) > thickness(100.0));
        assert!(thickness(1e12) <= 9.0);
    }
}
