//! The palette: the kinds a user drags onto the canvas (or, from the keyboard, places in the
//! middle of the view with Enter).

use leptos::prelude::*;

use crate::doc::Selection;
use crate::editor::Editor;
use crate::graph::{Gesture, icon, set_gesture};
use crate::model::{NODE_H, NODE_W};

const KINDS: &[(&str, &str, &str)] = &[
    ("producer", "Producer", "A source of events: an API taking orders, a clock, a device."),
    (
        "exchange",
        "Exchange",
        "Routes each published message to the queues bound to it (fanout, direct, topic, headers).",
    ),
    ("queue", "Queue", "A FIFO buffer with broker semantics: limits, TTL, dead-lettering."),
    ("service", "Service", "Consumes a queue with replicas and workers; may fail, retry and publish."),
    ("store", "Store", "A database or cache a service calls (Redis, Postgres); a dedup store skips duplicates."),
    ("note", "Note", "A sticky note for annotations; saved in the file."),
];

#[component]
pub fn Palette() -> impl IntoView {
    let ed = expect_context::<Editor>();
    let place_here = move |kind: &str| {
        let (w, h) = ed.stage.get_untracked();
        let (x, y) = ed.camera.get_untracked().to_world(w / 2.0, h / 2.0);
        if kind == "note" {
            let mut i = 0;
            ed.doc.update(|d| i = d.add_note("A note", (x, y)));
            ed.selection.set(Selection { notes: [i].into(), ..Selection::default() });
        } else {
            let mut id = String::new();
            ed.doc.update(|d| id = d.add_node(kind, (x - NODE_W / 2.0, y - NODE_H / 2.0)));
            ed.selection.set(Selection::node(&id));
        }
    };
    view! {
        <nav class="palette" aria-label="Palette: drag a kind onto the canvas">
            <h2>"Add"</h2>
            <ul>
                {KINDS.iter().map(|&(kind, name, help)| view! {
                    <li class=format!("palette-item {kind}") id=format!("palette-{kind}") tabindex="0" role="button"
                        title=help aria-label=format!("{name}: drag onto the canvas, or press Enter to place one")
                        on:pointerdown=move |e| {
                            if e.button() == 0 {
                                e.prevent_default();
                                set_gesture(Gesture::Place { kind: kind.to_string() });
                            }
                        }
                        on:keydown=move |e| if e.key() == "Enter" || e.key() == " " {
                            e.prevent_default();
                            place_here(kind);
                        }>
                        <span class="icon">{icon(kind)}</span>{name}
                    </li>
                }).collect_view()}
            </ul>
            <p class="hint">"Drag from a node's right-hand port to another node to link them."</p>
        </nav>
    }
}
