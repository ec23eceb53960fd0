//! A dependency graph of named nodes: deterministic topological order (ties
//! broken by name), waves of nodes that can run together, cycle reporting,
//! and the up/downstream closure used by `--select MODEL+`.

use std::collections::{BTreeMap, BTreeSet};

/// Nodes grouped so each group only depends on the groups before it.
pub(crate) type Waves = Vec<Vec<String>>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DagError {
    #[error("dependency cycle: {}", .0.join(" -> "))]
    Cycle(Vec<String>),
    #[error("`{node}` depends on `{missing}`, which does not exist")]
    Unknown { node: String, missing: String },
}

#[derive(Debug, Clone, Default)]
pub struct Dag {
    /// Node → the nodes it depends on.
    deps: BTreeMap<String, BTreeSet<String>>,
}

impl Dag {
    pub fn new() -> Dag {
        Dag::default()
    }

    pub fn add(&mut self, node: impl Into<String>, deps: impl IntoIterator<Item = String>) {
        self.deps.entry(node.into()).or_default().extend(deps);
    }

    pub(crate) fn nodes(&self) -> impl Iterator<Item = &str> {
        self.deps.keys().map(String::as_str)
    }

    pub(crate) fn deps_of(&self, node: &str) -> impl Iterator<Item = &str> {
        self.deps
            .get(node)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// Every dependency names a node of the graph.
    pub(crate) fn check_known(&self) -> Result<(), DagError> {
        for (node, deps) in &self.deps {
            if let Some(missing) = deps.iter().find(|d| !self.deps.contains_key(*d)) {
                return Err(DagError::Unknown {
                    node: node.clone(),
                    missing: missing.clone(),
                });
            }
        }
        Ok(())
    }

    /// Groups nodes into waves: a node's wave is one past the latest wave of
    /// its dependencies, so each wave only needs the waves before it.
    pub(crate) fn waves(&self) -> Result<Waves, DagError> {
        self.check_known()?;
        let mut wave_of: BTreeMap<&str, usize> = BTreeMap::new();
        let mut remaining: BTreeSet<&str> = self.nodes().collect();
        while !remaining.is_empty() {
            let ready: Vec<&str> = remaining
                .iter()
                .copied()
                .filter(|n| self.deps_of(n).all(|d| wave_of.contains_key(d)))
                .collect();
            if ready.is_empty() {
                return Err(DagError::Cycle(self.find_cycle(&remaining)));
            }
            for node in ready {
                let wave = self
                    .deps_of(node)
                    .map(|d| wave_of[d] + 1)
                    .max()
                    .unwrap_or(0);
                wave_of.insert(node, wave);
                remaining.remove(node);
            }
        }
        let mut waves: Waves = Vec::new();
        for (node, wave) in wave_of {
            if waves.len() <= wave {
                waves.resize(wave + 1, Vec::new());
            }
            waves[wave].push(node.to_string());
        }
        Ok(waves)
    }

    /// A topological order: wave by wave, by name within a wave.
    pub(crate) fn order(&self) -> Result<Vec<String>, DagError> {
        Ok(self.waves()?.into_iter().flatten().collect())
    }

    /// `node` and everything that depends on it, directly or not.
    pub fn downstream(&self, node: &str) -> BTreeSet<String> {
        let mut found = BTreeSet::from([node.to_string()]);
        let mut grew = true;
        while grew {
            grew = false;
            for (candidate, deps) in &self.deps {
                if !found.contains(candidate) && deps.iter().any(|d| found.contains(d)) {
                    found.insert(candidate.clone());
                    grew = true;
                }
            }
        }
        found
    }

    /// One cycle among `stuck` nodes (all of which wait on each other), as
    /// a path that starts and ends at the same node.
    fn find_cycle(&self, stuck: &BTreeSet<&str>) -> Vec<String> {
        let start = *stuck.iter().next().expect("a stuck set is never empty");
        let mut path = vec![start];
        let mut current = start;
        loop {
            let next = self
                .deps_of(current)
                .find(|d| stuck.contains(d))
                .expect("every stuck node waits on another stuck node");
            if let Some(pos) = path.iter().position(|n| *n == next) {
                let mut cycle: Vec<String> = path[pos..].iter().map(|s| s.to_string()).collect();
                cycle.push(next.to_string());
                return cycle;
            }
            path.push(next);
            current = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dag(edges: &[(&str, &[&str])]) -> Dag {
        let mut dag = Dag::new();
        for (node, deps) in edges {
            dag.add(*node, deps.iter().map(|d| d.to_string()));
        }
        dag
    }

    #[test]
    fn waves_follow_the_longest_dependency_chain() {
        let g = dag(&[
            ("monitoring", &["foundation", "ingest"]),
            ("ingest", &["foundation", "streams"]),
            ("warehouse", &["foundation", "streams"]),
            ("streams", &["foundation"]),
            ("foundation", &[]),
        ]);
        assert_eq!(
            g.waves().unwrap(),
            vec![
                vec!["foundation".to_string()],
                vec!["streams".into()],
                vec!["ingest".into(), "warehouse".into()],
                vec!["monitoring".into()],
            ]
        );
        assert_eq!(
            g.order().unwrap(),
            ["foundation", "streams", "ingest", "warehouse", "monitoring"]
        );
    }

    #[test]
    fn independent_nodes_share_the_first_wave() {
        let g = dag(&[("b", &[]), ("a", &[]), ("c", &["a"])]);
        assert_eq!(g.waves().unwrap()[0], ["a", "b"]);
    }

    #[test]
    fn a_cycle_is_named() {
        let g = dag(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"]), ("d", &[])]);
        let err = g.waves().unwrap_err();
        assert_eq!(
            err,
            DagError::Cycle(vec!["a".into(), "b".into(), "c".into(), "a".into()])
        );
        assert_eq!(err.to_string(), "dependency cycle: a -> b -> c -> a");
    }

    #[test]
    fn a_self_loop_is_a_cycle() {
        let g = dag(&[("a", &["a"])]);
        assert_eq!(
            g.waves().unwrap_err(),
            DagError::Cycle(vec!["a".into(), "a".into()])
        );
    }

    #[test]
    fn unknown_dependency_is_named() {
        let g = dag(&[("a", &["ghost"])]);
        assert_eq!(
            g.order().unwrap_err().to_string(),
            "`a` depends on `ghost`, which does not exist"
        );
    }

    #[test]
    fn downstream_closure() {
        let g = dag(&[("a", &[]), ("b", &["a"]), ("c", &["b"]), ("d", &[])]);
        let down: Vec<String> = g.downstream("a").into_iter().collect();
        assert_eq!(down, ["a", "b", "c"]);
        assert_eq!(g.downstream("d").len(), 1);
    }
}
