//! The edasim browser app. This first version proves the pipeline end to end: the engine,
//! compiled to wasm32, loads the built-in scenario and runs it in the page. The canvas editor
//! and the live view build on it.

mod engine_check;

use leptos::prelude::*;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    view! {
        <main class="shell">
            <h1>"edasim"</h1>
            <p class="lead">"A visual simulator of event-driven architectures."</p>
            <engine_check::EngineCheck />
        </main>
    }
}
