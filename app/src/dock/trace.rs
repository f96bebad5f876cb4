//! The trace of an order, like Jaeger's timeline: each hop of the chain as a bar on a shared
//! time axis, with the time spent between hops (queue waits, processing) visible as gaps.

use leptos::prelude::*;

use crate::state::connection::Live;

#[component]
pub fn Trace() -> impl IntoView {
    let live = expect_context::<Live>();
    let content = move || {
        let Some((msg, hops)) = live.trace.get() else {
            return view! { <p class="hint">"Click a line of the event log to see its order's journey."</p> }
                .into_any();
        };
        // Hops index the running topology's nodes.
        let names = live.topology.with(|t| crate::canvas::geometry::node_ids(t.as_ref()));
        let name = move |i: u32| names.get(i as usize).cloned().unwrap_or_default();
        let t0 = hops.iter().map(|h| h.start_ms).fold(f64::MAX, f64::min);
        let t1 = hops.iter().map(|h| h.end_ms).fold(f64::MIN, f64::max).max(t0 + 1.0);
        let pct = move |t: f64| 100.0 * (t - t0) / (t1 - t0);
        view! {
            <p class="trace-title">{format!("order {msg}: {} hops over {:.1} ms", hops.len(), t1 - t0)}</p>
            <ol class="trace" id="trace">
                {hops.into_iter().map(|h| {
                    let left = pct(h.start_ms);
                    let width = (pct(h.end_ms) - left).max(0.4);
                    view! {
                        <li class:dead=h.dead>
                            <span class="hop">{format!("{} → {}", name(h.from), name(h.to))}</span>
                            <span class="bar-track"><span class="bar" style=format!("left:{left:.2}%;width:{width:.2}%")></span></span>
                            <span class="when">{format!("{:.1} ms (+{:.1})", h.start_ms - t0, h.end_ms - h.start_ms)}</span>
                            <span class="ev">{format!("{} #{}", h.event, h.msg)}</span>
                        </li>
                    }
                }).collect_view()}
            </ol>
        }
        .into_any()
    };
    view! { <div class="trace-view">{content}</div> }
}
