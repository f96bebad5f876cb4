//! The live server as a browser uses it: the real router on a free port, a real websocket
//! client, and plain HTTP.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use edasim_protocol::ServerMsg;
use edasim_server::state::{AppState, Limits};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn start_server() -> SocketAddr {
    let state = AppState::new(Limits::default(), vec![]).expect("the simulation pool starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = edasim_server::serve::router(state, std::path::Path::new("/nonexistent-dist"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

async fn connect(addr: SocketAddr, session: Option<&str>) -> Ws {
    let url = match session {
        Some(id) => format!("ws://{addr}/ws?session={id}"),
        None => format!("ws://{addr}/ws"),
    };
    tokio_tungstenite::connect_async(url).await.expect("websocket connects").0
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

/// The next server message, within `wait`.
async fn next(ws: &mut Ws, wait: Duration) -> Option<ServerMsg> {
    loop {
        match tokio::time::timeout(wait, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return Some(serde_json::from_str(&t).expect("a protocol message")),
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

/// Every message received during `d`.
async fn collect(ws: &mut Ws, d: Duration) -> Vec<ServerMsg> {
    let end = Instant::now() + d;
    let mut out = Vec::new();
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        match next(ws, left).await {
            Some(m) => out.push(m),
            None => break,
        }
    }
    out
}

/// Reads until a message matches.
async fn until(ws: &mut Ws, what: &str, f: impl Fn(&ServerMsg) -> bool) -> ServerMsg {
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        if let Some(m) = next(ws, Duration::from_secs(10)).await
            && f(&m)
        {
            return m;
        }
    }
    panic!("no {what} within 10 s");
}

async fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text[9..12].parse().unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.to_string() };
    (status, body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

fn frames(msgs: &[ServerMsg]) -> Vec<&edasim_protocol::Frame> {
    msgs.iter().filter_map(|m| if let ServerMsg::Frame(f) = m { Some(f) } else { None }).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn play_pause_change_and_reconnect() {
    let addr = start_server().await;
    let mut ws = connect(addr, None).await;
    let ServerMsg::Welcome { session, resumed, scenarios, walkthroughs, .. } =
        next(&mut ws, Duration::from_secs(5)).await.unwrap()
    else {
        panic!("welcome first");
    };
    assert!(!resumed && scenarios.contains(&"order-pipeline".to_string()));
    assert!(walkthroughs.iter().any(|(name, _)| name == "order-pipeline-tour"), "the lessons menu: {walkthroughs:?}");
    let ServerMsg::Loaded { topology, .. } = until(&mut ws, "loaded", |m| matches!(m, ServerMsg::Loaded { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(topology["nodes"].as_array().unwrap().len(), 17, "the order pipeline is loaded");

    // Load it explicitly too, then play at 100x.
    send(&mut ws, json!({"type": "load_scenario", "name": "order-pipeline"})).await;
    send(&mut ws, json!({"type": "set_speed", "speed": 100})).await;
    send(&mut ws, json!({"type": "play"})).await;
    let msgs = collect(&mut ws, Duration::from_secs(2)).await;
    let fs = frames(&msgs);
    assert!(fs.len() >= 20, "about 30 frames a second: {} in 2 s", fs.len());
    assert!(fs.windows(2).all(|w| w[0].t_ms <= w[1].t_ms));
    let last = fs.last().unwrap();
    assert!(last.t_ms > 50_000.0, "100x for 2 s: {} ms simulated", last.t_ms);
    assert!(last.totals.produced > 500 && !last.hops.is_empty());
    assert!(msgs.iter().any(|m| matches!(m, ServerMsg::Metrics(_))), "metrics arrive");
    assert!(msgs.iter().any(|m| matches!(m, ServerMsg::Log(_))), "payments fail: log lines arrive");

    // Pause: the clock stops.
    send(&mut ws, json!({"type": "pause"})).await;
    let ServerMsg::State { playing: false, t_ms: paused_at, .. } =
        until(&mut ws, "paused state", |m| matches!(m, ServerMsg::State { playing: false, .. })).await
    else {
        unreachable!()
    };
    let after = collect(&mut ws, Duration::from_millis(700)).await;
    assert!(frames(&after).iter().all(|f| f.t_ms == paused_at), "no frame moves the clock after pause");

    // A live change shows in the metrics: the order API from 8 to 200 orders a second.
    send(&mut ws, json!({"type": "set_param", "node": "order_api", "change": {"param": "rate_per_s", "value": 200}}))
        .await;
    send(&mut ws, json!({"type": "play"})).await;
    let msgs = collect(&mut ws, Duration::from_secs(2)).await;
    let rates: Vec<u32> = msgs
        .iter()
        .filter_map(|m| if let ServerMsg::Metrics(x) = m { Some(x) } else { None })
        .flat_map(|x| x.nodes.iter().filter(|n| n.node == "order_api").flat_map(|n| n.points.iter()))
        .filter(|p| p.t_s as f64 * 1000.0 > paused_at + 1000.0)
        .map(|p| p.out_per_s)
        .collect();
    assert!(!rates.is_empty(), "new points for order_api");
    let mean = rates.iter().map(|&r| f64::from(r)).sum::<f64>() / rates.len() as f64;
    assert!((150.0..250.0).contains(&mean), "order_api emits about 200/s after the change: {mean} ({rates:?})");

    // Reconnect within the minute: the same session, where it was.
    send(&mut ws, json!({"type": "pause"})).await;
    let _ = until(&mut ws, "paused", |m| matches!(m, ServerMsg::State { playing: false, .. })).await;
    ws.close(None).await.unwrap();
    drop(ws);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut ws = connect(addr, Some(&session)).await;
    let ServerMsg::Welcome { session: again, resumed, .. } = next(&mut ws, Duration::from_secs(5)).await.unwrap()
    else {
        panic!("welcome first");
    };
    assert_eq!((again.as_str(), resumed), (session.as_str(), true));
    let ServerMsg::Frame(f) = until(&mut ws, "frame", |m| matches!(m, ServerMsg::Frame(_))).await else {
        unreachable!()
    };
    assert!(f.totals.produced > 1_000, "the session kept its state: {:?}", f.totals);

    // The event log of the session, as JSON lines.
    let (status, body) = http(addr, "GET", &format!("/api/sessions/{session}/events.ndjson"), "").await;
    assert_eq!(status, 200);
    let first: Value = serde_json::from_str(body.lines().next().expect("log lines")).unwrap();
    for field in ["@timestamp", "log.level", "service", "message", "event.type", "message_id"] {
        assert!(!first[field].is_null(), "{field} in {first}");
    }
    assert!(first["@timestamp"].as_str().unwrap().starts_with("1970-01-01T"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_commands_get_errors_and_the_connection_stays() {
    let addr = start_server().await;
    let mut ws = connect(addr, None).await;
    let _ = until(&mut ws, "first frame", |m| matches!(m, ServerMsg::Frame(_))).await;
    let error = |m: &ServerMsg| matches!(m, ServerMsg::Error { .. });

    ws.send(Message::Text("{not json".into())).await.unwrap();
    let ServerMsg::Error { message, .. } = until(&mut ws, "error", error).await else { unreachable!() };
    assert!(message.starts_with("invalid JSON"), "{message}");

    send(&mut ws, json!({"type": "set_speed", "speed": "fast"})).await;
    let ServerMsg::Error { command, path, message, .. } = until(&mut ws, "error", error).await else { unreachable!() };
    assert_eq!((command.as_deref(), path.as_str()), (Some("set_speed"), "speed"));
    assert!(message.contains("invalid type: string \"fast\", expected f64"), "{message}");

    send(
        &mut ws,
        json!({"type": "set_param", "node": "payment_processing", "change": {"param": "replicas", "value": -1}}),
    )
    .await;
    let ServerMsg::Error { path, .. } = until(&mut ws, "error", error).await else { unreachable!() };
    assert_eq!(path, "change.value");

    send(&mut ws, json!({"type": "set_speed", "speed": 5000})).await;
    let ServerMsg::Error { path, message, .. } = until(&mut ws, "error", error).await else { unreachable!() };
    assert_eq!(path, "speed");
    assert!(message.contains("0.1 to 1000"), "{message}");

    send(&mut ws, json!({"type": "set_param", "node": "ghost", "change": {"param": "replicas", "value": 2}})).await;
    let ServerMsg::Error { path, .. } = until(&mut ws, "error", error).await else { unreachable!() };
    assert_eq!(path, "node");

    // A bad topology: every problem with its path; the good one stays.
    let bad = json!({"version": 1, "name": "bad", "nodes": [{"id": "p", "kind": "producer", "rate_per_s": -1}], "links": [{"from": "p", "to": "nowhere"}]});
    send(&mut ws, json!({"type": "load_topology", "topology": bad})).await;
    let ServerMsg::Error { problems, .. } = until(&mut ws, "error", error).await else { unreachable!() };
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert!(paths.contains(&"nodes[0].rate_per_s") && paths.contains(&"links[0].to"), "{paths:?}");

    // An oversized message: an error, not a closed connection.
    let huge = json!({"type": "load_topology", "topology": {"name": "x".repeat(3 * 1024 * 1024)}});
    send(&mut ws, huge).await;
    let ServerMsg::Error { message, .. } = until(&mut ws, "error", error).await else { unreachable!() };
    assert!(message.contains("bytes; the limit is"), "{message}");

    // Still usable, and still the order pipeline.
    send(&mut ws, json!({"type": "step", "ms": 5000})).await;
    let ServerMsg::Frame(f) = until(&mut ws, "frame", |m| matches!(m, ServerMsg::Frame(f) if f.t_ms > 0.0)).await
    else {
        unreachable!()
    };
    assert_eq!(f.t_ms, 5000.0);
    assert_eq!(f.nodes.len(), 17);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_api_and_prometheus_metrics() {
    let addr = start_server().await;
    let (status, body) = http(addr, "GET", "/healthz", "").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = http(addr, "GET", "/api/scenarios", "").await;
    assert_eq!(status, 200);
    let list: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list[0]["name"], "order-pipeline");
    assert_eq!(list[1]["name"], "order-pipeline-k8s", "both variants are on the menu");
    let (status, body) = http(addr, "GET", "/api/scenarios/order-pipeline", "").await;
    assert_eq!(status, 200);
    assert!(edasim_sim::Model::from_json_str(&body).is_ok());
    assert_eq!(http(addr, "GET", "/api/scenarios/nope", "").await.0, 404);

    let (status, body) =
        http(addr, "POST", "/api/validate", r#"{"version": 1, "nodes": [{"id": "q", "kind": "kafka"}]}"#).await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["problems"][0]["path"], "nodes[0].kind");
    let (status, _) = http(addr, "POST", "/api/validate", &"x".repeat(3 * 1024 * 1024)).await;
    assert_eq!(status, 413, "request bodies are limited");

    // A session playing, then /metrics parsed by a Prometheus exposition parser.
    let mut ws = connect(addr, None).await;
    send(&mut ws, json!({"type": "set_speed", "speed": 50})).await;
    send(&mut ws, json!({"type": "play"})).await;
    let _ = collect(&mut ws, Duration::from_millis(1500)).await;
    let (status, body) = http(addr, "GET", "/metrics", "").await;
    assert_eq!(status, 200);
    let lines = body.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("valid exposition format");
    let depth = scrape
        .samples
        .iter()
        .find(|s| s.metric == "edasim_queue_depth" && s.labels.get("node") == Some("payment_queue"))
        .expect("queue depth of payment_queue");
    assert_eq!(depth.labels.get("kind"), Some("queue"));
    assert!(depth.labels.get("session").is_some());
    let produced = scrape.samples.iter().find(|s| s.metric == "edasim_messages_produced_total").unwrap();
    assert!(matches!(produced.value, prometheus_parse::Value::Counter(v) if v > 0.0), "{:?}", produced.value);
    assert!(scrape.samples.iter().any(|s| s.metric == "edasim_frames_sent_total"));
    assert_eq!(scrape.docs.get("edasim_sessions").map(String::as_str), Some("Live sessions."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_origins_are_refused() {
    let addr = start_server().await;
    let mut req =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!("ws://{addr}/ws"))
            .unwrap();
    req.headers_mut().insert("Origin", "https://evil.example".parse().unwrap());
    let err = tokio_tungstenite::connect_async(req).await.expect_err("refused");
    assert!(err.to_string().contains("403"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_the_built_app_and_nothing_outside_it() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    std::fs::create_dir(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<!doctype html><title>edasim</title>").unwrap();
    std::fs::write(dist.join("edasim-app-0123456789abcdef_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "outside dist").unwrap();
    let state = AppState::new(Limits::default(), vec![]).expect("the simulation pool starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = edasim_server::serve::router(state, &dist);
    tokio::spawn(async move { axum::serve(listener, router).await });

    let head = |path: &'static str| async move {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.unwrap();
        String::from_utf8_lossy(&buf).to_ascii_lowercase()
    };
    let index = head("/").await;
    assert!(index.starts_with("http/1.1 200") && index.contains("content-type: text/html"), "{index}");
    assert!(index.contains("cache-control: no-cache"));
    let wasm = head("/edasim-app-0123456789abcdef_bg.wasm").await;
    assert!(wasm.contains("content-type: application/wasm"), "{wasm}");
    assert!(wasm.contains("immutable"), "hashed assets are cached for good: {wasm}");
    for path in ["/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt"] {
        let r = head(path).await;
        assert!(!r.contains("outside dist"), "{path} escaped dist: {r}");
    }
    // Without a build, a page says how to make one.
    let (status, body) = http(start_server().await, "GET", "/", "").await;
    assert_eq!(status, 200);
    assert!(body.contains("scripts/up.sh"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_rates_are_limited_in_total() {
    let addr = start_server().await;
    let mut ws = connect(addr, None).await;
    let _ = until(&mut ws, "first frame", |m| matches!(m, ServerMsg::Frame(_))).await;
    let two = json!({"version": 1, "name": "two", "nodes": [
        {"id": "a", "kind": "producer", "rate_per_s": 1}, {"id": "b", "kind": "producer", "rate_per_s": 1},
        {"id": "q", "kind": "queue"}], "links": [{"from": "a", "to": "q"}, {"from": "b", "to": "q"}]});
    send(&mut ws, json!({"type": "load_topology", "topology": two})).await;
    let _ = until(&mut ws, "loaded", |m| matches!(m, ServerMsg::Loaded { .. })).await;
    let limit = Limits::default().max_total_rate;
    send(&mut ws, json!({"type": "set_param", "node": "a", "change": {"param": "rate_per_s", "value": limit * 0.75}}))
        .await;
    send(&mut ws, json!({"type": "set_param", "node": "b", "change": {"param": "rate_per_s", "value": limit * 0.75}}))
        .await;
    let ServerMsg::Error { path, message, .. } =
        until(&mut ws, "error", |m| matches!(m, ServerMsg::Error { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(path, "change.value");
    assert!(message.contains("a live session allows"), "{message}");
    // The refusal names the node and the parameter, for the field to show it and roll back.
    let refused = json!({"type": "set_param", "node": "a", "change": {"param": "rate_per_s", "value": limit * 2.0}});
    send(&mut ws, refused).await;
    let ServerMsg::Error { node, param, .. } = until(&mut ws, "error", |m| matches!(m, ServerMsg::Error { .. })).await
    else {
        unreachable!()
    };
    assert_eq!((node.as_deref(), param.as_deref()), (Some("a"), Some("rate_per_s")));
}

/// Every fault kind the file schedules can be started live: the node's frame carries its badge
/// with the time left, a wrong node or value is refused with the reason, the breaker's state
/// reaches the frame and `/metrics`, and the effect shows (a store that is down fails calls).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_start_live_and_show_on_their_nodes() {
    let addr = start_server().await;
    let mut ws = connect(addr, None).await;
    send(&mut ws, json!({"type": "load_scenario", "name": "circuit-breaker"})).await;
    let _ = until(&mut ws, "loaded", |m| matches!(m, ServerMsg::Loaded { .. })).await;
    send(&mut ws, json!({"type": "set_speed", "speed": 20})).await;
    send(&mut ws, json!({"type": "play"})).await;
    let _ = collect(&mut ws, Duration::from_millis(500)).await;
    send(&mut ws, json!({"type": "start_fault", "node": "inventory", "fault": {"kind": "store_down"}, "for_s": 30}))
        .await;
    let ServerMsg::Frame(f) = until(
        &mut ws,
        "a frame with the fault",
        |m| matches!(m, ServerMsg::Frame(f) if f.nodes.iter().any(|n| n.id == "inventory" && !n.faults.is_empty())),
    )
    .await
    else {
        unreachable!()
    };
    let store = f.nodes.iter().find(|n| n.id == "inventory").unwrap();
    assert_eq!(store.faults[0].kind, "store_down");
    let left = store.faults[0].left_s.unwrap();
    assert!(left > 0.0 && left <= 30.0, "{left} s left");
    // Refused: a burst on a store, a rate above 1, an unknown kind; the session goes on.
    for (fault, expected) in [
        (json!({"kind": "burst", "factor": 2}), "strikes a producer"),
        (json!({"kind": "error_rate", "rate": 2}), "rate"),
        (json!({"kind": "meteor"}), "unknown variant"),
    ] {
        send(&mut ws, json!({"type": "start_fault", "node": "inventory", "fault": fault})).await;
        let ServerMsg::Error { message, .. } = until(&mut ws, "error", |m| matches!(m, ServerMsg::Error { .. })).await
        else {
            unreachable!()
        };
        assert!(message.contains(expected), "{expected} in: {message}");
    }
    // The breaker opens on the failing calls (fast failures: the store refuses at once).
    let ServerMsg::Frame(f) = until(&mut ws, "an open breaker", |m| {
        matches!(m, ServerMsg::Frame(f) if f.nodes.iter().any(|n| n.id == "orders_service_b"
            && n.breaker == Some(edasim_sim::engine::BreakerState::Open)))
    })
    .await
    else {
        unreachable!()
    };
    assert!(f.nodes.iter().any(|n| n.id == "orders_service" && n.breaker.is_none()), "no breaker there");
    let (_, body) = http(addr, "GET", "/metrics", "").await;
    let lines = body.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("valid exposition format");
    let active = scrape
        .samples
        .iter()
        .find(|s| s.metric == "edasim_node_faults_active" && s.labels.get("node") == Some("inventory"))
        .expect("faults active on inventory");
    assert!(matches!(active.value, prometheus_parse::Value::Gauge(v) if v == 1.0), "{:?}", active.value);
    assert!(scrape.samples.iter().any(|s| s.metric == "edasim_breaker_state"), "breaker states are exported");
}

/// A walkthrough opened over the websocket loads its scenario and seed and arrives whole; a
/// play with `until_ms` pauses exactly there; `evaluate` answers with the run's numbers (and
/// says why for an expression it cannot read).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walkthroughs_open_play_to_a_step_and_evaluate() {
    let addr = start_server().await;
    let mut ws = connect(addr, None).await;
    send(&mut ws, json!({"type": "open_walkthrough", "name": "poison-message"})).await;
    let ServerMsg::Walkthrough { name, file } =
        until(&mut ws, "the walkthrough", |m| matches!(m, ServerMsg::Walkthrough { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(name, "poison-message");
    assert_eq!(file["scenario"], "poison-message");
    send(&mut ws, json!({"type": "set_speed", "speed": 100})).await;
    send(&mut ws, json!({"type": "play", "until_ms": 12000})).await;
    let ServerMsg::State { t_ms, .. } =
        until(&mut ws, "paused at 12 s", |m| matches!(m, ServerMsg::State { playing: false, t_ms, .. } if *t_ms > 0.0))
            .await
    else {
        unreachable!()
    };
    assert_eq!(t_ms, 12000.0, "paused exactly at the step's end");
    send(
        &mut ws,
        json!({"type": "evaluate", "exprs": ["faults.0.affected", "nodes.payment.failed", "nodes.nope.depth"]}),
    )
    .await;
    let ServerMsg::Values { t_ms, values } = until(&mut ws, "values", |m| matches!(m, ServerMsg::Values { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(t_ms, 12000.0);
    assert!(values[0].value.is_some_and(|v| v >= 1.0), "the poison was tried: {:?}", values[0]);
    // Every failure is the poison's (its attempt under way is counted, not yet failed).
    let (attempts, failed) = (values[0].value.unwrap(), values[1].value.unwrap());
    assert!(failed <= attempts && attempts <= failed + 1.0, "{attempts} attempts, {failed} failed");
    assert!(values[2].error.as_deref().is_some_and(|e| e.contains("no \"nope\"")), "{:?}", values[2]);
    send(&mut ws, json!({"type": "open_walkthrough", "name": "nope"})).await;
    let ServerMsg::Error { message, .. } = until(&mut ws, "error", |m| matches!(m, ServerMsg::Error { .. })).await
    else {
        unreachable!()
    };
    assert!(message.contains("no walkthrough \"nope\""), "{message}");
}

async fn watch(addr: SocketAddr, code: &str) -> Ws {
    tokio_tungstenite::connect_async(format!("ws://{addr}/ws?watch={code}")).await.expect("a watcher connects").0
}

/// A classroom: the teacher opens the session to watchers with a code; two watchers follow its
/// play, pause and walkthrough step in the same frames; a watcher's command is refused, its
/// questions (a trace, sagas) answered to it alone; a fork
/// gives a watcher a private copy at the same time with the same totals, which it controls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_classroom_is_watched_followed_and_forked() {
    let addr = start_server().await;
    let mut teacher = connect(addr, None).await;
    send(&mut teacher, json!({"type": "open_walkthrough", "name": "poison-message"})).await;
    let _ = until(&mut teacher, "the walkthrough", |m| matches!(m, ServerMsg::Walkthrough { .. })).await;
    send(&mut teacher, json!({"type": "open_classroom"})).await;
    let ServerMsg::Classroom { code, watchers: 0 } =
        until(&mut teacher, "a code", |m| matches!(m, ServerMsg::Classroom { .. })).await
    else {
        panic!("no watchers yet")
    };
    assert_eq!(code.len(), 6);
    assert_eq!(
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws?watch=NOPE42"))
            .await
            .err()
            .map(|e| e.to_string().contains("404")),
        Some(true),
        "an unknown code is refused"
    );
    let mut a = watch(addr, &code).await;
    let mut b = watch(addr, &code.to_lowercase()).await;
    for w in [&mut a, &mut b] {
        let ServerMsg::Welcome { watching, .. } = next(w, Duration::from_secs(5)).await.unwrap() else {
            panic!("welcome")
        };
        assert_eq!(watching.as_deref(), Some(code.as_str()));
        let _ = until(w, "the walkthrough", |m| matches!(m, ServerMsg::Walkthrough { .. })).await;
    }
    let _ = until(&mut teacher, "two watch", |m| matches!(m, ServerMsg::Classroom { watchers: 2, .. })).await;
    // Play: both watchers see the clock move in frames; the teacher pauses: both see it.
    send(&mut teacher, json!({"type": "set_speed", "speed": 50})).await;
    send(&mut teacher, json!({"type": "play"})).await;
    let mut seen = 0;
    for w in [&mut a, &mut b] {
        let ServerMsg::Frame(f) = until(
            w,
            "a frame past 5 s with hops",
            |m| matches!(m, ServerMsg::Frame(f) if f.t_ms > 5_000.0 && !f.hops.is_empty()),
        )
        .await
        else {
            unreachable!()
        };
        seen = f.hops[0].msg;
    }
    send(&mut teacher, json!({"type": "pause"})).await;
    let ServerMsg::State { t_ms: paused, .. } =
        until(&mut teacher, "paused", |m| matches!(m, ServerMsg::State { playing: false, t_ms, .. } if *t_ms > 0.0))
            .await
    else {
        unreachable!()
    };
    for w in [&mut a, &mut b] {
        let ServerMsg::State { t_ms, .. } =
            until(w, "paused too", |m| matches!(m, ServerMsg::State { playing: false, t_ms, .. } if *t_ms > 0.0)).await
        else {
            unreachable!()
        };
        assert_eq!(t_ms, paused);
    }
    // The teacher's step: both follow.
    send(&mut teacher, json!({"type": "lesson_step", "step": 2})).await;
    for w in [&mut a, &mut b] {
        let _ = until(w, "step 2", |m| matches!(m, ServerMsg::LessonStep { step: 2, .. })).await;
    }
    // A watcher's command is refused: only the teacher controls.
    send(&mut a, json!({"type": "play"})).await;
    let ServerMsg::Error { message, .. } = until(&mut a, "refused", |m| matches!(m, ServerMsg::Error { .. })).await
    else {
        unreachable!()
    };
    assert!(message.contains("only the teacher controls"), "{message}");
    // A watcher's questions change nothing: answered, to it alone.
    send(&mut a, json!({"type": "trace", "msg": seen})).await;
    let ServerMsg::Trace { msg, hops } = until(&mut a, "a trace", |m| matches!(m, ServerMsg::Trace { .. })).await
    else {
        unreachable!()
    };
    assert!(msg == seen && hops.iter().any(|h| h.msg == seen || h.root == seen), "the trace of {seen}: {hops:?}");
    send(&mut a, json!({"type": "sagas", "node": "payments_in"})).await;
    let ServerMsg::Error { message, .. } = until(&mut a, "no sagas", |m| matches!(m, ServerMsg::Error { .. })).await
    else {
        unreachable!()
    };
    assert!(message.contains("no saga orchestrator"), "a question's refusal has its reason: {message}");
    send(&mut b, json!({"type": "sagas", "node": "payments_in"})).await;
    let _ = until(&mut b, "b's own answer", |m| {
        assert!(!matches!(m, ServerMsg::Trace { .. }), "the other watcher's answer: {m:?}");
        matches!(m, ServerMsg::Error { .. })
    })
    .await;
    // A live change, then a fork: the copy is where the class is, change included.
    send(
        &mut teacher,
        json!({"type": "set_param", "node": "payments_in", "change": {"param": "rate_per_s", "value": 20}}),
    )
    .await;
    send(&mut teacher, json!({"type": "step", "ms": 3000})).await;
    let ServerMsg::State { t_ms: here, .. } = until(
        &mut teacher,
        "stepped",
        |m| matches!(m, ServerMsg::State { playing: false, t_ms, .. } if *t_ms > paused),
    )
    .await
    else {
        unreachable!()
    };
    let ServerMsg::Frame(class) =
        until(&mut teacher, "the class's frame", |m| matches!(m, ServerMsg::Frame(f) if f.t_ms == here)).await
    else {
        unreachable!()
    };
    send(&mut b, json!({"type": "fork"})).await;
    let ServerMsg::Forked { session } = until(&mut b, "forked", |m| matches!(m, ServerMsg::Forked { .. })).await else {
        unreachable!()
    };
    let mut mine = connect(addr, Some(&session)).await;
    let ServerMsg::Frame(f) = until(&mut mine, "the fork's frame", |m| matches!(m, ServerMsg::Frame(_))).await else {
        unreachable!()
    };
    assert_eq!(f.t_ms, here, "the fork starts where the class is");
    assert_eq!(f.totals, class.totals, "with the same run, the live change replayed");
    send(&mut mine, json!({"type": "play"})).await;
    let _ = until(&mut mine, "the fork plays for its student", |m| matches!(m, ServerMsg::State { playing: true, .. }))
        .await;
}

/// Sagas, outboxes and topics reach a browser and `/metrics`: the orchestrator's counts in the
/// frames, its sagas listed on request (and a request about a node that is no orchestrator
/// refused with its reason), and their samples in the exposition.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sagas_outboxes_and_topics_reach_the_browser_and_metrics() {
    let addr = start_server().await;
    let mut ws = connect(addr, None).await;
    send(&mut ws, json!({"type": "load_scenario", "name": "saga-orchestration"})).await;
    until(&mut ws, "loaded", |m| matches!(m, ServerMsg::Loaded { .. })).await;
    send(&mut ws, json!({"type": "set_speed", "speed": 100})).await;
    send(&mut ws, json!({"type": "play"})).await;
    let ServerMsg::Frame(f) =
        until(&mut ws, "a frame at 20 s", |m| matches!(m, ServerMsg::Frame(f) if f.t_ms > 20_000.0)).await
    else {
        unreachable!()
    };
    let counts =
        f.nodes.iter().find(|n| n.id == "order_saga").and_then(|n| n.sagas).expect("the orchestrator's counts");
    assert!(counts.started > 50 && counts.completed > 0, "{counts:?}");
    assert!(f.nodes.iter().filter(|n| n.sagas.is_some()).count() == 1, "only the orchestrator has sagas");
    send(&mut ws, json!({"type": "sagas", "node": "order_saga", "state": "completed"})).await;
    let ServerMsg::Sagas { steps, sagas, counts, .. } =
        until(&mut ws, "sagas", |m| matches!(m, ServerMsg::Sagas { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(
        steps.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["order", "inventory", "payment", "shipping"]
    );
    assert!(!sagas.is_empty() && sagas.len() <= edasim_protocol::SAGAS_LISTED);
    assert!(sagas.iter().all(|s| s.state == edasim_sim::engine::SagaState::Completed && s.history.len() == 5));
    assert!(counts.completed >= sagas.len() as u64);
    send(&mut ws, json!({"type": "sagas", "node": "saga_queue"})).await;
    let ServerMsg::Error { message, .. } = until(&mut ws, "a refusal", |m| matches!(m, ServerMsg::Error { .. })).await
    else {
        unreachable!()
    };
    assert!(message.contains("is no saga orchestrator"), "{message}");

    // A second session plays the topic, a third the outbox.
    let mut topic = connect(addr, None).await;
    send(&mut topic, json!({"type": "load_scenario", "name": "partitioned-topic"})).await;
    let mut outbox = connect(addr, None).await;
    send(&mut outbox, json!({"type": "load_scenario", "name": "outbox"})).await;
    for ws in [&mut topic, &mut outbox] {
        until(ws, "loaded", |m| matches!(m, ServerMsg::Loaded { .. })).await;
        send(ws, json!({"type": "set_speed", "speed": 50})).await;
        send(ws, json!({"type": "play"})).await;
    }
    let _ = collect(&mut topic, Duration::from_millis(1500)).await;
    let (status, body) = http(addr, "GET", "/metrics", "").await;
    assert_eq!(status, 200);
    let scrape = prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_string()))).expect("valid exposition");
    let value = |metric: &str, label: (&str, &str)| {
        scrape
            .samples
            .iter()
            .filter(|s| s.metric == metric && s.labels.get(label.0) == Some(label.1))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => f64::NAN,
            })
            .sum::<f64>()
    };
    assert!(value("edasim_sagas", ("state", "completed")) > 0.0);
    assert!(value("edasim_sagas_started_total", ("node", "order_saga")) > 50.0);
    assert!(value("edasim_topic_appended_total", ("partition", "0")) > 0.0);
    let lags = scrape.samples.iter().filter(|s| s.metric == "edasim_topic_lag").count();
    assert_eq!(lags, 12, "two groups of six partitions");
    assert!(value("edasim_outbox_written_total", ("node", "order_service_b")) > 0.0);
    assert_eq!(value("edasim_order_per_key_violations_total", ("node", "billing")), 0.0);
}

/// `/metrics` as Prometheus's own linter reads it: `promtool check metrics` (Debian's
/// `prometheus` package, which `scripts/tools.sh` installs) finds nothing to complain of, with
/// sessions playing every node kind: the order pipeline (a gateway, exchanges, queues, services,
/// stores), a saga orchestrator, an outbox, a topic and circuit breakers. Latency is a
/// histogram; the shipped Grafana dashboard's queries name only metrics it exposes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_pass_promtool() {
    let addr = start_server().await;
    let mut sessions = Vec::new();
    for scenario in ["order-pipeline", "saga-orchestration", "outbox", "partitioned-topic", "circuit-breaker"] {
        let mut ws = connect(addr, None).await;
        send(&mut ws, json!({"type": "load_scenario", "name": scenario})).await;
        until(&mut ws, "loaded", |m| matches!(m, ServerMsg::Loaded { .. })).await;
        send(&mut ws, json!({"type": "set_speed", "speed": 50})).await;
        send(&mut ws, json!({"type": "play"})).await;
        sessions.push(ws);
    }
    let _ = collect(&mut sessions[0], Duration::from_millis(1500)).await;
    let (status, body) = http(addr, "GET", "/metrics", "").await;
    assert_eq!(status, 200);
    let mut promtool = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool runs (scripts/tools.sh installs Debian's prometheus package)");
    use std::io::Write as _;
    promtool.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
    let out = promtool.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.trim().is_empty(), "promtool check metrics: {said}");
    // Latency as a histogram: buckets up to +Inf, a sum and a count per node that has one, and
    // none for a producer.
    assert!(body.contains("# TYPE edasim_node_latency_seconds histogram"));
    let count = |node: &str| {
        body.lines()
            .filter(|l| l.starts_with("edasim_node_latency_seconds_count{") && l.contains(&format!("node=\"{node}\"")))
            .count()
    };
    assert_eq!(count("payment_queue"), 1);
    assert_eq!(count("order_api"), 0, "a producer has no latency");
    assert!(body.lines().any(|l| l.starts_with("edasim_node_latency_seconds_bucket{") && l.contains("le=\"+Inf\"")));

    // The shipped Grafana dashboard names only what this exposes, and every panel has a query.
    let exposed: std::collections::BTreeSet<&str> =
        body.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split(['{', ' ']).next()).collect();
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/grafana/edasim.json")).unwrap(),
    )
    .unwrap();
    let mut queries: Vec<String> = Vec::new();
    for p in dashboard["panels"].as_array().unwrap() {
        let targets = p["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "panel {} has no query", p["title"]);
        queries.extend(targets.iter().map(|t| t["expr"].as_str().unwrap().to_string()));
    }
    for v in dashboard["templating"]["list"].as_array().unwrap() {
        queries.push(v["query"]["query"].as_str().unwrap().to_string());
    }
    let mut named = 0;
    for q in &queries {
        for name in q.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| w.starts_with("edasim_")) {
            assert!(exposed.contains(name), "the dashboard's query {q:?} names {name}, which /metrics does not expose");
            named += 1;
        }
    }
    assert!(named >= 25, "{named} metric names in the dashboard's queries");
}
