//! Where a link runs: straight from box to box when nothing is in the way, otherwise around the
//! nodes and notes between, along right angles with as few bends as the way allows (a search
//! on the grid of lines that run just outside every box). The SVG path and the moving dots follow the same points, so a message never
//! cuts a corner its link goes round.

use std::collections::HashMap;

pub type Point = (f64, f64);

/// An axis-aligned box: top-left corner, width and height.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub fn new(x: f64, y: f64, w: f64, h: f64) -> Rect {
        Rect { x, y, w, h }
    }
    fn cx(self) -> f64 {
        self.x + self.w / 2.0
    }
    fn cy(self) -> f64 {
        self.y + self.h / 2.0
    }
    fn right(self) -> f64 {
        self.x + self.w
    }
    fn bottom(self) -> f64 {
        self.y + self.h
    }
    fn grown(self, m: f64) -> Rect {
        Rect { x: self.x - m, y: self.y - m, w: self.w + 2.0 * m, h: self.h + 2.0 * m }
    }
}

/// The room a routed link keeps from the boxes it passes.
const CLEAR: f64 = 16.0;
/// A bend costs as much as this much length: fewer bends win over slightly shorter paths.
const BEND: f64 = 60.0;
/// How far around its ends a route looks for boxes in its way.
const REACH: f64 = 400.0;
/// Beyond this many boxes near a link, it is drawn straight (a grid search per link per frame
/// of a drag would be too slow); shipped scenarios are far below.
const MAX_WALLS: usize = 160;

/// Whether the segment `p`–`q` passes through `r` (Liang–Barsky clipping).
pub fn crosses(p: Point, q: Point, r: Rect) -> bool {
    let (dx, dy) = (q.0 - p.0, q.1 - p.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (den, num) in [(-dx, p.0 - r.x), (dx, r.right() - p.0), (-dy, p.1 - r.y), (dy, r.bottom() - p.1)] {
        if den == 0.0 {
            // Parallel to this side: outside it, or running along it, is not through the box.
            if num <= 0.0 {
                return false;
            }
        } else {
            let t = num / den;
            if den < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
            if t0 > t1 {
                return false;
            }
        }
    }
    // Touching an edge is not passing through.
    t1 - t0 > 1e-9
}

/// How many of the boxes the path passes through.
fn hits(points: &[Point], obstacles: &[Rect]) -> usize {
    obstacles.iter().filter(|o| points.windows(2).any(|s| crosses(s[0], s[1], o.grown(CLEAR / 2.0)))).count()
}

fn length(points: &[Point]) -> f64 {
    points.windows(2).map(|s| (s[1].0 - s[0].0).hypot(s[1].1 - s[0].1)).sum()
}

/// Where the segment from `a`'s centre towards `b` leaves `a`.
fn edge_point(a: Rect, b: Point) -> Point {
    let (cx, cy) = (a.cx(), a.cy());
    let (dx, dy) = (b.0 - cx, b.1 - cy);
    if dx == 0.0 && dy == 0.0 {
        return (cx, cy);
    }
    let sx = if dx != 0.0 { (a.w / 2.0) / dx.abs() } else { f64::MAX };
    let sy = if dy != 0.0 { (a.h / 2.0) / dy.abs() } else { f64::MAX };
    let s = sx.min(sy).min(1.0);
    (cx + dx * s, cy + dy * s)
}

/// A loop above a node, for a queue that dead-letters into itself.
fn self_loop(a: Rect) -> Vec<Point> {
    let (l, r, top) = (a.cx() - 40.0, a.cx() + 40.0, a.y);
    vec![(l, top), (l, top - 36.0), (r, top - 36.0), (r, top)]
}

/// The four directions a route moves in.
const DIRS: [(i32, i32); 4] = [(1, 0), (-1, 0), (0, 1), (0, -1)];

/// Sorted, deduplicated coordinates.
fn lines(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v.dedup_by(|p, q| (*p - *q).abs() < 0.5);
    v
}

/// The index of the line at `v` (the nearest).
fn index(lines: &[f64], v: f64) -> usize {
    let i = lines.partition_point(|&x| x < v - 0.5);
    i.min(lines.len().saturating_sub(1))
}

/// The shortest route with the fewest bends from `a` to `b` on the grid of lines that run
/// `CLEAR` outside every box (an orthogonal visibility grid), found by Dijkstra's search over
/// (point, direction). Leaves `a` and enters `b` at the middle of a side.
fn grid_route(a: Rect, b: Rect, obstacles: &[Rect]) -> Option<Vec<Point>> {
    let walls: Vec<Rect> = obstacles.iter().chain([&a, &b]).map(|r| r.grown(CLEAR - 1.0)).collect();
    let xs = lines(walls.iter().flat_map(|w| [w.x - 1.0, w.right() + 1.0]).chain([a.cx(), b.cx()]).collect());
    let ys = lines(walls.iter().flat_map(|w| [w.y - 1.0, w.bottom() + 1.0]).chain([a.cy(), b.cy()]).collect());
    let (nx, ny) = (xs.len(), ys.len());
    // Blocked edges: from (i, j) to (i + 1, j) in `right`, to (i, j + 1) in `down`.
    let (mut right, mut down) = (vec![false; nx * ny], vec![false; nx * ny]);
    for w in &walls {
        let (i0, i1) = (index(&xs, w.x - 1.0), index(&xs, w.right() + 1.0));
        let (j0, j1) = (index(&ys, w.y - 1.0), index(&ys, w.bottom() + 1.0));
        for j in j0..=j1 {
            for i in i0..=i1 {
                let inside_y = ys[j] > w.y && ys[j] < w.bottom();
                let inside_x = xs[i] > w.x && xs[i] < w.right();
                if inside_y && i < i1 {
                    right[j * nx + i] = true;
                }
                if inside_x && j < j1 {
                    down[j * nx + i] = true;
                }
            }
        }
    }
    let open = |i: usize, j: usize, d: usize| -> Option<(usize, usize)> {
        let (di, dj) = DIRS[d];
        let (ti, tj) = (i as i64 + i64::from(di), j as i64 + i64::from(dj));
        if ti < 0 || tj < 0 || ti >= nx as i64 || tj >= ny as i64 {
            return None;
        }
        let (ti, tj) = (ti as usize, tj as usize);
        let blocked = match d {
            0 => right[j * nx + i],
            1 => right[j * nx + ti],
            2 => down[j * nx + i],
            _ => down[tj * nx + i],
        };
        (!blocked).then_some((ti, tj))
    };
    // Ports: the middle of each side, `CLEAR` out, and the direction away from (into) the box.
    let ports = |r: Rect| {
        [
            ((r.right(), r.cy()), (r.right() + CLEAR, r.cy()), 0usize),
            ((r.x, r.cy()), (r.x - CLEAR, r.cy()), 1),
            ((r.cx(), r.bottom()), (r.cx(), r.bottom() + CLEAR), 2),
            ((r.cx(), r.y), (r.cx(), r.y - CLEAR), 3),
        ]
    };
    let state = |i: usize, j: usize, d: usize| (j * nx + i) * 4 + d;
    let mut best = vec![f64::INFINITY; nx * ny * 4];
    let mut came = vec![usize::MAX; nx * ny * 4];
    let mut heap = std::collections::BinaryHeap::new();
    // Costs are non-negative: their bits order as the numbers do.
    let key = |c: f64| std::cmp::Reverse(c.to_bits());
    for (_, port, d) in ports(a) {
        let s = state(index(&xs, port.0), index(&ys, port.1), d);
        best[s] = CLEAR;
        heap.push((key(CLEAR), s));
    }
    // Arriving at a port of `b` moving into it (direction `d` ^ 1 of the port's outward one).
    let goals: Vec<(usize, usize, usize)> =
        ports(b).iter().map(|&(_, p, d)| (index(&xs, p.0), index(&ys, p.1), d ^ 1)).collect();
    while let Some((std::cmp::Reverse(bits), s)) = heap.pop() {
        let cost = f64::from_bits(bits);
        if cost > best[s] {
            continue;
        }
        let (cell, d) = (s / 4, s % 4);
        let (i, j) = (cell % nx, cell / nx);
        for nd in 0..4 {
            if nd == d ^ 1 {
                continue; // no turning back
            }
            let Some((ti, tj)) = open(i, j, nd) else { continue };
            let step = (xs[ti] - xs[i]).abs() + (ys[tj] - ys[j]).abs();
            let c = cost + step + if nd == d { 0.0 } else { BEND };
            let t = state(ti, tj, nd);
            if c < best[t] {
                best[t] = c;
                came[t] = s;
                heap.push((key(c), t));
            }
        }
    }
    let (end, _) = goals
        .iter()
        .enumerate()
        .flat_map(|(g, &(i, j, inward))| (0..4).map(move |d| (g, i, j, d, inward)))
        .map(|(g, i, j, d, inward)| (state(i, j, d), g, inward, d))
        .filter(|&(s, ..)| best[s].is_finite())
        .map(|(s, g, inward, d)| ((s, g), best[s] + if d == inward { 0.0 } else { BEND }))
        .min_by(|x, y| x.1.total_cmp(&y.1))?;
    let (mut s, g) = end;
    let mut points = vec![ports(b)[g].0];
    loop {
        let cell = s / 4;
        points.push((xs[cell % nx], ys[cell / nx]));
        if came[s] == usize::MAX {
            break;
        }
        s = came[s];
    }
    let first = points.last().copied()?;
    let side = ports(a).iter().find(|(_, p, _)| (p.0 - first.0).abs() < 1.0 && (p.1 - first.1).abs() < 1.0)?.0;
    points.push(side);
    points.reverse();
    Some(simplify(points))
}

/// Drops points in the middle of a straight run.
fn simplify(points: Vec<Point>) -> Vec<Point> {
    let mut out: Vec<Point> = Vec::with_capacity(points.len());
    for p in points {
        if out.len() >= 2 {
            let (a, b) = (out[out.len() - 2], out[out.len() - 1]);
            let cross = (b.0 - a.0) * (p.1 - b.1) - (b.1 - a.1) * (p.0 - b.0);
            if cross.abs() < 1e-6 {
                out.pop();
            }
        }
        if out.last() != Some(&p) {
            out.push(p);
        }
    }
    out
}

/// The route of a link from box `a` to box `b` around `obstacles` (every other node and note).
pub fn route(a: Rect, b: Rect, obstacles: &[Rect]) -> Vec<Point> {
    if a == b {
        return self_loop(a);
    }
    let straight = vec![edge_point(a, (b.cx(), b.cy())), edge_point(b, (a.cx(), a.cy()))];
    let in_the_way = hits(&straight, obstacles);
    if in_the_way == 0 {
        return straight;
    }
    // The boxes near the ends first (a small grid); all of them if the route still hits one.
    let (lo_x, hi_x) = (a.x.min(b.x) - REACH, a.right().max(b.right()) + REACH);
    let (lo_y, hi_y) = (a.y.min(b.y) - REACH, a.bottom().max(b.bottom()) + REACH);
    let near: Vec<Rect> = obstacles
        .iter()
        .filter(|o| o.right() > lo_x && o.x < hi_x && o.bottom() > lo_y && o.y < hi_y)
        .copied()
        .collect();
    let mut tries = vec![near];
    if tries[0].len() < obstacles.len() {
        tries.push(obstacles.to_vec());
    }
    for walls in tries.iter().filter(|w| w.len() <= MAX_WALLS) {
        if let Some(r) = grid_route(a, b, walls).filter(|r| hits(r, obstacles) == 0) {
            return r;
        }
    }
    straight
}

/// The SVG path through `points`, its bends rounded.
pub fn path_d(points: &[Point]) -> String {
    use std::fmt::Write;
    let Some(first) = points.first() else { return String::new() };
    let mut d = format!("M {:.1} {:.1}", first.0, first.1);
    for i in 1..points.len() {
        let p = points[i];
        match points.get(i + 1) {
            Some(&next) => {
                let prev = points[i - 1];
                let (l1, l2) = ((p.0 - prev.0).hypot(p.1 - prev.1), (next.0 - p.0).hypot(next.1 - p.1));
                let r = 12.0f64.min(l1 / 2.0).min(l2 / 2.0);
                let before = (p.0 - (p.0 - prev.0) / l1.max(1e-9) * r, p.1 - (p.1 - prev.1) / l1.max(1e-9) * r);
                let after = (p.0 + (next.0 - p.0) / l2.max(1e-9) * r, p.1 + (next.1 - p.1) / l2.max(1e-9) * r);
                let _ = write!(
                    d,
                    " L {:.1} {:.1} Q {:.1} {:.1} {:.1} {:.1}",
                    before.0, before.1, p.0, p.1, after.0, after.1
                );
            }
            None => {
                let _ = write!(d, " L {:.1} {:.1}", p.0, p.1);
            }
        }
    }
    d
}

/// The point `p` (0 to 1) of the way along `points`.
pub fn point_at(points: &[Point], p: f64) -> Option<Point> {
    let total = length(points);
    let mut left = total * p.clamp(0.0, 1.0);
    for s in points.windows(2) {
        let l = (s[1].0 - s[0].0).hypot(s[1].1 - s[0].1);
        if left <= l && l > 0.0 {
            let f = left / l;
            return Some((s[0].0 + (s[1].0 - s[0].0) * f, s[0].1 + (s[1].1 - s[0].1) * f));
        }
        left -= l;
    }
    points.last().copied()
}

/// Every link's route, and which link joins two nodes (what a moving dot follows).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Routes {
    pub paths: Vec<Vec<Point>>,
    by_ends: HashMap<(usize, usize), usize>,
}

impl Routes {
    /// Routes `links` (node index pairs) between `nodes`, around every node and every note.
    pub fn new(nodes: &[Rect], notes: &[Rect], links: &[(usize, usize)]) -> Routes {
        let mut obstacles: Vec<Rect> = Vec::with_capacity(nodes.len() + notes.len());
        let mut paths = Vec::with_capacity(links.len());
        let mut by_ends = HashMap::with_capacity(links.len());
        for (i, &(from, to)) in links.iter().enumerate() {
            let (Some(&a), Some(&b)) = (nodes.get(from), nodes.get(to)) else {
                paths.push(Vec::new());
                continue;
            };
            obstacles.clear();
            let others = nodes.iter().enumerate().filter(|&(j, _)| j != from && j != to).map(|(_, r)| *r);
            obstacles.extend(others.chain(notes.iter().copied()));
            paths.push(route(a, b, &obstacles));
            by_ends.entry((from, to)).or_insert(i);
        }
        Routes { paths, by_ends }
    }

    /// The route of the link from node `from` to node `to` (canvas indices).
    pub fn between(&self, from: usize, to: usize) -> Option<&[Point]> {
        self.by_ends.get(&(from, to)).and_then(|&i| self.paths.get(i)).map(Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clear_of(points: &[Point], obstacles: &[Rect]) -> bool {
        hits(points, obstacles) == 0
    }

    #[test]
    fn crossing_is_passing_through_not_touching() {
        let r = Rect::new(0.0, 0.0, 10.0, 10.0);
        assert!(crosses((-5.0, 5.0), (15.0, 5.0), r));
        assert!(crosses((-5.0, -5.0), (15.0, 15.0), r), "a diagonal through it");
        assert!(!crosses((-5.0, 12.0), (15.0, 12.0), r), "below it");
        assert!(!crosses((-5.0, 10.0), (15.0, 10.0), r), "along its edge");
        assert!(!crosses((-5.0, -5.0), (-1.0, 20.0), r));
    }

    #[test]
    fn a_clear_link_is_straight_from_edge_to_edge() {
        let (a, b) = (Rect::new(0.0, 0.0, 100.0, 50.0), Rect::new(300.0, 0.0, 100.0, 50.0));
        assert_eq!(route(a, b, &[]), vec![(100.0, 25.0), (300.0, 25.0)]);
    }

    #[test]
    fn a_link_goes_round_what_is_in_its_way() {
        // Three in a row: the link from the first to the third must not cross the second.
        let (a, mid, b) =
            (Rect::new(0.0, 0.0, 100.0, 50.0), Rect::new(200.0, 0.0, 100.0, 50.0), Rect::new(400.0, 0.0, 100.0, 50.0));
        let r = route(a, b, &[mid]);
        assert!(r.len() > 2 && clear_of(&r, &[mid]), "{r:?}");
        // A back link from the bottom row to the top row, through a wall of boxes.
        let wall: Vec<Rect> = (0..4).map(|i| Rect::new(150.0 + i as f64 * 160.0, 100.0, 120.0, 50.0)).collect();
        let (from, to) = (Rect::new(600.0, 200.0, 120.0, 50.0), Rect::new(0.0, 0.0, 120.0, 50.0));
        let r = route(from, to, &wall);
        assert!(clear_of(&r, &wall), "{r:?}");
        // It leaves and enters its ends on their edges.
        let (s, e) = (r[0], *r.last().unwrap());
        assert!(s.1 == 200.0 || s.1 == 250.0 || s.0 == 600.0 || s.0 == 720.0, "{s:?}");
        assert!(e.1 == 0.0 || e.1 == 50.0 || e.0 == 0.0 || e.0 == 120.0, "{e:?}");
    }

    #[test]
    fn routes_follow_the_links_and_dots_follow_the_routes() {
        let nodes = [Rect::new(0.0, 0.0, 100.0, 50.0), Rect::new(300.0, 0.0, 100.0, 50.0)];
        let routes = Routes::new(&nodes, &[], &[(0, 1), (1, 1), (0, 7)]);
        assert_eq!(routes.between(0, 1), Some(&[(100.0, 25.0), (300.0, 25.0)][..]));
        assert_eq!(routes.paths[1].len(), 4, "a self-loop");
        assert!(routes.paths[2].is_empty(), "an end that is not drawn");
        let path = routes.between(0, 1).unwrap();
        assert_eq!(point_at(path, 0.5), Some((200.0, 25.0)));
        assert_eq!(point_at(&[(0.0, 0.0), (0.0, 10.0), (10.0, 10.0)], 0.75), Some((5.0, 10.0)));
        assert!(path_d(&routes.paths[1]).contains(" Q "), "bends are rounded");
    }
}
