//! The stage: the canvas with the moving messages over it, and what floats on it — zoom and
//! fit, the minimap, find-a-node, the restart banner for structural edits, the pointer tip.

use leptos::prelude::*;

use crate::canvas::geometry::{NODE_H, NOTE_H, NOTE_W};
use crate::panels::keys::zoom;
use crate::state::editor::{Checked, Editor, Panel};

#[component]
pub fn Stage() -> impl IntoView {
    let ed = expect_context::<Editor>();
    let live = expect_context::<crate::state::connection::Live>();
    // A topology file dropped on the canvas opens like an import.
    let drop = move |e: web_sys::DragEvent| {
        e.prevent_default();
        if let Some(file) = e.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) {
            crate::panels::files::read_file(live, ed, file);
        }
    };
    view! {
        <main class="stage" aria-label="Canvas" on:dragover=|e: web_sys::DragEvent| e.prevent_default() on:drop=drop>
            // The moving messages are drawn under the graph: they pass under node names, never
            // over them.
            <crate::canvas::dots::Dots />
            <crate::canvas::graph::Graph />
            <Find />
            <Pending />
            <About />
            <crate::panels::lesson::LessonPanel />
            <div class="zoom" role="group" aria-label="View">
                <button id="zoom-in" aria-label="Zoom in" title="Zoom in (+)" on:click=move |_| zoom(ed, 1.25)>"+"</button>
                <button id="zoom-out" aria-label="Zoom out" title="Zoom out (−)" on:click=move |_| zoom(ed, 0.8)>"−"</button>
                <button id="fit" aria-label="Fit to view" title="Fit to view (F)" on:click=move |_| ed.fit()>"Fit"</button>
                <button id="auto-layout" aria-label="Auto layout" title="Auto layout: sources left, sinks right, links round the nodes (A; undo puts it back)"
                    on:click=move |_| ed.auto_layout()>"Auto layout"</button>
                <button id="help" aria-label="Keyboard shortcuts" title="Shortcuts (?)" on:click=move |_| ed.help.set(true)>"?"</button>
                <span class="panels" role="group" aria-label="Panels">
                    {[(Panel::Palette, "toggle-palette", "Palette (P)", "◧"), (Panel::Inspector, "toggle-inspector", "Inspector (I)", "◨"), (Panel::Dock, "toggle-dock", "Charts and log (D)", "⬓")]
                        .into_iter().map(|(panel, id, name, icon)| view! {
                            <button id=id title=format!("Show or fold away: {name}") aria-label=format!("{name}: show or fold away")
                                aria-pressed=move || ed.panels.get().shown(panel).to_string()
                                on:click=move |_| ed.panels.update(|p| p.toggle(panel))>{icon}</button>
                        }).collect_view()}
                </span>
            </div>
            <Minimap />
            {move || ed.tip.get().map(|(text, x, y)| view! {
                <div class="tip" role="status" style=format!("left:{}px;top:{}px", x + 14.0, y + 14.0)>{text}</div>
            })}
        </main>
    }
}

/// The topology's description, "what to watch", on the canvas when a scenario opens; it can be
/// closed, and the top bar's About opens it again.
#[component]
fn About() -> impl IntoView {
    let ed = expect_context::<Editor>();
    let text = move || ed.doc.with(|d| d.value["description"].as_str().unwrap_or("").to_string());
    view! {
        <Show when=move || ed.about.get() && !text().is_empty()>
            <section class="about" id="about" role="note" aria-label="About this scenario">
                <button class="close" aria-label="Close the description" title="Close (About, in the top bar, opens it again)"
                    on:click=move |_| ed.about.set(false)>"×"</button>
                <h2>{move || ed.doc.with(|d| d.value["name"].as_str().unwrap_or("").to_string())}</h2>
                <p>{text}</p>
            </section>
        </Show>
    }
}

/// Find a node by id or label: the first match is selected and brought to the middle.
#[component]
fn Find() -> impl IntoView {
    let ed = expect_context::<Editor>();
    let (query, set_query) = signal(String::new());
    let matches = move || {
        let q = query.get().to_lowercase();
        if q.is_empty() {
            return Vec::new();
        }
        ed.graph.with(|g| {
            g.nodes
                .iter()
                .filter(|n| n.id.to_lowercase().contains(&q) || n.label.to_lowercase().contains(&q))
                .map(|n| (n.id.clone(), n.label.clone()))
                .take(8)
                .collect::<Vec<_>>()
        })
    };
    let go = move |id: String| {
        ed.reveal(&id);
        set_query.set(String::new());
    };
    view! {
        <div class="find" role="search">
            <input id="find" type="search" placeholder="Find a node  /" aria-label="Find a node by name"
                prop:value=move || query.get() on:input=move |e| set_query.set(event_target_value(&e))
                on:keydown=move |e| {
                    if e.key() == "Enter" && let Some((id, _)) = matches().into_iter().next() {
                        go(id);
                    } else if e.key() == "Escape" {
                        set_query.set(String::new());
                    }
                } />
            <ul class="matches">
                {move || matches().into_iter().map(|(id, label)| {
                    let id2 = id.clone();
                    view! { <li><button on:click=move |_| go(id2.clone())>{label}" "<small>{id}</small></button></li> }
                }).collect_view()}
            </ul>
        </div>
    }
}

/// Structural edits while a run plays wait here for a restart; a canvas the engine cannot
/// run lists its problems (click one to select what it is about).
#[component]
fn Pending() -> impl IntoView {
    let ed = expect_context::<Editor>();
    let select_path = move |path: &str| {
        let index = path.strip_prefix("nodes[").and_then(|r| r.split(']').next()).and_then(|n| n.parse::<usize>().ok());
        if let Some(id) = index.and_then(|i| ed.graph.with_untracked(|g| g.nodes.get(i).map(|n| n.id.clone()))) {
            ed.reveal(&id);
        }
    };
    view! {
        <Show when=move || ed.pending.get()>
            {move || match ed.check.get() {
                Checked::Invalid(problems) => view! {
                    <section class="pending invalid" role="status" aria-label="Canvas problems">
                        <p>{format!("The canvas has {} problem(s); the run keeps playing the last topology that worked.", problems.len())}</p>
                        <ul>
                            {problems.into_iter().map(|p| {
                                let path = p.path.clone();
                                view! { <li><button class="problem" on:click=move |_| select_path(&path)>{p.to_string()}</button></li> }
                            }).collect_view()}
                        </ul>
                    </section>
                }.into_any(),
                _ => view! {
                    <section class="pending" role="status" aria-label="Structural changes">
                        <span>"The canvas has changes the running simulation cannot take live."</span>
                        <button id="restart" on:click=move |_| ed.restart_with_changes()>"Restart with changes"</button>
                        <button on:click=move |_| { ed.undo(); } title="Undo the last edit">"Undo"</button>
                    </section>
                }.into_any(),
            }}
        </Show>
    }
}

/// The whole topology small, the visible part framed; click or drag on it to look there.
#[component]
fn Minimap() -> impl IntoView {
    let ed = expect_context::<Editor>();
    const W: f64 = 132.0;
    const H: f64 = 80.0;
    // The topology's world rectangle, and the visible one.
    let rects = move || {
        let bounds = ed.graph.with(|g| g.bounds());
        let (sw, sh) = ed.stage.get();
        let cam = ed.camera.get();
        let (vx, vy) = cam.to_world(0.0, 0.0);
        (bounds, (vx, vy, sw / cam.k, sh / cam.k))
    };
    let frame = move || {
        let ((bx, by, bw, bh), (vx, vy, vw, vh)) = rects();
        // The map shows the topology and the viewport together.
        let (x0, y0) = (bx.min(vx), by.min(vy));
        let (x1, y1) = ((bx + bw).max(vx + vw), (by + bh).max(vy + vh));
        let s = (W / (x1 - x0)).min(H / (y1 - y0));
        (x0, y0, s, (vx, vy, vw, vh))
    };
    let look = move |e: web_sys::PointerEvent| {
        use wasm_bindgen::JsCast;
        let Some(el) = e.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
        let r = el.get_bounding_client_rect();
        let (x0, y0, s, _) = frame();
        let (wx, wy) = (x0 + (f64::from(e.client_x()) - r.left()) / s, y0 + (f64::from(e.client_y()) - r.top()) / s);
        let (sw, sh) = ed.stage.get_untracked();
        ed.view_moved();
        ed.camera.update(|c| *c = c.centre_on(wx, wy, sw, sh));
    };
    // Shown only while part of the topology is out of view: a fitted view needs no map.
    let needed = move || {
        let ((bx, by, bw, bh), (vx, vy, vw, vh)) = rects();
        bx < vx || by < vy || bx + bw > vx + vw || by + bh > vy + vh
    };
    view! {
        <Show when=needed>
        <svg class="minimap" id="minimap" width=W height=H role="img" aria-label="Minimap"
            on:pointerdown=move |e| { e.stop_propagation(); look(e) }
            on:pointermove=move |e| if e.buttons() == 1 { look(e) }>
            {move || {
                let (x0, y0, s, (vx, vy, vw, vh)) = frame();
                let nodes = ed.graph.with(|g| g.nodes.iter().map(|n| view! {
                    <rect class=format!("mini-node {}", n.kind.map_or("", |k| k.name())) x=(n.x - x0) * s y=(n.y - y0) * s width=n.w * s height=NODE_H * s />
                }).collect_view());
                let notes = ed.graph.with(|g| g.notes.iter().map(|n| view! {
                    <rect class="mini-note" x=(n.x - x0) * s y=(n.y - y0) * s width=NOTE_W * s height=NOTE_H * s />
                }).collect_view());
                view! {
                    {notes}
                    {nodes}
                    <rect class="mini-view" x=(vx - x0) * s y=(vy - y0) * s width=vw * s height=vh * s />
                }
            }}
        </svg>
        </Show>
    }
}
