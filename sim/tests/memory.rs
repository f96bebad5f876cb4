//! Memory follows what is in the system, not what has passed through it.

use edasim_sim::time::NS_PER_S;
use edasim_sim::{Engine, Model, Options};

#[test]
fn long_runs_do_not_grow() {
    // The order pipeline at 12 orders per second (it keeps up: its consumers are unbounded), with
    // its one-hour dedup keys.
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/order-pipeline.json")).unwrap();
    let model = Model::from_json_str(&text.replace("\"rate_per_s\": 8,", "\"rate_per_s\": 12,")).unwrap();
    let mut engine = Engine::new(&model, &Options::default());
    let redis = model.node_index("redis").unwrap();
    let mut samples = Vec::new();
    for hour in 1..=6 {
        engine.step_until(hour * 3600 * NS_PER_S).unwrap();
        samples.push((engine.ledger().produced, engine.message_capacity(), engine.node_state(redis).keys));
        assert!(engine.in_system() < 500, "the pipeline keeps up: {} in the system", engine.in_system());
    }
    println!("(produced, message slots, dedup keys) per hour: {samples:?}");
    let (produced_1h, slots_1h, _) = samples[0];
    let (produced_6h, slots_6h, keys_6h) = samples[5];
    assert!(produced_6h > 5 * produced_1h, "traffic kept flowing");
    // Slots follow the peak in the system (a few hundred here), not the 260,000 produced.
    assert!(slots_6h < 2 * slots_1h.max(500), "slots grew: {samples:?}");
    // Dedup keys are kept an hour and swept every half hour: at most ~1.5 hours' worth (five
    // services: about 12 keys per second each for four, 1.11 times that for payment and
    // notification, and the dead-letter handler's 1.3).
    let per_hour = 53 * 3600;
    assert!(keys_6h <= per_hour * 3 / 2 + per_hour / 10, "dedup keys grew: {samples:?}");
    // The series ring is bounded too.
    assert!(engine.series(0).len() <= Options::default().series_capacity);
}
