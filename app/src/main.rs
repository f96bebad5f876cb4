//! The edasim browser app: a topology edited on a canvas and played live by the server.
//!
//! - `connection.rs`: the websocket to `edasim serve` and the signals it feeds;
//! - `doc.rs`, `editor.rs`, `reconcile.rs`: the canvas document and its history, the
//!   editor's state, and what an edit means for the run (nothing, a live change, a restart);
//! - `model.rs`, `layout.rs`, `camera.rs`: what the view draws, positions for files without
//!   them, pan and zoom;
//! - `stage.rs`, `graph.rs`, `dots.rs`, `palette.rs`, `keys.rs`: the canvas and its gestures,
//!   the moving messages (a `<canvas>` over the graph, so thousands can move at once), the
//!   palette, the keyboard;
//! - `topbar.rs`, `inspector.rs`, `fields.rs`, `dock.rs`, `charts.rs`, `eventlog.rs`,
//!   `trace.rs`: the panels;
//! - `files.rs`, `share.rs`: export, import, share links.

mod bench;
mod camera;
mod charts;
mod connection;
mod doc;
mod dock;
mod dots;
mod editor;
mod eventlog;
mod fields;
mod files;
mod graph;
mod inspector;
mod keys;
mod layout;
mod model;
mod palette;
mod reconcile;
mod share;
mod stage;
mod theme;
mod topbar;
mod trace;

use leptos::prelude::*;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let live = connection::Live::new();
    let editor = editor::Editor::new(live);
    provide_context(live);
    provide_context(editor);
    connection::connect(live, editor);
    keys::install(live, editor);
    bench::configure();
    view! {
        <div class="app">
            <topbar::TopBar />
            <palette::Palette />
            <stage::Stage />
            <inspector::Inspector />
            <dock::Dock />
            <connection::Problems />
            <keys::Help />
        </div>
    }
}
