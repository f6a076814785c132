//! The installed extension's SQL surface is 0.2.0's, object for object: every function's
//! arguments, defaults, result, markings, C symbol and comment, every aggregate's support
//! functions, every composite type and its comment (`surface/surface.sql`). The expected lines
//! were written by that query from the build of 155c409, the last 0.2.0 before the catalog
//! (ab_core::catalog) took over the SQL. A change to the surface must ship as a new version
//! with an upgrade script; then this file names that version's lines.

use sql_integration::connect;

#[test]
fn the_installed_surface_is_the_released_0_2_0() {
    let mut client = connect();
    let rows = client.query(include_str!("../surface/surface.sql"), &[]).expect("surface query");
    let installed: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
    let released: Vec<&str> = include_str!("../surface/pg_ab--0.2.0.txt").lines().collect();
    let missing: Vec<&&str> = released.iter().filter(|line| !installed.iter().any(|i| i == **line)).collect();
    let added: Vec<&String> = installed.iter().filter(|line| !released.contains(&line.as_str())).collect();
    assert!(
        missing.is_empty() && added.is_empty(),
        "the SQL surface changed; ship it as a new version with an upgrade script\nreleased, not installed:\n{}\ninstalled, not released:\n{}",
        missing.iter().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n"),
        added.iter().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n"),
    );
    assert_eq!(installed.len(), released.len(), "an object is listed twice");
}
