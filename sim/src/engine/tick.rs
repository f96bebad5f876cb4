//! The per-second close: each simulated second, every node's counters become a point of its
//! series, and the time-weighted means of the second feed the batch-means intervals.

use super::{Engine, KindRef};
use crate::stats::Point;
use crate::time::{NS_PER_S, Time};

impl Engine {
    /// Closes every whole second that ends at or before `t`.
    pub(super) fn close_seconds(&mut self, t: Time) {
        while self.next_tick <= t {
            let end = self.next_tick;
            self.close_second(end);
            self.next_tick += NS_PER_S;
        }
    }

    fn close_second(&mut self, end: Time) {
        let measured = end - NS_PER_S >= self.warmup;
        for node in &mut self.nodes {
            let sec = &mut node.second;
            let queue = match node.kind {
                KindRef::Queue(q) => Some(q),
                KindRef::Gateway(g) => Some(self.gateways[g as usize].queue),
                _ => None,
            };
            let mut cpu_m = 0.0;
            let (level, level_end) = match (node.kind, queue) {
                (_, Some(q)) => {
                    let q = &mut self.queues[q as usize];
                    let area = q.depth.area_at(end);
                    let mean = (area - sec.area_before) as f64 / NS_PER_S as f64;
                    sec.area_before = area;
                    if measured {
                        q.depth_batches.add(mean);
                    }
                    (mean, q.depth.value())
                }
                (KindRef::Service(s), _) => {
                    let s = &mut self.services[s as usize];
                    let area = s.busy.area_at(end);
                    let workers_area = s.workers.area_at(end);
                    let busy = (area - sec.area_before) as f64 / NS_PER_S as f64;
                    let workers = (workers_area - sec.workers_area_before) as f64 / NS_PER_S as f64;
                    sec.area_before = area;
                    sec.workers_area_before = workers_area;
                    let cpu_area = s.cpu_use.area_at(end);
                    cpu_m = (cpu_area - sec.cpu_area_before) as f64 / NS_PER_S as f64;
                    sec.cpu_area_before = cpu_area;
                    if measured && workers > 0.0 {
                        s.util_batches.add(busy / workers);
                    }
                    (busy, s.busy.value())
                }
                (KindRef::Topic(t), _) => {
                    // The lag of all its groups' partitions: the events not yet committed.
                    let (mut mean, mut now) = (0.0, 0);
                    for g in &self.topics[t as usize].groups {
                        for &q in &g.parts {
                            let q = &mut self.queues[q as usize];
                            let area = q.depth.area_at(end);
                            let Some(part) = q.part.as_mut() else { continue };
                            mean += (area - part.area_before) as f64 / NS_PER_S as f64;
                            part.area_before = area;
                            now += q.depth.value() + q.unacked;
                        }
                    }
                    (mean, now)
                }
                _ => (0.0, 0),
            };
            let [p50, p95, p99] = sec.latency.take_percentiles();
            node.series.push(Point {
                t_s: end / NS_PER_S,
                in_per_s: sec.inflow,
                out_per_s: sec.outflow,
                level: level as f32,
                level_end: level_end as u32,
                p50_ms: p50,
                p95_ms: p95,
                p99_ms: p99,
                errors: sec.errors,
                dead_letters: sec.dead_letters,
                dropped: sec.dropped,
                cpu_m: cpu_m as f32,
                retries: sec.retries,
                faults: node.faults_on.max(sec.faults_started),
            });
            let t = &mut node.totals;
            t.inflow += u64::from(sec.inflow);
            t.outflow += u64::from(sec.outflow);
            t.errors += u64::from(sec.errors);
            t.dead_letters += u64::from(sec.dead_letters);
            t.dropped += u64::from(sec.dropped);
            t.retries += u64::from(sec.retries);
            sec.inflow = 0;
            sec.outflow = 0;
            sec.errors = 0;
            sec.dead_letters = 0;
            sec.dropped = 0;
            sec.retries = 0;
            sec.faults_started = 0;
        }
    }
}
