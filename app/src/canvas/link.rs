//! A link on the canvas: an arrow from node to node along its route (dead-letter links dashed),
//! as thick as the messages it carries per simulated second.

use leptos::prelude::*;
use web_sys::PointerEvent;

use crate::canvas::gestures::toggle;
use crate::canvas::route::path_d;
use crate::state::connection::Live;
use crate::state::doc::Selection;
use crate::state::editor::Editor;

/// Stroke width (world units) for a link carrying `rate` messages per simulated second:
/// logarithmic, so 1/s and 1,000/s are both readable.
pub fn thickness(rate: f64) -> f64 {
    if rate <= 0.0 { 1.5 } else { (1.5 + 2.0 * (1.0 + rate).log10()).min(9.0) }
}

#[component]
pub fn LinkView(i: usize, dead_letter: bool, live: Live) -> impl IntoView {
    let ed = expect_context::<Editor>();
    // Recomputed when the routes change (a drag's preview included); the path is redrawn only
    // if its own route changed, so dragging one node redraws only the links it concerns.
    let d = Memo::new(move |_| ed.routes.with(|r| r.paths.get(i).map(|p| path_d(p)).unwrap_or_default()));
    let rate = move || {
        let r = ed.graph.with(|g| g.links.get(i).and_then(|l| l.running))?;
        live.link_rates.with(|rates| rates.get(r).copied())
    };
    let selected = move || ed.selection.with(|s| s.links.contains(&i));
    // Outlined while a walkthrough's step names it (`from->to`).
    let lesson = use_context::<crate::state::lesson::Lesson>();
    let highlighted = move || {
        let Some(lesson) = lesson else { return false };
        let name = ed.graph.with(|g| {
            let l = g.links.get(i)?;
            Some(format!("{}->{}", g.nodes.get(l.from)?.id, g.nodes.get(l.to)?.id))
        });
        name.is_some_and(|n| lesson.highlighted(&n))
    };
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
            <path class="link" class:dead-letter=dead_letter class:selected=selected class:highlighted=highlighted
                d=move || d.get() marker-end="url(#arrow)"
                stroke-width=move || thickness(rate().unwrap_or(0.0))>
                <title>{move || rate().map(|r| format!("{r:.1} msg/s")).unwrap_or_default()}</title>
            </path>
        </g>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thickness_grows_with_rate_and_stays_bounded() {
        assert_eq!(thickness(0.0), 1.5);
        assert!(thickness(10.0) > thickness(1.0));
        assert!(thickness(1000.0) > thickness(100.0));
        assert!(thickness(1e12) <= 9.0);
    }
}
