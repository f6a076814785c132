#!/usr/bin/env python3
"""Expectations for pg_ab's foreign hashing schemes, computed by each vendor's own SDK.

For every scheme one experiment is described twice: as a pg_ab configuration with a
`"hashing"` member, and in the vendor's own configuration format, which the vendor's SDK
(pinned in foreign_hash/requirements.txt) evaluates for 10,000 users. The variant index
the SDK chose (or null: left out by coverage, rollout, allocation or traffic) is written
to foreign_hash/sdk_expectations.json; ab_core and the gateway test must reproduce it.
Statsig publishes no hash vectors, so its SDK's own hash function writes statsig.json.

    python3 -m venv .venv && .venv/bin/pip install -r tests/golden/foreign_hash/requirements.txt
    .venv/bin/python tests/golden/generate_foreign_hash.py
"""
import json
import logging
import pathlib
from importlib.metadata import version

OUT = pathlib.Path(__file__).resolve().parent / "foreign_hash"
USERS = [f"user-{i}" if i % 50 else f"üser-{i}-日本" for i in range(10_000)]
SDKS = ["growthbook", "UnleashClient", "statsig", "optimizely-sdk", "eppo-server-sdk"]


def variants(weights):
    return [{"id": "control" if i == 0 else f"treatment{i}", "weight": w, "is_control": i == 0}
            for i, w in enumerate(weights)]


def config(experiment_id, hashing, weights, traffic):
    return {"id": experiment_id, "salt": experiment_id, "hashing": hashing,
            "variants": variants(weights), "traffic_fraction": traffic}


def growthbook(version_, seed, weights, coverage):
    from growthbook import GrowthBook, Experiment
    experiment = Experiment(key=f"gb-v{version_}", variations=list(range(len(weights))), weights=weights,
                            coverage=coverage, hashVersion=version_, seed=seed)
    out = []
    for user in USERS:
        result = GrowthBook(attributes={"id": user}).run(experiment)
        out.append(result.variationId if result.inExperiment and result.hashUsed else None)
    return config(f"growthbook-v{version_}", {"scheme": f"growthbook_v{version_}", "seed": seed}, weights, coverage), out


def unleash(toggle, group_id, weights, rollout_percent):
    from yggdrasil_engine.engine import UnleashEngine
    engine = UnleashEngine()
    names = [f"v{i}" for i in range(len(weights))]
    engine.take_state(json.dumps({"version": 1, "features": [{
        "name": toggle, "enabled": True, "type": "experiment",
        "strategies": [{"name": "flexibleRollout", "constraints": [],
                        "parameters": {"rollout": str(rollout_percent), "stickiness": "default", "groupId": group_id}}],
        "variants": [{"name": n, "weight": round(w * 1000), "weightType": "fix", "stickiness": "default"}
                     for n, w in zip(names, weights)],
    }]}))
    out = []
    for user in USERS:
        context = {"userId": user}
        if not engine.check_enabled(toggle, context).is_enabled:
            out.append(None)
            continue
        out.append(names.index(engine.check_variant(toggle, context).variant.name))
    hashing = {"scheme": "unleash", "group_id": group_id, "variant_group_id": toggle}
    return config("unleash", hashing, weights, rollout_percent / 100), out


def statsig(salt, allocation_salt, weights, allocated_buckets):
    import importlib
    statsig_sdk = importlib.import_module("statsig.statsig")
    from statsig import StatsigOptions, StatsigUser
    ends, cumulative = [], 0.0
    for w in weights:
        cumulative += w
        ends.append(round(cumulative * 1000))
    rules = [{"name": "layerAssignment", "groupName": "allocation", "id": "allocation", "salt": "allocation",
              "passPercentage": 100, "returnValue": {"group": None},
              "conditions": [{"type": "user_bucket", "operator": "none", "targetValue": list(range(allocated_buckets)),
                              "field": None, "additionalValues": {"salt": allocation_salt}, "idType": "userID"}],
              "idType": "userID"}]
    for i, end in enumerate(ends):
        rules.append({"name": f"group{i}", "groupName": f"group{i}", "id": f"group{i}", "salt": f"group{i}",
                      "passPercentage": 100, "returnValue": {"group": i}, "idType": "userID",
                      "conditions": [{"type": "user_bucket", "operator": "lt", "targetValue": end, "field": None,
                                      "additionalValues": {"salt": salt}, "idType": "userID"}]})
    specs = {"dynamic_configs": [{"name": "statsig_exp", "type": "dynamic_config", "entity": "experiment", "salt": salt,
                                  "enabled": True, "defaultValue": {"group": None}, "rules": rules, "idType": "userID",
                                  "isActive": True}],
             "feature_gates": [], "layer_configs": [], "has_updates": True, "time": 1}
    statsig_sdk.initialize("secret-local", StatsigOptions(local_mode=True, bootstrap_values=json.dumps(specs)))
    out = [statsig_sdk.get_experiment_with_exposure_logging_disabled(StatsigUser(user), "statsig_exp").get("group")
           for user in USERS]
    statsig_sdk.shutdown()
    hashing = {"scheme": "statsig", "salt": salt, "allocation_salt": allocation_salt}
    return config("statsig", hashing, weights, allocated_buckets / 1000), out


def optimizely(experiment_id, weights, traffic):
    from optimizely import optimizely as optimizely_sdk
    from optimizely.logger import NoOpLogger
    ends, cumulative = [], 0.0
    for w in weights:
        cumulative += w
        ends.append(round(cumulative * traffic * 10_000))
    variation_ids = [str(9000 + i) for i in range(len(weights))]
    datafile = {
        "version": "4", "rollouts": [], "typedAudiences": [], "anonymizeIP": False, "projectId": "1", "variables": [],
        "featureFlags": [], "experiments": [{
            "status": "Running", "key": "optimizely_exp", "layerId": "2", "id": experiment_id, "audienceIds": [],
            "forcedVariations": {},
            "variations": [{"id": vid, "key": f"v{i}", "variables": []} for i, vid in enumerate(variation_ids)],
            "trafficAllocation": [{"entityId": vid, "endOfRange": end} for vid, end in zip(variation_ids, ends)],
        }],
        "audiences": [], "groups": [], "attributes": [], "botFiltering": False, "accountId": "1", "events": [],
        "revision": "1",
    }
    client = optimizely_sdk.Optimizely(json.dumps(datafile), logger=NoOpLogger(), skip_json_validation=True)
    out = []
    for user in USERS:
        key = client.get_variation("optimizely_exp", user)
        out.append(None if key is None else int(key[1:]))
    client.close()
    return config("optimizely", {"scheme": "optimizely", "experiment_id": experiment_id}, weights, traffic), out


def eppo(salt, traffic_salt, weights, traffic):
    import eppo_client
    from eppo_client.assignment_logger import AssignmentLogger
    shards, ends, cumulative = 10_000, [], 0.0
    for w in weights:
        cumulative += w
        ends.append(round(cumulative * shards))
    starts = [0] + ends[:-1]
    ufc = {"createdAt": "2024-01-01T00:00:00Z", "format": "SERVER", "environment": {"name": "Test"}, "flags": {
        "eppo_exp": {"key": "eppo_exp", "enabled": True, "variationType": "INTEGER", "totalShards": shards,
                     "variations": {str(i): {"key": str(i), "value": i} for i in range(len(weights))},
                     "allocations": [{"key": "experiment", "rules": [], "doLog": False, "splits": [
                         {"variationKey": str(i), "shards": [
                             {"salt": traffic_salt, "ranges": [{"start": 0, "end": round(traffic * shards)}]},
                             {"salt": salt, "ranges": [{"start": start, "end": end}]}]}
                         for i, (start, end) in enumerate(zip(starts, ends))]}]}}}
    client = eppo_client.init(eppo_client.ClientConfig(
        api_key="local", assignment_logger=AssignmentLogger(), poll_interval_seconds=None,
        initial_configuration=eppo_client.Configuration(flags_configuration=json.dumps(ufc).encode())))
    out = [client.get_integer_assignment("eppo_exp", user, {}, -1) for user in USERS]
    hashing = {"scheme": "eppo", "salt": salt, "traffic_salt": traffic_salt, "total_shards": shards}
    return config("eppo", hashing, weights, traffic), [None if i == -1 else i for i in out]


def statsig_hash_vectors():
    from statsig.utils import sha256_hash
    cases = [{"unit": u, "salt": s, "expected": str(sha256_hash(f"{s}.{u}"))}
             for s in ["f8aeba58-18fb-4f36-9bbd-4c611447a912", "exp.rule", ""] for u in ["", "user-1", "üser-日本", "42"]]
    return {"source": {"package": f"statsig=={version('statsig')}", "function": "statsig.utils.sha256_hash",
                       "repository": "github.com/statsig-io/python-sdk",
                       "paths": ["statsig/utils.py", "statsig/evaluator.py"],
                       "note": "the evaluator hashes salt + '.' + unit (user_bucket: % 1000; pass percentage: % 10000)"},
            "hash": cases}


def main():
    logging.disable(logging.CRITICAL)
    runs = [
        growthbook(1, "gb-checkout", [0.25, 0.25, 0.5], 0.8),
        growthbook(2, "gb-pricing", [0.34, 0.33, 0.33], 0.9),
        unleash("unleash-onboarding-toggle", "unleash-onboarding", [0.333, 0.333, 0.334], 60),
        statsig("statsig-exp-salt", "statsig-allocation-salt", [0.5, 0.5], 750),
        optimizely("1886780721", [0.5, 0.5], 0.8),
        eppo("split-eppo-exp", "traffic-eppo-exp", [0.5, 0.5], 0.6),
    ]
    document = {
        "source": {"generated_by": "tests/golden/generate_foreign_hash.py",
                   "sdks": {name: version(name) for name in SDKS}},
        "users": USERS,
        "experiments": [{"config": cfg, "expected": expected} for cfg, expected in runs],
    }
    (OUT / "sdk_expectations.json").write_text(json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n")
    (OUT / "statsig.json").write_text(json.dumps(statsig_hash_vectors(), indent=1, ensure_ascii=False) + "\n")
    for cfg, expected in runs:
        counts = {}
        for e in expected:
            counts[e] = counts.get(e, 0) + 1
        print(cfg["id"], sorted(counts.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)))


if __name__ == "__main__":
    main()
