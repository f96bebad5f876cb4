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
        }));
    }
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
    let mean = rates.iter().sum::<f64>() / rates.len() as f64;
    println!(
        "{sessions} sessions at {speed}x: frames per second per session min {:.1} median {:.1} mean {mean:.1}; server CPU {:.0}% of one core; RSS {} MiB ({} KiB idle, {:.0} KiB per session)",
        rates[0],
        rates[rates.len() / 2],
        100.0 * (cpu1 - cpu0) / wall,
        rss / 1024,
        rss_idle,
        (rss.saturating_sub(rss_idle)) as f64 / sessions as f64,
    );
    assert!(rates[0] >= 20.0, "every session gets at least 20 frames a second; the slowest got {:.1}", rates[0]);
}
