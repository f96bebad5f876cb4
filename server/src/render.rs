//! `edasim render FILE --gif OUT --duration-s S`: the topology playing, as an animated GIF for a
//! slide or a README, drawn with plotters' GIF backend: the nodes where the file puts them, the
//! links, every message crossing a link as a dot coloured by its event type (the app's colours;
//! dead letters red), queues' depth bars, and the simulated clock.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::Args;
use edasim_sim::engine::Hop;
use edasim_sim::palette::{DEAD_LIGHT, EVENT_LIGHT, event_colour_index, rgb};
use edasim_sim::time::{NS_PER_S, Time};
use edasim_sim::topology::Kind;
use edasim_sim::{Engine, Model, Options};
use plotters::prelude::*;

use crate::run::{RunError, load};

#[derive(Args, Debug)]
pub struct RenderArgs {
    /// The topology file (JSON).
    pub file: PathBuf,
    /// The animated GIF to write.
    #[arg(long, value_name = "OUT")]
    pub gif: PathBuf,
    /// Simulated seconds to show.
    #[arg(long, value_name = "S", default_value_t = 10.0)]
    pub duration_s: f64,
    /// Simulated seconds per second of the GIF.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Frames per second of the GIF (at most 25).
    #[arg(long, default_value_t = 10)]
    pub fps: u32,
    /// Width and height in pixels.
    #[arg(long, default_value_t = 960)]
    pub width: u32,
    #[arg(long, default_value_t = 540)]
    pub height: u32,
    /// Overrides the file's seed.
    #[arg(long)]
    pub seed: Option<u64>,
}

/// Frames a GIF may have at most: a minute at 10 frames a second.
const MAX_FRAMES: u64 = 600;
/// A node's box in the file's coordinates, as the app draws it.
const NODE_W: f64 = 150.0;
const NODE_H: f64 = 56.0;

pub fn main(args: RenderArgs) -> ExitCode {
    match render(&args) {
        Ok(frames) => {
            eprintln!("{}: {frames} frames", args.gif.display());
            ExitCode::SUCCESS
        }
        Err(e) => e.exit("render"),
    }
}

/// Where each node is drawn, in pixels: the file's positions (a grid for nodes without one),
/// fitted into the picture with a margin; and the pixels per unit of the file's coordinates.
fn layout(model: &Model, w: u32, h: u32) -> (Vec<(f64, f64)>, f64) {
    let nodes = &model.topology().nodes;
    let world: Vec<(f64, f64)> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| n.pos.map_or(((i % 5) as f64 * 220.0, (i / 5) as f64 * 120.0), |p| (p[0], p[1])))
        .collect();
    let (x0, y0) = world.iter().fold((f64::MAX, f64::MAX), |(a, b), p| (a.min(p.0), b.min(p.1)));
    let (x1, y1) = world.iter().fold((f64::MIN, f64::MIN), |(a, b), p| (a.max(p.0 + NODE_W), b.max(p.1 + NODE_H)));
    let margin = 20.0;
    let top = 40.0; // the clock's band
    let scale = ((f64::from(w) - 2.0 * margin) / (x1 - x0).max(1.0))
        .min((f64::from(h) - top - margin) / (y1 - y0).max(1.0))
        .min(1.5);
    (world.iter().map(|&(x, y)| (margin + (x - x0) * scale, top + (y - y0) * scale)).collect(), scale)
}

fn render(args: &RenderArgs) -> Result<u64, RunError> {
    let bad = |m: String| RunError::Input(format!("edasim render: {m}"));
    if !(args.duration_s.is_finite() && args.duration_s > 0.0) {
        return Err(bad(format!("--duration-s must be a positive number of seconds, not {}", args.duration_s)));
    }
    if !(args.speed.is_finite() && args.speed > 0.0) {
        return Err(bad(format!("--speed must be positive, not {}", args.speed)));
    }
    if !(1..=25).contains(&args.fps) || !(160..=1920).contains(&args.width) || !(120..=1080).contains(&args.height) {
        return Err(bad("--fps is 1 to 25, --width 160 to 1920, --height 120 to 1080".to_string()));
    }
    let frames = ((args.duration_s / args.speed) * f64::from(args.fps)).ceil() as u64;
    if frames > MAX_FRAMES {
        return Err(bad(format!("{frames} frames; at most {MAX_FRAMES}: shorten --duration-s or raise --speed")));
    }
    let model = load(&args.file)?;
    crate::plot::register_font().map_err(RunError::Other)?;
    let mut engine = Engine::new(
        &model,
        &Options { seed: args.seed, hop_capacity: 50_000, series_capacity: 0, ..Options::default() },
    );
    let (w, h) = (args.width, args.height);
    let (at, s) = layout(&model, w, h);
    let centre = |i: u32| {
        let (x, y) = at[i as usize];
        (x + NODE_W * s / 2.0, y + NODE_H * s / 2.0)
    };
    let frame_ns = (args.speed / f64::from(args.fps) * NS_PER_S as f64) as Time;
    let delay_ms = 1000 / args.fps;
    let root = BitMapBackend::gif(&args.gif, (w, h), delay_ms)
        .map_err(|e| RunError::Other(anyhow!("{}: {e}", args.gif.display())))?
        .into_drawing_area();
    let mut flying: Vec<Hop> = Vec::new();
    let mut fresh: Vec<Hop> = Vec::with_capacity(50_000);
    let topo = model.topology();
    for f in 1..=frames {
        let now = frame_ns * f;
        engine.step_until(now).map_err(|e| RunError::Other(e.into()))?;
        fresh.clear();
        engine.take_hops(50_000, &mut fresh);
        flying.extend(fresh.iter().copied());
        // A hop shows while it crosses, and an instant one for the frame it happened in.
        flying.retain(|hp| hp.end + frame_ns >= now);
        let draw = || -> anyhow::Result<()> {
            root.fill(&WHITE)?;
            for l in &topo.links {
                let (Some(a), Some(b)) = (model.node_index(&l.from), model.node_index(&l.to)) else { continue };
                let (p, q) = (centre(a as u32), centre(b as u32));
                let style =
                    if l.dead_letter { RGBColor(220, 38, 38).mix(0.5) } else { RGBColor(148, 163, 184).mix(0.9) };
                root.draw(&PathElement::new(vec![px(p), px(q)], style.stroke_width(2)))?;
            }
            for (i, n) in topo.nodes.iter().enumerate() {
                let (x, y) = at[i];
                let (x1, y1) = (x + NODE_W * s, y + NODE_H * s);
                root.draw(&Rectangle::new([px((x, y)), px((x1, y1))], fill(n.kind.kind()).filled()))?;
                root.draw(&Rectangle::new([px((x, y)), px((x1, y1))], RGBColor(100, 116, 139).stroke_width(1)))?;
                let size = (13.0 * s).clamp(9.0, 16.0);
                root.draw(&Text::new(n.label().to_string(), px((x + 6.0 * s, y + 8.0 * s)), ("sans-serif", size)))?;
                let st = engine.node_state(i);
                if matches!(n.kind.kind(), Kind::Queue | Kind::Topic | Kind::Gateway) && st.depth > 0 {
                    let bar = (st.depth as f64 / 50.0).min(1.0) * (NODE_W - 12.0) * s;
                    let by = y1 - 10.0 * s;
                    root.draw(&Rectangle::new(
                        [px((x + 6.0 * s, by)), px((x + 6.0 * s + bar, by + 5.0 * s))],
                        RGBColor(124, 58, 237).filled(),
                    ))?;
                }
                let figure = match n.kind.kind() {
                    Kind::Queue => format!("{} ready", st.depth),
                    Kind::Service if st.workers == 0 => format!("{} in flight", st.busy),
                    Kind::Service => format!("{}/{} busy", st.busy, st.workers),
                    Kind::Topic => format!("lag {}", st.depth),
                    _ => String::new(),
                };
                if !figure.is_empty() {
                    root.draw(&Text::new(
                        figure,
                        px((x + 6.0 * s, y + 28.0 * s)),
                        ("sans-serif", (size - 2.0).max(8.0)),
                    ))?;
                }
            }
            for hp in &flying {
                let (p, q) = (centre(hp.from), centre(hp.to));
                let span = (hp.end - hp.start).max(1) as f64;
                let k = ((now.saturating_sub(hp.start)) as f64 / span).clamp(0.0, 1.0);
                let pos = (p.0 + (q.0 - p.0) * k, p.1 + (q.1 - p.1) * k);
                let (r, g, b) = if hp.dead {
                    rgb(DEAD_LIGHT)
                } else {
                    rgb(EVENT_LIGHT[event_colour_index(engine.symbol(hp.event))])
                };
                root.draw(&Circle::new(px(pos), 4, RGBColor(r, g, b).filled()))?;
            }
            let t = now as f64 / NS_PER_S as f64;
            let clock = if args.duration_s < 120.0 { format!("{t:.1} s") } else { edasim_sim::charts::clock(t) };
            root.draw(&Text::new(format!("{} · {clock}", topo.name), (12, 10), ("sans-serif", 18)))?;
            root.present()?;
            Ok(())
        };
        draw().with_context(|| format!("drawing frame {f}")).map_err(RunError::Other)?;
    }
    Ok(frames)
}

fn px(p: (f64, f64)) -> (i32, i32) {
    (p.0.round() as i32, p.1.round() as i32)
}

/// A node's fill: its kind's colour, as the app's light theme has it.
fn fill(kind: Kind) -> RGBColor {
    match kind {
        Kind::Producer => RGBColor(224, 242, 254),
        Kind::Gateway => RGBColor(226, 232, 240),
        Kind::Exchange => RGBColor(254, 243, 199),
        Kind::Queue => RGBColor(237, 233, 254),
        Kind::Topic => RGBColor(252, 231, 243),
        Kind::Service => RGBColor(220, 252, 231),
        Kind::Store => RGBColor(241, 245, 249),
    }
}
