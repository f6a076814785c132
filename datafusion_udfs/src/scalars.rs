//! Every row function of the catalog (`ab_core::catalog`, docs/functions.md) as a DataFusion
//! `ScalarUDF`, with the names, arguments, defaults and answers of the Postgres extension.
//! Arguments arrive as whole columns (constants are broadcast once per batch), are read per
//! row through [`ab_core::catalog::Args`], and a NULL argument gives a NULL result, as
//! `STRICT` does in SQL. The catalog's table functions are tables.rs's.

use crate::args::{invalid, plan_error, Column};
use crate::results::{struct_type, to_struct_array};
use ab_core::catalog::{self, Args, DefaultValue, Function, Overload, Param, Returns, SqlType, Value};
use datafusion::arrow::array::{ArrayRef, BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, ListBuilder, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};
use std::sync::Arc;

/// The Arrow type of a SQL type.
pub fn data_type(ty: SqlType) -> DataType {
    let list = |item: DataType| DataType::List(Arc::new(Field::new_list_field(item, true)));
    match ty {
        SqlType::Float8 => DataType::Float64,
        SqlType::Int4 => DataType::Int32,
        SqlType::Int8 => DataType::Int64,
        SqlType::Bool => DataType::Boolean,
        SqlType::Text => DataType::Utf8,
        SqlType::Float8Array => list(DataType::Float64),
        SqlType::Int8Array => list(DataType::Int64),
        SqlType::TextArray => list(DataType::Utf8),
    }
}

/// The columns of the parameters a call left out: their defaults, `rows` long.
pub fn add_defaults(name: &str, overload: &Overload, columns: &mut Vec<Column>, rows: usize) -> Result<()> {
    for missing in &overload.params[columns.len()..] {
        let default = default_value(missing).ok_or_else(|| plan_error(format!("{name}: {} is required", missing.name)))?;
        columns.push(Column::constant(&default, rows)?);
    }
    Ok(())
}

/// A parameter's default as a constant of its type.
fn default_value(param: &Param) -> Option<ScalarValue> {
    Some(match (param.default?, param.ty) {
        (DefaultValue::Float(v), _) => ScalarValue::Float64(Some(v)),
        (DefaultValue::Int(v), SqlType::Int4) => ScalarValue::Int32(Some(i32::try_from(v).ok()?)),
        (DefaultValue::Int(v), _) => ScalarValue::Int64(Some(v)),
        (DefaultValue::Bool(v), _) => ScalarValue::Boolean(Some(v)),
        (DefaultValue::Text(v), _) => ScalarValue::Utf8(Some(v.to_owned())),
    })
}

/// `UserDefined` first, through which calls are coerced (`coerce_types`); then the exact types of
/// every arity the catalog declares, which `information_schema.parameters` and `SHOW FUNCTIONS`
/// list (they read a signature's example types).
pub fn signature(arities: impl IntoIterator<Item = Vec<Param>>) -> Signature {
    let exact = arities.into_iter().map(|params| TypeSignature::Exact(params.iter().map(|p| data_type(p.ty)).collect()));
    Signature::one_of(std::iter::once(TypeSignature::UserDefined).chain(exact).collect(), Volatility::Immutable)
}

/// The documentation DataFusion shows (`SHOW FUNCTIONS`, `information_schema.routines`).
pub fn documentation(description: &str, syntax: String, params: &[Param]) -> Documentation {
    let mut builder = Documentation::builder(crate::doc_section(), description, syntax);
    for param in params {
        let about = match &param.default {
            None => param.ty.sql().to_owned(),
            Some(default) => format!("{}, default {}", param.ty.sql(), default.sql()),
        };
        builder = builder.with_argument(param.name, about);
    }
    builder.build()
}

/// One row of the argument columns.
pub struct RowArgs<'a> {
    columns: &'a [Column],
    row: usize,
    params: &'static [Param],
}

impl<'a> RowArgs<'a> {
    pub fn new(columns: &'a [Column], row: usize, params: &'static [Param]) -> Self {
        Self { columns, row, params }
    }
}

impl Args for RowArgs<'_> {
    fn float(&self, i: usize) -> f64 {
        self.columns[i].float(self.row)
    }

    fn int(&self, i: usize) -> i64 {
        self.columns[i].int(self.row)
    }

    fn int32(&self, i: usize) -> i32 {
        self.columns[i].int32(self.row)
    }

    fn bool(&self, i: usize) -> bool {
        self.columns[i].bool(self.row)
    }

    fn text(&self, i: usize) -> &str {
        self.columns[i].text(self.row)
    }

    fn floats(&self, i: usize) -> ab_core::Result<Vec<f64>> {
        self.columns[i].floats(self.params[i].name, self.row)
    }

    fn ints(&self, i: usize) -> ab_core::Result<Vec<i64>> {
        self.columns[i].ints(self.params[i].name, self.row)
    }

    fn texts(&self, i: usize) -> ab_core::Result<Vec<String>> {
        self.columns[i].texts(self.params[i].name, self.row)
    }
}

/// A row function of the catalog.
#[derive(Debug)]
pub struct RowFunction {
    function: &'static Function,
    signature: Signature,
    documentation: Documentation,
}

impl PartialEq for RowFunction {
    fn eq(&self, other: &Self) -> bool {
        self.function.name == other.function.name
    }
}
impl Eq for RowFunction {}
impl std::hash::Hash for RowFunction {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.function.name.hash(state)
    }
}

impl RowFunction {
    fn udf(function: &'static Function) -> ScalarUDF {
        let syntax = function.overloads.iter().map(|o| catalog::reference::call_syntax(function.name, o.params, None)).collect::<Vec<_>>().join(" | ");
        let params = function.overloads.iter().max_by_key(|o| o.params.len()).map_or(&[][..], |o| o.params);
        let documentation = documentation(&function.description(), syntax, params);
        let arities = function.overloads.iter().flat_map(|o| (o.required()..=o.params.len()).map(|arity| o.params[..arity].to_vec()));
        ScalarUDF::from(Self { function, signature: signature(arities), documentation })
    }

    /// The overload a call of this many arguments means (overloads differ in arity: `ab_assign`).
    fn overload(&self, arg_types: &[DataType]) -> Result<&'static Overload> {
        let count = arg_types.len();
        self.function.overload_taking(count).ok_or_else(|| {
            plan_error(format!(
                "{} does not take {count} arguments; see its documentation: {}",
                self.function.name, self.documentation.syntax_example
            ))
        })
    }
}

impl ScalarUDFImpl for RowFunction {
    fn name(&self) -> &str {
        self.function.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    /// The types as given: `invoke_with_args` casts each argument to its parameter's type. (Had
    /// this returned the parameters' types, the exact signatures beside `UserDefined` would make
    /// DataFusion refuse casts it does not take as lossless, such as an int8 literal to int4.)
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.overload(arg_types)?;
        Ok(arg_types.to_vec())
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.overload(arg_types)?.returns {
            Returns::Scalar(ty) => data_type(ty),
            Returns::Record(record) | Returns::Table(record) => struct_type(record),
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let arg_types: Vec<DataType> = args.args.iter().map(|a| a.data_type()).collect();
        let overload = self.overload(&arg_types)?;
        let mut columns = Vec::with_capacity(overload.params.len());
        for (array, param) in ColumnarValue::values_to_arrays(&args.args)?.iter().zip(overload.params) {
            columns.push(Column::new(cast(array, &data_type(param.ty))?));
        }
        add_defaults(self.function.name, overload, &mut columns, rows)?;
        let mut values = Vec::with_capacity(rows);
        for row in 0..rows {
            if columns.iter().any(|c| c.is_null(row)) {
                values.push(Value::Null);
            } else {
                let args = RowArgs { columns: &columns, row, params: overload.params };
                values.push((overload.body)(&args).map_err(|e| invalid(self.function.name, e))?);
            }
        }
        build(self.function.name, overload.returns, values).map(ColumnarValue::Array)
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.documentation)
    }
}

/// The result column of a batch. A value of another type than the overload declares is a
/// defect of its catalog entry, reported as such.
fn build(name: &str, returns: Returns, values: Vec<Value>) -> Result<ArrayRef> {
    let mismatch = |value: &Value| DataFusionError::Internal(format!("{name}: the catalog's body returned {value:?} for {returns:?}"));
    macro_rules! column {
        ($builder:expr, $variant:path) => {{
            let mut builder = $builder;
            for value in values {
                match value {
                    $variant(v) => builder.append_value(v),
                    Value::Null => builder.append_null(),
                    other => return Err(mismatch(&other)),
                }
            }
            Arc::new(builder.finish()) as ArrayRef
        }};
    }
    Ok(match returns {
        Returns::Scalar(SqlType::Float8) => column!(Float64Builder::with_capacity(values.len()), Value::Float),
        Returns::Scalar(SqlType::Int4) => column!(Int32Builder::with_capacity(values.len()), Value::Int32),
        Returns::Scalar(SqlType::Int8) => column!(Int64Builder::with_capacity(values.len()), Value::Int64),
        Returns::Scalar(SqlType::Bool) => column!(BooleanBuilder::with_capacity(values.len()), Value::Bool),
        Returns::Scalar(SqlType::Text) => column!(StringBuilder::new(), Value::Text),
        Returns::Scalar(SqlType::Float8Array) => {
            let mut builder = ListBuilder::new(Float64Builder::new());
            for value in values {
                match value {
                    Value::Floats(v) => builder.append_value(v.into_iter().map(Some)),
                    Value::Null => builder.append_null(),
                    other => return Err(mismatch(&other)),
                }
            }
            Arc::new(builder.finish())
        }
        Returns::Record(record) => {
            let mut rows = Vec::with_capacity(values.len());
            for value in values {
                rows.push(match value {
                    Value::Record(fields) => Some(fields),
                    Value::Null => None,
                    other => return Err(mismatch(&other)),
                });
            }
            to_struct_array(record, &rows)
        }
        Returns::Scalar(SqlType::Int8Array | SqlType::TextArray) | Returns::Table(_) => {
            return Err(DataFusionError::NotImplemented(format!("{name}: a result of {returns:?} in DataFusion")))
        }
    })
}

/// Every row function of the catalog, in its order.
pub fn all() -> Vec<ScalarUDF> {
    catalog::FUNCTIONS
        .iter()
        .filter(|f| f.overloads.iter().all(|o| !matches!(o.returns, Returns::Table(_))))
        .map(RowFunction::udf)
        .collect()
}
