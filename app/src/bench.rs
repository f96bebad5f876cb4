//! The dots layer's benchmark: `?bench=dots&n=2000` keeps at least `n` messages moving along
//! the canvas's links (each crossing in half a second, replaced as it arrives), so that the
//! frame rate of the view can be measured with many dots whatever the simulation does. The
//! browser test `dots_frame_rate` opens it in headless Chromium and times
//! `requestAnimationFrame`.

use std::cell::Cell;

use edasim_protocol::HopOut;

use crate::model::ViewGraph;

thread_local! {
    /// Dots asked for, and the messages numbered so far.
    static BENCH: Cell<Option<(usize, u64)>> = const { Cell::new(None) };
}

/// Reads the page's URL: does it ask for the benchmark, with how many dots?
pub fn configure() {
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    let query = search.trim_start_matches('?');
    if query.split('&').any(|kv| kv == "bench=dots") {
        let n = query.split('&').find_map(|kv| kv.strip_prefix("n=")).and_then(|n| n.parse().ok()).unwrap_or(2000);
        BENCH.with(|b| b.set(Some((n, 0))));
    }
}

/// Called by the dots layer after it dropped the dots that arrived and before it draws: tops
/// them up to `n`, along the links the run plays.
pub fn top_up(g: &ViewGraph, hops: &mut Vec<(HopOut, f64)>, wall: f64) {
    let Some((n, mut seq)) = BENCH.with(Cell::get) else { return };
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
        };
        // The first ones are spread over the crossing time, so that arrivals (and
        // replacements) are even from then on.
        let age = if first { (seq % 450) as f64 } else { 0.0 };
        hops.push((hop, wall - age));
    }
    BENCH.with(|b| b.set(Some((n, seq))));
}
