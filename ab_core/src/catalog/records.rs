//! The result columns of every function, each list written here once: the Postgres composite
//! types, the rows of the table functions and the DataFusion structs all come from it
//! (docs/contract.md §3).

use super::Record;
use crate::compare::FieldKind::{BigInt as I8, Bool as B, Float as F, Int as I4};

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

/// The composite types, in the order of their `CREATE TYPE`.
pub static RECORDS: &[&Record] =
    &[&ZTEST, &TTEST, &CUPED, &SRM, &BAYES, &SEQUENTIAL, &CONTAMINATION, &QUANTILE, &INTERACTION, &RATIO_CUPED, &RATIO, &MARGIN];
