//! Faults: an executor killed with SIGKILL while a job runs. The job either completes through
//! Ballista's retries, with the single-node answer, or fails with a clear error; it never
//! gives a wrong answer, and the cluster goes on answering correctly with the executor left.

mod support;

use serde_json::Value;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::{ab_sql, differences, write_dataset, Cluster, TOLERANCE};

const QUERY: &str = "SELECT experiment,
    ab_ttest_agg(variant = 'treatment', revenue + 1e9) AS ttest,
    ab_cuped_agg(variant = 'treatment', revenue + 1e9, pre_revenue + 1e9) AS cuped,
    ab_ratio_cuped_agg(variant = 'treatment', revenue, pre_revenue + 1e9, pre_revenue, revenue + 1e9) AS ratio_cuped
  FROM users GROUP BY experiment ORDER BY experiment";

fn same_answer(expected: &str, actual: &str) -> Vec<String> {
    let parse = |text: &str| serde_json::from_str::<Value>(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    differences("answer", &parse(expected), &parse(actual), TOLERANCE)
}

/// The running job, once some of its tasks have finished.
fn running_job_with_finished_tasks(cluster: &Cluster) -> Option<String> {
    let jobs = cluster.api("jobs");
    let job = jobs.as_array().expect("jobs").iter().find(|job| job["status"] == "Running")?.clone();
    let job_id = job["job_id"].as_str().expect("job id").to_owned();
    let stages = cluster.api(&format!("job/{job_id}/stages"));
    let finished = stages["stages"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|stage| stage["tasks"].as_array().cloned().unwrap_or_default())
        .any(|task| task["status"] == "Successful");
    finished.then_some(job_id)
}

#[test]
fn a_killed_executor_never_gives_a_wrong_answer() {
    let mut cluster = Cluster::start("failure", 2);
    let dataset = write_dataset(&cluster.dir);
    let expected = ab_sql(None, &dataset, QUERY).expect("single node");

    // Kill the second executor once the job's first stage has finished some of its tasks:
    // partial states on the lost executor's disk are gone with it. A job that ends before
    // that moment (a fast machine) is run again.
    let (receiver, job_id) = (0..3)
        .find_map(|_| {
            let (sender, receiver) = mpsc::channel();
            let (url, path) = (cluster.url(), dataset.clone());
            std::thread::spawn(move || sender.send(ab_sql(Some(&url), &path, QUERY)).ok());
            let started = Instant::now();
            loop {
                assert!(started.elapsed() < Duration::from_secs(300), "the job never started:\n{}", cluster.logs());
                if let Ok(finished) = receiver.try_recv() {
                    finished.expect("the job before the kill");
                    return None;
                }
                if let Some(job_id) = running_job_with_finished_tasks(&cluster) {
                    return Some((receiver, job_id));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })
        .expect("three jobs all ended before any of their tasks could be seen finished");
    cluster.kill_executor(1);
    eprintln!("killed executor 1 during job {job_id}");

    let outcome = receiver.recv_timeout(Duration::from_secs(600)).unwrap_or_else(|_| panic!("the job neither completed nor failed:\n{}", cluster.logs()));
    match outcome {
        Ok(answer) => {
            let wrong = same_answer(&expected, &answer);
            assert!(wrong.is_empty(), "a wrong answer after the kill:\n{}", wrong.join("\n"));
            eprintln!("the job completed through retries with the single-node answer");
        }
        Err(line) => {
            assert!(line.starts_with("ab-sql: error: ") && !line.contains("panicked"), "{line}");
            assert!(line.to_lowercase().contains("fail") || line.to_lowercase().contains("lost"), "not a clear error: {line}");
            eprintln!("the job failed with: {line}");
        }
    }

    // The survivor alone still gives the single-node answer.
    let again = ab_sql(Some(&cluster.url()), &dataset, QUERY).unwrap_or_else(|e| panic!("after the kill: {e}\n{}", cluster.logs()));
    let wrong = same_answer(&expected, &again);
    assert!(wrong.is_empty(), "a wrong answer from the survivor:\n{}", wrong.join("\n"));
}
