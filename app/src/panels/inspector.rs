//! The inspector: the selected node's, link's or note's fields as a form (meaning on hover,
//! checked as you type by the engine's own model, applied on Enter or when the field is
//! left); with nothing selected, the topology's name and seed. An applied change is an edit
//! of the canvas like any other: live where the engine allows it, else it asks for a restart.

use edasim_protocol::{ClientMsg, Fault, Health, NodeLive};
use edasim_sim::stats::Point;
use edasim_sim::topology::{Kind, LinkShape, link_role};
use leptos::prelude::*;
use serde_json::{Value, json};

use crate::panels::fault_start::Struck;
use crate::panels::fields::{
    DISTS, Field, Input, convert, dist_params, dist_parts, dist_value, link_fields, node_fields, parse, show,
};
use crate::state::editor::{Checked, Editor, check};

/// Where a field lives in the document: the root object (`section` empty) or one entry of
/// `nodes`, `links` or `notes`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Place {
    section: &'static str,
    index: usize,
}

impl Place {
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

/// What is wrong with `value` in `field`, as the engine's model reads it: only the object the
/// field belongs to is checked (with, for a link, the nodes at its ends, whose kinds give the
/// link its meaning; for a node, its links and their other ends, which an outbox's store and a
/// gateway's services are read from), so typing costs the same on a 5-node and a 500-node
/// canvas. A saga names participants anywhere: it is checked in the whole topology.
fn problem_with(doc: &Value, at: Place, field: &str, value: Option<Value>) -> Option<String> {
    let (probe, path) = probe(doc, at, field, value)?;
    match check(&probe) {
        Checked::Invalid(problems) => problems.into_iter().find(|p| p.path.starts_with(&path)).map(|p| p.message),
        _ => None,
    }
}

/// A topology holding just the edited object (the field set to `value`), and the field's path
/// in it.
fn probe(doc: &Value, at: Place, field: &str, value: Option<Value>) -> Option<(Value, String)> {
    let one = |v: &Value| {
        let mut v = v.clone();
        set(&mut v, Place { section: "", index: 0 }, field, value.clone());
        v
    };
    let blank = json!({"version": 1, "name": "", "nodes": [], "links": []});
    Some(match at.section {
        "" => {
            // The top-level fields alone: the nodes, links and notes are not copied.
            let mut top: serde_json::Map<String, Value> = doc
                .as_object()?
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "nodes" | "links" | "notes"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            top.insert("nodes".into(), json!([]));
            top.insert("links".into(), json!([]));
            (one(&Value::Object(top)), field.to_string())
        }
        "nodes" if field == "saga" => {
            let mut whole = doc.clone();
            whole["nodes"][at.index] = one(doc["nodes"].get(at.index)?);
            (whole, format!("nodes[{}].{field}", at.index))
        }
        "nodes" => {
            let node = one(doc["nodes"].get(at.index)?);
            let id = doc["nodes"][at.index]["id"].clone();
            let links: Vec<Value> = doc["links"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|l| l["from"] == id || l["to"] == id)
                .cloned()
                .collect();
            let mut nodes = vec![node];
            for end in links.iter().flat_map(|l| [&l["from"], &l["to"]]) {
                if *end != id && !nodes[1..].iter().any(|n| n["id"] == *end) {
                    nodes.extend(doc["nodes"].as_array()?.iter().find(|n| n["id"] == *end).cloned());
                }
            }
            (json!({"version": 1, "name": "", "nodes": nodes, "links": links}), format!("nodes[0].{field}"))
        }
        "links" => {
            let link = one(doc["links"].get(at.index)?);
            let node =
                |end: &str| doc["nodes"].as_array().and_then(|ns| ns.iter().find(|n| n["id"] == link[end]).cloned());
            let mut ends: Vec<Value> = [node("from"), node("to")].into_iter().flatten().collect();
            ends.dedup();
            (json!({"version": 1, "name": "", "nodes": ends, "links": [link]}), format!("links[0].{field}"))
        }
        _ => {
            let note = one(doc[at.section].get(at.index)?);
            let mut t = blank;
            t[at.section] = json!([note]);
            (t, format!("{}[0].{field}", at.section))
        }
    })
}

#[component]
fn FieldRow(at: Place, field: Field) -> impl IntoView {
    let ed = expect_context::<Editor>();
    // The field's value in the document: the form follows it (an undo, a drag, an edit
    // elsewhere) without being rebuilt, so focus stays where the user is.
    let current = Memo::new(move |_| {
        ed.doc.with(|d| {
            let obj = if at.section.is_empty() {
                Some(&d.value)
            } else {
                d.value.get(at.section).and_then(|s| s.get(at.index))
            };
            obj.and_then(|o| o.get(field.name)).cloned()
        })
    });
    let (text, set_text) = signal(show(field.input, current.get_untracked().as_ref()));
    let (error, set_error) = signal(None::<String>);
    // A live change the run refused: the value went back, and this says why.
    let refusal = Memo::new(move |_| {
        ed.refused.with(|r| {
            let r = r.as_ref().filter(|r| r.field == field.name && at.section == "nodes")?;
            let id = ed.doc.with(|d| d.value["nodes"][at.index]["id"].as_str().map(str::to_string))?;
            (id == r.node).then(|| format!("The run refused it: {}", r.message))
        })
    });
    Effect::new(move |_| {
        let v = current.get();
        set_text.set(show(field.input, v.as_ref()));
        set_error.set(None);
    });
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
        if refusal.get_untracked().is_some() {
            ed.refused.set(None);
        }
        let t = text.get_untracked();
        if let Some(v) = validate(&t)
            && current.get_untracked() != v
        {
            ed.doc.update(|d| {
                d.edit(|doc| set(doc, at, field.name, v));
            });
        }
    };
    let id = format!("field-{}", field.name);
    // A distribution: its kind, and one number per parameter.
    let commit = move |v: Option<Value>| {
        let e = ed.doc.with_untracked(|d| problem_with(&d.value, at, field.name, v.clone()));
        let ok = e.is_none();
        set_error.set(e);
        if ok && current.get_untracked() != v {
            ed.doc.update(|d| d.edit(|doc| set(doc, at, field.name, v)));
        }
    };
    let input = match field.input {
        Input::Dist { optional } => {
            let parts = move || current.with(|c| dist_parts(c.as_ref()));
            let on_kind = move |e: leptos::ev::Event| {
                let to = event_target_value(&e);
                if to.is_empty() {
                    return commit(None);
                }
                let (from, params) = parts().unwrap_or(("constant".into(), vec![10.0]));
                commit(Some(dist_value(&to, &convert(&from, &params, &to))));
            };
            let param = move |i: usize| {
                let on_change = move |e: leptos::ev::Event| {
                    let Some((kind, mut params)) = parts() else { return };
                    match event_target_value(&e).trim().parse::<f64>() {
                        Ok(x) if x.is_finite() => {
                            params[i] = x;
                            commit(Some(dist_value(&kind, &params)));
                        }
                        _ => set_error.set(Some("expected a number of milliseconds".into())),
                    }
                };
                move || {
                    parts().and_then(|(kind, params)| {
                        let name = *dist_params(&kind).get(i)?;
                        let value = show(
                            Input::Number { bounds: edasim_sim::topology::limits::DURATION_MS, optional: false },
                            Some(&json!(params[i])),
                        );
                        Some(view! {
                            <label class="param">
                                <small>{name.trim_end_matches("_ms").replace('_', " ")}</small>
                                <input id=format!("field-{}-{name}", field.name) inputmode="decimal" prop:value=value
                                    aria-label=format!("{} {name}", field.label) on:change=on_change />
                            </label>
                        })
                    })
                }
            };
            view! {
                <div class="dist" id=id.clone()>
                    <select id=format!("{id}-dist") aria-label=format!("{}: distribution", field.label)
                        prop:value=move || parts().map(|p| p.0).unwrap_or_default() on:change=on_kind>
                        {optional.then(|| view! { <option value="">"none"</option> })}
                        {DISTS.iter().map(|(k, _)| view! { <option value=*k>{*k}</option> }).collect_view()}
                    </select>
                    {param(0)}
                    {param(1)}
                    <small class="unit">"ms"</small>
                </div>
            }
            .into_any()
        }
        Input::OnFailure => view! {
            <crate::panels::on_failure::OnFailureInput id=id.clone() current=current commit=Callback::new(commit) error=set_error />
        }
        .into_any(),
        Input::Outbox => view! {
            <crate::panels::outbox::OutboxInput id=id.clone() current=current commit=Callback::new(commit) error=set_error />
        }
        .into_any(),
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
                placeholder=match field.input {
                    Input::Number { bounds, .. } => bounds.hint(),
                    Input::Concurrency => format!("{}, or unbounded", edasim_sim::topology::limits::CONCURRENCY.hint()),
                    _ => String::new(),
                }
                aria-invalid=move || error.with(Option::is_some).to_string()
                inputmode=if matches!(field.input, Input::Number { .. }) { "decimal" } else { "text" }
                on:input=move |e| { let t = event_target_value(&e); validate(&t); set_text.set(t); }
                on:keydown=move |e| if e.key() == "Enter" { apply() }
                on:change=move |e| { set_text.set(event_target_value(&e)); apply() } />
        }
        .into_any(),
    };
    let message = move || error.get().or_else(|| refusal.get());
    view! {
        <label class="field" title=hint(field) class:invalid=move || message().is_some()>
            <span>{field.label}</span>
            {input}
            <small class="error" id=format!("field-{}-error", field.name) role="alert">{message}</small>
        </label>
    }
}

/// Why a node is drawn red or amber, in words: ("error" or "warning", the reason), from its live
/// state and its last per-second point; `None` when it is fine.
pub fn health_reason(kind: Kind, node: &NodeLive, last: &Point) -> Option<(&'static str, String)> {
    let mut red = Vec::new();
    let mut amber = Vec::new();
    if node.blocked {
        red.push("the broker's memory alarm blocks its publishes".to_string());
    }
    if kind == Kind::Service && node.replicas_up == 0 {
        red.push("no replica is up".to_string());
    }
    if last.dropped > 0 {
        let what = match kind {
            Kind::Exchange => "unroutable (no binding matched)",
            Kind::Queue => "dropped (overflow, or expired with nowhere to dead-letter)",
            _ => "dropped",
        };
        red.push(format!("{} {what} in the last simulated second", last.dropped));
    }
    if last.errors > 0 {
        let s = if last.errors == 1 { "" } else { "s" };
        amber.push(format!("{} failed attempt{s} in the last simulated second", last.errors));
    }
    if last.dead_letters > 0 {
        amber.push(format!("{} dead-lettered in the last simulated second", last.dead_letters));
    }
    match node.health {
        Health::Error if !red.is_empty() => Some(("error", format!("Red: {}.", red.join("; ")))),
        Health::Error | Health::Warning if !amber.is_empty() => {
            Some(("warning", format!("Amber: {}.", amber.join("; "))))
        }
        Health::Warning => Some(("warning", "Amber: over half its length limit.".to_string())),
        _ => None,
    }
}

/// A field's meaning, and for a number the range the engine accepts.
fn hint(field: Field) -> String {
    match field.input {
        Input::Number { bounds, .. } => format!("{} Range: {}.", field.help, bounds.hint()),
        _ => field.help.to_string(),
    }
}

/// The node's id: renaming it renames it in every link (a structural edit: the run restarts
/// with it when asked).
#[component]
fn IdRow(id: String) -> impl IntoView {
    let ed = expect_context::<Editor>();
    let (error, set_error) = signal(None::<String>);
    let old = id.clone();
    let apply = move |new: String| {
        // Enter, then leaving the field: the second finds the rename done.
        if ed.doc.with_untracked(|d| d.node_index(&old).is_none()) {
            return;
        }
        let mut result = Ok(());
        ed.doc.update(|d| result = d.rename(&old, new.trim()));
        match result {
            Ok(()) => {
                set_error.set(None);
                ed.selection.set(crate::state::doc::Selection::node(new.trim()));
            }
            Err(e) => set_error.set(Some(e)),
        }
    };
    let apply2 = apply.clone();
    view! {
        <label class="field" title="The node's id in the file, the logs and the charts: letters, digits, '_', '.', '-'."
            class:invalid=move || error.with(Option::is_some)>
            <span>"Id"</span>
            <input id="field-id" prop:value=id.clone() aria-describedby="field-id-error"
                on:keydown=move |e| if e.key() == "Enter" { apply(event_target_value(&e)) }
                on:change=move |e| apply2(event_target_value(&e)) />
            <small class="error" id="field-id-error" role="alert">{move || error.get()}</small>
        </label>
    }
}

fn rows(at: Place, fields: &[Field]) -> impl IntoView + use<> {
    fields.iter().map(|f| view! { <FieldRow at=at field=*f /> }).collect_view()
}

/// What the inspector shows: it is rebuilt only when this changes, not on every edit.
#[derive(Clone, Debug, PartialEq)]
enum Target {
    Topology,
    Many {
        nodes: usize,
        links: usize,
        notes: usize,
    },
    Node {
        index: usize,
        id: String,
        kind: Kind,
    },
    /// A link, and the kinds at its ends (`None`: no such node yet).
    Link {
        index: usize,
        from: String,
        to: String,
        from_kind: Option<Kind>,
        to_kind: Option<Kind>,
        shape: LinkShape,
    },
    Note {
        index: usize,
    },
}

fn target(ed: Editor) -> Target {
    let sel = ed.selection.get();
    let count = sel.nodes.len() + sel.links.len() + sel.notes.len();
    ed.doc.with(|d| {
        if count > 1 {
            return Target::Many { nodes: sel.nodes.len(), links: sel.links.len(), notes: sel.notes.len() };
        }
        if let Some(id) = sel.nodes.first()
            && let Some(index) = d.node_index(id)
            && let Some(kind) = d.kind_of(id)
        {
            return Target::Node { index, id: id.clone(), kind };
        }
        if let Some(&index) = sel.links.first()
            && let Some(link) = d.value["links"].get(index)
        {
            let end = |k: &str| link[k].as_str().unwrap_or("").to_string();
            let (from, to) = (end("from"), end("to"));
            return Target::Link {
                index,
                from_kind: d.kind_of(&from),
                to_kind: d.kind_of(&to),
                from,
                to,
                shape: LinkShape {
                    dead_letter: link["dead_letter"].as_bool().unwrap_or(false),
                    alternate: link["alternate"].as_bool().unwrap_or(false),
                    dedup: link["purpose"] == json!("dedup"),
                },
            };
        }
        if let Some(&index) = sel.notes.first() {
            return Target::Note { index };
        }
        Target::Topology
    })
}

#[component]
pub fn Inspector() -> impl IntoView {
    let ed = expect_context::<Editor>();
    let target = Memo::new(move |_| target(ed));
    let content = move || match target.get() {
        Target::Topology => {
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
                    input: Input::Number { bounds: edasim_sim::topology::limits::SEED, optional: false },
                },
                Field {
                    name: "faults",
                    label: "Faults",
                    help: "Faults on a schedule: [{\"at_s\": 60, \"until_s\": 120, \"node\": \"payment_processing\", \"kind\": \"crash\"}]; kinds crash, latency (factor, add_ms), error_rate (rate), store_down, pause_consumers, burst (factor). A change restarts the run.",
                    input: Input::Json { optional: true },
                },
            ];
            let warnings = move || match ed.check.get() {
                Checked::Valid { warnings, .. } => warnings,
                _ => Vec::new(),
            };
            view! {
                <h2>"Topology"</h2>
                <div class="fields">{rows(at, &fields)}</div>
                <p class="hint">"Click a node, a link or a note to inspect it; drag kinds from the palette to add them. Press ? for the shortcuts."</p>
                <details class="warnings">
                    <summary>{move || format!("Warnings ({})", warnings().len())}</summary>
                    <ul>{move || warnings().into_iter().map(|w| view! { <li>{w.to_string()}</li> }).collect_view()}</ul>
                </details>
            }
            .into_any()
        }
        Target::Many { nodes, links, notes } => view! {
            <h2>{format!("{} selected", nodes + links + notes)}</h2>
            <p>{format!("{nodes} nodes, {links} links, {notes} notes")}</p>
            <button on:click=move |_| ed.delete()>"Delete"</button>
            <p class="hint">"Drag to move them together; Ctrl-C copies them."</p>
        }
        .into_any(),
        Target::Node { index, id, kind } => {
            let at = Place { section: "nodes", index };
            let label = Field {
                name: "label",
                label: "Label",
                help: "What the canvas shows (default: the id).",
                input: Input::Text { optional: true },
            };
            let crash = (kind == Kind::Service).then(|| {
                let id = id.clone();
                let live = ed.live;
                view! {
                    <button id="crash" title="Replica 0 crashes: what it held is redelivered, and Kubernetes restarts it after 10 s"
                        on:click=move |_| live.send(&ClientMsg::InjectFault { node: id.clone(), fault: Fault::CrashReplica { replica: 0, restart_ms: None } })>
                        "Crash replica 0"
                    </button>
                }
            });
            let not_running = move || ed.graph.with(|g| g.running.get(index).copied().flatten().is_none());
            // A red or amber node says why.
            let why = move || {
                let r = ed.graph.with(|g| g.running.get(index).copied().flatten())?;
                let live = ed.live;
                let node = live.frame.with(|f| f.as_ref().and_then(|f| f.nodes.get(r).cloned()))?;
                let last = live.series.with(|s| s.get(r).and_then(|p| p.last().copied())).unwrap_or_default();
                health_reason(kind, &node, &last)
            };
            let json =
                move || ed.doc.with(|d| serde_json::to_string_pretty(&d.value["nodes"][index]).unwrap_or_default());
            view! {
                <h2>{id.clone()}</h2>
                <p class="kind">{kind.name()}{move || not_running().then_some(" · not in the running simulation yet")}</p>
                {move || why().map(|(level, text)| view! { <p class=format!("health {level}") id="health">{text}</p> })}
                <div class="fields">
                    <IdRow id=id.clone() />
                    {rows(at, &[label])}
                    {rows(at, node_fields(kind))}
                </div>
                {crash}
                <crate::panels::fault_start::FaultStart id=id.clone() target=Struck::Node(kind) />
                <LinkTo from=id.clone() />
                <details>
                    <summary>"As JSON"</summary>
                    <pre>{json}</pre>
                </details>
            }
            .into_any()
        }
        Target::Link { index, from, to, from_kind, to_kind, shape } => {
            let role = match (from_kind, to_kind) {
                (Some(f), Some(t)) => link_role(f, t, shape).map(|role| (role, f)),
                _ => Err("one of its ends is not a node the engine knows".to_string()),
            };
            let faults = role.as_ref().ok().map(|&(role, _)| {
                view! { <crate::panels::fault_start::FaultStart id=from.clone() target=Struck::Link(to.clone(), role) /> }
            });
            let (meaning, fields) = match role {
                Ok((role, f)) => (role.describe().to_string(), link_fields(role, f)),
                Err(why) => (why, Vec::new()),
            };
            view! {
                <h2>{format!("{from} → {to}")}</h2>
                <p class="kind">{meaning}</p>
                <div class="fields">{rows(Place { section: "links", index }, &fields)}</div>
                {faults}
                <button on:click=move |_| ed.delete()>"Delete link"</button>
            }
            .into_any()
        }
        Target::Note { index } => {
            let text = move || ed.doc.with(|d| d.value["notes"][index]["text"].as_str().unwrap_or("").to_string());
            let (draft, set_draft) = signal(text());
            view! {
                <h2>"Note"</h2>
                <textarea id="note-text" rows="8" aria-label="Note text" prop:value=move || draft.get()
                    on:input=move |e| set_draft.set(event_target_value(&e))
                    on:change=move |e| ed.doc.update(|d| d.set_field("notes", index, "text", Some(json!(event_target_value(&e)))))>
                </textarea>
                <button on:click=move |_| ed.delete()>"Delete note"</button>
            }
            .into_any()
        }
    };
    view! { <aside class="inspector" aria-label="Inspector">{content}</aside> }
}

/// Links the node to another from the keyboard (L focuses it): the nodes a link from it could
/// go to, each with what the link would mean; choosing one makes the link.
#[component]
fn LinkTo(from: String) -> impl IntoView {
    let ed = expect_context::<Editor>();
    let (said, set_said) = signal(String::new());
    let targets = {
        let from = from.clone();
        move || ed.doc.with(|d| d.link_targets(&from))
    };
    let chosen = move |e: web_sys::Event| {
        let to = event_target_value(&e);
        if to.is_empty() {
            return;
        }
        set_said.set(match ed.link(&from, &to) {
            Ok(role) => format!("Linked to {to}: {role}."),
            Err(why) => format!("Not linked: {why}."),
        });
    };
    view! {
        <div class="field link-to">
            <label for="link-to">"Link to"</label>
            <select id="link-to" title="Link this node to another (L): only links that mean something are offered"
                on:change=chosen prop:value="">
                <option value="">"choose a node…"</option>
                {move || targets().into_iter().map(|(id, role)| view! {
                    <option value=id.clone()>{format!("{id} ({role})")}</option>
                }).collect_view()}
            </select>
            <span class="hint" role="status">{said}</span>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        let text = include_str!("../../../scenarios/order-pipeline.json");
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn a_red_or_amber_node_says_why() {
        let node = |health| NodeLive {
            id: "x".into(),
            depth: 0,
            unacked: 0,
            busy: 0,
            workers: 1,
            replicas_up: 1,
            replicas: 1,
            health,
            blocked: false,
            faults: vec![],
            breaker: None,
            sagas: None,
            outbox: None,
        };
        let point = |dropped, errors| Point { dropped, errors, ..Point::default() };
        let (level, why) = health_reason(Kind::Exchange, &node(Health::Error), &point(7, 0)).unwrap();
        assert_eq!(
            (level, why.as_str()),
            ("error", "Red: 7 unroutable (no binding matched) in the last simulated second.")
        );
        let (level, why) = health_reason(Kind::Service, &node(Health::Warning), &point(0, 3)).unwrap();
        assert_eq!((level, why.as_str()), ("warning", "Amber: 3 failed attempts in the last simulated second."));
        assert_eq!(health_reason(Kind::Queue, &node(Health::Ok), &point(0, 0)), None);
        let down = NodeLive { replicas_up: 0, ..node(Health::Error) };
        assert!(health_reason(Kind::Service, &down, &point(0, 0)).unwrap().1.contains("no replica is up"));
    }

    #[test]
    fn a_field_is_checked_alone_as_the_whole_canvas_would_check_it() {
        let d = doc();
        let node = |id: &str| d["nodes"].as_array().unwrap().iter().position(|n| n["id"] == id).unwrap();
        let at = Place { section: "nodes", index: node("order_api") };
        assert_eq!(problem_with(&d, at, "rate_per_s", Some(json!(20))), None);
        let why = problem_with(&d, at, "rate_per_s", Some(json!(-1))).unwrap();
        assert!(why.contains("from 0 to 1000000"), "{why}");
        // The probe holds the node and its neighbours, not the canvas.
        let (probe, path) = probe(&d, at, "rate_per_s", Some(json!(3))).unwrap();
        let neighbours = d["links"].as_array().unwrap().iter().filter(|l| l["from"] == "order_api").count();
        assert_eq!(probe["nodes"].as_array().unwrap().len(), 1 + neighbours);
        assert_eq!(path, "nodes[0].rate_per_s");
        // An outbox is checked with the node's links: it needs a call link to a store.
        let ob: Value = serde_json::from_str(include_str!("../../../scenarios/outbox.json")).unwrap();
        let at_ob = |id: &str| Place {
            section: "nodes",
            index: ob["nodes"].as_array().unwrap().iter().position(|n| n["id"] == id).unwrap(),
        };
        let outbox = Some(json!({"poll_ms": 250, "batch": 10}));
        assert_eq!(problem_with(&ob, at_ob("order_service_b"), "outbox", outbox.clone()), None);
        let shipping = problem_with(&ob, at_ob("shipping_b"), "outbox", outbox).unwrap_or_default();
        assert!(shipping.contains("no store to keep it in"), "{shipping}");
        // A saga, whose participants are anywhere on the canvas, is checked in the whole of it.
        let sg: Value = serde_json::from_str(include_str!("../../../scenarios/saga-orchestration.json")).unwrap();
        let i = sg["nodes"].as_array().unwrap().iter().position(|n| n["id"] == "order_saga").unwrap();
        let saga = sg["nodes"][i]["saga"].clone();
        assert_eq!(problem_with(&sg, Place { section: "nodes", index: i }, "saga", Some(saga.clone())), None);
        let mut wrong = saga;
        wrong["steps"][0]["channel"] = json!("nowhere");
        assert!(problem_with(&sg, Place { section: "nodes", index: i }, "saga", Some(wrong)).is_some());
        // A link's field is read with its role, which the kinds at its ends give.
        let links = d["links"].as_array().unwrap();
        let binding = links.iter().position(|l| l.get("binding_key").is_some()).unwrap();
        let at = Place { section: "links", index: binding };
        assert!(
            problem_with(&d, at, "routing_key", Some(json!("k"))).unwrap().contains("a binding takes no routing_key")
        );
        assert_eq!(problem_with(&d, at, "binding_key", Some(json!("k"))), None);
        let top = Place { section: "", index: 0 };
        assert!(problem_with(&d, top, "seed", Some(json!(-3))).is_some());
        assert_eq!(problem_with(&d, top, "name", Some(json!("Renamed"))), None);
    }
}
