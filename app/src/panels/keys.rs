//! Keyboard shortcuts, and the `?` overlay that lists them (from the same table).

use edasim_protocol::ClientMsg;
use leptos::prelude::*;

use crate::canvas::graph::in_text_field;
use crate::state::connection::Live;
use crate::state::doc::GRID;
use crate::state::editor::{Editor, Panel};
use crate::state::lesson::Lesson;

/// (keys, what they do), as the overlay shows them.
pub const SHORTCUTS: &[(&str, &str)] = &[
    ("Space", "play / pause"),
    ("Drag from the palette", "add a node or a note"),
    ("Drag a node's port to a node", "link them (refused, with the reason, if the link means nothing)"),
    ("L, then choose", "link the selected node from the keyboard (the inspector's \"Link to\")"),
    ("Click, Shift-click", "select, add to the selection"),
    ("Shift-drag on the background", "select with a box"),
    ("Drag the background", "pan"),
    ("Wheel", "zoom around the pointer"),
    ("F", "fit the topology to the view"),
    ("A", "auto layout: sources left, sinks right, links round the nodes (undo puts it back)"),
    ("+ / −", "zoom in / out"),
    ("Arrow keys (Shift: ×5)", "nudge the selection by the grid"),
    ("Alt while dragging", "move off the grid"),
    ("Delete / Backspace", "delete the selection"),
    ("Ctrl-Z / Ctrl-Shift-Z (Ctrl-Y)", "undo / redo"),
    ("Ctrl-C / Ctrl-X / Ctrl-V", "copy / cut / paste"),
    ("Ctrl-A", "select everything"),
    ("/", "find a node by name"),
    (
        "P / I / D",
        "fold away or show the palette / the inspector / the charts and log (the inspector of a window narrower than 1180 px shows while something is selected)",
    ),
    ("?", "this list"),
    ("Escape", "close this list, clear the selection"),
];

pub fn install(live: Live, ed: Editor, lesson: Lesson) {
    let _ = window_event_listener(leptos::ev::keydown, move |e| {
        if in_text_field(e.target()) {
            return;
        }
        let ctrl = e.ctrl_key() || e.meta_key();
        let key = e.key();
        let handled = match (ctrl, key.as_str()) {
            (true, "z" | "Z") if e.shift_key() => {
                ed.redo();
                true
            }
            (true, "z" | "Z") => {
                ed.undo();
                true
            }
            (true, "y" | "Y") => {
                ed.redo();
                true
            }
            (true, "c" | "C") => {
                ed.copy();
                true
            }
            (true, "x" | "X") => {
                ed.cut();
                true
            }
            (true, "v" | "V") => {
                ed.paste();
                true
            }
            (true, "a" | "A") => {
                ed.select_all();
                true
            }
            (false, "Delete" | "Backspace") => {
                ed.delete();
                true
            }
            (false, "ArrowLeft" | "ArrowRight" | "ArrowUp" | "ArrowDown") => {
                let step = if e.shift_key() { GRID * 5.0 } else { GRID };
                let (dx, dy) = match key.as_str() {
                    "ArrowLeft" => (-step, 0.0),
                    "ArrowRight" => (step, 0.0),
                    "ArrowUp" => (0.0, -step),
                    _ => (0.0, step),
                };
                ed.nudge(dx, dy);
                true
            }
            (false, "?") => {
                ed.help.update(|h| *h = !*h);
                true
            }
            (false, "Escape") => {
                ed.help.set(false);
                ed.selection.set(Default::default());
                if ed.presenting.get_untracked() {
                    lesson.present(false, ed);
                }
                true
            }
            (false, "f" | "F") => {
                ed.fit();
                true
            }
            (false, "a" | "A") => {
                ed.auto_layout();
                true
            }
            (false, "l" | "L") => {
                // Link the selected node from the keyboard: the inspector's "Link to".
                if ed.selection.with_untracked(|s| s.single_node().is_some()) {
                    ed.panels.update(|p| p.show(Panel::Inspector));
                    focus_later("link-to");
                }
                true
            }
            (false, "+" | "=") => {
                zoom(ed, 1.25);
                true
            }
            (false, "-") => {
                zoom(ed, 0.8);
                true
            }
            (false, "p" | "P") => {
                ed.panels.update(|p| p.toggle(Panel::Palette));
                true
            }
            (false, "i" | "I") => {
                ed.panels.update(|p| p.toggle(Panel::Inspector));
                true
            }
            (false, "d" | "D") => {
                ed.panels.update(|p| p.toggle(Panel::Dock));
                true
            }
            (false, "/") => {
                focus_later("find");
                true
            }
            // Wherever the focus is but in a text field: a clicked node or button does not take
            // Space for itself (its keydown's default, a click, is prevented below).
            (false, " ") => {
                let until_ms = lesson.stop_ms();
                live.send(&if live.playing.get_untracked() {
                    ClientMsg::Pause {}
                } else {
                    ClientMsg::Play { until_ms }
                });
                true
            }
            // A presenter's clicker sends PageDown and PageUp: the walkthrough's next step.
            (false, "PageDown") => {
                lesson.next();
                lesson.current.with_untracked(Option::is_some)
            }
            (false, "PageUp") => {
                lesson.back();
                lesson.current.with_untracked(Option::is_some)
            }
            _ => false,
        };
        if handled {
            e.prevent_default();
        }
    });
}

/// Focuses the element `id` once the view has drawn it (it may be appearing now).
fn focus_later(id: &'static str) {
    request_animation_frame(move || {
        if let Some(el) = document().get_element_by_id(id) {
            use wasm_bindgen::JsCast;
            let _ = el.dyn_into::<web_sys::HtmlElement>().map(|el| el.focus());
        }
    });
}

/// Zooms around the middle of the stage.
pub fn zoom(ed: Editor, factor: f64) {
    let (w, h) = ed.stage.get_untracked();
    ed.view_moved();
    ed.camera.update(|c| *c = c.zoom_at(w / 2.0, h / 2.0, factor));
}

#[component]
pub fn Help() -> impl IntoView {
    let ed = expect_context::<Editor>();
    view! {
        <Show when=move || ed.help.get()>
            <div class="overlay" id="shortcuts" role="dialog" aria-label="Keyboard shortcuts" on:click=move |_| ed.help.set(false)>
                <section on:click=|e| e.stop_propagation()>
                    <h2>"Shortcuts"</h2>
                    <table>
                        {SHORTCUTS.iter().map(|(k, what)| view! { <tr><th><kbd>{*k}</kbd></th><td>{*what}</td></tr> }).collect_view()}
                    </table>
                    <button on:click=move |_| ed.help.set(false)>"Close"</button>
                </section>
            </div>
        </Show>
    }
}
