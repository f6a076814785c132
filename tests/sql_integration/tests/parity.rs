//! Parity of the two engines, walked from the catalog (`ab_core::catalog`): every function and
//! aggregate exists in Postgres with the catalog's arguments, defaults and result columns and in
//! DataFusion under the same name with the same arguments, and the catalog's example gives the
//! same figures in both, to the 1e-10 the README documents (aggregates add rows in another
//! order in each engine). The examples leave their optional arguments out, so the defaults each
//! engine applies are compared too. The aggregates' examples read one shared table of 400 users.

use ab_core::catalog::{self, DefaultValue, Param, Returns, SqlType, AGGREGATES, FUNCTIONS};
use ab_core::records::Record;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, RecordBatch, StructArray};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int32Type, Int64Type};
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};
use postgres::types::Type;
use postgres::{Client, Row};
use sql_integration::connect;
use std::sync::Arc;

/// One value as both engines give it.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Null,
    Number(f64),
    Bool(bool),
    Text(String),
    Numbers(Vec<f64>),
}

fn agree(postgres: &Cell, datafusion: &Cell) -> bool {
    let close = |a: f64, b: f64| a == b || (a - b).abs() <= 1e-10 * a.abs().max(b.abs());
    match (postgres, datafusion) {
        (Cell::Number(a), Cell::Number(b)) => close(*a, *b),
        (Cell::Numbers(a), Cell::Numbers(b)) => a.len() == b.len() && a.iter().zip(b).all(|(a, b)| close(*a, *b)),
        (a, b) => a == b,
    }
}

fn postgres_cell(row: &Row, index: usize) -> Cell {
    let column_type = row.columns()[index].type_().clone();
    let cell = match column_type {
        Type::FLOAT8 => row.get::<_, Option<f64>>(index).map(Cell::Number),
        Type::INT4 => row.get::<_, Option<i32>>(index).map(|v| Cell::Number(v.into())),
        Type::INT8 => row.get::<_, Option<i64>>(index).map(|v| Cell::Number(v as f64)),
        Type::BOOL => row.get::<_, Option<bool>>(index).map(Cell::Bool),
        Type::TEXT => row.get::<_, Option<String>>(index).map(Cell::Text),
        Type::FLOAT8_ARRAY => row.get::<_, Option<Vec<f64>>>(index).map(Cell::Numbers),
        other => panic!("no cell for Postgres type {other}"),
    };
    cell.unwrap_or(Cell::Null)
}

fn arrow_cell(array: &ArrayRef, row: usize) -> Cell {
    if array.is_null(row) {
        return Cell::Null;
    }
    match array.data_type() {
        DataType::Float64 => Cell::Number(array.as_primitive::<Float64Type>().value(row)),
        DataType::Int32 => Cell::Number(array.as_primitive::<Int32Type>().value(row).into()),
        DataType::Int64 => Cell::Number(array.as_primitive::<Int64Type>().value(row) as f64),
        DataType::Boolean => Cell::Bool(array.as_boolean().value(row)),
        DataType::Utf8 => Cell::Text(array.as_string::<i32>().value(row).to_owned()),
        DataType::List(_) => {
            let values = array.as_list::<i32>().value(row);
            Cell::Numbers(values.as_primitive::<Float64Type>().values().to_vec())
        }
        other => panic!("no cell for Arrow type {other}"),
    }
}

/// The record's fields, by name, from Postgres' `(call).*` row and DataFusion's struct.
fn record_cells(record: &Record, postgres: &Row, datafusion: &ArrayRef) -> Vec<(String, Cell, Cell)> {
    let fields: &StructArray = datafusion.as_struct();
    record
        .fields
        .iter()
        .map(|(name, _)| {
            let index = postgres.columns().iter().position(|c| c.name() == *name).unwrap_or_else(|| panic!("Postgres lacks {name}"));
            let column = fields.column_by_name(name).unwrap_or_else(|| panic!("DataFusion lacks {name}"));
            let datafusion = if datafusion.is_null(0) { Cell::Null } else { arrow_cell(column, 0) };
            (name.to_string(), postgres_cell(postgres, index), datafusion)
        })
        .collect()
}

async fn datafusion_value(ctx: &SessionContext, sql: &str) -> ArrayRef {
    let batches: Vec<RecordBatch> = ctx.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}")).collect().await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let batch = batches.into_iter().find(|b| b.num_rows() > 0).unwrap_or_else(|| panic!("{sql}: no row"));
    assert_eq!(batch.num_rows(), 1, "{sql}");
    batch.column(0).clone()
}

/// `pg_get_function_arguments` as the catalog declares the arguments.
fn postgres_arguments(params: &[Param], defaults: bool) -> String {
    params
        .iter()
        .map(|p| match (&p.default, defaults) {
            (Some(DefaultValue::Text(text)), true) => format!("{} {} DEFAULT '{text}'::text", p.name, p.ty.sql()),
            (Some(default), true) => format!("{} {} DEFAULT {}", p.name, p.ty.sql(), default.sql()),
            _ => format!("{} {}", p.name, p.ty.sql()),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn postgres_signatures(client: &mut Client, name: &str) -> Vec<(String, String)> {
    client
        .query(
            "SELECT pg_get_function_arguments(p.oid), pg_get_function_result(p.oid) FROM pg_proc p
             JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.proname = $1 AND n.nspname = 'public'",
            &[&name],
        )
        .expect("pg_proc")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

fn result_columns(record: &Record) -> String {
    let columns: Vec<String> = record.fields.iter().map(|(name, kind)| format!("{name} {}", kind.sql_type().sql())).collect();
    format!("TABLE({})", columns.join(", "))
}

/// The documentation DataFusion keeps names every argument of the catalog, in order.
fn assert_documented_arguments(name: &str, documentation: Option<&datafusion::logical_expr::Documentation>, params: &[Param]) {
    let documented: Vec<String> = documentation
        .and_then(|d| d.arguments.clone())
        .unwrap_or_else(|| panic!("{name}: DataFusion has no documented arguments"))
        .into_iter()
        .map(|(argument, _)| argument)
        .collect();
    let declared: Vec<&str> = params.iter().map(|p| p.name).collect();
    assert_eq!(documented, declared, "{name}: DataFusion documents other arguments than the catalog");
}

fn users_table(client: &mut Client) -> MemTable {
    // 400 users of two concurrent experiments; revenue depends on the arm and on the
    // pre-period, so every test has an effect, a covariate and a ratio to find.
    let mut columns: (Vec<bool>, Vec<bool>, Vec<bool>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) = Default::default();
    client.batch_execute(
        "DROP TABLE IF EXISTS users;
         CREATE TABLE users (is_treatment boolean, in_second boolean, converted boolean, revenue float8,
                             revenue_before float8, sessions float8, sessions_before float8);",
    ).expect("create users");
    let mut insert = String::from("INSERT INTO users VALUES ");
    for i in 0..400u32 {
        let (treated, second) = (i % 2 == 1, i % 3 == 0);
        let before = f64::from((i * 37) % 101) / 4.0;
        let sessions_before = f64::from(1 + (i * 13) % 7);
        let sessions = f64::from(1 + (i * 17) % 9);
        let revenue = 0.8 * before + f64::from((i * 53) % 31) / 3.0 + if treated { 1.5 } else { 0.0 } + if second { 0.5 } else { 0.0 };
        let converted = (i * 29) % 10 < if treated { 4 } else { 3 };
        if i > 0 {
            insert.push_str(", ");
        }
        insert.push_str(&format!("({treated}, {second}, {converted}, {revenue:?}, {before:?}, {sessions:?}, {sessions_before:?})"));
        columns.0.push(treated);
        columns.1.push(second);
        columns.2.push(converted);
        columns.3.push(revenue);
        columns.4.push(before);
        columns.5.push(sessions);
        columns.6.push(sessions_before);
    }
    client.batch_execute(&insert).expect("insert users");
    let batch = RecordBatch::try_from_iter(vec![
        ("is_treatment", Arc::new(BooleanArray::from(columns.0)) as ArrayRef),
        ("in_second", Arc::new(BooleanArray::from(columns.1))),
        ("converted", Arc::new(BooleanArray::from(columns.2))),
        ("revenue", Arc::new(Float64Array::from(columns.3))),
        ("revenue_before", Arc::new(Float64Array::from(columns.4))),
        ("sessions", Arc::new(Float64Array::from(columns.5))),
        ("sessions_before", Arc::new(Float64Array::from(columns.6))),
    ])
    .expect("users batch");
    MemTable::try_new(batch.schema(), vec![vec![batch]]).expect("users table")
}

/// Notes every field on which the engines disagree, and an example whose every field is NULL
/// (it would compare nothing).
fn compare(example: &str, cells: Vec<(String, Cell, Cell)>, disagreements: &mut Vec<String>) {
    if cells.iter().all(|(_, postgres, _)| *postgres == Cell::Null) {
        disagreements.push(format!("{example}: NULL in Postgres, so it compares nothing"));
    }
    for (field, postgres, datafusion) in cells {
        if !agree(&postgres, &datafusion) {
            disagreements.push(format!("{example} {field}: Postgres {postgres:?}, DataFusion {datafusion:?}"));
        }
    }
}

#[test]
fn every_catalog_function_exists_in_both_engines_and_gives_the_same_figures() {
    // The Postgres client blocks, so DataFusion's queries run on a runtime of their own.
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let mut client = connect();
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2));
    ab_datafusion::register_all(&ctx);
    let state = ctx.state();
    let mut disagreements = Vec::new();
    for function in FUNCTIONS {
        let mut expected: Vec<(String, String)> = function
            .overloads
            .iter()
            .map(|o| {
                let result = match o.returns {
                    Returns::Scalar(ty) => ty.sql().to_owned(),
                    Returns::Record(record) => record.name.to_owned(),
                    Returns::Table(record) => result_columns(record),
                };
                (postgres_arguments(o.params, true), result)
            })
            .collect();
        let mut found = postgres_signatures(&mut client, function.name);
        expected.sort();
        found.sort();
        assert_eq!(found, expected, "{}: Postgres declares other arguments, defaults or results than the catalog", function.name);

        let returns = function.overloads[0].returns;
        if let Returns::Table(record) = returns {
            assert!(state.table_functions().contains_key(function.name), "{} is missing in DataFusion", function.name);
            let sql = format!("SELECT * FROM {}", function.example);
            let postgres = client.query(&sql, &[]).expect(function.example);
            let batches = runtime.block_on(async { ctx.sql(&sql).await?.collect().await }).unwrap_or_else(|e| panic!("{sql}: {e}"));
            let datafusion: Vec<(RecordBatch, usize)> = batches.iter().flat_map(|b| (0..b.num_rows()).map(move |row| (b.clone(), row))).collect();
            assert_eq!(postgres.len(), datafusion.len(), "{sql}: the engines return other numbers of rows");
            assert!(!postgres.is_empty(), "{sql}: no rows, so it compares nothing");
            for (pg_row, (batch, row)) in postgres.iter().zip(&datafusion) {
                let cells = record
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(i, (name, _))| {
                        let column = batch.column_by_name(name).unwrap_or_else(|| panic!("DataFusion lacks {name}"));
                        (name.to_string(), postgres_cell(pg_row, i), arrow_cell(column, *row))
                    })
                    .collect();
                compare(function.example, cells, &mut disagreements);
            }
            continue;
        }
        let udf = state.scalar_functions().get(function.name).unwrap_or_else(|| panic!("{} is missing in DataFusion", function.name));
        let longest = function.overloads.iter().max_by_key(|o| o.params.len()).expect("an overload");
        assert_documented_arguments(function.name, udf.documentation(), longest.params);

        let datafusion = runtime.block_on(datafusion_value(&ctx, &format!("SELECT {}", function.example)));
        let cells = match returns {
            Returns::Record(record) => {
                let row = client.query_one(&format!("SELECT ({}).*", function.example), &[]).expect(function.example);
                record_cells(record, &row, &datafusion)
            }
            _ => {
                let row = client.query_one(&format!("SELECT {}", function.example), &[]).expect(function.example);
                vec![(String::new(), postgres_cell(&row, 0), arrow_cell(&datafusion, 0))]
            }
        };
        compare(function.example, cells, &mut disagreements);
    }

    ctx.register_table("users", Arc::new(users_table(&mut client))).expect("register users");
    for aggregate in AGGREGATES {
        let mut expected: Vec<(String, String)> = aggregate
            .arities()
            .map(|arity| (postgres_arguments(&aggregate.params(arity), false), aggregate.returns.name.to_owned()))
            .collect();
        let mut found = postgres_signatures(&mut client, aggregate.name);
        expected.sort();
        found.sort();
        assert_eq!(found, expected, "{}: Postgres declares other overloads than the catalog", aggregate.name);

        let udaf = state.aggregate_functions().get(aggregate.name).unwrap_or_else(|| panic!("{} is missing in DataFusion", aggregate.name));
        assert_documented_arguments(aggregate.name, udaf.documentation(), &aggregate.params(*aggregate.arities().end()));

        let row = client.query_one(&format!("SELECT ({}).* FROM users", aggregate.example), &[]).expect(aggregate.example);
        let datafusion = runtime.block_on(datafusion_value(&ctx, &format!("SELECT {} FROM users", aggregate.example)));
        compare(aggregate.example, record_cells(aggregate.returns, &row, &datafusion), &mut disagreements);
    }
    assert!(disagreements.is_empty(), "the engines disagree:\n{}", disagreements.join("\n"));
}

/// The catalog's types are Postgres' own spellings (`format_type`), which the comparisons above rely on.
#[test]
fn catalog_types_are_spelled_as_postgres_spells_them() {
    let mut client = connect();
    for ty in [SqlType::Float8, SqlType::Int4, SqlType::Int8, SqlType::Bool, SqlType::Text, SqlType::Float8Array, SqlType::Int8Array, SqlType::TextArray] {
        let spelled: String = client.query_one(&format!("SELECT format_type('{}'::regtype, NULL)", ty.sql()), &[]).expect("format_type").get(0);
        assert_eq!(spelled, ty.sql());
    }
    assert!(catalog::function("ab_ztest").is_some());
}
