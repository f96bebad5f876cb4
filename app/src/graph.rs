//! The graph: nodes as shapes by kind with their live figures, links as arrows (dead-letter
//! links dashed), in an SVG whose world coordinates the dots layer shares.

use edasim_protocol::{Health, NodeLive};
use leptos::prelude::*;

use crate::connection::Live;
use crate::model::{NODE_H, NODE_W, ViewGraph};

/// The figure a node shows under its name.
fn figure(kind: &str, live: Option<&NodeLive>) -> String {
    let Some(n) = live else { return String::new() };
    match kind {
        "queue" => format!("{} ready · {} unacked", n.depth, n.unacked),
        "service" => format!("{}/{} busy · {} up", n.busy, n.workers, n.replicas_up),
        _ => String::new(),
    }
}

fn icon(kind: &str) -> &'static str {
    match kind {
        "producer" => "⇢",
        "exchange" => "⋔",
        "queue" => "☰",
        "service" => "⚙",
        "store" => "⛁",
        _ => "?",
    }
}

/// Where the segment from `a` to `b` leaves the node box around `a`.
fn edge_point(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    if dx == 0.0 && dy == 0.0 {
        return a;
    }
    let sx = if dx != 0.0 { (NODE_W / 2.0) / dx.abs() } else { f64::MAX };
    let sy = if dy != 0.0 { (NODE_H / 2.0) / dy.abs() } else { f64::MAX };
    let s = sx.min(sy).min(1.0);
    (a.0 + dx * s, a.1 + dy * s)
}

#[component]
pub fn Graph() -> impl IntoView {
    let live = expect_context::<Live>();
    let view_box = move || {
        let (x, y, w, h) = live.graph.with(ViewGraph::bounds);
        format!("{x} {y} {w} {h}")
    };
    let links = move || {
        live.graph.with(|g| {
            g.links
                .iter()
                .map(|l| {
                    let (a, b) = (g.centre(l.from), g.centre(l.to));
                    let (p, q) = (edge_point(a, b), edge_point(b, a));
                    let d = if l.from == l.to {
                        // A queue dead-lettering into itself: a loop above it.
                        format!("M {} {} c 40 -80 120 -80 160 0", a.0 - 80.0, a.1 - NODE_H / 2.0)
                    } else {
                        format!("M {} {} L {} {}", p.0, p.1, q.0, q.1)
                    };
                    view! { <path class="link" class:dead-letter=l.dead_letter d=d marker-end="url(#arrow)" /> }
                })
                .collect_view()
        })
    };
    let nodes = move || {
        let g = live.graph.get();
        g.nodes
            .into_iter()
            .enumerate()
            .map(|(i, n)| {
                let node_live = move || live.frame.with(|f| f.as_ref().and_then(|f| f.nodes.get(i).cloned()));
                let kind = n.kind.clone();
                let kind2 = n.kind.clone();
                let health = move || node_live().map_or(Health::Ok, |l| l.health);
                let fill = move || {
                    let l = node_live();
                    match (kind2.as_str(), l) {
                        ("queue", Some(l)) => (l.depth as f64 / 50.0).min(1.0) * (NODE_W - 12.0),
                        _ => 0.0,
                    }
                };
                view! {
                    <g class=format!("node {}", n.kind) class:warning=move || health() == Health::Warning
                        class:selected=move || live.selected.get() == Some(i)
                        on:click=move |_| live.selected.set(Some(i))
                        tabindex="0" role="button" aria-label=format!("{} ({})", n.id, n.kind)
                        class:error=move || health() == Health::Error
                        transform=format!("translate({} {})", n.x, n.y) data-id=n.id.clone()>
                        <title>{format!("{} ({})", n.id, n.kind)}</title>
                        <rect class="shape" width=NODE_W height=NODE_H rx=if n.kind == "service" { 10 } else { 4 } />
                        <rect class="fill" x="6" y=NODE_H - 10.0 height="5" width=fill />
                        <text class="icon" x="10" y="24">{icon(&n.kind)}</text>
                        <text class="label" x="30" y="24">{n.label.clone()}</text>
                        <text class="figure" x="10" y="42">{move || figure(&kind, node_live().as_ref())}</text>
                    </g>
                }
            })
            .collect_view()
    };
    view! {
        <svg id="graph" class="graph" viewBox=view_box preserveAspectRatio="xMidYMid meet" role="img"
            aria-label=move || live.graph.with(|g| format!("{}: {} nodes", g.name, g.nodes.len()))>
            <defs>
                <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                    <path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead" />
                </marker>
            </defs>
            <g class="links">{links}</g>
            <g class="nodes">{nodes}</g>
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_leave_the_box_edge() {
        let p = edge_point((0.0, 0.0), (1000.0, 0.0));
        assert_eq!(p, (NODE_W / 2.0, 0.0));
        let p = edge_point((0.0, 0.0), (0.0, -500.0));
        assert_eq!(p, (0.0, -NODE_H / 2.0));
    }
}
