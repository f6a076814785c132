-- Health checks: sample-ratio mismatch and multiple testing.

-- A 50/50 experiment that logged 50000 vs 50500 users: chance, or a broken split?
SELECT * FROM ab_srm(ARRAY[50000, 50500]::int8[], ARRAY[0.5, 0.5]);

-- 50000 vs 52000 is a mismatch: stop and debug the assignment before reading results.
SELECT chi2, df, p_value < 1e-9 AS mismatch FROM ab_srm(ARRAY[50000, 52000]::int8[], ARRAY[0.5, 0.5]);

-- Five metrics tested at once: adjusted p-values, in the order given.
SELECT ab_adjust_pvalues(ARRAY[0.01, 0.04, 0.03, 0.005, 0.5], 'bonferroni') AS bonferroni,
       ab_adjust_pvalues(ARRAY[0.01, 0.04, 0.03, 0.005, 0.5]) AS holm,
       ab_adjust_pvalues(ARRAY[0.01, 0.04, 0.03, 0.005, 0.5], 'fdr_bh') AS fdr_bh;

-- Bad input is an ERROR with SQLSTATE 22023 that names the argument.
SELECT ab_srm(ARRAY[100, 200]::int8[], ARRAY[0.5, 0.3, 0.2]);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ab_adjust_pvalues(ARRAY[0.01, 0.04], 'sidak');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
