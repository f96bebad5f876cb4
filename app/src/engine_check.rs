//! Runs the built-in scenario in the browser for a simulated minute and shows the totals:
//! the same engine as `edasim run`, compiled to wasm32.

use edasim_sim::time::NS_PER_S;
use edasim_sim::{Engine, Model, Options};
use leptos::prelude::*;

const ORDER_PIPELINE: &str = include_str!("../../scenarios/order-pipeline.json");

/// What a one-minute run of the scenario gave.
#[derive(Clone, Debug, PartialEq)]
struct Totals {
    name: String,
    nodes: usize,
    produced: u64,
    completed: u64,
    dead_lettered: u64,
    events: u64,
}

fn run_minute() -> Result<Totals, String> {
    let model = Model::from_json_str(ORDER_PIPELINE).map_err(|e| e.to_string())?;
    let mut engine = Engine::new(&model, &Options::default());
    engine.step_until(60 * NS_PER_S).map_err(|e| e.to_string())?;
    let l = engine.ledger();
    Ok(Totals {
        name: model.topology().name.clone(),
        nodes: model.topology().nodes.len(),
        produced: l.produced,
        completed: l.completed,
        dead_lettered: l.dead_lettered,
        events: engine.events(),
    })
}

#[component]
pub fn EngineCheck() -> impl IntoView {
    let (result, set_result) = signal(None::<Result<Totals, String>>);
    view! {
        <section class="card" aria-live="polite">
            <button on:click=move |_| set_result.set(Some(run_minute()))>
                "Run the order pipeline for one simulated minute"
            </button>
            {move || match result.get() {
                None => view! { <p>"The canvas editor and live view are on their way."</p> }.into_any(),
                Some(Err(e)) => view! { <p role="alert">{e}</p> }.into_any(),
                Some(Ok(t)) => view! {
                    <dl id="totals">
                        <dt>"Scenario"</dt><dd>{t.name}</dd>
                        <dt>"Nodes"</dt><dd>{t.nodes}</dd>
                        <dt>"Produced"</dt><dd>{t.produced}</dd>
                        <dt>"Completed"</dt><dd>{t.completed}</dd>
                        <dt>"Dead-lettered"</dt><dd>{t.dead_lettered}</dd>
                        <dt>"Events"</dt><dd>{t.events}</dd>
                    </dl>
                }.into_any(),
            }}
        </section>
    }
}
