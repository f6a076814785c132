//! An index over many experiments' allocations that finds the few a unit may be eligible
//! for without evaluating every experiment's rules. At 10,000 running experiments a
//! request otherwise walks all of them to find the hundred that apply.
//!
//! An experiment with an `in` targeting rule is filed under that rule's attribute and
//! values (the rule with the fewest values): a context whose attribute holds none of them
//! fails the rule, so the experiment need not be looked at. One without `in` rules but
//! with a layer is filed under the layer: the unit's position in the layer is hashed once
//! per layer, and only the experiments whose range holds it are candidates. The rest are
//! always candidates. Candidates are then checked with [`Allocation::is_eligible`], so the
//! index only ever prunes experiments that would fail: the answers are the same.

use crate::assign::hash_unit;
use crate::experiment::Allocation;
use serde_json::{Map, Value};
use std::collections::HashMap;

#[derive(Default)]
pub struct EligibilityIndex {
    /// attribute → the JSON text of a value → experiments whose chosen `in` rule lists it.
    by_attribute: HashMap<String, HashMap<String, Vec<usize>>>,
    /// layer name → (lo, hi, experiment), sorted by lo.
    by_layer: HashMap<String, Vec<(f64, f64, usize)>>,
    always: Vec<usize>,
}

impl EligibilityIndex {
    /// Indexes allocations by their position in `allocations`.
    pub fn new<'a>(allocations: impl IntoIterator<Item = &'a Allocation>) -> Self {
        let mut index = Self::default();
        for (position, allocation) in allocations.into_iter().enumerate() {
            let narrowest = allocation
                .targeting
                .iter()
                .filter_map(|rule| rule.any_of.as_ref().map(|values| (rule, values)))
                .min_by_key(|(_, values)| values.len());
            if let Some((rule, values)) = narrowest {
                let by_value = index.by_attribute.entry(rule.attribute.clone()).or_default();
                for value in values {
                    let experiments = by_value.entry(value.to_string()).or_default();
                    // A value listed twice in one rule files the experiment once.
                    if experiments.last() != Some(&position) {
                        experiments.push(position);
                    }
                }
            } else if let Some(layer) = &allocation.layer {
                index.by_layer.entry(layer.name.clone()).or_default().push((layer.lo, layer.hi, position));
            } else {
                index.always.push(position);
            }
        }
        for ranges in index.by_layer.values_mut() {
            ranges.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        index
    }

    /// The positions of the experiments the unit may be eligible for, ascending: a superset
    /// of those whose `is_eligible` holds.
    pub fn candidates(&self, unit: &str, context: &Map<String, Value>) -> Vec<usize> {
        let mut found = self.always.clone();
        for (attribute, value) in context {
            if let Some(experiments) = self.by_attribute.get(attribute).and_then(|by_value| by_value.get(&value.to_string())) {
                found.extend_from_slice(experiments);
            }
        }
        for (layer, ranges) in &self.by_layer {
            let u = hash_unit(unit, layer);
            // Ranges of one layer may overlap (experiments need not be exclusive), so every
            // range starting at or before u is checked, not just the last one.
            let starting_before = ranges.partition_point(|&(lo, _, _)| lo <= u);
            found.extend(ranges[..starting_before].iter().filter(|&&(_, hi, _)| u < hi).map(|&(_, _, position)| position));
        }
        found.sort_unstable();
        found.dedup();
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulation::SplitMix64;
    use serde_json::json;

    fn allocation(config: Value) -> Allocation {
        serde_json::from_value(config).unwrap()
    }

    #[test]
    fn candidates_include_every_eligible_experiment_and_prune_the_rest() {
        let mut random = SplitMix64::new(7);
        let variants = json!([{"id": "control", "weight": 0.5, "is_control": true}, {"id": "t", "weight": 0.5}]);
        let mut allocations = Vec::new();
        for i in 0..600u64 {
            let segment = i % 20;
            let mut config = json!({"salt": format!("s{i}"), "variants": variants, "traffic_fraction": 0.9});
            match i % 6 {
                0 => config["targeting"] = json!([{"attribute": "segment", "in": [format!("seg-{segment}"), segment]}]),
                1 => config["targeting"] = json!([{"attribute": "country", "in": ["US", "CA"]}, {"attribute": "segment", "in": [format!("seg-{segment}")]}]),
                2 => config["targeting"] = json!([{"attribute": "country", "not_in": ["FR"]}]),
                3 => config["layer"] = json!({"name": format!("layer-{}", i % 3), "lo": (i % 5) as f64 * 0.2, "hi": (i % 5) as f64 * 0.2 + 0.25}),
                4 => {
                    config["targeting"] = json!([{"attribute": "plan", "in": [true]}]);
                    config["layer"] = json!({"name": "layer-0", "lo": 0.0, "hi": 0.5});
                }
                _ => {}
            }
            allocations.push(allocation(config));
        }
        let index = EligibilityIndex::new(&allocations);
        let mut pruned = 0;
        for user in 0..2000 {
            let unit = format!("user-{user}");
            let segment = random.next_u64() % 25;
            let country = ["US", "CA", "FR", "DE"][user % 4];
            let context = json!({
                "segment": if user % 2 == 0 { json!(format!("seg-{segment}")) } else { json!(segment) },
                "country": country,
                "plan": user % 3 == 0,
            });
            let context = context.as_object().unwrap();
            let candidates = index.candidates(&unit, context);
            for (position, allocation) in allocations.iter().enumerate() {
                if allocation.is_eligible(&unit, context) {
                    assert!(candidates.binary_search(&position).is_ok(), "{unit} eligible for {position} but not a candidate");
                }
            }
            pruned += allocations.len() - candidates.len();
        }
        assert!(pruned > 2000 * allocations.len() / 2, "the index prunes most experiments ({pruned} pruned)");
    }
}
