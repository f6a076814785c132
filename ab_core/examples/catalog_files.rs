//! Writes the files generated from the catalog: docs/functions.md (the SQL reference) and
//! pg_extension/sql/pg_ab--PREVIOUS--RELEASE.sql (the upgrade script of this release).
//! `cargo run -p ab_core --example catalog_files`; ab_core/tests/generated_files.rs fails while
//! a committed file differs.

use ab_core::catalog::{self, postgres, reference};

fn main() -> std::io::Result<()> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    std::fs::write(format!("{root}/docs/functions.md"), reference::markdown())?;
    let upgrade = format!("{root}/pg_extension/sql/pg_ab--{}--{}.sql", catalog::PREVIOUS_RELEASE, catalog::RELEASE);
    std::fs::write(upgrade, postgres::upgrade_sql())
}
