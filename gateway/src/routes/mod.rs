//! The HTTP handlers, one file per area.

pub mod assign;
pub mod events;
pub mod experiments;
pub mod health;
pub mod ofrep;
pub mod planning;
