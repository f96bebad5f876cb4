//! A node on the canvas: its kind's shape, its name, its live figures and health, and its port
//! to drag links from.

use edasim_protocol::{Health, NodeLive};
use edasim_sim::topology::Kind;
use leptos::prelude::*;
use web_sys::PointerEvent;

use crate::canvas::geometry::{NODE_H, NODE_W};
use crate::canvas::gestures::{Gesture, grab, toggle};
use crate::state::connection::Live;
use crate::state::doc::Selection;
use crate::state::editor::Editor;

/// The figure a node shows under its name.
fn figure(kind: Kind, live: Option<&NodeLive>) -> String {
    let Some(n) = live else { return String::new() };
    match kind {
        Kind::Queue => format!("{} ready · {} unacked", n.depth, n.unacked),
        Kind::Topic => format!("lag {} · {} in flight", n.depth, n.unacked),
        // An orchestrator: its sagas by state.
        Kind::Service if n.sagas.is_some() => {
            // Kept short to fit the node: in progress (undoing, if any), completed ✓,
            // compensated ↺, failed or stuck ✗.
            let s = n.sagas.unwrap_or_default();
            let undoing = if s.compensating > 0 { format!(" ({} undoing)", s.compensating) } else { String::new() };
            let bad = if s.failed + s.stuck > 0 { format!(" · {} ✗", s.failed + s.stuck) } else { String::new() };
            format!("{} on{undoing} · {} ✓ · {} ↺{bad}", s.running + s.compensating, s.completed, s.compensated)
        }
        Kind::Gateway => format!("{} waiting · {} at the API", n.depth, n.unacked),
        // A service with an outbox: its work, the rows waiting for the relay, and any a full
        // table refused (their events lost).
        Kind::Service if n.outbox.is_some() => {
            let (pending, full) = n.outbox.map_or((0, 0), |o| (o.pending, o.full));
            let refused = if full > 0 { format!(" · {full} refused") } else { String::new() };
            format!("{}/{} busy · outbox {pending}{refused}", n.busy, n.workers)
        }
        Kind::Service => {
            // An unbounded service (a task per message) has no pool of workers: what it holds
            // is in flight.
            let work = if n.workers == 0 && n.replicas_up > 0 {
                format!("{} in flight", n.busy)
            } else {
                format!("{}/{} busy", n.busy, n.workers)
            };
            // A crashed replica shows until its restart: "1 of 2 up".
            if n.replicas_up < n.replicas {
                format!("{work} · {} of {} up", n.replicas_up, n.replicas)
            } else {
                format!("{work} · {} up", n.replicas_up)
            }
        }
        Kind::Producer if n.blocked => "blocked: memory alarm".to_string(),
        _ => String::new(),
    }
}

pub fn icon(kind: Kind) -> &'static str {
    match kind {
        Kind::Producer => "⇢",
        Kind::Exchange => "⋔",
        Kind::Queue => "☰",
        Kind::Service => "⚙",
        Kind::Store => "⛁",
        Kind::Gateway => "⇉",
        Kind::Topic => "≣",
    }
}

/// The outline of a node of `kind` in its `w` × `NODE_H` box: a pill for producers, a hexagon
/// for exchanges, a box for queues, a rounded box for services, a cylinder for stores, a
/// shield-like gate (cut corners) for gateways, a log with its end marked for topics.
pub fn outline(kind: Kind, w: f64) -> String {
    let h = NODE_H;
    let rounded = |r: f64| {
        format!(
            "M {r} 0 H {} A {r} {r} 0 0 1 {w} {r} V {} A {r} {r} 0 0 1 {} {h} H {r} A {r} {r} 0 0 1 0 {} V {r} A {r} {r} 0 0 1 {r} 0 Z",
            w - r,
            h - r,
            w - r,
            h - r
        )
    };
    match kind {
        Kind::Producer => rounded(h / 2.0),
        Kind::Exchange => format!("M 14 0 H {} L {w} {} L {} {h} H 14 L 0 {} Z", w - 14.0, h / 2.0, w - 14.0, h / 2.0),
        Kind::Store => format!(
            "M 0 7 A {} 7 0 0 1 {w} 7 V {} A {} 7 0 0 1 0 {} Z M 0 7 A {} 7 0 0 0 {w} 7",
            w / 2.0,
            h - 7.0,
            w / 2.0,
            h - 7.0,
            w / 2.0
        ),
        Kind::Service => rounded(10.0),
        Kind::Queue => rounded(4.0),
        Kind::Gateway => {
            format!("M 10 0 H {} L {w} 10 V {} L {} {h} H 10 L 0 {} V 10 Z", w - 10.0, h - 10.0, w - 10.0, h - 10.0)
        }
        // A log: a box with a second edge at its end, where events are appended.
        Kind::Topic => format!("{} M {} 0 V {h}", rounded(4.0), w - 8.0),
    }
}

#[component]
pub fn NodeView(i: usize, id: String, kind: Kind, live: Live) -> impl IntoView {
    let ed = expect_context::<Editor>();
    let label = Memo::new(move |_| ed.graph.with(|g| g.nodes.get(i).map(|n| n.label.clone()).unwrap_or_default()));
    // As wide as its whole name.
    let w = Memo::new(move |_| ed.graph.with(|g| g.nodes.get(i).map_or(NODE_W, |n| n.w)));
    // Where it is drawn: its place in the document, or where a drag in progress puts it.
    let pos = Memo::new(move |_| ed.node_pos(i));
    let running = move || ed.graph.with(|g| g.running.get(i).copied().flatten());
    let node_live = move || {
        let r = running()?;
        live.frame.with(|f| f.as_ref().and_then(|f| f.nodes.get(r).cloned()))
    };
    let health = move || node_live().map_or(Health::Ok, |l| l.health);
    // A replica count that changes (an autoscaler, a live edit, a crash) pulses for a moment.
    let replicas = Memo::new(move |_| node_live().map(|l| (l.replicas, l.replicas_up)));
    let pulse = RwSignal::new(false);
    Effect::new(move |before: Option<Option<(u32, u32)>>| {
        let now = replicas.get();
        if before.flatten().is_some_and(|b| Some(b) != now) {
            pulse.set(true);
            gloo_timers::callback::Timeout::new(1_600, move || pulse.set(false)).forget();
        }
        now
    });
    let blocked = move || node_live().is_some_and(|l| l.blocked);
    // On the journey of the message the trace tab shows.
    let traced = move || {
        let Some(r) = running() else { return false };
        live.trace.with(|t| {
            t.as_ref().is_some_and(|(_, hops)| hops.iter().any(|h| h.from as usize == r || h.to as usize == r))
        })
    };
    let fill = move || match (kind, node_live()) {
        (Kind::Queue | Kind::Topic, Some(l)) => (l.depth as f64 / 50.0).min(1.0) * (w.get() - 12.0),
        _ => 0.0,
    };
    let id_sel = id.clone();
    let selected = Memo::new(move |_| ed.selection.with(|s| s.nodes.contains(&id_sel)));
    let id_down = id.clone();
    let down = move |e: PointerEvent| {
        grab(ed, &e, |s, shift| {
            if shift {
                toggle(&mut s.nodes, &id_down);
            } else if !s.nodes.contains(&id_down) {
                *s = Selection::node(&id_down);
            }
        })
    };
    let id_port = id.clone();
    let port_down = move |e: PointerEvent| {
        e.stop_propagation();
        ed.set_gesture(Gesture::Link { from: id_port.clone() });
    };
    let id_key = id.clone();
    let key = move |e: web_sys::KeyboardEvent| {
        if e.key() == "Enter" {
            e.prevent_default();
            ed.selection.set(Selection::node(&id_key));
        }
    };
    let title = move || format!("{} ({kind})", label.get());
    // Outlined while a walkthrough's step names it.
    let lesson = use_context::<crate::state::lesson::Lesson>();
    let id_hl = id.clone();
    // Faults and the breaker, in a row above the node.
    let marks = move || {
        let list = node_live().map(|l| super::badge::badges(&l)).unwrap_or_default();
        let mut x = 0.0;
        list.into_iter()
            .map(|b| {
                let w = super::badge::width(&b);
                let at = x;
                x += w + 4.0;
                view! {
                    <g class=format!("badge {}", b.class) transform=format!("translate({at} -26)")>
                        <rect width=w height="22" rx="10" />
                        <text x="7" y="16">{b.text}</text>
                    </g>
                }
            })
            .collect_view()
    };
    view! {
        <g class=format!("node {kind}") class:warning=move || health() == Health::Warning
            class:error=move || health() == Health::Error class:selected=move || selected.get()
            class:blocked=blocked class:not-running=move || running().is_none() class:traced=traced
            class:scaling=move || pulse.get()
            class:highlighted=move || lesson.is_some_and(|l| l.highlighted(&id_hl))
            on:pointerdown=down on:keydown=key
            tabindex="0" role="button" aria-label=title aria-pressed=move || selected.get().to_string()
            transform=move || pos.get().map(|(x, y)| format!("translate({x} {y})")).unwrap_or_default() data-id=id.clone()>
            <title>{title}</title>
            <path class="shape" d=move || outline(kind, w.get()) />
            <rect class="fill" x="6" y=NODE_H - 10.0 height="5" width=fill />
            <text class="icon" x="12" y="25">{icon(kind)}</text>
            <text class="label" x="32" y="25">{move || label.get()}</text>
            <text class="figure" x="12" y="45">{move || figure(kind, node_live().as_ref())}</text>
            <g class="badges">{marks}</g>
            <circle class="port" cx=move || w.get() cy=NODE_H / 2.0 r="7" on:pointerdown=port_down>
                <title>"Drag to another node to link"</title>
            </circle>
        </g>
    }
}
