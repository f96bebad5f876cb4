//! Messages in flight: a `<canvas>` over the graph, redrawn each animation frame. Each hop the
//! server sent is a dot moving along its link, placed by the simulated clock (extrapolated
//! between frames), so motion is smooth at any speed; an instantaneous hop is shown moving for
//! a fixed wall-clock moment so that it can be seen at all.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

use edasim_protocol::HopOut;

use crate::canvas::geometry::ViewGraph;
use crate::canvas::route::{Routes, point_at};
use crate::state::connection::{Live, now_ms};
use crate::state::editor::Editor;

/// Event types the legend lists at most (the rest are counted).
const LEGEND_MAX: usize = 12;

/// How long an instantaneous hop is shown moving, in wall milliseconds.
const INSTANT_MS: f64 = 450.0;

/// Event-type colours, defined once in `edasim_sim::palette` (the pictures `edasim render`
/// draws use them too); their contrast against the themes is tested below.
use edasim_sim::palette::{DEAD_DARK, DEAD_LIGHT, EVENT_DARK as DARK, EVENT_LIGHT as LIGHT};
/// Colours per theme: the batches of dots (then dead letters, then the rings drawn around
/// redelivered messages).
const COLOURS: usize = LIGHT.len();
const RINGS: usize = COLOURS + 1;

fn palette(dark: bool) -> (&'static [&'static str; COLOURS], &'static str) {
    if dark { (&DARK, DEAD_DARK) } else { (&LIGHT, DEAD_LIGHT) }
}

/// A colour per event type, stable across runs.
pub fn colour(event: &str, dark: bool) -> &'static str {
    palette(dark).0[colour_index(event)]
}

fn colour_index(event: &str) -> usize {
    edasim_sim::palette::event_colour_index(event)
}

#[component]
pub fn Dots() -> impl IntoView {
    let live = expect_context::<Live>();
    let ed = expect_context::<Editor>();
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let folded = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(c) = canvas.get() {
            animate(ed, live, c, vec![Vec::new(); RINGS + 1]);
        }
    });
    view! {
        <canvas id="dots" class="dots" node_ref=canvas aria-hidden="true"></canvas>
        <Show when=move || !live.events.with(Vec::is_empty)>
            <div class="legend" id="legend" class:folded=move || folded.get()>
                <button class="legend-fold" aria-label=move || if folded.get() { "Show the event types" } else { "Fold the event types away" }
                    aria-expanded=move || (!folded.get()).to_string() on:click=move |_| folded.update(|f| *f = !*f)>
                    {move || if folded.get() { format!("Event types ({})", live.events.with(Vec::len)) } else { "×".to_string() }}
                </button>
                <Show when=move || !folded.get()>
                    <ul id="legend-types" aria-label="Event types moving now">
                        {move || live.events.with(|e| e.iter().take(LEGEND_MAX).cloned().collect::<Vec<_>>()).into_iter().map(|e| view! {
                            <li><span class="swatch" style=format!("background:{}", colour(&e, ed.dark.get()))></span>{e}</li>
                        }).collect_view()}
                        <li><span class="swatch" style=move || format!("background:{}", palette(ed.dark.get()).1)></span>"dead letter"</li>
                        <li><span class="swatch ring"></span>"redelivered"</li>
                        {move || {
                            let more = live.events.with(Vec::len).saturating_sub(LEGEND_MAX);
                            (more > 0).then(|| view! { <li class="more">{format!("and {more} more")}</li> })
                        }}
                    </ul>
                    <ul class="outlines" aria-label="What node outlines mean"
                        title="A node's outline: red, it drops messages (or no replica is up); amber, it fails or dead-letters them; dashed, the memory alarm blocks it. Select it to read why.">
                        <li><span class="outline error"></span>"drops"</li>
                        <li><span class="outline warning"></span>"fails"</li>
                        <li><span class="outline blocked"></span>"blocked"</li>
                    </ul>
                </Show>
            </div>
        </Show>
    }
}

/// Draws a frame and asks for the next. `batches` holds the dot centres of a frame, one batch
/// per colour: handed from frame to frame, so that a frame allocates nothing once they have grown.
fn animate(ed: Editor, live: Live, canvas: HtmlCanvasElement, mut batches: Vec<Vec<(f64, f64)>>) {
    draw(ed, live, &canvas, &mut batches);
    request_animation_frame(move || animate(ed, live, canvas, batches));
}

/// The journey (root message id) of the dot nearest the stage point (x, y) in CSS pixels,
/// if one was drawn within a few pixels of it.
pub fn pick(live: Live, x: f64, y: f64) -> Option<u64> {
    const REACH: f64 = 8.0;
    live.picks.with_value(|d| {
        d.iter()
            .map(|&(dx, dy, root)| ((dx - x).powi(2) + (dy - y).powi(2), root))
            .filter(|(d2, _)| *d2 <= REACH * REACH)
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, root)| root)
    })
}

fn draw(ed: Editor, live: Live, canvas: &HtmlCanvasElement, batches: &mut [Vec<(f64, f64)>]) {
    let ratio = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio());
    let (cw, ch) = (f64::from(canvas.client_width()) * ratio, f64::from(canvas.client_height()) * ratio);
    if canvas.width() != cw as u32 || canvas.height() != ch as u32 {
        canvas.set_width(cw as u32);
        canvas.set_height(ch as u32);
    }
    let Some(ctx) = canvas.get_context("2d").ok().flatten().and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
    else {
        return;
    };
    ctx.clear_rect(0.0, 0.0, cw, ch);
    let wall = now_ms();
    let started = wall;
    let cam = ed.camera.get_untracked();
    // The camera the SVG draws through, in device pixels.
    let scale = cam.k * ratio;
    let (ox, oy) = (-cam.x * scale, -cam.y * scale);
    let radius = (5.0 * scale).max(2.5);
    let mut drawn = 0usize;
    batches.iter_mut().for_each(Vec::clear);
    live.picks.update_value(|picks| {
        picks.clear();
        ed.graph.with_untracked(|g| {
            ed.routes.with_untracked(|routes| {
                live.hops.update_value(|h| {
                    let sim_now = if h.playing { h.t_ms + (wall - h.wall_ms).min(1000.0) * h.speed } else { h.t_ms };
                    // Paused, the dots stand still where they are.
                    let clock = h.wall_clock(wall);
                    let progress = |hop: &HopOut, seen: f64| {
                        if hop.end_ms > hop.start_ms {
                            (sim_now - hop.start_ms) / (hop.end_ms - hop.start_ms)
                        } else {
                            (clock - seen) / INSTANT_MS
                        }
                    };
                    h.hops.retain(|(hop, seen)| progress(hop, *seen) <= 1.0);
                    crate::canvas::bench::top_up(live, g, &mut h.hops, wall);
                    for (hop, seen) in &h.hops {
                        let p = progress(hop, *seen).max(0.0);
                        if let Some((x, y)) = place(g, routes, hop.from as usize, hop.to as usize, p) {
                            let batch = if hop.dead { COLOURS } else { colour_index(&hop.event) };
                            let (sx, sy) = (x * scale + ox, y * scale + oy);
                            batches[batch].push((sx, sy));
                            if hop.redelivered {
                                batches[RINGS].push((sx, sy));
                            }
                            picks.push((sx / ratio, sy / ratio, hop.root));
                        }
                    }
                });
            })
        });
    });
    let (colours, dead) = palette(ed.dark.get_untracked());
    for (i, batch) in batches[..RINGS].iter().enumerate().filter(|(_, b)| !b.is_empty()) {
        ctx.begin_path();
        for &(x, y) in batch {
            ctx.move_to(x + radius, y);
            let _ = ctx.arc(x, y, radius, 0.0, std::f64::consts::TAU);
        }
        ctx.set_fill_style_str(colours.get(i).copied().unwrap_or(dead));
        ctx.fill();
        drawn += batch.len();
    }
    // A redelivered message (after a requeue or a crash) wears a ring.
    if !batches[RINGS].is_empty() {
        ctx.begin_path();
        let r = radius * 1.9;
        for &(x, y) in &batches[RINGS] {
            ctx.move_to(x + r, y);
            let _ = ctx.arc(x, y, r, 0.0, std::f64::consts::TAU);
        }
        ctx.set_stroke_style_str(if ed.dark.get_untracked() { "#e2e8f0" } else { "#0f172a" });
        ctx.set_line_width((1.5 * ratio).max(1.0));
        ctx.stroke();
    }
    // What the frame-rate benchmark reads back.
    let _ = canvas.set_attribute("data-drawn", &drawn.to_string());
    let _ = canvas.set_attribute("data-draw-ms", &format!("{:.2}", now_ms() - started));
}

/// Where a message `p` of the way along the link between two nodes of the running topology
/// is on the canvas (none while the canvas lacks either end, as when edits wait for a restart).
fn place(g: &ViewGraph, routes: &Routes, from: usize, to: usize, p: f64) -> Option<(f64, f64)> {
    let from = g.from_running.get(from).copied().flatten()?;
    let to = g.from_running.get(to).copied().flatten()?;
    match routes.between(from, to) {
        Some(path) => point_at(path, p),
        // A hop the canvas has no link for (a default-exchange delivery drawn without one).
        None => {
            let (a, b) = (g.centre(from), g.centre(to));
            Some((a.0 + (b.0 - a.0) * p, a.1 + (b.1 - a.1) * p))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_stable() {
        assert_eq!(colour("order_created", true), colour("order_created", true));
        assert!(colour("a", false).starts_with('#'));
    }

    /// WCAG relative luminance of `#rrggbb`.
    fn luminance(hex: &str) -> f64 {
        let c = |i: usize| {
            let v = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap()) / 255.0;
            if v <= 0.039_28 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * c(1) + 0.7152 * c(3) + 0.0722 * c(5)
    }

    fn contrast(a: &str, b: &str) -> f64 {
        let (x, y) = (luminance(a), luminance(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    /// Every event colour stands out, 3:1 at least, against the background and every node fill
    /// of its theme: the colours of `style/main.css` (`--bg`, `--producer` ... `--store`).
    #[test]
    fn event_colours_stand_out_on_both_themes() {
        let css = include_str!("../../../style/main.css");
        let var = |name: &str, dark: bool| -> String {
            let line = css.lines().find(|l| l.trim_start().starts_with(&format!("--{name}: light-dark("))).unwrap();
            let inner = line.split("light-dark(").nth(1).unwrap().split(')').next().unwrap();
            let mut parts = inner.split(',').map(str::trim);
            let (light, darkc) = (parts.next().unwrap(), parts.next().unwrap());
            (if dark { darkc } else { light }).to_string()
        };
        for dark in [false, true] {
            let (colours, dead) = palette(dark);
            for behind in ["bg", "producer", "exchange", "queue", "service", "store"] {
                let b = var(behind, dark);
                for c in colours.iter().chain([&dead]) {
                    let k = contrast(c, &b);
                    assert!(k >= 3.0, "{} theme: {c} on --{behind} {b}: {k:.2}", if dark { "dark" } else { "light" });
                }
            }
        }
    }
}
