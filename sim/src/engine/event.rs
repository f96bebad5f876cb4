//! The event list: a binary heap ordered by (time, sequence number). The sequence number breaks
//! ties in scheduling order, which makes the run deterministic.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::time::Time;

/// What happens at an instant. Indices are into the engine's per-kind tables; `epoch` guards
/// against a replica that crashed or was scaled away since the event was scheduled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ev {
    /// A producer emits (if `generation` is still its current generation).
    Emit { producer: u32, generation: u32 },
    /// A producer's schedule changes its rate.
    RateStep { producer: u32 },
    /// A message reaches an exchange.
    AtExchange { msg: u32, exchange: u32 },
    /// A message reaches a queue.
    AtQueue { msg: u32, queue: u32 },
    /// An event reaches a topic.
    AtTopic { msg: u32, topic: u32 },
    /// A client's request reaches a gateway.
    AtGateway { msg: u32, gateway: u32, client: u32 },
    /// A delivered message reaches its consumer replica.
    AtReplica { msg: u32, service: u32, replica: u32, epoch: u32 },
    /// Processing ends.
    Done { msg: u32, service: u32, replica: u32, epoch: u32, outcome: Outcome },
    /// A retry's back-off ends.
    RetryReady { msg: u32, service: u32, replica: u32, epoch: u32 },
    /// The head of a queue may have expired.
    Expire { queue: u32 },
    /// A crashed replica is restarted (if it has not been brought up since: `epoch`).
    Restart { service: u32, replica: u32, epoch: u32 },
    /// The warm-up ends: measured statistics start here.
    Warmup,
    /// The earliest CPU task of a replica may be done (if `generation` is still current).
    CpuDone { service: u32, replica: u32, epoch: u32, generation: u32 },
    /// A service's autoscaler syncs.
    Autoscale { service: u32 },
    /// A replica the autoscaler started is ready.
    ScaledUp { service: u32 },
    /// A client's attempt may have waited too long (if it is still attempt `attempt`).
    ClientTimeout { root_lo: u32, root_hi: u32, attempt: u32 },
    /// A client tries a request again.
    ClientRetry { root_lo: u32, root_hi: u32 },
    /// A user of a closed loop sends a request.
    UserSends { producer: u32, user: u32 },
    /// A scheduled fault starts.
    FaultStart { fault: u32 },
    /// A scheduled fault ends.
    FaultEnd { fault: u32 },
    /// A handler's acknowledgement reaches the broker (`forwarded`: it published onwards).
    Acked { msg: u32, service: u32, replica: u32, epoch: u32, forwarded: bool },
    /// A call on a link with a circuit breaker ends: the breaker learns how.
    CallEnded { link: u32, ok: bool },
    /// An open breaker's open time is over (if it is still open generation `generation`).
    BreakerHalfOpen { link: u32, generation: u32 },
    /// An outbox relay polls its table.
    OutboxPoll { service: u32 },
    /// A saga's step may have waited too long (if the saga is still at `generation`).
    SagaTimeout { service: u32, root_lo: u32, root_hi: u32, generation: u32 },
}

/// How a processing attempt ends; drawn when it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Success,
    Failure,
    Duplicate,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    time: Time,
    seq: u64,
    ev: Ev,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    // Reversed: BinaryHeap is a max-heap, we want the earliest first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

#[derive(Debug, Default)]
pub(crate) struct EventQueue {
    heap: BinaryHeap<Entry>,
    seq: u64,
}

impl EventQueue {
    #[inline]
    pub fn push(&mut self, time: Time, ev: Ev) {
        self.seq += 1;
        self.heap.push(Entry { time, seq: self.seq, ev });
    }

    #[inline]
    pub fn pop(&mut self) -> Option<(Time, Ev)> {
        self.heap.pop().map(|e| (e.time, e.ev))
    }

    #[inline]
    pub fn peek_time(&self) -> Option<Time> {
        self.heap.peek().map(|e| e.time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_ties_in_push_order() {
        let mut q = EventQueue::default();
        q.push(5, Ev::Expire { queue: 1 });
        q.push(3, Ev::Expire { queue: 2 });
        q.push(5, Ev::Expire { queue: 3 });
        q.push(3, Ev::Expire { queue: 4 });
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        let qs: Vec<u32> = order.iter().map(|(_, e)| if let Ev::Expire { queue } = e { *queue } else { 0 }).collect();
        assert_eq!(qs, vec![2, 4, 1, 3]);
    }
}
