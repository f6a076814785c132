//! The work budget of one call: every input-dependent loop of a call charges its steps to one
//! [`Work`], which polls the interrupt hook every [`CHECK_EVERY`] steps and fails the call with
//! a limit-exceeded error once the call's budget is spent. Each loop also has its own cap; this
//! bounds their product, so that no combination of inputs multiplies caps into hours.

use crate::error::{InvalidArgument, Result};
use crate::interrupt;
use std::cell::Cell;

/// Steps between two calls of the interrupt hook. A step (one continued-fraction term, one
/// integrand evaluation, one walked cell) takes 5–50 ns, so the hook runs every 0.2 ms or so
/// and costs nothing measurable.
pub(crate) const CHECK_EVERY: u64 = 4096;

/// The budget of one call, in steps: 6 s of one core on the 2-core test machine in
/// `ab_core`'s release tests (30 ns a step under load), 19 s inside Postgres while two other
/// builds ran. The largest valid computations measured fit: a
/// 2-million-user-per-arm `ab_bayes_prop` takes 3e5 steps, 10 million of 100 million users per
/// arm 1.8e8 (its first integral uses all of [`crate::quadrature::MAX_SPLITS`]), a
/// million-value `ab_quantile_test` 8e5 per arm. A call that needs more (a 1e9 prior on a small
/// sample, a hundred arms of a million trials) fails with "limit exceeded" within that time
/// instead of running for hours. In Postgres, `statement_timeout` and cancellation end it
/// sooner (the hook); DataFusion and the gateway rely on this budget alone.
pub(crate) const MAX_STEPS_PER_CALL: u64 = 200_000_000;

/// Steps spent so far by one call, against its budget.
pub(crate) struct Work {
    spent: Cell<u64>,
    next_check: Cell<u64>,
    limit: u64,
    /// The argument named when the budget runs out: the one whose size drives the work.
    argument: &'static str,
}

impl Work {
    pub(crate) fn new(argument: &'static str) -> Self {
        Self::with_limit(argument, MAX_STEPS_PER_CALL)
    }

    pub(crate) fn with_limit(argument: &'static str, limit: u64) -> Self {
        Self { spent: Cell::new(0), next_check: Cell::new(CHECK_EVERY), limit, argument }
    }

    pub(crate) fn argument(&self) -> &'static str {
        self.argument
    }

    /// Counts `steps`; polls the interrupt hook when due; fails once the budget is spent.
    pub(crate) fn charge(&self, steps: u64) -> Result<()> {
        let spent = self.spent.get().saturating_add(steps);
        self.spent.set(spent);
        if spent >= self.next_check.get() {
            self.next_check.set(spent.saturating_add(CHECK_EVERY));
            interrupt::check();
        }
        if spent > self.limit {
            return Err(InvalidArgument::limit_exceeded(
                self.argument,
                format!("the computation needs more than {} steps, the cap of one call", self.limit),
            ));
        }
        Ok(())
    }

    #[cfg(test)]
    pub(crate) fn spent(&self) -> u64 {
        self.spent.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static CALLS: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static CANCEL: Cell<bool> = const { Cell::new(false) };
        static CALLS_ON_THIS_THREAD: Cell<usize> = const { Cell::new(0) };
    }

    /// Counts its calls, and on a thread that asked for it unwinds as Postgres' ERROR does
    /// through pgrx. Other tests' threads only count.
    fn hook() {
        CALLS.fetch_add(1, Ordering::Relaxed);
        CALLS_ON_THIS_THREAD.with(|calls| calls.set(calls.get() + 1));
        if CANCEL.with(Cell::get) {
            panic!("canceling statement due to user request");
        }
    }

    /// The hook runs every CHECK_EVERY steps, so a long computation stops at the first poll
    /// after a cancellation, and a later call on the same thread works normally.
    #[test]
    fn long_computations_poll_the_hook_and_unwind_from_it() {
        crate::interrupt::set_hook(hook);
        let before = CALLS.load(Ordering::Relaxed);
        let work = Work::new("x");
        work.charge(10 * CHECK_EVERY).unwrap();
        assert!(CALLS.load(Ordering::Relaxed) > before);
        CANCEL.with(|c| c.set(true));
        let polls_before = CALLS_ON_THIS_THREAD.with(Cell::get);
        // 1e9 priors on a small sample: about 2e8 steps (seconds) if not interrupted.
        let outcome = std::panic::catch_unwind(|| crate::bayes::bayes_prop(100, 10000, 2, 10000, 1e9, 1e9));
        CANCEL.with(|c| c.set(false));
        assert!(outcome.is_err(), "the hook's unwind must reach the caller");
        // It stopped at its first poll: the hook ran once, not the ~5e4 times of the whole call.
        assert_eq!(CALLS_ON_THIS_THREAD.with(Cell::get) - polls_before, 1);
        assert!(crate::bayes::bayes_prop(100, 10000, 2, 10000, 1.0, 1.0).is_ok());
    }
}
