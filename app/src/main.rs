//! The edasim browser app: a topology edited on a canvas and played live by the server.
//!
//! Laid out by room:
//! - `state/`: the data (the connection and its signals, the document and its history, the
//!   editor's state, what an edit means for the run, share links);
//! - `canvas/`: what is drawn (geometry, layout, camera, nodes, links, notes, gestures, the
//!   moving messages, the stage around them);
//! - `panels/`: the top bar, palette, inspector and its fields, files, keyboard, theme;
//! - `dock/`: the bottom dock (charts, event log, trace).

mod canvas;
mod dock;
mod panels;
mod state;

use leptos::prelude::*;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let live = state::connection::Live::new();
    let editor = state::editor::Editor::new(live);
    let lesson = state::lesson::Lesson::new(live);
    provide_context(live);
    provide_context(editor);
    provide_context(lesson);
    state::connection::connect(live, editor);
    panels::keys::install(live, editor, lesson);
    canvas::bench::configure(live);
    view! {
        <div class="app" class:no-palette=move || !editor.panels.get().palette
            class:no-inspector=move || !editor.panels.get().inspector class:no-dock=move || !editor.panels.get().dock
            class:idle=move || editor.selection.with(state::doc::Selection::is_empty)
            class:presenting=move || editor.presenting.get()
            class:watching=move || live.watching.with(Option::is_some)
            class:embedded=state::connection::embedded()>
            <panels::topbar::TopBar />
            <panels::palette::Palette />
            <canvas::stage::Stage />
            <panels::inspector::Inspector />
            <dock::Dock />
            <panels::presenter::PresenterStrip />
            <state::connection::Problems />
            <panels::keys::Help />
        </div>
    }
}
