//! The palette: the kinds a user drags onto the canvas (or, from the keyboard, places in the
//! middle of the view with Enter), and sticky notes.

use edasim_sim::topology::Kind;
use leptos::prelude::*;

use crate::canvas::gestures::Gesture;
use crate::canvas::node::icon;
use crate::state::editor::Editor;

/// What the palette offers: a node of a kind, or a note.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    Node(Kind),
    Note,
}

impl Item {
    fn name(self) -> &'static str {
        match self {
            Item::Node(k) => k.name(),
            Item::Note => "note",
        }
    }

    fn icon(self) -> &'static str {
        match self {
            Item::Node(k) => icon(k),
            Item::Note => "✎",
        }
    }
}

const ITEMS: &[(Item, &str, &str)] = &[
    (Item::Node(Kind::Producer), "Producer", "A source of events: an API taking orders, a clock, a device."),
    (
        Item::Node(Kind::Gateway),
        "Gateway",
        "An HTTP gateway (Traefik): a rate limit per client (429 past it) in front of the services it routes requests to.",
    ),
    (
        Item::Node(Kind::Exchange),
        "Exchange",
        "Routes each published message to the queues bound to it (fanout, direct, topic, headers).",
    ),
    (Item::Node(Kind::Queue), "Queue", "A FIFO buffer with broker semantics: limits, TTL, dead-lettering."),
    (Item::Node(Kind::Service), "Service", "Consumes a queue with replicas and workers; may fail, retry and publish."),
    (
        Item::Node(Kind::Store),
        "Store",
        "A database or cache a service calls (Redis, Postgres); a dedup store skips duplicates.",
    ),
    (Item::Note, "Note", "A sticky note for annotations; saved in the file."),
];

#[component]
pub fn Palette() -> impl IntoView {
    let ed = expect_context::<Editor>();
    // From the keyboard: in the middle of the view.
    let place_here = move |item: Item| ed.place(item, ed.free_spot(item));
    view! {
        <nav class="palette" aria-label="Palette: drag a kind onto the canvas">
            <h2>"Add"</h2>
            <ul>
                {ITEMS.iter().map(|&(item, name, help)| view! {
                    <li class=format!("palette-item {}", item.name()) id=format!("palette-{}", item.name()) tabindex="0" role="button"
                        title=help aria-label=format!("{name}: drag onto the canvas, or press Enter to place one")
                        on:pointerdown=move |e| {
                            if e.button() == 0 {
                                e.prevent_default();
                                ed.set_gesture(Gesture::Place { item });
                            }
                        }
                        on:keydown=move |e| if e.key() == "Enter" {
                            e.prevent_default();
                            place_here(item);
                        }>
                        <span class="icon">{item.icon()}</span>{name}
                    </li>
                }).collect_view()}
            </ul>
            <p class="hint">"Drag from a node's right-hand port to another node to link them."</p>
        </nav>
    }
}
