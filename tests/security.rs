//! Security by default, asserted on every env's rendered templates: least
//! privilege in IAM, encryption at rest everywhere, nothing public, and no
//! literal secret in the project's config, templates or SQL.

mod support;

use std::path::Path;

use serde_yaml_ng::Value;

/// Actions that have no resource-level permissions in IAM, so `Resource: "*"`
/// is the only way to grant them.
const NO_RESOURCE_LEVEL: [&str; 10] = [
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeVpcs",
    "ec2:DescribeAccountAttributes",
    "ec2:DescribeAvailabilityZones",
    "cloudwatch:PutMetricData",
    "xray:PutTraceSegments",
    "redshift-data:DescribeStatement",
    "redshift-data:GetStatementResult",
    "redshift-data:CancelStatement",
];

fn envs() -> Vec<String> {
    pricewatch::config::Environments::new(&support::project_dir())
        .list()
        .unwrap()
}

/// Every env's stacks and the CI role template, parsed: (env, stack, template).
fn templates() -> Vec<(String, String, Value)> {
    let mut all = Vec::new();
    for env in envs() {
        for stack in support::bundle(&env).stacks {
            let template: Value = serde_yaml_ng::from_str(&stack.template).unwrap();
            all.push((env.clone(), stack.name.clone(), template));
        }
    }
    let ci = support::project_dir().join("templates/ci/github-deploy-role.yaml");
    let text = std::fs::read_to_string(&ci).unwrap();
    all.push((
        "ci".into(),
        "github-deploy-role".into(),
        serde_yaml_ng::from_str(&text).unwrap(),
    ));
    all
}

fn resources(template: &Value) -> Vec<(String, &Value)> {
    template["Resources"]
        .as_mapping()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str().unwrap().to_string(), v))
                .collect()
        })
        .unwrap_or_default()
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Sequence(items) => items.iter().flat_map(strings).collect(),
        Value::Tagged(tagged) => vec![format!("!{}", tagged.tag)],
        _ => vec![],
    }
}

/// The statements of the identity policies (roles, policies) of a resource.
fn identity_statements(resource: &Value) -> Vec<&Value> {
    let properties = &resource["Properties"];
    let mut documents: Vec<&Value> = Vec::new();
    if let Some(policies) = properties["Policies"].as_sequence() {
        documents.extend(policies.iter().map(|p| &p["PolicyDocument"]));
    }
    documents.push(&properties["PolicyDocument"]);
    documents
        .into_iter()
        .filter_map(|d| d["Statement"].as_sequence())
        .flatten()
        .collect()
}

/// What is wrong with one identity-policy statement, if anything.
fn least_privilege_problem(statement: &Value) -> Option<String> {
    if statement["Effect"].as_str() != Some("Allow") {
        return None;
    }
    let actions = strings(&statement["Action"]);
    if let Some(wild) = actions.iter().find(|a| *a == "*" || a.ends_with(":*")) {
        return Some(format!("allows every action of a service: `{wild}`"));
    }
    let resources = strings(&statement["Resource"]);
    if resources.iter().any(|r| r == "*") {
        let scoped: Vec<&String> = actions
            .iter()
            .filter(|a| !NO_RESOURCE_LEVEL.contains(&a.as_str()))
            .collect();
        if !scoped.is_empty() {
            return Some(format!(
                "Resource \"*\" for actions that support resource-level permissions: {scoped:?}"
            ));
        }
    }
    None
}

#[test]
fn iam_is_least_privilege_in_every_env() {
    let mut checked = 0;
    for (env, stack, template) in templates() {
        for (id, resource) in resources(&template) {
            for statement in identity_statements(resource) {
                checked += 1;
                if let Some(problem) = least_privilege_problem(statement) {
                    panic!("{env} {stack} {id}: {problem}");
                }
            }
        }
    }
    assert!(checked > 10, "only {checked} statements found");
}

#[test]
fn the_least_privilege_rule_catches_wildcards() {
    let statement = |text: &str| -> Value { serde_yaml_ng::from_str(text).unwrap() };
    assert!(
        least_privilege_problem(&statement("{Effect: Allow, Action: '*', Resource: x}")).is_some()
    );
    assert!(least_privilege_problem(&statement(
        "{Effect: Allow, Action: [kinesis:PutRecords], Resource: '*'}"
    ))
    .is_some());
    assert!(least_privilege_problem(&statement(
        "{Effect: Allow, Action: [s3:*], Resource: arn:aws:s3:::b}"
    ))
    .is_some());
    assert!(least_privilege_problem(&statement(
        "{Effect: Allow, Action: [ec2:DescribeSubnets], Resource: '*'}"
    ))
    .is_none());
    assert!(
        least_privilege_problem(&statement("{Effect: Deny, Action: 's3:*', Resource: '*'}"))
            .is_none()
    );
}

/// Resource type → the property that must be set for encryption at rest.
const ENCRYPTION: [(&str, &str); 5] = [
    ("AWS::S3::Bucket", "BucketEncryption"),
    ("AWS::Kinesis::Stream", "StreamEncryption"),
    ("AWS::SNS::Topic", "KmsMasterKeyId"),
    ("AWS::Logs::LogGroup", "KmsKeyId"),
    ("AWS::RedshiftServerless::Namespace", "KmsKeyId"),
];

#[test]
fn everything_that_stores_data_is_encrypted_and_nothing_is_public() {
    let mut seen = std::collections::BTreeSet::new();
    for (env, stack, template) in templates() {
        for (id, resource) in resources(&template) {
            let kind = resource["Type"].as_str().unwrap_or_default();
            let properties = &resource["Properties"];
            if let Some((_, property)) = ENCRYPTION.iter().find(|(t, _)| *t == kind) {
                seen.insert(kind.to_string());
                assert!(
                    !properties[*property].is_null(),
                    "{env} {stack} {id} ({kind}) has no {property}"
                );
            }
            match kind {
                "AWS::S3::Bucket" => {
                    let block = &properties["PublicAccessBlockConfiguration"];
                    for key in [
                        "BlockPublicAcls",
                        "BlockPublicPolicy",
                        "IgnorePublicAcls",
                        "RestrictPublicBuckets",
                    ] {
                        assert_eq!(block[key], Value::Bool(true), "{env} {id}: {key}");
                    }
                }
                "AWS::RedshiftServerless::Workgroup" => {
                    seen.insert(kind.to_string());
                    assert_eq!(
                        properties["PubliclyAccessible"],
                        Value::Bool(false),
                        "{env} {id} is publicly accessible"
                    );
                }
                "AWS::KMS::Key" => assert_eq!(
                    properties["EnableKeyRotation"],
                    Value::Bool(true),
                    "{env} {id}: key rotation"
                ),
                _ => {}
            }
        }
    }
    for kind in ENCRYPTION
        .iter()
        .map(|(t, _)| *t)
        .chain(["AWS::RedshiftServerless::Workgroup"])
    {
        assert!(
            seen.contains(kind),
            "no {kind} in any env: the rule checks nothing"
        );
    }
}

/// Literal secrets: access keys, private keys, passwords in URLs or keys.
fn secrets_in(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let access_key = line.match_indices("AKIA").any(|(i, _)| {
            let key = &line[i..];
            key.len() >= 20
                && key[..20]
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        });
        let private_key = line.contains("PRIVATE KEY-----");
        // scheme://user:password@host
        let url_password = line.split("://").skip(1).any(|rest| {
            let authority = rest.split(['/', ' ', '"', '\'']).next().unwrap_or_default();
            authority
                .split_once('@')
                .is_some_and(|(userinfo, _)| userinfo.contains(':'))
        });
        // `key: value` or `key = value` where the key names a secret and
        // the value is a literal (not a reference, flag or template).
        let item = line.trim().trim_start_matches("- ");
        // A quoted scalar ("secretsmanager:*Secret*", an IAM action) is a
        // value, not a `key: value`.
        let quoted_scalar = item.len() > 1
            && item.starts_with(['"', '\''])
            && item.ends_with(&item[..1])
            && !item[1..item.len() - 1].contains(['"', '\'']);
        let assigned = !quoted_scalar
            && item
                .split_once(':')
                .or_else(|| item.split_once('='))
                .is_some_and(|(key, value)| {
                    let key = key.trim().to_lowercase();
                    let value = value.trim().trim_matches(['"', '\'']);
                    // Dotted keys are names (e.g. the IAM condition key
                    // `token.actions.githubusercontent.com:aud`), not settings.
                    !key.contains(' ')
                        && !key.contains('.')
                        && ["password", "secret", "token"]
                            .iter()
                            .any(|k| key.contains(k))
                        && !key.ends_with("arn")
                        && !key.ends_with("keyid")
                        && !value.is_empty()
                        && !value.starts_with('!')
                        && !value.contains("{{")
                        // A number is a setting (a generated password's length).
                        && value.parse::<f64>().is_err()
                        && !value.starts_with("arn:")
                        && value != "true"
                        && value != "false"
                });
        if access_key || private_key || url_password || assigned {
            found.push(format!("line {}: {}", n + 1, line.trim()));
        }
    }
    found
}

#[test]
fn the_secret_scanner_finds_planted_secrets() {
    for planted in [
        "aws_access_key_id: AKIAIOSFODNN7EXAMPLE",
        "-----BEGIN RSA PRIVATE KEY-----",
        "postgres_url: postgres://admin:hunter2@db.example.com/pricewatch",
        "  password: hunter2",
        "secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ] {
        assert_eq!(secrets_in(planted).len(), 1, "missed: {planted}");
    }
    for fine in [
        "postgres_url: postgres://pricewatch@127.0.0.1:5432/pricewatch",
        "ManageAdminPassword: true",
        "AdminPasswordSecretKmsKeyId: !Ref KeyArn",
        "admin_username: pricewatch_admin",
        "- \"secretsmanager:*Secret*\"",
        "\"token.actions.githubusercontent.com:aud\": sts.amazonaws.com",
        "PasswordLength: 40",
        "SecretStringTemplate: '{\"username\": \"{{ roles.quicksight_user }}\"}'",
    ] {
        assert!(secrets_in(fine).is_empty(), "false alarm: {fine}");
    }
}

#[test]
fn no_literal_secret_in_config_templates_or_sql() {
    let root = support::project_dir();
    let mut scanned = 0;
    for dir in ["environments", "templates", "sql"] {
        for path in files_under(&root.join(dir)) {
            let text = std::fs::read_to_string(&path).unwrap();
            scanned += 1;
            let found = secrets_in(&text);
            assert!(found.is_empty(), "{}: {found:?}", path.display());
        }
    }
    assert!(scanned > 20, "only {scanned} files scanned");
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn checkov_suppressions_are_justified_and_documented() {
    let root = support::project_dir();
    let security = std::fs::read_to_string(root.join("docs/security.md")).unwrap();
    let mut found = 0;
    for path in files_under(&root.join("templates/stacks")) {
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(id) = line.trim().strip_prefix("- id: ") else {
                continue;
            };
            found += 1;
            let comment = lines.get(i + 1).map(|l| l.trim()).unwrap_or_default();
            assert!(
                comment.starts_with("comment: \"") && comment.len() > 40,
                "{}: suppression {id} has no one-line justification",
                path.display()
            );
            assert!(
                security.contains(id),
                "{id} ({}) is not listed in docs/security.md",
                path.display()
            );
        }
    }
    assert!(found > 0, "no suppression found: the parser is wrong");
}
