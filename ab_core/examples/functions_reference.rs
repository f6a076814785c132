//! Prints docs/functions.md, the SQL reference generated from the catalog.

fn main() {
    print!("{}", ab_core::catalog::reference::markdown());
}
