//! What a session sends its client: frames (what moved and each node's state), the log lines
//! and series points that came with them, its topology and its play state.

use std::collections::VecDeque;
use std::time::Duration;

use edasim_protocol::{
    ActiveFault, Frame, Health, HopOut, Log, LogLine, Metrics, NodeLive, NodePoints, ServerMsg, Totals,
};
use edasim_sim::Engine;
use edasim_sim::engine::{BreakerState, Hop, KindRef};
use edasim_sim::time::{ns_to_ms, ns_to_s};
use edasim_sim::topology::NodeKind;

use super::{FRAME_RATE, HOPS_PER_FRAME, LOG_HISTORY, LOGS_PER_FRAME, LogRecord, Motion, Session, TRACE_HISTORY};
use crate::state::ServerStats;

/// What a frame marks on nodes: the faults striking each, and each service's least closed
/// breaker; worked out once a frame (empty when there is none of either).
#[derive(Default)]
struct Marks {
    faults: Vec<Vec<ActiveFault>>,
    breakers: Vec<Option<BreakerState>>,
}

impl Marks {
    fn of(engine: &Engine) -> Marks {
        let mut marks = Marks::default();
        let now = engine.now();
        for (node, to, kind, until) in engine.active_faults() {
            if marks.faults.is_empty() {
                marks.faults = vec![Vec::new(); engine.node_count()];
            }
            marks.faults[node].push(ActiveFault {
                kind: kind.to_string(),
                to: to.map(|t| engine.node_id(t).to_string()),
                left_s: until.map(|u| ns_to_s(u.saturating_sub(now))),
            });
        }
        // Open beats half-open beats closed.
        let rank = |s: BreakerState| match s {
            BreakerState::Closed => 0,
            BreakerState::HalfOpen => 1,
            BreakerState::Open => 2,
        };
        for (node, _, state) in engine.breakers() {
            if marks.breakers.is_empty() {
                marks.breakers = vec![None; engine.node_count()];
            }
            let slot = &mut marks.breakers[node];
            if slot.is_none_or(|s| rank(state) > rank(s)) {
                *slot = Some(state);
            }
        }
        marks
    }
}

impl Session {
    /// Sends a frame, and with it the log lines and (at most once a wall second, or every
    /// simulated second at low speed) the new series points.
    pub(super) fn send_frame(&mut self, moved: bool) {
        // The buffer is lent out while the engine fills it (both are the session's).
        let mut hops_buf = std::mem::take(&mut self.hops);
        hops_buf.clear();
        let omitted_in_engine = self.engine_mut().take_hops(usize::MAX, &mut hops_buf);
        self.hops = hops_buf;
        let sampled = sample_hops(&self.hops, HOPS_PER_FRAME);
        let hops_omitted = omitted_in_engine + (self.hops.len() - sampled.len()) as u64;
        let hops: Vec<HopOut> = sampled.into_iter().map(|h| self.hop_out(h)).collect();
        for h in &hops {
            if self.traces.len() == TRACE_HISTORY {
                self.traces.pop_front();
            }
            self.traces.push_back(h.clone());
        }
        let engine = self.engine();
        let frame = Frame {
            t_ms: ns_to_ms(engine.now()),
            playing: self.motion == Motion::Playing,
            speed: self.speed,
            hops,
            hops_omitted,
            nodes: {
                let marks = Marks::of(engine);
                (0..engine.node_count()).map(|i| self.node_live(i, &marks)).collect()
            },
            totals: self.totals(),
            links: engine.link_crossings().to_vec(),
            achieved_speed: self.pace.achieved,
        };
        let sent = self.send(ServerMsg::Frame(frame));
        ServerStats::add(if sent { &self.app.stats.frames_sent } else { &self.app.stats.frames_dropped }, 1);
        if moved {
            self.send_logs();
            let low_speed = self.speed <= f64::from(FRAME_RATE);
            if low_speed || self.last_metrics.elapsed() >= Duration::from_secs(1) {
                self.send_metrics();
            }
        }
    }

    fn hop_out(&self, h: &Hop) -> HopOut {
        HopOut {
            msg: h.msg,
            root: h.root,
            link: h.link,
            from: h.from,
            to: h.to,
            event: self.engine().symbol(h.event).to_string(),
            start_ms: ns_to_ms(h.start),
            end_ms: ns_to_ms(h.end),
            dead: h.dead,
            redelivered: h.redelivered,
        }
    }

    fn node_live(&self, i: usize, marks: &Marks) -> NodeLive {
        let engine = self.engine();
        let st = engine.node_state(i);
        let last = engine.series(i).last().copied().unwrap_or_default();
        let mut health = if last.errors > 0 || last.dead_letters > 0 { Health::Warning } else { Health::Ok };
        if last.dropped > 0 {
            health = Health::Error;
        }
        let blocked = matches!(engine.node_kind(i), KindRef::Producer(_)) && engine.memory_alarm().on;
        match &self.model.topology().nodes[i].kind {
            NodeKind::Service(_) if st.replicas_up == 0 && st.replicas > 0 => health = Health::Error,
            NodeKind::Service(_) if st.replicas_up < st.replicas && health == Health::Ok => health = Health::Warning,
            NodeKind::Queue(q) if q.max_length.is_some_and(|m| st.depth * 2 > m) && health == Health::Ok => {
                health = Health::Warning
            }
            NodeKind::Producer(_) if blocked => health = Health::Error,
            _ => {}
        }
        let faults = marks.faults.get(i).cloned().unwrap_or_default();
        let breaker = marks.breakers.get(i).copied().flatten();
        if !faults.is_empty() && health == Health::Ok {
            health = Health::Warning;
        }
        NodeLive {
            id: engine.node_id(i).to_string(),
            depth: st.depth,
            unacked: st.unacked,
            busy: st.busy,
            workers: st.workers,
            replicas_up: st.replicas_up,
            replicas: st.replicas,
            health,
            blocked,
            faults,
            breaker,
            sagas: engine.saga_counts(i),
            outbox: engine.outbox_stats(i),
        }
    }

    fn totals(&self) -> Totals {
        let engine = self.engine();
        let l = engine.ledger();
        let alarm = engine.memory_alarm();
        Totals {
            produced: l.produced,
            completed: l.completed,
            dead_lettered: l.dead_lettered,
            dropped: l.dropped.total(),
            in_system: l.in_system(),
            duplicates_skipped: l.duplicates_skipped,
            blocked: alarm.blocked,
            memory_alarm: alarm.on,
            watermark: alarm.watermark,
        }
    }

    fn send_logs(&mut self) {
        let mut logs = std::mem::take(&mut self.logs);
        logs.clear();
        let omitted = self.engine_mut().take_logs(LOGS_PER_FRAME, &mut logs);
        self.logs = logs;
        if self.logs.is_empty() && omitted == 0 {
            return;
        }
        let engine = self.engine();
        let entries: Vec<LogLine> = self
            .logs
            .iter()
            .map(|e| LogLine {
                t_ms: ns_to_ms(e.time),
                level: e.level,
                kind: e.kind,
                node: engine.node_id(e.node as usize).to_string(),
                msg: e.msg,
                root: e.root,
                event: engine.symbol(e.event).to_string(),
                count: u64::from(e.count),
            })
            .collect();
        {
            let mut history = self.shared.log.lock().unwrap_or_else(|e| e.into_inner());
            for line in &entries {
                if history.len() == LOG_HISTORY {
                    history.pop_front();
                }
                history.push_back(LogRecord { t_ms: line.t_ms, line: line.clone() });
            }
        }
        self.send(ServerMsg::Log(Log { entries, omitted }));
    }

    fn send_metrics(&mut self) {
        let n = self.engine().node_count();
        self.sent_until.resize(n, 0);
        let mut nodes = Vec::new();
        for i in 0..n {
            let from = self.sent_until[i];
            let engine = self.engine();
            let points: Vec<_> = engine.series(i).iter().filter(|p| p.t_s > from).copied().collect();
            if let Some(last) = points.last() {
                let (t_s, node) = (last.t_s, engine.node_id(i).to_string());
                self.sent_until[i] = t_s;
                nodes.push(NodePoints { node, points });
            }
        }
        if !nodes.is_empty() {
            self.last_metrics = std::time::Instant::now();
            let t_ms = ns_to_ms(self.engine().now());
            self.send(ServerMsg::Metrics(Metrics { t_ms, nodes }));
        }
    }

    pub(super) fn send_loaded(&mut self) {
        let topology = serde_json::to_value(self.model.topology()).unwrap_or_default();
        let warnings = self.model.warnings().to_vec();
        self.send(ServerMsg::Loaded { topology, warnings, seed: self.seed });
    }

    pub(super) fn send_state(&mut self) {
        let t_ms = ns_to_ms(self.engine().now());
        self.send(ServerMsg::State { playing: self.motion == Motion::Playing, speed: self.speed, t_ms });
    }

    /// Queues a message for the owner and every watcher without waiting, serialised once;
    /// `false` if the owner is not there or its queue is full (a slow client loses frames,
    /// never slows the simulation). A watcher whose connection closed is let go.
    pub(super) fn send(&mut self, msg: ServerMsg) -> bool {
        let Some(text) = serialise(&msg) else { return false };
        if !self.watchers.is_empty() {
            self.watchers.retain(|(_, w)| !w.is_closed());
            for (_, w) in &self.watchers {
                let _ = w.try_send(text.clone());
            }
        }
        self.out.as_ref().is_some_and(|(_, out)| out.try_send(text).is_ok())
    }

    /// Queues a message for the owner alone (a reply to its command).
    pub(super) fn reply(&mut self, msg: ServerMsg) -> bool {
        let Some((_, out)) = &self.out else { return false };
        serialise(&msg).is_some_and(|text| out.try_send(text).is_ok())
    }

    /// Every point of every node's series, for a connection that has seen none.
    pub(super) fn metrics_all(&self) -> ServerMsg {
        let engine = self.engine();
        let nodes = (0..engine.node_count())
            .map(|i| NodePoints {
                node: engine.node_id(i).to_string(),
                points: engine.series(i).iter().copied().collect(),
            })
            .collect();
        ServerMsg::Metrics(Metrics { t_ms: ns_to_ms(engine.now()), nodes })
    }
}

/// At most `max` hops, spread over the links: each link in turn gives its next hop, so a busy
/// link does not crowd the quiet ones out of the picture.
pub fn sample_hops(hops: &[Hop], max: usize) -> Vec<&Hop> {
    if hops.len() <= max {
        return hops.iter().collect();
    }
    let mut by_link: std::collections::BTreeMap<u32, VecDeque<&Hop>> = std::collections::BTreeMap::new();
    for h in hops {
        by_link.entry(h.link).or_default().push_back(h);
    }
    let mut out = Vec::with_capacity(max);
    while out.len() < max {
        for q in by_link.values_mut() {
            if let Some(h) = q.pop_front() {
                out.push(h);
                if out.len() == max {
                    break;
                }
            }
        }
    }
    out.sort_by_key(|h| (h.start, h.msg));
    out
}

fn serialise(msg: &ServerMsg) -> Option<axum::extract::ws::Utf8Bytes> {
    match serde_json::to_string(msg) {
        Ok(text) => Some(text.into()),
        Err(e) => {
            tracing::error!("cannot serialise a server message: {e}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edasim_sim::time::NS_PER_MS;

    fn hop(link: u32, msg: u64) -> Hop {
        Hop {
            msg,
            root: msg,
            link,
            from: 0,
            to: 1,
            event: 0,
            start: msg * NS_PER_MS,
            end: msg * NS_PER_MS,
            dead: false,
            redelivered: false,
        }
    }

    #[test]
    fn sampling_spreads_over_links() {
        let mut hops: Vec<Hop> = (0..1000).map(|i| hop(0, i)).collect();
        hops.extend((1000..1010).map(|i| hop(1, i)));
        hops.extend((2000..2003).map(|i| hop(2, i)));
        let s = sample_hops(&hops, 100);
        assert_eq!(s.len(), 100);
        assert_eq!(s.iter().filter(|h| h.link == 1).count(), 10, "every quiet link's hops are kept");
        assert_eq!(s.iter().filter(|h| h.link == 2).count(), 3);
        assert!(s.windows(2).all(|w| w[0].start <= w[1].start), "in time order");
        assert_eq!(sample_hops(&hops[..5], 100).len(), 5);
    }
}
