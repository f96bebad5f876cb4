//! The range of every number a topology or a live change may hold, defined once: the loader
//! checks files with it, the engine checks live changes with it, and the editor shows it in
//! each field's hint and checks what is typed with it.

/// An inclusive range of numbers, optionally whole, with the unit its messages name.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    pub min: f64,
    pub max: f64,
    pub whole: bool,
    /// What the number is, for messages: "a number", "a whole number", "a probability".
    pub what: &'static str,
    /// What the number counts, for messages ("replicas", "milliseconds"); empty for none.
    pub unit: &'static str,
}

impl Bounds {
    const fn whole(min: u64, max: u64, unit: &'static str) -> Bounds {
        Bounds { min: min as f64, max: max as f64, whole: true, what: "a whole number", unit }
    }
    const fn real(min: f64, max: f64, unit: &'static str) -> Bounds {
        Bounds { min, max, whole: false, what: "a number", unit }
    }

    /// Whether `x` is in range (and whole, if it must be).
    pub fn contains(&self, x: f64) -> bool {
        x.is_finite() && x >= self.min && x <= self.max && (!self.whole || x.fract() == 0.0)
    }

    /// "a whole number from 1 to 1000 replicas", "a number from 0 to 1 ": what is expected.
    pub fn expected(&self) -> String {
        let what = self.what;
        let unit = if self.unit.is_empty() { String::new() } else { format!(" {}", self.unit) };
        if self.max == f64::MAX {
            format!("{what} of {} or more{unit}", fmt(self.min))
        } else {
            format!("{what} from {} to {}{unit}", fmt(self.min), fmt(self.max))
        }
    }

    /// The short form for a field's hint: "1 to 1000", "0 or more".
    pub fn hint(&self) -> String {
        if self.max == f64::MAX {
            format!("{} or more", fmt(self.min))
        } else {
            format!("{} to {}", fmt(self.min), fmt(self.max))
        }
    }

    /// `Ok` if `x` is in range, else the message a user reads: expected what, found what.
    pub fn check(&self, x: f64) -> Result<(), String> {
        if self.contains(x) { Ok(()) } else { Err(format!("expected {}, found {}", self.expected(), fmt(x))) }
    }
}

/// A number as a person writes it: no trailing `.0`, no exponent for whole numbers.
fn fmt(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { format!("{x}") }
}

/// Events per second one producer may emit.
pub const RATE_PER_S: Bounds = Bounds::real(0.0, 1_000_000.0, "events per second");
/// Replicas of a service: 0 (scaled to zero) to 1000.
pub const REPLICAS: Bounds = Bounds::whole(0, 1_000, "replicas");
/// Workers per replica.
pub const CONCURRENCY: Bounds = Bounds::whole(1, 10_000, "workers per replica");
/// Unacknowledged messages per replica.
pub const PREFETCH: Bounds = Bounds::whole(0, 100_000, "messages (0: no limit)");
/// A gateway's `average` requests per period (0: no limit).
pub const AVERAGE: Bounds = Bounds::real(0.0, 1_000_000.0, "requests per period");
/// A gateway's `period_s`.
pub const PERIOD_S: Bounds = Bounds::real(0.001, 86_400.0, "seconds");
/// A gateway's `burst`.
pub const BURST: Bounds = Bounds::whole(1, 1_000_000, "requests");
/// CPU request or limit, in millicores.
pub const MILLICORES: Bounds = Bounds::real(1.0, 1_000_000.0, "millicores");
/// An autoscaler's target (a fraction of the CPU request, or messages per replica).
pub const TARGET: Bounds = Bounds::real(0.001, 1_000_000.0, "");
/// An autoscaler's `min` and `max` replicas.
pub const SCALE_REPLICAS: Bounds = Bounds::whole(1, 1_000, "replicas");
/// An autoscaler's sync period.
pub const SYNC_S: Bounds = Bounds::real(1.0, 3_600.0, "seconds");
/// A queue's `max_length`.
pub const MAX_LENGTH: Bounds = Bounds::whole(0, u32::MAX as u64, "messages");
/// A queue's `delivery_limit`.
pub const DELIVERY_LIMIT: Bounds = Bounds::whole(0, u32::MAX as u64, "redeliveries");
/// Any duration in milliseconds (TTLs, back-offs, distribution parameters).
pub const DURATION_MS: Bounds = Bounds::real(0.0, f64::MAX, "milliseconds");
/// A probability (failure rates, link probabilities, jitter).
pub const PROBABILITY: Bounds = Bounds { what: "a probability", ..Bounds::real(0.0, 1.0, "") };
/// A time in seconds (schedule steps).
pub const SECONDS: Bounds = Bounds::real(0.0, f64::MAX, "seconds");
/// A retry policy's attempts.
pub const MAX_ATTEMPTS: Bounds = Bounds::whole(1, 1_000, "attempts");
/// A retry policy's back-off multiplier.
pub const MULTIPLIER: Bounds = Bounds::real(0.0, 100.0, "");
/// A closed loop's users.
/// Retries made at once, before any back-off.
pub const IMMEDIATE: Bounds = Bounds::whole(0, 999, "retries");
/// Retry-budget tokens per first attempt.
pub const BUDGET_RATIO: Bounds = Bounds::real(0.0, 10.0, "tokens per first attempt");
/// Retry-budget tokens a bucket holds.
pub const BUDGET_BURST: Bounds = Bounds::real(1.0, 1_000_000.0, "tokens");
/// A circuit breaker's window.
pub const WINDOW_S: Bounds = Bounds::real(1.0, 3_600.0, "seconds");
/// Calls a breaker needs in its window, or probes it lets through half-open.
pub const CALLS: Bounds = Bounds::whole(1, 100_000, "calls");
/// Redrives a dead-letter handler makes at most.
pub const REDRIVES: Bounds = Bounds::whole(0, 1_000_000, "redrives");
/// Times a saga sends a compensation again.
pub const RESENDS: Bounds = Bounds::whole(0, 1_000, "resends");
/// A saga step's wait for its reply.
pub const STEP_TIMEOUT_MS: Bounds = Bounds::real(1.0, f64::MAX, "milliseconds");
/// An outbox relay's polling period.
pub const POLL_MS: Bounds = Bounds::real(1.0, 3_600_000.0, "milliseconds");
/// Rows an outbox relay publishes per poll.
pub const BATCH: Bounds = Bounds::whole(1, 100_000, "rows");
/// A topic's partitions.
pub const PARTITIONS: Bounds = Bounds::whole(1, 1_024, "partitions");
/// A producer's partition keys.
pub const KEYS: Bounds = Bounds::whole(1, 1_000_000, "keys");
/// Closed-loop users.
pub const USERS: Bounds = Bounds::whole(1, 100_000, "users");
/// A producer's `limit`.
pub const LIMIT: Bounds = Bounds::whole(0, u64::MAX >> 11, "events");

/// A topology's seed: any 64-bit whole number.
pub const SEED: Bounds = Bounds::whole(0, u64::MAX, "");

/// The bounds of a node field by its name in the file, if it is a number.
pub fn of_field(field: &str) -> Option<Bounds> {
    Some(match field {
        "rate_per_s" => RATE_PER_S,
        "replicas" => REPLICAS,
        "concurrency" => CONCURRENCY,
        "prefetch" => PREFETCH,
        "max_length" => MAX_LENGTH,
        "delivery_limit" => DELIVERY_LIMIT,
        "message_ttl_ms" | "retention_ms" | "dedup_ttl_ms" | "backoff_ms" | "timeout_ms" | "deadline_ms"
        | "shed_after_ms" | "ack_ms" | "add_ms" => DURATION_MS,
        "immediate" => IMMEDIATE,
        "keys" => KEYS,
        "partitions" => PARTITIONS,
        "poll_ms" => POLL_MS,
        "batch" => BATCH,
        "resends" => RESENDS,
        "ratio" => BUDGET_RATIO,
        "window_s" => WINDOW_S,
        "min_calls" | "probes" => CALLS,
        "failure_rate" | "probability" | "jitter" => PROBABILITY,
        "max_attempts" => MAX_ATTEMPTS,
        "average" => AVERAGE,
        "cpu_request_m" | "cpu_limit_m" => MILLICORES,
        "target" => TARGET,
        "min" | "max" => SCALE_REPLICAS,
        "sync_s" => SYNC_S,
        "stabilization_s" | "start_s" => SECONDS,
        "period_s" => PERIOD_S,
        "burst" => BURST,
        "multiplier" => MULTIPLIER,
        "limit" => LIMIT,
        "users" => USERS,
        "seed" => SEED,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_the_range() {
        assert_eq!(REPLICAS.check(-1.0).unwrap_err(), "expected a whole number from 0 to 1000 replicas, found -1");
        assert_eq!(REPLICAS.check(2.5).unwrap_err(), "expected a whole number from 0 to 1000 replicas, found 2.5");
        assert!(REPLICAS.check(0.0).is_ok() && REPLICAS.check(1000.0).is_ok());
        assert_eq!(PROBABILITY.check(1.5).unwrap_err(), "expected a probability from 0 to 1, found 1.5");
        assert_eq!(DURATION_MS.hint(), "0 or more");
        assert_eq!(RATE_PER_S.hint(), "0 to 1000000");
        assert!(!RATE_PER_S.contains(f64::NAN) && !RATE_PER_S.contains(f64::INFINITY));
    }
}
