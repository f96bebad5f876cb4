//! The edasim browser app: the order pipeline on a canvas, played live by the server.
//!
//! - `connection.rs`: the websocket to `edasim serve` and the signals it feeds;
//! - `model.rs`: what the view draws, read from the loaded topology;
//! - `layout.rs`: positions for topologies saved without them;
//! - `topbar.rs`, `graph.rs`, `dots.rs`: the top bar, the graph (SVG), the moving messages
//!   (a `<canvas>` over the graph, so thousands can move at once);
//! - `files.rs`, `share.rs`: export, import, share links.

mod charts;
mod connection;
mod doc;
mod dock;
mod dots;
mod eventlog;
mod files;
mod graph;
mod inspector;
mod layout;
mod model;
mod reconcile;
mod share;
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
    let live = connection::connect();
    provide_context(live);
    view! {
        <div class="app">
            <topbar::TopBar />
            <main class="stage">
                <graph::Graph />
                <dots::Dots />
            </main>
            <inspector::Inspector />
            <dock::Dock />
            <connection::Problems />
        </div>
    }
}
