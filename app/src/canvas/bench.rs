//! The dots layer's benchmark: `?bench=dots&n=2000` keeps at least `n` messages moving along
//! the canvas's links (each crossing in half a second, replaced as it arrives), so that the
//! frame rate of the view can be measured with many dots whatever the simulation does. The
//! browser test `dots_frame_rate` opens it in headless Chromium and times
//! `requestAnimationFrame`.

use edasim_protocol::HopOut;
use leptos::prelude::*;

use crate::canvas::geometry::ViewGraph;
use crate::state::connection::Live;

/// Reads the page's URL: does it ask for the benchmark, with how many dots?
pub fn configure(live: Live) {
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    let query = search.trim_start_matches('?');
    if query.split('&').any(|kv| kv == "bench=dots") {
        let n = query.split('&').find_map(|kv| kv.strip_prefix("n=")).and_then(|n| n.parse().ok()).unwrap_or(2000);
        live.bench.set_value(Some((n, 0)));
    }
}

/// Called by the dots layer after it dropped the dots that arrived and before it draws: tops
/// them up to `n`, along the links the run plays.
pub fn top_up(live: Live, g: &ViewGraph, hops: &mut Vec<(HopOut, f64)>, wall: f64) {
    let Some((n, mut seq)) = live.bench.get_value() else { return };
    let links: Vec<(u32, u32, u32)> = g
        .links
        .iter()
        .filter_map(|l| {
            let r = l.running?;
            Some((
                r as u32,
                g.running.get(l.from).copied().flatten()? as u32,
                g.running.get(l.to).copied().flatten()? as u32,
            ))
        })
        .collect();
    if links.is_empty() {
        return;
    }
    let first = hops.is_empty();
    for _ in hops.len()..n {
        seq += 1;
        let (link, from, to) = links[(seq as usize) % links.len()];
        let hop = HopOut {
            msg: seq,
            root: seq,
            link,
            from,
            to,
            event: ["order_created", "order_processed", "payment_succeeded"][(seq % 3) as usize].to_string(),
            start_ms: 0.0,
            end_ms: 0.0,
            dead: seq % 17 == 0,
            redelivered: seq % 23 == 0,
        };
        // The first ones are spread over the crossing time, so that arrivals (and
        // replacements) are even from then on.
        let age = if first { (seq % 450) as f64 } else { 0.0 };
        hops.push((hop, wall - age));
    }
    live.bench.set_value(Some((n, seq)));
}
