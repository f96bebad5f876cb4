//! The SVG canvas: notes, links and nodes (each its own view), the rubber band of a link being
//! drawn, the selection box; pan by dragging the background, zoom with the wheel.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::PointerEvent;

use crate::canvas::geometry::NODE_H;
use crate::canvas::gestures::{Gesture, stage_point, stage_rect, track};
use crate::canvas::link::LinkView;
use crate::canvas::node::NodeView;
use crate::canvas::note::NoteView;
use crate::state::connection::Live;
use crate::state::doc::GRID;
use crate::state::editor::Editor;

#[component]
pub fn Graph() -> impl IntoView {
    let live = expect_context::<Live>();
    let ed = expect_context::<Editor>();
    let rubber = RwSignal::new(None::<(f64, f64)>);
    let marquee = RwSignal::new(None::<[f64; 4]>);
    track(ed, rubber, marquee);
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
        // The observer lives as long as the page: its callback must too.
        measure.forget();
    });

    let background_down = move |e: PointerEvent| {
        if e.button() != 0 {
            return;
        }
        let (p, _) = stage_point(&e);
        if e.shift_key() {
            ed.set_gesture(Gesture::Box { start: p, base: ed.selection.get_untracked() });
        } else {
            ed.set_gesture(Gesture::Pan { start: p, camera: ed.camera.get_untracked(), moved: false });
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
        ed.graph.with(|g| {
            g.nodes.iter().enumerate().filter_map(|(i, n)| Some((i, n.id.clone(), n.kind?))).collect::<Vec<_>>()
        })
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
                        <LinkView i=k.0 dead_letter=k.3 live=live />
                    </For>
                </g>
                <g class="nodes">
                    <For each=node_keys key=|k| k.clone() let:k>
                        <NodeView i=k.0 id=k.1 kind=k.2 live=live />
                    </For>
                </g>
                {move || rubber.get().and_then(|(x, y)| {
                    let from = ed.gesture.with_value(|g| match g { Gesture::Link { from } => Some(from.clone()), _ => None })?;
                    let (a, b) = ed.graph.with_untracked(|g| g.nodes.iter().find(|n| n.id == from).map(|n| (n.x + n.w, n.y + NODE_H / 2.0)))?;
                    Some(view! { <path class="rubber" d=format!("M {a} {b} L {x} {y}") /> })
                })}
            </g>
            {move || marquee.get().map(|[x, y, w, h]| view! { <rect class="marquee" x=x y=y width=w height=h /> })}
        </svg>
    }
}

/// The element under a pointer event, for handlers that must ignore typing in fields.
pub fn in_text_field(target: Option<web_sys::EventTarget>) -> bool {
    target.and_then(|t| t.dyn_into::<web_sys::Element>().ok()).is_some_and(|el| {
        let tag = el.tag_name().to_ascii_lowercase();
        tag == "input" || tag == "textarea" || tag == "select"
    })
}
