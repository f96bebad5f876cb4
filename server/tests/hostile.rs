//! No tab can kill the server. Against the real `edasim serve` process on loopback:
//! - a tab loads a producer publishing 49,999 messages a second into a queue its consumer cannot
//!   drain, and steps an hour: the broker's memory
//!   alarm blocks the producers, the tab is told, the server stays under 1.5 GB and another
//!   session keeps its frame rate;
//! - thousands of random and hostile commands (huge rates, hour-long steps, deep JSON, wrong
//!   types, unknown nodes, oversized and binary messages) from several tabs at once: the
//!   server stays up, answers, and its memory stays bounded.
//!
//! `cargo test -p edasim-server --test hostile -- --ignored --nocapture` (CI runs it).

mod common;

use std::time::{Duration, Instant};

use common::{connect, drain, get, send, serve, usage};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const GB: u64 = 1024 * 1024; // in KiB, as /proc reports

/// Samples the server's resident memory every 100 ms until `stop`; returns the peak in KiB.
fn watch_memory(pid: u32, stop: std::sync::Arc<std::sync::atomic::AtomicBool>) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        let mut peak = 0;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            peak = peak.max(usage(pid).1);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        peak
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "process-level test: run with --ignored (CI runs it)"]
async fn an_overloaded_tab_is_blocked_and_told_and_the_server_stays_up() {
    let (server, port) = serve().await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let memory = watch_memory(server.0.id(), stop.clone());

    let other = tokio::spawn(async move {
        let mut ws = connect(port).await;
        send(&mut ws, json!({"type": "set_speed", "speed": 10})).await;
        send(&mut ws, json!({"type": "play"})).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        drain(&mut ws).await;
        let start = Instant::now();
        let mut frames = 0;
        while start.elapsed() < Duration::from_secs(6) {
            if let Ok(Some(Ok(Message::Text(t)))) = tokio::time::timeout(Duration::from_millis(500), ws.next()).await
                && t.starts_with(r#"{"type":"frame""#)
            {
                frames += 1;
            }
        }
        frames as f64 / 6.0
    });

    // A producer publishing straight into a queue its slow consumer cannot drain (the order
    // pipeline's clients go through a gateway, which answers 503 instead of blocking them).
    let mut ws = connect(port).await;
    let flood = json!({"version": 1, "name": "flood", "nodes": [
        {"id": "flood", "kind": "producer", "rate_per_s": 100},
        {"id": "backlog", "kind": "queue"},
        {"id": "slow", "kind": "service", "processing": 1000}],
        "links": [{"from": "flood", "to": "backlog"}, {"from": "backlog", "to": "slow"}]});
    send(&mut ws, json!({"type": "load_topology", "topology": flood})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rate = json!({"type": "set_param", "node": "flood", "change": {"param": "rate_per_s", "value": 49999}});
    send(&mut ws, rate).await;
    send(&mut ws, json!({"type": "step", "ms": 3_600_000})).await;
    let start = Instant::now();
    let (mut alarm_frame, mut alarm_log, mut blocked) = (false, false, 0u64);
    while start.elapsed() < Duration::from_secs(10) && !(alarm_frame && alarm_log) {
        let Ok(Some(Ok(Message::Text(t)))) = tokio::time::timeout(Duration::from_millis(500), ws.next()).await else {
            continue;
        };
        let v: Value = serde_json::from_str(&t).unwrap_or_default();
        match v["type"].as_str() {
            Some("frame") if v["totals"]["memory_alarm"] == json!(true) => {
                alarm_frame = true;
                blocked = v["totals"]["blocked"].as_u64().unwrap_or(0);
                let api = v["nodes"].as_array().and_then(|n| n.iter().find(|n| n["id"] == "flood")).cloned();
                assert_eq!(api.map(|a| a["blocked"].clone()), Some(json!(true)), "the producer is drawn blocked");
            }
            Some("log") => {
                alarm_log |= v["entries"].as_array().is_some_and(|e| e.iter().any(|l| l["kind"] == "memory_alarm"));
            }
            _ => {}
        }
    }
    let fps = other.await.expect("the other session");
    let (status, _, took) = get(port, "/healthz").await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak = memory.await.unwrap();
    println!(
        "memory alarm in a frame: {alarm_frame}, in the log: {alarm_log}, {blocked} publishes blocked; peak RSS {} MiB; the other session kept {fps:.1} frames/s; healthz {took:?}",
        peak / 1024
    );
    assert!(alarm_frame && alarm_log, "the tab is told of the memory alarm");
    assert!(blocked > 0);
    assert!(peak < 3 * GB / 2, "peak RSS {} MiB", peak / 1024);
    assert!(fps >= 25.0, "the other session kept {fps:.1} frames a second");
    assert_eq!(status, 200);
}

/// A small deterministic generator (xorshift), so that a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize].clone()
    }
}

/// One random or hostile message.
fn hostile(rng: &mut Rng) -> Message {
    let nodes = ["order_api", "shipping_queue", "payment_processing", "redis", "amq.default", "nope", ""];
    let numbers = [
        json!(49999),
        json!(1e12),
        json!(-1),
        json!(0),
        json!(1e308),
        json!(3_600_000),
        json!(1000),
        json!(0.5),
        json!("fast"),
        json!(null),
        json!([1, 2]),
        json!({"a": 1}),
        json!(u64::MAX),
    ];
    let params =
        ["rate_per_s", "replicas", "concurrency", "failure_rate", "max_length", "message_ttl_ms", "processing", "warp"];
    let deep = |n: usize| "[".repeat(n) + &"]".repeat(n);
    let faults = ["crash", "latency", "error_rate", "store_down", "pause_consumers", "burst", "poison", "meteor"];
    let text = match rng.next() % 17 {
        0 => json!({"type": "set_param", "node": rng.pick(&nodes), "change": {"param": rng.pick(&params), "value": rng.pick(&numbers)}}).to_string(),
        1 => json!({"type": "step", "ms": rng.pick(&numbers)}).to_string(),
        2 => json!({"type": "set_speed", "speed": rng.pick(&numbers)}).to_string(),
        3 => json!({"type": rng.pick(&["play", "pause", "reset", "step"])}).to_string(),
        4 => json!({"type": "set_seed", "seed": rng.pick(&numbers)}).to_string(),
        5 => json!({"type": "inject_fault", "node": rng.pick(&nodes), "fault": {"kind": "crash_replica", "replica": rng.pick(&numbers)}}).to_string(),
        6 => json!({"type": "trace", "msg": rng.pick(&numbers)}).to_string(),
        7 => json!({"type": "load_scenario", "name": rng.pick(&["order-pipeline", "../../etc/passwd", ""])}).to_string(),
        8 => format!(r#"{{"type": "load_topology", "topology": {}}}"#, deep(100_000)),
        9 => deep(200_000),
        10 => {
            // A valid topology at the live limits: 500 nodes, 50,000 events a second.
            let mut nodes = vec![json!({"id": "p", "kind": "producer", "rate_per_s": 50000})];
            let mut links = vec![];
            for i in 0..249 {
                nodes.push(json!({"id": format!("q{i}"), "kind": "queue", "message_ttl_ms": 1}));
                nodes.push(json!({"id": format!("s{i}"), "kind": "service", "processing": 1000}));
                links.push(json!({"from": "p", "to": format!("q{i}")}));
                links.push(json!({"from": format!("q{i}"), "to": format!("s{i}")}));
            }
            json!({"type": "load_topology", "topology": {"version": 1, "name": "big", "nodes": nodes, "links": links}})
                .to_string()
        }
        11 => "x".repeat(3 * 1024 * 1024),
        12 => return Message::Binary(vec![0xff, 0xfe, 0x00, 0x80].into()),
        13 => "{\"type\": \"play\"".to_string(),
        14 => json!({"type": "load_topology", "topology": {"version": 1, "nodes": "many"}}).to_string(),
        15 => {
            // A fault of any kind, with at most one of the fields some kinds read.
            let mut fault = json!({"kind": rng.pick(&faults)});
            let field = rng.pick(&["factor", "rate", "replicas", "add_ms", "hang", "none"]);
            if field != "none" {
                fault[field] = rng.pick(&numbers);
            }
            json!({"type": "start_fault", "node": rng.pick(&nodes), "for_s": rng.pick(&numbers), "fault": fault}).to_string()
        }
        _ => json!({"type": rng.pick(&["fly", "PLAY", "set_param"]), "extra": rng.pick(&numbers)}).to_string(),
    };
    Message::Text(text.into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "process-level fuzz test: run with --ignored (CI runs it)"]
async fn thousands_of_hostile_commands_leave_the_server_up_and_bounded() {
    let (server, port) = serve().await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let memory = watch_memory(server.0.id(), stop.clone());
    let tabs = 8;
    let per_tab = 400;
    let mut clients = Vec::new();
    for tab in 0..tabs {
        clients.push(tokio::spawn(async move {
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (tab as u64 + 1));
            let mut ws = connect(port).await;
            let mut replies = 0u64;
            for _ in 0..per_tab {
                if ws.send(hostile(&mut rng)).await.is_err() {
                    break;
                }
                // Read whatever came back without waiting for it.
                while let Ok(Some(Ok(_))) = tokio::time::timeout(Duration::from_millis(1), ws.next()).await {
                    replies += 1;
                }
            }
            // The connection still answers a plain command.
            send(&mut ws, json!({"type": "pause"})).await;
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut answered = false;
            while Instant::now() < deadline && !answered {
                if let Ok(Some(Ok(Message::Text(t)))) =
                    tokio::time::timeout(Duration::from_millis(500), ws.next()).await
                {
                    replies += 1;
                    answered = t.starts_with(r#"{"type":"state""#);
                }
            }
            (answered, replies)
        }));
    }
    let mut outcomes = Vec::new();
    for c in clients {
        outcomes.push(c.await.expect("a tab"));
    }
    let (status, body, took) = get(port, "/healthz").await;
    let (mstatus, _, mtook) = get(port, "/metrics").await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak = memory.await.unwrap();
    println!(
        "{} hostile commands from {tabs} tabs: {outcomes:?}; peak RSS {} MiB; healthz {status} in {took:?}; /metrics {mstatus} in {mtook:?}",
        tabs * per_tab,
        peak / 1024
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(mstatus, 200);
    assert!(outcomes.iter().all(|(answered, _)| *answered), "every tab still answered: {outcomes:?}");
    assert!(peak < 3 * GB / 2, "peak RSS {} MiB", peak / 1024);
}
