//! The golden vectors written by `generate.py` from scipy, statsmodels and xxhash, and the
//! one comparison rule every test applies to them: 1e-9 relative (docs/contract.md §3).
//!
//! Encoding: a number is a number, `"inf"`/`"-inf"` are infinities, `null` is an undefined
//! statistic (SQL NULL), and 64-bit integers are decimal strings.

pub mod foreign_hash;

use serde_json::Value;

/// Relative tolerance of every comparison.
pub const RELATIVE_TOLERANCE: f64 = 1e-9;

/// Below this magnitude a difference-like field (a diff or an interval bound that crosses
/// zero) is compared absolutely; p-values never are.
const ABSOLUTE_FLOOR: f64 = 1e-13;

pub fn load() -> Value {
    load_file("vectors.json")
}

/// Another file of vectors next to vectors.json, by its own generator.
pub fn load_file(name: &str) -> Value {
    let path = format!("{}/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not valid JSON: {e}"))
}

/// The cases of one section.
pub fn cases<'a>(vectors: &'a Value, section: &str) -> &'a [Value] {
    vectors[section].as_array().unwrap_or_else(|| panic!("vectors.json has no section {section}"))
}

/// A float field of the vectors: `None` for null, infinities for "inf"/"-inf".
pub fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Null => None,
        Value::Number(n) => n.as_f64(),
        Value::String(s) if s == "inf" => Some(f64::INFINITY),
        Value::String(s) if s == "-inf" => Some(f64::NEG_INFINITY),
        Value::String(s) => s.parse().ok(),
        other => panic!("not a number: {other}"),
    }
}

pub fn f64_of(value: &Value) -> f64 {
    number(value).unwrap_or_else(|| panic!("expected a number, got {value}"))
}

pub fn i64_of(value: &Value) -> i64 {
    value.as_i64().or_else(|| value.as_str()?.parse().ok()).unwrap_or_else(|| panic!("expected an integer, got {value}"))
}

pub fn str_of(value: &Value) -> &str {
    value.as_str().unwrap_or_else(|| panic!("expected a string, got {value}"))
}

pub fn f64s_of(value: &Value) -> Vec<f64> {
    value.as_array().unwrap_or_else(|| panic!("expected an array, got {value}")).iter().map(f64_of).collect()
}

pub fn i64s_of(value: &Value) -> Vec<i64> {
    value.as_array().unwrap_or_else(|| panic!("expected an array, got {value}")).iter().map(i64_of).collect()
}

/// Collects every mismatch of a test so one run shows them all.
pub struct Checker {
    checked: usize,
    failures: Vec<String>,
    relative_tolerance: f64,
    /// The largest relative difference of a finite, nonzero reference seen.
    worst_relative: f64,
}

impl Default for Checker {
    fn default() -> Self {
        Self::with_tolerance(RELATIVE_TOLERANCE)
    }
}

impl Checker {
    /// A checker for a method whose documented accuracy is not the closed forms' 1e-9 (the
    /// group sequential grid's 1e-7).
    pub fn with_tolerance(relative_tolerance: f64) -> Self {
        Self { checked: 0, failures: Vec::new(), relative_tolerance, worst_relative: 0.0 }
    }

    /// Compares a float result with the reference.
    pub fn float(&mut self, case: &str, field: &str, actual: Option<f64>, expected: &Value) {
        self.checked += 1;
        let expected = number(expected);
        let agrees = match (actual, expected) {
            (None, None) => true,
            (Some(a), Some(e)) if e.is_infinite() || a.is_infinite() => a == e,
            (Some(a), Some(e)) => {
                if e != 0.0 {
                    self.worst_relative = self.worst_relative.max((a - e).abs() / e.abs());
                }
                let floor = if field.contains("p_value") { 0.0 } else { ABSOLUTE_FLOOR };
                (a - e).abs() <= (self.relative_tolerance * e.abs()).max(floor)
            }
            _ => false,
        };
        if !agrees {
            self.failures.push(format!("{case}: {field} = {actual:?}, reference {expected:?}"));
        }
    }

    /// Compares an exact result (integer, boolean, string) with the reference.
    pub fn exact<T: PartialEq + std::fmt::Debug>(&mut self, case: &str, field: &str, actual: T, expected: T) {
        self.checked += 1;
        if actual != expected {
            self.failures.push(format!("{case}: {field} = {actual:?}, reference {expected:?}"));
        }
    }

    /// Compares every field of `expected` (an object) with `actual(field)`; boolean fields
    /// (`significant`) are compared exactly.
    pub fn record(&mut self, case: &str, expected: &Value, actual: impl Fn(&str) -> Actual) {
        let fields = expected.as_object().unwrap_or_else(|| panic!("{case}: expected is not an object"));
        for (field, value) in fields {
            match actual(field) {
                Actual::Float(a) => self.float(case, field, a, value),
                Actual::Bool(a) => self.exact(case, field, a, value.as_bool()),
                Actual::Int(a) => self.exact(case, field, a, value.as_i64()),
                Actual::Missing => self.failures.push(format!("{case}: no field {field} in the result")),
            }
        }
    }

    /// Panics with every mismatch; also fails a check that compared nothing.
    pub fn finish(self, what: &str) {
        assert!(self.checked > 0, "{what}: no reference value was compared");
        assert!(
            self.failures.is_empty(),
            "{what}: {} of {} values differ from the reference:\n{}",
            self.failures.len(),
            self.checked,
            self.failures.join("\n")
        );
        eprintln!(
            "{what}: {} values agree with the reference (worst relative difference {:.1e})",
            self.checked, self.worst_relative
        );
    }
}

/// A field of a result, as the code under test gave it.
pub enum Actual {
    Float(Option<f64>),
    Bool(Option<bool>),
    Int(Option<i64>),
    Missing,
}

/// A short name for a case: its "name" field, else its position.
pub fn case_name(section: &str, index: usize, case: &Value) -> String {
    match case.get("name").and_then(Value::as_str) {
        Some(name) => format!("{section}[{index}] {name}"),
        None => format!("{section}[{index}]"),
    }
}

/// A SQL literal of a case's argument, as both engines read it: numbers as written (a float
/// keeps its decimal point, so it is parsed back to the same f64), booleans, quoted text and
/// `ARRAY[…]` of those. The engine casts it to the parameter's type.
pub fn sql_literal(value: &Value) -> String {
    match value {
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.to_string(),
            None => format!("{:?}", f64_of(value)),
        },
        Value::Bool(b) => b.to_string(),
        Value::String(s) => format!("'{}'", s.replace('\'', "''")),
        Value::Array(items) => format!("ARRAY[{}]", items.iter().map(sql_literal).collect::<Vec<_>>().join(", ")),
        other => panic!("no SQL literal for {other}"),
    }
}

/// A case of the "catalog_calls" section as a SQL call: `function(arg, …)`.
pub fn call_sql(case: &Value) -> String {
    let args = case["args"].as_array().unwrap_or_else(|| panic!("{case}: no args"));
    format!("{}({})", str_of(&case["function"]), args.iter().map(sql_literal).collect::<Vec<_>>().join(", "))
}
