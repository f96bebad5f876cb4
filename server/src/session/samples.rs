//! A session's Prometheus samples, for `/metrics`: its totals, and per node its flows, queue
//! depths, workers and latency quantiles (labels `session`, `node`, `kind`).

use edasim_sim::engine::{BreakerState, KindRef, SagaState};
use edasim_sim::time::NS_PER_S;

use super::Session;
use crate::prom::Sample;

/// The latency histogram's bucket bounds, in seconds: a millisecond to a minute.
pub const LATENCY_BUCKETS_S: [f64; 16] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 60.0, 300.0];

impl Session {
    pub(super) fn samples(&self) -> Vec<Sample> {
        let mut out = Vec::new();
        let s = self.id.to_string();
        let engine = self.engine();
        let l = engine.ledger();
        let session = |name: &'static str, value: f64| Sample::new(name, vec![("session", s.clone())], value);
        out.push(session("edasim_sim_time_seconds", engine.now() as f64 / NS_PER_S as f64));
        out.push(session("edasim_messages_produced_total", l.produced as f64));
        out.push(session("edasim_messages_completed_total", l.completed as f64));
        out.push(session("edasim_messages_dead_lettered_total", l.dead_lettered as f64));
        out.push(session("edasim_messages_dropped_total", l.dropped.total() as f64));
        out.push(session("edasim_messages_in_system", l.in_system() as f64));
        out.push(session("edasim_memory_alarm", f64::from(u8::from(engine.memory_alarm().on))));
        out.push(session("edasim_publishes_blocked_total", engine.memory_alarm().blocked as f64));
        out.push(session("edasim_achieved_speed", self.pace.achieved));
        out.push(session("edasim_messages_shed_total", l.dropped.shed as f64));
        let mut faults = vec![0u32; engine.node_count()];
        for (n, _, _, _) in engine.active_faults() {
            faults[n] += 1;
        }
        for (i, &active) in faults.iter().enumerate() {
            let kind = engine.node_kind(i);
            let labels = vec![
                ("session", s.clone()),
                ("node", engine.node_id(i).to_string()),
                ("kind", kind.kind().name().to_string()),
            ];
            let node = |name: &'static str, value: f64| Sample::new(name, labels.clone(), value);
            let t = engine.node_totals(i);
            out.push(node("edasim_node_messages_in_total", t.inflow as f64));
            out.push(node("edasim_node_messages_out_total", t.outflow as f64));
            out.push(node("edasim_node_errors_total", t.errors as f64));
            out.push(node("edasim_node_dead_lettered_total", t.dead_letters as f64));
            out.push(node("edasim_node_dropped_total", t.dropped as f64));
            out.push(node("edasim_node_retries_total", t.retries as f64));
            out.push(node("edasim_node_faults_active", f64::from(active)));
            let st = engine.node_state(i);
            match kind {
                KindRef::Queue(_) => {
                    out.push(node("edasim_queue_depth", st.depth as f64));
                    out.push(node("edasim_queue_unacked", st.unacked as f64));
                }
                KindRef::Gateway(_) => out.push(node("edasim_gateway_waiting", st.depth as f64)),
                KindRef::Topic(_) => {
                    let Some(t) = engine.topic_stats(i) else { continue };
                    for (p, n) in t.appended.iter().enumerate() {
                        let mut l = labels.clone();
                        l.push(("partition", p.to_string()));
                        out.push(Sample::new("edasim_topic_appended_total", l, *n as f64));
                    }
                    for g in &t.groups {
                        for (p, lag) in g.lag.iter().enumerate() {
                            let mut l = labels.clone();
                            l.push(("group", g.group.clone()));
                            l.push(("partition", p.to_string()));
                            out.push(Sample::new("edasim_topic_lag", l, *lag as f64));
                        }
                        let mut l = labels.clone();
                        l.push(("group", g.group.clone()));
                        out.push(Sample::new("edasim_topic_rebalances_total", l.clone(), g.rebalances as f64));
                        out.push(Sample::new("edasim_topic_redelivered_total", l, g.redelivered as f64));
                    }
                }
                KindRef::Service(_) => {
                    out.push(node("edasim_service_busy_workers", st.busy as f64));
                    out.push(node("edasim_service_workers", st.workers as f64));
                    out.push(node("edasim_service_replicas_up", f64::from(st.replicas_up)));
                    out.push(node("edasim_service_cpu_millicores", st.cpu_m as f64));
                    for (_, store, state) in engine.breakers().filter(|b| b.0 == i) {
                        let mut l = labels.clone();
                        l.push(("store", engine.node_id(store).to_string()));
                        let value = match state {
                            BreakerState::Closed => 0.0,
                            BreakerState::HalfOpen => 1.0,
                            BreakerState::Open => 2.0,
                        };
                        out.push(Sample::new("edasim_breaker_state", l, value));
                    }
                    if let Some(c) = engine.saga_counts(i) {
                        for state in SagaState::ALL {
                            let mut l = labels.clone();
                            l.push(("state", state.name().to_string()));
                            out.push(Sample::new("edasim_sagas", l, c.in_state(state) as f64));
                        }
                        out.push(node("edasim_sagas_started_total", c.started as f64));
                        out.push(node("edasim_saga_timeouts_total", c.timeouts as f64));
                        out.push(node("edasim_saga_resends_total", c.resent as f64));
                        out.push(node("edasim_saga_replies_ignored_total", c.ignored_replies as f64));
                    }
                    if let Some(o) = engine.outbox_stats(i) {
                        out.push(node("edasim_outbox_written_total", o.written as f64));
                        out.push(node("edasim_outbox_published_total", o.published as f64));
                        out.push(node("edasim_outbox_republished_total", o.republished as f64));
                        out.push(node("edasim_outbox_pending", o.pending as f64));
                        out.push(node("edasim_outbox_refused_total", o.full as f64));
                    }
                    if let Some(o) = engine.order_stats(i) {
                        out.push(node("edasim_order_per_key_violations_total", o.per_key_violations as f64));
                        out.push(node("edasim_order_across_keys_inversions_total", o.across_keys_inversions as f64));
                    }
                }
                _ => {}
            }
            // A histogram over the run (a queue's wait, a service's processing), so that a
            // dashboard computes percentiles over any window and across sessions.
            if let Some(stat) = engine.node_latency(i) {
                let (buckets, count, sum) = stat.cumulative(&LATENCY_BUCKETS_S);
                for (le, n) in LATENCY_BUCKETS_S.iter().zip(buckets) {
                    let mut l = labels.clone();
                    l.push(("le", le.to_string()));
                    out.push(Sample::new("edasim_node_latency_seconds_bucket", l, n as f64));
                }
                let mut l = labels.clone();
                l.push(("le", "+Inf".to_string()));
                out.push(Sample::new("edasim_node_latency_seconds_bucket", l, count as f64));
                out.push(node("edasim_node_latency_seconds_sum", sum));
                out.push(node("edasim_node_latency_seconds_count", count as f64));
            }
        }
        out
    }
}
