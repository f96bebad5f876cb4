//! `/metrics` in the Prometheus text exposition format: every session's simulated metrics
//! (labels `session`, `node`, `kind`) and the server's own.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use tokio::sync::oneshot;

use crate::session::SessionCmd;
use crate::state::{AppState, ServerStats};

/// One sample: a metric name, its labels and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub name: &'static str,
    pub labels: Vec<(&'static str, String)>,
    pub value: f64,
}

impl Sample {
    pub fn new(name: &'static str, labels: Vec<(&'static str, String)>, value: f64) -> Self {
        Sample { name, labels, value }
    }
}

/// Help text and type of each metric family.
fn describe(name: &str) -> (&'static str, &'static str) {
    match name {
        "edasim_sim_time_seconds" => ("Simulated time of the session.", "gauge"),
        "edasim_messages_produced_total" => ("Messages emitted by the session's producers.", "counter"),
        "edasim_messages_completed_total" => ("Messages completed at leaf services.", "counter"),
        "edasim_messages_dead_lettered_total" => ("Messages dead-lettered.", "counter"),
        "edasim_messages_dropped_total" => ("Messages dropped (overflow, unroutable, rejected, expired).", "counter"),
        "edasim_messages_in_system" => ("Live messages in the system.", "gauge"),
        "edasim_node_messages_in_total" => ("Messages into a node, up to the last whole simulated second.", "counter"),
        "edasim_node_messages_out_total" => {
            ("Messages out of a node, up to the last whole simulated second.", "counter")
        }
        "edasim_node_errors_total" => ("Failed processing attempts or store calls.", "counter"),
        "edasim_node_dead_lettered_total" => ("Messages a queue dead-lettered.", "counter"),
        "edasim_node_dropped_total" => {
            ("Messages dropped at a node (at a gateway: requests answered 429 or 503).", "counter")
        }
        "edasim_queue_depth" => ("Ready messages in a queue.", "gauge"),
        "edasim_queue_unacked" => ("Messages delivered and not yet acknowledged.", "gauge"),
        "edasim_service_busy_workers" => {
            ("Workers processing a message (an unbounded service: messages in flight).", "gauge")
        }
        "edasim_service_cpu_millicores" => {
            ("CPU in use by all replicas, in millicores (services with cpu_ms).", "gauge")
        }
        "edasim_gateway_waiting" => {
            ("Requests a gateway accepted that wait for a worker of the services behind it.", "gauge")
        }
        "edasim_service_workers" => ("Workers up (replicas up times concurrency).", "gauge"),
        "edasim_service_replicas_up" => ("Replicas up.", "gauge"),
        "edasim_node_latency_seconds" => {
            ("Latency over the run, simulated seconds: a queue's wait, a service's processing.", "histogram")
        }
        "edasim_sessions" => ("Live sessions.", "gauge"),
        "edasim_frames_sent_total" => ("Frames sent to clients.", "counter"),
        "edasim_frames_dropped_total" => ("Frames dropped because a client was slow.", "counter"),
        "edasim_ws_messages_received_total" => ("Websocket messages received.", "counter"),
        "edasim_metrics_sessions_skipped_total" => {
            ("Sessions whose samples missed the deadline of a /metrics scrape.", "counter")
        }
        "edasim_commands_refused_total" => ("Client commands refused (bad fields or values).", "counter"),
        "edasim_memory_alarm" => ("1 while the session's memory alarm blocks its producers.", "gauge"),
        "edasim_publishes_blocked_total" => ("Emissions the memory alarm refused.", "counter"),
        "edasim_messages_shed_total" => ("Messages shed by consumers past their deadline.", "counter"),
        "edasim_node_retries_total" => {
            ("Retries made, up to the last whole simulated second (services and clients).", "counter")
        }
        "edasim_node_faults_active" => ("Faults striking the node now.", "gauge"),
        "edasim_breaker_state" => ("A call link's circuit breaker: 0 closed, 1 half-open, 2 open.", "gauge"),
        "edasim_sagas" => ("An orchestrator's sagas by state: in progress now, or ended so far.", "gauge"),
        "edasim_sagas_started_total" => ("Sagas an orchestrator started.", "counter"),
        "edasim_saga_timeouts_total" => ("Saga steps that waited past their timeout.", "counter"),
        "edasim_saga_resends_total" => ("Saga commands and compensations sent again.", "counter"),
        "edasim_saga_replies_ignored_total" => {
            ("Replies an orchestrator was not waiting for (duplicates, late replies).", "counter")
        }
        "edasim_outbox_written_total" => ("Outbox rows written, each in its business change's transaction.", "counter"),
        "edasim_outbox_published_total" => ("Publishes an outbox relay made.", "counter"),
        "edasim_outbox_republished_total" => {
            ("Outbox rows published again because marking them sent failed.", "counter")
        }
        "edasim_outbox_refused_total" => {
            ("Outbox rows refused because the table was full (their events are lost).", "counter")
        }
        "edasim_outbox_pending" => ("Outbox rows waiting for the relay.", "gauge"),
        "edasim_order_per_key_violations_total" => {
            ("Topic events a consumer committed before an earlier event of their key.", "counter")
        }
        "edasim_order_across_keys_inversions_total" => {
            ("Topic events a consumer committed after an event produced later.", "counter")
        }
        "edasim_topic_appended_total" => ("Events appended to a topic's partition.", "counter"),
        "edasim_topic_lag" => ("Events of a partition a consumer group has not committed.", "gauge"),
        "edasim_topic_rebalances_total" => ("Times a consumer group's partitions were assigned again.", "counter"),
        "edasim_topic_redelivered_total" => {
            ("Events processed again because their partition moved while they were in flight.", "counter")
        }
        "edasim_achieved_speed" => ("Simulated seconds per wall second kept over the last second.", "gauge"),
        _ => ("", "untyped"),
    }
}

/// The family a sample belongs to: a histogram's `_bucket`, `_sum` and `_count` series are one
/// family, named without the suffix.
fn family(name: &str) -> &str {
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix)
            && describe(base).1 == "histogram"
        {
            return base;
        }
    }
    name
}

/// Renders samples grouped by family, families in name order, samples in the order given (a
/// histogram's buckets, then its sum and count, per series).
pub fn render(samples: &[Sample]) -> String {
    let mut families: BTreeMap<&str, Vec<&Sample>> = BTreeMap::new();
    for s in samples {
        families.entry(family(s.name)).or_default().push(s);
    }
    let mut out = String::new();
    for (name, samples) in families {
        let (help, kind) = describe(name);
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for s in samples {
            out.push_str(s.name);
            if !s.labels.is_empty() {
                out.push('{');
                for (i, (k, v)) in s.labels.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{k}=\"{}\"", escape(v));
                }
                out.push('}');
            }
            let _ = writeln!(out, " {}", number(s.value));
        }
    }
    out
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else {
        format!("{v}")
    }
}

/// `GET /metrics`.
pub async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    let handles: Vec<_> = app.registry().values().cloned().collect();
    let mut samples = vec![Sample::new("edasim_sessions", vec![], handles.len() as f64)];
    // Every session is asked at once, and all answers are awaited under one deadline: a busy
    // session is skipped (and counted), never waited for one after another.
    let asks = handles.into_iter().map(|h| async move {
        let (tx, rx) = oneshot::channel();
        h.cmd.try_send(SessionCmd::Samples(tx)).ok()?;
        rx.await.ok()
    });
    let deadline = tokio::time::Instant::now() + app.limits.metrics_deadline;
    let answers = futures_util::future::join_all(asks.map(|ask| tokio::time::timeout_at(deadline, ask))).await;
    let mut skipped = 0u64;
    for answer in answers {
        match answer {
            Ok(Some(s)) => samples.extend(s),
            _ => skipped += 1,
        }
    }
    let s = &app.stats;
    ServerStats::add(&s.metrics_skipped, skipped);
    // The server's own counters.
    for (name, counter) in [
        ("edasim_frames_sent_total", &s.frames_sent),
        ("edasim_frames_dropped_total", &s.frames_dropped),
        ("edasim_ws_messages_received_total", &s.messages_received),
        ("edasim_metrics_sessions_skipped_total", &s.metrics_skipped),
        ("edasim_commands_refused_total", &s.commands_refused),
    ] {
        samples.push(Sample::new(name, vec![], counter.load(Ordering::Relaxed) as f64));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], render(&samples))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_are_grouped_and_labels_escaped() {
        let text = render(&[
            Sample::new("edasim_queue_depth", vec![("node", "a\"b".into())], 3.0),
            Sample::new("edasim_sessions", vec![], 1.0),
            Sample::new("edasim_queue_depth", vec![("node", "c".into())], 0.5),
        ]);
        assert_eq!(text.matches("# TYPE edasim_queue_depth gauge").count(), 1);
        assert!(text.contains("edasim_queue_depth{node=\"a\\\"b\"} 3\n"));
        assert!(text.contains("edasim_queue_depth{node=\"c\"} 0.5\n"));
        assert!(text.find("edasim_queue_depth").unwrap() < text.find("edasim_sessions").unwrap());
    }
}
