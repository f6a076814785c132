"""ab-sql against ClickHouse (chdb, in process) on the same Parquet file, in the same run.

Usage: clickhouse.py AB_SQL_BINARY PARQUET_FILE [ROWS] [REPS]

The file (written once by ClickHouse itself, row groups of 1M rows) has a UInt8 arm `g`
(0 control, 1 treatment), a Float64 value `v` and a Float64 pre-period covariate `x`.
ClickHouse runs `welchTTest(v, g)` in this process; ab-sql runs as the user runs it, one
process per query, so its times include process start and reading the file's footer.
Each query runs REPS times (default 5); the best time counts.
"""

import os
import subprocess
import sys
import time

import chdb


def best_ms(runs, reps):
    """Best time of each run in ms; the runs take turns, so a change in the machine's load
    during the benchmark falls on all of them alike."""
    best = [float("inf")] * len(runs)
    for _ in range(reps):
        for i, run in enumerate(runs):
            started = time.perf_counter()
            run()
            best[i] = min(best[i], time.perf_counter() - started)
    return [seconds * 1000 for seconds in best]


def write_file(path, rows):
    # Deterministic hashes of the row number rather than rand(): every machine gets the same file.
    partial = path + ".partial"
    if os.path.exists(partial):
        os.remove(partial)
    chdb.query(
        f"""INSERT INTO FUNCTION file('{partial}', Parquet, 'g UInt8, v Float64, x Float64')
            SELECT toUInt8(cityHash64(number, 1) % 2) AS g,
                   x * 0.8 + (cityHash64(number, 2) % 100000) / 1000.0 + g * 0.05 AS v,
                   (sipHash64(number) % 10000) / 100.0 AS x
            FROM numbers({rows})
            SETTINGS output_format_parquet_row_group_size = 1000000"""
    )
    os.rename(partial, path)


def main():
    ab_sql_binary, path = sys.argv[1], os.path.abspath(sys.argv[2])
    rows = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000_000
    reps = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    if not os.path.exists(path):
        write_file(path, rows)

    welch = f"SELECT welchTTest(v, g) FROM file('{path}', Parquet)"

    def ab_sql(sql):
        command = [ab_sql_binary, "--table", f"data={path}", "--format", "csv", sql]
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout

    # One answer from each, to show the engines agree: ClickHouse gives (t, p-value), with t
    # of group 0 minus group 1.
    clickhouse_t, clickhouse_p = map(float, str(chdb.query(welch, "CSV")).strip().strip("()").split(","))
    ours = ab_sql("SELECT ab_ttest_agg(g = 1, v)['t'] AS t, ab_ttest_agg(g = 1, v)['p_value'] AS p FROM data")
    ours_t, ours_p = map(float, ours.splitlines()[1].split(","))

    queries = [
        ("ab-sql  ab_ttest_agg(g = 1, v)", "SELECT ab_ttest_agg(g = 1, v) FROM data"),
        ("ab-sql  ab_ztest_agg(g = 1, v > 50)", "SELECT ab_ztest_agg(g = 1, v > 50) FROM data"),
        ("ab-sql  ab_cuped_agg(g = 1, v, x)", "SELECT ab_cuped_agg(g = 1, v, x) FROM data"),
        ("ab-sql  count(*), avg(v), var_samp(v) GROUP BY g (built-ins)", "SELECT g, count(*), avg(v), var_samp(v) FROM data GROUP BY g"),
        ("ab-sql  sum(v) (reading the file)", "SELECT sum(v) FROM data"),
    ]
    runs = [lambda: chdb.query(welch, "CSV")] + [lambda sql=sql: ab_sql(sql) for _, sql in queries]
    times = best_ms(runs, reps)

    version = str(chdb.query("SELECT version()", "CSV")).strip().strip('"')
    print(f"{rows} rows, row groups of 1M; ClickHouse {version} (chdb {chdb.__version__}, in process); "
          f"ab-sql a process per query; best of {reps}, taking turns")
    print(f"agreement: t {ours_t:.12g} (ab-sql) vs {-clickhouse_t:.12g} (ClickHouse, sign turned), p {ours_p:.6g} vs {clickhouse_p:.6g}")
    print(f"{'query':<62} {'best ms':>8} {'÷ welchTTest':>13}")
    print(f"{'ClickHouse  welchTTest(v, g)':<62} {times[0]:>8.0f} {1:>12.2f}x")
    for (name, _), measured in zip(queries, times[1:]):
        goal = " (goal <= 1.0x)" if "ab_ttest_agg" in name else ""
        print(f"{name:<62} {measured:>8.0f} {measured / times[0]:>12.2f}x{goal}")


if __name__ == "__main__":
    main()
