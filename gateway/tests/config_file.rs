//! `--config FILE` (the packaged service's /etc/pg-ab/gateway.env) with the real binary: a key
//! no flag has stops the start and is named; a known key takes effect; the command line and
//! the environment win over the file.

mod support;

use chrono::{SecondsFormat, Utc};
use serde_json::json;
use std::path::PathBuf;
use support::{error_code, refused_start, Database, Gateway};

fn config_file(name: &str, text: &str) -> PathBuf {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.env"));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn an_unknown_key_stops_the_start_and_is_named() {
    let db = Database::fresh("config_unknown");
    let path = config_file("unknown-key", "# a misspelt limit\nAB_POOL_SIZE=4\nAB_MAX_BODY_BYTE=1000\n");
    let stderr = refused_start(&db, &["--config", path.to_str().unwrap()]);
    assert!(stderr.contains(&format!("configuration file {}, line 3: unknown key AB_MAX_BODY_BYTE", path.display())), "{stderr}");
    assert!(stderr.contains("AB_MAX_BODY_BYTES"), "the known keys are listed: {stderr}");

    let missing = refused_start(&db, &["--config", "/nonexistent/gateway.env"]);
    assert!(missing.contains("configuration file /nonexistent/gateway.env: No such file"), "{missing}");
}

#[test]
fn the_files_keys_take_effect_below_the_command_line_and_the_environment() {
    let db = Database::fresh("config_keys");
    // The listen address and the database in the file are unusable: the gateway answers only
    // because the command line (--listen) and the environment (DATABASE_URL) win over them.
    let path = config_file(
        "known-keys",
        "AB_LISTEN=127.0.0.1:1\nDATABASE_URL='host=127.0.0.1 port=1 dbname=nowhere'\n\
         AB_USER_EVENTS_PER_SECOND=0.001\nAB_USER_EVENTS_BURST=2\n",
    );
    let gw = Gateway::start(&db, &["--config", path.to_str().unwrap()]);
    let event = json!({"user_id": "busy", "event_type": "view", "timestamp": Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)});
    assert_eq!(gw.post("/api/v1/events", Some(&gw.sdk), &json!([event, event])).0, 202);
    let (status, answer) = gw.post("/api/v1/events", Some(&gw.sdk), &event);
    assert_eq!((status, error_code(&answer)), (429, "rate_limited"), "the file's burst of 2 holds");
}
