//! No tab stalls the server: while two sessions play a 50,000 events a second topology at
//! 1000x and a third steps an hour at once, `/healthz` answers with a p99 under 100 ms,
//! `/metrics` within 2 s, and a fourth session playing the order pipeline at 10x keeps at
//! least 25 frames a second. The heavy sessions say how far behind their speed they are.
//!
//! Against the real `edasim serve` process on loopback:
//! `cargo test -p edasim-server --test stall -- --ignored --nocapture` (CI runs it).

mod common;

use std::time::{Duration, Instant};

use common::{Ws, connect, drain, get, send, serve};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// A producer at the live limit (50,000 events a second) feeding a chain of five queues and
/// services: far more than a core can simulate at 1000x.
fn heavy() -> Value {
    let mut nodes = vec![json!({"id": "firehose", "kind": "producer", "rate_per_s": 50000})];
    let mut links = vec![];
    let mut from = "firehose".to_string();
    for i in 0..5 {
        nodes.push(json!({"id": format!("q{i}"), "kind": "queue"}));
        nodes.push(json!({"id": format!("s{i}"), "kind": "service", "concurrency": 200,
            "processing": {"dist": "exponential", "mean_ms": 2}}));
        links.push(json!({"from": from, "to": format!("q{i}")}));
        links.push(json!({"from": format!("q{i}"), "to": format!("s{i}")}));
        from = format!("s{i}");
    }
    json!({"version": 1, "name": "heavy", "seed": 1, "nodes": nodes, "links": links})
}

/// Reads frames for `dur`: (frames per second, the last frame's achieved speed and clock).
async fn watch(ws: &mut Ws, dur: Duration) -> (f64, f64, f64) {
    let start = Instant::now();
    let (mut frames, mut achieved, mut t_ms) = (0u64, 0.0, 0.0);
    while start.elapsed() < dur {
        let Ok(Some(Ok(Message::Text(t)))) = tokio::time::timeout(Duration::from_millis(500), ws.next()).await else {
            continue;
        };
        if t.starts_with(r#"{"type":"frame""#) {
            frames += 1;
            let v: Value = serde_json::from_str(&t).unwrap_or_default();
            achieved = v["achieved_speed"].as_f64().unwrap_or(0.0);
            t_ms = v["t_ms"].as_f64().unwrap_or(0.0);
        }
    }
    (frames as f64 / dur.as_secs_f64(), achieved, t_ms)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "process-level stall test: run with --ignored (CI runs it)"]
async fn heavy_sessions_do_not_stall_the_server() {
    let (_server, port) = serve().await;
    let measure = Duration::from_secs(8);

    // Two heavy sessions at 1000x, and one stepping an hour of the same.
    let mut heavy_sessions = Vec::new();
    for step in [false, false, true] {
        let mut ws = connect(port).await;
        send(&mut ws, json!({"type": "load_topology", "topology": heavy()})).await;
        if step {
            send(&mut ws, json!({"type": "step", "ms": 3_600_000})).await;
        } else {
            send(&mut ws, json!({"type": "set_speed", "speed": 1000})).await;
            send(&mut ws, json!({"type": "play"})).await;
        }
        heavy_sessions.push(tokio::spawn(async move { watch(&mut ws, measure + Duration::from_secs(1)).await }));
    }
    // The fourth: the order pipeline at 10x, as a student would watch it.
    let light = tokio::spawn(async move {
        let mut ws = connect(port).await;
        send(&mut ws, json!({"type": "set_speed", "speed": 10})).await;
        send(&mut ws, json!({"type": "play"})).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        drain(&mut ws).await;
        watch(&mut ws, measure).await
    });

    // Meanwhile, /healthz every 50 ms and /metrics every second.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let start = Instant::now();
    let mut health = Vec::new();
    let mut metrics = Vec::new();
    let mut next_metrics = Instant::now();
    while start.elapsed() < measure {
        let (status, body, took) = get(port, "/healthz").await;
        assert_eq!(status, 200, "{body}");
        health.push(took);
        if Instant::now() >= next_metrics {
            let (status, body, took) = get(port, "/metrics").await;
            assert_eq!(status, 200);
            assert!(body.contains("edasim_achieved_speed"), "every session answered or was skipped");
            metrics.push(took);
            next_metrics = Instant::now() + Duration::from_secs(1);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    health.sort();
    let (p50, p99, max) = (percentile(&health, 0.5), percentile(&health, 0.99), health[health.len() - 1]);
    let metrics_max = metrics.iter().max().copied().unwrap_or_default();
    let (light_fps, light_speed, _) = light.await.expect("light session");
    let mut heavy_out = Vec::new();
    for h in heavy_sessions {
        heavy_out.push(h.await.expect("heavy session"));
    }
    println!(
        "healthz over {} requests: p50 {p50:?} p99 {p99:?} max {max:?}; /metrics max {metrics_max:?} over {} scrapes; \
         order pipeline at 10x: {light_fps:.1} frames/s, achieved {light_speed:.1}x; heavy sessions (fps, achieved speed, clock ms): {heavy_out:?}",
        health.len(),
        metrics.len()
    );
    assert!(p99 < Duration::from_millis(100), "healthz p99 {p99:?}");
    assert!(metrics_max < Duration::from_secs(2), "/metrics took {metrics_max:?}");
    assert!(light_fps >= 25.0, "the order pipeline kept {light_fps:.1} frames a second");
    assert!((light_speed - 10.0).abs() < 1.0, "the light session keeps its 10x: {light_speed}");
    for (fps, achieved, _) in &heavy_out[..2] {
        assert!(*fps >= 10.0, "a heavy session still gets frames: {fps}");
        assert!(*achieved > 0.0 && *achieved < 1000.0, "a heavy session says it lags: {achieved}x of 1000x");
    }
    let (_, _, stepped_ms) = heavy_out[2];
    assert!(stepped_ms > 0.0 && stepped_ms < 3_600_000.0, "the hour-long step goes on in slices: at {stepped_ms} ms");
}
