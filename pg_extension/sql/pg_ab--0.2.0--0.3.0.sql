-- pg_ab 0.2.0 -> 0.3.0, generated from the catalog (ab_core/src/catalog/) by
-- `cargo run -p ab_core --example catalog_files`; do not edit by hand.
CREATE TYPE ab_margin_result AS ("diff" double precision, "bound" double precision, "statistic" double precision, "df" double precision, "p_value" double precision, "ci_low" double precision, "ci_high" double precision, "non_inferior" boolean, "inferior" boolean);
CREATE TYPE ab_gst_boundary AS ("look" integer, "information" double precision, "alpha_spent" double precision, "z_bound" double precision, "p_bound" double precision);
COMMENT ON TYPE ab_margin_result IS 'Result of ab_noninferiority_ttest and ab_noninferiority_ztest: the one-sided test against the margin''s bound and the 1 - 2 alpha interval that decides it';
COMMENT ON TYPE ab_gst_boundary IS 'Result of ab_gst_boundary: the boundary of a group sequential design''s current look, the alpha spent up to it and the nominal p-value at which it rejects';
CREATE FUNCTION ab_noninferiority_ztest("x_c" bigint, "n_c" bigint, "x_t" bigint, "n_t" bigint, "margin" double precision, "alpha" double precision DEFAULT 0.05, "higher_is_better" boolean DEFAULT true) RETURNS ab_margin_result
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'ab_noninferiority_ztest_wrapper';
COMMENT ON FUNCTION ab_noninferiority_ztest(bigint, bigint, bigint, bigint, double precision, double precision, boolean) IS 'Non-inferiority of a conversion rate by an absolute margin: one-sided Wald z-test of diff against -margin (+margin when lower is better), decided by the 1 - 2 alpha interval';
CREATE FUNCTION ab_noninferiority_ttest("mean_c" double precision, "sd_c" double precision, "n_c" bigint, "mean_t" double precision, "sd_t" double precision, "n_t" bigint, "margin" double precision, "alpha" double precision DEFAULT 0.05, "higher_is_better" boolean DEFAULT true) RETURNS ab_margin_result
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'ab_noninferiority_ttest_wrapper';
COMMENT ON FUNCTION ab_noninferiority_ttest(double precision, double precision, bigint, double precision, double precision, bigint, double precision, double precision, boolean) IS 'Non-inferiority of a mean by an absolute margin: one-sided Welch t-test of diff against -margin (+margin when lower is better), decided by the 1 - 2 alpha interval';
CREATE FUNCTION ab_gst_boundary("information" double precision[], "alpha" double precision DEFAULT 0.05, "spending" text DEFAULT 'obrien-fleming', "alternative" text DEFAULT 'two-sided') RETURNS ab_gst_boundary
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'ab_gst_boundary_wrapper';
COMMENT ON FUNCTION ab_gst_boundary(double precision[], double precision, text, text) IS 'Boundary of a group sequential design''s last look given the looks before it (information fractions of the planned maximum), by Lan-DeMets alpha spending: ''obrien-fleming'', ''pocock'' or ''power:rho''';
CREATE FUNCTION ab_gst_inflation("information" double precision[], "alpha" double precision DEFAULT 0.05, "power" double precision DEFAULT 0.8, "spending" text DEFAULT 'obrien-fleming', "alternative" text DEFAULT 'two-sided') RETURNS double precision
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'ab_gst_inflation_wrapper';
COMMENT ON FUNCTION ab_gst_inflation(double precision[], double precision, double precision, text, text) IS 'Factor by which a group sequential design''s maximum sample size exceeds the single-look test''s for the same alpha and power (the last look at information 1)';
