//! The future-event list: a binary heap ordered by (time, insertion sequence). Times compare with
//! `f64::total_cmp` and equal times pop in insertion order, so a run is a pure function of its
//! inputs. Also a small slab used for tasks and workflows in flight.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Event {
    /// The workload's next arrival (task or workflow) reaches the dispatcher.
    Arrival,
    /// A dispatched task reaches its agent.
    Reach {
        slot: u32,
        agent: u32,
    },
    /// An agent finishes serving a task; stale if the agent crashed since (`epoch` differs).
    ServiceDone {
        slot: u32,
        agent: u32,
        epoch: u32,
    },
    Crash {
        agent: u32,
    },
    Recover {
        agent: u32,
    },
    SlowStart {
        agent: u32,
    },
    SlowEnd {
        agent: u32,
    },
    /// The agent sends its state to the dispatcher (or misses doing so).
    Heartbeat {
        agent: u32,
    },
    /// Per-agent metric samples (only scheduled when the sink records).
    MetricTick,
}

#[derive(Debug)]
struct Entry {
    time: f64,
    seq: u64,
    event: Event,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    /// Reversed so the max-heap pops the earliest (time, seq) first.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .time
            .total_cmp(&self.time)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

#[derive(Debug, Default)]
pub(crate) struct EventQueue {
    heap: BinaryHeap<Entry>,
    seq: u64,
}

impl EventQueue {
    pub fn push(&mut self, time: f64, event: Event) {
        self.seq += 1;
        self.heap.push(Entry {
            time,
            seq: self.seq,
            event,
        });
    }

    pub fn pop(&mut self) -> Option<(f64, Event)> {
        self.heap.pop().map(|e| (e.time, e.event))
    }
}

/// Storage with stable u32 keys and slot reuse, so memory follows what is in flight, not the
/// length of the run.
#[derive(Debug)]
pub(crate) struct Slab<T> {
    items: Vec<T>,
    free: Vec<u32>,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            items: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<T> Slab<T> {
    pub fn insert(&mut self, item: T) -> u32 {
        match self.free.pop() {
            Some(key) => {
                self.items[key as usize] = item;
                key
            }
            None => {
                self.items.push(item);
                (self.items.len() - 1) as u32
            }
        }
    }

    /// Marks the key reusable; the item stays readable until the key is reused.
    pub fn remove(&mut self, key: u32) {
        self.free.push(key);
    }

    pub fn get(&self, key: u32) -> &T {
        &self.items[key as usize]
    }

    pub fn get_mut(&mut self, key: u32) -> &mut T {
        &mut self.items[key as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_order_and_ties_in_insertion_order() {
        let mut q = EventQueue::default();
        q.push(2.0, Event::Crash { agent: 0 });
        q.push(1.0, Event::Crash { agent: 1 });
        q.push(1.0, Event::Crash { agent: 2 });
        q.push(0.5, Event::Arrival);
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            order,
            vec![
                (0.5, Event::Arrival),
                (1.0, Event::Crash { agent: 1 }),
                (1.0, Event::Crash { agent: 2 }),
                (2.0, Event::Crash { agent: 0 }),
            ]
        );
    }

    #[test]
    fn slab_reuses_removed_keys() {
        let mut s = Slab::default();
        let a = s.insert("a");
        let b = s.insert("b");
        s.remove(a);
        let c = s.insert("c");
        assert_eq!(c, a);
        assert_eq!((*s.get(b), *s.get(c)), ("b", "c"));
    }
}
