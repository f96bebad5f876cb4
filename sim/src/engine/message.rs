//! Messages in the system, in a slab: a message's slot is reused once it has left, so memory
//! follows the number of messages in the system, not the number that ever were.

use crate::time::Time;

pub(crate) const NONE: u32 = u32::MAX;
/// The dedup key of a message published without a message id.
pub(crate) const NO_KEY: u64 = u64::MAX;

/// Where a message is, as far as the books are concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Where {
    Free,
    /// Crossing a link or being routed.
    Transit,
    /// Ready in a queue.
    Ready,
    /// Delivered, on its way to its consumer replica.
    Delivering,
    /// At its replica, waiting for a free worker (prefetched).
    Prefetched,
    Processing,
    /// Failed, waiting out a retry back-off at its replica.
    Backoff,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Msg {
    /// Unique id of this copy, for traces.
    pub id: u64,
    /// Id of the producer's message this one descends from.
    pub root: u64,
    /// When the root was emitted.
    pub origin: Time,
    /// The message id that dedup stores key on (`NO_KEY`: none).
    pub key: u64,
    pub event: u32,
    pub routing_key: u32,
    /// The publish link whose headers this message carries, or `NONE`.
    pub headers: u32,
    /// The queue it was last enqueued in.
    pub queue: u32,
    pub service: u32,
    pub replica: u32,
    pub enqueued: Time,
    pub expires: Time,
    pub started: Time,
    /// Times it was returned to its queue (requeue, crash).
    pub returns: u32,
    /// Failed attempts at its current service (retries).
    pub attempts: u32,
    /// Queues (bit `index % 64`) it was dead-lettered from since it was last delivered to a
    /// consumer: RabbitMQ's cycle guard, which reads the same from `x-death`.
    pub dead_from: u64,
    pub at: Where,
    pub redelivered: bool,
    /// Has been dead-lettered: it no longer counts as in the system (see docs/accounting.md).
    pub dead: bool,
}

impl Msg {
    fn blank() -> Self {
        Msg {
            id: 0,
            root: 0,
            origin: 0,
            key: NO_KEY,
            event: 0,
            routing_key: 0,
            headers: NONE,
            queue: NONE,
            service: NONE,
            replica: NONE,
            enqueued: 0,
            expires: Time::MAX,
            started: 0,
            returns: 0,
            attempts: 0,
            dead_from: 0,
            at: Where::Free,
            redelivered: false,
            dead: false,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Slab {
    slots: Vec<Msg>,
    free: Vec<u32>,
    live: u64,
}

impl Slab {
    /// A fresh message slot, in transit, all other fields reset.
    #[inline]
    pub fn alloc(&mut self) -> u32 {
        self.live += 1;
        let fresh = Msg { at: Where::Transit, ..Msg::blank() };
        match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = fresh;
                i
            }
            None => {
                self.slots.push(fresh);
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// A copy of `src` in a new slot.
    #[inline]
    pub fn clone_of(&mut self, src: u32) -> u32 {
        let copy = self.slots[src as usize];
        let i = self.alloc();
        self.slots[i as usize] = copy;
        i
    }

    #[inline]
    pub fn free(&mut self, i: u32) {
        debug_assert!(self.slots[i as usize].at != Where::Free, "double free of message slot {i}");
        self.slots[i as usize].at = Where::Free;
        self.free.push(i);
        self.live -= 1;
    }

    /// Messages alive now.
    pub fn live(&self) -> u64 {
        self.live
    }

    /// Slots allocated (live or free): the memory high-water mark.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    pub fn iter_live(&self) -> impl Iterator<Item = (u32, &Msg)> {
        self.slots.iter().enumerate().filter(|(_, m)| m.at != Where::Free).map(|(i, m)| (i as u32, m))
    }
}

impl std::ops::Index<u32> for Slab {
    type Output = Msg;
    #[inline]
    fn index(&self, i: u32) -> &Msg {
        &self.slots[i as usize]
    }
}

impl std::ops::IndexMut<u32> for Slab {
    #[inline]
    fn index_mut(&mut self, i: u32) -> &mut Msg {
        &mut self.slots[i as usize]
    }
}
