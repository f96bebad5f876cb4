//! The bottom dock: Charts, Event log, Trace and Sagas, as tabs.
//!
//! - `charts.rs`: the selected node's (or the whole system's) per-second series;
//! - `eventlog.rs`: the filterable event log;
//! - `trace.rs`: an order's hops on one time axis;
//! - `sagas.rs`: an orchestrator's sagas by state, each with its steps and its history.

pub mod charts;
pub mod eventlog;
pub mod sagas;
pub mod trace;

use leptos::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tab {
    Charts,
    Log,
    Trace,
    Sagas,
}

#[component]
pub fn Dock() -> impl IntoView {
    let live = expect_context::<crate::state::connection::Live>();
    let tab = RwSignal::new(Tab::Charts);
    // A trace asked for (a log line, a dot clicked on the canvas) opens its tab.
    Effect::new(move |_| {
        if live.trace.with(Option::is_some) {
            tab.set(Tab::Trace);
        }
    });
    let button = move |t: Tab, id: &'static str, label: &'static str| {
        view! {
            <button id=id role="tab" aria-selected=move || (tab.get() == t).to_string() class:active=move || tab.get() == t
                on:click=move |_| tab.set(t)>{label}</button>
        }
    };
    let show_trace = Callback::new(move |_| tab.set(Tab::Trace));
    view! {
        <section class="dock" aria-label="Monitoring">
            <div class="tabs" role="tablist">
                {button(Tab::Charts, "tab-charts", "Charts")}
                {button(Tab::Log, "tab-log", "Event log")}
                {button(Tab::Trace, "tab-trace", "Trace")}
                {button(Tab::Sagas, "tab-sagas", "Sagas")}
            </div>
            <div class="tab-body">
                {move || match tab.get() {
                    Tab::Charts => view! { <crate::dock::charts::Charts /> }.into_any(),
                    Tab::Log => view! { <crate::dock::eventlog::EventLog on_trace=show_trace /> }.into_any(),
                    Tab::Trace => view! { <crate::dock::trace::Trace /> }.into_any(),
                    Tab::Sagas => view! { <crate::dock::sagas::Sagas /> }.into_any(),
                }}
            </div>
        </section>
    }
}
