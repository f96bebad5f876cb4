//! `edasim run` as a user runs it: reports, determinism, and bad input (exit 2 with the path,
//! never a panic).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn edasim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edasim")).args(args).output().expect("edasim runs")
}

fn scenario() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/order-pipeline.json").to_string()
}

fn write(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const MM1: &str = r#"{"version": 1, "name": "M/M/1", "seed": 1,
  "nodes": [{"id": "arrivals", "kind": "producer", "rate_per_s": 0.9}, {"id": "q", "kind": "queue"},
            {"id": "server", "kind": "service", "processing": {"dist": "exponential", "mean_ms": 1000}}],
  "links": [{"from": "arrivals", "to": "q"}, {"from": "q", "to": "server"}]}"#;

#[test]
fn json_report_has_the_contracts_fields() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "mm1.json", MM1.as_bytes());
    let out = edasim(&["run", f.to_str().unwrap(), "--duration-s", "5000", "--warmup-s", "100", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["topology"], "M/M/1");
    assert_eq!(r["seed"], 1);
    assert_eq!(r["sim_time_s"], 5000.0);
    assert_eq!(r["warmup_s"], 100.0);
    assert!(r["wall_s"].as_f64().unwrap() >= 0.0 && r["events"].as_u64().unwrap() > 0);
    let m = &r["messages"];
    for f in ["produced", "completed", "dead_lettered", "in_system", "duplicates_skipped"] {
        assert!(m[f].is_u64(), "messages.{f}");
    }
    for f in ["overflow", "unroutable", "rejected", "expired"] {
        assert!(m["dropped"][f].is_u64(), "messages.dropped.{f}");
    }
    let produced = m["produced"].as_u64().unwrap();
    assert_eq!(produced, m["completed"].as_u64().unwrap() + m["in_system"].as_u64().unwrap());
    let q = &r["nodes"]["q"];
    assert_eq!(q["kind"], "queue");
    for f in ["enqueued", "depth_max", "dead_lettered", "dropped", "rejected_publish"] {
        assert!(q[f].is_u64(), "q.{f}");
    }
    assert!(q["depth_mean"].is_f64());
    for f in ["mean", "p50", "p95", "p99", "ci95"] {
        assert!(q["wait_ms"][f].is_f64(), "q.wait_ms.{f}");
    }
    let s = &r["nodes"]["server"];
    assert_eq!(s["kind"], "service");
    for f in ["processed", "failed", "retries"] {
        assert!(s[f].is_u64(), "server.{f}");
    }
    let u = s["utilisation"].as_f64().unwrap();
    assert!((0.8..1.0).contains(&u), "{u}");
    for f in ["mean", "p50", "p95", "p99"] {
        assert!(s["processing_ms"][f].is_f64() && s["since_origin_ms"][f].is_f64(), "{f}");
    }
}

#[test]
fn same_file_and_seed_give_the_same_report() {
    let dir = tempfile::tempdir().unwrap();
    let run = |seed: &str, name: &str| {
        let out = dir.path().join(name);
        let o = edasim(&[
            "run",
            &scenario(),
            "--duration-s",
            "600",
            "--seed",
            seed,
            "--format",
            "json",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mut v: Value = serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap();
        v["wall_s"] = Value::Null;
        serde_json::to_vec(&v).unwrap()
    };
    let (a, b, c) = (run("9", "a.json"), run("9", "b.json"), run("10", "c.json"));
    assert_eq!(a, b, "same seed, same bytes");
    assert_ne!(a, c, "another seed, another run");
    // And the raw files differ only in the wall_s line.
    let raw = |n: &str| std::fs::read_to_string(dir.path().join(n)).unwrap();
    let strip = |s: String| s.lines().filter(|l| !l.contains("\"wall_s\"")).collect::<Vec<_>>().join("\n");
    assert_eq!(strip(raw("a.json")), strip(raw("b.json")));
}

#[test]
fn messages_mode_runs_until_drained() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "mm1.json", MM1.as_bytes());
    let out = edasim(&["run", f.to_str().unwrap(), "--messages", "2000", "--format", "json"]);
    assert!(out.status.success());
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["messages"]["produced"], 2000);
    assert_eq!(r["messages"]["completed"], 2000);
    assert_eq!(r["messages"]["in_system"], 0);
    // A duration caps it.
    let out = edasim(&["run", f.to_str().unwrap(), "--messages", "2000", "--duration-s", "100", "--format", "json"]);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["sim_time_s"], 100.0);
    assert!(r["messages"]["produced"].as_u64().unwrap() < 2000);
}

#[test]
fn text_report_is_readable() {
    let out = edasim(&["run", &scenario(), "--duration-s", "120"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("payment_processing") && text.contains("utilisation") && text.contains("unroutable"),
        "{text}"
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("dead-letter cycle: payment_queue"), "warnings go to stderr: {err}");
}

/// Runs `edasim run` on `content`; asserts exit 2, no panic, and that stderr names the file
/// and contains each of `expected`.
fn rejects(content: &[u8], expected: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "bad.json", content);
    let out = edasim(&["run", f.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("bad.json: "), "names the file: {err}");
    for e in expected {
        assert!(err.contains(e), "expected {e:?} in {err}");
    }
    assert!(out.stdout.is_empty(), "no report for a bad file");
}

#[test]
fn bad_input_exits_2_with_the_path() {
    let spec_example =
        MM1.replace(r#"{"dist": "exponential", "mean_ms": 1000}"#, r#"{"dist": "expo", "mean_ms": 1000}"#);
    rejects(
        spec_example.as_bytes(),
        &[
            "bad.json: nodes[2].processing: unknown distribution \"expo\"; expected one of constant, exponential, uniform, normal, lognormal",
        ],
    );
    rejects(b"", &["empty"]);
    rejects(b"{\"version\": 1, \"nodes\": [", &["invalid JSON", "line 1"]);
    rejects(b"\xff\xfe not text", &["not UTF-8"]);
    rejects(b"[]", &["expected a topology"]);
    rejects(
        MM1.replace("\"rate_per_s\": 0.9", "\"rate_per_s\": -0.9").as_bytes(),
        &["nodes[0].rate_per_s: expected a number from 0 to 1000000 events per second, found -0.9"],
    );
    rejects(
        MM1.replace("\"rate_per_s\": 0.9", "\"rate_per_s\": \"0.9\"").as_bytes(),
        &["nodes[0].rate_per_s: expected a number from 0 to 1000000 events per second, found a string"],
    );
    rejects(
        MM1.replace("\"kind\": \"queue\"", "\"kind\": \"kafka\"").as_bytes(),
        &["nodes[1].kind: unknown kind \"kafka\""],
    );
    rejects(
        MM1.replace(
            "{\"from\": \"q\", \"to\": \"server\"}",
            "{\"from\": \"q\", \"to\": \"server\", \"probability\": 1.5}",
        )
        .as_bytes(),
        &["links[1].probability: expected a probability from 0 to 1, found 1.5"],
    );
    rejects(
        MM1.replace("{\"from\": \"q\", \"to\": \"server\"}", "{\"from\": \"q\", \"to\": \"arrivals\"}").as_bytes(),
        &["links[1]: a link from a queue to a producer means nothing"],
    );
    rejects(
        MM1.replace("\"seed\": 1,", "\"seed\": 1, \"sed\": 2,").as_bytes(),
        &["sed: unknown field \"sed\"; expected one of version, name"],
    );
    rejects(("[".repeat(100_000) + &"]".repeat(100_000)).as_bytes(), &["recursion limit"]);
    // A 50 MB file is refused before it is read.
    let big = vec![b' '; 50 * 1024 * 1024];
    rejects(&big, &["bytes; a topology may be at most"]);
}

#[test]
fn missing_file_and_bad_arguments_exit_2() {
    let out = edasim(&["run", "/nonexistent/topology.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/topology.json: cannot read"));
    for args in [
        vec!["run", "x.json", "--duration-s", "-1"],
        vec!["run", "x.json", "--duration-s", "abc"],
        vec!["run", "x.json", "--format", "yaml"],
        vec!["run", "x.json", "--messages", "0"],
        vec!["run", "x.json", "--duration-s", "10", "--warmup-s", "20"],
    ] {
        let out = edasim(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    }
}

/// Peak resident memory (VmHWM, KiB) of a child, read until it exits; and its output.
fn run_measuring_memory(args: &[&str]) -> (Output, u64) {
    let child = Command::new(env!("CARGO_BIN_EXE_edasim"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("edasim runs");
    let status = format!("/proc/{}/status", child.id());
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let watcher = {
        let peak = peak.clone();
        std::thread::spawn(move || {
            while let Ok(s) = std::fs::read_to_string(&status) {
                if let Some(kib) = s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1))
                {
                    peak.fetch_max(kib.parse().unwrap_or(0), std::sync::atomic::Ordering::Relaxed);
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        })
    };
    let out = child.wait_with_output().expect("edasim ends");
    let _ = watcher.join();
    (out, peak.load(std::sync::atomic::Ordering::Relaxed))
}

/// An M/M/1 offered five times its capacity for an hour would hold millions of messages; the
/// memory alarm blocks the producer at the watermark instead, and says so.
#[test]
fn an_overloaded_run_is_bounded_by_its_memory_watermark() {
    let dir = tempfile::tempdir().unwrap();
    let overloaded =
        MM1.replace(r#""rate_per_s": 0.9"#, r#""rate_per_s": 5000"#).replace(r#""mean_ms": 1000"#, r#""mean_ms": 1"#);
    let f = write(dir.path(), "overloaded.json", overloaded.as_bytes());
    let f = f.to_str().unwrap();
    let (out, peak_kib) = run_measuring_memory(&["run", f, "--duration-s", "3600", "--format", "json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("the memory alarm went off") && err.contains("--memory-watermark"), "{err}");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["memory_alarm"]["watermark"], 1_000_000);
    assert!(r["memory_alarm"]["blocked"].as_u64().unwrap() > 1_000_000, "{}", r["memory_alarm"]);
    assert!(r["messages"]["in_system"].as_u64().unwrap() <= 1_000_000);
    assert!(peak_kib < 1024 * 1024 * 3 / 2, "peak RSS {} MiB", peak_kib / 1024);
    println!("an hour of M/M/1 at five times its capacity: peak RSS {} MiB", peak_kib / 1024);

    // A smaller watermark, from the command line.
    let out = edasim(&["run", f, "--duration-s", "60", "--memory-watermark", "500", "--format", "json"]);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["memory_alarm"]["watermark"], 500);
    assert!(r["messages"]["in_system"].as_u64().unwrap() <= 500);
}

/// `edasim export rabbitmq` writes definitions a broker would load; `edasim import rabbitmq`
/// reads them back into a topology that runs, saying what a definitions file lacks; bad input
/// exits 2 with the file and the path.
#[test]
fn rabbitmq_definitions_export_and_import() {
    let dir = tempfile::tempdir().unwrap();
    let defs = dir.path().join("defs.json");
    let out = edasim(&["export", "rabbitmq", &scenario(), "--out", defs.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&defs).unwrap()).unwrap();
    let names = |key: &str| {
        v[key].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert!(names("queues").contains(&"payment_queue".to_string()));
    assert!(names("exchanges").contains(&"order_processed_exchange".to_string()));
    assert!(!names("exchanges").iter().any(|n| n.starts_with("amq.")), "the broker's own exchanges are implied");
    let payment = v["queues"].as_array().unwrap().iter().find(|q| q["name"] == "payment_queue").unwrap();
    assert_eq!(payment["arguments"]["x-dead-letter-exchange"], "dead_letter");
    assert_eq!(payment["arguments"]["x-dead-letter-routing-key"], "rejected");

    let topo = dir.path().join("broker.json");
    let out = edasim(&["import", "rabbitmq", defs.to_str().unwrap(), "--out", topo.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("add the producers that publish and the services that consume"), "{stderr}");
    let out = edasim(&["run", topo.to_str().unwrap(), "--duration-s", "10"]);
    assert!(out.status.success(), "the imported broker runs: {}", String::from_utf8_lossy(&out.stderr));

    let bad = write(
        dir.path(),
        "bad.json",
        br#"{"exchanges": [{"name": "h", "vhost": "/", "type": "x-modulus-hash"}], "queues": []}"#,
    );
    let out = edasim(&["import", "rabbitmq", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.json: exchanges[0].type") && stderr.contains("x-modulus-hash"), "{stderr}");
    let out = edasim(&["export", "rabbitmq", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "a definitions file is no topology");
}

/// `edasim export asyncapi` and `edasim import asyncapi`: the export is an AsyncAPI 3.0 document
/// that imports back to the very topology; a document of another version exits 2.
#[test]
fn asyncapi_export_and_import() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("asyncapi.json");
    let out = edasim(&["export", "asyncapi", &scenario(), "--out", doc.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&doc).unwrap()).unwrap();
    assert_eq!(v["asyncapi"], "3.0.0");
    assert_eq!(v["channels"]["payment_queue"]["bindings"]["amqp"]["is"], "queue");
    let back = dir.path().join("back.json");
    let out = edasim(&["import", "asyncapi", doc.to_str().unwrap(), "--out", back.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let original = edasim_sim::Model::from_json_str(&std::fs::read_to_string(scenario()).unwrap()).unwrap();
    let again = edasim_sim::Model::from_json_str(&std::fs::read_to_string(&back).unwrap()).unwrap();
    assert_eq!(again.topology(), original.topology());
    let old = write(
        dir.path(),
        "old.json",
        br#"{"asyncapi": "2.6.0", "info": {"title": "x", "version": "1"}, "channels": {}}"#,
    );
    let out = edasim(&["import", "asyncapi", old.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("old.json: asyncapi: AsyncAPI 2.6.0"));
}

/// `edasim run --plot DIR`: an SVG per node and for the system, each well-formed XML with its
/// charts' titles and lines, and a PNG overview that decodes to the size drawn.
#[test]
fn plot_writes_svg_charts_and_a_png_overview() {
    let dir = tempfile::tempdir().unwrap();
    let plots = dir.path().join("plots");
    let out = edasim(&["run", &scenario(), "--duration-s", "120", "--plot", plots.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let model = edasim_sim::Model::from_json_str(&std::fs::read_to_string(scenario()).unwrap()).unwrap();
    let nodes = model.topology().nodes.len();
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("{} pictures in", nodes + 2)));
    for n in &model.topology().nodes {
        let svg = std::fs::read_to_string(plots.join(format!("{}.svg", n.id))).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{}.svg: {e}", n.id));
        let texts: Vec<&str> = doc.descendants().filter_map(|d| d.text()).map(str::trim).collect();
        for title in ["Throughput (per s)", "Latency (ms)", "Drops (per s)"] {
            assert!(texts.contains(&title), "{}.svg lacks {title}: {texts:?}", n.id);
        }
        // Time labels read as a clock, and the throughput has lines.
        assert!(texts.contains(&"0:30") && texts.contains(&"1:00"), "{}.svg: {texts:?}", n.id);
        assert!(doc.descendants().filter(|d| d.has_tag_name("polyline")).count() >= 6, "{}.svg", n.id);
    }
    let system = std::fs::read_to_string(plots.join("system.svg")).unwrap();
    assert!(roxmltree::Document::parse(&system).is_ok());
    let png = std::fs::read(plots.join("overview.png")).unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let reader = decoder.read_info().expect("a PNG");
    let info = reader.info();
    assert_eq!(info.width, 1600);
    assert_eq!(info.height, 60 + 300 * nodes.div_ceil(4) as u32);
}

/// `--plot` shades the seconds a fault struck a node, as the app's charts do: the circuit
/// breaker scenario's inventory store is down from 60 to 90 s, thirty shaded seconds in each of
/// its charts, and none in a chart of a node no fault struck.
#[test]
fn plot_shades_the_seconds_a_fault_struck() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/circuit-breaker.json");
    let out = edasim(&["run", scenario, "--duration-s", "100", "--plot", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (band, _) = edasim_sim::charts::fault_band(false);
    let bands = |node: &str| {
        let svg = std::fs::read_to_string(dir.path().join(format!("{node}.svg"))).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        doc.descendants()
            .filter(|d| d.has_tag_name("rect") && d.attribute("fill").is_some_and(|f| f.eq_ignore_ascii_case(band)))
            .count()
    };
    // Six charts a node, each shading the thirty seconds.
    assert_eq!(bands("inventory"), 6 * 30);
    assert_eq!(bands("orders"), 0, "the producer was not struck");
}

/// `edasim render --gif`: an animated GIF of the size asked, one frame per tenth of a simulated
/// second at the speed asked, each frame with something drawn on it; bad arguments exit 2.
#[test]
fn render_writes_an_animated_gif() {
    let dir = tempfile::tempdir().unwrap();
    let gif = dir.path().join("pipeline.gif");
    let out = edasim(&[
        "render",
        &scenario(),
        "--gif",
        gif.to_str().unwrap(),
        "--duration-s",
        "2",
        "--speed",
        "2",
        "--fps",
        "5",
        "--width",
        "320",
        "--height",
        "180",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut decoder = options.read_info(std::fs::File::open(&gif).unwrap()).expect("a GIF");
    assert_eq!((decoder.width(), decoder.height()), (320, 180));
    let mut frames = 0;
    while let Some(frame) = decoder.read_next_frame().unwrap() {
        frames += 1;
        // Not a blank page: nodes, links and text leave many colours.
        let distinct: std::collections::BTreeSet<&[u8]> = frame.buffer.chunks(4).collect();
        assert!(distinct.len() > 5, "frame {frames} has {} colours", distinct.len());
        assert!(frame.delay > 0, "an animation");
    }
    assert_eq!(frames, 5, "2 simulated s at 2x and 5 frames a second");
    let out = edasim(&["render", &scenario(), "--gif", gif.to_str().unwrap(), "--duration-s", "1000"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at most 600"));
}
