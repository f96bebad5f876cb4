//! The browser app as a user sees it: the real `edasim serve` serving the Trunk-built `dist/`,
//! driven in headless Chromium through chromedriver (both from Debian, installed by
//! `scripts/test.sh`, which builds `dist/` first and runs these with `--ignored`).
//! The run also takes the README's screenshot, `docs/screenshot.png`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn wait_listening(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "{what} listens on {port} within 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The server (on the built app) and a browser session on it.
async fn start() -> (Proc, Proc, Client, String) {
    let dist = root().join("dist");
    assert!(
        dist.join("index.html").is_file(),
        "{} is not built: run `trunk build` (scripts/test.sh does)",
        dist.display()
    );
    let port = free_port();
    let server = Proc(
        Command::new(env!("CARGO_BIN_EXE_edasim"))
            .args(["serve", "--port", &port.to_string(), "--dist"])
            .arg(&dist)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("edasim serve starts"),
    );
    let driver_port = free_port();
    let driver = Proc(
        Command::new("chromedriver")
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (Debian's chromium-driver; scripts/test.sh installs it)"),
    );
    wait_listening(port, "edasim serve").await;
    wait_listening(driver_port, "chromedriver").await;
    let profile = tempfile::tempdir().unwrap().keep();
    let caps = json!({"goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--window-size=1280,800", format!("--user-data-dir={}", profile.display())
    ]}});
    let caps = match caps {
        serde_json::Value::Object(m) => m,
        _ => unreachable!(),
    };
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("a browser session");
    (server, driver, client, format!("http://127.0.0.1:{port}/"))
}

async fn text(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).text().await.unwrap()
}

async fn number(c: &Client, css: &str) -> u64 {
    text(c, css).await.trim().parse().unwrap_or(0)
}

/// Waits until `f` holds, for at most 15 s.
async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    while !f().await {
        assert!(Instant::now() < deadline, "{what}: not within 15 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "browser test: needs chromium, chromedriver and dist/ (scripts/test.sh provides them and runs it)"]
async fn opens_on_the_order_pipeline_and_plays() {
    let (_server, _driver, c, url) = start().await;
    c.goto(&url).await.unwrap();

    // The order pipeline is drawn: its fifteen nodes, its dead-letter links dashed.
    eventually("the graph is drawn", || async {
        c.find_all(Locator::Css("svg#graph .node")).await.map_or(0, |n| n.len()) == 15
    })
    .await;
    for id in ["order_api", "orders_queue", "payment_processing", "dead_letter_queue", "failed_order_handler"] {
        c.find(Locator::Css(&format!("svg#graph .node[data-id='{id}']")))
            .await
            .unwrap_or_else(|_| panic!("{id} drawn"));
    }
    assert_eq!(c.find_all(Locator::Css("svg#graph .link.dead-letter")).await.unwrap().len(), 4);
    assert!(text(&c, ".scenario").await.contains("Order pipeline"));
    assert_eq!(text(&c, "#clock").await, "00:00.0");
    assert_eq!(number(&c, "#produced").await, 0);

    // Play at 100x: the clock and the totals move.
    c.find(Locator::Css("#speed")).await.unwrap().select_by_value("100").await.unwrap();
    c.find(Locator::Css("#play")).await.unwrap().click().await.unwrap();
    eventually("the clock moves past a minute", || async { text(&c, "#clock").await.as_str() > "01:00.0" }).await;
    eventually("orders are produced and completed", || async {
        number(&c, "#produced").await > 100 && number(&c, "#completed").await > 100
    })
    .await;
    assert!(text(&c, "#play").await.contains("Pause"));
    tokio::time::sleep(Duration::from_millis(600)).await;
    let shot = c.screenshot().await.unwrap();
    assert!(shot.starts_with(b"\x89PNG"), "a PNG screenshot");
    std::fs::write(root().join("docs/screenshot.png"), shot).unwrap();

    // Pause stops the clock.
    c.find(Locator::Css("#play")).await.unwrap().click().await.unwrap();
    eventually("paused", || async { text(&c, "#play").await.contains("Play") }).await;
    let paused = text(&c, "#clock").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(text(&c, "#clock").await, paused);
    c.close().await.unwrap();
}
