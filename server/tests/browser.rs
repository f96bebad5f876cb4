//! The browser app as a user sees it: the real `edasim serve` serving the Trunk-built `dist/`,
//! driven in headless Chromium through chromedriver (both from Debian, installed by
//! `scripts/test.sh`, which builds `dist/` first and runs these with `--ignored`).
//! The run also takes the README's screenshots, `docs/screenshot.png` and
//! `docs/screenshot-presenter.png`.

mod common;

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Group, Proc, free_port, wait_listening};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The server (on the built app) and a browser session on it.
async fn start() -> (Proc, Group, Client, String, u16) {
    let (server, driver, url, driver_port) = serve().await;
    let client = browser(driver_port).await;
    (server, driver, client, url, driver_port)
}

/// As `start`, with a browser whose downloads land in the folder returned.
async fn start_saving() -> (Proc, Group, Client, String, tempfile::TempDir) {
    let (server, driver, url, driver_port) = serve().await;
    let downloads = tempfile::tempdir().unwrap();
    let client = browser_saving_to(driver_port, downloads.path()).await;
    (server, driver, client, url, downloads)
}

/// The server on the built app and a chromedriver: its address and the driver's port.
async fn serve() -> (Proc, Group, String, u16) {
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
    let driver = Group(
        Command::new("chromedriver")
            .arg(format!("--port={driver_port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (Debian's chromium-driver; scripts/test.sh installs it)"),
    );
    wait_listening(port, "edasim serve").await;
    wait_listening(driver_port, "chromedriver").await;
    (server, driver, format!("http://127.0.0.1:{port}/"), driver_port)
}

/// A fresh browser (its own profile: no local storage, no cache) on the chromedriver at `port`.
async fn browser(driver_port: u16) -> Client {
    browser_saving_to(driver_port, &tempfile::tempdir().unwrap().keep()).await
}

/// A fresh browser whose downloads land in `downloads`.
async fn browser_saving_to(driver_port: u16, downloads: &std::path::Path) -> Client {
    let profile = tempfile::tempdir().unwrap().keep();
    let caps = json!({"goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--window-size=1280,800", format!("--user-data-dir={}", profile.display())
    ], "prefs": {"download.default_directory": downloads, "download.prompt_for_download": false}}});
    let caps = match caps {
        serde_json::Value::Object(m) => m,
        _ => unreachable!(),
    };
    // chromedriver starting a third Chromium on a loaded machine sometimes answers the new
    // session with an empty reply: ask again, a few times, before giving up.
    let mut tries = 0;
    loop {
        let session = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{driver_port}"))
            .await;
        match session {
            Ok(c) => return c,
            Err(e) if tries < 3 => {
                tries += 1;
                eprintln!("a browser session: {e}; asking again");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => panic!("a browser session: {e}"),
        }
    }
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
    let (_server, _driver, c, url, _) = start().await;
    c.goto(&url).await.unwrap();

    // The order pipeline is drawn: its seventeen nodes, its dead-letter links dashed.
    eventually("the graph is drawn", || async {
        c.find_all(Locator::Css("svg#graph .node")).await.map_or(0, |n| n.len()) == 17
    })
    .await;
    for id in ["order_api", "orders_queue", "payment_processing", "dead_letter_queue", "failed_order_handler"] {
        c.find(Locator::Css(&format!("svg#graph .node[data-id='{id}']")))
            .await
            .unwrap_or_else(|_| panic!("{id} drawn"));
    }
    assert_eq!(c.find_all(Locator::Css("svg#graph .link.dead-letter")).await.unwrap().len(), 4);
    // 1280x800 holds it all without horizontal scrolling.
    let overflow = c
        .execute("return document.documentElement.scrollWidth - document.documentElement.clientWidth", vec![])
        .await
        .unwrap();
    assert_eq!(overflow.as_i64(), Some(0), "no horizontal scrolling at 1280x800");
    assert!(text(&c, ".scenario").await.contains("Order pipeline"));
    // The scenario says what to watch; a reader closes it to see the whole canvas.
    eventually("the description is shown", || async { c.find(Locator::Css("#about")).await.is_ok() }).await;
    c.find(Locator::Css("#about .close")).await.unwrap().click().await.unwrap();
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
    eventually("the legend names the event types", || async {
        let legend = c.find(Locator::Css("#legend")).await.ok();
        match legend {
            Some(l) => l.text().await.unwrap_or_default().contains("order_created"),
            None => false,
        }
    })
    .await;
    // The README's screenshots, of a 1280x800 screen: the editor with a node selected, and
    // the presenter's view (every panel folded, P I D, then Fit).
    viewport(&c, 1280, 800).await;
    c.find(Locator::Css("#fit")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("svg#graph .node[data-id='payment_processing']")).await.unwrap().click().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let shot = c.screenshot().await.unwrap();
    assert!(shot.starts_with(b"\x89PNG"), "a PNG screenshot");
    std::fs::write(root().join("docs/screenshot.png"), shot).unwrap();
    key(&c, "\u{E00C}pid").await;
    c.find(Locator::Css("#fit")).await.unwrap().click().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    std::fs::write(root().join("docs/screenshot-presenter.png"), c.screenshot().await.unwrap()).unwrap();
    key(&c, "pid").await;

    // The theme toggle switches light and dark.
    // The attribute, and the page's background it gives.
    let theme = || async {
        let js = "return [document.documentElement.dataset.theme, getComputedStyle(document.body).backgroundColor]";
        c.execute(js, vec![]).await.unwrap()
    };
    let before = theme().await;
    c.find(Locator::Css("#theme")).await.unwrap().click().await.unwrap();
    let after = theme().await;
    assert!(before[0].as_str().is_some() && before[0] != after[0], "{before} -> {after}");
    assert_ne!(before[1], after[1], "the background changes with the theme");

    // Pause stops the clock.
    c.find(Locator::Css("#play")).await.unwrap().click().await.unwrap();
    eventually("paused", || async { text(&c, "#play").await.contains("Play") }).await;
    let paused = text(&c, "#clock").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(text(&c, "#clock").await, paused);
    c.close().await.unwrap();
}

async fn node_count(c: &Client) -> usize {
    c.find_all(Locator::Css("svg#graph .node")).await.map_or(0, |n| n.len())
}

/// Pastes `text` into the import dialog and loads it.
async fn import(c: &Client, text: &str) {
    c.find(Locator::Css("#import")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("#import-text")).await.expect("the import dialog opens");
    c.execute(
        "const t = document.querySelector('#import-text'); t.value = arguments[0]; t.dispatchEvent(new Event('input'));",
        vec![json!(text)],
    )
    .await
    .unwrap();
    c.find(Locator::Css("#import-load")).await.unwrap().click().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "browser test: needs chromium, chromedriver and dist/ (scripts/test.sh provides them and runs it)"]
async fn broken_imports_keep_the_canvas_and_share_links_reopen_it() {
    let (_server, _driver, c, url, driver_port) = start().await;
    c.goto(&url).await.unwrap();
    eventually("the graph is drawn", || async { node_count(&c).await == 17 }).await;

    // A broken file: every problem with its path, and the canvas stays as it was.
    let broken = json!({"version": 1, "name": "broken", "nodes": [{"id": "p", "kind": "producer", "rate_per_s": -1}],
                        "links": [{"from": "p", "to": "nowhere"}]});
    import(&c, &broken.to_string()).await;
    eventually("the problems are shown", || async {
        let t = c.find(Locator::Css(".problems")).await.ok();
        match t {
            Some(e) => {
                let t = e.text().await.unwrap_or_default();
                t.contains("nodes[0].rate_per_s") && t.contains("links[0].to")
            }
            None => false,
        }
    })
    .await;
    assert_eq!(node_count(&c).await, 17, "the canvas is unchanged");

    // A good one replaces it.
    let small = json!({"version": 1, "name": "Tiny shop", "seed": 3, "nodes": [
        {"id": "api", "kind": "producer", "rate_per_s": 5, "pos": [0, 0]},
        {"id": "jobs", "kind": "queue", "pos": [250, 0]},
        {"id": "worker", "kind": "service", "processing": 50, "pos": [500, 0]}],
        "links": [{"from": "api", "to": "jobs"}, {"from": "jobs", "to": "worker"}]});
    import(&c, &small.to_string()).await;
    eventually("the imported topology is drawn", || async { node_count(&c).await == 3 }).await;
    assert!(text(&c, ".scenario").await.contains("Tiny shop"));

    // It survives a reload (local storage).
    c.refresh().await.unwrap();
    eventually("the canvas is back after a reload", || async {
        node_count(&c).await == 3 && text(&c, ".scenario").await.contains("Tiny shop")
    })
    .await;

    // Its share link opens the same topology in a fresh browser.
    c.find(Locator::Css("#share")).await.unwrap().click().await.unwrap();
    let link = c.find(Locator::Css("#share-url")).await.unwrap().prop("value").await.unwrap().unwrap_or_default();
    assert!(link.starts_with(&url) && link.contains("#t="), "{link}");
    let fresh = browser(driver_port).await;
    fresh.goto(&link).await.unwrap();
    eventually("the shared topology is drawn", || async { node_count(&fresh).await == 3 }).await;
    fresh.find(Locator::Css("svg#graph .node[data-id='worker']")).await.expect("the same nodes");
    assert!(text(&fresh, ".scenario").await.contains("Tiny shop"));
    fresh.close().await.unwrap();

    // A file chosen in the import dialog opens the same way as pasted text.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("two-step.json");
    let mut two = small.clone();
    two["name"] = json!("Two-step shop");
    two["nodes"].as_array_mut().unwrap().push(json!({"id": "audit", "kind": "queue", "pos": [250, 150]}));
    std::fs::write(&file, two.to_string()).unwrap();
    c.find(Locator::Css("#import")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("#import-file")).await.unwrap().send_keys(&file.display().to_string()).await.unwrap();
    eventually("the chosen file is drawn", || async {
        node_count(&c).await == 4 && text(&c, ".scenario").await.contains("Two-step shop")
    })
    .await;

    // And so does a file dropped on the canvas (the drop a file manager makes, from script).
    let dropped = json!({"version": 1, "name": "Dropped", "seed": 1, "nodes": [
        {"id": "only", "kind": "producer", "rate_per_s": 1}], "links": []});
    c.execute(
        "const dt = new DataTransfer();
         dt.items.add(new File([arguments[0]], 'dropped.json', {type: 'application/json'}));
         document.querySelector('.stage').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));",
        vec![json!(dropped.to_string())],
    )
    .await
    .unwrap();
    eventually("the dropped file is drawn", || async {
        node_count(&c).await == 1 && text(&c, ".scenario").await.contains("Dropped")
    })
    .await;
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "browser test: needs chromium, chromedriver and dist/ (scripts/test.sh provides them and runs it)"]
async fn a_live_change_shows_in_the_charts() {
    let (_server, _driver, c, url, downloads) = start_saving().await;
    c.goto(&url).await.unwrap();
    eventually("the graph is drawn", || async { node_count(&c).await == 17 }).await;
    c.find(Locator::Css("#speed")).await.unwrap().select_by_value("10").await.unwrap();
    c.find(Locator::Css("#play")).await.unwrap().click().await.unwrap();

    // Select the order API: the inspector shows its rate, the charts its throughput (~8/s).
    c.find(Locator::Css("svg#graph .node[data-id='order_api']")).await.unwrap().click().await.unwrap();
    let rate = c.find(Locator::Css("#field-rate_per_s")).await.expect("the inspector shows the rate");
    assert_eq!(rate.prop("value").await.unwrap().as_deref(), Some("8"));
    eventually("the throughput chart fills", || async {
        (0.0..30.0).contains(&last_of(&c, "#chart-throughput", "out").await)
    })
    .await;

    // Raise it to 150 orders a second, live: the chart follows.
    rate.clear().await.unwrap();
    rate.send_keys("150\u{E007}").await.unwrap(); // Enter applies the field
    assert_eq!(text(&c, "#field-rate_per_s-error").await, "", "150 is a valid rate");
    eventually("the chart shows about 150/s", || async {
        (110.0..190.0).contains(&last_of(&c, "#chart-throughput", "out").await)
    })
    .await;

    // Paused, the chart holds still: plotters drew it on its canvas at the screen's pixel
    // ratio, its lines in colour (the axes, grid and labels are grey).
    c.find(Locator::Css("#play")).await.unwrap().click().await.unwrap();
    eventually("paused", || async { text(&c, "#play").await.contains("Play") }).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let drawn = c
        .execute(
            "const c = document.querySelector('#chart-throughput canvas');
             const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
             let coloured = 0;
             for (let i = 0; i < d.length; i += 4) {
               const [r, g, b, a] = [d[i], d[i + 1], d[i + 2], d[i + 3]];
               if (a > 200 && Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
             }
             return [c.width, Math.round(c.clientWidth * devicePixelRatio), coloured];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(drawn[0], drawn[1], "drawn at the pixel ratio: {drawn}");
    assert!(drawn[2].as_u64().unwrap_or(0) > 200, "the lines are drawn in colour: {drawn}");

    // The pointer near the chart's right edge reads the last second's values; in its middle,
    // an earlier second; the arrow keys step a second back.
    use fantoccini::actions::{InputSource, MouseActions, PointerAction};
    let canvas = c.find(Locator::Css("#chart-throughput canvas")).await.unwrap();
    let width = c
        .execute("return document.querySelector('#chart-throughput canvas').clientWidth", vec![])
        .await
        .unwrap()
        .as_f64()
        .unwrap_or(0.0);
    let hover = |x: f64| {
        MouseActions::new("mouse".into()).then(PointerAction::MoveToElement {
            element: canvas.clone(),
            duration: None,
            x,
            y: 0.0,
        })
    };
    c.perform_actions(hover(width / 2.0 - 12.0)).await.unwrap();
    let readout = || async {
        let e = c.find(Locator::Css("#chart-throughput-readout")).await.ok()?;
        let t: u64 = e.attr("data-t").await.ok()??.parse().ok()?;
        Some((t, e.text().await.ok()?))
    };
    let (last_t, shown) = readout().await.expect("the read-out shows under the pointer");
    let out = last_of(&c, "#chart-throughput", "out").await;
    assert!(shown.contains(&format!("out {out}")), "the read-out {shown:?} shows the last second's out={out}");
    assert!(shown.contains(&format!("{}:{:02}", last_t / 60, last_t % 60)), "and its time: {shown:?}");
    c.perform_actions(hover(0.0)).await.unwrap();
    let (middle_t, shown) = readout().await.expect("a read-out in the middle");
    assert!(middle_t + 5 < last_t, "the middle of the chart is earlier: {middle_t} < {last_t}");
    assert!(shown.split_whitespace().any(|w| w.parse::<f64>().is_ok()), "values: {shown:?}");
    canvas.send_keys("\u{E012}").await.unwrap(); // ArrowLeft
    eventually("the arrow key steps a second back", || async {
        readout().await.is_some_and(|(t, _)| t + 1 == middle_t)
    })
    .await;
    c.perform_actions(hover(width)).await.unwrap(); // off the canvas: the read-out goes
    eventually("the read-out hides off the chart", || async { readout().await.is_none() }).await;

    // Saved as a picture: a PNG a slide's width (at twice its pixels), on an opaque background,
    // its lines in colour.
    c.find(Locator::Css("#chart-throughput .chart-save")).await.unwrap().click().await.unwrap();
    let file = downloads.path().join("order_api-chart-throughput.png");
    eventually("the chart is saved", || async { std::fs::metadata(&file).is_ok_and(|m| m.len() > 0) }).await;
    let decoder = png::Decoder::new(std::io::Cursor::new(std::fs::read(&file).unwrap()));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut pixels).expect("its pixels");
    assert_eq!((frame.width, frame.height, frame.color_type), (1920, 800, png::ColorType::Rgba));
    let rgba: Vec<&[u8]> = pixels[..frame.buffer_size()].chunks(4).collect();
    assert!(rgba.iter().all(|p| p[3] == 255), "an opaque background");
    let coloured = rgba.iter().filter(|p| p[..3].iter().max().unwrap() - p[..3].iter().min().unwrap() > 60).count();
    assert!(coloured > 1000, "its lines in colour: {coloured} pixels");
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "browser test: needs chromium, chromedriver and dist/ (scripts/test.sh provides them and runs it)"]
async fn the_event_log_filters_and_opens_traces() {
    let (_server, _driver, c, url, _) = start().await;
    c.goto(&url).await.unwrap();
    eventually("the graph is drawn", || async { node_count(&c).await == 17 }).await;
    c.find(Locator::Css("#speed")).await.unwrap().select_by_value("10").await.unwrap();
    c.find(Locator::Css("#play")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("#tab-log")).await.unwrap().click().await.unwrap();
    let rows = || async { c.find_all(Locator::Css(".lines tbody tr")).await.map_or(0, |r| r.len()) };
    eventually("log lines arrive (payments fail, dead letters, unroutable publishes)", || async { rows().await > 5 })
        .await;

    // Filter to one node: only its lines remain.
    c.find(Locator::Css("#log-node")).await.unwrap().send_keys("payment_processing").await.unwrap();
    eventually("only payment_processing's lines", || async {
        let cells = c.find_all(Locator::Css(".lines tbody tr td:nth-child(3)")).await.unwrap_or_default();
        let mut nodes = Vec::new();
        for td in cells {
            nodes.push(td.text().await.unwrap_or_default());
        }
        !nodes.is_empty() && nodes.iter().all(|n| n == "payment_processing")
    })
    .await;

    // Freeze the view, then click a line: the trace of its order.
    c.find(Locator::Css("#log-freeze")).await.unwrap().click().await.unwrap();
    // (On its time: a folded row's count is a button of its own, which unfolds it.)
    c.find(Locator::Css(".lines tbody tr td:first-child")).await.unwrap().click().await.unwrap();
    eventually("the trace shows the order's hops", || async {
        c.find_all(Locator::Css("#trace li")).await.map_or(0, |r| r.len()) >= 3
    })
    .await;
    assert!(text(&c, ".trace-title").await.starts_with("order "));
    c.close().await.unwrap();
}

/// Drags with the mouse from the middle of `from` to `(x, y)` in stage coordinates (from the
/// canvas's top-left corner), in small steps as a hand would.
async fn drag_to_stage(c: &Client, from: &fantoccini::elements::Element, x: f64, y: f64) {
    use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
    let stage = c.find(Locator::Css("svg#graph")).await.unwrap();
    let (sx, sy, _, _) = stage.rectangle().await.unwrap();
    let mouse = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement { element: from.clone(), duration: None, x: 0.0, y: 0.0 })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::MoveTo { duration: Some(Duration::from_millis(250)), x: sx + x, y: sy + y })
        .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    c.perform_actions(mouse).await.unwrap();
}

/// Drags from one node's port to another node.
async fn link(c: &Client, from: &str, to: &str) {
    use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
    let port = c.find(Locator::Css(&format!("svg#graph .node[data-id='{from}'] .port"))).await.unwrap();
    let target = c.find(Locator::Css(&format!("svg#graph .node[data-id='{to}'] .shape"))).await.unwrap();
    let mouse = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement { element: port, duration: None, x: 0.0, y: 0.0 })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::MoveToElement {
            element: target,
            duration: Some(Duration::from_millis(250)),
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    c.perform_actions(mouse).await.unwrap();
}

async fn tip(c: &Client) -> String {
    match c.find(Locator::Css(".tip")).await {
        Ok(t) => t.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

async fn key(c: &Client, keys: &str) {
    c.find(Locator::Css("body")).await.unwrap().send_keys(keys).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "browser test: needs chromium, chromedriver and dist/ (scripts/test.sh provides them and runs it)"]
async fn a_topology_built_from_the_palette_runs_and_exports() {
    let (_server, _driver, c, url, downloads) = start_saving().await;
    c.goto(&url).await.unwrap();
    eventually("the graph is drawn", || async { node_count(&c).await == 17 }).await;

    // A new canvas, then a producer, a queue and a service dragged from the palette.
    c.find(Locator::Css("#new")).await.unwrap().click().await.unwrap();
    eventually("the canvas is empty", || async { node_count(&c).await == 0 }).await;
    for (kind, x) in [("producer", 120.0), ("queue", 360.0), ("service", 600.0)] {
        let item = c.find(Locator::Css(&format!("#palette-{kind}"))).await.unwrap();
        drag_to_stage(&c, &item, x, 150.0).await;
    }
    eventually("three nodes placed", || async { node_count(&c).await == 3 }).await;
    for id in ["producer_1", "queue_1", "service_1"] {
        c.find(Locator::Css(&format!("svg#graph .node[data-id='{id}']"))).await.unwrap_or_else(|_| panic!("{id}"));
    }

    // A link that means nothing is refused, with the reason.
    link(&c, "producer_1", "service_1").await;
    eventually("the refusal says why", || async {
        tip(&c).await.contains("a link from a producer to a service means nothing")
    })
    .await;
    assert_eq!(c.find_all(Locator::Css("svg#graph .link")).await.unwrap().len(), 0);

    // Two that mean something are drawn, and said what they are.
    link(&c, "producer_1", "queue_1").await;
    eventually("a publish link", || async { tip(&c).await.contains("a publish link") }).await;
    link(&c, "queue_1", "service_1").await;
    eventually("a consume link", || async { tip(&c).await.contains("a consume link") }).await;
    assert_eq!(c.find_all(Locator::Css("svg#graph .link")).await.unwrap().len(), 2);

    // Undo takes the last link away, redo brings it back.
    key(&c, "\u{E009}z").await; // Ctrl-Z
    eventually("undone", || async { c.find_all(Locator::Css("svg#graph .link")).await.map_or(0, |l| l.len()) == 1 })
        .await;
    key(&c, "\u{E009}\u{E008}z").await; // Ctrl-Shift-Z
    eventually("redone", || async { c.find_all(Locator::Css("svg#graph .link")).await.map_or(0, |l| l.len()) == 2 })
        .await;

    // The service gets a name of its own: the link follows the rename.
    c.find(Locator::Css("svg#graph .node[data-id='service_1']")).await.unwrap().click().await.unwrap();
    let id = c.find(Locator::Css("#field-id")).await.expect("the inspector shows the id");
    id.clear().await.unwrap();
    id.send_keys("worker\u{E007}").await.unwrap();
    eventually("renamed", || async { c.find(Locator::Css("svg#graph .node[data-id='worker']")).await.is_ok() }).await;
    // Its processing time becomes a constant 5 ms: a distribution kind, then its parameter.
    c.find(Locator::Css("#field-processing-dist")).await.unwrap().select_by_value("constant").await.unwrap();
    let ms = c.find(Locator::Css("#field-processing-ms")).await.expect("a constant takes ms");
    ms.clear().await.unwrap();
    ms.send_keys("5\u{E004}").await.unwrap(); // Tab leaves the field: applied

    // It runs: the simulation was not started, so the new structure was loaded at once.
    c.find(Locator::Css("#speed")).await.unwrap().select_by_value("100").await.unwrap();
    c.find(Locator::Css("#play")).await.unwrap().click().await.unwrap();
    eventually("the new topology produces and completes", || async {
        number(&c, "#produced").await > 20 && number(&c, "#completed").await > 20
    })
    .await;

    // A structural edit while it plays waits for a restart.
    let store = c.find(Locator::Css("#palette-store")).await.unwrap();
    drag_to_stage(&c, &store, 600.0, 300.0).await;
    eventually("the restart banner", || async { c.find(Locator::Css("#restart")).await.is_ok() }).await;
    let overlap = c
        .execute(
            "const a = document.querySelector('.pending').getBoundingClientRect(), b = document.querySelector('.find').getBoundingClientRect();
             return !(a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(overlap, serde_json::json!(false), "the restart banner covers the search box");
    c.find(Locator::Css("#restart")).await.unwrap().click().await.unwrap();
    eventually("restarted with the store", || async {
        c.find(Locator::Css("#restart")).await.is_err()
            && c.find_all(Locator::Css("svg#graph .node.not-running")).await.map_or(1, |n| n.len()) == 0
    })
    .await;

    // Export: the file has the nodes, with positions, and the links.
    c.find(Locator::Css("#export")).await.unwrap().click().await.unwrap();
    let file = downloads.path().join("untitled.json");
    // Chromium may show the file's name before it has written its content: wait for a whole file.
    let read = || std::fs::read_to_string(&file).ok().and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
    eventually("the export is downloaded", || async { read().is_some() }).await;
    let exported = read().unwrap();
    let ids: Vec<&str> = exported["nodes"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["producer_1", "queue_1", "worker", "store_1"]);
    assert_eq!(exported["nodes"][2]["processing"], json!({"dist": "constant", "ms": 5.0}));
    assert!(exported["nodes"].as_array().unwrap().iter().all(|n| n["pos"].as_array().is_some_and(|p| p.len() == 2)));
    assert_eq!(
        exported["links"],
        json!([{"from": "producer_1", "to": "queue_1"}, {"from": "queue_1", "to": "worker"}])
    );
    // And `edasim run` takes it as it is.
    let out = Command::new(env!("CARGO_BIN_EXE_edasim"))
        .args(["run"])
        .arg(&file)
        .args(["--duration-s", "10", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    c.close().await.unwrap();
}

/// The dots layer under load: `?bench=dots&n=2000` keeps 2,000 messages moving; the browser's
/// own `requestAnimationFrame` clock says how often frames come, the layer how long its draw
/// took. The figures are printed (the README reports them); what is asserted is that every
/// frame drew the 2,000 dots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "browser test: needs chromium, chromedriver and dist/ (scripts/test.sh provides them and runs it)"]
async fn dots_frame_rate() {
    let (_server, _driver, c, url, _) = start().await;
    for n in [2_000u64, 10_000] {
        c.goto(&format!("{url}?bench=dots&n={n}")).await.unwrap();
        eventually("the graph is drawn", || async { node_count(&c).await == 17 }).await;
        eventually("the dots are drawn", || async {
            let drawn = c.execute("return document.getElementById('dots').dataset.drawn", vec![]).await.unwrap();
            drawn.as_str().and_then(|d| d.parse::<u64>().ok()) == Some(n)
        })
        .await;
        let sample = c
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                const c = document.getElementById('dots'), t = [], draw = [], drawn = [];
                function frame(ts) {
                    t.push(ts); draw.push(+c.dataset.drawMs); drawn.push(+c.dataset.drawn);
                    if (ts - t[0] < 5000) requestAnimationFrame(frame); else done({t, draw, drawn});
                }
                requestAnimationFrame(frame);"#,
                vec![],
            )
            .await
            .unwrap();
        let list = |k: &str| -> Vec<f64> { sample[k].as_array().unwrap().iter().filter_map(|v| v.as_f64()).collect() };
        let (t, mut draw, drawn) = (list("t"), list("draw"), list("drawn"));
        assert!(t.len() > 10, "frames were measured: {}", t.len());
        assert!(drawn.iter().all(|&d| d == n as f64), "every frame drew {n} dots: {drawn:?}");
        let mut gaps: Vec<f64> = t.windows(2).map(|w| w[1] - w[0]).collect();
        gaps.sort_by(f64::total_cmp);
        draw.sort_by(f64::total_cmp);
        let pct = |v: &[f64], p: f64| v[((v.len() - 1) as f64 * p) as usize];
        let fps = (t.len() - 1) as f64 / ((t[t.len() - 1] - t[0]) / 1000.0);
        println!(
            "dots {n}: {fps:.1} frames/s, frame interval p95 {:.1} ms, draw p50 {:.1} ms p95 {:.1} ms",
            pct(&gaps, 0.95),
            pct(&draw, 0.5),
            pct(&draw, 0.95)
        );
    }
    c.close().await.unwrap();
}

/// Whether closing the tab now would ask first (a `beforeunload` the app cancels).
async fn would_warn_on_close(c: &Client) -> bool {
    let r = c
        .execute(
            "const e = new Event('beforeunload', {cancelable: true}); window.dispatchEvent(e); return e.defaultPrevented;",
            vec![],
        )
        .await
        .unwrap();
    r.as_bool().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "browser test: needs chromium, chromedriver and dist/ (scripts/test.sh provides them and runs it)"]
async fn a_canvas_the_browser_cannot_keep_warns_before_closing() {
    let (_server, _driver, c, url, _) = start().await;
    c.goto(&url).await.unwrap();
    eventually("the graph is drawn", || async { node_count(&c).await == 17 }).await;
    let queue = c.find(Locator::Css("#palette-queue")).await.unwrap();

    // Local storage keeps the canvas: an edit does not make closing ask.
    drag_to_stage(&c, &queue, 300.0, 200.0).await;
    eventually("placed", || async { node_count(&c).await == 18 }).await;
    assert!(!would_warn_on_close(&c).await, "the canvas is kept");
    assert!(c.find(Locator::Css("#not-kept")).await.is_err());

    // The browser refuses (private mode, quota): the next edit says so, and closing asks.
    c.execute("Storage.prototype.setItem = () => { throw new DOMException('full', 'QuotaExceededError'); }", vec![])
        .await
        .unwrap();
    drag_to_stage(&c, &queue, 300.0, 300.0).await;
    eventually("placed", || async { node_count(&c).await == 19 }).await;
    eventually("the top bar says the canvas is not kept", || async { c.find(Locator::Css("#not-kept")).await.is_ok() })
        .await;
    assert!(would_warn_on_close(&c).await, "unexported changes that are not kept");

    // Exported: nothing would be lost.
    c.find(Locator::Css("#export")).await.unwrap().click().await.unwrap();
    assert!(!would_warn_on_close(&c).await, "exported");
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "browser test: needs chromium, chromedriver and dist/ (scripts/test.sh provides them and runs it)"]
async fn zoom_fit_minimap_find_and_shortcuts() {
    let (_server, _driver, c, url, _) = start().await;
    c.goto(&url).await.unwrap();
    eventually("the graph is drawn", || async { node_count(&c).await == 17 }).await;
    let minimap = || async { c.find(Locator::Css("#minimap")).await.is_ok() };
    let zoom = || async {
        let t = c.execute("return document.querySelector('svg#graph .world').getAttribute('transform')", vec![]);
        t.await.unwrap().as_str().unwrap_or_default().to_string()
    };

    // Fitted, everything is in view and no minimap is needed; zoomed in, the minimap appears.
    eventually("fitted", || async { !minimap().await }).await;
    let fitted = zoom().await;
    c.find(Locator::Css("#zoom-in")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("#zoom-in")).await.unwrap().click().await.unwrap();
    eventually("zoomed in, with a minimap", || async { minimap().await && zoom().await != fitted }).await;
    c.find(Locator::Css("#fit")).await.unwrap().click().await.unwrap();
    eventually("fitted again", || async { !minimap().await && zoom().await == fitted }).await;

    // Find: a node by part of its name is selected (the inspector shows it).
    let find = c.find(Locator::Css("#find")).await.unwrap();
    find.send_keys("shipment\u{E007}").await.unwrap();
    eventually("found and selected", || async { text(&c, ".inspector h2").await == "shipment_management" }).await;

    // `?` lists the shortcuts; Escape closes the list.
    key(&c, "?").await;
    eventually("the shortcuts", || async { text(&c, "#shortcuts").await.contains("undo / redo") }).await;
    key(&c, "\u{E00C}").await;
    eventually("closed", || async { c.find(Locator::Css("#shortcuts")).await.is_err() }).await;
    c.close().await.unwrap();
}

/// A 300-node topology: 100 producers, each with its own event type, feeding 100 queues
/// consumed by 100 services, laid out in three columns.
fn three_hundred_nodes() -> serde_json::Value {
    let mut nodes = Vec::new();
    let mut links = Vec::new();
    for i in 0..100 {
        let y = f64::from(i) * 80.0;
        nodes.push(json!({"id": format!("p{i}"), "kind": "producer", "rate_per_s": 1, "event": format!("e{i}"), "pos": [0, y]}));
        nodes.push(json!({"id": format!("q{i}"), "kind": "queue", "pos": [300, y]}));
        nodes.push(json!({"id": format!("s{i}"), "kind": "service", "processing": 5, "pos": [600, y]}));
        links.push(json!({"from": format!("p{i}"), "to": format!("q{i}")}));
        links.push(json!({"from": format!("q{i}"), "to": format!("s{i}")}));
    }
    json!({"version": 1, "name": "Three hundred", "seed": 1, "nodes": nodes, "links": links})
}

/// Dragging a node across a 300-node canvas stays smooth (the drag is previewed, and the
/// document is edited once, on release): at least 50 frames a second while the pointer moves,
/// and one step of undo puts the node back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "browser test: needs chromium, chromedriver and dist/ (scripts/test.sh provides them and runs it)"]
async fn dragging_on_a_300_node_canvas_keeps_the_frame_rate() {
    use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
    let (_server, _driver, c, url, _) = start().await;
    c.goto(&url).await.unwrap();
    eventually("the graph is drawn", || async { node_count(&c).await == 17 }).await;
    import(&c, &three_hundred_nodes().to_string()).await;
    eventually("300 nodes drawn", || async { node_count(&c).await == 300 }).await;
    let transform = || async {
        let t = c.execute(
            "return document.querySelector(\"svg#graph .node[data-id='q50']\").getAttribute('transform')",
            vec![],
        );
        t.await.unwrap().as_str().unwrap_or_default().to_string()
    };
    let before = transform().await;

    // The page's own animation-frame clock, sampled while a hand drags q50 around for 3 s.
    c.execute(
        "window.__frames = []; const f = ts => { window.__frames.push(ts); if (window.__frames.length < 100000) requestAnimationFrame(f); }; requestAnimationFrame(f);",
        vec![],
    )
    .await
    .unwrap();
    let node = c.find(Locator::Css("svg#graph .node[data-id='q50'] .shape")).await.unwrap();
    let mut mouse = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement { element: node, duration: None, x: 0.0, y: 0.0 })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT });
    for (x, y) in [(-120.0, 60.0), (140.0, -80.0), (-60.0, -140.0), (180.0, 120.0), (40.0, 40.0)] {
        mouse = mouse.then(PointerAction::MoveBy { duration: Some(Duration::from_millis(600)), x, y });
    }
    let mouse = mouse.then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    let started = c.execute("return performance.now()", vec![]).await.unwrap().as_f64().unwrap();
    c.perform_actions(mouse).await.unwrap();
    let ended = c.execute("return performance.now()", vec![]).await.unwrap().as_f64().unwrap();
    let frames: Vec<f64> = c
        .execute("return window.__frames", vec![])
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_f64())
        .filter(|&t| t >= started && t <= ended)
        .collect();
    assert!(frames.len() > 20, "frames were measured during the drag: {}", frames.len());
    let fps = (frames.len() - 1) as f64 / ((frames[frames.len() - 1] - frames[0]) / 1000.0);
    let mut gaps: Vec<f64> = frames.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.sort_by(f64::total_cmp);
    println!(
        "dragging a node on a 300-node canvas: {fps:.1} frames/s over {:.1} s, frame interval p95 {:.1} ms",
        (ended - started) / 1000.0,
        gaps[(gaps.len() - 1) * 95 / 100]
    );
    let after = transform().await;
    assert_ne!(after, before, "the node moved");
    assert!(fps >= 50.0, "{fps:.1} frames a second while dragging");

    // One drag, one edit.
    key(&c, "\u{E009}z").await;
    eventually("one undo puts it back", || async { transform().await == before }).await;

    // What one pointer move costs the page, reactions included: 60 moves, each in its own task
    // (as a real mouse's are), timed from the first to a frame after the last. Printed for the
    // README's figures, not asserted (timing goals live in benchmarks).
    let per_move = c
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
            const el = document.querySelector("svg#graph .node[data-id='q10'] .shape");
            const r = el.getBoundingClientRect(), x0 = r.left + 20, y0 = r.top + 20;
            const at = (type, x, y, target) => target.dispatchEvent(new PointerEvent(type, {clientX: x, clientY: y, button: 0, bubbles: true}));
            at('pointerdown', x0, y0, el);
            const tick = () => new Promise(res => setTimeout(res, 0));
            (async () => {
                await tick();
                const t0 = performance.now();
                for (let i = 1; i <= 60; i++) { at('pointermove', x0 + 3 * i, y0 + 2 * i, window); await tick(); }
                at('pointerup', x0 + 180, y0 + 120, window);
                await new Promise(res => requestAnimationFrame(res));
                done((performance.now() - t0) / 60);
            })();"#,
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    println!("one pointer move of a drag on a 300-node canvas: {per_move:.2} ms of the page's time");
    c.close().await.unwrap();
}

/// The live view a class reads: Space plays and pauses after a node was clicked; a pause keeps
/// the moving messages where they are; a repeating event folds in the log, and a filter that
/// matches nothing says so; the legend lists at most a dozen event types and folds away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "browser test: needs chromium, chromedriver and dist/ (scripts/test.sh provides them and runs it)"]
async fn the_live_view_keeps_still_folds_repeats_and_stays_small() {
    let (_server, _driver, c, url, _) = start().await;
    c.goto(&url).await.unwrap();
    eventually("the graph is drawn", || async { node_count(&c).await == 17 }).await;
    c.find(Locator::Css("#speed")).await.unwrap().select_by_value("10").await.unwrap();

    // The scenario says what to watch when it opens; closed, the top bar's About opens it again.
    eventually("the description is on the canvas", || async { c.find(Locator::Css("#about")).await.is_ok() }).await;
    assert!(text(&c, "#about p").await.contains("spyker77/eda"));
    c.find(Locator::Css("#about .close")).await.unwrap().click().await.unwrap();
    eventually("closed", || async { c.find(Locator::Css("#about")).await.is_err() }).await;
    c.find(Locator::Css("#about-toggle")).await.unwrap().click().await.unwrap();
    eventually("open again", || async { c.find(Locator::Css("#about")).await.is_ok() }).await;
    c.find(Locator::Css("#about .close")).await.unwrap().click().await.unwrap();

    // The moving messages are drawn under the graph, so never over a node's name.
    let order = c
        .execute("const s = [...document.querySelector('.stage').children]; return [s.indexOf(document.getElementById('dots')), s.indexOf(document.getElementById('graph'))]", vec![])
        .await
        .unwrap();
    assert!(order[0].as_i64() < order[1].as_i64(), "dots before (under) the graph: {order}");

    // The panels fold away (a key each) and the canvas takes the room; they come back.
    let stage = || async {
        let r = c.execute(
            "const r = document.querySelector('.stage').getBoundingClientRect(); return [r.width, r.height]",
            vec![],
        );
        let r = r.await.unwrap();
        (r[0].as_f64().unwrap(), r[1].as_f64().unwrap())
    };
    let (w0, h0) = stage().await;
    key(&c, "pid").await;
    eventually("the canvas takes the whole window", || async {
        let (w, h) = stage().await;
        w >= 1270.0 && h > h0 + 150.0
    })
    .await;
    assert_eq!(
        c.find(Locator::Css("#toggle-dock")).await.unwrap().attr("aria-pressed").await.unwrap().as_deref(),
        Some("false")
    );
    for button in ["#toggle-palette", "#toggle-inspector", "#toggle-dock"] {
        c.find(Locator::Css(button)).await.unwrap().click().await.unwrap();
    }
    eventually("the panels are back", || async { stage().await == (w0, h0) }).await;

    // While paused, an edit shows on its node at once: four replicas of the shipment service.
    c.find(Locator::Css("svg#graph .node[data-id='shipment_management']")).await.unwrap().click().await.unwrap();
    let replicas = c.find(Locator::Css("#field-replicas")).await.unwrap();
    replicas.clear().await.unwrap();
    replicas.send_keys("4\u{E007}").await.unwrap();
    eventually("the node shows 4 replicas up", || async {
        text(&c, "svg#graph .node[data-id='shipment_management'] .figure").await.contains("4 up")
    })
    .await;

    // A value the server refuses (past a live session's 50,000 events a second) goes back in
    // its field, with the reason next to it, not in a box over the charts.
    c.find(Locator::Css("svg#graph .node[data-id='order_api']")).await.unwrap().click().await.unwrap();
    let rate = c.find(Locator::Css("#field-rate_per_s")).await.unwrap();
    rate.clear().await.unwrap();
    rate.send_keys("60000\u{E007}").await.unwrap();
    eventually("the refusal is next to the field", || async {
        text(&c, "#field-rate_per_s-error").await.contains("The run refused it")
    })
    .await;
    let value = c.find(Locator::Css("#field-rate_per_s")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(value.as_deref(), Some("8"), "rolled back to what the run plays");
    assert!(c.find(Locator::Css(".problems")).await.is_err(), "no problems box");

    // Click a node, then Space: it plays; Space again: it pauses.
    c.find(Locator::Css("svg#graph .node[data-id='payment_processing']")).await.unwrap().click().await.unwrap();
    key(&c, " ").await;
    eventually("Space plays", || async { text(&c, "#play").await.contains("Pause") }).await;
    assert_eq!(text(&c, ".inspector h2").await, "payment_processing", "the node stays selected");
    let drawn = || async {
        let d = c.execute("return +document.getElementById('dots').dataset.drawn", vec![]).await.unwrap();
        d.as_u64().unwrap_or(0)
    };
    eventually("messages move", || async { drawn().await > 0 }).await;
    key(&c, " ").await;
    eventually("Space pauses", || async { text(&c, "#play").await.contains("Play") }).await;

    // Paused, the dots stay where they are: two pictures of the dots layer half a second apart.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let picture = || async {
        c.execute("return document.getElementById('dots').toDataURL()", vec![])
            .await
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    };
    let (a, n) = (picture().await, drawn().await);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(n > 0, "the dots stay drawn when paused");
    assert_eq!(picture().await, a, "and stand still");

    // A crash shows: one replica of two is down until Kubernetes restarts it.
    c.find(Locator::Css("svg#graph .node[data-id='payment_processing']")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("#crash")).await.unwrap().click().await.unwrap();
    eventually("1 of 2 up", || async {
        text(&c, "svg#graph .node[data-id='payment_processing'] .figure").await.contains("1 of 2 up")
    })
    .await;

    // At 100x the default exchange's unroutable publishes repeat: they fold into one row.
    c.find(Locator::Css("#speed")).await.unwrap().select_by_value("100").await.unwrap();
    c.find(Locator::Css("#play")).await.unwrap().click().await.unwrap();
    eventually("the replica restarts", || async {
        text(&c, "svg#graph .node[data-id='payment_processing'] .figure").await.contains("2 up")
    })
    .await;
    c.find(Locator::Css("#tab-log")).await.unwrap().click().await.unwrap();
    // The crash's line says how many messages it redelivered.
    let kind_filter = c.find(Locator::Css("#log-event")).await.unwrap();
    kind_filter.send_keys("crashed").await.unwrap();
    eventually("the crash is in the log", || async {
        text(&c, ".lines tbody").await.contains("replica crashed,")
            && text(&c, ".lines tbody").await.contains("redelivered")
    })
    .await;
    kind_filter.clear().await.unwrap();
    kind_filter.send_keys(" ").await.unwrap();
    eventually("repeats fold", || async {
        match c.find(Locator::Css(".lines tr.folded button.fold")).await {
            Ok(b) => b.text().await.unwrap_or_default().starts_with('×'),
            Err(_) => false,
        }
    })
    .await;
    c.find(Locator::Css("#log-node")).await.unwrap().send_keys("no_such_node").await.unwrap();
    eventually("a filter that matches nothing says so", || async { c.find(Locator::Css("#log-empty")).await.is_ok() })
        .await;
    assert!(text(&c, "#log-empty").await.starts_with("No line matches"));

    // A hundred producers, each its own event type: the legend lists twelve and counts the rest.
    import(&c, &three_hundred_nodes().to_string()).await;
    eventually("300 nodes drawn", || async { node_count(&c).await == 300 }).await;
    c.find(Locator::Css("#speed")).await.unwrap().select_by_value("10").await.unwrap();
    if text(&c, "#play").await.contains("Play") {
        c.find(Locator::Css("#play")).await.unwrap().click().await.unwrap();
    }
    eventually("the legend counts what it does not list", || async {
        c.find(Locator::Css("#legend li.more")).await.is_ok()
    })
    .await;
    let items = c.find_all(Locator::Css("#legend-types li")).await.unwrap().len();
    assert!(items <= 15, "twelve types, dead letters, redelivered and the count: {items}");
    let more = text(&c, "#legend li.more").await;
    assert!(more.starts_with("and ") && more.ends_with(" more"), "{more}");
    c.find(Locator::Css("#legend .legend-fold")).await.unwrap().click().await.unwrap();
    eventually("folded away", || async { c.find_all(Locator::Css("#legend li")).await.map_or(1, |l| l.len()) == 0 })
        .await;
    c.close().await.unwrap();
}

/// Sizes the window so that the page itself (the viewport) is `w` x `h`.
async fn viewport(c: &Client, w: u32, h: u32) {
    c.set_window_size(w, h).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let inner = c.execute("return [innerWidth, innerHeight]", vec![]).await.unwrap();
    let (iw, ih) = (inner[0].as_u64().unwrap() as u32, inner[1].as_u64().unwrap() as u32);
    c.set_window_size(w + (w - iw.min(w)), h + (h - ih.min(h))).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let inner = c.execute("return [innerWidth, innerHeight]", vec![]).await.unwrap();
    assert_eq!((inner[0].as_u64(), inner[1].as_u64()), (Some(u64::from(w)), Some(u64::from(h))), "the viewport");
}

/// At Fit: how tall the smallest name is on screen (its font size times the canvas's scale),
/// and the names cut (a name is cut if its text is not the whole label or if it runs past its
/// shape).
async fn name_sizes(c: &Client) -> (f64, Vec<String>) {
    key(c, "f").await; // Fit

    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = c
        .execute(
            r#"const out = {min: 1e9, cut: []};
            for (const g of document.querySelectorAll('svg#graph .node')) {
                const label = g.querySelector('.label'), shape = g.querySelector('.shape');
                const px = label.getScreenCTM().a * parseFloat(getComputedStyle(label).fontSize);
                out.min = Math.min(out.min, px);
                const whole = g.getAttribute('aria-label').startsWith(label.textContent + ' (');
                const fits = label.getBBox().x + label.getBBox().width <= shape.getBBox().width - 4;
                if (!whole || !fits) out.cut.push(label.textContent + ' ' + label.getBBox().width.toFixed(1) + '/' + shape.getBBox().width.toFixed(1));
            }
            return out;"#,
            vec![],
        )
        .await
        .unwrap();
    let cut: Vec<String> = r["cut"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    (r["min"].as_f64().unwrap(), cut)
}

/// On screen, every node's name is whole (its text is the full name and fits its shape), and
/// how tall the names are at Fit is measured from the rendered SVG: the name's font size times
/// the canvas's scale. As the app opens (palette, inspector and dock shown), on a screen of
/// 1280x800 the order pipeline's names are at least 12 px tall, on 1024x768 at least 10 px;
/// folding the panels away (P, I, D) only makes them taller, and does it for a browser window
/// of 1280x800 (12 px at least).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "browser test: needs chromium, chromedriver and dist/ (scripts/test.sh provides them and runs it)"]
async fn names_are_whole_and_measured_at_fit() {
    let (_server, _driver, c, url, _) = start().await;
    c.goto(&url).await.unwrap();
    eventually("the graph is drawn", || async { node_count(&c).await == 17 }).await;
    // (name px, truncated names) at Fit: a name is cut if its text is not the whole label or if
    // it runs past its shape.
    let measure = || name_sizes(&c);
    let mut figures = Vec::new();
    // A screen of that size: the page gets all of it (a projector's browser in full screen).
    for (w, h) in [(1280u32, 800u32), (1024, 768)] {
        viewport(&c, w, h).await;
        let (px, cut) = measure().await;
        assert!(cut.is_empty(), "names cut at {w}x{h}: {cut:?}");
        key(&c, "pid").await;
        let (full_px, cut) = measure().await;
        assert!(cut.is_empty(), "names cut at {w}x{h} with the panels folded: {cut:?}");
        key(&c, "pid").await;
        figures.push(format!("{w}x{h}: {px:.1} px with the panels, {full_px:.1} px without"));
        let least = if w == 1280 { 12.0 } else { 10.0 };
        assert!(px >= least, "names {px:.1} px tall at {w}x{h} as the app opens");
        assert!(full_px >= px, "folding the panels shrinks the names: {full_px:.1} px < {px:.1} px");
    }
    // A browser window of 1280x800 (its tabs and address bar take about 140 px of it): the
    // presenter's view, every panel folded.
    c.set_window_size(1280, 800).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    key(&c, "pid").await;
    let (px, cut) = measure().await;
    key(&c, "pid").await;
    assert!(cut.is_empty() && px >= 12.0, "a 1280x800 window with the panels folded: {px:.1} px, cut {cut:?}");
    figures.push(format!("a 1280x800 window, panels folded: {px:.1} px"));
    println!("the order pipeline's names at Fit: {}", figures.join("; "));
    c.close().await.unwrap();
}

/// A chart's last point for the series `name` (its `data-last`), -1 while it has none.
async fn last_of(c: &Client, chart: &str, name: &str) -> f64 {
    let Ok(e) = c.find(Locator::Css(chart)).await else { return -1.0 };
    let last = e.attr("data-last").await.ok().flatten().unwrap_or_default();
    let prefix = format!("{name}=");
    last.split_whitespace().find_map(|kv| kv.strip_prefix(prefix.as_str())).and_then(|v| v.parse().ok()).unwrap_or(-1.0)
}

async fn select_node(c: &Client, id: &str) {
    c.find(Locator::Css(&format!("svg#graph .node[data-id='{id}']"))).await.unwrap().click().await.unwrap();
    eventually("the inspector shows it", || async { text(c, ".inspector h2").await == id }).await;
}

/// Honest numbers and a steady top bar: paused after a few seconds, the default exchange's
/// chart shows as many messages going out as its two queues received in that second; the top
/// bar keeps its two rows at 1280 px however big the totals grow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "browser test: needs chromium, chromedriver and dist/ (scripts/test.sh provides them and runs it)"]
async fn an_exchange_charts_what_it_routes_and_the_top_bar_stays_put() {
    let (_server, _driver, c, url, _) = start().await;
    c.goto(&url).await.unwrap();
    eventually("the graph is drawn", || async { node_count(&c).await == 17 }).await;
    if let Ok(close) = c.find(Locator::Css("#about .close")).await {
        close.click().await.unwrap();
    }
    let bar_height = || async {
        c.execute("return document.querySelector('.topbar').getBoundingClientRect().height", vec![])
            .await
            .unwrap()
            .as_f64()
            .unwrap()
    };
    let before = bar_height().await;
    c.find(Locator::Css("#speed")).await.unwrap().select_by_value("100").await.unwrap();
    c.find(Locator::Css("#play")).await.unwrap().click().await.unwrap();
    eventually("thousands produced", || async { number(&c, "#produced").await > 5_000 }).await;
    key(&c, " ").await;
    eventually("paused", || async { text(&c, "#play").await.contains("Play") }).await;
    let after = bar_height().await;
    assert!((after - before).abs() < 1.0, "the top bar grew from {before} to {after} px as the totals grew");

    select_node(&c, "amq.default").await;
    eventually("the exchange's chart", || async { last_of(&c, "#chart-throughput", "out").await > 0.0 }).await;
    let out = last_of(&c, "#chart-throughput", "out").await;
    let mut received = 0.0;
    for q in ["orders_queue", "shipping_queue"] {
        select_node(&c, q).await;
        eventually("the queue's chart", || async { last_of(&c, "#chart-throughput", "in").await >= 0.0 }).await;
        received += last_of(&c, "#chart-throughput", "in").await;
    }
    assert_eq!(out, received, "the exchange routed out what its queues received in its last second");
    c.close().await.unwrap();
}

/// Editing without the mouse and without JSON: L links the selected node to one chosen from
/// those a link means something to; A lays the canvas out (undo puts it back); a paste lands
/// clear of its original; a node placed with Enter lands on no link; `on_failure` and `outbox`
/// are widgets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "browser test: needs chromium, chromedriver and dist/ (scripts/test.sh provides them and runs it)"]
async fn keyboard_links_auto_layout_paste_and_the_failure_widget() {
    let (_server, _driver, c, url, _) = start().await;
    c.goto(&url).await.unwrap();
    eventually("the graph is drawn", || async { node_count(&c).await == 17 }).await;
    if let Ok(close) = c.find(Locator::Css("#about .close")).await {
        close.click().await.unwrap();
    }
    let links = || async { c.find_all(Locator::Css("svg#graph .link")).await.unwrap().len() };
    let pos = |id: &'static str| {
        let c = c.clone();
        async move {
            let r = c
                .execute(
                    "const r = document.querySelector(`svg#graph .node[data-id='${arguments[0]}'] .shape`).getBoundingClientRect(); return [r.x, r.y, r.width, r.height];",
                    vec![json!(id)],
                )
                .await
                .unwrap();
            let v: Vec<f64> = r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
            (v[0], v[1], v[2], v[3])
        }
    };

    // L: link payment_queue from the keyboard; only links that mean something are offered.
    let count = links().await;
    select_node(&c, "payment_queue").await;
    key(&c, "l").await;
    // The focus moves on the next animation frame (the inspector may be appearing).
    eventually("L focuses the inspector's Link to", || async {
        c.execute("return document.activeElement.id", vec![]).await.ok() == Some(json!("link-to"))
    })
    .await;
    let options =
        c.execute("return [...document.querySelectorAll('#link-to option')].map(o => o.value)", vec![]).await.unwrap();
    let options: Vec<String> = options.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    assert!(options.contains(&"notification".to_string()), "{options:?}");
    assert!(!options.contains(&"payment_processing".to_string()), "already linked: {options:?}");
    assert!(!options.contains(&"order_api".to_string()), "a queue does not feed a producer: {options:?}");
    c.find(Locator::Css("#link-to")).await.unwrap().select_by_value("notification").await.unwrap();
    eventually("the link is drawn", || async { links().await == count + 1 }).await;
    // The new link is selected: the inspector says what it means.
    assert_eq!(text(&c, ".inspector h2").await, "payment_queue → notification");
    assert_eq!(text(&c, ".inspector .kind").await, "a consume link");
    key(&c, "\u{E009}z").await; // Ctrl-Z
    eventually("undone", || async { links().await == count }).await;

    // A: auto layout moves the nodes; undo puts them back.
    key(&c, "\u{E00C}").await; // Escape: nothing selected
    let before = pos("redis").await;
    c.find(Locator::Css("#auto-layout")).await.unwrap().click().await.unwrap();
    eventually("laid out afresh", || async { pos("redis").await != before }).await;
    let (api, ship) = (pos("order_api").await, pos("shipment_management").await);
    assert!(api.0 < ship.0, "sources left of sinks: {api:?} {ship:?}");
    key(&c, "\u{E009}z").await;
    c.find(Locator::Css("#fit")).await.unwrap().click().await.unwrap();
    eventually("undone", || async { pos("redis").await == before }).await;

    // Copy and paste a node: the copy lands clear of the original.
    select_node(&c, "orders_queue").await;
    key(&c, "\u{E009}c").await;
    key(&c, "\u{E009}v").await;
    eventually("pasted", || async { node_count(&c).await == 18 }).await;
    let (a, b) = (pos("orders_queue").await, pos("orders_queue_1").await);
    let apart = a.0 + a.2 <= b.0 || b.0 + b.2 <= a.0 || a.1 + a.3 <= b.1 || b.1 + b.3 <= a.1;
    assert!(apart, "the paste covers its original: {a:?} {b:?}");

    // Enter on the palette's Queue: the new node lands on no link.
    key(&c, "\u{E00C}").await;
    c.find(Locator::Css("#palette-queue")).await.unwrap().send_keys("\u{E007}").await.unwrap();
    eventually("placed", || async { node_count(&c).await == 19 }).await;
    let on_a_link = c
        .execute(
            "const r = document.querySelector('svg#graph .node.selected .shape').getBoundingClientRect();
             const hits = [];
             for (const p of document.querySelectorAll('svg#graph path.link')) {
                 const len = p.getTotalLength(), m = p.getScreenCTM();
                 for (let s = 0; s <= len; s += 4) {
                     const q = p.getPointAtLength(s), x = q.x * m.a + m.e, y = q.y * m.d + m.f;
                     if (x > r.left && x < r.right && y > r.top && y < r.bottom) { hits.push(p.getAttribute('d')); break; }
                 }
             }
             return hits;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(on_a_link, json!([]), "the placed node lies on links");

    // on_failure: a widget, not JSON text. Retry with 5 attempts is written to the file.
    select_node(&c, "payment_processing").await;
    c.find(Locator::Css("#field-on_failure-policy")).await.unwrap().select_by_value("retry").await.unwrap();
    let attempts = c.find(Locator::Css("#field-on_failure-max_attempts")).await.expect("the retry's fields");
    attempts.clear().await.unwrap();
    attempts.send_keys("5\u{E004}").await.unwrap();
    eventually("written", || async {
        let json =
            c.execute("return document.querySelector('.inspector details pre').textContent", vec![]).await.unwrap();
        let node: serde_json::Value = serde_json::from_str(json.as_str().unwrap_or("{}")).unwrap_or_default();
        node["on_failure"]["retry"]["max_attempts"] == json!(5)
    })
    .await;
    attempts.clear().await.unwrap();
    attempts.send_keys("0\u{E004}").await.unwrap();
    let error = text(&c, "#field-on_failure-error").await;
    assert!(error.contains("attempts") && error.contains("1"), "0 attempts refused with the range: {error}");

    // The outbox: a widget too. A service with no store to keep one in is refused with the
    // reason; the outbox scenario's relay polls every 100 ms, and 250 is written.
    select_node(&c, "order_processing").await;
    c.find(Locator::Css("#field-outbox-on")).await.unwrap().click().await.unwrap();
    eventually("refused with its reason", || async {
        maybe_text(&c, "#field-outbox-error").await.contains("no store to keep it in")
    })
    .await;
    c.find(Locator::Css("#scenario-picker")).await.unwrap().select_by_value("outbox").await.unwrap();
    eventually("the outbox scenario opens", || async {
        c.find(Locator::Css("svg#graph .node[data-id='order_service_b']")).await.is_ok()
    })
    .await;
    select_node(&c, "order_service_b").await;
    assert_eq!(
        c.find(Locator::Css("#field-outbox-on")).await.unwrap().prop("checked").await.unwrap().as_deref(),
        Some("true")
    );
    let poll = c.find(Locator::Css("#field-outbox-poll_ms")).await.expect("the relay's fields");
    assert_eq!(poll.prop("value").await.unwrap().as_deref(), Some("100"), "the file's poll");
    poll.clear().await.unwrap();
    poll.send_keys("250\u{E004}").await.unwrap();
    eventually("the outbox written", || async {
        let json =
            c.execute("return document.querySelector('.inspector details pre').textContent", vec![]).await.unwrap();
        let node: serde_json::Value = serde_json::from_str(json.as_str().unwrap_or("{}")).unwrap_or_default();
        node["outbox"] == json!({"poll_ms": 250, "batch": 50})
    })
    .await;
    c.close().await.unwrap();
}

/// The seed system's two variants are on the scenario menu: the Kubernetes one opens with its
/// gateway and autoscaled services; the gateway's inspector takes its rate limit, its chart
/// shows the requests it accepted, a service with CPU work charts its CPU use, and a replica
/// count that changes pulses on its node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "browser test: needs chromium, chromedriver and dist/ (scripts/test.sh provides them and runs it)"]
async fn the_kubernetes_variant_opens_with_its_gateway_and_cpu() {
    let (_server, _driver, c, url, _) = start().await;
    c.goto(&url).await.unwrap();
    eventually("the graph is drawn", || async { node_count(&c).await == 17 }).await;
    c.find(Locator::Css("#scenario-picker")).await.unwrap().select_by_value("order-pipeline-k8s").await.unwrap();
    eventually("the Kubernetes variant opens", || async {
        text(&c, ".scenario").await.contains("Kubernetes") && node_count(&c).await == 17
    })
    .await;
    if let Ok(close) = c.find(Locator::Css("#about .close")).await {
        close.click().await.unwrap();
    }
    assert!(text(&c, "svg#graph .node.gateway .label").await.contains("Traefik"));
    select_node(&c, "traefik").await;
    let average = c.find(Locator::Css("#field-average")).await.expect("the gateway's rate limit");
    assert_eq!(average.prop("value").await.unwrap().as_deref(), Some("1000"));
    c.find(Locator::Css("#speed")).await.unwrap().select_by_value("10").await.unwrap();
    c.find(Locator::Css("#play")).await.unwrap().click().await.unwrap();
    eventually("the gateway accepts requests", || async { last_of(&c, "#chart-throughput", "in").await > 0.0 }).await;
    select_node(&c, "shipment_management").await;
    assert!(text(&c, "#chart-cpu figcaption").await.contains("100m requested"), "the CPU chart");
    eventually("CPU in use is charted", || async { last_of(&c, "#chart-cpu", "used").await > 0.0 }).await;
    assert!(text(&c, "svg#graph .node[data-id='shipment_management'] .figure").await.contains("in flight"));
    // A replica count that changes pulses on its node: three replicas, set while paused (so
    // that the autoscaler does not take them back before the check).
    key(&c, " ").await;
    eventually("paused", || async { text(&c, "#play").await.contains("Play") }).await;
    let replicas = c.find(Locator::Css("#field-replicas")).await.unwrap();
    replicas.clear().await.unwrap();
    replicas.send_keys("3\u{E007}").await.unwrap();
    eventually("the node pulses with its new replicas", || async {
        c.find(Locator::Css("svg#graph .node.scaling[data-id='shipment_management']")).await.is_ok()
            && text(&c, "svg#graph .node[data-id='shipment_management'] .figure").await.contains("3 up")
    })
    .await;
    c.close().await.unwrap();
}

/// A fault started from the inspector: Redis down for 60 s. Its badge shows on the node with
/// the seconds left, its chart shades the seconds it struck and charts the failed calls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "browser test: needs chromium, chromedriver and dist/ (scripts/test.sh provides them and runs it)"]
async fn a_fault_from_the_inspector_shows_its_badge_and_its_effect() {
    let (_server, _driver, c, url, _) = start().await;
    c.goto(&url).await.unwrap();
    eventually("the graph is drawn", || async { node_count(&c).await == 17 }).await;
    if let Ok(close) = c.find(Locator::Css("#about .close")).await {
        close.click().await.unwrap();
    }
    c.find(Locator::Css("#speed")).await.unwrap().select_by_value("10").await.unwrap();
    c.find(Locator::Css("#play")).await.unwrap().click().await.unwrap();
    select_node(&c, "redis").await;
    let kinds = c.find(Locator::Css("#fault-kind")).await.expect("the inspector offers faults");
    let offered: Vec<String> = {
        let mut v = Vec::new();
        for o in c.find_all(Locator::Css("#fault-kind option")).await.unwrap() {
            v.push(o.attr("value").await.unwrap().unwrap_or_default());
        }
        v
    };
    assert_eq!(offered, ["latency", "error_rate", "store_down"], "the faults a store can have");
    kinds.select_by_value("store_down").await.unwrap();
    let for_s = c.find(Locator::Css("#fault-for")).await.unwrap();
    for_s.clear().await.unwrap();
    for_s.send_keys("60").await.unwrap();
    c.find(Locator::Css("#fault-go")).await.unwrap().click().await.unwrap();
    let badge = "svg#graph .node[data-id='redis'] .badge.fault";
    eventually("the badge shows with the time left", || async {
        // Not there until the next frame after the fault: read it when it is.
        let t = maybe_text(&c, badge).await;
        t.contains("store down")
            && t.trim_end_matches('s').rsplit(' ').next().and_then(|n| n.parse::<u32>().ok()).is_some_and(|n| n <= 60)
    })
    .await;
    eventually("the chart shades the fault and charts the failed calls", || async {
        let shaded = c
            .find(Locator::Css("#chart-errors"))
            .await
            .ok()
            .map(|e| async move { e.attr("data-fault-seconds").await.ok().flatten() });
        let shaded = match shaded {
            Some(f) => f.await.and_then(|s| s.parse::<u32>().ok()).unwrap_or(0),
            None => 0,
        };
        shaded > 0 && last_of(&c, "#chart-errors", "errors").await > 0.0
    })
    .await;
    c.close().await.unwrap();
}

/// The text of `css`, or nothing while it is not there.
async fn maybe_text(c: &Client, css: &str) -> String {
    match c.find(Locator::Css(css)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// A walkthrough played through: opened from the Lessons menu (its scenario loads with it),
/// its steps walked with Next and PageDown, the step's nodes outlined, a prediction made and
/// revealed when the run reaches the step's end, with the run's own numbers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "browser test: needs chromium, chromedriver and dist/ (scripts/test.sh provides them and runs it)"]
async fn a_walkthrough_plays_through_its_steps_and_reveals_a_prediction() {
    let (_server, _driver, c, url, _) = start().await;
    c.goto(&url).await.unwrap();
    eventually("the graph is drawn", || async { node_count(&c).await == 17 }).await;
    c.find(Locator::Css("#lesson-picker")).await.unwrap().select_by_value("poison-message").await.unwrap();
    eventually("the lesson opens on its scenario", || async {
        text(&c, "#lesson-progress").await == "Step 1 of 3" && node_count(&c).await == 15
    })
    .await;
    assert_eq!(text(&c, "#lesson-step").await, "Three payment pipelines");
    assert!(text(&c, "#lesson .text").await.contains("delivery limit of 3"));
    assert!(
        c.find(Locator::Css("svg#graph .node.highlighted[data-id='payment_seed']")).await.is_ok(),
        "its nodes outlined"
    );
    // Faster than the lesson's own 5x, for the test.
    c.find(Locator::Css("#speed")).await.unwrap().select_by_value("100").await.unwrap();
    eventually("the first step plays to 10 s and stops", || async {
        text(&c, "#clock").await.contains("00:10") && text(&c, "#play").await.contains("Play")
    })
    .await;
    c.find(Locator::Css("#lesson-next")).await.unwrap().click().await.unwrap();
    eventually("step 2", || async { text(&c, "#lesson-progress").await == "Step 2 of 3" }).await;
    assert!(c.find(Locator::Css("#answer")).await.is_err(), "the answer waits for the run");
    c.find(Locator::Css("#choice-1")).await.unwrap().click().await.unwrap();
    eventually("the answer, with the run's numbers, at 60 s", || async {
        let answer = maybe_text(&c, "#answer").await;
        answer.contains("Right.") && maybe_text(&c, "#answer-numbers").await.contains("attempts, delivery limit: 4")
    })
    .await;
    assert!(c.find(Locator::Css("#choice-1.right")).await.is_ok(), "the right choice marked");
    // A presenter's clicker: PageDown.
    key(&c, "\u{E00F}").await;
    eventually("step 3", || async { text(&c, "#lesson-progress").await == "Step 3 of 3" }).await;
    assert_eq!(
        c.find(Locator::Css("#lesson-next")).await.unwrap().prop("disabled").await.unwrap().as_deref(),
        Some("true")
    );
    eventually("the last step plays to 180 s", || async { text(&c, "#clock").await.contains("03:00") }).await;
    c.find(Locator::Css("#lesson-back")).await.unwrap().click().await.unwrap();
    eventually("back to step 2, the answer still shown", || async {
        text(&c, "#lesson-progress").await == "Step 2 of 3" && c.find(Locator::Css("#answer")).await.is_ok()
    })
    .await;
    let png = c.screenshot().await.unwrap();
    std::fs::write(root().join("docs/screenshot-lesson.png"), png).unwrap();
    c.close().await.unwrap();
}

/// The orchestrated saga's walkthrough played: the orchestrator's live counts on the canvas show
/// compensated sagas, and the Sagas tab lists them, each with its steps undone and the declined
/// payment marked, and opens one's state changes on a time axis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "browser test: needs chromium, chromedriver and dist/ (scripts/test.sh provides them and runs it)"]
async fn a_saga_walkthrough_shows_its_compensations() {
    let (_server, _driver, c, url, _) = start().await;
    c.goto(&url).await.unwrap();
    eventually("the graph is drawn", || async { node_count(&c).await == 17 }).await;
    c.find(Locator::Css("#lesson-picker")).await.unwrap().select_by_value("saga-orchestration").await.unwrap();
    eventually("the lesson opens on its scenario", || async {
        text(&c, "#lesson-progress").await == "Step 1 of 3" && node_count(&c).await == 12
    })
    .await;
    let speed = || async { c.find(Locator::Css("#speed")).await.unwrap().select_by_value("100").await.unwrap() };
    speed().await;
    eventually("the first step plays to 30 s", || async { text(&c, "#clock").await.contains("00:30") }).await;
    c.find(Locator::Css("#lesson-next")).await.unwrap().click().await.unwrap();
    eventually("step 2", || async { text(&c, "#lesson-progress").await == "Step 2 of 3" }).await;
    speed().await;
    let figure = "svg#graph .node[data-id='order_saga'] .figure";
    eventually("the orchestrator counts compensated sagas", || async {
        let f = maybe_text(&c, figure).await;
        f.split(" · ")
            .find(|p| p.ends_with('↺'))
            .and_then(|p| p.trim_end_matches(" ↺").parse::<u64>().ok())
            .unwrap_or(0)
            > 0
    })
    .await;
    println!("the orchestrator on the canvas: {}", maybe_text(&c, figure).await);
    c.find(Locator::Css("#tab-sagas")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css(".saga-filter[data-state='compensated']")).await.unwrap().click().await.unwrap();
    eventually("compensated sagas listed, their steps undone", || async {
        c.find(Locator::Css("#saga-list .saga.compensated .step.undone")).await.is_ok()
    })
    .await;
    assert!(
        c.find(Locator::Css("#saga-list .saga:not(.compensated)")).await.is_err(),
        "the filter keeps only compensated"
    );
    c.find(Locator::Css("#saga-list .saga .saga-id")).await.unwrap().click().await.unwrap();
    eventually("its state changes on a time axis", || async {
        c.find(Locator::Css("#saga-list .saga-timeline .saga-change.compensating")).await.is_ok()
    })
    .await;
    std::fs::write(root().join("docs/screenshot-sagas.png"), c.screenshot().await.unwrap()).unwrap();
    // Its messages in the trace, with its state changes on the same axis.
    c.find(Locator::Css("#saga-list .saga .saga-trace")).await.unwrap().click().await.unwrap();
    eventually("the saga's trace, its state changes above its hops", || async {
        c.find(Locator::Css("#trace-saga .saga-change.compensated")).await.is_ok()
            && c.find_all(Locator::Css("#trace li")).await.is_ok_and(|l| !l.is_empty())
    })
    .await;
    c.close().await.unwrap();
}

/// The play-only view: a share link's topology at `/embed#t=...` plays on its own, with play and
/// the clock, and none of the editor (palette, inspector, dock, menus).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "browser test: needs chromium, chromedriver and dist/ (scripts/test.sh provides them and runs it)"]
async fn the_embed_page_plays_a_shared_topology_without_the_editor() {
    let (_server, _driver, c, url, driver_port) = start().await;
    c.goto(&url).await.unwrap();
    eventually("the graph is drawn", || async { node_count(&c).await == 17 }).await;
    c.find(Locator::Css("#share")).await.unwrap().click().await.unwrap();
    let link = c.find(Locator::Css("#share-url")).await.unwrap().prop("value").await.unwrap().unwrap_or_default();
    let hash = link.split_once('#').map(|(_, h)| h.to_string()).unwrap_or_default();
    assert!(hash.starts_with("t="), "{link}");
    let embed = browser(driver_port).await;
    embed.goto(&format!("{}/embed#{hash}", url.trim_end_matches('/'))).await.unwrap();
    eventually("the shared topology is drawn", || async { node_count(&embed).await == 17 }).await;
    eventually("it plays on its own", || async { text(&embed, "#clock").await.as_str() > "00:02.0" }).await;
    for hidden in [".palette", ".inspector", ".dock", "#lesson-picker"] {
        let shown = match embed.find(Locator::Css(hidden)).await {
            Ok(e) => e.is_displayed().await.unwrap_or(false),
            Err(_) => false,
        };
        assert!(!shown, "{hidden} is shown in the play-only view");
    }
    assert!(embed.find(Locator::Css("#play")).await.unwrap().is_displayed().await.unwrap(), "play stays");
    std::fs::write(root().join("docs/screenshot-embed.png"), embed.screenshot().await.unwrap()).unwrap();
    embed.close().await.unwrap();
    c.close().await.unwrap();
}

/// The other formats from the app: the order pipeline exported as RabbitMQ definitions and as
/// an AsyncAPI document from Export's menu, and the definitions imported back as the broker they
/// define, with the note that producers and services are to be added.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "browser test: needs chromium, chromedriver and dist/ (scripts/test.sh provides them and runs it)"]
async fn the_broker_goes_out_as_definitions_and_asyncapi_and_comes_back() {
    let (_server, _driver, c, url, downloads) = start_saving().await;
    c.goto(&url).await.unwrap();
    eventually("the graph is drawn", || async { node_count(&c).await == 17 }).await;
    let read = |name: &str| {
        let file = downloads.path().join(name);
        std::fs::read_to_string(file).ok().and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
    };
    for (item, name) in [
        ("#export-rabbitmq", "order-pipeline--spyker77-eda-definitions.json"),
        ("#export-asyncapi", "order-pipeline--spyker77-eda-asyncapi.json"),
    ] {
        c.find(Locator::Css("#export-more")).await.unwrap().click().await.unwrap();
        c.find(Locator::Css(item)).await.unwrap().click().await.unwrap();
        eventually(&format!("{name} is downloaded"), || async { read(name).is_some() }).await;
    }
    let defs = read("order-pipeline--spyker77-eda-definitions.json").unwrap();
    assert!(defs["queues"].as_array().unwrap().iter().any(|q| q["name"] == "payment_queue"));
    let doc = read("order-pipeline--spyker77-eda-asyncapi.json").unwrap();
    assert_eq!(doc["asyncapi"], "3.0.0");
    // The definitions, imported, are the broker: five queues, two exchanges, no services.
    import(&c, &defs.to_string()).await;
    eventually("the broker is drawn", || async { node_count(&c).await == 7 }).await;
    eventually("the import says what to add", || async {
        maybe_text(&c, ".problems").await.contains("add the producers that publish")
    })
    .await;
    c.close().await.unwrap();
}

/// Presenter mode at 1280x720 (a projector): the canvas the full width, every name whole and at
/// least 14 px tall, the step's text at least 28 px, and the charts of the step's nodes only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "browser test: needs chromium, chromedriver and dist/ (scripts/test.sh provides them and runs it)"]
async fn presenter_mode_reads_from_the_back_of_the_room() {
    let (_server, _driver, c, url, _) = start().await;
    c.goto(&url).await.unwrap();
    eventually("the graph is drawn", || async { node_count(&c).await == 17 }).await;
    viewport(&c, 1280, 720).await;
    c.find(Locator::Css("#lesson-picker")).await.unwrap().select_by_value("order-pipeline-tour").await.unwrap();
    eventually("the tour opens", || async { maybe_text(&c, "#lesson-progress").await == "Step 1 of 4" }).await;
    c.find(Locator::Css("#present")).await.unwrap().click().await.unwrap();
    eventually("presenter mode", || async { maybe_text(&c, "#presenter-step").await == "An order comes in" }).await;
    let px = |css: &'static str| {
        let c = &c;
        async move {
            c.execute(&format!("return parseFloat(getComputedStyle(document.querySelector('{css}')).fontSize)"), vec![])
                .await
                .unwrap()
                .as_f64()
                .unwrap()
        }
    };
    assert!(px(".presenter .text p").await >= 28.0, "the step's text is large");
    assert!(c.find(Locator::Css("svg#graph .link.highlighted")).await.is_ok(), "the step's link is outlined");
    let stage_w =
        c.execute("return document.querySelector('.stage').getBoundingClientRect().width", vec![]).await.unwrap();
    assert!(stage_w.as_f64().unwrap() >= 1270.0, "the canvas is the full width: {stage_w}");
    assert!(c.find(Locator::Css(".dock")).await.unwrap().is_displayed().await.is_ok_and(|d| !d), "the dock folds away");
    let (name_px, cut) = name_sizes(&c).await;
    assert!(cut.is_empty(), "names cut in presenter mode: {cut:?}");
    assert!(name_px >= 14.0, "names {name_px:.1} px tall in presenter mode at 1280x720");
    // The first step names five nodes: the strip charts the first three of them, nothing else.
    let charts = c.find_all(Locator::Css(".presenter .chart")).await.unwrap().len();
    assert_eq!(charts, 3);
    assert!(maybe_text(&c, "#present-chart-0 figcaption").await.starts_with("order_api"));
    println!("presenter mode at 1280x720: names {name_px:.1} px");
    std::fs::write(root().join("docs/screenshot-presenter-lesson.png"), c.screenshot().await.unwrap()).unwrap();
    key(&c, "\u{E00C}").await; // Escape
    eventually("presenter mode left", || async { c.find(Locator::Css("#presenter")).await.is_err() }).await;
    c.close().await.unwrap();
}

/// A classroom in three browsers: the teacher opens a walkthrough and the classroom; two students
/// open its watch link and see the teacher's canvas and step; they follow play, pause and the
/// next step; a student's Play is refused, but a trace is the student's to open; a fork gives
/// one a run of its own, which it plays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "browser test: needs chromium, chromedriver and dist/ (scripts/test.sh provides them and runs it)"]
async fn a_class_watches_the_teachers_run_and_a_student_forks_it() {
    let (_server, _driver, teacher, url, driver_port) = start().await;
    teacher.goto(&url).await.unwrap();
    eventually("the graph is drawn", || async { node_count(&teacher).await == 17 }).await;
    teacher.find(Locator::Css("#lesson-picker")).await.unwrap().select_by_value("poison-message").await.unwrap();
    eventually("the lesson opens", || async { maybe_text(&teacher, "#lesson-progress").await == "Step 1 of 3" }).await;
    teacher.find(Locator::Css("#open-classroom")).await.unwrap().click().await.unwrap();
    eventually("a join code", || async { maybe_text(&teacher, "#classroom").await.contains("0 watching") }).await;
    let banner = maybe_text(&teacher, "#classroom").await;
    let code = banner.split_whitespace().nth(1).unwrap().to_string();
    assert!(banner.contains(&format!("/watch/{code}")), "{banner}");
    let (a, b) = (browser(driver_port).await, browser(driver_port).await);
    for s in [&a, &b] {
        s.goto(&format!("{url}watch/{code}")).await.unwrap();
        eventually("the teacher's canvas and step", || async {
            node_count(s).await == 15 && maybe_text(s, "#lesson-progress").await == "Step 1 of 3"
        })
        .await;
        assert!(maybe_text(s, "#watching").await.contains(&code));
    }
    eventually("the teacher sees two watch", || async {
        maybe_text(&teacher, "#classroom").await.contains("2 watching")
    })
    .await;
    // The first step plays to 10 s: the students' clocks follow and stop there.
    for s in [&a, &b] {
        eventually("the student's clock at 10 s", || async { text(s, "#clock").await.contains("00:10") }).await;
    }
    teacher.find(Locator::Css("#lesson-next")).await.unwrap().click().await.unwrap();
    for s in [&a, &b] {
        eventually("the student follows to step 2", || async {
            maybe_text(s, "#lesson-progress").await == "Step 2 of 3"
        })
        .await;
        eventually("and the run plays on", || async { !text(s, "#clock").await.contains("00:10") }).await;
    }
    key(&teacher, " ").await; // the teacher pauses
    eventually("paused for the class", || async { text(&a, "#play").await.contains("Play") }).await;
    let paused = text(&teacher, "#clock").await;
    eventually("the same instant on every screen", || async {
        text(&a, "#clock").await == paused && text(&b, "#clock").await == paused
    })
    .await;
    // A student's Play is refused: the run stays paused for everyone.
    a.find(Locator::Css("#play")).await.unwrap().click().await.unwrap();
    eventually("refused, and said why", || async {
        maybe_text(&a, ".problems").await.contains("only the teacher controls")
    })
    .await;
    assert_eq!(text(&teacher, "#clock").await, paused, "the teacher's run did not move");
    // But a question is the student's to ask: a log line opens its order's trace.
    a.find(Locator::Css("#tab-log")).await.unwrap().click().await.unwrap();
    eventually("the student's log has lines", || async {
        a.find_all(Locator::Css(".lines tbody tr")).await.map_or(0, |r| r.len()) >= 1
    })
    .await;
    a.find(Locator::Css(".lines tbody tr td:first-child")).await.unwrap().click().await.unwrap();
    eventually("the student reads the trace", || async {
        a.find_all(Locator::Css("#trace li")).await.map_or(0, |r| r.len()) >= 1
    })
    .await;
    // A fork: a run of the student's own, from where the class is.
    b.find(Locator::Css("#fork")).await.unwrap().click().await.unwrap();
    eventually("the fork is the student's, connected", || async {
        b.find(Locator::Css("#watching")).await.is_err()
            && b.find(Locator::Css("#open-classroom")).await.is_ok()
            && b.find(Locator::Css(".link-state:not(.offline)")).await.is_ok()
            && node_count(&b).await == 15
    })
    .await;
    assert_eq!(text(&b, "#clock").await, paused, "the fork starts where the class is");
    b.find(Locator::Css("#play")).await.unwrap().click().await.unwrap();
    eventually("the fork plays for its student alone", || async { text(&b, "#clock").await != paused }).await;
    assert_eq!(text(&teacher, "#clock").await, paused, "the class's run is still paused");
    for c in [a, b, teacher] {
        c.close().await.unwrap();
    }
}

/// A lesson's comparison: the step names two consumers; the first is charted with the second's
/// series dashed over it, and "Compare with…" offers the nodes of the same kind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "browser test: needs chromium, chromedriver and dist/ (scripts/test.sh provides them and runs it)"]
async fn a_step_compares_two_variants_on_one_chart() {
    let (_server, _driver, c, url, _) = start().await;
    c.goto(&url).await.unwrap();
    eventually("the graph is drawn", || async { node_count(&c).await == 17 }).await;
    c.find(Locator::Css("#lesson-picker")).await.unwrap().select_by_value("retries-and-jitter").await.unwrap();
    eventually("the lesson opens", || async { maybe_text(&c, "#lesson-progress").await == "Step 1 of 4" }).await;
    c.find(Locator::Css("#speed")).await.unwrap().select_by_value("100").await.unwrap();
    for step in ["Step 2 of 4", "Step 3 of 4"] {
        c.find(Locator::Css("#lesson-next")).await.unwrap().click().await.unwrap();
        eventually(step, || async { maybe_text(&c, "#lesson-progress").await == step }).await;
    }
    eventually("consumer charted with consumer_j dashed over it", || async {
        maybe_text(&c, ".dock-title").await.starts_with("consumer ·")
            && maybe_text(&c, "#chart-errors figcaption").await.contains("dashed: consumer_j")
    })
    .await;
    eventually("both series have points past the outage", || async {
        let twin = match c.find(Locator::Css("#chart-errors")).await {
            Ok(e) => e.attr("data-twin-last").await.ok().flatten().unwrap_or_default(),
            Err(_) => String::new(),
        };
        twin.contains("retries=") && last_of(&c, "#chart-errors", "retries").await >= 0.0
    })
    .await;
    let offered: Vec<String> = {
        let mut v = Vec::new();
        for o in c.find_all(Locator::Css("#compare option")).await.unwrap() {
            v.push(o.attr("value").await.unwrap().unwrap_or_default());
        }
        v
    };
    assert_eq!(offered, ["", "consumer_j"], "only the other consumer is offered");
    c.close().await.unwrap();
}

/// A step that jumps: the run goes straight to the lesson's time and pauses there; Play then
/// plays to the step's end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "browser test: needs chromium, chromedriver and dist/ (scripts/test.sh provides them and runs it)"]
async fn a_step_jumps_ahead_and_waits_for_play() {
    let (_server, _driver, c, url, _) = start().await;
    c.goto(&url).await.unwrap();
    eventually("the graph is drawn", || async { node_count(&c).await == 17 }).await;
    c.find(Locator::Css("#lesson-picker")).await.unwrap().select_by_value("seed-bugs").await.unwrap();
    eventually("the lesson opens", || async { maybe_text(&c, "#lesson-progress").await == "Step 1 of 4" }).await;
    c.find(Locator::Css("#speed")).await.unwrap().select_by_value("100").await.unwrap();
    eventually("step 1 plays to 120 s", || async { text(&c, "#clock").await.starts_with("02:00") }).await;
    c.find(Locator::Css("#lesson-next")).await.unwrap().click().await.unwrap();
    eventually("jumped to 290 s, paused", || async {
        text(&c, "#clock").await.starts_with("04:50") && text(&c, "#play").await.contains("Play")
    })
    .await;
    key(&c, " ").await;
    eventually("Space plays to the step's end, 300 s", || async { text(&c, "#clock").await.starts_with("05:00") })
        .await;
    c.close().await.unwrap();
}
