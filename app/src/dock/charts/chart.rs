//! One chart in the dock or the presenter's strip: its caption, its canvas (drawn by
//! `draw.rs` whenever its points, the theme, its size or the cursor change), and a read-out of
//! every line's value at the second under the pointer (or picked with the arrow keys).

use edasim_sim::charts::{Line, clock};
use edasim_sim::stats::Point;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use super::draw::{Frame, Spec, draw, picture, value_text};
use crate::state::editor::Editor;

/// A node to compare with: its id and its points, drawn dashed over the chart's own.
pub type Twin = Option<(String, Signal<Vec<Point>>)>;

/// `name=value` for each line at `p`: the figure's `data-last` and `data-twin-last`, which the
/// browser tests read.
fn values(lines: &[Line], p: &Point) -> String {
    lines.iter().map(|l| format!("{}={}", l.name, (l.value)(p))).collect::<Vec<_>>().join(" ")
}

/// The point nearest simulated time `t`.
fn nearest(points: &[Point], t: f64) -> Option<Point> {
    points.iter().min_by(|a, b| (a.t_s as f64 - t).abs().total_cmp(&(b.t_s as f64 - t).abs())).copied()
}

#[component]
pub fn Chart(
    #[prop(into)] id: String,
    #[prop(into)] title: String,
    unit: &'static str,
    lines: Vec<Line>,
    points: Signal<Vec<Point>>,
    #[prop(optional)] twin: Twin,
    /// What is charted (a node's id, the whole system), for a saved picture's title and name.
    #[prop(optional, into)]
    subject: Option<String>,
) -> impl IntoView {
    let ed = expect_context::<Editor>();
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    // The simulated time the cursor is on; where the plot lies, from the last drawing; a count
    // the canvas's resize observer bumps.
    let at = RwSignal::new(None::<f64>);
    let frame = RwSignal::new(None::<Frame>);
    let resized = RwSignal::new(0u32);
    let (twin_name, twin_points) = match twin {
        Some((name, points)) => (Some(name), points),
        None => (None, Signal::derive(Vec::new)),
    };
    let hovered = Memo::new(move |_| points.with(|p| nearest(p, at.get()?)));

    // Redrawn when the canvas resizes (the dock, the window, the presenter's strip).
    Effect::new(move |_| {
        let Some(el) = canvas.get() else { return };
        let on_resize = Closure::<dyn FnMut()>::new(move || {
            resized.try_update(|n| *n = n.wrapping_add(1));
        });
        if let Ok(observer) = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()) {
            observer.observe(&el);
            // The browser's observer and its callback live as long as the canvas.
            let kept = SendWrapper::new((observer, on_resize));
            on_cleanup(move || kept.0.disconnect());
        }
    });
    let drawn_lines = lines.clone();
    Effect::new(move |_| {
        resized.track();
        let Some(el) = canvas.get() else { return };
        let dark = ed.dark.get();
        let at = hovered.get().map(|p| p.t_s);
        let result = points
            .with(|points| twin_points.with(|twin| draw(&el, &Spec { lines: &drawn_lines, points, twin, at, dark })));
        match result {
            Ok(f) if f != frame.get_untracked() => frame.set(f),
            Ok(_) => {}
            Err(e) => leptos::logging::warn!("a chart could not be drawn: {e}"),
        }
    });

    let point_at = move |e: web_sys::PointerEvent| {
        if let Some(f) = frame.get_untracked() {
            at.set(Some(f.time_at(f64::from(e.offset_x()))));
        }
    };
    // Arrow keys step the cursor a second at a time (from the latest second); Escape hides it.
    let keys = move |e: web_sys::KeyboardEvent| {
        let step = match e.key().as_str() {
            "ArrowLeft" => -1.0,
            "ArrowRight" => 1.0,
            "Escape" => {
                at.set(None);
                return;
            }
            _ => return,
        };
        e.prevent_default();
        let from = hovered.get_untracked().or_else(|| points.with_untracked(|p| p.last().copied()));
        if let Some(p) = from {
            at.set(Some(p.t_s as f64 + step));
        }
    };

    let (l1, l2, l3) = (lines.clone(), lines.clone(), lines.clone());
    let last = move || points.with(|p| p.last().map(|p| values(&l1, p)).unwrap_or_default());
    let twin_last = move || twin_points.with(|p| p.last().map(|p| values(&l2, p)).unwrap_or_default());
    let fault_seconds = move || points.with(|p| p.iter().filter(|p| p.faults > 0).count());
    let twin_key = twin_name.clone().map(|n| view! { <span class="twin-key">{format!(" · dashed: {n}")}</span> });
    let readout_id = format!("{id}-readout");
    let readout = move || {
        let p = hovered.get()?;
        // Beside the cursor, on the side with more room.
        let f = frame.get()?;
        let x = f.x_of(p.t_s as f64);
        let side = if f.in_left_half(x) {
            format!("left:{:.0}px", x + 10.0)
        } else {
            format!("right:calc(100% - {:.0}px)", x - 10.0)
        };
        let twin = twin_points.with(|tw| tw.iter().find(|q| q.t_s == p.t_s).copied());
        let dark = ed.dark.get();
        let value = move |l: &Line, p: &Point| {
            view! {
                <span class="value"><i class="swatch" style=format!("background:{}", l.hue.colour(dark))></i>
                    {format!(" {} {}", l.name, value_text((l.value)(p)))}</span>
            }
        };
        let own = l3.iter().map(|l| value(l, &p)).collect_view();
        let theirs = twin.map(|q| {
            let name = twin_name.clone().unwrap_or_default();
            view! { <span class="twin-values">{format!(" {name}:")}{l3.iter().map(|l| value(l, &q)).collect_view()}</span> }
        });
        Some(view! {
            <output class="chart-readout" id=readout_id.clone() data-t=p.t_s style=side>
                <time>{clock(p.t_s as f64)}</time>{own}{theirs}
            </output>
        })
    };
    let label = format!("{title} ({unit})");
    // The chart as a picture to take away: a slide's width, on the theme's background.
    let file = format!("{}{id}.png", subject.as_ref().map_or(String::new(), |s| format!("{}-", s.replace(' ', "-"))));
    let heading = subject.map_or(label.clone(), |s| format!("{s} · {label}"));
    let saved_lines = lines.clone();
    let save = move |_| {
        let result = points.with_untracked(|points| {
            twin_points.with_untracked(|twin| {
                let spec = Spec { lines: &saved_lines, points, twin, at: None, dark: ed.dark.get_untracked() };
                picture(&spec, &heading)
            })
        });
        match result {
            Ok(url) => crate::panels::files::save_url(&file, &url),
            Err(e) => leptos::logging::warn!("a chart could not be saved: {e}"),
        }
    };
    view! {
        <figure class="chart" id=id data-last=last data-fault-seconds=fault_seconds data-twin-last=twin_last>
            <figcaption>
                <span class="chart-title">{label.clone()}</span>
                {move || (fault_seconds() > 0).then(|| view! { <span class="fault-key">" · ⚡ shaded: a fault struck"</span> })}
                {twin_key}
                <button class="chart-save" title="Save this chart as a PNG picture"
                    aria-label=format!("Save {label} as a PNG picture") on:click=save>"⤓"</button>
            </figcaption>
            {readout}
            <canvas node_ref=canvas tabindex="0" role="img"
                aria-label=format!("{label}: point or use the arrow keys to read its values")
                on:pointermove=point_at on:pointerdown=point_at on:pointerleave=move |_| at.set(None)
                on:keydown=keys on:blur=move |_| at.set(None)></canvas>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edasim_sim::charts::{IN, OUT};

    fn at(t_s: u64, in_per_s: u32) -> Point {
        Point { t_s, in_per_s, out_per_s: in_per_s / 2, ..Point::default() }
    }

    #[test]
    fn the_cursor_takes_the_nearest_second() {
        let points = [at(10, 1), at(11, 2), at(12, 3)];
        assert_eq!(nearest(&points, 10.6).map(|p| p.t_s), Some(11));
        assert_eq!(nearest(&points, 99.0).map(|p| p.t_s), Some(12), "past the end: the last");
        assert_eq!(nearest(&[], 10.0), None);
    }

    #[test]
    fn the_figure_names_each_lines_value() {
        assert_eq!(values(&[IN, OUT], &at(3, 8)), "in=8 out=4");
    }
}
