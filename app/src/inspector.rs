//! The inspector: the selected node's fields, and the ones the engine lets change while the
//! simulation plays, applied live.

use edasim_protocol::{ClientMsg, Fault};
use edasim_sim::engine::Change;
use leptos::prelude::*;
use serde_json::Value;

use crate::connection::{Live, send};

/// A live-editable number: (field, label, help, how to make the change).
type Editable = (&'static str, &'static str, &'static str, fn(f64) -> Change);

fn editable(kind: &str) -> Vec<Editable> {
    match kind {
        "producer" => {
            vec![("rate_per_s", "Rate (events/s)", "Events per second this producer emits.", Change::RatePerS)]
        }
        "service" => vec![
            ("replicas", "Replicas", "Instances consuming in parallel (a Kubernetes HPA scales this).", |v| {
                Change::Replicas(v as u32)
            }),
            ("concurrency", "Concurrency", "Messages each replica processes at once.", |v| {
                Change::Concurrency(v as u32)
            }),
            ("failure_rate", "Failure rate", "Chance (0 to 1) that processing a message fails.", Change::FailureRate),
        ],
        "store" => vec![("failure_rate", "Failure rate", "Chance (0 to 1) that a call fails.", Change::FailureRate)],
        "queue" => vec![("max_length", "Max length", "Ready messages the queue holds at most.", |v| {
            Change::MaxLength(Some(v as u64))
        })],
        _ => vec![],
    }
}

#[component]
pub fn Inspector() -> impl IntoView {
    let live = expect_context::<Live>();
    let content = move || {
        let Some(i) = live.selected.get() else {
            return view! { <p class="hint">"Click a node to inspect it."</p> }.into_any();
        };
        let node: Value =
            live.topology.with(|t| t.as_ref().and_then(|t| t["nodes"].get(i).cloned()).unwrap_or_default());
        let id = node["id"].as_str().unwrap_or("").to_string();
        let kind = node["kind"].as_str().unwrap_or("").to_string();
        let fields = editable(&kind)
            .into_iter()
            .map(|(field, label, help, change)| {
                let current = node.get(field).and_then(Value::as_f64).map(|v| v.to_string()).unwrap_or_default();
                let (value, set_value) = signal(current);
                let id2 = id.clone();
                let apply = move |_| match value.get_untracked().trim().parse::<f64>() {
                    Ok(v) => send(&ClientMsg::SetParam { node: id2.clone(), change: change(v) }),
                    Err(_) => live.problems.update(|p| p.push(format!("{field}: not a number"))),
                };
                view! {
                    <label class="field" title=help>
                        <span>{label}</span>
                        <input id=format!("field-{field}") inputmode="decimal" prop:value=move || value.get()
                            on:input=move |e| set_value.set(event_target_value(&e)) />
                        <button id=format!("apply-{field}") on:click=apply aria-label=format!("Apply {label}")>"Apply"</button>
                    </label>
                }
            })
            .collect_view();
        let crash = (kind == "service").then(|| {
            let id3 = id.clone();
            view! {
                <button id="crash" on:click=move |_| send(&ClientMsg::InjectFault { node: id3.clone(), fault: Fault::CrashReplica { replica: 0 } })>
                    "Crash replica 0"
                </button>
            }
        });
        view! {
            <h2>{id.clone()}</h2>
            <p class="kind">{kind.clone()}</p>
            <div class="fields">{fields}</div>
            {crash}
            <details>
                <summary>"All fields"</summary>
                <pre>{serde_json::to_string_pretty(&node).unwrap_or_default()}</pre>
            </details>
        }
        .into_any()
    };
    view! { <aside class="inspector" aria-label="Inspector">{content}</aside> }
}
