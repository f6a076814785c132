//! Checks of the texts that configurations and hash schemes accept (names, salts, event
//! types): shared by the experiment model and the foreign hash schemes, so neither imports
//! the other for them.

use crate::error::{InvalidArgument, Result};

/// A non-empty text of at most `max_len` characters.
pub fn check_text(argument: &'static str, text: &str, max_len: usize) -> Result<()> {
    if text.is_empty() {
        return Err(InvalidArgument::new(argument, "must not be empty"));
    }
    check_text_allow_empty(argument, text, max_len)
}

/// A text of at most `max_len` characters, possibly empty.
pub fn check_text_allow_empty(argument: &'static str, text: &str, max_len: usize) -> Result<()> {
    let length = text.chars().count();
    if length > max_len {
        return Err(InvalidArgument::new(argument, format!("must be at most {max_len} characters, got {length}")));
    }
    Ok(())
}
