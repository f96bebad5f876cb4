//! Any input gives a model or a list of problems, never a panic; any model that loads runs.

use edasim_sim::time::NS_PER_S;
use edasim_sim::{Engine, Model, Options};
use proptest::prelude::*;
use serde_json::{Value, json};

fn scenario() -> Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/order-pipeline.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Every path (object keys and array indices) in `v`.
fn paths(v: &Value, here: Vec<Value>, out: &mut Vec<Vec<Value>>) {
    out.push(here.clone());
    match v {
        Value::Object(m) => m.iter().for_each(|(k, c)| paths(c, [here.clone(), vec![json!(k)]].concat(), out)),
        Value::Array(a) => {
            a.iter().enumerate().for_each(|(i, c)| paths(c, [here.clone(), vec![json!(i)]].concat(), out))
        }
        _ => {}
    }
}

fn at<'a>(v: &'a mut Value, path: &[Value]) -> &'a mut Value {
    path.iter().fold(v, |v, k| match k {
        Value::String(k) => &mut v[k.as_str()],
        Value::Number(i) => &mut v[i.as_u64().unwrap_or(0) as usize],
        _ => v,
    })
}

fn any_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("JSON numbers are finite", |f| f.is_finite()).prop_map(Value::from),
        prop_oneof![Just(0.0), Just(-1.0), Just(1e300), Just(0.5), Just(1.0), Just(2.0)].prop_map(Value::from),
        "[a-z_.#*-]{0,12}".prop_map(Value::from),
        prop_oneof![Just("exponential"), Just("fanout"), Just("queue"), Just("retry"), Just("order_api"), Just("q")]
            .prop_map(Value::from),
        Just(json!({})),
        Just(json!([])),
        Just(json!({"dist": "uniform", "min_ms": 3, "max_ms": 1})),
        Just(json!({"retry": {"max_attempts": 2}})),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        let _ = Model::from_json_str(&text);
    }

    #[test]
    fn mutated_scenarios_load_or_explain(edits in proptest::collection::vec((any::<prop::sample::Index>(), any_value()), 1..4)) {
        let mut v = scenario();
        for (index, value) in edits {
            let mut all = Vec::new();
            paths(&v, Vec::new(), &mut all);
            let path = index.get(&all).clone();
            *at(&mut v, &path) = value;
        }
        match Model::from_value(&v) {
            Ok(model) => {
                let mut engine = Engine::new(&model, &Options::default());
                let _ = engine.step_until(5 * NS_PER_S);
                prop_assert!(engine.check_conservation().is_ok());
            }
            Err(invalid) => {
                prop_assert!(invalid.errors().next().is_some());
                prop_assert!(invalid.errors().all(|p| !p.message.is_empty()));
            }
        }
    }
}
