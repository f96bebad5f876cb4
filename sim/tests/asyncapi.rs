//! AsyncAPI 3.0 exports: every shipped scenario's export is a valid AsyncAPI 3.0.0 document
//! (checked against the published JSON Schema, vendored in `tests/data/asyncapi/` with its
//! licence); importing it gives the topology back; a document without edasim's extension still
//! gives its channels, its applications and their links.

use edasim_sim::Model;
use edasim_sim::formats::asyncapi::{channel_kinds, export, import, is_asyncapi};
use edasim_sim::topology::{Kind, NodeKind};
use serde_json::Value;

fn scenarios() -> Vec<(String, Model)> {
    let dir = format!("{}/../scenarios", env!("CARGO_MANIFEST_DIR"));
    let mut out: Vec<(String, Model)> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let path = e.ok()?.path();
            (path.extension()? == "json").then(|| {
                let m = Model::from_json_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                (path.file_stem().unwrap().to_string_lossy().into_owned(), m)
            })
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn schema() -> jsonschema::Validator {
    let path = format!("{}/tests/data/asyncapi/asyncapi-3.0.0.schema.json", env!("CARGO_MANIFEST_DIR"));
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::draft7::new(&schema).expect("the published schema compiles")
}

#[test]
fn every_export_is_valid_asyncapi_3() {
    let validator = schema();
    let list = scenarios();
    assert!(list.len() >= 12);
    for (name, model) in &list {
        let doc = export(model);
        assert!(is_asyncapi(&doc));
        let errors: Vec<String> =
            validator.iter_errors(&doc).map(|e| format!("{} at {}", e, e.instance_path())).take(5).collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
        // A channel per exchange, queue and topic, each of its kind.
        let t = model.topology();
        let want: Vec<(String, Kind)> = {
            let mut v: Vec<(String, Kind)> = t
                .nodes
                .iter()
                .filter(|n| matches!(n.kind.kind(), Kind::Exchange | Kind::Queue | Kind::Topic))
                .map(|n| (n.id.clone(), n.kind.kind()))
                .collect();
            v.sort();
            v
        };
        let mut got = channel_kinds(&doc);
        got.sort();
        assert_eq!(got, want, "{name}");
        // A receive operation for every consume link from a channel, a send for every publish
        // to one.
        let channel = |id: &str| t.nodes.iter().any(|n| n.id == id && n.kind.kind().is_messaging());
        let service = |id: &str| t.nodes.iter().any(|n| n.id == id && matches!(n.kind, NodeKind::Service(_)));
        let consumes = t.links.iter().filter(|l| channel(&l.from) && service(&l.to)).count();
        let publishes = t.links.iter().filter(|l| !channel(&l.from) && channel(&l.to)).count();
        let ops = doc["operations"].as_object().unwrap();
        let count = |action: &str| ops.values().filter(|o| o["action"] == action).count();
        assert_eq!(count("receive"), consumes, "{name}");
        assert!(count("send") <= publishes && (publishes == 0) == (count("send") == 0), "{name}");
    }
    // An invalid document is caught: the check can fail.
    let mut bad = export(&list[0].1);
    bad["operations"].as_object_mut().unwrap().values_mut().for_each(|o| o["action"] = "publish".into());
    assert!(!validator.is_valid(&bad), "AsyncAPI 3 has no \"publish\" action");
}

#[test]
fn an_export_imports_back_to_the_same_topology() {
    for (name, model) in scenarios() {
        let doc = export(&model);
        let back = import(&doc, "x").unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let back = Model::from_value(&back.topology).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(back.topology(), model.topology(), "{name}");
    }
}

#[test]
fn a_document_without_the_extension_gives_its_channels_and_applications() {
    for (name, model) in scenarios() {
        let mut doc = export(&model);
        doc.as_object_mut().unwrap().remove("x-edasim-topology");
        let imported = import(&doc, "x").unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let back = Model::from_value(&imported.topology).unwrap_or_else(|e| panic!("{name}: {e}"));
        let t = model.topology();
        let b = back.topology();
        // The channels' nodes, of their kinds, and every application that sends or receives.
        for n in &t.nodes {
            let kind = n.kind.kind();
            let talks = t.links.iter().any(|l| {
                let other = if l.from == n.id {
                    &l.to
                } else if l.to == n.id {
                    &l.from
                } else {
                    return false;
                };
                t.nodes
                    .iter()
                    .any(|m| &m.id == other && matches!(m.kind.kind(), Kind::Exchange | Kind::Queue | Kind::Topic))
            });
            let expected = matches!(kind, Kind::Exchange | Kind::Queue | Kind::Topic)
                || (matches!(kind, Kind::Service | Kind::Producer) && talks);
            let found = b.nodes.iter().find(|m| m.id == n.id);
            if expected {
                let found = found.unwrap_or_else(|| panic!("{name}: {} lost", n.id));
                if matches!(kind, Kind::Exchange | Kind::Queue | Kind::Topic) {
                    assert_eq!(found.kind.kind(), kind, "{name}: {}", n.id);
                }
            }
        }
        // Every publish to and consume from a channel is a link again.
        for l in &t.links {
            let (Some((_, role)), true) = (model.link_between(&l.from, &l.to), true) else { continue };
            let to_channel = b.nodes.iter().any(|m| m.id == l.to && m.kind.kind().is_messaging());
            let from_channel = b.nodes.iter().any(|m| m.id == l.from && m.kind.kind().is_messaging());
            let kept = match role {
                edasim_sim::topology::LinkRole::Publish => to_channel,
                edasim_sim::topology::LinkRole::Consume => from_channel,
                _ => false,
            };
            if kept {
                assert!(back.link_between(&l.from, &l.to).is_some(), "{name}: link {} -> {} lost", l.from, l.to);
            }
        }
        if b.nodes.iter().any(|n| n.kind.kind() == Kind::Exchange) {
            assert!(imported.notes.iter().any(|n| n.contains("link them")), "{name}: {:?}", imported.notes);
        }
    }
}

#[test]
fn documents_of_other_versions_are_refused() {
    let e = import(&serde_json::json!({"asyncapi": "2.6.0", "channels": {}}), "x").unwrap_err();
    assert!(e[0].message.contains("AsyncAPI 3"), "{e:?}");
    let e = import(&serde_json::json!({"nodes": []}), "x").unwrap_err();
    assert_eq!(e[0].path, "asyncapi");
}
