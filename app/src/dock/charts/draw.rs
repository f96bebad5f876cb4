//! One chart drawn by plotters on its canvas: value ticks at round numbers, a time axis read as a
//! clock of simulated time, a legend of its lines in the top margin, the seconds a fault struck
//! shaded, a compared node's lines dashed, and a cursor on the second under the pointer.
//!
//! A short canvas (the presenter's strip) is drawn compact: no legend row and no time labels,
//! its top value only (the caption names the lines and the read-out still works).
//!
//! The canvas is drawn at the screen's pixel ratio (its CSS size times `devicePixelRatio`), so
//! every length here is in CSS pixels times that ratio.

use edasim_sim::charts::{Line, clock, fault_band, nice_max, time_unit};
use edasim_sim::palette::rgb;
use edasim_sim::stats::Point;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_canvas::CanvasBackend;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

/// Canvases shorter than this (CSS pixels) are drawn compact.
const COMPACT_BELOW: i32 = 60;

/// What one drawing shows.
pub struct Spec<'a> {
    pub lines: &'a [Line],
    pub points: &'a [Point],
    /// A compared node's points, drawn dashed over the same seconds.
    pub twin: &'a [Point],
    /// The second the cursor is on.
    pub at: Option<u64>,
    pub dark: bool,
}

/// Where the plot fell on the canvas, to read the time under the pointer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    /// The plot's left and right edges, in CSS pixels from the canvas's left.
    left: f64,
    right: f64,
    /// The simulated seconds at those edges.
    t0: f64,
    t1: f64,
}

impl Frame {
    /// The simulated time under a pointer `x` CSS pixels from the canvas's left edge (the
    /// plot's first or last second beyond its edges).
    pub fn time_at(&self, x: f64) -> f64 {
        let f = ((x - self.left) / (self.right - self.left).max(1.0)).clamp(0.0, 1.0);
        self.t0 + f * (self.t1 - self.t0)
    }

    /// Where simulated time `t` falls, in CSS pixels from the canvas's left edge.
    pub fn x_of(&self, t: f64) -> f64 {
        self.left + (t - self.t0) / (self.t1 - self.t0).max(1e-9) * (self.right - self.left)
    }

    /// Whether `x` (CSS pixels from the canvas's left) is in the plot's left half.
    pub fn in_left_half(&self, x: f64) -> bool {
        x < (self.left + self.right) / 2.0
    }
}

/// The chart's own colours on each theme (the lines' are the canvas's event colours).
struct Theme {
    text: RGBColor,
    axis: RGBColor,
    grid: RGBColor,
    band: RGBAColor,
    cursor: RGBColor,
    /// A picture's background and title (the dock's panel and text colours).
    background: RGBColor,
    title: RGBColor,
}

impl Theme {
    fn of(dark: bool) -> Theme {
        if dark {
            Theme {
                text: RGBColor(148, 163, 184),
                axis: RGBColor(71, 85, 105),
                grid: RGBColor(41, 50, 65),
                band: band(true),
                cursor: RGBColor(226, 232, 240),
                background: RGBColor(30, 41, 59),
                title: RGBColor(226, 232, 240),
            }
        } else {
            Theme {
                text: RGBColor(100, 116, 139),
                axis: RGBColor(203, 213, 225),
                grid: RGBColor(238, 241, 245),
                band: band(false),
                cursor: RGBColor(51, 65, 85),
                background: RGBColor(255, 255, 255),
                title: RGBColor(15, 23, 42),
            }
        }
    }
}

/// The fault band's colour (`edasim_sim::charts::fault_band`).
fn band(dark: bool) -> RGBAColor {
    let (hex, alpha) = fault_band(dark);
    let (r, g, b) = rgb(hex);
    RGBColor(r, g, b).mix(alpha)
}

fn colour(line: &Line, dark: bool) -> RGBColor {
    let (r, g, b) = rgb(line.hue.colour(dark));
    RGBColor(r, g, b)
}

/// A value as the read-out and the ticks print it: whole numbers whole, others to one decimal.
pub fn value_text(v: f64) -> String {
    if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v:.1}") }
}

/// Draws `spec` on `canvas`, sized to its box; `None` while the canvas has no size (a hidden tab).
pub fn draw(canvas: &HtmlCanvasElement, spec: &Spec) -> Result<Option<Frame>, String> {
    let (css_w, css_h) = (canvas.client_width(), canvas.client_height());
    if css_w <= 0 || css_h <= 0 {
        return Ok(None);
    }
    let ratio = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio()).max(1.0);
    draw_sized(canvas, (css_w, css_h), ratio, spec, None).map(Some)
}

/// The size of a chart saved as a picture (CSS pixels, drawn at twice that): a slide's width.
const PICTURE: (i32, i32) = (960, 400);

/// `spec` as a PNG picture to take away (a `data:` URL): on the theme's background, under
/// `title`, a slide's width at twice its pixels.
pub fn picture(spec: &Spec, title: &str) -> Result<String, String> {
    let canvas = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("canvas").ok())
        .and_then(|c| c.dyn_into::<HtmlCanvasElement>().ok())
        .ok_or("no canvas to draw the picture on")?;
    draw_sized(&canvas, PICTURE, 2.0, spec, Some(title))?;
    canvas.to_data_url_with_type("image/png").map_err(|_| "the picture could not be encoded".to_string())
}

/// Draws `spec` on `canvas` at `css` size and pixel `ratio`; with a `title`, on the theme's
/// background with the title above (a picture), else transparent over the dock.
fn draw_sized(
    canvas: &HtmlCanvasElement,
    (css_w, css_h): (i32, i32),
    ratio: f64,
    spec: &Spec,
    title: Option<&str>,
) -> Result<Frame, String> {
    let (w, h) = ((f64::from(css_w) * ratio).round() as u32, (f64::from(css_h) * ratio).round() as u32);
    if canvas.width() != w || canvas.height() != h {
        canvas.set_width(w);
        canvas.set_height(h);
    }
    let context = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
        .ok_or("the canvas has no 2d context")?;
    context.clear_rect(0.0, 0.0, f64::from(w), f64::from(h));
    let px = |css: f64| (css * ratio).round() as u32;
    let backend = CanvasBackend::with_canvas_object(canvas.clone()).ok_or("the canvas has no 2d context")?;
    let root = backend.into_drawing_area();
    let theme = Theme::of(spec.dark);
    let font = |size: f64| ("sans-serif", size * ratio).into_font().color(&theme.text);
    // A picture has the theme's background and its title; on screen the dock's own
    // background shows through on either theme, and the caption is the title.
    let root = match title {
        Some(title) => {
            root.fill(&theme.background).map_err(|e| e.to_string())?;
            let title_font = ("sans-serif", 16.0 * ratio).into_font().color(&theme.title);
            root.titled(title, title_font).map_err(|e| e.to_string())?
        }
        None => root,
    };

    let t0 = spec.points.first().map_or(0.0, |p| p.t_s as f64 - 1.0);
    let t1 = spec.points.last().map_or(60.0, |p| p.t_s as f64).max(t0 + 1.0);
    let unit = time_unit(t1 - t0);
    let in_window = |p: &&Point| (t0..=t1).contains(&(p.t_s as f64));
    let twin: Vec<&Point> = spec.twin.iter().filter(in_window).collect();
    let top = nice_max(
        spec.points
            .iter()
            .chain(twin.iter().copied())
            .flat_map(|p| spec.lines.iter().map(move |l| (l.value)(p)))
            .fold(0.0, f64::max),
    );
    let compact = css_h < COMPACT_BELOW;
    // The legend's rows: as many names as fit the width in each.
    let legend_font = font(10.5);
    let items = spec
        .lines
        .iter()
        .map(|l| Ok((l, root.estimate_text_size(l.name, &legend_font).map_err(|e| e.to_string())?.0)))
        .collect::<Result<Vec<_>, String>>()?;
    let (swatch, gap) = (px(12.0) as i32, px(4.0) as i32);
    let legend_left = px(40.0) as i32;
    let rows = legend_rows(&items, swatch + gap, px(12.0) as i32, w as i32 - legend_left - px(10.0) as i32);
    let row_height = px(14.0);
    let legend_height = if compact { px(4.0) } else { px(4.0) + row_height * rows.len() as u32 };
    let mut chart = ChartBuilder::on(&root)
        .margin_top(legend_height)
        .margin_right(px(10.0))
        .x_label_area_size(match (compact, title) {
            (true, _) => 0,
            (false, None) => px(18.0),
            // A picture names its time axis beneath its labels.
            (false, Some(_)) => px(34.0),
        })
        .y_label_area_size(px(38.0))
        .build_cartesian_2d(t0 / unit..t1 / unit, 0.0..top)
        .map_err(|e| e.to_string())?;
    let (time_label, value_label) = (|t: &f64| clock(*t * unit), |y: &f64| value_text(*y));
    let mut mesh = chart.configure_mesh();
    mesh.x_labels(if compact { 0 } else { 5 })
        .y_labels(if compact { 2 } else { 4 })
        .x_label_formatter(&time_label)
        .y_label_formatter(&value_label)
        .label_style(font(10.0))
        .axis_style(theme.axis.stroke_width(px(1.0)))
        .bold_line_style(theme.grid.stroke_width(px(1.0)))
        .light_line_style(TRANSPARENT);
    if title.is_some() {
        mesh.x_desc("simulated time (m:ss)").axis_desc_style(font(10.0));
    }
    mesh.draw().map_err(|e| e.to_string())?;
    let x = |t_s: u64| t_s as f64 / unit;
    // A point covers the second that ends at its time: a faulted one is shaded over that second.
    chart
        .draw_series(
            spec.points
                .iter()
                .filter(|p| p.faults > 0)
                .map(|p| Rectangle::new([(x(p.t_s) - 1.0 / unit, 0.0), (x(p.t_s), top)], theme.band.filled())),
        )
        .map_err(|e| e.to_string())?;
    let stroke = px(1.8).max(1);
    for line in spec.lines {
        let c = colour(line, spec.dark);
        chart
            .draw_series(LineSeries::new(
                spec.points.iter().map(|p| (x(p.t_s), (line.value)(p))),
                c.stroke_width(stroke),
            ))
            .map_err(|e| e.to_string())?;
        if !twin.is_empty() {
            chart
                .draw_series(DashedLineSeries::new(
                    twin.iter().map(|p| (x(p.t_s), (line.value)(p))),
                    px(5.0),
                    px(3.0),
                    c.mix(0.8).stroke_width(stroke),
                ))
                .map_err(|e| e.to_string())?;
        }
    }
    if let Some(p) = spec.at.and_then(|t| spec.points.iter().find(|p| p.t_s == t)) {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(x(p.t_s), 0.0), (x(p.t_s), top)],
                theme.cursor.stroke_width(px(1.0)),
            )))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(
                spec.lines
                    .iter()
                    .map(|l| Circle::new((x(p.t_s), (l.value)(p)), px(3.0), colour(l, spec.dark).filled())),
            )
            .map_err(|e| e.to_string())?;
    }
    let (plot_x, _) = chart.plotting_area().get_pixel_range();
    let frame = Frame { left: f64::from(plot_x.start) / ratio, right: f64::from(plot_x.end) / ratio, t0, t1 };
    if compact {
        root.present().map_err(|e| e.to_string())?;
        return Ok(frame);
    }
    // The legend, above the plot: a stroke of each line's colour, then its name.
    for (row, placed) in rows.iter().enumerate() {
        let y = (px(2.0) + row_height * row as u32 + row_height / 2) as i32;
        for &(i, x) in placed {
            let (line, _) = items[i];
            let x = plot_x.start.max(legend_left) + x;
            root.draw(&PathElement::new(vec![(x, y), (x + swatch, y)], colour(line, spec.dark).stroke_width(px(2.5))))
                .map_err(|e| e.to_string())?;
            let text = Text::new(line.name, (x + swatch + gap, y), legend_font.pos(Pos::new(HPos::Left, VPos::Center)));
            root.draw(&text).map_err(|e| e.to_string())?;
        }
    }
    root.present().map_err(|e| e.to_string())?;
    Ok(frame)
}

/// Lays out legend items of text widths `items` in rows of `width`: each item is a swatch
/// (`swatch` wide with its gap), its name, then `spacing`; a row takes items while they fit (at
/// least one). Returns, per row, each item's index and its offset from the row's start.
fn legend_rows<T>(items: &[(T, u32)], swatch: i32, spacing: i32, width: i32) -> Vec<Vec<(usize, i32)>> {
    let mut rows: Vec<Vec<(usize, i32)>> = Vec::new();
    let mut x = 0;
    for (i, (_, text)) in items.iter().enumerate() {
        let w = swatch + *text as i32;
        match rows.last_mut() {
            Some(row) if x + w <= width => row.push((i, x)),
            _ => {
                x = 0;
                rows.push(vec![(i, 0)]);
            }
        }
        x += w + spacing;
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pointer_reads_a_time_within_the_plot() {
        let f = Frame { left: 40.0, right: 340.0, t0: 100.0, t1: 400.0 };
        assert_eq!(f.time_at(40.0), 100.0);
        assert_eq!(f.time_at(190.0), 250.0);
        assert_eq!(f.time_at(0.0), 100.0, "left of the plot: its first second");
        assert_eq!(f.time_at(999.0), 400.0);
        assert_eq!(f.x_of(250.0), 190.0, "and back");
    }

    #[test]
    fn the_legend_wraps_to_the_width() {
        let items = [((), 30), ((), 40), ((), 50)];
        assert_eq!(legend_rows(&items, 10, 5, 200), vec![vec![(0, 0), (1, 45), (2, 100)]]);
        assert_eq!(legend_rows(&items, 10, 5, 100), vec![vec![(0, 0), (1, 45)], vec![(2, 0)]]);
        assert_eq!(
            legend_rows(&items, 10, 5, 20),
            vec![vec![(0, 0)], vec![(1, 0)], vec![(2, 0)]],
            "one a row at least"
        );
    }

    #[test]
    fn values_print_whole_or_to_a_decimal() {
        assert_eq!(value_text(12.0), "12");
        assert_eq!(value_text(2.26), "2.3");
    }
}
