//! The catalog's table functions (`ab_verdicts_prop`, `ab_verdicts_mean` and their sequential
//! forms) as DataFusion table functions: `SELECT * FROM ab_verdicts_prop(120, 1000, [150, 131],
//! [1000, 1000])`. DataFusion plans a table function from its arguments, so they must be
//! constants (literals, arrays of literals, casts); the call evaluates them once, runs the
//! catalog's body and returns its rows as an in-memory table with the record's columns.

use crate::args::{invalid, plan_error, Column};
use crate::results::{struct_type, to_struct_array};
use crate::scalars::{add_defaults, data_type, RowArgs};
use ab_core::catalog::{Function, Returns, Value, FUNCTIONS};
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{DFSchema, Result};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::ExprSchemable;
use datafusion::prelude::SessionContext;
use std::sync::Arc;

#[derive(Debug)]
struct TableFunction {
    function: &'static Function,
}

impl TableFunctionImpl for TableFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let name = self.function.name;
        let exprs = args.exprs();
        let overload =
            self.function.overload_taking(exprs.len()).ok_or_else(|| plan_error(format!("{name} does not take {} arguments", exprs.len())))?;
        let Returns::Table(record) = overload.returns else {
            return Err(plan_error(format!("{name} is not a table function")));
        };
        // No columns: the arguments are constants, evaluated on a batch of one row.
        let no_columns = DFSchema::empty();
        let one_row = RecordBatch::try_new_with_options(
            Arc::new(Schema::empty()),
            vec![],
            &datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(1)),
        )?;
        let mut columns = Vec::with_capacity(overload.params.len());
        for (expr, param) in exprs.iter().zip(overload.params) {
            let expr = expr.clone().cast_to(&data_type(param.ty), &no_columns)?;
            let physical = args.session().create_physical_expr(expr, &no_columns)?;
            columns.push(Column::new(physical.evaluate(&one_row)?.into_array(1)?));
        }
        add_defaults(name, overload, &mut columns, 1)?;
        let rows = if columns.iter().any(|c| c.is_null(0)) {
            Vec::new()
        } else {
            match (overload.body)(&RowArgs::new(&columns, 0, overload.params)).map_err(|e| invalid(name, e))? {
                Value::Rows(rows) => rows,
                other => return Err(plan_error(format!("{name}: the catalog's body returned {other:?} for a table"))),
            }
        };
        let DataType::Struct(fields) = struct_type(record) else { unreachable!("a record is a struct") };
        let schema = Arc::new(Schema::new(fields.clone()));
        let structs = to_struct_array(record, &rows.into_iter().map(Some).collect::<Vec<_>>());
        let batch = RecordBatch::try_new(schema.clone(), structs.as_struct().columns().to_vec())?;
        Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
    }
}

/// Registers every table function of the catalog.
pub fn register(ctx: &SessionContext) {
    for function in FUNCTIONS.iter().filter(|f| f.overloads.iter().any(|o| matches!(o.returns, Returns::Table(_)))) {
        ctx.register_udtf(function.name, Arc::new(TableFunction { function }));
    }
}
