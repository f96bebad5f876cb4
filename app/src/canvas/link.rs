//! A link on the canvas: an arrow from node to node (dead-letter links dashed), as thick as
//! the messages it carries per simulated second.

use leptos::prelude::*;
use web_sys::PointerEvent;

use crate::canvas::geometry::NODE_H;
use crate::canvas::gestures::toggle;
use crate::state::connection::Live;
use crate::state::doc::Selection;
use crate::state::editor::Editor;

/// Where the segment from `a` to `b` leaves the node box around `a`, `w` wide.
fn edge_point(a: (f64, f64), b: (f64, f64), w: f64) -> (f64, f64) {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    if dx == 0.0 && dy == 0.0 {
        return a;
    }
    let sx = if dx != 0.0 { (w / 2.0) / dx.abs() } else { f64::MAX };
    let sy = if dy != 0.0 { (NODE_H / 2.0) / dy.abs() } else { f64::MAX };
    let s = sx.min(sy).min(1.0);
    (a.0 + dx * s, a.1 + dy * s)
}

/// The path of a link between node boxes (top-left corner and width) `from` and `to` (`None`:
/// the same node).
fn link_path(from: (f64, f64, f64), to: Option<(f64, f64, f64)>) -> String {
    let centre = |(x, y, w): (f64, f64, f64)| (x + w / 2.0, y + NODE_H / 2.0);
    let a = centre(from);
    let Some(to) = to else {
        // A queue dead-lettering into itself: a loop above it.
        return format!("M {} {} c 40 -80 120 -80 160 0", a.0 - 80.0, a.1 - NODE_H / 2.0);
    };
    let b = centre(to);
    let (p, q) = (edge_point(a, b, from.2), edge_point(b, a, to.2));
    format!("M {} {} L {} {}", p.0, p.1, q.0, q.1)
}

/// Stroke width (world units) for a link carrying `rate` messages per simulated second:
/// logarithmic, so 1/s and 1,000/s are both readable.
pub fn thickness(rate: f64) -> f64 {
    if rate <= 0.0 { 1.5 } else { (1.5 + 2.0 * (1.0 + rate).log10()).min(9.0) }
}

#[component]
pub fn LinkView(i: usize, from: usize, to: usize, dead_letter: bool, live: Live) -> impl IntoView {
    let ed = expect_context::<Editor>();
    // Recomputed when an end moves (a drag's preview included); the path is redrawn only if
    // it changed, so dragging one node redraws only its own links.
    let d = Memo::new(move |_| {
        let (Some(a), b) = (ed.node_box(from), ed.node_box(to)) else { return String::new() };
        if from == to { link_path(a, None) } else { b.map(|b| link_path(a, Some(b))).unwrap_or_default() }
    });
    let rate = move || {
        let r = ed.graph.with(|g| g.links.get(i).and_then(|l| l.running))?;
        live.link_rates.with(|rates| rates.get(r).copied())
    };
    let selected = move || ed.selection.with(|s| s.links.contains(&i));
    let down = move |e: PointerEvent| {
        e.stop_propagation();
        let shift = e.shift_key();
        ed.selection.update(|s| {
            if shift {
                toggle(&mut s.links, &i);
            } else {
                *s = Selection { links: [i].into(), ..Selection::default() };
            }
        });
    };
    view! {
        <g class="link-group" on:pointerdown=down>
            <path class="link-hit" d=move || d.get() />
            <path class="link" class:dead-letter=dead_letter class:selected=selected d=move || d.get() marker-end="url(#arrow)"
                stroke-width=move || thickness(rate().unwrap_or(0.0))>
                <title>{move || rate().map(|r| format!("{r:.1} msg/s")).unwrap_or_default()}</title>
            </path>
        </g>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canvas::geometry::NODE_W;

    #[test]
    fn links_leave_the_box_edge() {
        let p = edge_point((0.0, 0.0), (1000.0, 0.0), NODE_W);
        assert_eq!(p, (NODE_W / 2.0, 0.0));
        let p = edge_point((0.0, 0.0), (1000.0, 0.0), 300.0);
        assert_eq!(p, (150.0, 0.0), "a wide node's edge");
        let p = edge_point((0.0, 0.0), (0.0, -500.0), NODE_W);
        assert_eq!(p, (0.0, -NODE_H / 2.0));
        assert!(link_path((0.0, 0.0, NODE_W), None).starts_with("M -5 "), "a self-loop above the node");
    }

    #[test]
    fn thickness_grows_with_rate_and_stays_bounded() {
        assert_eq!(thickness(0.0), 1.5);
        assert!(thickness(10.0) > thickness(1.0));
        assert!(thickness(1000.0) > thickness(100.0));
        assert!(thickness(1e12) <= 9.0);
    }
}
