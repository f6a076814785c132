//! `ab_gateway`: pg_ab's HTTP service. Assignment is answered from an in-process copy of
//! the configuration (so it survives a Postgres outage); events are group-committed into
//! the day-partitioned `ab.events`; experiments are managed through the API. Every
//! statistic and hash comes from `ab_core`.

pub mod app;
pub mod assignment;
pub mod auth;
pub mod cache;
pub mod db;
pub mod error;
pub mod events;
pub mod limits;
pub mod exposures;
pub mod maintenance;
pub mod metrics;
pub mod pages;
pub mod ratelimit;
pub mod results;
pub mod routes;
pub mod settings;
pub mod spool;
pub mod state;
pub mod store;
