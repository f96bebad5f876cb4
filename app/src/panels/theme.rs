//! The light and dark themes: the system's by default; the toggle's choice is kept in local
//! storage.

use leptos::prelude::*;

const KEY: &str = "edasim.theme";

fn root() -> Option<web_sys::Element> {
    document().document_element()
}

fn stored() -> Option<String> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten()).and_then(|s| s.get_item(KEY).ok().flatten())
}

fn system_dark() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .is_some_and(|m| m.matches())
}

/// The theme a page opens with: the one chosen last time, else the system's.
pub fn initially_dark() -> bool {
    stored().map_or_else(system_dark, |t| t == "dark")
}

#[component]
pub fn ThemeToggle() -> impl IntoView {
    let dark = expect_context::<crate::state::editor::Editor>().dark;
    Effect::new(move |_| {
        let theme = if dark.get() { "dark" } else { "light" };
        if let Some(r) = root() {
            let _ = r.set_attribute("data-theme", theme);
        }
        if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            let _ = s.set_item(KEY, theme);
        }
    });
    view! {
        <button id="theme" on:click=move |_| dark.update(|d| *d = !*d)
            aria-label=move || if dark.get() { "Switch to the light theme" } else { "Switch to the dark theme" }>
            {move || if dark.get() { "☀" } else { "☾" }}
        </button>
    }
}
