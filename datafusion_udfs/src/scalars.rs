//! Every scalar function of the extension as a DataFusion `ScalarUDF`, with the same names,
//! arguments, defaults and answers. Each is a table entry: its parameters and a body that calls
//! `ab_core`. Arguments arrive as whole columns (constants are broadcast once per batch), are
//! read with typed accessors, and a NULL argument gives a NULL result, as `STRICT` does in SQL.

use crate::args::{invalid, plan_error, Column, ParamType};
use crate::results::{struct_type, to_struct_array};
use ab_core::compare::{self, TTest, TestSettings, ZTest};
use ab_core::planning::{self, Design, RatePair};
use ab_core::bayes::{self, Bayes};
use ab_core::sequential::{self, AlwaysValid};
use ab_core::srm::{self, Correction, Srm};
use ab_core::contamination::{self, Contamination};
use ab_core::quantile::{self, QuantileTest};
use ab_core::{assign, foreign_hash, outliers, InvalidArgument};
use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, ListBuilder, StringBuilder,
};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use std::sync::Arc;
use ParamType::{Bool, Float, Floats, Int, Int32, Ints, Text, Texts};

/// A parameter, and the value it takes when the call leaves it out.
#[derive(Debug)]
struct Param {
    name: &'static str,
    ty: ParamType,
    default: Option<ScalarValue>,
}

fn param(name: &'static str, ty: ParamType) -> Param {
    Param { name, ty, default: None }
}

fn optional(name: &'static str, ty: ParamType, default: ScalarValue) -> Param {
    Param { name, ty, default: Some(default) }
}

fn alpha() -> Param {
    optional("alpha", Float, ScalarValue::Float64(Some(0.05)))
}

fn power() -> Param {
    optional("power", Float, ScalarValue::Float64(Some(0.8)))
}

fn relative() -> Param {
    optional("relative", Bool, ScalarValue::Boolean(Some(true)))
}

fn alternative() -> Param {
    optional("alternative", Text, ScalarValue::Utf8(Some("two-sided".into())))
}

fn comparisons() -> Param {
    optional("comparisons", Int32, ScalarValue::Int32(Some(1)))
}

/// The value of one row.
enum Out {
    Float(f64),
    MaybeFloat(Option<f64>),
    Int32(i32),
    Int64(i64),
    Bool(bool),
    Text(String),
    Floats(Vec<f64>),
    ZTest(ZTest),
    TTest(TTest),
    Srm(Srm),
    /// `None` where the statistic is undefined (NULL).
    Bayes(Option<Bayes>),
    Sequential(AlwaysValid),
    Quantile(QuantileTest),
    Contamination(Option<Contamination>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Returns {
    Float,
    Int32,
    Int64,
    Bool,
    Text,
    Floats,
    ZTest,
    TTest,
    Srm,
    Bayes,
    Sequential,
    Quantile,
    Contamination,
}

impl Returns {
    fn data_type(self) -> DataType {
        match self {
            Self::Float => DataType::Float64,
            Self::Int32 => DataType::Int32,
            Self::Int64 => DataType::Int64,
            Self::Bool => DataType::Boolean,
            Self::Text => DataType::Utf8,
            Self::Floats => Floats.data_type(),
            Self::ZTest => struct_type::<ZTest>(),
            Self::TTest => struct_type::<TTest>(),
            Self::Srm => struct_type::<Srm>(),
            Self::Bayes => struct_type::<Bayes>(),
            Self::Sequential => struct_type::<AlwaysValid>(),
            Self::Quantile => struct_type::<QuantileTest>(),
            Self::Contamination => struct_type::<Contamination>(),
        }
    }
}

type Body = fn(&[Column], usize) -> ab_core::Result<Out>;

/// One signature of a function: `ab_assign` has two, told apart by their argument count.
#[derive(Debug)]
struct Overload {
    params: Vec<Param>,
    returns: Returns,
    body: Body,
}

impl Overload {
    fn required(&self) -> usize {
        self.params.iter().take_while(|p| p.default.is_none()).count()
    }

    fn accepts(&self, count: usize) -> bool {
        (self.required()..=self.params.len()).contains(&count)
    }
}

/// A pg_ab scalar function.
#[derive(Debug)]
pub struct RowFunction {
    name: &'static str,
    overloads: Vec<Overload>,
    signature: Signature,
    documentation: Documentation,
}

impl PartialEq for RowFunction {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}
impl Eq for RowFunction {}
impl std::hash::Hash for RowFunction {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state)
    }
}

impl RowFunction {
    fn udf(name: &'static str, description: &str, overloads: Vec<Overload>) -> ScalarUDF {
        let syntax = overloads
            .iter()
            .map(|o| {
                let params: Vec<String> = o
                    .params
                    .iter()
                    .map(|p| match &p.default {
                        None => p.name.to_owned(),
                        Some(default) => format!("{} = {default}", p.name),
                    })
                    .collect();
                format!("{name}({})", params.join(", "))
            })
            .collect::<Vec<_>>()
            .join(" | ");
        let documentation = Documentation::builder(crate::doc_section(), description, syntax).build();
        ScalarUDF::from(Self { name, overloads, signature: Signature::user_defined(Volatility::Immutable), documentation })
    }

    fn overload(&self, count: usize) -> Result<&Overload> {
        self.overloads.iter().find(|o| o.accepts(count)).ok_or_else(|| {
            plan_error(format!("{} does not take {count} arguments; see its documentation: {}", self.name, self.documentation.syntax_example))
        })
    }
}

impl ScalarUDFImpl for RowFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let overload = self.overload(arg_types.len())?;
        Ok(overload.params[..arg_types.len()].iter().map(|p| p.ty.data_type()).collect())
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.overload(arg_types.len())?.returns.data_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let overload = self.overload(args.args.len())?;
        let mut columns: Vec<Column> =
            ColumnarValue::values_to_arrays(&args.args)?.into_iter().map(Column::new).collect();
        for missing in &overload.params[columns.len()..] {
            let default = missing.default.as_ref().ok_or_else(|| plan_error(format!("{}: {} is required", self.name, missing.name)))?;
            columns.push(Column::constant(default, rows)?);
        }
        let mut values = Vec::with_capacity(rows);
        for row in 0..rows {
            if columns.iter().any(|c| c.is_null(row)) {
                values.push(None);
            } else {
                values.push(Some((overload.body)(&columns, row).map_err(|e| invalid(self.name, e))?));
            }
        }
        Ok(ColumnarValue::Array(build(overload.returns, values)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.documentation)
    }
}

fn build(returns: Returns, values: Vec<Option<Out>>) -> ArrayRef {
    macro_rules! column {
        ($builder:expr, $variant:path) => {{
            let mut builder = $builder;
            for value in values {
                match value {
                    Some($variant(v)) => builder.append_value(v),
                    _ => builder.append_null(),
                }
            }
            Arc::new(builder.finish())
        }};
    }
    match returns {
        Returns::Float => {
            let mut builder = Float64Builder::with_capacity(values.len());
            for value in values {
                builder.append_option(match value {
                    Some(Out::Float(v)) => Some(v),
                    Some(Out::MaybeFloat(v)) => v,
                    _ => None,
                });
            }
            Arc::new(builder.finish())
        }
        Returns::Int32 => column!(Int32Builder::with_capacity(values.len()), Out::Int32),
        Returns::Int64 => column!(Int64Builder::with_capacity(values.len()), Out::Int64),
        Returns::Bool => column!(BooleanBuilder::with_capacity(values.len()), Out::Bool),
        Returns::Text => column!(StringBuilder::new(), Out::Text),
        Returns::Floats => {
            let mut builder = ListBuilder::new(Float64Builder::new());
            for value in values {
                match value {
                    Some(Out::Floats(v)) => builder.append_value(v.into_iter().map(Some)),
                    _ => builder.append_null(),
                }
            }
            Arc::new(builder.finish())
        }
        Returns::ZTest => to_struct_array(&values.into_iter().map(|v| match v {
            Some(Out::ZTest(r)) => Some(r),
            _ => None,
        }).collect::<Vec<_>>()),
        Returns::TTest => to_struct_array(&values.into_iter().map(|v| match v {
            Some(Out::TTest(r)) => Some(r),
            _ => None,
        }).collect::<Vec<_>>()),
        Returns::Srm => to_struct_array(&values.into_iter().map(|v| match v {
            Some(Out::Srm(r)) => Some(r),
            _ => None,
        }).collect::<Vec<_>>()),
        Returns::Bayes => to_struct_array(&values.into_iter().map(|v| match v {
            Some(Out::Bayes(r)) => r,
            _ => None,
        }).collect::<Vec<_>>()),
        Returns::Sequential => to_struct_array(&values.into_iter().map(|v| match v {
            Some(Out::Sequential(r)) => Some(r),
            _ => None,
        }).collect::<Vec<_>>()),
        Returns::Quantile => to_struct_array(&values.into_iter().map(|v| match v {
            Some(Out::Quantile(r)) => Some(r),
            _ => None,
        }).collect::<Vec<_>>()),
        Returns::Contamination => to_struct_array(&values.into_iter().map(|v| match v {
            Some(Out::Contamination(r)) => r,
            _ => None,
        }).collect::<Vec<_>>()),
    }
}

fn settings(c: &[Column], row: usize, first: usize) -> ab_core::Result<TestSettings> {
    TestSettings::new(c[first].float(row), c[first + 1].text(row))
}

fn design(c: &[Column], row: usize, alpha: usize, alternative: usize, comparisons: usize) -> ab_core::Result<Design> {
    Design::new(c[alpha].float(row), c[alternative].text(row), c[comparisons].int32(row))
}

fn to_index(index: usize) -> ab_core::Result<i32> {
    i32::try_from(index).map_err(|_| InvalidArgument::new("weights", "has more entries than int4 holds"))
}

/// Every scalar function, in the order of the README's reference.
pub fn all() -> Vec<ScalarUDF> {
    vec![
        RowFunction::udf("ab_hash", "The unit's uniform draw in [0, 1): (XXH3_64(salt || ':' || unit) >> 11) * 2^-53.", vec![Overload {
            params: vec![param("unit", Text), param("salt", Text)],
            returns: Returns::Float,
            body: |c, r| Ok(Out::Float(assign::hash_unit(c[0].text(r), c[1].text(r)))),
        }]),
        RowFunction::udf("ab_bucket", "floor(ab_hash(unit, salt) * buckets), in [0, buckets).", vec![Overload {
            params: vec![param("unit", Text), param("salt", Text), optional("buckets", Int32, ScalarValue::Int32(Some(10000)))],
            returns: Returns::Int32,
            body: |c, r| assign::bucket(c[0].text(r), c[1].text(r), c[2].int32(r)).map(Out::Int32),
        }]),
        RowFunction::udf("ab_hash_growthbook", "GrowthBook's hash(seed, unit, version) in [0, 1): FNV-1a 32, hash version 1 or 2.", vec![Overload {
            params: vec![param("unit", Text), param("seed", Text), param("version", Int32)],
            returns: Returns::Float,
            body: |c, r| foreign_hash::growthbook_hash(c[0].text(r), c[1].text(r), c[2].int32(r)).map(Out::Float),
        }]),
        RowFunction::udf("ab_bucket_unleash", "Unleash's normalizedHash in 1..normalizer: murmur3_x86_32(group_id || ':' || unit, seed) % normalizer + 1.", vec![Overload {
            params: vec![
                param("unit", Text),
                param("group_id", Text),
                optional("normalizer", Int, ScalarValue::Int64(Some(100))),
                optional("seed", Int, ScalarValue::Int64(Some(0))),
            ],
            returns: Returns::Int64,
            body: |c, r| {
                foreign_hash::unleash_normalized_hash(c[0].text(r), c[1].text(r), c[2].int(r), c[3].int(r)).map(|b| Out::Int64(b.into()))
            },
        }]),
        RowFunction::udf("ab_bucket_statsig", "Statsig's bucket: first 8 bytes of SHA-256(salt || '.' || unit), big-endian, mod buckets.", vec![Overload {
            params: vec![param("unit", Text), param("salt", Text), optional("buckets", Int32, ScalarValue::Int32(Some(1000)))],
            returns: Returns::Int32,
            body: |c, r| foreign_hash::statsig_bucket(c[0].text(r), c[1].text(r), c[2].int32(r)).map(Out::Int32),
        }]),
        RowFunction::udf("ab_bucket_optimizely", "Optimizely's bucket value in [0, 10000) of user_id || parent_id (murmur3_x86_32, seed 1).", vec![Overload {
            params: vec![param("user_id", Text), param("parent_id", Text)],
            returns: Returns::Int32,
            body: |c, r| Ok(Out::Int32(foreign_hash::optimizely_bucket(c[0].text(r), c[1].text(r)))),
        }]),
        RowFunction::udf("ab_shard_eppo", "Eppo's shard in [0, total_shards): first 4 bytes of MD5(salt || '-' || subject) mod total_shards.", vec![Overload {
            params: vec![param("subject", Text), param("salt", Text), optional("total_shards", Int32, ScalarValue::Int32(Some(10000)))],
            returns: Returns::Int32,
            body: |c, r| foreign_hash::eppo_shard(c[0].text(r), c[1].text(r), c[2].int32(r)).map(Out::Int32),
        }]),
        RowFunction::udf("ab_assign", "The unit's variant by weights: its 1-based index, or its name when variant names are given.", vec![
            Overload {
                params: vec![param("unit", Text), param("salt", Text), param("weights", Floats)],
                returns: Returns::Int32,
                body: |c, r| {
                    let weights = c[2].floats("weights", r)?;
                    assign::assign_index(c[0].text(r), c[1].text(r), &weights).and_then(to_index).map(Out::Int32)
                },
            },
            Overload {
                params: vec![param("unit", Text), param("salt", Text), param("variants", Texts), param("weights", Floats)],
                returns: Returns::Text,
                body: |c, r| {
                    let (variants, weights) = (c[2].texts("variants", r)?, c[3].floats("weights", r)?);
                    assign::assign_variant(c[0].text(r), c[1].text(r), &variants, &weights).map(|v| Out::Text(v.to_owned()))
                },
            },
        ]),
        RowFunction::udf("ab_in_sample", "Whether the unit is in the traffic fraction; drawn independently of the variant.", vec![Overload {
            params: vec![param("unit", Text), param("salt", Text), param("fraction", Float)],
            returns: Returns::Bool,
            body: |c, r| assign::in_sample(c[0].text(r), c[1].text(r), c[2].float(r)).map(Out::Bool),
        }]),
        RowFunction::udf("ab_in_layer", "Whether lo <= ab_hash(unit, layer_salt) < hi: mutually exclusive experiments in a layer.", vec![Overload {
            params: vec![param("unit", Text), param("layer_salt", Text), param("lo", Float), param("hi", Float)],
            returns: Returns::Bool,
            body: |c, r| assign::in_layer_range(c[0].text(r), c[1].text(r), c[2].float(r), c[3].float(r)).map(Out::Bool),
        }]),
        RowFunction::udf("ab_ztest", "Two-proportion z-test from counts, control first (statsmodels' proportions_ztest).", vec![Overload {
            params: vec![param("x_c", Int), param("n_c", Int), param("x_t", Int), param("n_t", Int), alpha(), alternative()],
            returns: Returns::ZTest,
            body: |c, r| compare::ztest(c[0].int(r), c[1].int(r), c[2].int(r), c[3].int(r), settings(c, r, 4)?).map(Out::ZTest),
        }]),
        RowFunction::udf("ab_ttest", "Welch t-test from means, standard deviations and sizes, control first.", vec![Overload {
            params: vec![
                param("mean_c", Float), param("sd_c", Float), param("n_c", Int),
                param("mean_t", Float), param("sd_t", Float), param("n_t", Int), alpha(), alternative(),
            ],
            returns: Returns::TTest,
            body: |c, r| {
                let control = (c[0].float(r), c[1].float(r), c[2].int(r));
                let treatment = (c[3].float(r), c[4].float(r), c[5].int(r));
                compare::ttest(control, treatment, settings(c, r, 6)?).map(Out::TTest)
            },
        }]),
        RowFunction::udf("ab_sample_size_prop", "Units per variant to detect a change of a conversion rate.", vec![Overload {
            params: vec![param("baseline", Float), param("mde", Float), alpha(), power(), relative(), alternative(), comparisons()],
            returns: Returns::Int64,
            body: |c, r| {
                let rates = RatePair::new(c[0].float(r), c[1].float(r), c[4].bool(r))?;
                planning::sample_size_prop(rates, c[3].float(r), design(c, r, 2, 5, 6)?).map(Out::Int64)
            },
        }]),
        RowFunction::udf("ab_sample_size_mean", "Units per variant to detect an absolute change of a mean.", vec![Overload {
            params: vec![param("sd", Float), param("mde", Float), alpha(), power(), alternative(), comparisons()],
            returns: Returns::Int64,
            body: |c, r| planning::sample_size_mean(c[0].float(r), c[1].float(r), c[3].float(r), design(c, r, 2, 4, 5)?).map(Out::Int64),
        }]),
        RowFunction::udf("ab_power_prop", "The power to detect a change of a conversion rate with n units per variant.", vec![Overload {
            params: vec![param("baseline", Float), param("mde", Float), param("n_per_variant", Int), alpha(), relative(), alternative(), comparisons()],
            returns: Returns::Float,
            body: |c, r| {
                let rates = RatePair::new(c[0].float(r), c[1].float(r), c[4].bool(r))?;
                planning::power_prop(rates, c[2].int(r), design(c, r, 3, 5, 6)?).map(Out::Float)
            },
        }]),
        RowFunction::udf("ab_power_mean", "The power to detect an absolute change of a mean with n units per variant.", vec![Overload {
            params: vec![param("sd", Float), param("mde", Float), param("n_per_variant", Int), alpha(), alternative(), comparisons()],
            returns: Returns::Float,
            body: |c, r| planning::power_mean(c[0].float(r), c[1].float(r), c[2].int(r), design(c, r, 3, 4, 5)?).map(Out::Float),
        }]),
        RowFunction::udf("ab_mde_prop", "The smallest detectable increase of a conversion rate with n units per variant.", vec![Overload {
            params: vec![param("baseline", Float), param("n_per_variant", Int), alpha(), power(), relative(), alternative(), comparisons()],
            returns: Returns::Float,
            body: |c, r| {
                planning::mde_prop(c[0].float(r), c[1].int(r), c[3].float(r), c[4].bool(r), design(c, r, 2, 5, 6)?).map(Out::MaybeFloat)
            },
        }]),
        RowFunction::udf("ab_mde_mean", "The smallest detectable absolute change of a mean with n units per variant.", vec![Overload {
            params: vec![param("sd", Float), param("n_per_variant", Int), alpha(), power(), alternative(), comparisons()],
            returns: Returns::Float,
            body: |c, r| planning::mde_mean(c[0].float(r), c[1].int(r), c[3].float(r), design(c, r, 2, 4, 5)?).map(Out::Float),
        }]),
        RowFunction::udf("ab_duration_days", "Days until every variant has n_per_variant units.", vec![Overload {
            params: vec![
                param("n_per_variant", Int), param("variants", Int32), param("daily_traffic", Float),
                optional("traffic_fraction", Float, ScalarValue::Float64(Some(1.0))),
            ],
            returns: Returns::Int32,
            body: |c, r| planning::duration_days(c[0].int(r), c[1].int32(r), c[2].float(r), c[3].float(r)).map(Out::Int32),
        }]),
        RowFunction::udf("ab_srm", "Sample-ratio mismatch: chi-square test of observed counts against weights.", vec![Overload {
            params: vec![param("observed", Ints), param("weights", Floats)],
            returns: Returns::Srm,
            body: |c, r| srm::srm(&c[0].ints("observed", r)?, &c[1].floats("weights", r)?).map(Out::Srm),
        }]),
        RowFunction::udf("ab_adjust_pvalues", "Multiple-testing corrected p-values (bonferroni, holm or fdr_bh), order kept.", vec![Overload {
            params: vec![param("p", Floats), optional("method", Text, ScalarValue::Utf8(Some("holm".into())))],
            returns: Returns::Floats,
            body: |c, r| {
                let correction = Correction::parse(c[1].text(r))?;
                srm::adjust_pvalues(&c[0].floats("p", r)?, correction).map(Out::Floats)
            },
        }]),
        RowFunction::udf("ab_bayes_prop", "Beta-Binomial posteriors of two rates: P(treatment better), expected losses (quadrature), 95% credible interval.", vec![Overload {
            params: vec![
                param("x_c", Int), param("n_c", Int), param("x_t", Int), param("n_t", Int),
                optional("prior_a", Float, ScalarValue::Float64(Some(1.0))), optional("prior_b", Float, ScalarValue::Float64(Some(1.0))),
            ],
            returns: Returns::Bayes,
            body: |c, r| bayes::bayes_prop(c[0].int(r), c[1].int(r), c[2].int(r), c[3].int(r), c[4].float(r), c[5].float(r)).map(|b| Out::Bayes(Some(b))),
        }]),
        RowFunction::udf("ab_bayes_mean", "Normal approximation for two means: P(treatment better), expected losses, 95% credible interval.", vec![Overload {
            params: vec![
                param("mean_c", Float), param("sd_c", Float), param("n_c", Int),
                param("mean_t", Float), param("sd_t", Float), param("n_t", Int),
            ],
            returns: Returns::Bayes,
            body: |c, r| bayes::bayes_mean((c[0].float(r), c[1].float(r), c[2].int(r)), (c[3].float(r), c[4].float(r), c[5].int(r))).map(Out::Bayes),
        }]),
        RowFunction::udf("ab_thompson_weights", "Thompson-sampling weights: P(arm is best) under Beta(1+s, 1+f), by quadrature, with a floor per arm.", vec![Overload {
            params: vec![param("successes", Ints), param("trials", Ints), optional("floor", Float, ScalarValue::Float64(Some(0.0)))],
            returns: Returns::Floats,
            body: |c, r| bayes::thompson_weights(&c[0].ints("successes", r)?, &c[1].ints("trials", r)?, c[2].float(r)).map(Out::Floats),
        }]),
        RowFunction::udf("ab_msprt", "Mixture SPRT (normal mixture N(0, tau2)): always-valid p-value and confidence sequence of a difference.", vec![Overload {
            params: vec![param("diff", Float), param("variance", Float), param("tau2", Float), alpha()],
            returns: Returns::Sequential,
            body: |c, r| sequential::msprt(c[0].float(r), c[1].float(r), c[2].float(r), c[3].float(r)).map(Out::Sequential),
        }]),
        RowFunction::udf("ab_quantile_test", "Difference of the q-quantiles (median: 0.5) of two arms given as arrays, with an order-statistic CI and p-value.", vec![Overload {
            params: vec![param("control", Floats), param("treatment", Floats), param("q", Float), alpha()],
            returns: Returns::Quantile,
            body: |c, r| quantile::quantile_test(&c[0].floats("control", r)?, &c[1].floats("treatment", r)?, c[2].float(r), c[3].float(r)).map(Out::Quantile),
        }]),
        RowFunction::udf("ab_contamination", "Units exposed to more than one variant of an experiment, from exposure rows as arrays of units and variants, and their share.", vec![Overload {
            params: vec![param("units", Texts), param("variants", Texts)],
            returns: Returns::Contamination,
            body: |c, r| contamination::contamination(&c[0].texts("units", r)?, &c[1].texts("variants", r)?).map(Out::Contamination),
        }]),
        RowFunction::udf("ab_winsorize", "The value capped to [lo, hi].", vec![Overload {
            params: vec![param("value", Float), param("lo", Float), param("hi", Float)],
            returns: Returns::Float,
            body: |c, r| outliers::winsorize(c[0].float(r), c[1].float(r), c[2].float(r)).map(Out::Float),
        }]),
    ]
}
