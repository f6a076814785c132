//! The installed extension's SQL surface keeps 0.2.0's, object for object, and adds exactly the
//! objects the catalog (ab_core::catalog) says this release adds. An object is a line of
//! `surface/surface.sql`: every function's arguments, defaults, result, markings, C symbol and
//! comment, every aggregate's support functions, every composite type and its comment. The 0.2.0
//! lines were written by that query from the build of 155c409, the last 0.2.0 before the catalog
//! took over the SQL; `pg_extension/sql/pg_ab--0.2.0.sql` is that build's install script.

use ab_core::catalog::{AGGREGATES, FUNCTIONS, RELEASE};
use ab_core::records::RECORDS;
use sql_integration::connect;

/// The name of the object a surface line describes (`function ab_ztest(…`, `type ab_srm_result (…`).
fn object_of(line: &str) -> &str {
    let rest = line.split_once(' ').map_or(line, |(_, rest)| rest);
    rest.split(['(', ' ']).next().unwrap_or(rest)
}

#[test]
fn the_installed_surface_is_0_2_0_and_what_this_release_adds() {
    let mut client = connect();
    let rows = client.query(include_str!("../surface/surface.sql"), &[]).expect("surface query");
    let installed: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
    let released: Vec<&str> = include_str!("../surface/pg_ab--0.2.0.txt").lines().collect();
    let added: Vec<&str> = FUNCTIONS
        .iter()
        .filter(|f| f.added_in == Some(RELEASE))
        .map(|f| f.name)
        .chain(AGGREGATES.iter().filter(|a| a.added_in == Some(RELEASE)).map(|a| a.name))
        .chain(RECORDS.iter().filter(|r| r.added_in == Some(RELEASE)).map(|r| r.name))
        .collect();

    let changed: Vec<&&str> = released.iter().filter(|line| !installed.iter().any(|i| i == **line)).collect();
    let unexpected: Vec<&String> =
        installed.iter().filter(|line| !released.contains(&line.as_str()) && !added.contains(&object_of(line))).collect();
    let missing: Vec<&&str> = added.iter().filter(|name| !installed.iter().any(|line| object_of(line) == **name)).collect();
    assert!(
        changed.is_empty() && unexpected.is_empty() && missing.is_empty(),
        "the SQL surface is not 0.2.0's plus what {RELEASE} adds (ab_core::catalog's added_in)\n\
         0.2.0's, changed or gone:\n{}\nnot in 0.2.0 nor added by {RELEASE}:\n{}\nadded by {RELEASE}, not installed: {missing:?}",
        changed.iter().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n"),
        unexpected.iter().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n"),
    );
    assert_eq!(installed.len(), released.len() + installed.iter().filter(|l| added.contains(&object_of(l))).count());
}
