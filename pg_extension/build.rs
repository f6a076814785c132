//! Renders the catalog (`ab_core::catalog`) for the extension: its SQL, embedded with pgrx's
//! `extension_sql!` (types first, everything else after the functions pgrx declares), and one
//! exported C function per overload that runs through the generic adapter (catalog.rs).

use ab_core::catalog::{postgres, Symbol, FUNCTIONS, RELEASE};
use std::fmt::Write;
use std::path::PathBuf;

/// A Rust raw string literal of `text` (SQL holds no `"###`).
fn raw_literal(text: &str) -> String {
    assert!(!text.contains("\"###"), "the catalog's SQL cannot be quoted as a raw string");
    format!("r###\"\n{text}\"###")
}

fn main() {
    let version = std::env::var("CARGO_PKG_VERSION").expect("cargo sets CARGO_PKG_VERSION");
    assert_eq!(version, RELEASE, "pg_ab's version must be the release ab_core::catalog describes");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let sql = format!(
        "::pgrx::extension_sql!(\n{},\n    name = \"result_types\",\n    bootstrap\n);\n\n::pgrx::extension_sql!(\n{},\n    name = \"catalog\",\n    finalize\n);\n",
        raw_literal(&postgres::types_sql()),
        raw_literal(&postgres::functions_sql()),
    );
    let mut symbols = String::new();
    for (f, function) in FUNCTIONS.iter().enumerate() {
        for (o, overload) in function.overloads.iter().enumerate() {
            if let Symbol::Adapter(symbol) = overload.symbol {
                writeln!(symbols, "adapter!({symbol}, pg_finfo_{symbol}, {f}, {o});").expect("write to a String");
            }
        }
    }
    std::fs::write(out.join("catalog_sql.rs"), sql).expect("write catalog_sql.rs");
    std::fs::write(out.join("catalog_symbols.rs"), symbols).expect("write catalog_symbols.rs");
    println!("cargo::rerun-if-changed=build.rs");
}
