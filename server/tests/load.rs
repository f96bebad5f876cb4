//! Load: many sessions playing the order pipeline at once against the real `edasim serve`
//! process, each of which must keep receiving at least 20 frames a second. Prints the frame
//! rates and the server's CPU and memory per session.
//!
//! `EDASIM_LOAD_SESSIONS=100 EDASIM_LOAD_SPEED=10 cargo test --release -p edasim-server --test load -- --ignored --nocapture`
//! (CI runs it with 10 sessions).

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Proc, free_port, usage, wait_listening};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

/// Frames a second a websocket receives over `measure`, after `warmup` (counted by the message's
/// opening bytes: the client must not be the bottleneck).
async fn frame_rate(ws: &mut common::Ws, warmup: Duration, measure: Duration) -> f64 {
    let start = Instant::now();
    let mut frames = 0u64;
    while let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
        let elapsed = start.elapsed();
        if elapsed > warmup + measure {
            break;
        }
        if let Message::Text(t) = msg
            && elapsed > warmup
            && t.starts_with(r#"{"type":"frame""#)
        {
            frames += 1;
        }
    }
    frames as f64 / measure.as_secs_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load test: run with --ignored (CI runs it with a small count)"]
async fn sessions_keep_their_frame_rate() {
    let sessions: usize = std::env::var("EDASIM_LOAD_SESSIONS").ok().and_then(|n| n.parse().ok()).unwrap_or(100);
    let seconds: u64 = std::env::var("EDASIM_LOAD_SECONDS").ok().and_then(|n| n.parse().ok()).unwrap_or(10);
    let speed: f64 = std::env::var("EDASIM_LOAD_SPEED").ok().and_then(|n| n.parse().ok()).unwrap_or(10.0);
    let port = free_port();
    let server = Proc(
        Command::new(env!("CARGO_BIN_EXE_edasim"))
            .args(["serve", "--port", &port.to_string(), "--dist", "/nonexistent-dist"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("edasim serve starts"),
    );
    let pid = server.0.id();
    wait_listening(port, "edasim serve").await;
    let (_, rss_idle) = usage(pid);

    // Each client plays the order pipeline (at 10x by default) and counts the frames it receives (by the
    // message's opening bytes: the client must not be the bottleneck).
    let measure = Duration::from_secs(seconds);
    let warmup = Duration::from_secs(2);
    let mut clients = Vec::new();
    for _ in 0..sessions {
        let url = format!("ws://127.0.0.1:{port}/ws");
        clients.push(tokio::spawn(async move {
            let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("connects");
            let set_speed = format!(r#"{{"type":"set_speed","speed":{speed}}}"#);
            for cmd in [set_speed.as_str(), r#"{"type":"play"}"#] {
                ws.send(Message::Text(cmd.into())).await.unwrap();
            }
            frame_rate(&mut ws, warmup, measure).await
        }));
    }
    let (rates, cpu, rss) = measured(pid, clients, warmup, measure).await;
    let mean = rates.iter().sum::<f64>() / rates.len() as f64;
    println!(
        "{sessions} sessions at {speed}x: frames per second per session min {:.1} median {:.1} mean {mean:.1}; server CPU {cpu:.0}% of one core; RSS {} MiB ({} KiB idle, {:.0} KiB per session)",
        rates[0],
        rates[rates.len() / 2],
        rss / 1024,
        rss_idle,
        (rss.saturating_sub(rss_idle)) as f64 / sessions as f64,
    );
    assert!(rates[0] >= 20.0, "every session gets at least 20 frames a second; the slowest got {:.1}", rates[0]);
}

/// Waits out the clients' warm-up, measures the server's CPU (percent of one core) and memory
/// over `measure`, and collects each client's frame rate, slowest first.
async fn measured(
    pid: u32,
    clients: Vec<tokio::task::JoinHandle<f64>>,
    warmup: Duration,
    measure: Duration,
) -> (Vec<f64>, f64, u64) {
    tokio::time::sleep(warmup).await;
    let (cpu0, _) = usage(pid);
    let t0 = Instant::now();
    tokio::time::sleep(measure).await;
    let (cpu1, rss) = usage(pid);
    let wall = t0.elapsed().as_secs_f64();
    let mut rates = Vec::new();
    for c in clients {
        rates.push(c.await.unwrap());
    }
    rates.sort_by(f64::total_cmp);
    (rates, 100.0 * (cpu1 - cpu0) / wall, rss)
}

/// A classroom: one session playing the order pipeline at 100x, watched by 60 clients over
/// loopback (`EDASIM_WATCHERS`), each of which must receive at least 25 frames a second. Frames
/// are serialised once and shared by every watcher. Prints the server's CPU and memory per watcher.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load test: run with --ignored (CI runs it)"]
async fn a_classroom_of_sixty_keeps_its_frame_rate() {
    let watchers: usize = std::env::var("EDASIM_WATCHERS").ok().and_then(|n| n.parse().ok()).unwrap_or(60);
    let seconds: u64 = std::env::var("EDASIM_LOAD_SECONDS").ok().and_then(|n| n.parse().ok()).unwrap_or(5);
    let (server, port) = common::serve().await;
    let pid = server.0.id();
    let mut teacher = common::connect(port).await;
    common::send(&mut teacher, serde_json::json!({"type": "open_classroom"})).await;
    let code = loop {
        let Ok(Some(Ok(Message::Text(t)))) = tokio::time::timeout(Duration::from_secs(5), teacher.next()).await else {
            panic!("no classroom code");
        };
        let v: serde_json::Value = serde_json::from_str(&t).unwrap();
        if v["type"] == "classroom" {
            break v["code"].as_str().unwrap().to_string();
        }
    };
    let (_, rss_idle) = usage(pid);
    common::send(&mut teacher, serde_json::json!({"type": "set_speed", "speed": 100})).await;
    common::send(&mut teacher, serde_json::json!({"type": "play"})).await;
    // The teacher's tab keeps reading (a tab that stops reading loses frames, not the class).
    let teacher_reader = tokio::spawn(async move {
        while let Ok(Some(_)) = tokio::time::timeout(Duration::from_secs(30), teacher.next()).await {}
    });
    let measure = Duration::from_secs(seconds);
    let warmup = Duration::from_secs(2);
    let mut clients = Vec::new();
    for _ in 0..watchers {
        let url = format!("ws://127.0.0.1:{port}/ws?watch={code}");
        clients.push(tokio::spawn(async move {
            let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("a watcher connects");
            frame_rate(&mut ws, warmup, measure).await
        }));
    }
    let (rates, cpu, rss) = measured(pid, clients, warmup, measure).await;
    println!(
        "a classroom at 100x watched by {watchers}: frames per second per watcher min {:.1} median {:.1}; server CPU {cpu:.0}% of one core ({:.2}% per watcher); RSS {} MiB ({:.0} KiB per watcher)",
        rates[0],
        rates[rates.len() / 2],
        cpu / watchers as f64,
        rss / 1024,
        (rss.saturating_sub(rss_idle)) as f64 / watchers as f64,
    );
    teacher_reader.abort();
    assert!(rates[0] >= 25.0, "every watcher gets at least 25 frames a second; the slowest got {:.1}", rates[0]);
}
