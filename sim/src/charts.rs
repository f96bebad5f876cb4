//! What a chart of the per-second series shows, defined once for the app's live charts and the
//! pictures `edasim run --plot` draws: each line's name, colour and value, the time axis as a
//! clock, round axis tops, and the whole system's series summed from its nodes'.

use crate::palette::{DEAD_DARK, DEAD_LIGHT, EVENT_DARK, EVENT_LIGHT};
use crate::stats::Point;
use crate::topology::{Kind, Topology};

/// What a line shows, which picks its colour: the canvas's event colours (flow in is the first
/// event colour, dead letters are the canvas's dead-letter red), so a chart reads like the canvas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hue {
    In,
    Out,
    Level,
    P50,
    P95,
    P99,
    Errors,
    Retries,
    DeadLetters,
    Dropped,
    Cpu,
}

/// Dropped messages: slate, distinct from every event colour (light, dark).
const DROPPED: (&str, &str) = ("#475569", "#94a3b8");

impl Hue {
    /// `#rrggbb` on the light or the dark theme.
    pub fn colour(self, dark: bool) -> &'static str {
        let event = |i: usize| if dark { EVENT_DARK[i] } else { EVENT_LIGHT[i] };
        match self {
            Hue::In => event(0),
            Hue::Out | Hue::P50 => event(1),
            Hue::P95 | Hue::Retries => event(2),
            Hue::Level => event(3),
            Hue::Errors => event(4),
            Hue::Cpu => event(5),
            Hue::P99 | Hue::DeadLetters => {
                if dark {
                    DEAD_DARK
                } else {
                    DEAD_LIGHT
                }
            }
            Hue::Dropped => {
                if dark {
                    DROPPED.1
                } else {
                    DROPPED.0
                }
            }
        }
    }
}

/// The shading of the seconds a fault struck a node, on the light or the dark theme: its colour
/// and opacity.
pub fn fault_band(dark: bool) -> (&'static str, f64) {
    if dark { ("#b45309", 0.35) } else { ("#fde68a", 0.6) }
}

/// A chart's line: its name in the legend, its hue, and its value at a point.
#[derive(Clone, Copy, Debug)]
pub struct Line {
    pub name: &'static str,
    pub hue: Hue,
    pub value: fn(&Point) -> f64,
}

impl Line {
    pub const fn new(name: &'static str, hue: Hue, value: fn(&Point) -> f64) -> Line {
        Line { name, hue, value }
    }
}

pub const IN: Line = Line::new("in", Hue::In, |p| f64::from(p.in_per_s));
pub const OUT: Line = Line::new("out", Hue::Out, |p| f64::from(p.out_per_s));
pub const LEVEL: Line = Line::new("mean", Hue::Level, |p| f64::from(p.level));
pub const P50: Line = Line::new("p50", Hue::P50, |p| f64::from(p.p50_ms));
pub const P95: Line = Line::new("p95", Hue::P95, |p| f64::from(p.p95_ms));
pub const P99: Line = Line::new("p99", Hue::P99, |p| f64::from(p.p99_ms));
pub const ERRORS: Line = Line::new("errors", Hue::Errors, |p| f64::from(p.errors));
pub const RETRIES: Line = Line::new("retries", Hue::Retries, |p| f64::from(p.retries));
pub const DEAD_LETTERS: Line = Line::new("dead letters", Hue::DeadLetters, |p| f64::from(p.dead_letters));
pub const DROPPED_LINE: Line = Line::new("dropped", Hue::Dropped, |p| f64::from(p.dropped));
pub const CPU: Line = Line::new("used", Hue::Cpu, |p| f64::from(p.cpu_m));

/// The three latency percentiles.
pub const LATENCY: [Line; 3] = [P50, P95, P99];
/// What went wrong: errors, retries, dead letters, drops.
pub const TROUBLE: [Line; 4] = [ERRORS, RETRIES, DEAD_LETTERS, DROPPED_LINE];

/// The name of a node's level: what its `level` counts.
pub fn level_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Queue => "Depth (ready)",
        Kind::Service => "Busy workers",
        Kind::Gateway => "Waiting for a worker",
        Kind::Topic => "Lag",
        _ => "Level",
    }
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

/// A round top for a value axis (1, 2 or 5 × 10ⁿ at or above `x`), so its ticks fall on round
/// values; 1 for nothing to show.
pub fn nice_max(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return 1.0;
    }
    let mag = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|v| *v >= x).unwrap_or(10.0 * mag)
}

/// What a node adds to the whole system's chart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// A producer: its emissions are the system's flow in.
    Producer,
    /// A queue or a topic: its depth, or its groups' lag, is waiting in the system.
    Waiting,
    /// A service that publishes onward: its latency counts, its completions do not.
    Service,
    /// A service that publishes nothing: its completions are the system's flow out.
    Leaf,
    /// Anything else: only its trouble counts.
    Other,
}

impl Part {
    /// The part a node of `kind` plays, `publishes` saying whether it has a link to messaging.
    pub fn of(kind: Kind, publishes: bool) -> Part {
        match kind {
            Kind::Producer => Part::Producer,
            Kind::Queue | Kind::Topic => Part::Waiting,
            Kind::Service if publishes => Part::Service,
            Kind::Service => Part::Leaf,
            _ => Part::Other,
        }
    }
}

/// The part each node of `topo` plays in the system's charts, in the topology's order: a
/// service publishes onward when it has a link to messaging (an exchange, a queue, a topic).
pub fn parts(topo: &Topology) -> Vec<Part> {
    use std::collections::{HashMap, HashSet};
    let kinds: HashMap<&str, Kind> = topo.nodes.iter().map(|n| (n.id.as_str(), n.kind.kind())).collect();
    let publishes: HashSet<&str> = topo
        .links
        .iter()
        .filter(|l| kinds.get(l.to.as_str()).is_some_and(|k| k.is_messaging()))
        .map(|l| l.from.as_str())
        .collect();
    topo.nodes.iter().map(|n| Part::of(n.kind.kind(), publishes.contains(n.id.as_str()))).collect()
}

/// The whole system, second by second, from every node's series: what the producers emitted
/// (`in_per_s`) and what the leaf services completed (`out_per_s`), messages waiting in all
/// queues and topics (`level`), the slowest service's latency, and errors, retries, dead letters and drops
/// summed over every node.
pub fn system_series<'a>(nodes: impl IntoIterator<Item = (Part, &'a [Point])>) -> Vec<Point> {
    let mut out: Vec<Point> = Vec::new();
    for (part, points) in nodes {
        for p in points {
            let at = match out.binary_search_by_key(&p.t_s, |q| q.t_s) {
                Ok(at) => at,
                Err(at) => {
                    out.insert(at, Point { t_s: p.t_s, ..Point::default() });
                    at
                }
            };
            let s = &mut out[at];
            match part {
                Part::Producer => s.in_per_s += p.out_per_s,
                Part::Waiting => s.level += p.level,
                Part::Leaf => s.out_per_s += p.out_per_s,
                Part::Service | Part::Other => {}
            }
            if matches!(part, Part::Service | Part::Leaf) {
                s.p50_ms = s.p50_ms.max(p.p50_ms);
                s.p95_ms = s.p95_ms.max(p.p95_ms);
                s.p99_ms = s.p99_ms.max(p.p99_ms);
            }
            s.errors += p.errors;
            s.retries += p.retries;
            s.dead_letters += p.dead_letters;
            s.dropped += p.dropped;
            s.faults += p.faults;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_adds_up_its_nodes() {
        let pt = |t_s, in_per_s, out_per_s, level, p95_ms, errors| Point {
            t_s,
            in_per_s,
            out_per_s,
            level,
            p95_ms,
            errors,
            ..Point::default()
        };
        let producer = [pt(1, 0, 10, 0.0, 0.0, 0), pt(2, 0, 12, 0.0, 0.0, 0)];
        let queue = [pt(1, 10, 9, 3.5, 0.0, 0)];
        let publisher = [pt(1, 9, 9, 2.0, 40.0, 1)];
        let leaf = [pt(1, 9, 8, 1.0, 90.0, 2)];
        let sys = system_series([
            (Part::Producer, &producer[..]),
            (Part::Waiting, &queue[..]),
            (Part::Service, &publisher[..]),
            (Part::Other, &[][..]),
            (Part::Leaf, &leaf[..]),
        ]);
        assert_eq!(sys.len(), 2);
        assert_eq!((sys[0].in_per_s, sys[0].out_per_s), (10, 8), "emitted by the producer; completed by the leaf only");
        assert_eq!(sys[0].level, 3.5, "queues only");
        assert_eq!(sys[0].p95_ms, 90.0, "the slowest service");
        assert_eq!(sys[0].errors, 3);
        assert_eq!(sys[1].in_per_s, 12);
    }

    #[test]
    fn each_node_plays_its_part_in_the_system() {
        let model = crate::Model::from_value(&serde_json::json!({"version": 1, "name": "t", "nodes": [
            {"id": "p", "kind": "producer", "rate_per_s": 1}, {"id": "q", "kind": "queue"},
            {"id": "s", "kind": "service", "processing": 1}, {"id": "x", "kind": "exchange", "type": "fanout"},
            {"id": "q2", "kind": "queue"}, {"id": "leaf", "kind": "service", "processing": 1},
            {"id": "db", "kind": "store"}],
            "links": [{"from": "p", "to": "q"}, {"from": "q", "to": "s"}, {"from": "s", "to": "x"},
                {"from": "x", "to": "q2"}, {"from": "q2", "to": "leaf"}, {"from": "leaf", "to": "db"}]}))
        .unwrap();
        assert_eq!(
            parts(model.topology()),
            [Part::Producer, Part::Waiting, Part::Service, Part::Other, Part::Waiting, Part::Leaf, Part::Other],
            "a service publishing to an exchange is not a leaf; one calling a store is"
        );
    }

    #[test]
    fn parts_follow_kind_and_publishing() {
        assert_eq!(Part::of(Kind::Service, true), Part::Service);
        assert_eq!(Part::of(Kind::Service, false), Part::Leaf);
        assert_eq!(Part::of(Kind::Exchange, true), Part::Other);
        assert_eq!(Part::of(Kind::Topic, false), Part::Waiting, "a topic's lag waits too");
    }

    #[test]
    fn nice_axes() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(180.0), 200.0);
        assert_eq!(nice_max(0.3), 0.5);
    }

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

    #[test]
    fn every_hue_is_a_colour_on_both_themes() {
        use Hue::*;
        for hue in [In, Out, Level, P50, P95, P99, Errors, Retries, DeadLetters, Dropped, Cpu] {
            for dark in [false, true] {
                let c = hue.colour(dark);
                assert!(c.len() == 7 && c.starts_with('#') && u32::from_str_radix(&c[1..], 16).is_ok(), "{hue:?}");
            }
        }
        assert_ne!(Errors.colour(false), DeadLetters.colour(false), "errors and dead letters share a chart");
        assert_ne!(Retries.colour(false), Errors.colour(false));
    }
}
