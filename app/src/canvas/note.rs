//! A sticky note on the canvas: a teacher's annotation, moved like a node.

use leptos::prelude::*;
use web_sys::PointerEvent;

use crate::canvas::geometry::{NOTE_H, NOTE_W};
use crate::canvas::gestures::{grab, toggle};
use crate::state::doc::Selection;
use crate::state::editor::Editor;

#[component]
pub fn NoteView(i: usize) -> impl IntoView {
    let ed = expect_context::<Editor>();
    let text = Memo::new(move |_| ed.graph.with(|g| g.notes.get(i).map(|n| n.text.clone()).unwrap_or_default()));
    let pos = Memo::new(move |_| ed.note_pos(i));
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
            transform=move || pos.get().map(|(x, y)| format!("translate({x} {y})")).unwrap_or_default()>
            <rect width=NOTE_W height=NOTE_H rx="3" />
            <foreignObject x="6" y="6" width=NOTE_W - 12.0 height=NOTE_H - 12.0>
                <div class="note-text">{move || text.get()}</div>
            </foreignObject>
        </g>
    }
}
