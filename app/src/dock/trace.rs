//! The trace of an order, like Jaeger's timeline: each hop of the chain as a bar on a shared
//! time axis, with the time the message then spent where it arrived (waiting in a queue, being
//! processed) as the hop's duration, and what befell it marked (dead-lettered, unroutable,
//! redelivered, expired) from the event log; for a saga, its state changes on the same axis.

use edasim_protocol::{HopOut, LogLine};
use edasim_sim::engine::LogKind;
use leptos::prelude::*;

use crate::state::connection::Live;

/// For each hop (in time order), how long its message (or the chain's next message) stayed where
/// the hop arrived: until the next hop out of that node, if the trace has one.
pub fn stays(hops: &[HopOut]) -> Vec<Option<f64>> {
    hops.iter()
        .map(|h| {
            hops.iter()
                .filter(|n| n.from == h.to && n.start_ms >= h.end_ms && (n.msg == h.msg || n.root == h.root))
                .map(|n| n.start_ms - h.end_ms)
                .fold(None, |best: Option<f64>, d| Some(best.map_or(d, |b| b.min(d))))
        })
        .collect()
}

/// What the event log says befell message `msg` (a copy of the chain), in words.
pub fn marks(msg: u64, logs: &[LogLine]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = logs
        .iter()
        .filter(|l| l.msg == msg)
        .filter_map(|l| match l.kind {
            LogKind::DeadLettered => Some("dead-lettered"),
            LogKind::Unroutable => Some("unroutable"),
            LogKind::Redelivered => Some("redelivered"),
            LogKind::Expired => Some("expired"),
            LogKind::Duplicate => Some("duplicate skipped"),
            LogKind::Failed => Some("failed"),
            LogKind::Overflow => Some("overflowed"),
            _ => None,
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[component]
pub fn Trace() -> impl IntoView {
    let live = expect_context::<Live>();
    let content = move || {
        let Some((msg, hops)) = live.trace.get() else {
            return view! { <p class="hint">"Click a line of the event log, or a moving message, to see its order's journey."</p> }
                .into_any();
        };
        // Hops index the running topology's nodes; named as the canvas names them.
        let names: Vec<String> = live.topology.with(|t| {
            t.as_ref()
                .and_then(|t| t["nodes"].as_array())
                .map(|ns| {
                    ns.iter().map(|n| n["label"].as_str().or(n["id"].as_str()).unwrap_or("").to_string()).collect()
                })
                .unwrap_or_default()
        });
        let name = move |i: u32| names.get(i as usize).cloned().unwrap_or_default();
        let stays = stays(&hops);
        let t0 = hops.iter().map(|h| h.start_ms).fold(f64::MAX, f64::min);
        let t1 =
            hops.iter().zip(&stays).map(|(h, s)| h.end_ms + s.unwrap_or(0.0)).fold(f64::MIN, f64::max).max(t0 + 1.0);
        let pct = move |t: f64| 100.0 * (t - t0) / (t1 - t0);
        let marks: Vec<Vec<&'static str>> = live.logs.with(|logs| hops.iter().map(|h| marks(h.msg, logs)).collect());
        // A saga's trace (its id is its root): its state changes on the same axis, from the
        // last list of the Sagas tab.
        let saga = live.sagas.with(|v| {
            let v = v.as_ref()?;
            let s = v.sagas.iter().find(|s| s.id == msg)?;
            let names: Vec<String> = v.steps.iter().map(|s| s.name.clone()).collect();
            Some(
                s.history
                    .iter()
                    .map(|&(t, state, step)| (t, state.name(), names.get(step as usize).cloned().unwrap_or_default()))
                    .collect::<Vec<_>>(),
            )
        });
        let saga = saga.map(|changes| {
            view! {
                <ol class="trace saga-states" id="trace-saga">
                    {changes.into_iter().map(|(t, state, step)| {
                        let left = pct(t).clamp(0.0, 100.0);
                        view! {
                            <li class=format!("saga-change {state}")>
                                <span class="hop">{format!("saga → {state}")}</span>
                                <span class="bar-track"><span class="tick" style=format!("left:{left:.2}%")></span></span>
                                <span class="when">{format!("{:.1} ms", t - t0)}</span>
                                <span class="ev">{step}</span>
                            </li>
                        }
                    }).collect_view()}
                </ol>
            }
        });
        view! {
            <p class="trace-title">{format!("order {msg}: {} hops over {:.1} ms", hops.len(), t1 - t0)}</p>
            {saga}
            <ol class="trace" id="trace">
                {hops.into_iter().zip(stays).zip(marks).map(|((h, stay), marks)| {
                    let left = pct(h.start_ms);
                    let width = (pct(h.end_ms + stay.unwrap_or(0.0)) - left).max(0.4);
                    let dead = h.dead || marks.contains(&"dead-lettered");
                    let at = name(h.to);
                    let stay_text = stay.map_or_else(String::new, |d| format!(", then {d:.1} ms at {at}"));
                    view! {
                        <li class:dead=dead class:marked=!marks.is_empty()>
                            <span class="hop">{format!("{} → {}", name(h.from), at)}</span>
                            <span class="bar-track"><span class="bar" style=format!("left:{left:.2}%;width:{width:.2}%")></span></span>
                            <span class="when">{format!("{:.1} ms{stay_text}", h.start_ms - t0)}</span>
                            <span class="ev">{format!("{} #{}", h.event, h.msg)}{(!marks.is_empty()).then(|| view! { <b class="marks">{format!(" · {}", marks.join(", "))}</b> })}</span>
                        </li>
                    }
                }).collect_view()}
            </ol>
        }
        .into_any()
    };
    view! { <div class="trace-view">{content}</div> }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edasim_sim::engine::Level;

    fn hop(msg: u64, from: u32, to: u32, start: f64, end: f64) -> HopOut {
        HopOut {
            msg,
            root: 1,
            link: 0,
            from,
            to,
            event: "e".into(),
            start_ms: start,
            end_ms: end,
            dead: false,
            redelivered: false,
        }
    }

    #[test]
    fn each_hop_says_how_long_the_message_stayed_where_it_arrived() {
        // api → queue at 0; queue → service at 40 (waited 40 ms); service publishes a new message
        // (id 2, same chain) to an exchange at 140 (processed 100 ms); the last hop has no next.
        let hops = vec![hop(1, 0, 1, 0.0, 0.0), hop(1, 1, 2, 40.0, 40.0), hop(2, 2, 3, 140.0, 140.0)];
        assert_eq!(stays(&hops), [Some(40.0), Some(100.0), None]);
    }

    #[test]
    fn marks_come_from_the_log() {
        let line = |msg, kind| LogLine {
            t_ms: 0.0,
            level: Level::Warn,
            kind,
            node: "q".into(),
            msg,
            root: 1,
            event: "e".into(),
            count: 0,
        };
        let logs = vec![
            line(5, LogKind::Redelivered),
            line(5, LogKind::DeadLettered),
            line(6, LogKind::Unroutable),
            line(5, LogKind::Redelivered),
        ];
        assert_eq!(marks(5, &logs), ["dead-lettered", "redelivered"]);
        assert_eq!(marks(6, &logs), ["unroutable"]);
        assert!(marks(7, &logs).is_empty());
    }
}
