//! docs/functions.md is the catalog's reference as generated now: a change to the catalog that
//! is not written out to the committed file fails here.

#[test]
fn the_committed_reference_is_the_catalogs() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/functions.md");
    let committed = std::fs::read_to_string(path).expect("docs/functions.md is committed");
    assert!(
        committed == ab_core::catalog::reference::markdown(),
        "docs/functions.md differs from the catalog; write it again with \
         `cargo run -p ab_core --example functions_reference > docs/functions.md`"
    );
}
