//! Stack templates and their wiring: renders `templates/stacks/<stack>.yaml.tera`
//! for an env and checks `templates/stacks.yaml` — every wired parameter
//! exists, every source output exists, every required parameter is fed —
//! then derives the deploy waves from the wiring.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::cfn::{self, TemplateInfo};
use crate::dag::{Dag, Waves};
use crate::diag::Problem;
use crate::project::WIRING_FILE;

/// One stack's entry in the wiring file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StackSpec {
    /// Parameter → `<stack>.<Output>`.
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// Parameter → name of an artifact pricewatch builds and uploads.
    #[serde(default)]
    pub artifacts: BTreeMap<String, String>,
}

/// Where a parameter's value comes from: another stack's output.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct OutputRef {
    pub stack: String,
    pub output: String,
}

impl OutputRef {
    fn parse(text: &str) -> Option<OutputRef> {
        let (stack, output) = text.split_once('.')?;
        (!stack.is_empty() && !output.is_empty() && !output.contains('.')).then(|| OutputRef {
            stack: stack.to_string(),
            output: output.to_string(),
        })
    }
}

#[derive(Debug, Clone)]
pub struct RenderedStack {
    /// Short name: `foundation`, `streams`, ...
    pub name: String,
    /// CloudFormation stack name in this env.
    pub stack_name: String,
    pub template: String,
    pub parameters: BTreeMap<String, OutputRef>,
    pub artifacts: BTreeMap<String, String>,
    pub info: TemplateInfo,
}

pub(crate) fn template_name(stack: &str) -> String {
    format!("stacks/{stack}.yaml.tera")
}

/// Parses `templates/stacks.yaml`.
pub(crate) fn parse_wiring(text: &str) -> Result<BTreeMap<String, StackSpec>, Vec<Problem>> {
    let wiring: BTreeMap<String, StackSpec> = serde_yaml_ng::from_str(text).map_err(|e| {
        let at = match e.location() {
            Some(loc) => format!("{WIRING_FILE}:{}", loc.line()),
            None => WIRING_FILE.to_string(),
        };
        vec![Problem::new(at, e.to_string())]
    })?;
    if wiring.is_empty() {
        return Err(vec![Problem::new(WIRING_FILE, "lists no stacks")]);
    }
    Ok(wiring)
}

/// Checks the wiring against the rendered templates and orders the stacks.
pub(crate) fn wire(
    wiring: &BTreeMap<String, StackSpec>,
    rendered: BTreeMap<String, (String, TemplateInfo)>,
    stack_name: impl Fn(&str) -> String,
) -> Result<(Vec<RenderedStack>, Waves), Vec<Problem>> {
    let mut problems = Vec::new();
    let mut dag = Dag::new();
    let mut stacks = BTreeMap::new();
    for (name, spec) in wiring {
        let Some((template, info)) = rendered.get(name) else {
            continue;
        };
        let at = format!("{WIRING_FILE}: {name}");
        let mut parameters = BTreeMap::new();
        let mut deps = BTreeSet::new();
        let mut unfed_optional = BTreeSet::new();
        for (parameter, source) in &spec.parameters {
            // `stack.Output?`: wired only where the source stack renders that
            // output (e.g. the workgroup of a Redshift env, not of `local`).
            let (source, optional) = match source.strip_suffix('?') {
                Some(required) => (required, true),
                None => (source.as_str(), false),
            };
            let Some(output) = OutputRef::parse(source) else {
                problems.push(Problem::new(
                    &at,
                    format!("parameter {parameter}: `{source}` is not <stack>.<Output>"),
                ));
                continue;
            };
            match rendered.get(&output.stack) {
                None => problems.push(Problem::new(&at, format!(
                    "parameter {parameter} comes from stack `{}`, which is not in the wiring",
                    output.stack
                ))),
                Some((_, source_info))
                    if optional && !source_info.outputs.contains(&output.output) =>
                {
                    deps.insert(output.stack.clone());
                    unfed_optional.insert(parameter.clone());
                    continue;
                }
                Some((_, source_info)) if !source_info.outputs.contains(&output.output) => {
                    problems.push(Problem::new(&at, format!(
                        "parameter {parameter} comes from output {} of stack {}, which has no such output (it has: {})",
                        output.output,
                        output.stack,
                        source_info.outputs.iter().cloned().collect::<Vec<_>>().join(", ")
                    )))
                }
                Some(_) => {}
            }
            deps.insert(output.stack.clone());
            parameters.insert(parameter.clone(), output);
        }
        let fed: BTreeSet<&String> = spec
            .parameters
            .keys()
            .filter(|p| !unfed_optional.contains(*p))
            .chain(spec.artifacts.keys())
            .collect();
        for parameter in &fed {
            if !info.parameters.contains_key(*parameter) {
                problems.push(Problem::new(
                    &at,
                    format!(
                        "wires parameter {parameter}, which {} does not declare",
                        template_name(name)
                    ),
                ));
            }
        }
        for (parameter, has_default) in &info.parameters {
            if !has_default && !fed.contains(parameter) {
                problems.push(Problem::new(&at, format!(
                    "parameter {parameter} of {} has no default and nothing feeds it; wire it to an output or an artifact",
                    template_name(name)
                )));
            }
        }
        dag.add(name.clone(), deps);
        stacks.insert(
            name.clone(),
            RenderedStack {
                name: name.clone(),
                stack_name: stack_name(name),
                template: template.clone(),
                parameters,
                artifacts: spec.artifacts.clone(),
                info: info.clone(),
            },
        );
    }
    let waves = match dag.waves() {
        Ok(waves) => waves,
        Err(e) => {
            problems.push(Problem::new(WIRING_FILE, e.to_string()));
            Vec::new()
        }
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    let ordered = waves
        .iter()
        .flatten()
        .map(|name| stacks.remove(name).expect("every wave member was rendered"))
        .collect();
    Ok((ordered, waves))
}

/// Every stack in the wiring must have a template, and every template a wiring entry.
pub(crate) fn check_templates_match(
    wiring: &BTreeMap<String, StackSpec>,
    template_files: &BTreeSet<String>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    for name in wiring.keys() {
        if !template_files.contains(name) {
            problems.push(Problem::new(
                format!("{WIRING_FILE}: {name}"),
                format!("no template templates/{}", template_name(name)),
            ));
        }
    }
    for name in template_files {
        if !wiring.contains_key(name) {
            problems.push(Problem::new(
                format!("templates/{}", template_name(name)),
                format!(
                    "stack `{name}` is not listed in {WIRING_FILE}, so it would never be deployed"
                ),
            ));
        }
    }
    problems
}

/// Parses each rendered template, collecting problems per template.
pub(crate) fn analyze_all(
    rendered: BTreeMap<String, String>,
) -> Result<BTreeMap<String, (String, TemplateInfo)>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut analyzed = BTreeMap::new();
    for (name, text) in rendered {
        match cfn::analyze(&text) {
            Ok(info) => {
                analyzed.insert(name, (text, info));
            }
            Err(found) => problems.extend(found.into_iter().map(|message| {
                Problem::new(
                    format!("templates/{} (rendered)", template_name(&name)),
                    message,
                )
            })),
        }
    }
    if problems.is_empty() {
        Ok(analyzed)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(params: &[(&str, bool)], outputs: &[&str]) -> TemplateInfo {
        TemplateInfo {
            parameters: params.iter().map(|(p, d)| (p.to_string(), *d)).collect(),
            outputs: outputs.iter().map(|o| o.to_string()).collect(),
            resources: BTreeMap::from([("R".to_string(), "AWS::SNS::Topic".to_string())]),
        }
    }

    fn spec(parameters: &[(&str, &str)], artifacts: &[(&str, &str)]) -> StackSpec {
        StackSpec {
            parameters: parameters
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            artifacts: artifacts
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        }
    }

    fn rendered(items: Vec<(&str, TemplateInfo)>) -> BTreeMap<String, (String, TemplateInfo)> {
        items
            .into_iter()
            .map(|(n, i)| (n.to_string(), (String::new(), i)))
            .collect()
    }

    #[test]
    fn order_comes_from_the_wiring() {
        let wiring = BTreeMap::from([
            ("base".to_string(), spec(&[], &[])),
            (
                "app".to_string(),
                spec(&[("KeyArn", "base.KeyArn")], &[("Code", "lambda")]),
            ),
        ]);
        let templates = rendered(vec![
            ("base", info(&[], &["KeyArn"])),
            (
                "app",
                info(&[("KeyArn", false), ("Code", false), ("Opt", true)], &[]),
            ),
        ]);
        let (stacks, waves) = wire(&wiring, templates, |n| format!("p-dev-{n}")).unwrap();
        assert_eq!(
            waves,
            vec![vec!["base".to_string()], vec!["app".to_string()]]
        );
        assert_eq!(stacks[1].stack_name, "p-dev-app");
        assert_eq!(stacks[1].parameters["KeyArn"].stack, "base");
    }

    #[test]
    fn an_optional_output_is_wired_only_where_it_is_rendered() {
        let wiring = BTreeMap::from([
            ("base".to_string(), spec(&[], &[])),
            ("app".to_string(), spec(&[("Arn", "base.Arn?")], &[])),
        ]);
        let with = rendered(vec![
            ("base", info(&[], &["Arn"])),
            ("app", info(&[("Arn", false)], &[])),
        ]);
        let (stacks, _) = wire(&wiring, with, |n| n.to_string()).unwrap();
        assert_eq!(stacks[1].parameters["Arn"].output, "Arn");

        let without = rendered(vec![("base", info(&[], &[])), ("app", info(&[], &[]))]);
        let (stacks, waves) = wire(&wiring, without, |n| n.to_string()).unwrap();
        assert!(stacks[1].parameters.is_empty());
        assert_eq!(waves.len(), 2, "still deployed after its source stack");

        let required_but_unfed = rendered(vec![
            ("base", info(&[], &[])),
            ("app", info(&[("Arn", false)], &[])),
        ]);
        let problems = wire(&wiring, required_but_unfed, |n| n.to_string()).unwrap_err();
        assert!(
            problems[0]
                .to_string()
                .contains("parameter Arn of stacks/app.yaml.tera has no default"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn every_wiring_mistake_is_reported() {
        let wiring = BTreeMap::from([
            ("base".to_string(), spec(&[], &[])),
            (
                "app".to_string(),
                spec(
                    &[
                        ("KeyArn", "base.KeyArm"),
                        ("Extra", "ghost.Out"),
                        ("Bad", "nodot"),
                    ],
                    &[],
                ),
            ),
        ]);
        let templates = rendered(vec![
            ("base", info(&[], &["KeyArn"])),
            ("app", info(&[("KeyArn", false), ("Needed", false)], &[])),
        ]);
        let problems = wire(&wiring, templates, |n| n.to_string()).unwrap_err();
        let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        let joined = text.join("\n");
        assert!(
            joined.contains("output KeyArm of stack base, which has no such output"),
            "{joined}"
        );
        assert!(
            joined.contains("stack `ghost`, which is not in the wiring"),
            "{joined}"
        );
        assert!(
            joined.contains("`nodot` is not <stack>.<Output>"),
            "{joined}"
        );
        assert!(joined.contains("wires parameter Extra, which"), "{joined}");
        assert!(joined.contains("parameter Needed of"), "{joined}");
    }

    #[test]
    fn a_wiring_cycle_is_named() {
        let wiring = BTreeMap::from([
            ("a".to_string(), spec(&[("X", "b.X")], &[])),
            ("b".to_string(), spec(&[("X", "a.X")], &[])),
        ]);
        let templates = rendered(vec![
            ("a", info(&[("X", false)], &["X"])),
            ("b", info(&[("X", false)], &["X"])),
        ]);
        let problems = wire(&wiring, templates, |n| n.to_string()).unwrap_err();
        assert!(problems[0]
            .to_string()
            .contains("dependency cycle: a -> b -> a"));
    }

    #[test]
    fn templates_and_wiring_must_match() {
        let wiring = BTreeMap::from([("a".to_string(), StackSpec::default())]);
        let files = BTreeSet::from(["b".to_string()]);
        let problems = check_templates_match(&wiring, &files);
        assert_eq!(problems.len(), 2);
    }
}
