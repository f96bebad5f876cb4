//! The inspector: the selected node's, link's or note's fields as a form (meaning on hover,
//! checked as you type by the engine's own model, applied on Enter or when the field is
//! left); with nothing selected, the topology's name and seed. An applied change is an edit
//! of the canvas like any other: live where the engine allows it, else it asks for a restart.

use edasim_protocol::{ClientMsg, Fault};
use edasim_sim::topology::{LinkShape, link_role};
use leptos::prelude::*;
use serde_json::{Value, json};

use crate::connection::send;
use crate::editor::{Checked, Editor, check};
use crate::fields::{Field, Input, link_fields, node_fields, parse, show};

/// Where a field lives in the document: the root object (`section` empty) or one entry of
/// `nodes`, `links` or `notes`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Place {
    section: &'static str,
    index: usize,
}

impl Place {
    fn path(&self, field: &str) -> String {
        if self.section.is_empty() { field.to_string() } else { format!("{}[{}].{field}", self.section, self.index) }
    }

    fn object_mut<'a>(&self, v: &'a mut Value) -> Option<&'a mut serde_json::Map<String, Value>> {
        if self.section.is_empty() {
            v.as_object_mut()
        } else {
            v.get_mut(self.section)?.get_mut(self.index)?.as_object_mut()
        }
    }
}

fn set(v: &mut Value, at: Place, field: &str, value: Option<Value>) {
    if let Some(obj) = at.object_mut(v) {
        match value {
            Some(value) => obj.insert(field.to_string(), value),
            None => obj.remove(field),
        };
    }
}

/// What is wrong with `value` in `field`, as the model sees the whole canvas with it.
fn problem_with(doc: &Value, at: Place, field: &str, value: Option<Value>) -> Option<String> {
    let mut candidate = doc.clone();
    set(&mut candidate, at, field, value);
    let path = at.path(field);
    match check(&candidate) {
        Checked::Invalid(problems) => problems.into_iter().find(|p| p.path.starts_with(&path)).map(|p| p.message),
        _ => None,
    }
}

#[component]
fn FieldRow(at: Place, field: Field, current: Option<Value>) -> impl IntoView {
    let ed = expect_context::<Editor>();
    let (text, set_text) = signal(show(field.input, current.as_ref()));
    let (error, set_error) = signal(None::<String>);
    let validate = move |t: &str| -> Option<Option<Value>> {
        match parse(field.input, t) {
            Err(e) => {
                set_error.set(Some(e));
                None
            }
            Ok(v) => {
                let e = ed.doc.with_untracked(|d| problem_with(&d.value, at, field.name, v.clone()));
                let ok = e.is_none();
                set_error.set(e);
                ok.then_some(v)
            }
        }
    };
    let apply = move || {
        let t = text.get_untracked();
        if let Some(v) = validate(&t) {
            ed.doc.update(|d| {
                d.edit(|doc| set(doc, at, field.name, v));
            });
        }
    };
    let id = format!("field-{}", field.name);
    let input = match field.input {
        Input::Choice(options) => view! {
            <select id=id.clone() prop:value=move || text.get() aria-describedby=format!("{id}-error")
                on:change=move |e| { set_text.set(event_target_value(&e)); apply(); }>
                <option value="">"(default)"</option>
                {options.iter().map(|o| view! { <option value=*o>{*o}</option> }).collect_view()}
            </select>
        }
        .into_any(),
        _ => view! {
            <input id=id.clone() prop:value=move || text.get() aria-describedby=format!("{id}-error")
                aria-invalid=move || error.with(Option::is_some).to_string()
                inputmode=if matches!(field.input, Input::Number { .. }) { "decimal" } else { "text" }
                on:input=move |e| { let t = event_target_value(&e); validate(&t); set_text.set(t); }
                on:change=move |_| apply() />
        }
        .into_any(),
    };
    view! {
        <label class="field" title=field.help class:invalid=move || error.with(Option::is_some)>
            <span>{field.label}</span>
            {input}
            <small class="error" id=format!("field-{}-error", field.name) role="alert">{move || error.get()}</small>
        </label>
    }
}

fn rows(at: Place, fields: &[Field], obj: &Value) -> impl IntoView + use<> {
    fields.iter().map(|f| view! { <FieldRow at=at field=*f current=obj.get(f.name).cloned() /> }).collect_view()
}

#[component]
pub fn Inspector() -> impl IntoView {
    let ed = expect_context::<Editor>();
    let content = move || {
        let sel = ed.selection.get();
        let doc = ed.doc.with(|d| d.value.clone());
        let count = sel.nodes.len() + sel.links.len() + sel.notes.len();
        if count == 0 {
            let at = Place { section: "", index: 0 };
            let fields = [
                Field {
                    name: "name",
                    label: "Name",
                    help: "The topology's name.",
                    input: Input::Text { optional: false },
                },
                Field {
                    name: "seed",
                    label: "Seed",
                    help: "The random seed: the same file and seed give the same run, event for event.",
                    input: Input::Number { min: 0.0, max: 9.007e15, whole: true, optional: false },
                },
            ];
            let warnings = match ed.check.get() {
                Checked::Valid { warnings, .. } => warnings,
                _ => Vec::new(),
            };
            return view! {
                <h2>"Topology"</h2>
                <div class="fields">{rows(at, &fields, &doc)}</div>
                <p class="hint">"Click a node, a link or a note to inspect it; drag kinds from the palette to add them."</p>
                <ul class="warnings">{warnings.into_iter().map(|w| view! { <li>{w.to_string()}</li> }).collect_view()}</ul>
            }
            .into_any();
        }
        if count > 1 {
            return view! {
                <h2>{format!("{count} selected")}</h2>
                <p>{format!("{} nodes, {} links, {} notes", sel.nodes.len(), sel.links.len(), sel.notes.len())}</p>
                <button on:click=move |_| ed.delete()>"Delete"</button>
                <p class="hint">"Drag to move them together; Ctrl-C copies them."</p>
            }
            .into_any();
        }
        if let Some(id) = sel.nodes.first() {
            let Some(i) = ed.doc.with(|d| d.node_index(id)) else { return ().into_any() };
            let node = doc["nodes"][i].clone();
            let kind = node["kind"].as_str().unwrap_or("").to_string();
            let at = Place { section: "nodes", index: i };
            let label = Field {
                name: "label",
                label: "Label",
                help: "What the canvas shows (default: the id).",
                input: Input::Text { optional: true },
            };
            let crash = (kind == "service").then(|| {
                let id = id.clone();
                view! {
                    <button id="crash" title="A replica crashes: what it held is redelivered"
                        on:click=move |_| send(&ClientMsg::InjectFault { node: id.clone(), fault: Fault::CrashReplica { replica: 0 } })>
                        "Crash replica 0"
                    </button>
                }
            });
            let not_running = ed.graph.with(|g| g.running.get(i).copied().flatten().is_none());
            return view! {
                <h2>{id.clone()}</h2>
                <p class="kind">{kind.clone()}{not_running.then_some(" · not in the running simulation yet")}</p>
                <div class="fields">
                    {rows(at, &[label], &node)}
                    {rows(at, node_fields(&kind), &node)}
                </div>
                {crash}
                <details>
                    <summary>"As JSON"</summary>
                    <pre>{serde_json::to_string_pretty(&node).unwrap_or_default()}</pre>
                </details>
            }
            .into_any();
        }
        if let Some(&i) = sel.links.first() {
            let link = doc["links"][i].clone();
            let (from, to) = (link["from"].as_str().unwrap_or(""), link["to"].as_str().unwrap_or(""));
            let kind = |id: &str| ed.doc.with(|d| d.kind_of(id).unwrap_or("").to_string());
            let (fk, tk) = (kind(from), kind(to));
            let shape = LinkShape {
                dead_letter: link["dead_letter"].as_bool().unwrap_or(false),
                alternate: link["alternate"].as_bool().unwrap_or(false),
                dedup: link["purpose"] == json!("dedup"),
            };
            let (meaning, fields) = match link_role(&fk, &tk, shape) {
                Ok(role) => (role.describe().to_string(), link_fields(role, &fk)),
                Err(why) => (why, Vec::new()),
            };
            return view! {
                <h2>{format!("{from} → {to}")}</h2>
                <p class="kind">{meaning}</p>
                <div class="fields">{rows(Place { section: "links", index: i }, &fields, &link)}</div>
                <button on:click=move |_| ed.delete()>"Delete link"</button>
            }
            .into_any();
        }
        if let Some(&i) = sel.notes.first() {
            let text = doc["notes"][i]["text"].as_str().unwrap_or("").to_string();
            let (draft, set_draft) = signal(text);
            return view! {
                <h2>"Note"</h2>
                <textarea id="note-text" rows="8" aria-label="Note text" prop:value=move || draft.get()
                    on:input=move |e| set_draft.set(event_target_value(&e))
                    on:change=move |_| ed.doc.update(|d| d.set_field("notes", i, "text", Some(json!(draft.get_untracked()))))>
                </textarea>
                <button on:click=move |_| ed.delete()>"Delete note"</button>
            }
            .into_any();
        }
        ().into_any()
    };
    view! { <aside class="inspector" aria-label="Inspector">{content}</aside> }
}
