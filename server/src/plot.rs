//! `edasim run --plot DIR`: the run's per-second series as pictures to take away, drawn with
//! plotters: an SVG per node (throughput in and out, depth or busy workers, latency p50, p95
//! and p99, errors and retries, dead letters, drops), one for the whole system, and one PNG
//! overview of every node's throughput, so that a report can be read without a browser.
//!
//! Text is set in DejaVu Sans (vendored in `assets/fonts/` with its licence), so the pictures
//! are the same on every machine, with or without fonts installed.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use edasim_sim::charts::{self, Line, clock, nice_max, time_unit};
use edasim_sim::palette::rgb;
use edasim_sim::stats::Point;
use edasim_sim::topology::Kind;
use edasim_sim::{Engine, Model};
use plotters::coord::Shift;
use plotters::prelude::*;

/// The font every picture's text is set in.
const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

/// A chart: a title and its lines.
struct Chart {
    title: String,
    lines: Vec<Line>,
}

/// Makes the vendored font the one plotters sets "sans-serif" text in.
pub fn register_font() -> anyhow::Result<()> {
    plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
        .map_err(|_| anyhow!("the vendored font cannot be read"))
}

/// A line's colour on the light theme (a picture's background is white).
fn colour(line: &Line) -> RGBColor {
    let (r, g, b) = rgb(line.hue.colour(false));
    RGBColor(r, g, b)
}

fn node_charts(kind: Kind) -> Vec<Chart> {
    [
        Chart { title: "Throughput (per s)".into(), lines: vec![charts::IN, charts::OUT] },
        Chart { title: charts::level_name(kind).into(), lines: vec![charts::LEVEL] },
        Chart { title: "Latency (ms)".into(), lines: charts::LATENCY.to_vec() },
    ]
    .into_iter()
    .chain(trouble_charts())
    .collect()
}

/// What went wrong, per second: errors and retries, dead letters, drops (a node's, or summed
/// over the system).
fn trouble_charts() -> [Chart; 3] {
    [
        Chart { title: "Errors and retries (per s)".into(), lines: vec![charts::ERRORS, charts::RETRIES] },
        Chart { title: "Dead letters (per s)".into(), lines: vec![charts::DEAD_LETTERS] },
        Chart { title: "Drops (per s)".into(), lines: vec![charts::DROPPED_LINE] },
    ]
}

/// Draws `chart` over `points` in `area`.
fn draw<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, chart: &Chart, points: &[Point]) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let t0 = points.first().map_or(0.0, |p| p.t_s as f64 - 1.0);
    let t1 = points.last().map_or(1.0, |p| p.t_s as f64).max(t0 + 1.0);
    let unit = time_unit(t1 - t0);
    let top = nice_max(points.iter().flat_map(|p| chart.lines.iter().map(move |l| (l.value)(p))).fold(0.0, f64::max));
    let mut c = ChartBuilder::on(area)
        .caption(&chart.title, ("sans-serif", 16))
        .margin(8)
        .x_label_area_size(40)
        .y_label_area_size(48)
        .build_cartesian_2d(t0 / unit..t1 / unit, 0.0..top)
        .map_err(|e| anyhow!("{e}"))?;
    let y_fmt = |y: &f64| if top > 10.0 { format!("{y:.0}") } else { format!("{y:.1}") };
    c.configure_mesh()
        .x_labels(7)
        .y_labels(5)
        .x_label_formatter(&|t| clock(*t * unit))
        .y_label_formatter(&y_fmt)
        .x_desc("simulated time")
        .label_style(("sans-serif", 12))
        .light_line_style(RGBColor(235, 238, 242))
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    // The seconds a fault struck, shaded as the app shades them (a point ends its second).
    let (band, alpha) = charts::fault_band(false);
    let (r, g, b) = rgb(band);
    c.draw_series(points.iter().filter(|p| p.faults > 0).map(|p| {
        let t = p.t_s as f64;
        Rectangle::new([((t - 1.0) / unit, 0.0), (t / unit, top)], RGBColor(r, g, b).mix(alpha).filled())
    }))
    .map_err(|e| anyhow!("{e}"))?;
    for line in &chart.lines {
        let colour = colour(line);
        c.draw_series(LineSeries::new(
            points.iter().map(|p| (p.t_s as f64 / unit, (line.value)(p))),
            colour.stroke_width(2),
        ))
        .map_err(|e| anyhow!("{e}"))?
        .label(line.name)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2)));
    }
    c.configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 12))
        .background_style(WHITE.mix(0.8))
        .border_style(RGBColor(203, 213, 225))
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

/// A file name for a node id (ids are `A-Z a-z 0-9 _ . -` already; a leading dot is not kept).
fn file_stem(id: &str) -> String {
    let s = id.trim_start_matches('.');
    if s.is_empty() { "node".to_string() } else { s.to_string() }
}

/// Writes the pictures of `engine`'s run into `dir` (made if missing); returns their paths.
pub fn write_plots(dir: &Path, engine: &Engine, model: &Model) -> anyhow::Result<Vec<PathBuf>> {
    register_font()?;
    std::fs::create_dir_all(dir).with_context(|| format!("making {}", dir.display()))?;
    let mut written = Vec::new();
    let topo = model.topology();
    for (i, node) in topo.nodes.iter().enumerate() {
        let points: Vec<Point> = engine.series(i).iter().copied().collect();
        let path = dir.join(format!("{}.svg", file_stem(&node.id)));
        {
            let root = SVGBackend::new(&path, (1200, 760)).into_drawing_area();
            root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
            let title = format!("{} ({}) — {}", node.label(), node.kind.name(), topo.name);
            let root = root.titled(&title, ("sans-serif", 20)).map_err(|e| anyhow!("{e}"))?;
            let charts = node_charts(node.kind.kind());
            for (area, chart) in root.split_evenly((2, 3)).iter().zip(&charts) {
                draw(area, chart, &points)?;
            }
            root.present().map_err(|e| anyhow!("writing {}: {e}", path.display()))?;
        }
        written.push(path);
    }
    // The whole system: each per-second count summed over the nodes.
    let system = system_series(engine, model);
    let path = dir.join("system.svg");
    {
        let root = SVGBackend::new(&path, (1200, 760)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
        let root = root
            .titled(&format!("{} — the whole system", topo.name), ("sans-serif", 20))
            .map_err(|e| anyhow!("{e}"))?;
        let produced =
            Chart { title: "Produced (per s)".into(), lines: vec![charts::Line { name: "produced", ..charts::IN }] };
        let charts: Vec<Chart> = std::iter::once(produced).chain(trouble_charts()).collect();
        for (area, chart) in root.split_evenly((2, 2)).iter().zip(&charts) {
            draw(area, chart, &system)?;
        }
        root.present().map_err(|e| anyhow!("writing {}: {e}", path.display()))?;
    }
    written.push(path);
    // One PNG: every node's throughput, four to a row.
    let path = dir.join("overview.png");
    {
        let n = topo.nodes.len().max(1);
        let rows = n.div_ceil(4);
        let root = BitMapBackend::new(&path, (1600, 60 + 300 * rows as u32)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
        let root = root
            .titled(&format!("{}: throughput per node", topo.name), ("sans-serif", 24))
            .map_err(|e| anyhow!("{e}"))?;
        for (i, area) in root.split_evenly((rows, 4)).iter().enumerate().take(n) {
            let points: Vec<Point> = engine.series(i).iter().copied().collect();
            let node = &topo.nodes[i];
            let chart = Chart {
                title: format!("{} ({})", node.label(), node.kind.name()),
                lines: vec![charts::IN, charts::OUT],
            };
            draw(area, &chart, &points)?;
        }
        root.present().map_err(|e| anyhow!("writing {}: {e}", path.display()))?;
    }
    written.push(path);
    Ok(written)
}

/// The whole system's per-second points (`edasim_sim::charts::system_series`).
fn system_series(engine: &Engine, model: &Model) -> Vec<Point> {
    let parts = charts::parts(model.topology());
    let series: Vec<Vec<Point>> = (0..parts.len()).map(|i| engine.series(i).iter().copied().collect()).collect();
    charts::system_series(parts.into_iter().zip(series.iter().map(Vec::as_slice)))
}
