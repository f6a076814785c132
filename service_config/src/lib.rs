//! The services' configuration file (`/etc/pg-ab/gateway.env` and co.): `--config FILE` (or
//! `AB_CONFIG`) names a file of `KEY=VALUE` lines whose keys are the environment names of
//! the command's flags (`AB_LISTEN` for `--listen`), so the file, the environment and the
//! command line share one set of names. A key that no flag has is refused, by name: a
//! misspelt key would otherwise be ignored and its flag's default used without a word.
//!
//! Precedence: the command line, then the process environment, then the file, then the
//! flag's default. Lines: `KEY=VALUE`, blank, or a comment starting with `#` or `;`; a
//! value may be wrapped in one pair of `"` or `'`. No escapes, no continuation lines.

use clap::{Arg, Command, Parser};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The id of the `--config` argument `parse` adds to every service's command.
pub const CONFIG_ARG: &str = "config";
/// The log filter: read from the environment by the services' logging, not by a flag, and
/// allowed in the file too.
pub const LOG_FILTER_KEY: &str = "AB_LOG";

/// `T::parse()` with a `--config FILE` (`AB_CONFIG`) flag added, the file's keys put in the
/// environment before the flags are read. Exits with status 2 and a message naming the
/// file, the line and the key when the file cannot be read or holds a line or key it should
/// not. Call it before any thread starts: it sets environment variables.
pub fn parse<T: Parser>() -> T {
    let command = with_config_flag(T::command());
    if let Some(path) = command.clone().get_matches().get_one::<PathBuf>(CONFIG_ARG) {
        match read(path, &known_keys(&command)) {
            Ok(entries) => {
                for (key, value) in entries {
                    // The environment wins over the file.
                    if std::env::var_os(&key).is_none() {
                        std::env::set_var(key, value);
                    }
                }
            }
            Err(error) => {
                eprintln!("{}: error: {error}", command.get_name());
                std::process::exit(2);
            }
        }
    }
    // A command built anew: clap reads an argument's environment variable when the argument
    // is built, so the first one has not seen the file's keys.
    let mut command = with_config_flag(T::command());
    let matches = command.clone().get_matches();
    T::from_arg_matches(&matches).unwrap_or_else(|error| error.format(&mut command).exit())
}

fn with_config_flag(command: Command) -> Command {
    command.arg(
        Arg::new(CONFIG_ARG)
            .long("config")
            .env("AB_CONFIG")
            .global(true)
            .value_name("FILE")
            .value_parser(clap::value_parser!(PathBuf))
            .help(
                "A configuration file of KEY=VALUE lines, the keys being the flags' environment names \
                 (the packages': /etc/pg-ab/*.env); a key no flag has stops the start. \
                 The command line and the environment win over the file",
            ),
    )
}

/// The environment names of every flag of `command` and its subcommands, and `AB_LOG`; not
/// `--config`'s own, which the file cannot set.
pub fn known_keys(command: &Command) -> BTreeSet<String> {
    let mut keys: BTreeSet<String> = command
        .get_arguments()
        .filter(|arg| arg.get_id() != CONFIG_ARG)
        .filter_map(|arg| arg.get_env())
        .map(|env| env.to_string_lossy().into_owned())
        .collect();
    for subcommand in command.get_subcommands() {
        keys.extend(known_keys(subcommand));
    }
    keys.insert(LOG_FILTER_KEY.to_owned());
    keys
}

/// The file's entries in their order, or an error naming the file and the line.
pub fn read(path: &Path, known: &BTreeSet<String>) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("configuration file {}: {e}", path.display()))?;
    entries(&text, known).map_err(|e| format!("configuration file {}, {e}", path.display()))
}

fn entries(text: &str, known: &BTreeSet<String>) -> Result<Vec<(String, String)>, String> {
    let mut entries: Vec<(String, String)> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let number = index + 1;
        let (key, value) = line.split_once('=').ok_or_else(|| format!("line {number}: expected KEY=VALUE, found {line:?}"))?;
        let key = key.trim();
        if !known.contains(key) {
            let keys: Vec<&str> = known.iter().map(String::as_str).collect();
            return Err(format!("line {number}: unknown key {key} (the keys are {})", keys.join(", ")));
        }
        if entries.iter().any(|(seen, _)| seen == key) {
            return Err(format!("line {number}: {key} is set twice"));
        }
        entries.push((key.to_owned(), unquoted(value.trim()).to_owned()));
    }
    Ok(entries)
}

fn unquoted(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(quote).and_then(|rest| rest.strip_suffix(quote)) {
            return inner;
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> BTreeSet<String> {
        ["AB_LISTEN", "DATABASE_URL"].map(String::from).into()
    }

    #[test]
    fn reads_keys_values_comments_and_quotes() {
        let text = "# the gateway\n\n; also a comment\nAB_LISTEN = 0.0.0.0:8080\nDATABASE_URL=\"host=/run/postgresql dbname=ab\"\n";
        let expected = [("AB_LISTEN", "0.0.0.0:8080"), ("DATABASE_URL", "host=/run/postgresql dbname=ab")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()));
        assert_eq!(entries(text, &keys()).unwrap(), expected);
    }

    #[test]
    fn refuses_an_unknown_key_by_name_and_line() {
        let error = entries("AB_LISTEN=127.0.0.1:1\nAB_LISTNE=127.0.0.1:2\n", &keys()).unwrap_err();
        assert_eq!(error, "line 2: unknown key AB_LISTNE (the keys are AB_LISTEN, DATABASE_URL)");
    }

    #[test]
    fn refuses_a_line_without_a_key_and_a_key_set_twice() {
        assert_eq!(entries("AB_LISTEN\n", &keys()).unwrap_err(), "line 1: expected KEY=VALUE, found \"AB_LISTEN\"");
        assert_eq!(entries("AB_LISTEN=a\nAB_LISTEN=b\n", &keys()).unwrap_err(), "line 2: AB_LISTEN is set twice");
    }

    #[test]
    fn known_keys_are_every_flags_environment_name_but_the_files_own() {
        let service = Command::new("service")
            .arg(Arg::new(CONFIG_ARG).long("config").env("AB_CONFIG").global(true))
            .arg(Arg::new("top").long("top").env("AB_TOP"))
            .subcommand(Command::new("serve").arg(Arg::new("deep").long("deep").env("AB_DEEP")).arg(Arg::new("plain").long("plain")));
        let keys: Vec<String> = known_keys(&service).into_iter().collect();
        assert_eq!(keys, ["AB_DEEP", "AB_LOG", "AB_TOP"]);
    }
}
