//! Charts of the selected node (or, with none, of the whole system) over the last simulated
//! minutes, from the per-second series:
//! throughput in and out, level (queue depth or busy workers), latency percentiles, errors,
//! retries and dead letters, with the seconds a fault struck the node shaded. Plain SVG
//! polylines with labelled axes.

use edasim_sim::stats::Point;
use edasim_sim::topology::Kind;
use leptos::prelude::*;

use crate::state::connection::Live;

const W: f64 = 360.0;
const H: f64 = 150.0;
const PAD_L: f64 = 44.0;
const PAD_B: f64 = 22.0;

/// One line of a chart: a name, a CSS class and the value of each point.
struct Line {
    name: &'static str,
    class: &'static str,
    value: fn(&Point) -> f64,
}

/// A "nice" upper bound for an axis.
pub fn nice_max(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return 1.0;
    }
    let mag = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|v| *v >= x).unwrap_or(10.0 * mag)
}

fn chart(
    id: impl Into<String>,
    title: impl Into<String>,
    unit: &'static str,
    lines: Vec<Line>,
    points: Vec<Point>,
) -> impl IntoView {
    chart_vs(id, title, unit, lines, points, None)
}

/// A node to compare with: its id and its points, drawn dashed over the chart's own.
type Twin<'a> = Option<&'a (String, Vec<Point>)>;

fn chart_vs(
    id: impl Into<String>,
    title: impl Into<String>,
    unit: &'static str,
    lines: Vec<Line>,
    points: Vec<Point>,
    twin: Twin,
) -> impl IntoView {
    let title: String = title.into();
    let id: String = id.into();
    let twin_points: &[Point] = twin.map_or(&[], |t| t.1.as_slice());
    let max = nice_max(
        points.iter().chain(twin_points).flat_map(|p| lines.iter().map(move |l| (l.value)(p))).fold(0.0, f64::max),
    );
    let (t0, t1) = (points.first().map_or(0, |p| p.t_s), points.last().map_or(1, |p| p.t_s));
    let span = (t1.saturating_sub(t0)).max(1) as f64;
    let x = move |t: u64| PAD_L + (t.saturating_sub(t0)) as f64 / span * (W - PAD_L - 8.0);
    let y = move |v: f64| (H - PAD_B) - v / max * (H - PAD_B - 8.0);
    let last = points
        .last()
        .map(|p| lines.iter().map(|l| format!("{}={}", l.name, (l.value)(p))).collect::<Vec<_>>().join(" "));
    let paths = lines
        .iter()
        .map(|l| {
            let pts: Vec<String> = points.iter().map(|p| format!("{:.1},{:.1}", x(p.t_s), y((l.value)(p)))).collect();
            view! { <polyline class=format!("series {}", l.class) points=pts.join(" ") /> }
        })
        .collect_view();
    // The twin's lines, dashed, over the same seconds.
    let twin_paths = lines
        .iter()
        .map(|l| {
            let pts: Vec<String> = twin_points
                .iter()
                .filter(|p| p.t_s >= t0 && p.t_s <= t1)
                .map(|p| format!("{:.1},{:.1}", x(p.t_s), y((l.value)(p))))
                .collect();
            view! { <polyline class=format!("series {} twin", l.class) points=pts.join(" ") /> }
        })
        .collect_view();
    let twin_last = twin_points
        .last()
        .map(|p| lines.iter().map(|l| format!("{}={}", l.name, (l.value)(p))).collect::<Vec<_>>().join(" "));
    let twin_name = twin.map(|t| t.0.clone());
    // Seconds a fault struck the node: shaded bands behind the lines.
    let step = (W - PAD_L - 8.0) / span;
    let faulted: Vec<u64> = points.iter().filter(|p| p.faults > 0).map(|p| p.t_s).collect();
    let bands = faulted
        .iter()
        .map(|&t| {
            let x0 = (x(t) - step).max(PAD_L);
            view! { <rect class="fault-band" x=x0 y="8" width=x(t) - x0 height=H - PAD_B - 8.0 /> }
        })
        .collect_view();
    let fault_seconds = faulted.len();
    // Legends spread over the width, 90 apart at most.
    let gap = ((W - PAD_L - 16.0) / lines.len().max(1) as f64).min(90.0);
    let legend = lines
        .iter()
        .enumerate()
        .map(|(i, l)| view! { <text class=format!("legend {}", l.class) x=PAD_L + 8.0 + gap * i as f64 y="12">{l.name}</text> })
        .collect_view();
    view! {
        <figure class="chart" id=id data-last=last.unwrap_or_default() data-fault-seconds=fault_seconds
            data-twin-last=twin_last.unwrap_or_default()>
            <figcaption>
                {format!("{title} ({unit})")}
                {(fault_seconds > 0).then(|| view! { <span class="fault-key">" · ⚡ shaded: a fault struck"</span> })}
                {twin_name.map(|n| view! { <span class="twin-key">{format!(" · dashed: {n}")}</span> })}
            </figcaption>
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=title.clone()>
                <line class="axis" x1=PAD_L y1=H - PAD_B x2=W - 8.0 y2=H - PAD_B />
                <line class="axis" x1=PAD_L y1="8" x2=PAD_L y2=H - PAD_B />
                <text class="tick" x=PAD_L - 4.0 y="14" text-anchor="end">{format!("{max}")}</text>
                <text class="tick" x=PAD_L - 4.0 y=H - PAD_B text-anchor="end">"0"</text>
                <text class="tick" x=PAD_L y=H - 6.0>{format!("{t0} s")}</text>
                <text class="tick" x=W - 8.0 y=H - 6.0 text-anchor="end">{format!("{t1} s")}</text>
                {bands}
                {legend}
                {paths}
                {twin_paths}
            </svg>
        </figure>
    }
}

fn latency_chart(title: &'static str, points: Vec<Point>, twin: Twin) -> impl IntoView {
    let lines = vec![
        Line { name: "p50", class: "p50", value: |p| f64::from(p.p50_ms) },
        Line { name: "p95", class: "p95", value: |p| f64::from(p.p95_ms) },
        Line { name: "p99", class: "p99", value: |p| f64::from(p.p99_ms) },
    ];
    chart_vs("chart-latency", title, "ms", lines, points, twin)
}

fn errors_chart(points: Vec<Point>, twin: Twin) -> impl IntoView {
    let lines = vec![
        Line { name: "errors", class: "errors", value: |p| f64::from(p.errors) },
        Line { name: "retries", class: "retries", value: |p| f64::from(p.retries) },
        Line { name: "dead letters", class: "dead", value: |p| f64::from(p.dead_letters) },
        Line { name: "dropped", class: "dropped", value: |p| f64::from(p.dropped) },
    ];
    chart_vs("chart-errors", "Errors, retries and dead letters", "per s", lines, points, twin)
}

/// One node's chart for the presenter's strip: what a step's node shows best (a queue's depth,
/// a service's errors and retries, anything else's throughput), titled with its id.
pub fn step_chart(live: Live, ed: crate::state::editor::Editor, n: usize, id: String) -> impl IntoView {
    let found = ed.graph.with(|g| {
        let i = g.nodes.iter().position(|x| x.id == id)?;
        Some((g.nodes[i].kind, g.running[i]?))
    });
    let Some((kind, r)) = found else { return ().into_any() };
    let points = live.series.with(|s| s.get(r).cloned().unwrap_or_default());
    let element = format!("present-chart-{n}");
    match kind {
        Some(Kind::Queue) => chart(
            element,
            format!("{id}: depth"),
            "messages",
            vec![Line { name: "mean", class: "level", value: |p| f64::from(p.level) }],
            points,
        )
        .into_any(),
        Some(Kind::Service) => chart(
            element,
            format!("{id}: out, errors, retries"),
            "per s",
            vec![
                Line { name: "out", class: "out", value: |p| f64::from(p.out_per_s) },
                Line { name: "errors", class: "errors", value: |p| f64::from(p.errors) },
                Line { name: "retries", class: "retries", value: |p| f64::from(p.retries) },
            ],
            points,
        )
        .into_any(),
        _ => chart(
            element,
            format!("{id}: throughput"),
            "msg/s",
            vec![
                Line { name: "in", class: "in", value: |p| f64::from(p.in_per_s) },
                Line { name: "out", class: "out", value: |p| f64::from(p.out_per_s) },
            ],
            points,
        )
        .into_any(),
    }
}

#[component]
pub fn Charts() -> impl IntoView {
    let live = expect_context::<Live>();
    let ed = expect_context::<crate::state::editor::Editor>();
    let content = move || {
        let Some(id) = ed.selection.with(|s| s.single_node().map(str::to_string)) else {
            return system_charts(live).into_any();
        };
        let found = ed.graph.with(|g| {
            let i = g.nodes.iter().position(|n| n.id == id)?;
            Some((g.nodes[i].kind, g.running[i]))
        });
        let Some((kind, running)) = found else { return ().into_any() };
        let Some(r) = running else {
            return view! { <p class="hint">{format!("{id} is not in the running simulation yet: restart with the changes to chart it.")}</p> }.into_any();
        };
        let points = live.series.with(|s| s.get(r).cloned().unwrap_or_default());
        let service = kind == Some(Kind::Service);
        // A service with CPU work charts its CPU use too, against its request.
        let cpu = ed.doc.with(|d| {
            let n = d.value["nodes"].as_array()?.iter().find(|n| n["id"] == id.as_str())?;
            n.get("cpu_ms")?;
            Some(
                n.get("cpu_request_m").and_then(serde_json::Value::as_f64).map_or("no".to_string(), |r| format!("{r}")),
            )
        });
        let level_unit = if service { "busy workers, or in flight" } else { "messages" };
        // Another node of the same kind to compare with (a lesson's two variants): dashed.
        let others: Vec<String> =
            ed.graph.with(|g| g.nodes.iter().filter(|n| n.kind == kind && n.id != id).map(|n| n.id.clone()).collect());
        let twin: Option<(String, Vec<Point>)> = ed.compare.get().filter(|c| others.contains(c)).and_then(|c| {
            let r = ed.graph.with(|g| g.nodes.iter().position(|n| n.id == c).and_then(|i| g.running[i]))?;
            Some((c, live.series.with(|s| s.get(r).cloned().unwrap_or_default())))
        });
        let twin = twin.as_ref();
        let chosen = ed.compare.get().unwrap_or_default();
        view! {
            <h2 class="dock-title">{format!("{id} · last {} s", points.len())}
                <select id="compare" aria-label="Compare with another node" prop:value=chosen
                    on:change=move |e| { let v = event_target_value(&e); ed.compare.set((!v.is_empty()).then_some(v)); }>
                    <option value="">"Compare with…"</option>
                    {others.iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
                </select>
            </h2>
            <div class="charts">
                {chart_vs("chart-throughput", "Throughput", "msg/s", vec![
                    Line { name: "in", class: "in", value: |p| f64::from(p.in_per_s) },
                    Line { name: "out", class: "out", value: |p| f64::from(p.out_per_s) },
                ], points.clone(), twin)}
                {chart_vs("chart-level", if service { "Busy" } else { "Depth" }, level_unit, vec![
                    Line { name: "mean", class: "level", value: |p| f64::from(p.level) },
                ], points.clone(), twin)}
                {latency_chart("Latency", points.clone(), twin)}
                {cpu.map(|request| chart("chart-cpu", format!("CPU, {request}m requested a replica"), "millicores", vec![
                    Line { name: "used", class: "cpu", value: |p| f64::from(p.cpu_m) },
                ], points.clone()))}
                {errors_chart(points, twin)}
            </div>
        }
        .into_any()
    };
    view! { <div class="charts-view">{content}</div> }
}

/// The whole system, second by second, from every node's series: what the producers emitted and
/// what the leaf services completed, messages waiting in all queues, the slowest service's
/// latency, and errors, dead letters and drops summed.
pub fn system_series(topology: &serde_json::Value, series: &[Vec<Point>]) -> Vec<Point> {
    use std::collections::BTreeMap;
    let nodes = topology["nodes"].as_array().map(Vec::as_slice).unwrap_or_default();
    let kind = |i: usize| nodes.get(i).and_then(|n| n["kind"].as_str()).and_then(Kind::from_name);
    let id = |i: usize| nodes.get(i).and_then(|n| n["id"].as_str()).unwrap_or("");
    let publishes: Vec<&str> = topology["links"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|l| {
            let to = l["to"].as_str().unwrap_or("");
            nodes
                .iter()
                .any(|n| n["id"] == to && n["kind"].as_str().and_then(Kind::from_name).is_some_and(Kind::is_messaging))
        })
        .filter_map(|l| l["from"].as_str())
        .collect();
    let mut by_second: BTreeMap<u64, Point> = BTreeMap::new();
    for (i, points) in series.iter().enumerate() {
        for p in points {
            let s = by_second.entry(p.t_s).or_insert(Point { t_s: p.t_s, ..Point::default() });
            match kind(i) {
                // A producer's emissions are its flow out.
                Some(Kind::Producer) => s.in_per_s += p.out_per_s,
                Some(Kind::Queue) => s.level += p.level,
                Some(Kind::Service) => {
                    if !publishes.contains(&id(i)) {
                        s.out_per_s += p.out_per_s;
                    }
                    s.p50_ms = s.p50_ms.max(p.p50_ms);
                    s.p95_ms = s.p95_ms.max(p.p95_ms);
                    s.p99_ms = s.p99_ms.max(p.p99_ms);
                }
                _ => {}
            }
            s.errors += p.errors;
            s.dead_letters += p.dead_letters;
            s.dropped += p.dropped;
        }
    }
    by_second.into_values().collect()
}

fn system_charts(live: Live) -> impl IntoView {
    let points =
        live.topology.with(|t| live.series.with(|s| system_series(t.as_ref().unwrap_or(&serde_json::Value::Null), s)));
    view! {
        <h2 class="dock-title">{format!("Whole system · last {} s", points.len())}<small class="hint">" · select a node to chart it alone"</small></h2>
        <div class="charts">
            {chart("chart-throughput", "Throughput", "msg/s", vec![
                Line { name: "produced", class: "in", value: |p| f64::from(p.in_per_s) },
                Line { name: "completed at leaves", class: "out", value: |p| f64::from(p.out_per_s) },
            ], points.clone())}
            {chart("chart-level", "Waiting in queues", "messages", vec![
                Line { name: "mean", class: "level", value: |p| f64::from(p.level) },
            ], points.clone())}
            {latency_chart("Slowest service's latency", points.clone(), None)}
            {errors_chart(points, None)}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use edasim_sim::stats::Point;
    use serde_json::json;

    #[test]
    fn the_system_adds_up_its_nodes() {
        let t = json!({"nodes": [{"id": "p", "kind": "producer"}, {"id": "q", "kind": "queue"},
            {"id": "s", "kind": "service"}, {"id": "x", "kind": "exchange"}, {"id": "leaf", "kind": "service"}],
            "links": [{"from": "s", "to": "x"}]});
        let pt = |t_s, in_per_s, out_per_s, level, p95_ms, errors| Point {
            t_s,
            in_per_s,
            out_per_s,
            level,
            p95_ms,
            errors,
            ..Point::default()
        };
        let series = vec![
            vec![pt(1, 0, 10, 0.0, 0.0, 0), pt(2, 0, 12, 0.0, 0.0, 0)],
            vec![pt(1, 10, 9, 3.5, 0.0, 0)],
            vec![pt(1, 9, 9, 2.0, 40.0, 1)],
            vec![],
            vec![pt(1, 9, 8, 1.0, 90.0, 2)],
        ];
        let sys = super::system_series(&t, &series);
        assert_eq!(sys.len(), 2);
        assert_eq!((sys[0].in_per_s, sys[0].out_per_s), (10, 8), "emitted by the producer; completed by the leaf only");
        assert_eq!(sys[0].level, 3.5, "queues only");
        assert_eq!(sys[0].p95_ms, 90.0, "the slowest service");
        assert_eq!(sys[0].errors, 3);
        assert_eq!(sys[1].in_per_s, 12);
    }

    #[test]
    fn nice_axes() {
        assert_eq!(super::nice_max(0.0), 1.0);
        assert_eq!(super::nice_max(7.0), 10.0);
        assert_eq!(super::nice_max(180.0), 200.0);
        assert_eq!(super::nice_max(0.3), 0.5);
    }
}
