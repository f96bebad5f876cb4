//! AMQP matching rules shared by the engine's routing and the validator's cycle check.

/// Whether a topic binding pattern matches a routing key (words separated by `.`).
pub fn topic_matches(pattern: &str, key: &str) -> bool {
    let p: Vec<&str> = pattern.split('.').collect();
    let k: Vec<&str> = if key.is_empty() { Vec::new() } else { key.split('.').collect() };
    let p: &[&str] = if pattern.is_empty() { &[] } else { &p };
    matches(p, &k)
}

fn matches(p: &[&str], k: &[&str]) -> bool {
    match p.split_first() {
        None => k.is_empty(),
        Some((&"#", rest)) => (0..=k.len()).any(|i| matches(rest, &k[i..])),
        Some((&w, rest)) => match k.split_first() {
            Some((&kw, krest)) => (w == "*" || w == kw) && matches(rest, krest),
            None => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::topic_matches;

    #[test]
    fn topic_patterns() {
        assert!(topic_matches("order.*", "order.created"));
        assert!(!topic_matches("order.*", "order.created.eu"));
        assert!(topic_matches("order.#", "order.created.eu"));
        assert!(topic_matches("order.#", "order"));
        assert!(topic_matches("#", ""));
        assert!(topic_matches("#", "a.b.c"));
        assert!(topic_matches("*.created", "order.created"));
        assert!(!topic_matches("*.created", "created"));
        assert!(topic_matches("a.#.z", "a.z"));
        assert!(topic_matches("a.#.z", "a.b.c.z"));
        assert!(!topic_matches("a.#.z", "a.b.c"));
        assert!(topic_matches("payment", "payment"));
        assert!(!topic_matches("payment", "payments"));
        assert!(topic_matches("#.#", "x"));
        assert!(!topic_matches("*", ""));
    }
}
