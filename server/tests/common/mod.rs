//! Helpers shared by the tests that run `edasim serve` as a separate process.
// Each test binary uses its own part of these helpers.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process, killed when dropped (a failed assertion must not leave servers running).
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A child process started as the leader of its own process group (chromedriver), killed with
/// its whole group when dropped: a failed test must not leave a headless browser burning CPU.
pub struct Group(pub Child);

impl Drop for Group {
    fn drop(&mut self) {
        // Bash's own `kill`, with `--` before the negative id: procps-ng 4.0.2's kill takes
        // `kill -KILL -PGID` for `kill -KILL -1` and kills every process it may.
        let pgid = self.0.id();
        let _ = Command::new("bash").args(["-c", &format!("kill -s KILL -- -{pgid}")]).stderr(Stdio::null()).status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits until something listens on `port` (at most 20 s).
pub async fn wait_listening(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "{what} listens on {port} within 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// (user + system CPU seconds, resident memory in KiB) of a process.
pub fn usage(pid: u32) -> (f64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, r)| r.split_whitespace().collect()).unwrap_or_default();
    let ticks: f64 = fields.get(11).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse().ok())
        .unwrap_or(0);
    (ticks / 100.0, rss)
}

/// Starts `edasim serve` on a free port, serving no app; returns the process and the port.
pub async fn serve() -> (Proc, u16) {
    let port = free_port();
    let server = Proc(
        std::process::Command::new(env!("CARGO_BIN_EXE_edasim"))
            .args(["serve", "--port", &port.to_string(), "--dist", "/nonexistent-dist"])
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("edasim serve starts"),
    );
    wait_listening(port, "edasim serve").await;
    (server, port)
}

/// A plain HTTP/1.1 GET on loopback: (status, body, time to the whole answer).
pub async fn get(port: u16, path: &str) -> (u16, String, Duration) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let start = Instant::now();
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connects");
    let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("sends");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.expect("reads");
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body, start.elapsed())
}

/// Reads and drops what a websocket has buffered (frames sent while the test slept), so that a
/// frame rate measured next counts only frames sent during the measurement.
pub async fn drain<S>(ws: &mut S)
where
    S: futures_util::Stream + Unpin,
{
    use futures_util::StreamExt;
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(20), ws.next()).await {}
}

/// A websocket to a test server.
pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a session's websocket on the server at `port`.
pub async fn connect(port: u16) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws")).await.expect("connects");
    ws
}

/// Sends a command.
pub async fn send(ws: &mut Ws, v: serde_json::Value) {
    use futures_util::SinkExt;
    ws.send(tokio_tungstenite::tungstenite::Message::Text(v.to_string().into())).await.expect("sends");
}
