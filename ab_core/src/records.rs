//! The result columns of every function, each list written here once: the Postgres composite
//! types, the rows of the table functions and the DataFusion structs all come from it, and
//! every `ab_core` result struct gives its values in this order ([`ResultRecord`];
//! docs/contract.md §3). A leaf of `ab_core`: the statistics and the catalog both read it.

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

/// A result as every engine shows it: its columns are one of the records below.
pub trait ResultRecord {
    const RECORD: &'static Record;
    /// The values, in the order of the record's fields.
    fn values(&self) -> Vec<FieldValue>;
}

/// A result with named columns: a composite type (`CREATE TYPE name AS (…)`) or the row of a
/// table function. An `ab_core` struct that implements [`ResultRecord`] gives its values in
/// this order.
#[derive(Debug, PartialEq)]
pub struct Record {
    pub name: &'static str,
    /// The release that added it; `None`: released before the catalog, in 0.2.0 or earlier
    /// (their SQL is frozen in pg_extension/sql/). Likewise for functions and aggregates.
    pub added_in: Option<&'static str>,
    pub comment: &'static str,
    pub fields: &'static [(&'static str, FieldKind)],
}

use FieldKind::{BigInt as I8, Bool as B, Float as F, Int as I4};

pub static ZTEST: Record = Record {
    name: "ab_ztest_result",
    added_in: None,
    comment: "Result of ab_ztest and ab_ztest_agg: two-proportion z-test, control first",
    fields: &[
        ("rate_c", F), ("rate_t", F), ("diff", F), ("rel_lift", F), ("z", F), ("p_value", F),
        ("ci_low", F), ("ci_high", F), ("rel_ci_low", F), ("rel_ci_high", F), ("significant", B),
    ],
};

pub static TTEST: Record = Record {
    name: "ab_ttest_result",
    added_in: None,
    comment: "Result of ab_ttest and ab_ttest_agg: Welch t-test, control first",
    fields: &[
        ("mean_c", F), ("mean_t", F), ("diff", F), ("rel_lift", F), ("t", F), ("df", F), ("p_value", F),
        ("ci_low", F), ("ci_high", F), ("rel_ci_low", F), ("rel_ci_high", F), ("significant", B),
    ],
};

pub static CUPED: Record = Record {
    name: "ab_cuped_result",
    added_in: None,
    comment: "Result of ab_cuped_agg: Welch t-test on the CUPED-adjusted metric",
    fields: &[
        ("theta", F), ("diff", F), ("rel_lift", F), ("t", F), ("df", F), ("p_value", F),
        ("ci_low", F), ("ci_high", F), ("variance_reduction", F), ("significant", B),
    ],
};

pub static SRM: Record = Record {
    name: "ab_srm_result",
    added_in: None,
    comment: "Result of ab_srm: chi-square test of the observed split",
    fields: &[("chi2", F), ("df", I4), ("p_value", F)],
};

pub static BAYES: Record = Record {
    name: "ab_bayes_result",
    added_in: None,
    comment: "Result of ab_bayes_prop and ab_bayes_mean: P(treatment better), expected loss of each choice, 95% credible interval of the difference",
    fields: &[("prob_t_better", F), ("expected_loss_t", F), ("expected_loss_c", F), ("ci_low", F), ("ci_high", F)],
};

pub static SEQUENTIAL: Record = Record {
    name: "ab_sequential_result",
    added_in: None,
    comment: "Result of ab_msprt, ab_msprt_agg and ab_seq_ttest_agg: always-valid p-value and confidence sequence",
    fields: &[("p_value", F), ("cs_low", F), ("cs_high", F)],
};

pub static CONTAMINATION: Record = Record {
    name: "ab_contamination_result",
    added_in: None,
    comment: "Result of ab_contamination: units exposed to more than one variant",
    fields: &[("units", I8), ("contaminated_units", I8), ("share", F)],
};

pub static QUANTILE: Record = Record {
    name: "ab_quantile_result",
    added_in: None,
    comment: "Result of ab_quantile_test: difference of a quantile between arms with a Maritz-Jarrett CI",
    fields: &[
        ("quantile_c", F), ("quantile_t", F), ("diff", F), ("ci_low", F), ("ci_high", F), ("p_value", F), ("significant", B),
    ],
};

pub static INTERACTION: Record = Record {
    name: "ab_interaction_result",
    added_in: None,
    comment: "Result of ab_interaction_agg: the 2x2 interaction contrast of two experiments",
    fields: &[
        ("contrast", F), ("se", F), ("t", F), ("df", F), ("p_value", F), ("ci_low", F), ("ci_high", F), ("significant", B),
    ],
};

pub static RATIO_CUPED: Record = Record {
    name: "ab_ratio_cuped_result",
    added_in: None,
    comment: "Result of ab_ratio_cuped_agg: ratio metric adjusted by its pre-period ratio (CUPED), delta method",
    fields: &[
        ("ratio_c", F), ("ratio_t", F), ("theta", F), ("diff", F), ("rel_lift", F), ("z", F), ("p_value", F),
        ("ci_low", F), ("ci_high", F), ("variance_reduction", F), ("significant", B),
    ],
};

pub static RATIO: Record = Record {
    name: "ab_ratio_result",
    added_in: None,
    comment: "Result of ab_ratio_agg: ratio metric per arm compared by the delta method",
    fields: &[
        ("ratio_c", F), ("ratio_t", F), ("diff", F), ("rel_lift", F), ("z", F), ("p_value", F),
        ("ci_low", F), ("ci_high", F), ("rel_ci_low", F), ("rel_ci_high", F), ("significant", B),
    ],
};

/// A row of `ab_verdicts_*` and `ab_seq_verdicts_*`: one treatment (1-based) against the control.
pub static VERDICT_ROW: Record = Record {
    name: "verdict",
    added_in: None,
    comment: "One treatment against the control, with the Holm-adjusted p-value and intervals at Holm's level",
    fields: &[
        ("treatment", I4), ("diff", F), ("rel_lift", F), ("statistic", F), ("df", F), ("p_value", F),
        ("holm_p_value", F), ("interval_level", F), ("ci_low", F), ("ci_high", F), ("rel_ci_low", F),
        ("rel_ci_high", F), ("significant", B),
    ],
};

pub static MARGIN: Record = Record {
    name: "ab_margin_result",
    added_in: Some("0.3.0"),
    comment: "Result of ab_noninferiority_ttest and ab_noninferiority_ztest: the one-sided test against the margin's bound and the 1 - 2 alpha interval that decides it",
    fields: &[
        ("diff", F), ("bound", F), ("statistic", F), ("df", F), ("p_value", F), ("ci_low", F), ("ci_high", F),
        ("non_inferior", B), ("inferior", B),
    ],
};

pub static GST_BOUNDARY: Record = Record {
    name: "ab_gst_boundary",
    added_in: Some("0.3.0"),
    comment: "Result of ab_gst_boundary: the boundary of a group sequential design's current look, the alpha spent up to it and the nominal p-value at which it rejects",
    fields: &[("look", I4), ("information", F), ("alpha_spent", F), ("z_bound", F), ("p_bound", F)],
};

/// The composite types, in the order of their `CREATE TYPE`.
pub static RECORDS: &[&Record] =
    &[&ZTEST, &TTEST, &CUPED, &SRM, &BAYES, &SEQUENTIAL, &CONTAMINATION, &QUANTILE, &INTERACTION, &RATIO_CUPED, &RATIO, &MARGIN, &GST_BOUNDARY];
