#!/usr/bin/env python3
"""Trims the vendors' published test vectors to the bucketing cases pg_ab reproduces and
writes them here, each file naming its source repository, path and commit.

Usage: trim_vendor_vectors.py GIT_DIR_GROWTHBOOK GIT_DIR_UNLEASH_SPEC GIT_DIR_EPPO_TEST_DATA GIT_DIR_OPTIMIZELY_PY
(bare or normal git directories of github.com/growthbook/growthbook, Unleash/client-specification,
Eppo-exp/sdk-test-data and optimizely/python-sdk; the files are read at their HEAD commit).
"""
import json
import pathlib
import re
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent


def git(repo, *args):
    return subprocess.run(["git", "--git-dir", repo, *args], check=True, capture_output=True, text=True).stdout


def read(repo, path):
    return git(repo, "show", f"HEAD:{path}")


def source(repo, name, paths):
    return {"repository": f"github.com/{name}", "paths": paths, "commit": git(repo, "rev-parse", "HEAD").strip()}


def write(vendor, data):
    (HERE / f"{vendor}.json").write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def growthbook(repo):
    path = "packages/sdk-js/test/cases.json"
    cases = json.loads(read(repo, path))
    write("growthbook", {
        "source": source(repo, "growthbook/growthbook", [path]),
        "note": "the hash, getBucketRange and chooseVariation sections, verbatim",
        "hash": cases["hash"],
        "getBucketRange": cases["getBucketRange"],
        "chooseVariation": cases["chooseVariation"],
    })


def unleash(repo):
    rollout_path = "specifications/10-flexible-rollout-strategy.json"
    variants_path = "specifications/08-variants.json"
    spec = json.loads(read(repo, rollout_path))
    features = {f["name"]: f for f in spec["state"]["features"]}
    rollout = []
    for test in spec["tests"]:
        feature = features.get(test["toggleName"])
        user_id = test["context"].get("userId")
        if feature is None or user_id is None or len(feature["strategies"]) != 1:
            continue
        strategy = feature["strategies"][0]
        params = strategy["parameters"]
        if strategy["name"] != "flexibleRollout" or strategy.get("constraints") or params.get("stickiness") not in ("default", "userId"):
            continue
        rollout.append({"group_id": params["groupId"], "rollout": int(params["rollout"]), "user_id": user_id,
                        "enabled": test["expectedResult"], "description": test["description"]})
    spec = json.loads(read(repo, variants_path))
    features = {f["name"]: f for f in spec["state"]["features"]}
    variants = []
    for test in spec["variantTests"]:
        feature = features.get(test["toggleName"])
        user_id = test["context"].get("userId")
        if feature is None or user_id is None or not feature.get("variants") or not test["expectedResult"]["enabled"]:
            continue
        defs = feature["variants"]
        if any(v.get("overrides") or v.get("stickiness", "default") != "default" for v in defs):
            continue
        names = [v["name"] for v in defs]
        variants.append({"group_id": feature["name"], "weights": [v["weight"] for v in defs], "user_id": user_id,
                         "expected_index": names.index(test["expectedResult"]["name"]),
                         "description": test["description"]})
    write("unleash", {
        "source": source(repo, "Unleash/client-specification", [rollout_path, variants_path]),
        "note": "flexibleRollout tests decided by userId, and variant tests without overrides, stickiness default",
        "rollout": rollout,
        "variants": variants,
    })


def eppo(repo):
    flags_path = "ufc/flags-v1.json"
    flags = json.loads(read(repo, flags_path))["flags"]
    test_paths = [p for p in git(repo, "ls-tree", "--name-only", "HEAD", "ufc/tests/").split() if p.endswith(".json")]
    out = []
    for path in test_paths:
        test = json.loads(read(repo, path))
        flag = flags.get(test["flag"])
        if flag is None or not flag.get("enabled"):
            continue
        allocations = {a["key"]: a for a in flag["allocations"]}
        for subject in test["subjects"]:
            details = subject.get("evaluationDetails") or {}
            decided = []
            if details.get("matchedAllocation"):
                decided.append((details["matchedAllocation"]["key"], details.get("variationKey")))
            for miss in details.get("unmatchedAllocations", []):
                if miss.get("allocationEvaluationCode") == "TRAFFIC_EXPOSURE_MISS":
                    decided.append((miss["key"], None))
            for key, variation in decided:
                allocation = allocations[key]
                splits = allocation["splits"]
                if not any(split["shards"] for split in splits):
                    continue
                out.append({"flag": test["flag"], "allocation": key, "subject": subject["subjectKey"],
                            "total_shards": flag["totalShards"],
                            "splits": [{"variation": s["variationKey"], "shards": s["shards"]} for s in splits],
                            "expected_variation": variation})
    write("eppo", {
        "source": source(repo, "Eppo-exp/sdk-test-data", [flags_path, "ufc/tests/*.json"]),
        "note": "subjects whose matched (or traffic-missed) allocation is decided by shards",
        "cases": out,
    })


def optimizely(repo):
    path = "tests/test_bucketing.py"
    text = read(repo, path)
    body = text[text.index("def test_bucket_number"):text.index("def test_hash_values")]
    default_parent = re.search(r"parent_id = parent_id or (\d+)", body).group(1)
    template = re.search(r"BUCKETING_ID_TEMPLATE: Final = '(.*)'", read(repo, "optimizely/bucketer.py")).group(1)
    assert template == "{bucketing_id}{parent_id}", template
    cases = []
    pattern = re.compile(r"(\d+),?\s*self\.bucketer\._generate_bucket_value\(\s*get_bucketing_id\(\s*'([^']*)'\s*(?:,\s*(\d+))?\s*\)", re.S)
    for expected, user, parent in pattern.findall(body):
        cases.append({"user_id": user, "parent_id": parent or default_parent, "expected": int(expected)})
    assert len(cases) == 5, cases
    write("optimizely", {
        "source": source(repo, "optimizely/python-sdk", [path, "optimizely/bucketer.py"]),
        "note": "BucketerTest.test_bucket_number: bucket value of bucketing id = user id ++ parent (experiment) id",
        "bucket_value": cases,
    })


if __name__ == "__main__":
    gb, un, ep, op = sys.argv[1:5]
    growthbook(gb)
    unleash(un)
    eppo(ep)
    optimizely(op)
