//! `ab_core`: everything pg_ab computes, written once. Hashing and assignment
//! ([`assign`]), distributions with accurate tails ([`dist`]), mergeable accumulators
//! ([`moments`]), two-sample tests ([`compare`]), planning ([`planning`]) and
//! sample-ratio/multiple-testing checks ([`srm`]), and the experiment configuration
//! with its validation and targeting ([`experiment`], indexed for many experiments by
//! [`eligibility`]), Bayesian comparisons and bandit
//! weights ([`bayes`], by [`quadrature`]), sequential tests ([`sequential`]) and outlier
//! capping ([`outliers`]), and other platforms' bucketing for migrations
//! ([`foreign_hash`]). No I/O: the Postgres extension, the
//! DataFusion UDFs and the gateway are thin adapters over these functions.

pub mod aggregate;
pub mod alternative;
pub mod assign;
pub mod bayes;
pub mod catalog;
pub mod compare;
pub mod contamination;
pub mod dist;
pub mod eligibility;
pub mod error;
pub mod experiment;
pub mod foreign_hash;
pub mod group_sequential;
pub mod interrupt;
pub mod moments;
pub mod outliers;
pub mod planning;
pub mod quadrature;
pub mod quantile;
pub mod records;
pub mod sequential;
pub mod simulation;
pub mod srm;
pub mod text;
mod work;

pub use alternative::Alternative;
pub use error::{InvalidArgument, Result};
