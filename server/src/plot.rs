//! `edasim run --plot DIR`: the run's per-second series as pictures to take away, drawn with
//! plotters: an SVG per node (throughput in and out, depth or busy workers, latency p50, p95
//! and p99, errors and retries, dead letters, drops), one for the whole system, and one PNG
//! overview of every node's throughput, so that a report can be read without a browser.
//!
//! Text is set in DejaVu Sans (vendored in `assets/fonts/` with its licence), so the pictures
//! are the same on every machine, with or without fonts installed.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use edasim_sim::stats::Point;
use edasim_sim::topology::Kind;
use edasim_sim::{Engine, Model};
use plotters::coord::Shift;
use plotters::prelude::*;

/// The font every picture's text is set in.
const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

/// The lines' colours: the app's chart colours.
const BLUE: RGBColor = RGBColor(37, 99, 235);
const GREEN: RGBColor = RGBColor(22, 163, 74);
const AMBER: RGBColor = RGBColor(217, 119, 6);
const RED: RGBColor = RGBColor(220, 38, 38);
const PURPLE: RGBColor = RGBColor(124, 58, 237);
const GREY: RGBColor = RGBColor(100, 116, 139);

/// A chart's line: its label, its colour, and its value at a point.
type Line = (&'static str, RGBColor, fn(&Point) -> f64);

/// One chart: a title and its lines.
struct Chart {
    title: String,
    lines: Vec<Line>,
}

/// Makes the vendored font the one plotters sets "sans-serif" text in.
pub fn register_font() -> anyhow::Result<()> {
    plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
        .map_err(|_| anyhow!("the vendored font cannot be read"))
}

/// A time axis label: `m:ss` (or `h:mm:ss`) of simulated time.
pub fn clock(t_s: f64) -> String {
    let t = t_s.max(0.0).round() as u64;
    if t >= 3600 {
        format!("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
    } else {
        format!("{}:{:02}", t / 60, t % 60)
    }
}

/// The unit the time axis counts in: minutes over two minutes or more, else seconds, so that
/// the axis's round numbers (1, 2, 5 × 10ⁿ) fall on round times (0:30, 1:00, 5:00...).
pub fn time_unit(span_s: f64) -> f64 {
    if span_s >= 120.0 { 60.0 } else { 1.0 }
}

/// The level's name for a node of `kind`.
fn level_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Queue => "Depth (ready)",
        Kind::Service => "Busy workers",
        Kind::Gateway => "Waiting for a worker",
        Kind::Topic => "Lag",
        _ => "Level",
    }
}

fn node_charts(kind: Kind) -> Vec<Chart> {
    [
        Chart {
            title: "Throughput (per s)".into(),
            lines: vec![("in", BLUE, |p| f64::from(p.in_per_s)), ("out", GREEN, |p| f64::from(p.out_per_s))],
        },
        Chart { title: level_name(kind).into(), lines: vec![("mean", PURPLE, |p| f64::from(p.level))] },
        Chart {
            title: "Latency (ms)".into(),
            lines: vec![
                ("p50", GREEN, |p| f64::from(p.p50_ms)),
                ("p95", AMBER, |p| f64::from(p.p95_ms)),
                ("p99", RED, |p| f64::from(p.p99_ms)),
            ],
        },
    ]
    .into_iter()
    .chain(trouble_charts())
    .collect()
}

/// What went wrong, per second: errors and retries, dead letters, drops (a node's, or summed
/// over the system).
fn trouble_charts() -> [Chart; 3] {
    [
        Chart {
            title: "Errors and retries (per s)".into(),
            lines: vec![("errors", RED, |p| f64::from(p.errors)), ("retries", AMBER, |p| f64::from(p.retries))],
        },
        Chart {
            title: "Dead letters (per s)".into(),
            lines: vec![("dead letters", GREY, |p| f64::from(p.dead_letters))],
        },
        Chart { title: "Drops (per s)".into(), lines: vec![("drops", RED, |p| f64::from(p.dropped))] },
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
    let top =
        points.iter().flat_map(|p| chart.lines.iter().map(move |(_, _, f)| f(p))).fold(0.0_f64, f64::max).max(1.0)
            * 1.1;
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
    for (label, colour, f) in &chart.lines {
        let colour = *colour;
        c.draw_series(LineSeries::new(points.iter().map(|p| (p.t_s as f64 / unit, f(p))), colour.stroke_width(2)))
            .map_err(|e| anyhow!("{e}"))?
            .label(*label)
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
            Chart { title: "Produced (per s)".into(), lines: vec![("produced", BLUE, |p| f64::from(p.out_per_s))] };
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
                lines: vec![("in", BLUE, |p| f64::from(p.in_per_s)), ("out", GREEN, |p| f64::from(p.out_per_s))],
            };
            draw(area, &chart, &points)?;
        }
        root.present().map_err(|e| anyhow!("writing {}: {e}", path.display()))?;
    }
    written.push(path);
    Ok(written)
}

/// The system's per-second points: producers' emissions as `out_per_s`, and errors, retries,
/// dead letters and drops summed over every node.
fn system_series(engine: &Engine, model: &Model) -> Vec<Point> {
    let mut out: Vec<Point> = Vec::new();
    for (i, node) in model.topology().nodes.iter().enumerate() {
        for p in engine.series(i).iter() {
            let at = match out.binary_search_by_key(&p.t_s, |q| q.t_s) {
                Ok(at) => at,
                Err(at) => {
                    out.insert(at, Point { t_s: p.t_s, ..Point::default() });
                    at
                }
            };
            let s = &mut out[at];
            if node.kind.kind() == Kind::Producer {
                s.out_per_s += p.out_per_s;
            }
            s.errors += p.errors;
            s.retries += p.retries;
            s.dead_letters += p.dead_letters;
            s.dropped += p.dropped;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_axes_count_in_minutes() {
        assert_eq!(time_unit(60.0), 1.0);
        assert_eq!(time_unit(180.0), 60.0);
    }

    #[test]
    fn the_time_axis_reads_as_a_clock() {
        assert_eq!(clock(0.0), "0:00");
        assert_eq!(clock(95.0), "1:35");
        assert_eq!(clock(3725.0), "1:02:05");
    }
}
