//! The node kinds, as one enum every crate uses: the file's names, the order of the palette,
//! and which parameters the engine changes while a run plays.

use serde::{Deserialize, Serialize};

/// What a node is. The file names each kind in lowercase (`"producer"`...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Producer,
    Exchange,
    Queue,
    Service,
    Store,
    /// An HTTP gateway (Traefik): a per-client rate limit in front of the services it routes
    /// requests to.
    Gateway,
    /// A partitioned event stream (a Kafka topic): partitions, consumer groups, offsets.
    Topic,
}

impl Kind {
    /// Every kind, in the order the palette and the docs list them.
    pub const ALL: [Kind; 7] =
        [Kind::Producer, Kind::Gateway, Kind::Exchange, Kind::Queue, Kind::Topic, Kind::Service, Kind::Store];

    /// The kind's name in the file.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Producer => "producer",
            Kind::Exchange => "exchange",
            Kind::Queue => "queue",
            Kind::Service => "service",
            Kind::Store => "store",
            Kind::Gateway => "gateway",
            Kind::Topic => "topic",
        }
    }

    /// Its name with an article, as a sentence says it ("a queue", "an exchange").
    pub const fn article(self) -> &'static str {
        match self {
            Kind::Producer => "a producer",
            Kind::Exchange => "an exchange",
            Kind::Queue => "a queue",
            Kind::Service => "a service",
            Kind::Store => "a store",
            Kind::Gateway => "a gateway",
            Kind::Topic => "a topic",
        }
    }

    /// The kind a file names, if it is one.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The fields of this kind that the engine changes while a run plays (each is the `param`
    /// of an [`engine::Change`](crate::engine::Change)); any other field needs a new run.
    pub const fn live_params(self) -> &'static [&'static str] {
        match self {
            Kind::Producer => &["rate_per_s"],
            Kind::Exchange => &[],
            Kind::Queue => &["max_length", "message_ttl_ms"],
            Kind::Service => &["replicas", "concurrency", "processing", "failure_rate"],
            Kind::Store => &["latency", "failure_rate"],
            Kind::Gateway => &[],
            Kind::Topic => &[],
        }
    }

    /// Whether messages wait in nodes of this kind, or are routed by them (the broker's part).
    pub const fn is_messaging(self) -> bool {
        matches!(self, Kind::Exchange | Kind::Queue | Kind::Topic)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The kinds' names, as the file writes them (for "expected one of" messages).
pub const KIND_NAMES: [&str; 7] = [
    Kind::Producer.name(),
    Kind::Gateway.name(),
    Kind::Exchange.name(),
    Kind::Queue.name(),
    Kind::Topic.name(),
    Kind::Service.name(),
    Kind::Store.name(),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::from_name(k.name()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), serde_json::json!(k.name()));
        }
        assert_eq!(Kind::from_name("router"), None);
    }
}
