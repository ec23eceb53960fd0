//! Deep merge of YAML values: maps merge key by key, scalars and lists in the
//! overlay replace what the base had.

use serde_yaml_ng::Value;

pub(super) fn deep_merge(base: Value, overlay: Value) -> Value {
    match (base, overlay) {
        (Value::Mapping(mut base_map), Value::Mapping(overlay_map)) => {
            for (key, overlay_value) in overlay_map {
                let merged = match base_map.remove(&key) {
                    Some(base_value) => deep_merge(base_value, overlay_value),
                    None => overlay_value,
                };
                base_map.insert(key, merged);
            }
            Value::Mapping(base_map)
        }
        (_, overlay) => overlay,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_yaml_ng::from_str(text).unwrap()
    }

    #[test]
    fn maps_merge_scalars_and_lists_replace() {
        let base = yaml("a: 1\nm: {x: 1, y: 2}\nl: [1, 2, 3]\n");
        let overlay = yaml("m: {y: 20, z: 30}\nl: [9]\nb: true\n");
        let merged = deep_merge(base, overlay);
        assert_eq!(
            merged,
            yaml("a: 1\nm: {x: 1, y: 20, z: 30}\nl: [9]\nb: true\n")
        );
    }

    #[test]
    fn scalar_replaces_map_and_back() {
        assert_eq!(deep_merge(yaml("m: {x: 1}"), yaml("m: 3")), yaml("m: 3"));
        assert_eq!(
            deep_merge(yaml("m: 3"), yaml("m: {x: 1}")),
            yaml("m: {x: 1}")
        );
    }

    #[test]
    fn nested_maps_merge_at_every_depth() {
        let merged = deep_merge(yaml("a: {b: {c: 1, d: 2}}"), yaml("a: {b: {d: 3}}"));
        assert_eq!(merged, yaml("a: {b: {c: 1, d: 3}}"));
    }
}
