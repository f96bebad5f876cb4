//! Charts of the selected node (or, with none, of the whole system) over the last simulated
//! minutes, from the per-second series: throughput in and out, level (queue depth or busy
//! workers), latency percentiles, errors, retries and dead letters, with the seconds a fault
//! struck the node shaded. What each line shows and its colour are `edasim_sim::charts`'s, the
//! same as the pictures `edasim run --plot` draws.
//!
//! - `chart.rs`: one chart: its caption, canvas and hover read-out;
//! - `draw.rs`: drawing a chart on its canvas with plotters.

mod chart;
mod draw;

use edasim_sim::charts::{self, Line};
use edasim_sim::stats::Point;
use edasim_sim::topology::Kind;
use leptos::prelude::*;

use self::chart::{Chart, Twin};
use crate::state::connection::Live;
use crate::state::editor::Editor;

/// The last points of the running node `r`'s series, as they arrive.
fn node_points(live: Live, r: usize) -> Signal<Vec<Point>> {
    Memo::new(move |_| live.series.with(|s| s.get(r).cloned().unwrap_or_default())).into()
}

/// The latency chart of a node or of the system.
fn latency_chart(subject: &str, title: &'static str, points: Signal<Vec<Point>>, twin: Twin) -> impl IntoView {
    view! {
        <Chart id="chart-latency" title=title unit="ms" lines=charts::LATENCY.to_vec() points=points twin=twin
            subject=subject.to_string() />
    }
}

/// Errors, retries, dead letters and drops.
fn errors_chart(subject: &str, points: Signal<Vec<Point>>, twin: Twin) -> impl IntoView {
    view! {
        <Chart id="chart-errors" title="Errors, retries and dead letters" unit="per s"
            lines=charts::TROUBLE.to_vec() points=points twin=twin subject=subject.to_string() />
    }
}

/// One node's chart for the presenter's strip: what a step's node shows best (a queue's depth,
/// a service's errors and retries, anything else's throughput), titled with its id.
pub fn step_chart(live: Live, ed: Editor, n: usize, id: String) -> impl IntoView {
    let found = ed.graph.with(|g| {
        let i = g.nodes.iter().position(|x| x.id == id)?;
        Some((g.nodes[i].kind, g.running[i]?))
    });
    let Some((kind, r)) = found else { return ().into_any() };
    let points = node_points(live, r);
    let (title, unit, lines): (String, _, Vec<Line>) = match kind {
        Some(Kind::Queue) => (format!("{id}: depth"), "messages", vec![charts::LEVEL]),
        Some(Kind::Service) => {
            (format!("{id}: out, errors, retries"), "per s", vec![charts::OUT, charts::ERRORS, charts::RETRIES])
        }
        _ => (format!("{id}: throughput"), "msg/s", vec![charts::IN, charts::OUT]),
    };
    view! { <Chart id=format!("present-chart-{n}") title=title unit=unit lines=lines points=points /> }.into_any()
}

/// What the charts show for a selected node: only a change of these draws them anew (new
/// points only redraw their canvases).
#[derive(Clone, Debug, PartialEq)]
struct Selected {
    id: String,
    kind: Option<Kind>,
    /// Its index in the running topology, if it runs.
    running: Option<usize>,
    /// The CPU request a replica, if it does CPU work (`"no"` without a request).
    cpu: Option<String>,
    /// Other nodes of its kind, to compare with.
    others: Vec<String>,
    /// The one compared with, and its running index.
    twin: Option<(String, usize)>,
}

fn selected(ed: Editor) -> Option<Selected> {
    let id = ed.selection.with(|s| s.single_node().map(str::to_string))?;
    let (kind, running) = ed.graph.with(|g| {
        let i = g.nodes.iter().position(|n| n.id == id)?;
        Some((g.nodes[i].kind, g.running[i]))
    })?;
    // A service with CPU work charts its CPU use too, against its request.
    let cpu = ed.doc.with(|d| {
        let n = d.value["nodes"].as_array()?.iter().find(|n| n["id"] == id.as_str())?;
        n.get("cpu_ms")?;
        Some(n.get("cpu_request_m").and_then(serde_json::Value::as_f64).map_or("no".to_string(), |r| format!("{r}")))
    });
    // Another node of the same kind to compare with (a lesson's two variants): dashed.
    let others: Vec<String> =
        ed.graph.with(|g| g.nodes.iter().filter(|n| n.kind == kind && n.id != id).map(|n| n.id.clone()).collect());
    let twin = ed.compare.get().filter(|c| others.contains(c)).and_then(|c| {
        let r = ed.graph.with(|g| g.nodes.iter().position(|n| n.id == c).and_then(|i| g.running[i]))?;
        Some((c, r))
    });
    Some(Selected { id, kind, running, cpu, others, twin })
}

#[component]
pub fn Charts() -> impl IntoView {
    let live = expect_context::<Live>();
    let ed = expect_context::<Editor>();
    let chosen = Memo::new(move |_| selected(ed));
    let content = move || {
        let Some(s) = chosen.get() else {
            return system_charts(live).into_any();
        };
        let Some(r) = s.running else {
            return view! { <p class="hint">{format!("{} is not in the running simulation yet: restart with the changes to chart it.", s.id)}</p> }.into_any();
        };
        let points = node_points(live, r);
        // The compared node's points, followed once for all its charts.
        let twin_points = s.twin.as_ref().map(|(c, r)| (c.clone(), node_points(live, *r)));
        let twin = || twin_points.clone();
        let service = s.kind == Some(Kind::Service);
        let level_unit = if service { "busy workers, or in flight" } else { "messages" };
        let compare = ed.compare.get_untracked().unwrap_or_default();
        let seconds = move || points.with(Vec::len);
        let id = s.id.clone();
        view! {
            <h2 class="dock-title">{move || format!("{id} · last {} s", seconds())}
                <select id="compare" aria-label="Compare with another node" prop:value=compare
                    on:change=move |e| { let v = event_target_value(&e); ed.compare.set((!v.is_empty()).then_some(v)); }>
                    <option value="">"Compare with…"</option>
                    {s.others.iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
                </select>
            </h2>
            <div class="charts">
                <Chart id="chart-throughput" title="Throughput" unit="msg/s" lines=vec![charts::IN, charts::OUT]
                    points=points twin=twin() subject=s.id.clone() />
                <Chart id="chart-level" title=if service { "Busy" } else { "Depth" } unit=level_unit
                    lines=vec![charts::LEVEL] points=points twin=twin() subject=s.id.clone() />
                {latency_chart(&s.id, "Latency", points, twin())}
                {s.cpu.clone().map(|request| view! {
                    <Chart id="chart-cpu" title=format!("CPU, {request}m requested a replica") unit="millicores"
                        lines=vec![charts::CPU] points=points subject=s.id.clone() />
                })}
                {errors_chart(&s.id, points, twin())}
            </div>
        }
        .into_any()
    };
    view! { <div class="charts-view">{content}</div> }
}

/// The whole system's charts' subject, in a saved picture's title and file name.
const SYSTEM: &str = "Whole system";

fn system_charts(live: Live) -> impl IntoView {
    // The nodes' parts change with the topology only, not with each second's points.
    let parts = Memo::new(move |_| {
        live.topology.with(|t| {
            let model = t.as_ref().and_then(|t| edasim_sim::Model::from_value(t).ok());
            model.map(|m| charts::parts(m.topology())).unwrap_or_default()
        })
    });
    let points: Signal<Vec<Point>> = Memo::new(move |_| {
        parts.with(|parts| {
            live.series.with(|s| charts::system_series(parts.iter().copied().zip(s.iter().map(Vec::as_slice))))
        })
    })
    .into();
    view! {
        <h2 class="dock-title">{move || format!("Whole system · last {} s", points.with(Vec::len))}
            <small class="hint">" · select a node to chart it alone"</small></h2>
        <div class="charts">
            <Chart id="chart-throughput" title="Throughput" unit="msg/s"
                lines=vec![Line { name: "produced", ..charts::IN }, Line { name: "completed at leaves", ..charts::OUT }]
                points=points subject=SYSTEM />
            <Chart id="chart-level" title="Waiting in queues and topics" unit="messages" lines=vec![charts::LEVEL] points=points
                subject=SYSTEM />
            {latency_chart(SYSTEM, "Slowest service's latency", points, None)}
            {errors_chart(SYSTEM, points, None)}
        </div>
    }
}
