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
    /// Processed, its effects done, its acknowledgement on the way to the broker.
    Acking,
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
    /// The epoch of that replica when it was delivered: a delivery still on its way when the
    /// replica went down belongs to no one (it goes back to its queue when it arrives).
    pub epoch: u32,
    pub enqueued: Time,
    pub expires: Time,
    pub started: Time,
    /// Times it was returned to its queue (requeue, crash).
    pub returns: u32,
    /// Failed attempts at its current service (retries).
    pub attempts: u32,
    /// The queues it was dead-lettered from since it was last delivered to a consumer, as a
    /// list in [`Slab`]'s death lists (`NONE`: none): RabbitMQ's `x-death`, which its
    /// dead-letter cycle guard reads.
    pub deaths: u32,
    /// Its own expiration (RabbitMQ's per-message TTL), `Time::MAX` for none: a delayed retry's
    /// back-off in a delay queue.
    pub ttl: Time,
    /// The poison fault it carries (`NONE`: none): it always fails at that fault's service.
    pub poison: u32,
    /// Times a redrive-bounded dead-letter handler republished it (the `x-death` count it carries).
    pub redrives: u32,
    pub at: Where,
    pub redelivered: bool,
    /// Waiting out a delayed retry in a delay queue: its failed attempts carry over when it is
    /// delivered again.
    pub retrying: bool,
    /// Its processing succeeded once already (its effects are done): processing it again, after
    /// a redelivery, does them twice.
    pub effects_done: bool,
    /// Has been dead-lettered: it no longer counts as in the system (see docs/accounting.md).
    pub dead: bool,
    /// Its partition key (`NONE`: none), and its sequence number among its key's events.
    pub pkey: u32,
    pub seq: u32,
    /// A topic's event whose partition moved while it was in flight: its consumer can no
    /// longer commit it.
    pub revoked: bool,
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
            epoch: 0,
            enqueued: 0,
            expires: Time::MAX,
            started: 0,
            returns: 0,
            attempts: 0,
            deaths: NONE,
            ttl: Time::MAX,
            poison: NONE,
            redrives: 0,
            at: Where::Free,
            redelivered: false,
            retrying: false,
            effects_done: false,
            dead: false,
            pkey: NONE,
            seq: 0,
            revoked: false,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Slab {
    slots: Vec<Msg>,
    free: Vec<u32>,
    live: u64,
    deaths: DeathLists,
}

/// One entry of a death list: the queue, and whether the message was rejected there (a
/// rejection breaks a cycle: RabbitMQ drops only a message that loops with no one deciding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Death {
    pub queue: u32,
    pub rejected: bool,
}

/// Death lists, pooled: a list's memory is reused once its message is delivered or gone, so
/// dead-lettering allocates nothing in the steady state.
#[derive(Debug, Default)]
struct DeathLists {
    lists: Vec<Vec<Death>>,
    free: Vec<u32>,
}

impl DeathLists {
    fn take(&mut self) -> u32 {
        match self.free.pop() {
            Some(i) => i,
            None => {
                self.lists.push(Vec::new());
                (self.lists.len() - 1) as u32
            }
        }
    }

    fn release(&mut self, list: u32) {
        if list != NONE {
            self.lists[list as usize].clear();
            self.free.push(list);
        }
    }
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

    /// A copy of `src` in a new slot, with a copy of its death list.
    #[inline]
    pub fn clone_of(&mut self, src: u32) -> u32 {
        let mut copy = self.slots[src as usize];
        if copy.deaths != NONE {
            let list = self.deaths.take();
            // The pooled list is moved out (no allocation) to be filled from the source's.
            let mut into = std::mem::take(&mut self.deaths.lists[list as usize]);
            into.extend_from_slice(&self.deaths.lists[copy.deaths as usize]);
            self.deaths.lists[list as usize] = into;
            copy.deaths = list;
        }
        let i = self.alloc();
        self.slots[i as usize] = copy;
        i
    }

    #[inline]
    pub fn free(&mut self, i: u32) {
        debug_assert!(self.slots[i as usize].at != Where::Free, "double free of message slot {i}");
        let slot = &mut self.slots[i as usize];
        slot.at = Where::Free;
        let list = std::mem::replace(&mut slot.deaths, NONE);
        self.deaths.release(list);
        self.free.push(i);
        self.live -= 1;
    }

    /// The queues `m` was dead-lettered from since its last delivery, oldest first.
    pub fn deaths(&self, m: u32) -> &[Death] {
        match self.slots[m as usize].deaths {
            NONE => &[],
            list => &self.deaths.lists[list as usize],
        }
    }

    /// Adds a queue to `m`'s death list.
    pub fn add_death(&mut self, m: u32, death: Death) {
        if self.slots[m as usize].deaths == NONE {
            self.slots[m as usize].deaths = self.deaths.take();
        }
        self.deaths.lists[self.slots[m as usize].deaths as usize].push(death);
    }

    /// Forgets `m`'s death list: it was delivered to a consumer.
    pub fn clear_deaths(&mut self, m: u32) {
        let list = std::mem::replace(&mut self.slots[m as usize].deaths, NONE);
        self.deaths.release(list);
    }

    /// Whether routing dead letter `m` into `queue` would close a cycle that RabbitMQ cuts:
    /// `queue` is in its death list and no rejection happened there or since (its
    /// `rabbit_dead_letter:detect_cycles/3`).
    pub fn closes_cycle(&self, m: u32, queue: u32) -> bool {
        let deaths = self.deaths(m);
        match deaths.iter().rposition(|d| d.queue == queue) {
            Some(i) => deaths[i..].iter().all(|d| !d.rejected),
            None => false,
        }
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
