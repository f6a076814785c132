//! Cancellation: a hook the long loops call every few thousand steps. A no-op by default;
//! the Postgres extension sets it to `CHECK_FOR_INTERRUPTS()`, whose `ERROR` (statement
//! timeout, `pg_cancel_backend`) unwinds through `ab_core`'s frames to the SQL function's
//! boundary. `ab_core` holds no lock and leaves no shared state half-written across a call of
//! the hook, so that unwind is safe.

use std::sync::{PoisonError, RwLock};

static HOOK: RwLock<Option<fn()>> = RwLock::new(None);

/// Sets the function [`check`] calls (once per process is enough; a later call replaces it).
pub fn set_hook(hook: fn()) {
    *HOOK.write().unwrap_or_else(PoisonError::into_inner) = Some(hook);
}

/// Calls the hook, if one is set. The lock is released before the call, so a hook that
/// unwinds leaves nothing locked.
pub(crate) fn check() {
    let hook = *HOOK.read().unwrap_or_else(PoisonError::into_inner);
    if let Some(hook) = hook {
        hook();
    }
}
