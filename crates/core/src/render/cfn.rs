//! Reads a rendered CloudFormation template (YAML with short-form tags) and
//! checks what cfn-lint cannot know about pricewatch: every `Ref`, `GetAtt`,
//! `Sub` and `DependsOn` resolves inside the template. Also reports the
//! parameters and outputs the stack wiring is checked against.

use std::collections::{BTreeMap, BTreeSet};

use serde_yaml_ng::Value;

/// The parts of a template the wiring depends on.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct TemplateInfo {
    /// Parameter name → whether it has a default value.
    pub parameters: BTreeMap<String, bool>,
    pub outputs: BTreeSet<String>,
    /// Logical id → resource type.
    pub resources: BTreeMap<String, String>,
}

/// Parses and checks a template; returns its shape, or every problem found.
pub fn analyze(text: &str) -> Result<TemplateInfo, Vec<String>> {
    let root: Value =
        serde_yaml_ng::from_str(text).map_err(|e| vec![format!("not valid YAML: {e}")])?;
    let mut problems = Vec::new();
    let mut info = TemplateInfo::default();

    let section = |name: &str| root.get(name).and_then(Value::as_mapping);
    if let Some(parameters) = section("Parameters") {
        for (name, body) in parameters {
            let name = key_text(name);
            if body.get("Type").is_none() {
                problems.push(format!("parameter {name} has no Type"));
            }
            info.parameters.insert(name, body.get("Default").is_some());
        }
    }
    match section("Resources") {
        Some(resources) if !resources.is_empty() => {
            for (name, body) in resources {
                let name = key_text(name);
                match body.get("Type").and_then(Value::as_str) {
                    Some(kind) => {
                        info.resources.insert(name, kind.to_string());
                    }
                    None => problems.push(format!("resource {name} has no Type")),
                }
            }
        }
        _ => problems.push("the template has no Resources".into()),
    }
    if let Some(outputs) = section("Outputs") {
        for (name, body) in outputs {
            let name = key_text(name);
            if body.get("Value").is_none() {
                problems.push(format!("output {name} has no Value"));
            }
            info.outputs.insert(name);
        }
    }

    let mut refs = Vec::new();
    if let Some(resources) = section("Resources") {
        for (name, body) in resources {
            let at = format!("resource {}", key_text(name));
            collect_refs(body, &at, &mut refs);
            for target in depends_on(body) {
                if !info.resources.contains_key(&target) {
                    problems.push(format!("{at}: DependsOn {target}, which is not a resource"));
                }
            }
        }
    }
    if let Some(outputs) = section("Outputs") {
        for (name, body) in outputs {
            collect_refs(body, &format!("output {}", key_text(name)), &mut refs);
        }
    }
    for reference in refs {
        let known = match reference.kind {
            RefKind::GetAtt => info.resources.contains_key(&reference.target),
            RefKind::Ref | RefKind::Sub => {
                reference.target.starts_with("AWS::")
                    || info.resources.contains_key(&reference.target)
                    || info.parameters.contains_key(&reference.target)
            }
        };
        if !known {
            problems.push(format!(
                "{}: {} {} does not resolve to a {} of this template",
                reference.at,
                reference.kind.label(),
                reference.target,
                match reference.kind {
                    RefKind::GetAtt => "resource",
                    _ => "parameter, resource or pseudo parameter",
                }
            ));
        }
    }
    if problems.is_empty() {
        Ok(info)
    } else {
        Err(problems)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum RefKind {
    Ref,
    GetAtt,
    Sub,
}

impl RefKind {
    fn label(self) -> &'static str {
        match self {
            RefKind::Ref => "Ref",
            RefKind::GetAtt => "GetAtt",
            RefKind::Sub => "Sub variable",
        }
    }
}

#[derive(Debug)]
struct Reference {
    kind: RefKind,
    target: String,
    at: String,
}

fn key_text(key: &Value) -> String {
    key.as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("{key:?}"))
}

fn depends_on(resource: &Value) -> Vec<String> {
    match resource.get("DependsOn") {
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Sequence(many)) => many
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn collect_refs(value: &Value, at: &str, out: &mut Vec<Reference>) {
    let mut push = |kind, target: &str| {
        out.push(Reference {
            kind,
            target: target.to_string(),
            at: at.to_string(),
        })
    };
    match value {
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            match (tag.trim_start_matches('!'), &tagged.value) {
                ("Ref", Value::String(target)) => push(RefKind::Ref, target),
                ("GetAtt", Value::String(dotted)) => {
                    push(RefKind::GetAtt, dotted.split('.').next().unwrap_or(dotted))
                }
                ("GetAtt", Value::Sequence(parts)) => {
                    if let Some(target) = parts.first().and_then(Value::as_str) {
                        push(RefKind::GetAtt, target);
                    }
                }
                ("Sub", sub) => collect_sub(sub, at, out),
                _ => collect_refs(&tagged.value, at, out),
            }
        }
        Value::Mapping(map) if map.len() == 1 => {
            let (key, inner) = map.iter().next().expect("one entry");
            match (key.as_str(), inner) {
                (Some("Ref"), Value::String(target)) => push(RefKind::Ref, target),
                (Some("Fn::GetAtt"), Value::Sequence(parts)) => {
                    if let Some(target) = parts.first().and_then(Value::as_str) {
                        push(RefKind::GetAtt, target);
                    }
                }
                (Some("Fn::GetAtt"), Value::String(dotted)) => {
                    push(RefKind::GetAtt, dotted.split('.').next().unwrap_or(dotted))
                }
                (Some("Fn::Sub"), sub) => collect_sub(sub, at, out),
                _ => collect_refs(inner, at, out),
            }
        }
        Value::Mapping(map) => map.values().for_each(|v| collect_refs(v, at, out)),
        Value::Sequence(items) => items.iter().for_each(|v| collect_refs(v, at, out)),
        _ => {}
    }
}

/// `Sub` is a string, or `[string, {local variables}]`.
fn collect_sub(sub: &Value, at: &str, out: &mut Vec<Reference>) {
    let (text, locals) = match sub {
        Value::String(text) => (text.as_str(), None),
        Value::Sequence(parts) => match (parts.first(), parts.get(1)) {
            (Some(Value::String(text)), locals) => {
                (text.as_str(), locals.and_then(Value::as_mapping))
            }
            _ => return,
        },
        _ => return,
    };
    if let Some(locals) = locals {
        locals.values().for_each(|v| collect_refs(v, at, out));
    }
    for variable in sub_variables(text) {
        let name = variable.split('.').next().unwrap_or(&variable);
        let is_local = locals.is_some_and(|l| l.contains_key(variable.as_str()));
        if !is_local {
            let kind = if variable.contains('.') && !variable.starts_with("AWS::") {
                RefKind::GetAtt
            } else {
                RefKind::Sub
            };
            out.push(Reference {
                kind,
                target: name.to_string(),
                at: at.to_string(),
            });
        }
    }
}

/// `${Name}` and `${Res.Attr}` in a Sub string; `${!Literal}` is not a variable.
fn sub_variables(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = after[..end].trim();
        if !name.starts_with('!') && !name.is_empty() {
            found.push(name.to_string());
        }
        rest = &after[end + 1..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
Parameters:
  KeyArn: {Type: String}
  Optional: {Type: String, Default: x}
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      Name: !Sub "${AWS::StackName}-${KeyArn}-${!Literal}"
  Policy:
    Type: AWS::S3::BucketPolicy
    DependsOn: Bucket
    Properties:
      Bucket: !Ref Bucket
      Arn: !GetAtt Bucket.Arn
      Long: {"Fn::GetAtt": ["Bucket", "Arn"]}
      Sub2: !Sub ["${Local}/${Bucket.Arn}", {Local: !Ref KeyArn}]
      Region: !Ref AWS::Region
Outputs:
  BucketName: {Value: !Ref Bucket}
"#;

    #[test]
    fn a_consistent_template_is_described() {
        let info = analyze(GOOD).unwrap();
        assert_eq!(info.parameters.get("KeyArn"), Some(&false));
        assert_eq!(info.parameters.get("Optional"), Some(&true));
        assert_eq!(info.resources.len(), 2);
        assert!(info.outputs.contains("BucketName"));
    }

    #[test]
    fn dangling_references_are_all_reported() {
        let text = GOOD
            .replace("!Ref Bucket\n      Arn", "!Ref Buckt\n      Arn")
            .replace("${KeyArn}", "${KeyArm}")
            .replace("[\"Bucket\", \"Arn\"]", "[\"Nope\", \"Arn\"]")
            .replace("DependsOn: Bucket", "DependsOn: Ghost");
        let problems = analyze(&text).unwrap_err();
        let joined = problems.join("\n");
        assert!(joined.contains("Ref Buckt"), "{joined}");
        assert!(joined.contains("Sub variable KeyArm"), "{joined}");
        assert!(joined.contains("GetAtt Nope"), "{joined}");
        assert!(joined.contains("DependsOn Ghost"), "{joined}");
        assert_eq!(problems.len(), 4, "{joined}");
    }

    #[test]
    fn no_resources_is_an_error() {
        assert!(analyze("Outputs: {}\n").unwrap_err()[0].contains("no Resources"));
        assert!(analyze("Resources: [\n").unwrap_err()[0].contains("not valid YAML"));
    }

    #[test]
    fn sub_variable_parsing() {
        assert_eq!(
            sub_variables("a${X}b${Y.Z}c${!Lit}${ AWS::Region }"),
            ["X", "Y.Z", "AWS::Region"]
        );
    }
}
