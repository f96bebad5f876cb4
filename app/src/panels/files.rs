//! Export, import and share: the topology as a file, pasted text, or a link.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::state::connection::Live;
use crate::state::editor::Editor;

#[component]
pub fn Files() -> impl IntoView {
    let live = expect_context::<Live>();
    let ed = expect_context::<Editor>();
    let (importing, set_importing) = signal(false);
    let (text, set_text) = signal(String::new());
    let (share_url, set_share_url) = signal(None::<String>);
    // The other formats' exports, folded behind a narrow button: the top bar keeps its width.
    let (formats, set_formats) = signal(false);
    let export = move |_| {
        let value = ed.doc.with_untracked(|d| d.value.clone());
        if value.is_null() {
            return;
        }
        let name = value.get("name").and_then(|n| n.as_str()).unwrap_or("topology").to_string();
        download(&file_name(&name), &serde_json::to_string_pretty(&value).unwrap_or_default());
        ed.exported.set_value(value);
    };
    // The broker part as RabbitMQ definitions (for `rabbitmqctl import_definitions`), and the
    // topology as an AsyncAPI 3.0 document.
    let export_rabbitmq = move |_| {
        export_as(live, ed, "definitions", "the broker", |m| edasim_sim::formats::rabbitmq::export(m.topology()))
    };
    let export_asyncapi = move |_| export_as(live, ed, "asyncapi", "AsyncAPI", edasim_sim::formats::asyncapi::export);
    let load = move |_| {
        if open_text(live, ed, &text.get_untracked(), "import") {
            set_importing.set(false);
        }
    };
    let share = move |_| {
        let value = ed.doc.with_untracked(|d| d.value.clone());
        let fragment = crate::state::share::encode(&value.to_string());
        let base = web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default();
        let base = base.split('#').next().unwrap_or("").to_string();
        set_share_url.set(Some(format!("{base}#{fragment}")));
    };
    let on_file = move |e: leptos::ev::Event| {
        let input = e.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
        if let Some(file) = input.as_ref().and_then(|i| i.files()).and_then(|f| f.get(0)) {
            read_file(live, ed, file);
            set_importing.set(false);
        }
        if let Some(i) = input {
            i.set_value("");
        }
    };
    view! {
        <div class="files" role="group" aria-label="Files">
            <button id="export" on:click=export aria-label="Export the topology as a JSON file">"Export"</button>
            <button id="export-more" class="narrow" aria-label="Export in another format" aria-expanded=move || formats.get().to_string()
                title="Export as RabbitMQ definitions or an AsyncAPI document" on:click=move |_| set_formats.update(|f| *f = !*f)>"▾"</button>
            <button id="import" on:click=move |_| set_importing.set(true) aria-label="Import a topology">"Import"</button>
            <button id="share" on:click=share aria-label="Make a share link">"Share link"</button>
        </div>
        <Show when=move || formats.get()>
            <div class="export-formats" role="menu" aria-label="Export in another format">
                <button id="export-rabbitmq" role="menuitem" on:click=move |e| { set_formats.set(false); export_rabbitmq(e) }
                    title="The exchanges, queues and bindings, for rabbitmqctl import_definitions">"RabbitMQ definitions"</button>
                <button id="export-asyncapi" role="menuitem" on:click=move |e| { set_formats.set(false); export_asyncapi(e) }
                    title="Channels, operations and messages">"AsyncAPI 3.0 document"</button>
            </div>
        </Show>
        <Show when=move || share_url.get().is_some()>
            <div class="share" role="dialog" aria-label="Share link">
                <label>"Link to this topology "
                    <input id="share-url" readonly prop:value=move || share_url.get().unwrap_or_default()
                        on:focus=move |e| { if let Some(i) = e.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) { i.select(); } } />
                </label>
                <button aria-label="Close" on:click=move |_| set_share_url.set(None)>"×"</button>
            </div>
        </Show>
        <Show when=move || importing.get()>
            <div class="import" role="dialog" aria-label="Import a topology">
                <p>"Open a topology file, drop one on the canvas, or paste one here; RabbitMQ definitions (rabbitmqctl export_definitions) open as the broker they define, AsyncAPI 3.0 documents as their channels and applications. A file with problems lists them and changes nothing."</p>
                <label class="file">"File: "<input id="import-file" type="file" accept=".json,application/json" on:change=on_file /></label>
                <textarea id="import-text" rows="14" cols="80" aria-label="Topology JSON" prop:value=move || text.get()
                    on:input=move |e| set_text.set(event_target_value(&e))></textarea>
                <div>
                    <button id="import-load" on:click=load>"Load"</button>
                    <button on:click=move |_| set_importing.set(false)>"Cancel"</button>
                </div>
            </div>
        </Show>
    }
}

/// Downloads the canvas converted by `convert` as `NAME-SUFFIX.json`, or says why the canvas
/// cannot be exported as `what`.
fn export_as(live: Live, ed: Editor, suffix: &str, what: &str, convert: fn(&edasim_sim::Model) -> serde_json::Value) {
    let value = ed.doc.with_untracked(|d| d.value.clone());
    match edasim_sim::Model::from_value(&value) {
        Ok(model) => {
            let out = convert(&model);
            let stem = file_name(&model.topology().name).trim_end_matches(".json").to_string();
            download(&format!("{stem}-{suffix}.json"), &serde_json::to_string_pretty(&out).unwrap_or_default());
        }
        Err(e) => live
            .problems
            .update(|p| p.extend(e.problems.iter().map(|q| format!("export: {q}; fix it to export {what}")))),
    }
}

/// Opens topology text (pasted or read from a file) on the canvas; `false` if it has problems
/// (listed, the canvas unchanged). RabbitMQ definitions open as the broker they define, with
/// what the import says (what it lacks) among the messages.
pub fn open_text(live: Live, ed: Editor, text: &str, source: &str) -> bool {
    use edasim_sim::formats::{asyncapi, rabbitmq};
    let opened = |topology: serde_json::Value, notes: Vec<String>| {
        let ok = ed.open(live, topology, source);
        if ok {
            live.problems.update(|p| p.extend(notes.iter().map(|n| format!("{source}: {n}"))));
        }
        ok
    };
    let refused = |problems: Vec<edasim_sim::Problem>| {
        live.problems.update(|p| p.extend(problems.iter().map(|q| format!("{source}: {q}; the canvas is unchanged"))));
        false
    };
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value) if asyncapi::is_asyncapi(&value) => {
            match asyncapi::import(&value, source.trim_end_matches(".json")) {
                Ok(imported) => opened(imported.topology, imported.notes),
                Err(problems) => refused(problems),
            }
        }
        Ok(value) if rabbitmq::is_definitions(&value) => {
            let name = source.trim_end_matches(".json");
            match rabbitmq::import(&value, name, "/") {
                Ok(imported) => opened(imported.topology, imported.notes),
                Err(problems) => refused(problems),
            }
        }
        Ok(value) => ed.open(live, value, source),
        Err(e) => {
            live.problems.update(|p| p.push(format!("{source}: not JSON: {e}; the canvas is unchanged")));
            false
        }
    }
}

/// Reads a file the user chose or dropped and opens it.
pub fn read_file(live: Live, ed: Editor, file: web_sys::File) {
    let name = file.name();
    if let Some(why) = edasim_sim::topology::too_large(file.size() as u64) {
        live.problems.update(|p| p.push(format!("{name}: {why}")));
        return;
    }
    leptos::task::spawn_local(async move {
        match wasm_bindgen_futures::JsFuture::from(file.text()).await {
            Ok(text) => {
                open_text(live, ed, &text.as_string().unwrap_or_default(), &name);
            }
            Err(_) => live.problems.update(|p| p.push(format!("{name}: could not be read"))),
        }
    });
}

/// A file name from a topology's name.
pub fn file_name(name: &str) -> String {
    let stem: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c.to_ascii_lowercase() } else { '-' })
        .collect();
    let stem = stem.trim_matches('-');
    format!("{}.json", if stem.is_empty() { "topology" } else { stem })
}

/// Offers `text` as a file download.
fn download(name: &str, text: &str) {
    let parts = js_sys_array(text);
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type("application/json");
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts) else { return };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else { return };
    save_url(name, &url);
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// Has the browser save what `url` holds (a blob's or a `data:` URL) as the file `name`.
pub fn save_url(name: &str, url: &str) {
    if let Some(a) = document().create_element("a").ok().and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok()) {
        a.set_href(url);
        a.set_download(name);
        a.set_id("export-link");
        a.click();
    }
}

fn js_sys_array(text: &str) -> wasm_bindgen::JsValue {
    let array = js_sys::Array::new();
    array.push(&wasm_bindgen::JsValue::from_str(text));
    array.into()
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_names() {
        assert_eq!(super::file_name("Order pipeline (spyker77/eda)"), "order-pipeline--spyker77-eda.json");
        assert_eq!(super::file_name("!!!"), "topology.json");
    }
}
