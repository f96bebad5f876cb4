//! `edasim walkthrough check` as CI runs it: every shipped walkthrough's claims hold over five
//! seeds; one false claim fails the check with its value and seed; a bad file exits 2 with the
//! path of each problem.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn edasim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edasim")).args(args).output().expect("edasim runs")
}

fn shipped() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/walkthroughs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_shipped_walkthrough_holds_over_five_seeds() {
    let files = shipped();
    assert!(files.len() >= 8, "the shipped lessons: {files:?}");
    let mut args = vec!["walkthrough", "check", "--seeds", "5"];
    let names: Vec<String> = files.iter().map(|f| f.to_string_lossy().into_owned()).collect();
    args.extend(names.iter().map(String::as_str));
    let out = edasim(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.lines().filter(|l| l.ends_with("× 5 seeds hold")).count(), files.len(), "{stdout}");
}

#[test]
fn a_false_claim_fails_with_its_value_and_seed() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/walkthroughs/poison-message.json"),
    )
    .unwrap();
    // The delivery limit lets the poison through 4 times; claim 5.
    let wrong = text.replacen(
        "\"expr\": \"faults.0.affected\", \"equals\": 4",
        "\"expr\": \"faults.0.affected\", \"equals\": 5",
        1,
    );
    assert_ne!(wrong, text);
    let f = dir.path().join("wrong.json");
    std::fs::write(&f, wrong).unwrap();
    let out = edasim(&["walkthrough", "check", "--seeds", "2", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let fails: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert_eq!(fails.len(), 2, "one failure per seed: {stdout}");
    assert!(
        fails[0].contains("claim 1")
            && fails[0].contains("faults.0.affected = 4")
            && fails[0].contains("needs exactly 5")
            && fails[0].contains("(seed 5)"),
        "{}",
        fails[0]
    );
}

#[test]
fn a_bad_walkthrough_exits_2_with_every_path() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.json");
    std::fs::write(
        &f,
        r#"{"walkthrough": 1, "title": "t", "scenario": "retry-jitter", "steps": [
        {"title": "a", "highlight": ["nope"], "until_s": 5,
         "claims": [{"says": "x", "at_s": 1, "expr": "max(consumer.retries, 5, 1)", "at_least": 1},
                    {"says": "y", "at_s": 1, "expr": "nodes.consumer.failed"}],
         "prediction": {"question": "?", "choices": ["a", "b"], "answer": 2, "explain": "."}}]}"#,
    )
    .unwrap();
    let out = edasim(&["walkthrough", "check", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for path in ["steps[0].claims[0].expr", "steps[0].claims[1].says", "steps[0].prediction.answer"] {
        assert!(stderr.contains(path), "{path} in {stderr}");
    }
    // An unknown field, and a scenario that is not shipped.
    std::fs::write(
        &f,
        r#"{"walkthrough": 1, "title": "t", "scenario": "retry-jitter", "steps": [{"title": "a", "colour": 1}]}"#,
    )
    .unwrap();
    let stderr = String::from_utf8_lossy(&edasim(&["walkthrough", "check", f.to_str().unwrap()]).stderr).into_owned();
    assert!(stderr.contains("steps[0]") && stderr.contains("unknown field `colour`"), "{stderr}");
    std::fs::write(&f, r#"{"walkthrough": 1, "title": "t", "scenario": "kafka", "steps": [{"title": "a"}]}"#).unwrap();
    let stderr = String::from_utf8_lossy(&edasim(&["walkthrough", "check", f.to_str().unwrap()]).stderr).into_owned();
    assert!(stderr.contains("no shipped scenario \"kafka\""), "{stderr}");
    // A node the scenario does not have, once the file itself is sound.
    std::fs::write(&f, r#"{"walkthrough": 1, "title": "t", "scenario": "retry-jitter", "steps": [{"title": "a", "highlight": ["nope", "consumer->db"]}]}"#).unwrap();
    let out = edasim(&["walkthrough", "check", f.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("steps[0].highlight[0]: the scenario has no node or link \"nope\""), "{stderr}");
    assert!(!stderr.contains("highlight[1]"), "consumer->db is a link: {stderr}");
}
