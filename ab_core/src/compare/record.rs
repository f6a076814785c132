//! A result as every engine shows it: the values of the fields the catalog declares.

/// One field of a result record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValue {
    Float(Option<f64>),
    Bool(Option<bool>),
    Int(Option<i32>),
    BigInt(Option<i64>),
}

/// The type of a field of a result record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Float,
    Bool,
    Int,
    /// A count (int8 / Int64).
    BigInt,
}

/// A result as every engine shows it: its columns are declared once, in the catalog
/// (`crate::catalog::records`, docs/contract.md §3).
pub trait ResultRecord {
    const RECORD: &'static crate::catalog::Record;
    /// The values, in the order of the record's fields.
    fn values(&self) -> Vec<FieldValue>;
}
