//! What the gateway accepts from services, declared once: the parsers check these limits and
//! the OpenAPI document states them ([`state_in`] writes them into the derived schemas, whose
//! attributes take only literals).

use serde_json::{json, Value};

/// The longest unit id (`/assign`'s user_id, OFREP's targetingKey, an event's user_id), in
/// characters. Units and event ids contain no NUL (U+0000) either: Postgres' text cannot store
/// it, and an exposure it refused would stop the spool's flusher.
pub const MAX_UNIT_ID: usize = 256;
/// The longest text field of an event (its id, type or timestamp, before their own checks).
pub const MAX_EVENT_TEXT: usize = 256;
/// Events in one request.
pub const MAX_BATCH_EVENTS: usize = 1000;
/// JSON Schema's spelling of "no NUL".
const NO_NUL: &str = "^[^\\u0000]*$";

/// A unit id or event id within its limit: 1 to `max` characters, none of them NUL.
pub fn is_valid_text(text: &str, max: usize) -> bool {
    !text.is_empty() && text.chars().count() <= max && !text.contains('\0')
}

/// What [`is_valid_text`] asks, for error messages.
pub fn text_rule(max: usize) -> String {
    format!("must be 1 to {max} characters, none of them NUL")
}

/// Writes the limits above into the document's schemas of the requests that carry them.
pub fn state_in(document: &mut Value) {
    let schemas = &mut document["components"]["schemas"];
    let texts = [
        ("AssignRequest", "user_id", MAX_UNIT_ID, true),
        ("Event", "user_id", MAX_UNIT_ID, true),
        ("Event", "event_id", MAX_EVENT_TEXT, true),
        // OFREP's evaluation context is the OpenFeature SDKs'; only its length is ours.
        ("EvaluationContext", "targetingKey", MAX_UNIT_ID, false),
    ];
    for (schema, property, max, no_nul) in texts {
        let bounds = schemas[schema]["properties"][property].as_object_mut().unwrap_or_else(|| panic!("{schema}.{property} is in the document"));
        bounds.insert("minLength".to_owned(), json!(1));
        bounds.insert("maxLength".to_owned(), json!(max));
        if no_nul {
            bounds.insert("pattern".to_owned(), json!(NO_NUL));
        }
    }
    schemas["Event"]["properties"]["event_type"]["pattern"] = json!(ab_core::experiment::IDENTIFIER_PATTERN);
    let events = &mut schemas["EventBatch"]["properties"]["events"];
    events["minItems"] = json!(1);
    events["maxItems"] = json!(MAX_BATCH_EVENTS);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_one_to_max_characters_without_nul() {
        assert!(is_valid_text("é", 1));
        assert!(!is_valid_text("", 1));
        assert!(!is_valid_text("ab", 1));
        assert!(!is_valid_text("a\0", 2));
    }
}
