//! Per-user token buckets for `/events`: `rate` events per second sustained, `burst` at
//! once. A request is admitted only if every user in it has tokens for all their events.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

const SHARDS: usize = 32;
/// Buckets kept per shard before full (hence idle) ones are forgotten.
const SHARD_CAPACITY: usize = 50_000;

struct Bucket {
    tokens: f64,
    refreshed: Instant,
}

pub struct RateLimiter {
    rate: f64,
    burst: f64,
    shards: Vec<Mutex<HashMap<String, Bucket>>>,
}

impl RateLimiter {
    /// `rate` of 0 turns the limit off.
    pub fn new(rate: f64, burst: f64) -> Self {
        Self { rate, burst: burst.max(1.0), shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect() }
    }

    /// Takes `count` tokens from each user's bucket, or none at all and returns the first
    /// user who is over the limit.
    pub fn admit<'a>(&self, demand: &HashMap<&'a str, usize>) -> Result<(), &'a str> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let shard_of = |user: &str| (ab_core::assign::hash64(user, "ratelimit") as usize) % SHARDS;
        for (user, count) in demand {
            // Buckets are plain numbers, still usable if a panic elsewhere poisoned the lock.
            let mut shard = self.shards[shard_of(user)].lock().unwrap_or_else(PoisonError::into_inner);
            let bucket = self.refill(&mut shard, user, now);
            if bucket.tokens < *count as f64 {
                return Err(user);
            }
        }
        for (user, count) in demand {
            // Buckets are plain numbers, still usable if a panic elsewhere poisoned the lock.
            let mut shard = self.shards[shard_of(user)].lock().unwrap_or_else(PoisonError::into_inner);
            self.refill(&mut shard, user, now).tokens -= *count as f64;
        }
        Ok(())
    }

    fn refill<'s>(&self, shard: &'s mut HashMap<String, Bucket>, user: &str, now: Instant) -> &'s mut Bucket {
        if shard.len() >= SHARD_CAPACITY && !shard.contains_key(user) {
            shard.retain(|_, b| b.tokens + now.duration_since(b.refreshed).as_secs_f64() * self.rate < self.burst);
        }
        let bucket = shard.entry(user.to_owned()).or_insert(Bucket { tokens: self.burst, refreshed: now });
        let elapsed = now.duration_since(bucket.refreshed).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.refreshed = now;
        bucket
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_over_the_burst_is_refused_and_others_are_not_charged() {
        let limiter = RateLimiter::new(1.0, 10.0);
        assert!(limiter.admit(&HashMap::from([("a", 8)])).is_ok());
        assert_eq!(limiter.admit(&HashMap::from([("a", 5)])), Err("a"));
        assert!(limiter.admit(&HashMap::from([("b", 10)])).is_ok());
        assert!(limiter.admit(&HashMap::from([("a", 2)])).is_ok());
    }
}
