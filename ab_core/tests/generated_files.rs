//! The committed files generated from the catalog are what it generates now: a change to the
//! catalog that is not written out fails here. Write them again with
//! `cargo run -p ab_core --example catalog_files`.

use ab_core::catalog::{self, postgres, reference};

fn assert_current(path: &str, generated: String) {
    let full = format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"));
    let committed = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{path} is committed: {e}"));
    assert!(committed == generated, "{path} differs from the catalog; write it again with `cargo run -p ab_core --example catalog_files`");
}

#[test]
fn the_reference_is_the_catalogs() {
    assert_current("docs/functions.md", reference::markdown());
}

#[test]
fn the_upgrade_script_of_this_release_is_the_catalogs() {
    let path = format!("pg_extension/sql/pg_ab--{}--{}.sql", catalog::PREVIOUS_RELEASE, catalog::RELEASE);
    assert_current(&path, postgres::upgrade_sql());
}
